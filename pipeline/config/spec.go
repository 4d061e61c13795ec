package config

import (
	"fmt"
	"log/slog"
	"math"
	"regexp"
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
		},
		Buffer:          Buffer{MaxBatches: DefaultBufferBatches, MaxBytes: DefaultBufferMaxBytes},
		ShutdownTimeout: DefaultShutdownTimeout,
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
				s := Sink{Schemas: true}
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
	},
	finish: func(d *decoder, v value, p *Pipeline) {
		if p.Source.TopicPrefix == "" {
			p.Source.TopicPrefix = p.Name
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
	"postgres": {},
	"mongodb":  {},
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

var sinkTypeNames = []string{"file"}

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
	},
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
