package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/capture/postgres/pgtype"
	"github.com/siphoncdc/siphon/pipeline"
)

// catalog reads table and type definitions from pg_catalog on a query
// connection. It belongs to one goroutine.
type catalog struct {
	conn  *pgconn.PgConn
	types map[uint32]*pgtype.Type
}

func newCatalog(c *pgconn.PgConn) *catalog {
	return &catalog{conn: c, types: map[uint32]*pgtype.Type{}}
}

// forgetTypes drops the cached user-defined types: a TYPE message says
// one may have changed (an enum label added, say).
func (c *catalog) forgetTypes() { clear(c.types) }

// typ resolves a type OID: built-ins with pgtype.Lookup, the rest (enums,
// domains, arrays of them, extension types) from pg_type.
func (c *catalog) typ(ctx context.Context, oid uint32) (*pgtype.Type, error) {
	return c.typDepth(ctx, oid, 0)
}

func (c *catalog) typDepth(ctx context.Context, oid uint32, depth int) (*pgtype.Type, error) {
	if t, ok := pgtype.Lookup(oid); ok {
		return t, nil
	}
	if t, ok := c.types[oid]; ok {
		return t, nil
	}
	if depth > 16 {
		return nil, fmt.Errorf("type %d: nested too deeply", oid)
	}
	id := strconv.FormatUint(uint64(oid), 10)
	rows, err := queryStrings(ctx, c.conn, `SELECT t.typname, n.nspname, t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typtypmod
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = $1::oid`, id)
	if err != nil {
		return nil, fmt.Errorf("read type %d: %w", oid, err)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("type %d does not exist (dropped?)", oid)
	}
	r := rows[0]
	typmod, _ := strconv.ParseInt(r[6], 10, 32)
	t := &pgtype.Type{OID: oid, Name: r[0], Namespace: r[1], BaseTypMod: int32(typmod)}
	if r[2] != "" {
		t.Kind = r[2][0]
	}
	c.types[oid] = t
	switch {
	case t.Kind == 'e':
		labels, err := queryStrings(ctx, c.conn, `SELECT enumlabel FROM pg_enum WHERE enumtypid = $1::oid ORDER BY enumsortorder`, id)
		if err != nil {
			delete(c.types, oid)
			return nil, fmt.Errorf("read enum labels of %s: %w", t.Name, err)
		}
		for _, l := range labels {
			t.EnumValues = append(t.EnumValues, l[0])
		}
	case t.Kind == 'd':
		base, _ := strconv.ParseUint(r[5], 10, 32)
		if t.Base, err = c.typDepth(ctx, uint32(base), depth+1); err != nil {
			delete(c.types, oid)
			return nil, err
		}
	case r[3] == "A":
		elem, _ := strconv.ParseUint(r[4], 10, 32)
		if t.Elem, err = c.typDepth(ctx, uint32(elem), depth+1); err != nil {
			delete(c.types, oid)
			return nil, err
		}
	}
	return t, nil
}

// attrInfo is what pg_attribute and pg_attrdef say about a column.
type attrInfo struct {
	name     string
	typOID   uint32
	typmod   int32
	nullable bool
	def      *string
	typeName string // format_type(atttypid, NULL), for casts
}

// relInfo is a table as the catalogue describes it now.
type relInfo struct {
	oid       uint32
	schema    string
	name      string
	replIdent byte
	attrs     []attrInfo // captured columns in attnum order (no dropped or generated ones)
	// key is the event key: the primary key, else the first unique index
	// (by name) without expressions or predicate, as Debezium's
	// PgOutputMessageDecoder falls back to unique indices.
	key []string
	// chunkKey orders snapshot chunks: the primary key, else a unique
	// index whose columns are all NOT NULL; empty for a one-pass scan.
	chunkKey []string
	estimate int64
}

// relation reads a table by OID; ok is false when it no longer exists.
func (c *catalog) relation(ctx context.Context, oid uint32) (*relInfo, bool, error) {
	id := strconv.FormatUint(uint64(oid), 10)
	rows, err := queryStrings(ctx, c.conn, `SELECT n.nspname, c.relname, c.relreplident, c.reltuples::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid`, id)
	if err != nil {
		return nil, false, fmt.Errorf("read table %d: %w", oid, err)
	}
	if len(rows) == 0 {
		return nil, false, nil
	}
	r := rows[0]
	ri := &relInfo{oid: oid, schema: r[0], name: r[1]}
	if r[2] != "" {
		ri.replIdent = r[2][0]
	}
	ri.estimate, _ = strconv.ParseInt(r[3], 10, 64)
	if ri.estimate < 0 {
		ri.estimate = 0
	}
	if err := c.readColumns(ctx, ri); err != nil {
		return nil, false, err
	}
	if err := c.readKeys(ctx, ri); err != nil {
		return nil, false, err
	}
	return ri, true, nil
}

func (c *catalog) readColumns(ctx context.Context, ri *relInfo) error {
	rows, err := queryRows(ctx, c.conn, `SELECT a.attname, a.atttypid, a.atttypmod, NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid), format_type(a.atttypid, NULL)
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		ORDER BY a.attnum`, strconv.FormatUint(uint64(ri.oid), 10))
	if err != nil {
		return fmt.Errorf("read columns of %s.%s: %w", ri.schema, ri.name, err)
	}
	ri.attrs = ri.attrs[:0]
	for _, r := range rows {
		oid, _ := strconv.ParseUint(*r[1], 10, 32)
		typmod, _ := strconv.ParseInt(*r[2], 10, 32)
		ri.attrs = append(ri.attrs, attrInfo{name: *r[0], typOID: uint32(oid), typmod: int32(typmod), nullable: *r[3] == "t", def: r[4], typeName: *r[5]})
	}
	return nil
}

func (c *catalog) readKeys(ctx context.Context, ri *relInfo) error {
	rows, err := queryStrings(ctx, c.conn, `SELECT i.indexrelid::regclass::text, i.indisprimary, a.attname, a.attnotnull
		FROM pg_index i
		CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
		WHERE i.indrelid = $1::oid AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
		ORDER BY i.indisprimary DESC, i.indexrelid::regclass::text, k.ord`, strconv.FormatUint(uint64(ri.oid), 10))
	if err != nil {
		return fmt.Errorf("read keys of %s.%s: %w", ri.schema, ri.name, err)
	}
	type index struct {
		cols    []string
		primary bool
		notNull bool
	}
	var order []string
	found := map[string]*index{}
	for _, r := range rows {
		x := found[r[0]]
		if x == nil {
			x = &index{primary: r[1] == "t", notNull: true}
			found[r[0]] = x
			order = append(order, r[0])
		}
		x.cols = append(x.cols, r[2])
		x.notNull = x.notNull && r[3] == "t"
	}
	ri.key, ri.chunkKey = nil, nil
	for _, name := range order {
		x := found[name]
		if ri.key == nil {
			ri.key = x.cols
		}
		if ri.chunkKey == nil && x.notNull {
			ri.chunkKey = x.cols
		}
	}
	return nil
}

// column builds the pgtype column of an attribute.
func (c *catalog) column(ctx context.Context, a attrInfo) (pgtype.Column, error) {
	t, err := c.typ(ctx, a.typOID)
	if err != nil {
		return pgtype.Column{}, fmt.Errorf("column %s: %w", a.name, err)
	}
	return pgtype.Column{Name: a.name, Type: t, TypMod: a.typmod, Nullable: a.nullable, Default: a.def}, nil
}

// tableShape is a table version with what decoding its values needs.
type tableShape struct {
	table  *pipeline.Table
	cols   []pgtype.Column
	decode []func([]byte) (pipeline.Value, error)
	// placeholders are built on first use: a type without one is only an
	// error when pgoutput actually sends 'u' for it.
	placeholders []*pipeline.Value
}

// buildShape makes the table version for columns cols of relation
// schema.name with key column names key.
func buildShape(id pipeline.TableID, topic string, cols []pgtype.Column, key []string) (*tableShape, error) {
	sh := &tableShape{cols: cols, placeholders: make([]*pipeline.Value, len(cols))}
	pcols := make([]pipeline.Column, len(cols))
	for i, c := range cols {
		s, err := c.Schema(pgtype.Options{})
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		dec, err := c.Decoder(pgtype.Options{})
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", id, err)
		}
		pcols[i] = pipeline.Column{Name: c.Name, Schema: s, Native: c.Native()}
		sh.decode = append(sh.decode, dec)
	}
	var keyIdx []int
	for _, k := range key {
		found := -1
		for i, c := range cols {
			if c.Name == k {
				found = i
			}
		}
		if found < 0 {
			keyIdx = nil // a key column the relation does not carry: no key
			break
		}
		keyIdx = append(keyIdx, found)
	}
	sh.table = pipeline.NewTable(id, topic, pcols, keyIdx)
	return sh, nil
}

func (sh *tableShape) placeholder(i int) (pipeline.Value, error) {
	if p := sh.placeholders[i]; p != nil {
		return *p, nil
	}
	v, err := sh.cols[i].Placeholder(pgtype.Options{})
	if err != nil {
		return pipeline.Null, err
	}
	sh.placeholders[i] = &v
	return v, nil
}

func topicName(prefix, schema, table string) string {
	return sanitizeTopic(prefix + "." + schema + "." + table)
}

func sanitizeTopic(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r < 0x80 && validTopicByte(byte(r)) {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

func validTopicByte(c byte) bool {
	return c == '.' || c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// listTables returns the ordinary and partitioned tables of the database
// outside the system schemas, with their OIDs.
func listTables(ctx context.Context, c *pgconn.PgConn) ([][3]string, error) {
	rows, err := queryStrings(ctx, c, `SELECT c.oid::text, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
		  AND n.nspname NOT LIKE 'pg\_temp\_%'
		ORDER BY n.nspname, c.relname`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := make([][3]string, len(rows))
	for i, r := range rows {
		out[i] = [3]string{r[0], r[1], r[2]}
	}
	return out, nil
}
