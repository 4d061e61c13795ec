package sqlapply

import (
	"context"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// Name is a target table: its schema (PostgreSQL) or database (MySQL) and
// its name.
type Name struct {
	Namespace string
	Table     string
}

func (n Name) String() string { return n.Namespace + "." + n.Table }

// TargetColumn is a column of an existing target table.
type TargetColumn struct {
	Name string
	// Type is the declared type as the catalog spells it
	// ("character varying(20)", "varchar(20)").
	Type string
	// Cast is what a text parameter is cast to for this column
	// (PostgreSQL), without length modifiers that would truncate.
	Cast      string
	Nullable  bool
	Default   bool // has a default value or is generated
	Generated bool // computed by the target: never written
}

// TableInfo is an existing target table.
type TableInfo struct {
	Columns []TargetColumn
	// Unique lists the column sets of the primary key and unique indexes.
	Unique [][]string
}

// Column returns the named column, nil when absent.
func (t *TableInfo) Column(name string, fold bool) *TargetColumn {
	for i := range t.Columns {
		if t.Columns[i].Name == name || fold && equalFold(t.Columns[i].Name, name) {
			return &t.Columns[i]
		}
	}
	return nil
}

// ColumnDef is a column the sink creates: its type and, when the mapping
// loses something, what.
type ColumnDef struct {
	Name  string
	Type  string
	Lossy string
}

// ErrorClass tells the engine what to do about an error.
type ErrorClass uint8

// Error classes.
const (
	// Fatal errors stop the pipeline (a bug, a schema the sink cannot use).
	Fatal ErrorClass = iota
	// Retryable errors (lost connection, server restarting, deadlock) are
	// retried with backoff after a reconnect; the open transaction is lost.
	Retryable
	// DataError means one event cannot be applied (constraint violation,
	// value out of range, too long): it is named, or dead-lettered.
	DataError
)

// Dialect is one target engine's SQL.
type Dialect interface {
	// Target names the target for logs and errors, without a password.
	Target() string
	// Connect opens a connection with the session settings the sink needs.
	Connect(ctx context.Context) (Conn, error)
	// DefaultNamespace holds tables named without a schema or database.
	DefaultNamespace() string
	// ErrorAbortsTransaction reports whether a failed statement leaves the
	// transaction unusable (PostgreSQL) rather than undoing just itself.
	ErrorAbortsTransaction() bool
	// FoldNames reports whether the target compares column names
	// case-insensitively (MySQL).
	FoldNames() bool
	// ColumnType chooses the type of a column the sink creates.
	ColumnType(c *Column) (ColumnDef, error)
	// SameType reports whether an existing column has the type the sink
	// would have created.
	SameType(have TargetColumn, want ColumnDef) bool
	CreateTable(name Name, cols []ColumnDef, key []string) string
	AddColumn(name Name, col ColumnDef) string
	// Classify tells what an error of this target means.
	Classify(err error) ErrorClass
}

// Conn is one connection to the target. A Conn is used by one goroutine.
type Conn interface {
	// Describe reads a table from the catalogue; nil when it does not exist.
	Describe(ctx context.Context, name Name) (*TableInfo, error)
	// Exec runs a statement outside the apply path (DDL).
	Exec(ctx context.Context, sql string) error
	Begin(ctx context.Context) error
	// Commit writes the checkpoint row and commits, in one transaction.
	Commit(ctx context.Context, checkpoint Name, row CheckpointRow) error
	Rollback(ctx context.Context) error
	Savepoint(ctx context.Context) error
	RollbackToSavepoint(ctx context.Context) error
	ReleaseSavepoint(ctx context.Context) error
	// Apply runs the runs in order inside the open transaction. It returns
	// how many succeeded; on error runs[done] failed.
	Apply(ctx context.Context, runs []Run) (done int, err error)
	// Statement is the SQL a run executes, for error reports.
	Statement(r Run) string
	EnsureCheckpointTable(ctx context.Context, name Name) error
	ReadCheckpoints(ctx context.Context, name Name, pipeline string) ([]CheckpointRow, error)
	DeleteCheckpoints(ctx context.Context, name Name, pipeline string, fromWorker int) error
	Close() error
}

// RunKind is the statement a run becomes.
type RunKind uint8

// Run kinds.
const (
	// RunUpsert: c, r and u events of a keyed table (insert or update by key).
	RunUpsert RunKind = iota + 1
	// RunDelete: d events of a keyed table, by key.
	RunDelete
	// RunInsert: c and r events of a table without a key.
	RunInsert
	// RunUpdateRow: one u event of a table without a key: the first row
	// equal to the before image (NULL-safe) gets the after image.
	RunUpdateRow
	// RunDeleteRow: one d event of a table without a key: the first row
	// equal to the before image is deleted.
	RunDeleteRow
	// RunUpdateSome: one u event of a keyed table whose after image lacks
	// some values (unchanged TOAST): only the present columns are set.
	RunUpdateSome
	// RunTruncate: a t event.
	RunTruncate
)

// Run is a sequence of events of one table version that become one
// statement.
type Run struct {
	Kind    RunKind
	Mapping *Mapping
	Events  []pipeline.Event
	// Present marks, for RunUpdateSome, which mapped columns the after
	// image carries.
	Present []bool

	end int // index after the run's last event in the split input
}

// CheckpointRow is one row of the checkpoint table: the position a worker
// has applied everything up to, plus what it applied beyond it (see
// docs/targets.md, "Exactly once").
type CheckpointRow struct {
	Pipeline string
	Worker   int
	Position pipeline.Position
	// Applied counts the worker's stream (non-snapshot) events after
	// Position that are committed too (parts of a transaction committed
	// early: max_transaction_rows, a schema change).
	Applied int64
	// Seq numbers the sink's commit points; every worker commits at each.
	Seq          int64
	PrevPosition pipeline.Position
	// PrevApplied counts the worker's stream events after PrevPosition
	// that are committed.
	PrevApplied int64
	Updated     time.Time
}
