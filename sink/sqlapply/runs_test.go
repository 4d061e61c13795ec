package sqlapply

import (
	"fmt"
	"hash/maphash"
	"log/slog"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

// splitDialect answers the one question split asks a dialect.
type splitDialect struct {
	Dialect
	pow bool
}

func (d splitDialect) PowerOfTwoRuns() bool { return d.pow }

func TestSplitRuns(t *testing.T) {
	intSchema := &pipeline.Schema{Type: pipeline.TypeInt32}
	cols := []pipeline.Column{{Name: "id", Schema: intSchema}, {Name: "v", Schema: intSchema}}
	a := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "a"}, "t.db.a", cols, []int{0})
	b := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "b"}, "t.db.b", cols, []int{0})
	nokey := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "n"}, "t.db.n", cols, nil)
	ev := func(op pipeline.Op, t *pipeline.Table, id int) pipeline.Event {
		row := pipeline.Row{pipeline.Int(int64(id)), pipeline.Int(1)}
		e := pipeline.Event{Op: op, Table: t}
		if op == pipeline.OpDelete {
			e.Before = row
		} else {
			e.After = row
		}
		if op == pipeline.OpUpdate {
			e.Before = row
		}
		return e
	}
	c, u, d, r := pipeline.OpCreate, pipeline.OpUpdate, pipeline.OpDelete, pipeline.OpRead
	tests := []struct {
		name   string
		evs    []pipeline.Event
		maxRun int
		pow    bool
		want   string // runs as kind:table:ids
	}{
		{"one upsert run", []pipeline.Event{ev(r, a, 1), ev(c, a, 2), ev(u, a, 3)}, 10, false, "1:a:1,2,3"},
		{"a repeated key cuts", []pipeline.Event{ev(c, a, 1), ev(u, a, 2), ev(u, a, 1)}, 10, false, "1:a:1,2 1:a:1"},
		{"table and op changes cut", []pipeline.Event{ev(c, a, 1), ev(c, b, 1), ev(d, b, 2), ev(d, b, 3), ev(c, a, 4)}, 10, false,
			"1:a:1 1:b:1 2:b:2,3 1:a:4"},
		{"max rows", []pipeline.Event{ev(c, a, 1), ev(c, a, 2), ev(c, a, 3)}, 2, false, "1:a:1,2 1:a:3"},
		{"keyless", []pipeline.Event{ev(c, nokey, 1), ev(c, nokey, 1), ev(u, nokey, 1), ev(d, nokey, 1), ev(d, nokey, 1)}, 10, false,
			"3:n:1,1 4:n:1 5:n:1 5:n:1"},
		{"powers of two", []pipeline.Event{ev(c, a, 1), ev(c, a, 2), ev(c, a, 3), ev(c, a, 4), ev(c, a, 5), ev(c, a, 6), ev(c, a, 7), ev(d, a, 8)}, 10, true,
			"1:a:1,2,3,4 1:a:5,6 1:a:7 2:a:8"},
		{"truncate skipped", []pipeline.Event{ev(c, a, 1), {Op: pipeline.OpTruncate, Table: a}, ev(c, a, 2)}, 10, false, "1:a:1 1:a:2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Sink{d: splitDialect{pow: tt.pow}, maxRunRows: tt.maxRun, skipWarned: map[string]bool{}, log: slog.New(slog.DiscardHandler)}
			s.schemas = newSchemas(s)
			for _, tab := range []*pipeline.Table{a, b, nokey} {
				m := &Mapping{Table: tab, Target: Name{"public", tab.ID.Name}}
				for i := range tab.Columns {
					col, err := Classify(tab, i, "mysql")
					if err != nil {
						t.Fatal(err)
					}
					if col.Key {
						m.Key = append(m.Key, len(m.Columns))
					}
					m.Columns = append(m.Columns, MappedColumn{Column: col})
				}
				s.schemas.mappings[tab] = m
			}
			w := &worker{s: s, keys: map[uint64]struct{}{}, seed: maphash.MakeSeed()}
			runs, err := w.split(tt.evs)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			end := 0
			for _, r := range runs {
				var ids []string
				for _, e := range r.Events {
					row := e.After
					if row == nil {
						row = e.Before
					}
					ids = append(ids, fmt.Sprint(row[0].AsInt()))
				}
				got = append(got, fmt.Sprintf("%d:%s:%s", r.Kind, r.Mapping.Table.ID.Name, strings.Join(ids, ",")))
				if r.end <= end {
					t.Errorf("run ends out of order: %d after %d", r.end, end)
				}
				end = r.end
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("runs %s, want %s", g, tt.want)
			}
		})
	}
}
