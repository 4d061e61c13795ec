package sqlapply

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

// holdDialect is a target whose connections hold a commit point whenever
// they are allowed to: what the PostgreSQL sink does while its COPY is
// young. Everything a connection does is logged, in order.
type holdDialect struct {
	log []string
}

func (d *holdDialect) Target() string                        { return "fake" }
func (d *holdDialect) Connect(context.Context) (Conn, error) { return &holdConn{d: d}, nil }
func (d *holdDialect) DefaultNamespace() string              { return "public" }
func (d *holdDialect) ErrorAbortsTransaction() bool          { return true }
func (d *holdDialect) FoldNames() bool                       { return false }
func (d *holdDialect) ColumnType(c *Column) (ColumnDef, error) {
	return ColumnDef{Name: c.Name, Type: "int"}, nil
}
func (d *holdDialect) SameType(TargetColumn, ColumnDef) bool          { return true }
func (d *holdDialect) CreateTable(Name, []ColumnDef, []string) string { return "" }
func (d *holdDialect) AddColumn(Name, ColumnDef) string               { return "" }
func (d *holdDialect) Classify(error) ErrorClass                      { return Fatal }

type holdConn struct{ d *holdDialect }

func (c *holdConn) Describe(context.Context, Name) (*TableInfo, error) {
	return &TableInfo{Columns: []TargetColumn{{Name: "id", Type: "int"}, {Name: "v", Type: "int", Nullable: true}}, Unique: [][]string{{"id"}}}, nil
}
func (c *holdConn) Exec(context.Context, string) error                { return nil }
func (c *holdConn) Begin(context.Context) error                       { return nil }
func (c *holdConn) Rollback(context.Context) error                    { c.d.log = append(c.d.log, "rollback"); return nil }
func (c *holdConn) Savepoint(context.Context) error                   { return nil }
func (c *holdConn) RollbackToSavepoint(context.Context) error         { return nil }
func (c *holdConn) ReleaseSavepoint(context.Context) error            { return nil }
func (c *holdConn) Statement(Run) string                              { return "" }
func (c *holdConn) Close() error                                      { return nil }
func (c *holdConn) EnsureCheckpointTable(context.Context, Name) error { return nil }
func (c *holdConn) ReadCheckpoints(context.Context, Name, string) ([]CheckpointRow, error) {
	return nil, nil
}
func (c *holdConn) DeleteCheckpoints(context.Context, Name, string, int) error { return nil }

func (c *holdConn) Apply(_ context.Context, runs []Run) (int, error) {
	for _, r := range runs {
		for _, e := range r.Events {
			c.d.log = append(c.d.log, fmt.Sprint("row ", e.After[0].AsInt()))
		}
	}
	return len(runs), nil
}

func (c *holdConn) Commit(_ context.Context, _ Name, row CheckpointRow) error {
	c.d.log = append(c.d.log, fmt.Sprintf("commit %s+%d", row.Position, row.Applied))
	return nil
}

func (c *holdConn) ApplyCommit(ctx context.Context, runs []Run, cp Name, row CheckpointRow, hold bool) (int, bool, error) {
	n, _ := c.Apply(ctx, runs)
	if hold {
		c.d.log = append(c.d.log, "hold "+string(row.Position))
		return n, true, nil
	}
	return n, false, c.Commit(ctx, cp, row)
}

// A held commit point commits at Flush — but not once the open
// transaction also holds the start of the next source transaction: that
// commits whole, with its end.
func TestSinkHoldsCommitPoints(t *testing.T) {
	d := &holdDialect{}
	s, err := New(d, Options{Pipeline: "p", Log: slog.New(slog.DiscardHandler)}, 100)
	if err != nil {
		t.Fatal(err)
	}
	intSchema := &pipeline.Schema{Type: pipeline.TypeInt32}
	table := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "t"}, "x.db.t",
		[]pipeline.Column{{Name: "id", Schema: intSchema}, {Name: "v", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}}}, []int{0})
	batch := func(pos string, ids ...int) *pipeline.Batch {
		b := &pipeline.Batch{}
		for _, id := range ids {
			b.Add(pipeline.Event{Op: pipeline.OpCreate, Table: table, After: pipeline.Row{pipeline.Int(int64(id)), pipeline.Int(1)}})
		}
		if pos != "" {
			b.Events[len(b.Events)-1].TxEnd = true
			b.Position = pipeline.Position(pos)
		}
		return b
	}
	ctx := context.Background()
	s.AllowHolding()
	step := func(what string, f func() error, holding bool, log ...string) {
		t.Helper()
		d.log = nil
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if s.Holding() != holding || !slices.Equal(d.log, log) {
			t.Fatalf("%s: holding %v, did %q; want holding %v, %q", what, s.Holding(), strings.Join(d.log, ", "), holding, strings.Join(log, ", "))
		}
	}
	flush := func() error { return s.Flush(ctx) }
	step("a transaction", func() error { return s.Write(ctx, batch("p1", 1, 2)) }, true, "row 1", "row 2", "hold p1")
	step("flush", flush, false, "commit p1+0")
	step("a transaction", func() error { return s.Write(ctx, batch("p2", 3)) }, true, "row 3", "hold p2")
	step("the next one's start", func() error { return s.Write(ctx, batch("", 4)) }, true, "row 4")
	step("flush inside a transaction", flush, true)
	step("its end", func() error { return s.Write(ctx, batch("p3", 5)) }, true, "row 5", "hold p3")
	step("flush", flush, false, "commit p3+0")
}
