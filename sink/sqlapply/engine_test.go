package sqlapply

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// holdDialect is a fake target whose connections hold a commit point whenever
// they are allowed to: what the PostgreSQL sink does while its COPY is
// young. Everything a connection does is logged, in order.
type holdDialect struct {
	mu       sync.Mutex // workers of consistency: key apply concurrently
	log      []string
	failNext bool            // the next Apply fails as a streamed COPY does
	stored   []CheckpointRow // what ReadCheckpoints returns
	commits  []CheckpointRow // the rows committed, in order
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

var errFakeStream = fmt.Errorf("%w: duplicate key", ErrStreamFailed)

func (c *holdConn) Describe(context.Context, Name) (*TableInfo, error) {
	return &TableInfo{Columns: []TargetColumn{{Name: "id", Type: "int"}, {Name: "v", Type: "int", Nullable: true}}, Unique: [][]string{{"id"}}}, nil
}
func (c *holdConn) Exec(context.Context, string) error                { return nil }
func (c *holdConn) Begin(context.Context) error                       { return nil }
func (c *holdConn) Rollback(context.Context) error                    { c.d.add("rollback"); return nil }
func (c *holdConn) Savepoint(context.Context) error                   { return nil }
func (c *holdConn) RollbackToSavepoint(context.Context) error         { return nil }
func (c *holdConn) ReleaseSavepoint(context.Context) error            { return nil }
func (c *holdConn) Statement(Run) string                              { return "" }
func (c *holdConn) Close() error                                      { return nil }
func (c *holdConn) EnsureCheckpointTable(context.Context, Name) error { return nil }
func (c *holdConn) ReadCheckpoints(context.Context, Name, string) ([]CheckpointRow, error) {
	return c.d.stored, nil
}
func (c *holdConn) DeleteCheckpoints(context.Context, Name, string, int) error { return nil }

func (d *holdDialect) add(what string) {
	d.mu.Lock()
	d.log = append(d.log, what)
	d.mu.Unlock()
}

func (c *holdConn) Apply(_ context.Context, runs []Run) (int, error) {
	c.d.mu.Lock()
	fail := c.d.failNext
	c.d.failNext = false
	c.d.mu.Unlock()
	if fail {
		c.d.add("copy failed")
		return 0, errFakeStream
	}
	for _, r := range runs {
		for _, e := range r.Events {
			c.d.add(fmt.Sprint("row ", e.After[0].AsInt()))
		}
	}
	return len(runs), nil
}

func (c *holdConn) Commit(_ context.Context, _ Name, row CheckpointRow) error {
	c.d.mu.Lock()
	c.d.commits = append(c.d.commits, row)
	c.d.mu.Unlock()
	c.d.add(fmt.Sprintf("commit %s+%d", row.Position, row.Applied))
	return nil
}

func (c *holdConn) ApplyCommit(ctx context.Context, runs []Run, cp Name, row CheckpointRow, hold bool) (int, bool, error) {
	n, err := c.Apply(ctx, runs)
	if err != nil {
		return n, false, err
	}
	if hold {
		c.d.add("hold " + string(row.Position))
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

// A streamed COPY that fails rolls the open transaction back and applies
// it again — held points included — without holding; COPYs then end with
// their write for a minute, for twice as long after the next failure.
func TestSinkStreamFailureReplays(t *testing.T) {
	d := &holdDialect{}
	s, err := New(d, Options{Pipeline: "p", Log: slog.New(slog.DiscardHandler)}, 100)
	if err != nil {
		t.Fatal(err)
	}
	s.AllowHolding()
	intSchema := &pipeline.Schema{Type: pipeline.TypeInt32}
	table := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "t"}, "x.db.t",
		[]pipeline.Column{{Name: "id", Schema: intSchema}, {Name: "v", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}}}, []int{0})
	batch := func(pos string, id int) *pipeline.Batch {
		b := &pipeline.Batch{Position: pipeline.Position(pos)}
		b.Add(pipeline.Event{Op: pipeline.OpCreate, Table: table, After: pipeline.Row{pipeline.Int(int64(id)), pipeline.Int(1)}, TxEnd: true})
		return b
	}
	ctx := context.Background()
	if err := s.Write(ctx, batch("p1", 1)); err != nil || !s.Holding() {
		t.Fatalf("first write: %v, holding %v", err, s.Holding())
	}
	d.log, d.failNext = nil, true
	if err := s.Write(ctx, batch("p2", 2)); err != nil {
		t.Fatalf("write after a failed COPY: %v", err)
	}
	want := []string{"copy failed", "rollback", "row 1", "row 2", "commit p2+0"}
	if !slices.Equal(d.log, want) || s.Holding() {
		t.Fatalf("did %q (holding %v), want %q, not holding", strings.Join(d.log, ", "), s.Holding(), strings.Join(want, ", "))
	}
	if s.streamOffFor != minStreamOff || s.workers[0].mayStream() {
		t.Fatalf("COPYs held again at once (off for %s)", s.streamOffFor)
	}
	s.streamOffUntil = time.Time{} // the minute has passed
	d.failNext = true
	if err := s.Write(ctx, batch("p3", 3)); err != nil {
		t.Fatal(err)
	}
	if s.streamOffFor != 2*minStreamOff {
		t.Fatalf("second failure: COPYs off for %s, want %s", s.streamOffFor, 2*minStreamOff)
	}
}

// A worker that had committed one point more than the run resumes from
// skips what it has, and committing that point again records the resume
// point as the one before: a second crash there still skips it.
func TestSinkResumeAheadWorker(t *testing.T) {
	d := &holdDialect{}
	s, err := New(d, Options{Pipeline: "p", Consistency: ConsistencyKey, Workers: 2, Log: slog.New(slog.DiscardHandler)}, 100)
	if err != nil {
		t.Fatal(err)
	}
	intSchema := &pipeline.Schema{Type: pipeline.TypeInt32}
	table := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "t"}, "x.db.t",
		[]pipeline.Column{{Name: "id", Schema: intSchema}, {Name: "v", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}}}, []int{0})
	ctx := context.Background()
	if err := s.ResumeFrom(ctx, nil); err != nil { // resolves nothing yet; sets the workers up
		t.Fatal(err)
	}
	event := func(id int) pipeline.Event {
		return pipeline.Event{Op: pipeline.OpUpdate, Table: table, Before: pipeline.Row{pipeline.Int(int64(id)), pipeline.Int(0)},
			After: pipeline.Row{pipeline.Int(int64(id)), pipeline.Int(1)}}
	}
	// One key of each worker.
	keys := map[int]int{}
	for id := 1; len(keys) < 2; id++ {
		e := event(id)
		if _, err := s.schemas.resolve(ctx, table, ""); err != nil {
			t.Fatal(err)
		}
		if w := s.route(&e); keys[w] == 0 {
			keys[w] = id
		}
	}
	// Worker 0 committed p2 (one change of its key after p1); worker 1
	// is at p1, where the run resumes.
	d.stored = []CheckpointRow{
		{Pipeline: "p", Worker: 0, Position: pipeline.Position("p2"), Seq: 2, PrevPosition: pipeline.Position("p1"), PrevApplied: 1},
		{Pipeline: "p", Worker: 1, Position: pipeline.Position("p1"), Seq: 1},
	}
	if err := s.ResumeFrom(ctx, pipeline.Position("p1")); err != nil {
		t.Fatal(err)
	}
	b := &pipeline.Batch{Position: pipeline.Position("p2")}
	b.Add(event(keys[0]))
	b.Add(event(keys[1]))
	b.Events[1].TxEnd = true
	d.log, d.commits = nil, nil
	if err := s.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	// The workers apply concurrently: only the rows, not their order
	// against the other worker's commit, are fixed.
	var rows []string
	for _, l := range d.log {
		if strings.HasPrefix(l, "row ") {
			rows = append(rows, l)
		}
	}
	if want := fmt.Sprint("row ", keys[1]); !slices.Equal(rows, []string{want}) {
		t.Fatalf("applied %q; want only %q (worker 0 has its change)", d.log, want)
	}
	for _, r := range d.commits {
		if r.Worker == 0 && (string(r.PrevPosition) != "p1" || r.PrevApplied != 1 || string(r.Position) != "p2") {
			t.Fatalf("worker 0 committed p2 again as %+v; want prev p1 with 1 applied", r)
		}
	}
	if len(d.commits) != 2 {
		t.Fatalf("%d commits, want one per worker", len(d.commits))
	}
}
