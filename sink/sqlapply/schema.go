package sqlapply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
)

// Mapping is how one source table version is written to its target table.
type Mapping struct {
	Table     *pipeline.Table
	Target    Name
	Connector string
	// Columns are the source columns written, in source order, each with
	// the target column it goes to.
	Columns []MappedColumn
	// Key lists the positions in Columns of the key columns; empty for a
	// table without a key.
	Key []int
	// ID distinguishes mappings of one sink, for statement caches.
	ID int
}

// MappedColumn is a source column and the target column it is written to.
type MappedColumn struct {
	Column
	Target TargetColumn
}

// Keyed reports whether the table has a key.
func (m *Mapping) Keyed() bool { return len(m.Key) > 0 }

// schemaPlan is what resolving a table version found.
type schemaPlan struct {
	mapping *Mapping // nil until the DDL below ran
	alter   []string // ALTER statements to run at a quiet point first
	name    Name
}

// schemas resolves table versions against the target, once each.
type schemas struct {
	s        *Sink
	mappings map[*pipeline.Table]*Mapping
	infos    map[Name]*TableInfo
	reported map[string]bool
	nextID   int
}

func newSchemas(s *Sink) *schemas {
	return &schemas{s: s, mappings: map[*pipeline.Table]*Mapping{}, infos: map[Name]*TableInfo{}, reported: map[string]bool{}}
}

// targetName is where a source table goes.
func (sc *schemas) targetName(t *pipeline.Table) (Name, error) {
	def := sc.s.d.DefaultNamespace()
	if to, ok := sc.s.o.Tables[t.ID.String()]; ok {
		return ParseName(to, def)
	}
	return Name{Namespace: def, Table: t.ID.Name}, nil
}

func (sc *schemas) describe(ctx context.Context, name Name) (*TableInfo, error) {
	if info, ok := sc.infos[name]; ok {
		return info, nil
	}
	var info *TableInfo
	err := sc.s.withAdmin(ctx, func(c Conn) error {
		var err error
		info, err = c.Describe(ctx, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	if info != nil {
		sc.infos[name] = info
	}
	return info, nil
}

func (sc *schemas) report(key, msg string, args ...any) {
	if sc.reported[key] {
		return
	}
	sc.reported[key] = true
	sc.s.log.Warn(msg, args...)
}

// resolve finds or makes the target table of t. A missing table is
// created at once; a missing column under evolve is returned as an ALTER
// for the caller to run at a point where no open transaction holds the
// table.
func (sc *schemas) resolve(ctx context.Context, t *pipeline.Table, connector string) (*schemaPlan, error) {
	if m, ok := sc.mappings[t]; ok {
		return &schemaPlan{mapping: m, name: m.Target}, nil
	}
	name, err := sc.targetName(t)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", t.ID, err)
	}
	cols := make([]Column, len(t.Columns))
	for i := range t.Columns {
		if cols[i], err = Classify(t, i, connector); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.ID, err)
		}
	}
	info, err := sc.describe(ctx, name)
	if err != nil {
		return nil, err
	}
	if info == nil {
		if err := sc.create(ctx, t, name, cols); err != nil {
			return nil, err
		}
		if info, err = sc.describe(ctx, name); err != nil {
			return nil, err
		}
		if info == nil {
			return nil, fmt.Errorf("table %s: created %s but cannot find it in the catalogue", t.ID, name)
		}
	}
	plan := &schemaPlan{name: name}
	fold := sc.s.d.FoldNames()
	policy := sc.s.o.SchemaChanges
	for i := range cols {
		c := &cols[i]
		tc := info.Column(c.Name, fold)
		if tc == nil {
			switch policy {
			case SchemaStrict:
				return nil, fmt.Errorf("table %s: column %s is not in the target table %s (schema_changes: strict)", t.ID, c.Name, name)
			case SchemaEvolve:
				def, err := sc.s.d.ColumnType(c)
				if err != nil {
					return nil, fmt.Errorf("table %s: %w", t.ID, err)
				}
				plan.alter = append(plan.alter, sc.s.d.AddColumn(name, def))
			}
			continue
		}
		want, err := sc.s.d.ColumnType(c)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", t.ID, err)
		}
		if !sc.s.d.SameType(*tc, want) {
			if policy == SchemaStrict {
				return nil, fmt.Errorf("table %s: column %s is %s in the target table %s, expected %s (schema_changes: strict)", t.ID, c.Name, tc.Type, name, want.Type)
			}
			if policy == SchemaEvolve {
				sc.report("type "+name.String()+"."+c.Name+" "+tc.Type+" "+want.Type, "target column type differs from the source's; left as it is",
					"table", t.ID.String(), "target", name.String(), "column", c.Name, "target_type", tc.Type, "mapped_type", want.Type)
			}
		}
	}
	for _, tc := range info.Columns {
		if slices.ContainsFunc(cols, func(c Column) bool { return c.Name == tc.Name || fold && strings.EqualFold(c.Name, tc.Name) }) {
			continue
		}
		switch {
		case policy == SchemaStrict:
			return nil, fmt.Errorf("table %s: the target table %s has column %s, which the source table does not (schema_changes: strict)", t.ID, name, tc.Name)
		case policy == SchemaEvolve && !tc.Nullable && !tc.Default:
			sc.report("extra "+name.String()+"."+tc.Name, "target column is not in the source table and is NOT NULL without a default: writes will fail",
				"table", t.ID.String(), "target", name.String(), "column", tc.Name)
		case policy == SchemaEvolve:
			sc.report("extra "+name.String()+"."+tc.Name, "target column is not in the source table; left as it is",
				"table", t.ID.String(), "target", name.String(), "column", tc.Name)
		}
	}
	if len(plan.alter) > 0 {
		return plan, nil
	}
	m, err := sc.bind(t, name, info, cols, connector)
	if err != nil {
		return nil, err
	}
	plan.mapping = m
	return plan, nil
}

// afterAlter forgets the described table so that the next resolve reads it again.
func (sc *schemas) afterAlter(name Name) { delete(sc.infos, name) }

func (sc *schemas) create(ctx context.Context, t *pipeline.Table, name Name, cols []Column) error {
	defs := make([]ColumnDef, 0, len(cols))
	var key []string
	for i := range cols {
		def, err := sc.s.d.ColumnType(&cols[i])
		if err != nil {
			return fmt.Errorf("table %s: %w", t.ID, err)
		}
		defs = append(defs, def)
		if def.Lossy != "" {
			sc.s.log.Warn("column type mapping loses information", "table", t.ID.String(), "column", def.Name, "type", def.Type, "loses", def.Lossy)
		}
	}
	for _, k := range t.Key {
		key = append(key, cols[k].Name)
	}
	stmt := sc.s.d.CreateTable(name, defs, key)
	err := sc.s.withAdmin(ctx, func(c Conn) error { return c.Exec(ctx, stmt) })
	if err != nil {
		return fmt.Errorf("table %s: create %s: %w", t.ID, name, err)
	}
	sc.s.log.Info("created target table", "table", t.ID.String(), "target", name.String(), "columns", len(defs), "key", key)
	return nil
}

// bind builds the mapping of a table version to an existing target table.
func (sc *schemas) bind(t *pipeline.Table, name Name, info *TableInfo, cols []Column, connector string) (*Mapping, error) {
	fold := sc.s.d.FoldNames()
	sc.nextID++
	m := &Mapping{Table: t, Target: name, Connector: connector, ID: sc.nextID}
	for i := range cols {
		tc := info.Column(cols[i].Name, fold)
		if tc == nil {
			continue // ignore: not written
		}
		if tc.Generated {
			if cols[i].Key {
				return nil, fmt.Errorf("table %s: key column %s is a generated column in the target table %s", t.ID, cols[i].Name, name)
			}
			sc.report("generated "+name.String()+"."+tc.Name, "target column is generated by the target; its source values are not written",
				"table", t.ID.String(), "target", name.String(), "column", tc.Name)
			continue
		}
		if cols[i].Key {
			m.Key = append(m.Key, len(m.Columns))
		}
		m.Columns = append(m.Columns, MappedColumn{Column: cols[i], Target: *tc})
	}
	if len(t.Key) > 0 {
		if len(m.Key) != len(t.Key) {
			return nil, fmt.Errorf("table %s: the target table %s lacks key columns", t.ID, name)
		}
		want := make([]string, len(m.Key))
		for i, k := range m.Key {
			want[i] = m.Columns[k].Target.Name
		}
		if !hasUnique(info.Unique, want, fold) {
			return nil, fmt.Errorf("table %s: the target table %s has no primary key or unique index on exactly (%s), which upserts by key need: add one, or drop the table and let siphon create it",
				t.ID, name, strings.Join(want, ", "))
		}
	}
	sc.mappings[t] = m
	return m, nil
}

func hasUnique(sets [][]string, want []string, fold bool) bool {
	for _, set := range sets {
		if len(set) != len(want) {
			continue
		}
		all := true
		for _, w := range want {
			if !slices.ContainsFunc(set, func(s string) bool { return s == w || fold && strings.EqualFold(s, w) }) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
