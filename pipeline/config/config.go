package config

import (
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is a validated siphon.yaml with every default filled in and every
// relative path resolved against the directory of the file.
type Config struct {
	StateDir  string
	Log       Log
	Pipelines []Pipeline
	Path      string // the file the configuration came from
}

// Log configures siphon's own log output.
type Log struct {
	Level  slog.Level
	Format string // "text" or "json"
}

// Pipeline is one source feeding its sinks.
type Pipeline struct {
	Name            string
	Source          Source
	Sinks           []Sink
	Batch           Batch
	Buffer          Buffer
	ShutdownTimeout time.Duration
	// CheckpointInterval is the least time between two checkpoint writes.
	CheckpointInterval time.Duration
}

// Source says where changes come from. URL may hold a password: print a
// Source with its String or LogValue, never the URL field itself.
type Source struct {
	Type          string // "mysql"
	URL           string // after ${VAR} expansion; see ParseMySQLURL
	ServerID      uint32 // mysql only
	Tables        []string
	ExcludeTables []string
	Snapshot      string // never | initial | initial_only | when_needed
	// SnapshotChunkRows and SnapshotParallelism tune snapshots;
	// SignalTable ("db.table", optional) enables Debezium-style signals.
	SnapshotChunkRows   int
	SnapshotParallelism int
	SignalTable         string
	TopicPrefix         string
	PositionMode        string // mysql: auto | gtid | file
	// Slot and Publication (postgres) default to siphon_<pipeline name>.
	Slot               string
	Publication        string
	EmitTruncates      bool // postgres: op t events
	EmitMessages       bool // postgres: op m events for logical decoding messages
	TombstonesOnDelete bool
	Filter             *TableFilter // compiled from Tables and ExcludeTables

	// FullDocument (mongodb) is update_lookup or pre_post_images.
	FullDocument string
}

// Sink says where events go. URL may hold a password: never print it.
type Sink struct {
	Type    string // "file", "postgres", "mysql"
	Path    string // file: resolved against the config file's directory; "-" is stdout
	Schemas bool   // file: JsonConverter schemas.enable

	// Database targets (postgres, mysql).
	URL      string
	Schema   string // postgres: where target tables go
	Database string // mysql: where target tables go
	// Tables maps a source db.table (schema.table) to a target table
	// (table, or namespace.table).
	Tables             map[string]string
	Consistency        string // transaction | key
	Workers            int
	CheckpointTable    string
	SchemaChanges      string // evolve | strict | ignore
	Truncate           bool
	DeadLetter         DeadLetter
	MaxTransactionRows int // 0: a source transaction is never split
	// CopyMerge (postgres) is how long one COPY may go on across source
	// transactions, holding the target transaction open; 0: never.
	CopyMerge time.Duration
}

// DeadLetter is where a database sink puts events the target refuses;
// an empty Path stops the pipeline on such an event instead.
type DeadLetter struct {
	Path string
}

// Batch bounds how the source groups events.
type Batch struct {
	MaxEvents int
	MaxBytes  int
	MaxWait   time.Duration
	Linger    time.Duration
}

// Buffer bounds what a pipeline holds between its source and slowest sink.
type Buffer struct {
	MaxBatches int
	MaxBytes   int
}

// Defaults for keys the file leaves out.
const (
	DefaultStateDir = "./siphon-state"
	DefaultSnapshot = "initial"
	// DefaultSnapshotChunkRows and DefaultSnapshotParallelism suit a small machine.
	DefaultSnapshotChunkRows   = 8192
	DefaultSnapshotParallelism = 2
	DefaultPositionMode        = "auto"
	DefaultBatchMaxEvents      = 2048
	DefaultBatchMaxBytes       = 4 << 20
	DefaultBatchMaxWait        = 50 * time.Millisecond
	DefaultBatchLinger         = 2 * time.Millisecond
	DefaultBufferBatches       = 16
	DefaultBufferMaxBytes      = 64 << 20
	DefaultShutdownTimeout     = 30 * time.Second
	DefaultCheckpointInterval  = 100 * time.Millisecond
	DefaultCopyMerge           = time.Second
	// Database sinks.
	DefaultSinkConsistency = "transaction"
	DefaultSinkWorkers     = 4
	DefaultCheckpointTable = "siphon_checkpoints"
	DefaultSchemaChanges   = "evolve"
	DefaultPostgresSchema  = "public"
)

// Pipeline returns the pipeline called name.
func (c *Config) Pipeline(name string) (*Pipeline, bool) {
	for i := range c.Pipelines {
		if c.Pipelines[i].Name == name {
			return &c.Pipelines[i], true
		}
	}
	return nil, false
}

// String describes the source without its password.
func (s Source) String() string {
	return s.Type + " source " + RedactURL(s.URL)
}

// LogValue logs the source without its password.
func (s Source) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("type", s.Type),
		slog.String("url", RedactURL(s.URL)),
	}
	if s.ServerID != 0 {
		attrs = append(attrs, slog.Uint64("server_id", uint64(s.ServerID)))
	}
	if s.PositionMode != "" {
		attrs = append(attrs, slog.String("position_mode", s.PositionMode))
	}
	if s.Slot != "" {
		attrs = append(attrs, slog.String("slot", s.Slot), slog.String("publication", s.Publication))
	}
	attrs = append(attrs,
		slog.Any("tables", s.Tables),
		slog.Any("exclude_tables", s.ExcludeTables),
		slog.String("snapshot", s.Snapshot),
		slog.String("topic_prefix", s.TopicPrefix),
		slog.Bool("tombstones_on_delete", s.TombstonesOnDelete),
	)
	return slog.GroupValue(attrs...)
}

// MarshalJSON writes the source with its password redacted, so that a
// Config dumped as JSON (or logged by slog's JSONHandler) is safe to share.
func (s Source) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type               string   `json:"type"`
		URL                string   `json:"url"`
		ServerID           uint32   `json:"server_id,omitempty"`
		Tables             []string `json:"tables"`
		ExcludeTables      []string `json:"exclude_tables"`
		Snapshot           string   `json:"snapshot"`
		TopicPrefix        string   `json:"topic_prefix"`
		PositionMode       string   `json:"position_mode,omitempty"`
		Slot               string   `json:"slot,omitempty"`
		Publication        string   `json:"publication,omitempty"`
		EmitTruncates      bool     `json:"emit_truncates,omitempty"`
		EmitMessages       bool     `json:"emit_messages,omitempty"`
		TombstonesOnDelete bool     `json:"tombstones_on_delete"`
	}{s.Type, RedactURL(s.URL), s.ServerID, s.Tables, s.ExcludeTables, s.Snapshot,
		s.TopicPrefix, s.PositionMode, s.Slot, s.Publication, s.EmitTruncates, s.EmitMessages, s.TombstonesOnDelete})
}

// Problem is one thing wrong with a configuration file.
type Problem struct {
	Path    string // key path such as pipelines[0].source.url; "" for the file as a whole
	Line    int    // 1-based; 0 when unknown
	Message string
}

// Error reports every problem found in a configuration file.
type Error struct {
	File     string
	Problems []Problem
	cause    error // the read error, when the file could not be read
}

// Error lists every problem, one per line, as file:line: path: message.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.File)
		if p.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(p.Line))
		}
		b.WriteString(": ")
		if p.Path != "" {
			b.WriteString(p.Path)
			b.WriteString(": ")
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Unwrap returns the error that kept the file from being read, if any.
func (e *Error) Unwrap() error { return e.cause }

// Load reads and validates the configuration file at path. lookupEnv
// resolves ${VAR} references; nil means os.LookupEnv. Every failure,
// including a missing or unreadable file, is an *Error.
func Load(path string, lookupEnv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		cause := err
		var pe *fs.PathError
		if errors.As(err, &pe) {
			cause = pe.Err
		}
		return nil, &Error{File: path, Problems: []Problem{{Message: "cannot read: " + cause.Error()}}, cause: err}
	}
	base, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, &Error{File: path, Problems: []Problem{{Message: "cannot resolve its directory: " + err.Error()}}, cause: err}
	}
	cfg, err := parse(data, path, base, lookupEnv)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		cfg.Path = abs
	}
	return cfg, nil
}

// Parse validates a configuration held in memory. file names it in errors
// and relative paths in it are resolved against filepath.Dir(file).
func Parse(data []byte, file string, lookupEnv func(string) (string, bool)) (*Config, error) {
	return parse(data, file, filepath.Dir(file), lookupEnv)
}

func parse(data []byte, file, baseDir string, lookupEnv func(string) (string, bool)) (*Config, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	d := &decoder{lookupEnv: lookupEnv, baseDir: baseDir}
	cfg := d.decodeFile(data)
	if len(d.problems) > 0 {
		sort.SliceStable(d.problems, func(i, j int) bool { return d.problems[i].Line < d.problems[j].Line })
		return nil, &Error{File: file, Problems: d.problems}
	}
	cfg.Path = file
	return cfg, nil
}
