package sqlapply

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// Consistency modes.
const (
	ConsistencyTransaction = "transaction"
	ConsistencyKey         = "key"
)

// Schema change policies.
const (
	SchemaEvolve = "evolve"
	SchemaStrict = "strict"
	SchemaIgnore = "ignore"
)

// Defaults.
const (
	DefaultCheckpointTable = "siphon_checkpoints"
	DefaultWorkers         = 4
	DefaultRetainBytes     = 16 << 20
	DefaultMinBackoff      = time.Second
	DefaultMaxBackoff      = 30 * time.Second
)

// Options configure a database sink, whatever its engine.
type Options struct {
	// Pipeline names the pipeline; it keys the checkpoint rows.
	Pipeline string
	// Tables maps a source table ("db.table", "schema.table") to a target
	// table ("ns.table", or "table" in the default namespace).
	Tables map[string]string
	// Consistency is "transaction" (one connection, source order) or
	// "key" (Workers connections, per-key order).
	Consistency string
	Workers     int
	// CheckpointTable is "name" (in the default namespace) or "ns.name".
	CheckpointTable string
	// SchemaChanges is "evolve", "strict" or "ignore".
	SchemaChanges string
	// Truncate applies truncate events; they are skipped otherwise.
	Truncate bool
	// DeadLetterPath, when set, receives events the target refuses.
	DeadLetterPath string
	// MaxTransactionRows, when > 0, lets a larger source transaction be
	// committed in parts.
	MaxTransactionRows int
	// Compare orders two positions of the pipeline's source; nil compares
	// bytes for equality only.
	Compare func(a, b pipeline.Position) (int, error)
	Log     *slog.Logger
	Stats   *pipeline.Stats
	// RetainBytes bounds the events kept to replay an open target
	// transaction after a lost connection; beyond it the pipeline restarts
	// from its checkpoint instead.
	RetainBytes int
	// MinBackoff and MaxBackoff bound the wait between reconnects.
	MinBackoff, MaxBackoff time.Duration
}

func (o *Options) withDefaults() (Options, error) {
	c := *o
	if c.Pipeline == "" {
		return c, errors.New("no pipeline name")
	}
	if c.Consistency == "" {
		c.Consistency = ConsistencyTransaction
	}
	switch c.Consistency {
	case ConsistencyTransaction:
		c.Workers = 1
	case ConsistencyKey:
		if c.Workers <= 0 {
			c.Workers = DefaultWorkers
		}
		if c.Truncate {
			return c, errors.New("truncate: true needs consistency: transaction (a truncate must be ordered against every key)")
		}
	default:
		return c, fmt.Errorf("consistency %q is not transaction or key", c.Consistency)
	}
	if c.SchemaChanges == "" {
		c.SchemaChanges = SchemaEvolve
	}
	switch c.SchemaChanges {
	case SchemaEvolve, SchemaStrict, SchemaIgnore:
	default:
		return c, fmt.Errorf("schema_changes %q is not evolve, strict or ignore", c.SchemaChanges)
	}
	if c.CheckpointTable == "" {
		c.CheckpointTable = DefaultCheckpointTable
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Stats == nil {
		c.Stats = &pipeline.Stats{}
	}
	if c.RetainBytes == 0 {
		c.RetainBytes = DefaultRetainBytes
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(DefaultMaxBackoff, c.MinBackoff)
	}
	return c, nil
}

// ParseName splits "ns.table" (or "table", in namespace def).
func ParseName(s, def string) (Name, error) {
	ns, table, ok := strings.Cut(s, ".")
	if !ok {
		ns, table = def, s
	}
	if ns == "" || table == "" || strings.Contains(table, ".") {
		return Name{}, fmt.Errorf("%q is not a table name: expected table or namespace.table", s)
	}
	return Name{Namespace: ns, Table: table}, nil
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }
