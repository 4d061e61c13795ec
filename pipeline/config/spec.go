package config

import (
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The tables below are the whole file format. To add a key, add a row; to
// add a source or sink type, add it to sourceTypes or sinkTypes and list it
// in the "only" field of the keys it accepts.

var configSection = section[Config]{
	keys: []key[Config]{
		{name: "state_dir", decode: func(d *decoder, v value, c *Config) {
			if p, ok := d.path(v, false); ok {
				c.StateDir = p
			}
		}},
		{name: "log", decode: func(d *decoder, v value, c *Config) {
			decodeMapping(d, v, logSection, &c.Log)
		}},
		{name: "pipelines", required: true, decode: decodePipelines},
	},
}

var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

var logSection = section[Log]{
	keys: []key[Log]{
		{name: "level", decode: func(d *decoder, v value, l *Log) {
			if s, ok := d.enum(v, "debug", "info", "warn", "error"); ok {
				l.Level = logLevels[s]
			}
		}},
		{name: "format", decode: func(d *decoder, v value, l *Log) {
			if s, ok := d.enum(v, "text", "json"); ok {
				l.Format = s
			}
		}},
	},
}

var pipelineName = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

func defaultPipeline() Pipeline {
	return Pipeline{
		Source: Source{Snapshot: DefaultSnapshot, TombstonesOnDelete: true,
			SnapshotChunkRows: DefaultSnapshotChunkRows, SnapshotParallelism: DefaultSnapshotParallelism},
		Batch: Batch{
			MaxEvents: DefaultBatchMaxEvents,
			MaxBytes:  DefaultBatchMaxBytes,
			MaxWait:   DefaultBatchMaxWait,
			Linger:    DefaultBatchLinger,
		},
		Buffer:             Buffer{MaxBatches: DefaultBufferBatches, MaxBytes: DefaultBufferMaxBytes},
		ShutdownTimeout:    DefaultShutdownTimeout,
		CheckpointInterval: DefaultCheckpointInterval,
	}
}

var pipelineSection = section[Pipeline]{
	keys: []key[Pipeline]{
		{name: "name", required: true, decode: func(d *decoder, v value, p *Pipeline) {
			s, ok := d.nonEmpty(v)
			if !ok {
				return
			}
			if !pipelineName.MatchString(s.text) {
				d.bad(v, "%s is not a valid name: expected 1..64 characters of a-z, 0-9, _ and -", s.show())
				return
			}
			p.Name = s.text
		}},
		{name: "source", required: true, decode: func(d *decoder, v value, p *Pipeline) {
			decodeMapping(d, v, sourceSection, &p.Source)
		}},
		{name: "sinks", required: true, decode: func(d *decoder, v value, p *Pipeline) {
			d.list(v, 1, func(item value) {
				s := Sink{Schemas: true, CopyMerge: -1}
				decodeMapping(d, item, sinkSection, &s)
				p.Sinks = append(p.Sinks, s)
			})
		}},
		{name: "batch", decode: func(d *decoder, v value, p *Pipeline) {
			decodeMapping(d, v, batchSection, &p.Batch)
		}},
		{name: "buffer", decode: func(d *decoder, v value, p *Pipeline) {
			decodeMapping(d, v, bufferSection, &p.Buffer)
		}},
		{name: "shutdown_timeout", decode: func(d *decoder, v value, p *Pipeline) {
			if t, ok := d.duration(v, time.Millisecond, 24*time.Hour); ok {
				p.ShutdownTimeout = t
			}
		}},
		{name: "checkpoint_interval", decode: func(d *decoder, v value, p *Pipeline) {
			if t, ok := d.duration(v, 0, time.Hour); ok {
				p.CheckpointInterval = t
			}
		}},
	},
	finish: func(d *decoder, v value, p *Pipeline) {
		if p.Source.TopicPrefix == "" {
			p.Source.TopicPrefix = p.Name
		}
		if p.Source.Type == "postgres" && p.Name != "" {
			def := postgresObjectName(p.Name)
			if p.Source.Slot == "" {
				p.Source.Slot = def
			}
			if p.Source.Publication == "" {
				p.Source.Publication = def
			}
		}
	},
}

// sourceType describes a source type: whether this build can run it and
// how to check its URL.
type sourceType struct {
	available bool
	checkURL  func(raw string) []string
}

var sourceTypes = map[string]sourceType{
	"mysql":    {available: true, checkURL: mysqlURLProblems},
	"postgres": {available: true, checkURL: postgresURLProblems},
	"mongodb":  {available: true, checkURL: mongoURLProblems},
}

var sourceTypeNames = []string{"mysql", "postgres", "mongodb"}

var topicPrefix = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

var sourceSection = section[Source]{
	what:   "source",
	typeOf: func(s *Source) string { return s.Type },
	keys: []key[Source]{
		{name: "type", required: true, decode: func(d *decoder, v value, s *Source) {
			t, ok := d.enum(v, sourceTypeNames...)
			if !ok {
				return
			}
			s.Type = t
			if !sourceTypes[t].available {
				d.bad(v, "source type %s is not available in this build yet", t)
			}
		}},
		{name: "url", required: true, decode: func(d *decoder, v value, s *Source) {
			u, ok := d.nonEmpty(v)
			if !ok {
				return
			}
			if t, known := sourceTypes[s.Type]; known && t.checkURL != nil {
				problems := t.checkURL(u.text)
				for _, p := range problems {
					d.bad(v, "%s", p)
				}
				if len(problems) > 0 {
					return
				}
			}
			s.URL = u.text
		}},
		{name: "server_id", required: true, only: []string{"mysql"}, decode: func(d *decoder, v value, s *Source) {
			if n, ok := d.integer(v, 1, math.MaxUint32); ok {
				s.ServerID = uint32(n)
			}
		}},
		{name: "tables", decode: func(d *decoder, v value, s *Source) {
			s.Tables, _ = d.strings(v, d.tablePattern)
		}},
		{name: "exclude_tables", decode: func(d *decoder, v value, s *Source) {
			s.ExcludeTables, _ = d.strings(v, d.tablePattern)
		}},
		{name: "snapshot", decode: func(d *decoder, v value, s *Source) {
			if m, ok := d.enum(v, "never", "initial", "initial_only", "when_needed"); ok {
				s.Snapshot = m
			}
		}},
		{name: "snapshot_chunk_rows", decode: func(d *decoder, v value, s *Source) {
			if n, ok := d.integer(v, 1, 1_000_000); ok {
				s.SnapshotChunkRows = int(n)
			}
		}},
		{name: "snapshot_parallelism", decode: func(d *decoder, v value, s *Source) {
			if n, ok := d.integer(v, 1, 64); ok {
				s.SnapshotParallelism = int(n)
			}
		}},
		{name: "signal_table", decode: func(d *decoder, v value, s *Source) {
			t, ok := d.nonEmpty(v)
			if !ok {
				return
			}
			p, err := parseTablePattern(t.text)
			if err != nil || strings.ContainsAny(t.text, "*?") {
				d.bad(v, "%s is not a table: expected db.table without wildcards", t.show())
				return
			}
			_ = p
			s.SignalTable = t.text
		}},
		{name: "topic_prefix", decode: func(d *decoder, v value, s *Source) {
			p, ok := d.nonEmpty(v)
			if !ok {
				return
			}
			if !topicPrefix.MatchString(p.text) {
				d.bad(v, "%s is not a valid topic prefix: expected letters, digits, ., _ and -", p.show())
				return
			}
			s.TopicPrefix = p.text
		}},
		{name: "position_mode", only: []string{"mysql"}, decode: func(d *decoder, v value, s *Source) {
			if m, ok := d.enum(v, "auto", "gtid", "file"); ok {
				s.PositionMode = m
			}
		}},
		{name: "slot", only: []string{"postgres"}, decode: func(d *decoder, v value, s *Source) {
			if n, ok := d.postgresName(v, "replication slot"); ok {
				s.Slot = n
			}
		}},
		{name: "publication", only: []string{"postgres"}, decode: func(d *decoder, v value, s *Source) {
			if n, ok := d.postgresName(v, "publication"); ok {
				s.Publication = n
			}
		}},
		{name: "emit_truncates", only: []string{"postgres"}, decode: func(d *decoder, v value, s *Source) {
			if b, ok := d.boolean(v); ok {
				s.EmitTruncates = b
			}
		}},
		{name: "emit_messages", only: []string{"postgres"}, decode: func(d *decoder, v value, s *Source) {
			if b, ok := d.boolean(v); ok {
				s.EmitMessages = b
			}
		}},
		{name: "full_document", only: []string{"mongodb"}, decode: func(d *decoder, v value, s *Source) {
			if m, ok := d.enum(v, "update_lookup", "pre_post_images"); ok {
				s.FullDocument = m
			}
		}},
		{name: "tombstones_on_delete", decode: func(d *decoder, v value, s *Source) {
			if b, ok := d.boolean(v); ok {
				s.TombstonesOnDelete = b
			}
		}},
	},
	finish: func(d *decoder, v value, s *Source) {
		if s.Type == "mysql" && s.PositionMode == "" {
			s.PositionMode = DefaultPositionMode
		}
		if !validPatterns(s.Tables) || !validPatterns(s.ExcludeTables) {
			return // reported per item
		}
		f, err := NewTableFilter(s.Tables, s.ExcludeTables)
		if err != nil {
			d.bad(v, "%v", err)
			return
		}
		s.Filter = f
	},
}

// postgresObjectNamePattern is what siphon accepts as a replication slot
// or publication name: PostgreSQL's rule for slot names, so that both can
// be written unquoted in replication commands.
var postgresObjectNamePattern = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// postgresObjectName derives the default slot and publication name of a
// pipeline: siphon_<name>, '-' replaced by '_', at most 63 characters.
func postgresObjectName(pipeline string) string {
	n := "siphon_" + strings.ReplaceAll(pipeline, "-", "_")
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

func (d *decoder) postgresName(v value, what string) (string, bool) {
	s, ok := d.nonEmpty(v)
	if !ok {
		return "", false
	}
	if !postgresObjectNamePattern.MatchString(s.text) {
		d.bad(v, "%s is not a valid %s name: expected 1..63 characters of a-z, 0-9 and _", s.show(), what)
		return "", false
	}
	return s.text, true
}

// postgresURLProblems lists what is wrong with a PostgreSQL URL, in words
// that quote no part of it.
func postgresURLProblems(raw string) []string {
	u, problems := serverURLProblems(raw, "postgres", "postgresql", "postgres://user:password@host:port/database")
	if u == nil {
		return problems
	}
	if db := strings.Trim(u.Path, "/"); db == "" {
		problems = append(problems, "database required: postgres://user:password@host:port/database")
	} else if strings.Contains(db, "/") {
		problems = append(problems, "path must be one database name")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		problems = append(problems, "must not have a #fragment (percent-encode # in a password as %23)")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return append(problems, "has a malformed query string")
	}
	trusted := u.User != nil
	for _, name := range slices.Sorted(maps.Keys(query)) {
		vals := query[name]
		allowed, known := postgresQueryParams[name]
		switch {
		case !known && trusted:
			problems = append(problems, "unknown query parameter "+strconv.Quote(name)+" (allowed: "+postgresQueryParamNames+")")
		case !known:
			problems = append(problems, "unknown query parameter (allowed: "+postgresQueryParamNames+")")
		case len(vals) > 1:
			problems = append(problems, "query parameter "+name+" given more than once")
		case allowed != nil && !slices.Contains(allowed, vals[0]):
			problems = append(problems, "query parameter "+name+" must be one of "+strings.Join(allowed, ", "))
		}
	}
	return problems
}

// postgresQueryParams are the libpq URL parameters siphon passes on; nil
// allows any value.
var postgresQueryParams = map[string][]string{
	"sslmode":         {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
	"sslrootcert":     nil,
	"sslcert":         nil,
	"sslkey":          nil,
	"connect_timeout": nil,
}

const postgresQueryParamNames = "sslmode, sslrootcert, sslcert, sslkey, connect_timeout"

func (d *decoder) tablePattern(item value, s scalar) bool {
	if _, err := parseTablePattern(s.text); err != nil {
		d.bad(item, "%v", err)
		return false
	}
	return true
}

func validPatterns(patterns []string) bool {
	for _, p := range patterns {
		if _, err := parseTablePattern(p); err != nil {
			return false
		}
	}
	return true
}

var sinkTypeNames = []string{"file", "postgres", "mysql", "mongodb"}

// databaseSinks are the sink types that write to a database.
var databaseSinks = []string{"postgres", "mysql"}

var sinkSection = section[Sink]{
	what:   "sink",
	typeOf: func(s *Sink) string { return s.Type },
	keys: []key[Sink]{
		{name: "type", required: true, decode: func(d *decoder, v value, s *Sink) {
			if t, ok := d.enum(v, sinkTypeNames...); ok {
				s.Type = t
			}
		}},
		{name: "path", required: true, only: []string{"file"}, decode: func(d *decoder, v value, s *Sink) {
			if p, ok := d.path(v, true); ok {
				s.Path = p
			}
		}},
		{name: "schemas", only: []string{"file"}, decode: func(d *decoder, v value, s *Sink) {
			if b, ok := d.boolean(v); ok {
				s.Schemas = b
			}
		}},
		{name: "url", required: true, only: []string{"postgres", "mysql", "mongodb"}, decode: func(d *decoder, v value, s *Sink) {
			u, ok := d.nonEmpty(v)
			if !ok {
				return
			}
			check := mysqlURLProblems
			switch s.Type {
			case "postgres":
				check = postgresURLProblems
			case "mongodb":
				check = mongoURLProblems
			}
			problems := check(u.text)
			for _, p := range problems {
				d.bad(v, "%s", p)
			}
			if len(problems) == 0 {
				s.URL = u.text
			}
		}},
		{name: "schema", only: []string{"postgres"}, decode: func(d *decoder, v value, s *Sink) {
			if n, ok := d.identifier(v, "schema"); ok {
				s.Schema = n
			}
		}},
		{name: "database", required: true, only: []string{"mysql", "mongodb"}, decode: func(d *decoder, v value, s *Sink) {
			if n, ok := d.identifier(v, "database"); ok {
				s.Database = n
			}
		}},
		{name: "tables", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			s.Tables = d.tableMap(v)
		}},
		{name: "consistency", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			if m, ok := d.enum(v, "transaction", "key"); ok {
				s.Consistency = m
			}
		}},
		{name: "workers", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			if n, ok := d.integer(v, 1, 64); ok {
				s.Workers = int(n)
			}
		}},
		{name: "checkpoint_table", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			t, ok := d.nonEmpty(v)
			if !ok {
				return
			}
			if !targetTableName.MatchString(t.text) {
				d.bad(v, "%s is not a table name: expected table or namespace.table", t.show())
				return
			}
			s.CheckpointTable = t.text
		}},
		{name: "schema_changes", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			if m, ok := d.enum(v, "evolve", "strict", "ignore"); ok {
				s.SchemaChanges = m
			}
		}},
		{name: "truncate", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			if b, ok := d.boolean(v); ok {
				s.Truncate = b
			}
		}},
		{name: "dead_letter", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			decodeMapping(d, v, deadLetterSection, &s.DeadLetter)
		}},
		{name: "max_transaction_rows", only: databaseSinks, decode: func(d *decoder, v value, s *Sink) {
			if n, ok := d.integer(v, 1, 100_000_000); ok {
				s.MaxTransactionRows = int(n)
			}
		}},
		{name: "copy_merge", only: []string{"postgres"}, decode: func(d *decoder, v value, s *Sink) {
			if t, ok := d.duration(v, 0, time.Minute); ok {
				s.CopyMerge = t
			}
		}},
	},
	finish: func(d *decoder, v value, s *Sink) {
		if s.CopyMerge < 0 {
			s.CopyMerge = 0
			if s.Type == "postgres" {
				s.CopyMerge = DefaultCopyMerge
			}
		}
		if s.Type != "postgres" && s.Type != "mysql" {
			return
		}
		if s.Consistency == "" {
			s.Consistency = DefaultSinkConsistency
		}
		if s.Consistency == "key" && s.Workers == 0 {
			s.Workers = DefaultSinkWorkers
		}
		if s.Consistency == "transaction" {
			if s.Workers > 1 {
				d.problem(keyLine(v.node, "workers"), v.child("workers", 0, nil).path, "workers needs consistency: key (consistency: transaction applies in source order on one connection)")
			}
			s.Workers = 1
		}
		if s.Consistency == "key" && s.Truncate {
			d.problem(keyLine(v.node, "truncate"), v.child("truncate", 0, nil).path, "truncate: true needs consistency: transaction (a truncate must be ordered against every key)")
		}
		if s.CheckpointTable == "" {
			s.CheckpointTable = DefaultCheckpointTable
		}
		if s.SchemaChanges == "" {
			s.SchemaChanges = DefaultSchemaChanges
		}
		if s.Type == "postgres" && s.Schema == "" {
			s.Schema = DefaultPostgresSchema
		}
	},
}

var deadLetterSection = section[DeadLetter]{
	keys: []key[DeadLetter]{
		{name: "path", required: true, decode: func(d *decoder, v value, dl *DeadLetter) {
			if p, ok := d.path(v, false); ok {
				dl.Path = p
			}
		}},
	},
}

// Target names: a schema or database, a table, or namespace.table, made of
// characters that need no thought when quoted.
var (
	targetIdentifier = regexp.MustCompile(`^[A-Za-z0-9_$-]{1,64}$`)
	targetTableName  = regexp.MustCompile(`^([A-Za-z0-9_$-]{1,64}\.)?[A-Za-z0-9_$-]{1,64}$`)
	sourceTableName  = regexp.MustCompile(`^[^.*?\s]+\.[^.*?\s]+$`)
)

func (d *decoder) identifier(v value, what string) (string, bool) {
	s, ok := d.nonEmpty(v)
	if !ok {
		return "", false
	}
	if !targetIdentifier.MatchString(s.text) {
		d.bad(v, "%s is not a valid %s name: expected 1..64 letters, digits, _, $ or -", s.show(), what)
		return "", false
	}
	return s.text, true
}

// tableMap reads the tables mapping of a database sink: source db.table
// (or schema.table) to target table or namespace.table.
func (d *decoder) tableMap(v value) map[string]string {
	if v.node.Kind != yaml.MappingNode {
		d.bad(v, "expected a mapping such as {\"shop.orders\": \"analytics.orders\"}, got %s", kindName(v.node))
		return nil
	}
	out := map[string]string{}
	for _, p := range mappingPairs(d, v) {
		item := v.child(p.name, p.keyLine, p.val)
		if !sourceTableName.MatchString(p.name) {
			d.problem(p.keyLine, item.path, "%s is not a source table: expected db.table (or schema.table) without wildcards", quote(p.name))
			continue
		}
		t, ok := d.nonEmpty(item)
		if !ok {
			continue
		}
		if !targetTableName.MatchString(t.text) {
			d.bad(item, "%s is not a target table: expected table or namespace.table", t.show())
			continue
		}
		out[p.name] = t.text
	}
	return out
}

var batchSection = section[Batch]{
	keys: []key[Batch]{
		{name: "max_events", decode: func(d *decoder, v value, b *Batch) {
			if n, ok := d.integer(v, 1, 1_000_000); ok {
				b.MaxEvents = int(n)
			}
		}},
		{name: "max_bytes", decode: func(d *decoder, v value, b *Batch) {
			if n, ok := d.size(v, 1<<10, 1<<30); ok {
				b.MaxBytes = n
			}
		}},
		{name: "max_wait", decode: func(d *decoder, v value, b *Batch) {
			if t, ok := d.duration(v, 0, time.Minute); ok {
				b.MaxWait = t
			}
		}},
		{name: "linger", decode: func(d *decoder, v value, b *Batch) {
			if t, ok := d.duration(v, 0, time.Minute); ok {
				b.Linger = t
			}
		}},
	},
}

var bufferSection = section[Buffer]{
	keys: []key[Buffer]{
		{name: "max_batches", decode: func(d *decoder, v value, b *Buffer) {
			if n, ok := d.integer(v, 1, 1_000_000); ok {
				b.MaxBatches = int(n)
			}
		}},
		{name: "max_bytes", decode: func(d *decoder, v value, b *Buffer) {
			if n, ok := d.size(v, 1<<10, math.MaxInt); ok {
				b.MaxBytes = n
			}
		}},
	},
}

// decodePipelines decodes the pipelines list and checks what no single
// pipeline can: names, sink files and MySQL replica identities that must
// be unique.
func decodePipelines(d *decoder, v value, c *Config) {
	var nodes []*yaml.Node
	d.list(v, 1, func(item value) {
		p := defaultPipeline()
		decodeMapping(d, item, pipelineSection, &p)
		c.Pipelines = append(c.Pipelines, p)
		nodes = append(nodes, item.node)
	})

	names := map[string]string{}
	files := map[string]string{}
	replicas := map[string]string{}
	slots := map[string]string{}
	for i, p := range c.Pipelines {
		at := fmt.Sprintf("pipelines[%d]", i)
		if p.Name != "" {
			if first, dup := names[p.Name]; dup {
				d.problem(keyLine(nodes[i], "name"), at+".name", "%s is already the name of %s", quote(p.Name), first)
			} else {
				names[p.Name] = at
			}
		}
		for j, s := range p.Sinks {
			if s.Type != "file" || s.Path == "" || s.Path == "-" {
				continue
			}
			sinkAt := fmt.Sprintf("%s.sinks[%d]", at, j)
			if first, dup := files[s.Path]; dup {
				d.problem(sinkLine(nodes[i], j), sinkAt+".path", "%s is already written by %s", quote(s.Path), first)
			} else {
				files[s.Path] = sinkAt
			}
		}
		if p.Source.Type == "mysql" && p.Source.URL != "" && p.Source.ServerID != 0 {
			u, err := ParseMySQLURL(p.Source.URL)
			if err != nil {
				continue
			}
			// Two replicas with one server_id on one server disconnect each other.
			id := fmt.Sprintf("%s/%d", strings.ToLower(u.Addr()), p.Source.ServerID)
			if first, dup := replicas[id]; dup {
				d.problem(keyLine(sourceNode(nodes[i]), "server_id"), at+".source.server_id",
					"%d is already used by %s for the same server: every pipeline reading one server needs its own server_id", p.Source.ServerID, first)
			} else {
				replicas[id] = at
			}
		}
		if p.Source.Type == "postgres" && p.Source.URL != "" && p.Source.Slot != "" {
			u, err := url.Parse(p.Source.URL)
			if err != nil {
				continue
			}
			// Replication slots are per server (cluster); one slot streams
			// to one reader at a time and confirms for one pipeline.
			port := u.Port()
			if port == "" {
				port = "5432"
			}
			id := strings.ToLower(u.Hostname()) + ":" + port + "/" + p.Source.Slot
			if first, dup := slots[id]; dup {
				d.problem(keyLine(sourceNode(nodes[i]), "slot"), at+".source.slot",
					"%s is already the replication slot of %s on the same server: every pipeline needs its own slot", quote(p.Source.Slot), first)
			} else {
				slots[id] = at
			}
		}
	}
}

func sourceNode(pipeline *yaml.Node) *yaml.Node {
	return childNode(pipeline, "source")
}

func sinkLine(pipeline *yaml.Node, i int) int {
	sinks := childNode(pipeline, "sinks")
	if sinks == nil || sinks.Kind != yaml.SequenceNode || i >= len(sinks.Content) {
		return keyLine(pipeline, "sinks")
	}
	sink := resolveAlias(sinks.Content[i])
	return keyLine(sink, "path")
}

func childNode(n *yaml.Node, name string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolveAlias(n.Content[i]); k != nil && k.Value == name {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

// mongoURLProblems lists what is wrong with a MongoDB connection string,
// in words that do not repeat it (it may hold a password).
func mongoURLProblems(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{"is not a URL: expected mongodb://host:port/?replicaSet=rs0"}
	}
	var problems []string
	if u.Scheme != "mongodb" && u.Scheme != "mongodb+srv" {
		problems = append(problems, "scheme must be mongodb or mongodb+srv: expected mongodb://host:port/?replicaSet=rs0")
	}
	if u.Host == "" {
		problems = append(problems, "host required: mongodb://host:port/?replicaSet=rs0")
	}
	return problems
}
