package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite golden files")

// env returns a lookupEnv that knows only vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

var noEnv = env(nil)

// minimal is the smallest valid configuration; tests append to or replace
// parts of it.
const minimal = `
pipelines:
  - name: shop
    source:
      type: mysql
      url: mysql://repl@127.0.0.1
      server_id: 1
    sinks:
      - type: file
        path: out.jsonl
`

var ignoreFilter = cmpopts.IgnoreFields(Source{}, "Filter")

func TestParseFullConfig(t *testing.T) {
	cfg, err := Load("testdata/full.yaml", env(map[string]string{"MYSQL_PASSWORD": "s3cret", "PG_PASSWORD": "pgs3cret"}))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		StateDir: "/var/lib/siphon",
		Log:      Log{Level: slog.LevelWarn, Format: "json"},
		Path:     filepath.Join(dir, "full.yaml"),
		Pipelines: []Pipeline{
			{
				Name: "shop",
				Source: Source{
					Type:                "mysql",
					URL:                 "mysql://repl:s3cret@db.example.com:3307?tls=skip-verify&charset=latin1",
					ServerID:            5401,
					Tables:              []string{"shop.*", "crm.customers"},
					ExcludeTables:       []string{"shop.tmp_*"},
					Snapshot:            "when_needed",
					SnapshotChunkRows:   1000,
					SnapshotParallelism: 4,
					SignalTable:         "shop.debezium_signal",
					TopicPrefix:         "shop.prod",
					PositionMode:        "gtid",
					TombstonesOnDelete:  false,
				},
				Sinks: []Sink{
					{Type: "file", Path: filepath.Join(dir, "events.jsonl"), Schemas: false},
					{Type: "file", Path: "-", Schemas: true},
				},
				Batch:              Batch{MaxEvents: 500, MaxBytes: 1_000_000, MaxWait: 10 * time.Millisecond, Linger: time.Millisecond},
				Buffer:             Buffer{MaxBatches: 4, MaxBytes: 16 << 20},
				ShutdownTimeout:    time.Minute,
				CheckpointInterval: time.Second,
			},
			{
				Name: "crm",
				Source: Source{
					Type:                "mysql",
					URL:                 "mariadb://cdc@10.0.0.2",
					ServerID:            4294967295,
					Snapshot:            "initial",
					SnapshotChunkRows:   8192,
					SnapshotParallelism: 2,
					TopicPrefix:         "crm",
					PositionMode:        "auto",
					TombstonesOnDelete:  true,
				},
				Sinks:           []Sink{{Type: "file", Path: "/data/crm.jsonl", Schemas: true}},
				Batch:           Batch{MaxEvents: 2048, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond, Linger: 2 * time.Millisecond},
				Buffer:          Buffer{MaxBatches: 16, MaxBytes: 64 << 20},
				ShutdownTimeout: 30 * time.Second, CheckpointInterval: 100 * time.Millisecond,
			},
			{
				Name: "orders-pg",
				Source: Source{
					Type:                "postgres",
					URL:                 "postgres://cdc:pgs3cret@pg.example.com:5433/shop?sslmode=require",
					Tables:              []string{"public.*"},
					Snapshot:            "initial",
					SnapshotChunkRows:   8192,
					SnapshotParallelism: 2,
					TopicPrefix:         "orders-pg",
					Slot:                "orders_slot",
					Publication:         "orders_pub",
					EmitTruncates:       true,
					EmitMessages:        true,
					TombstonesOnDelete:  true,
				},
				Sinks:           []Sink{{Type: "file", Path: filepath.Join(dir, "orders.jsonl"), Schemas: true}},
				Batch:           Batch{MaxEvents: 2048, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond, Linger: 2 * time.Millisecond},
				Buffer:          Buffer{MaxBatches: 16, MaxBytes: 64 << 20},
				ShutdownTimeout: 30 * time.Second, CheckpointInterval: 100 * time.Millisecond,
			},
			{
				Name: "billing-pg",
				Source: Source{
					Type:                "postgres",
					URL:                 "postgresql://cdc@pg.example.com/billing",
					Snapshot:            "initial",
					SnapshotChunkRows:   8192,
					SnapshotParallelism: 2,
					TopicPrefix:         "billing-pg",
					Slot:                "siphon_billing_pg",
					Publication:         "siphon_billing_pg",
					TombstonesOnDelete:  true,
				},
				Sinks:           []Sink{{Type: "file", Path: filepath.Join(dir, "billing.jsonl"), Schemas: true}},
				Batch:           Batch{MaxEvents: 2048, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond, Linger: 2 * time.Millisecond},
				Buffer:          Buffer{MaxBatches: 16, MaxBytes: 64 << 20},
				ShutdownTimeout: 30 * time.Second, CheckpointInterval: 100 * time.Millisecond,
			},
		},
	}
	if diff := cmp.Diff(want, cfg, ignoreFilter); diff != "" {
		t.Errorf("config mismatch (-want +got):\n%s", diff)
	}
	shop := cfg.Pipelines[0].Source.Filter
	if shop == nil || !shop.Match("shop", "orders") || shop.Match("shop", "tmp_x") || shop.Match("crm", "orders") {
		t.Errorf("shop filter does not follow tables/exclude_tables: %v", shop)
	}
	crm := cfg.Pipelines[1].Source.Filter
	if crm == nil || !crm.Match("anything", "t") || crm.Match("mysql", "user") {
		t.Errorf("crm filter is not the default filter: %v", crm)
	}
}

func TestParseDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), "/etc/siphon/siphon.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		StateDir: "/etc/siphon/siphon-state",
		Log:      Log{Level: slog.LevelInfo, Format: "text"},
		Path:     "/etc/siphon/siphon.yaml",
		Pipelines: []Pipeline{{
			Name: "shop",
			Source: Source{
				Type:                "mysql",
				URL:                 "mysql://repl@127.0.0.1",
				ServerID:            1,
				Snapshot:            "initial",
				SnapshotChunkRows:   8192,
				SnapshotParallelism: 2,
				TopicPrefix:         "shop",
				PositionMode:        "auto",
				TombstonesOnDelete:  true,
			},
			Sinks:           []Sink{{Type: "file", Path: "/etc/siphon/out.jsonl", Schemas: true}},
			Batch:           Batch{MaxEvents: 2048, MaxBytes: 4 << 20, MaxWait: 50 * time.Millisecond, Linger: 2 * time.Millisecond},
			Buffer:          Buffer{MaxBatches: 16, MaxBytes: 64 << 20},
			ShutdownTimeout: 30 * time.Second, CheckpointInterval: 100 * time.Millisecond,
		}},
	}
	if diff := cmp.Diff(want, cfg, ignoreFilter); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}
	if cfg.Pipelines[0].Source.Filter == nil {
		t.Error("Filter not compiled")
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string // replaces "      server_id: 1\n" in minimal
		check func(p Pipeline) any
		want  any
	}{
		{"size plain bytes", "      server_id: 1\n    buffer: {max_bytes: 65536}\n", func(p Pipeline) any { return p.Buffer.MaxBytes }, 65536},
		{"size KiB", "      server_id: 1\n    buffer: {max_bytes: 64KiB}\n", func(p Pipeline) any { return p.Buffer.MaxBytes }, 64 << 10},
		{"size MB is decimal", "      server_id: 1\n    batch: {max_bytes: 4MB}\n", func(p Pipeline) any { return p.Batch.MaxBytes }, 4_000_000},
		{"size MiB", "      server_id: 1\n    batch: {max_bytes: 4MiB}\n", func(p Pipeline) any { return p.Batch.MaxBytes }, 4 << 20},
		{"size GiB", "      server_id: 1\n    buffer: {max_bytes: 1GiB}\n", func(p Pipeline) any { return p.Buffer.MaxBytes }, 1 << 30},
		{"duration zero wait", "      server_id: 1\n    batch: {max_wait: 0s}\n", func(p Pipeline) any { return p.Batch.MaxWait }, time.Duration(0)},
		{"duration", "      server_id: 1\n    shutdown_timeout: 1m30s\n", func(p Pipeline) any { return p.ShutdownTimeout }, 90 * time.Second},
		{"checkpoint interval zero", "      server_id: 1\n    checkpoint_interval: 0s\n", func(p Pipeline) any { return p.CheckpointInterval }, time.Duration(0)},
		{"max server_id", "      server_id: 4294967295\n", func(p Pipeline) any { return p.Source.ServerID }, uint32(4294967295)},
		{"quoted number", "      server_id: \"77\"\n", func(p Pipeline) any { return p.Source.ServerID }, uint32(77)},
		{"snapshot initial", "      server_id: 1\n      snapshot: initial\n", func(p Pipeline) any { return p.Source.Snapshot }, "initial"},
		{"snapshot initial_only", "      server_id: 1\n      snapshot: initial_only\n", func(p Pipeline) any { return p.Source.Snapshot }, "initial_only"},
		{"snapshot chunk rows", "      server_id: 1\n      snapshot_chunk_rows: 100\n", func(p Pipeline) any { return p.Source.SnapshotChunkRows }, 100},
		{"signal table", "      server_id: 1\n      signal_table: shop.signals\n", func(p Pipeline) any { return p.Source.SignalTable }, "shop.signals"},
		{"position_mode file", "      server_id: 1\n      position_mode: file\n", func(p Pipeline) any { return p.Source.PositionMode }, "file"},
		{"boolean any case", "      server_id: 1\n      tombstones_on_delete: False\n", func(p Pipeline) any { return p.Source.TombstonesOnDelete }, false},
		{"null keeps default", "      server_id: 1\n      snapshot:\n", func(p Pipeline) any { return p.Source.Snapshot }, "initial"},
		{"empty tables list", "      server_id: 1\n      tables: []\n", func(p Pipeline) any { return p.Source.Filter.Match("a", "b") }, true},
		{"anchor and alias", "      server_id: &id 9\n      topic_prefix: x\n    batch: {max_events: *id}\n", func(p Pipeline) any { return p.Batch.MaxEvents }, 9},
		{"pattern with ? and dotted table", "      server_id: 1\n      tables: [\"s?op.a.b\"]\n", func(p Pipeline) any { return p.Source.Filter.Match("shop", "a.b") }, true},
		{"topic prefix chars", "      server_id: 1\n      topic_prefix: A-z_0.9\n", func(p Pipeline) any { return p.Source.TopicPrefix }, "A-z_0.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(minimal, "      server_id: 1\n", tt.yaml, 1)
			cfg, err := Parse([]byte(doc), "siphon.yaml", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.check(cfg.Pipelines[0]); got != tt.want {
				t.Errorf("got %v (%T), want %v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestParseLog(t *testing.T) {
	for level, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		cfg, err := Parse([]byte("log: {level: "+level+", format: json}\n"+minimal), "s.yaml", noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Log.Level != want || cfg.Log.Format != "json" {
			t.Errorf("level %s: got %+v", level, cfg.Log)
		}
	}
}

// TestParseProblems checks each rule's message, path and line. The
// documents are small so that the expected lines are easy to count.
func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "empty file",
			doc:  "",
			want: []string{"s.yaml: pipelines: required"},
		},
		{
			name: "not a mapping",
			doc:  "- a\n- b\n",
			want: []string{"s.yaml:1: expected a mapping of keys, got a list"},
		},
		{
			name: "yaml syntax error",
			doc:  "state_dir: x\nlog:\n\tlevel: info\n",
			want: []string{"s.yaml:3: invalid YAML: found character that cannot start any token"},
		},
		{
			name: "two documents",
			doc:  minimal + "---\nstate_dir: x\n",
			want: []string{"s.yaml:12: invalid YAML: the file holds more than one YAML document"},
		},
		{
			name: "no pipelines",
			doc:  "pipelines: []\n",
			want: []string{"s.yaml:1: pipelines: at least 1 required"},
		},
		{
			name: "pipelines not a list",
			doc:  "pipelines: {name: x}\n",
			want: []string{"s.yaml:1: pipelines: expected a list, got a mapping"},
		},
		{
			name: "unknown top-level key with suggestion",
			doc:  "statedir: x\n" + minimal,
			want: []string{`s.yaml:1: unknown key "statedir" (did you mean "state_dir"?)`},
		},
		{
			name: "unknown key without suggestion",
			doc:  "flavor: blue\n" + minimal,
			want: []string{`s.yaml:1: unknown key "flavor"`},
		},
		{
			name: "duplicate key",
			doc:  "state_dir: a\nstate_dir: b\n" + minimal,
			want: []string{`s.yaml:2: duplicate key "state_dir" (first at line 1)`},
		},
		{
			name: "merge key",
			doc:  "log: &l {level: info}\nx: &y {}\n" + minimal + "    batch:\n      <<: *y\n",
			want: []string{
				`s.yaml:2: unknown key "x"`,
				"s.yaml:14: pipelines[0].batch: merge keys (<<) are not supported",
			},
		},
		{
			name: "missing required keys",
			doc:  "pipelines:\n  - source:\n      type: mysql\n    sinks:\n      - {}\n",
			want: []string{
				"s.yaml:2: pipelines[0].name: required",
				"s.yaml:2: pipelines[0].source.url: required",
				"s.yaml:2: pipelines[0].source.server_id: required",
				"s.yaml:5: pipelines[0].sinks[0].type: required",
			},
		},
		{
			name: "missing source and sinks",
			doc:  "pipelines:\n  - name: a\n",
			want: []string{
				"s.yaml:2: pipelines[0].source: required",
				"s.yaml:2: pipelines[0].sinks: required",
			},
		},
		{
			name: "empty required value",
			doc:  strings.Replace(minimal, "url: mysql://repl@127.0.0.1", `url: ""`, 1),
			want: []string{"s.yaml:6: pipelines[0].source.url: must not be empty"},
		},
		{
			name: "null required value",
			doc:  strings.Replace(minimal, "url: mysql://repl@127.0.0.1", `url:`, 1),
			want: []string{"s.yaml:4: pipelines[0].source.url: required"},
		},
		{
			name: "bad enum",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: 1\n      snapshot: sometimes", 1),
			want: []string{`s.yaml:8: pipelines[0].source.snapshot: "sometimes" is not one of never, initial, initial_only, when_needed`},
		},
		{
			name: "snapshot tuning out of range and a wildcard signal table",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: 1\n      snapshot_parallelism: 0\n      signal_table: shop.*", 1),
			want: []string{
				`s.yaml:8: pipelines[0].source.snapshot_parallelism: "0" is out of range: expected 1..64`,
				`s.yaml:9: pipelines[0].source.signal_table: "shop.*" is not a table: expected db.table without wildcards`,
			},
		},
		{
			name: "unknown sink key with suggestion",
			doc:  minimal + "  - name: b\n    source: {type: mysql, url: 'mysql://u@h', server_id: 2}\n    sinks:\n      - type: file\n        pth: x\n",
			want: []string{
				"s.yaml:14: pipelines[1].sinks[0].path: required",
				`s.yaml:15: pipelines[1].sinks[0]: unknown key "pth" (did you mean "path"?)`,
			},
		},
		{
			name: "suggestion across spelling styles",
			doc:  strings.Replace(minimal, "server_id: 1", "serverId: 1", 1),
			want: []string{
				"s.yaml:4: pipelines[0].source.server_id: required",
				`s.yaml:7: pipelines[0].source: unknown key "serverId" (did you mean "server_id"?)`,
			},
		},
		{
			name: "value of wrong kind",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: [1]\n      tables: shop.*", 1),
			want: []string{
				"s.yaml:7: pipelines[0].source.server_id: expected a single value, got a list",
				`s.yaml:8: pipelines[0].source.tables: expected a list such as ["a", "b"], got a single value`,
			},
		},
		{
			name: "numbers out of range",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: 4294967296\n    batch:\n      max_events: 1000001\n    buffer:\n      max_batches: 0", 1),
			want: []string{
				`s.yaml:7: pipelines[0].source.server_id: "4294967296" is out of range: expected 1..4294967295`,
				`s.yaml:9: pipelines[0].batch.max_events: "1000001" is out of range: expected 1..1000000`,
				`s.yaml:11: pipelines[0].buffer.max_batches: "0" is out of range: expected 1..1000000`,
			},
		},
		{
			name: "not numbers",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: -5\n    batch: {max_events: 1.5}", 1),
			want: []string{
				`s.yaml:7: pipelines[0].source.server_id: "-5" is not a whole number: expected 1..4294967295`,
				`s.yaml:8: pipelines[0].batch.max_events: "1.5" is not a whole number: expected 1..1000000`,
			},
		},
		{
			name: "bad sizes and durations",
			doc:  minimal + "    batch: {max_bytes: 4 mebibytes, max_wait: 50}\n    buffer: {max_bytes: 99999999999GiB}\n    shutdown_timeout: -1s\n",
			want: []string{
				`s.yaml:11: pipelines[0].batch.max_bytes: "4 mebibytes" is not a size: expected a whole number of bytes with an optional unit B, KB, MB, GB, KiB, MiB or GiB, such as 65536, 64KiB or 4MiB`,
				`s.yaml:11: pipelines[0].batch.max_wait: "50" is not a duration: expected a number with a unit, such as 50ms, 30s or 1m`,
				`s.yaml:12: pipelines[0].buffer.max_bytes: "99999999999GiB" is not a size: too large`,
				`s.yaml:13: pipelines[0].shutdown_timeout: "-1s" is out of range: expected 1ms..24h0m0s`,
			},
		},
		{
			name: "sizes out of range",
			doc:  minimal + "    batch: {max_bytes: 2GiB}\n    buffer: {max_bytes: 100}\n",
			want: []string{
				`s.yaml:11: pipelines[0].batch.max_bytes: "2GiB" is out of range: expected 1KiB..1GiB`,
				`s.yaml:12: pipelines[0].buffer.max_bytes: "100" is too small: expected at least 1KiB`,
			},
		},
		{
			name: "bad boolean",
			doc:  minimal + "        schemas: yes\n",
			want: []string{`s.yaml:11: pipelines[0].sinks[0].schemas: "yes" is not a boolean: expected true or false`},
		},
		{
			name: "bad names",
			doc:  strings.Replace(minimal, "name: shop", "name: Shop!", 1) + "  - name: '" + strings.Repeat("a", 65) + "'\n    source: {type: mysql, url: 'mysql://u@h', server_id: 2, topic_prefix: 'a b'}\n    sinks: [{type: file, path: y}]\n",
			want: []string{
				`s.yaml:3: pipelines[0].name: "Shop!" is not a valid name: expected 1..64 characters of a-z, 0-9, _ and -`,
				`s.yaml:11: pipelines[1].name: "` + strings.Repeat("a", 65) + `" is not a valid name: expected 1..64 characters of a-z, 0-9, _ and -`,
				`s.yaml:12: pipelines[1].source.topic_prefix: "a b" is not a valid topic prefix: expected letters, digits, ., _ and -`,
			},
		},
		{
			name: "duplicate pipeline names",
			doc:  minimal + "  - name: shop\n    source: {type: mysql, url: 'mysql://u@h', server_id: 2}\n    sinks: [{type: file, path: y}]\n",
			want: []string{`s.yaml:11: pipelines[1].name: "shop" is already the name of pipelines[0]`},
		},
		{
			name: "two pipelines writing one file",
			doc:  minimal + "  - name: b\n    source: {type: mysql, url: 'mysql://u@h', server_id: 2}\n    sinks: [{type: file, path: ./out.jsonl}]\n",
			want: []string{`s.yaml:13: pipelines[1].sinks[0].path: "out.jsonl" is already written by pipelines[0].sinks[0]`},
		},
		{
			name: "stdout may be shared",
			doc:  strings.Replace(minimal, "path: out.jsonl", "path: '-'", 1) + "  - name: b\n    source: {type: mysql, url: 'mysql://u@h', server_id: 2}\n    sinks: [{type: file, path: '-'}]\n",
			want: nil,
		},
		{
			name: "same server_id on one server",
			doc:  minimal + "  - name: b\n    source: {type: mysql, url: 'mariadb://other@127.0.0.1:3306', server_id: 1}\n    sinks: [{type: file, path: y}]\n",
			want: []string{`s.yaml:12: pipelines[1].source.server_id: 1 is already used by pipelines[0] for the same server: every pipeline reading one server needs its own server_id`},
		},
		{
			name: "same server_id on other servers",
			doc:  minimal + "  - name: b\n    source: {type: mysql, url: 'mysql://u@127.0.0.2', server_id: 1}\n    sinks: [{type: file, path: y}]\n",
			want: nil,
		},
		{
			name: "mysql-only keys on postgres",
			doc:  "pipelines:\n  - name: a\n    source:\n      type: postgres\n      url: postgres://u@h/db\n      server_id: 5\n      position_mode: auto\n    sinks: [{type: file, path: x}]\n",
			want: []string{
				`s.yaml:6: pipelines[0].source: key "server_id" is not allowed for source type postgres (only for mysql)`,
				`s.yaml:7: pipelines[0].source: key "position_mode" is not allowed for source type postgres (only for mysql)`,
			},
		},
		{
			name: "postgres-only keys on mysql",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: 1\n      slot: s\n      emit_truncates: true", 1),
			want: []string{
				`s.yaml:8: pipelines[0].source: key "slot" is not allowed for source type mysql (only for postgres)`,
				`s.yaml:9: pipelines[0].source: key "emit_truncates" is not allowed for source type mysql (only for postgres)`,
			},
		},
		{
			name: "postgres slot, publication and url",
			doc: "pipelines:\n  - name: a\n    source:\n      type: postgres\n      url: mysql://u@h:0/db?x=1\n      slot: Bad-Slot\n      publication: ''\n      emit_messages: maybe\n    sinks: [{type: file, path: x}]\n" +
				"  - name: b\n    source: {type: postgres, url: 'postgres://u@h'}\n    sinks: [{type: file, path: y}]\n",
			want: []string{
				"s.yaml:5: pipelines[0].source.url: scheme must be postgres or postgresql",
				"s.yaml:5: pipelines[0].source.url: port must be 1..65535",
				`s.yaml:5: pipelines[0].source.url: unknown query parameter "x" (allowed: sslmode, sslrootcert, sslcert, sslkey, connect_timeout)`,
				`s.yaml:6: pipelines[0].source.slot: "Bad-Slot" is not a valid replication slot name: expected 1..63 characters of a-z, 0-9 and _`,
				"s.yaml:7: pipelines[0].source.publication: must not be empty",
				`s.yaml:8: pipelines[0].source.emit_messages: "maybe" is not a boolean: expected true or false`,
				"s.yaml:11: pipelines[1].source.url: database required: postgres://user:password@host:port/database",
			},
		},
		{
			name: "same postgres slot on one server",
			doc: "pipelines:\n  - name: a\n    source: {type: postgres, url: 'postgres://u@PG:5432/one', slot: s}\n    sinks: [{type: file, path: x}]\n" +
				"  - name: b\n    source: {type: postgres, url: 'postgres://u@pg/two', slot: s}\n    sinks: [{type: file, path: y}]\n" +
				"  - name: c\n    source: {type: postgres, url: 'postgres://u@pg:5433/one', slot: s}\n    sinks: [{type: file, path: z}]\n",
			want: []string{`s.yaml:6: pipelines[1].source.slot: "s" is already the replication slot of pipelines[0] on the same server: every pipeline needs its own slot`},
		},
		{
			name: "mongodb",
			doc:  "pipelines:\n  - name: a\n    source: {type: mongodb, url: 'http://h', full_document: all, server_id: 1}\n    sinks: [{type: mongodb, url: 'mongodb://h'}]\n",
			want: []string{
				"s.yaml:3: pipelines[0].source.url: scheme must be mongodb or mongodb+srv: expected mongodb://host:port/?replicaSet=rs0",
				`s.yaml:3: pipelines[0].source.full_document: "all" is not one of update_lookup, pre_post_images`,
				`s.yaml:3: pipelines[0].source: key "server_id" is not allowed for source type mongodb (only for mysql)`,
				"s.yaml:4: pipelines[0].sinks[0].database: required",
			},
		},
		{
			name: "unknown types",
			doc:  "pipelines:\n  - name: a\n    source: {type: oracle, url: 'x', server_id: 1}\n    sinks: [{type: kafka, path: x}]\n",
			want: []string{
				`s.yaml:3: pipelines[0].source.type: "oracle" is not one of mysql, postgres, mongodb`,
				`s.yaml:4: pipelines[0].sinks[0].type: "kafka" is not one of file, postgres, mysql, mongodb`,
			},
		},
		{
			name: "table patterns",
			doc:  strings.Replace(minimal, "server_id: 1", "server_id: 1\n      tables: [shop, '', .t]\n      exclude_tables:\n        - 'db.'\n        - [x]", 1),
			want: []string{
				`s.yaml:8: pipelines[0].source.tables[0]: "shop" has no dot: expected db.table, such as "shop.*"`,
				`s.yaml:8: pipelines[0].source.tables[1]: empty pattern: expected db.table, such as shop.*`,
				`s.yaml:8: pipelines[0].source.tables[2]: ".t" has no database part: expected db.table, such as "*.t"`,
				`s.yaml:10: pipelines[0].source.exclude_tables[0]: "db." has no table part: expected db.table, such as "db.*"`,
				`s.yaml:11: pipelines[0].source.exclude_tables[1]: expected a single value, got a list`,
			},
		},
		{
			name: "bad log",
			doc:  "log:\n  level: loud\n  format: xml\n" + minimal,
			want: []string{
				`s.yaml:2: log.level: "loud" is not one of debug, info, warn, error`,
				`s.yaml:3: log.format: "xml" is not one of text, json`,
			},
		},
		{
			name: "keys must be names",
			doc:  "? [a]\n: b\n" + minimal,
			want: []string{"s.yaml:1: keys must be plain names, got a list"},
		},
		{
			name: "problems sorted by line across sections",
			doc:  "pipelines:\n  - name: a\n    sinks: [{type: file, pth: x}]\n    source: {type: mysql, url: 'mysql://u@h', server_id: 0}\nlog: {level: x}\n",
			want: []string{
				"s.yaml:3: pipelines[0].sinks[0].path: required",
				`s.yaml:3: pipelines[0].sinks[0]: unknown key "pth" (did you mean "path"?)`,
				`s.yaml:4: pipelines[0].source.server_id: "0" is out of range: expected 1..4294967295`,
				`s.yaml:5: log.level: "x" is not one of debug, info, warn, error`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "s.yaml", noEnv)
			if diff := cmp.Diff(tt.want, errorLines(t, err)); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("error %T is not a *config.Error: %v", err, err)
	}
	if len(cerr.Problems) == 0 {
		t.Fatalf("*Error without problems")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(cerr.Problems) {
		t.Fatalf("Error() has %d lines for %d problems", len(lines), len(cerr.Problems))
	}
	return lines
}

func TestMySQLURLProblems(t *testing.T) {
	const password = "Pa55w0rd"
	tests := []struct {
		url  string
		want string // "" for a valid URL
	}{
		{"mysql://repl:" + password + "@127.0.0.1:3306", ""},
		{"mariadb://repl@[::1]:3307/?tls=true&charset=utf8mb4", ""},
		{"mysql://repl:" + password + "@h?tls=preferred", ""},
		{"mysql://repl:" + password + "@h:99999", "port must be 1..65535"},
		{"mysql://repl:" + password + "@h:0", "port must be 1..65535"},
		{"mysql://repl:" + password + "@h:", "port must be 1..65535"},
		{"mysql://repl:" + password + "@h:port", "port must be 1..65535"},
		{"mysql://repl:" + password, "has an invalid port (is the host missing? expected mysql://user:password@host:port)"},
		{"mysql://:" + password + "@h", "user required"},
		{"mysql://h", "user required"},
		{"mysql://repl:" + password + "@", "host required"},
		{"postgres://repl:" + password + "@h", "scheme must be mysql or mariadb"},
		{"repl:" + password + "@h", "scheme must be mysql or mariadb; expected mysql://user:password@host:port"},
		{"//repl:" + password + "@h", "has no scheme: expected mysql://user:password@host:port"},
		{"mysql:repl:" + password, "expected mysql://user:password@host:port"},
		{"mysql://repl:" + password + "@h/shop", "must not have a path (choose databases with tables)"},
		{"mysql://repl:" + password + "@h#x", "must not have a #fragment (percent-encode # in a password as %23)"},
		{"mysql://repl:" + password + "%zz@h", "has an invalid %-escape (percent-encode special characters of the user or password as %XX)"},
		{"mysql://repl:" + password + "@h\x7f", "contains a control character"},
		{"mysql://repl:" + password + "@h?tls=maybe", "query parameter tls must be one of true, false, skip-verify, preferred"},
		{"mysql://repl:" + password + "@h?tls=true&tls=false", "query parameter tls given more than once"},
		{"mysql://repl:" + password + "@h?charset=utf-8", "query parameter charset must be a character set name such as utf8mb4"},
		{"mysql://repl:" + password + "@h?ssl-mode=required", `unknown query parameter "ssl-mode" (allowed: charset, tls)`},
		{"mysql://repl:" + password + "@h?a=%zz", "has a malformed query string"},
		{"mysql://repl:" + password + "@[::1", "has a malformed [IPv6] host"},
		{"mysql://repl:" + password + "@h^st", "has an invalid character in its host"},
		// An unescaped '?' in a password moves its tail into the query; the
		// parameter name must then not be quoted.
		{"mysql://repl:12?" + password + "@h", "user required; unknown query parameter (allowed: charset, tls)"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got := strings.Join(mysqlURLProblems(tt.url), "; ")
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if strings.Contains(got, password) {
				t.Errorf("problem %q contains the password", got)
			}
		})
	}
}

func TestURLProblemsInConfig(t *testing.T) {
	doc := strings.Replace(minimal, "url: mysql://repl@127.0.0.1", "url: mysql://repl:pw@h:0?x=1", 1)
	want := []string{
		"s.yaml:6: pipelines[0].source.url: port must be 1..65535",
		`s.yaml:6: pipelines[0].source.url: unknown query parameter "x" (allowed: charset, tls)`,
	}
	_, err := Parse([]byte(doc), "s.yaml", noEnv)
	if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEnvExpansion(t *testing.T) {
	vars := map[string]string{
		"PW":     "hunter2",
		"HOST":   "db.internal",
		"EMPTY":  "",
		"NESTED": "${PW}",
		"ID":     "42",
		"SNAP":   "sometimes",
	}
	tests := []struct {
		name     string
		url      string // the url value as written; "" for mysql://u@h
		path     string // the sink path as written; "" for x
		extra    string // more source keys
		wantURL  string
		wantPath string
		wantErr  []string
	}{
		{name: "password and host", url: "mysql://repl:${PW}@${HOST}:3306", wantURL: "mysql://repl:hunter2@db.internal:3306"},
		{name: "literal ${ via $${", path: "a$${b}", wantPath: "a${b}"},
		{name: "dollar without brace stays", url: "mysql://repl:a$b$$c@h", path: "$a$$b", wantURL: "mysql://repl:a$b$$c@h", wantPath: "$a$$b"},
		{name: "expanded text is not expanded again", path: "${NESTED}", wantPath: "${PW}"},
		{name: "empty variable", url: "mysql://repl:${EMPTY}@h", wantURL: "mysql://repl:@h"},
		{name: "numbers from the environment", extra: "      server_id: ${ID}\n"},
		{
			name: "unset variables named, with the key path", url: "mysql://${USER_X}:${PW_X}@h",
			wantErr: []string{
				"s.yaml:6: pipelines[0].source.url: environment variable USER_X is not set",
				"s.yaml:6: pipelines[0].source.url: environment variable PW_X is not set",
			},
		},
		{
			name: "unterminated reference", url: "mysql://u:${PW@h",
			wantErr: []string{"s.yaml:6: pipelines[0].source.url: unterminated ${ (write $${ for a literal ${)"},
		},
		{
			name: "invalid variable name", url: "mysql://u:${P-W}@h",
			wantErr: []string{`s.yaml:6: pipelines[0].source.url: "${P-W}" is not a valid variable reference: expected ${NAME} with NAME made of letters, digits and _ (write $${ for a literal ${)`},
		},
		{
			name: "a bad expanded value is shown as written", extra: "      snapshot: ${SNAP}\n",
			wantErr: []string{`s.yaml:7: pipelines[0].source.snapshot: "${SNAP}" (after expansion) is not one of never, initial, initial_only, when_needed`},
		},
		{
			name: "empty after expansion", extra: "      topic_prefix: ${EMPTY}\n",
			wantErr: []string{`s.yaml:7: pipelines[0].source.topic_prefix: must not be empty ("${EMPTY}" expands to an empty string)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, path := orDefault(tt.url, "mysql://u@h"), orDefault(tt.path, "x")
			serverID := "      server_id: 1\n"
			if strings.Contains(tt.extra, "server_id") {
				serverID = ""
			}
			doc := "pipelines:\n  - name: shop\n    source:\n      type: mysql\n" + serverID + "      url: '" + url + "'\n" + tt.extra +
				"    sinks: [{type: file, path: '" + path + "'}]\n"
			cfg, err := Parse([]byte(doc), "s.yaml", env(vars))
			if diff := cmp.Diff(tt.wantErr, errorLines(t, err)); diff != "" {
				t.Fatalf("problems mismatch (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			if got, want := cfg.Pipelines[0].Source.URL, orDefault(tt.wantURL, url); got != want {
				t.Errorf("URL = %q, want %q", got, want)
			}
			if got, want := cfg.Pipelines[0].Sinks[0].Path, orDefault(tt.wantPath, path); got != want {
				t.Errorf("path = %q, want %q", got, want)
			}
			if tt.extra != "" && strings.Contains(tt.extra, "server_id") && cfg.Pipelines[0].Source.ServerID != 42 {
				t.Errorf("server_id = %d, want 42", cfg.Pipelines[0].Source.ServerID)
			}
		})
	}
}

func TestEnvExpansionNeverTouchesKeys(t *testing.T) {
	doc := "${KEY}: x\n" + minimal
	_, err := Parse([]byte(doc), "s.yaml", env(map[string]string{"KEY": "state_dir"}))
	want := []string{`s.yaml:1: unknown key "${KEY}"`}
	if diff := cmp.Diff(want, errorLines(t, err)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEnvExpansionEverywhere(t *testing.T) {
	doc := `
state_dir: ${DIR}
log: {level: "${LEVEL}"}
pipelines:
  - name: ${NAME}
    source:
      type: ${TYPE}
      url: mysql://u@h
      server_id: 1
      tables: ["${DB}.*"]
    sinks: [{type: file, path: "${DIR}/out.jsonl", schemas: "${SCHEMAS}"}]
    batch: {max_bytes: "${SIZE}", max_wait: "${WAIT}"}
`
	vars := map[string]string{"DIR": "/srv", "LEVEL": "debug", "NAME": "crm", "TYPE": "mysql", "DB": "crm", "SCHEMAS": "false", "SIZE": "64KiB", "WAIT": "1s"}
	cfg, err := Parse([]byte(doc), "/etc/s.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipelines[0]
	got := []any{cfg.StateDir, cfg.Log.Level, p.Name, p.Source.Type, p.Source.Tables[0], p.Sinks[0].Path, p.Sinks[0].Schemas, p.Batch.MaxBytes, p.Batch.MaxWait}
	want := []any{"/srv", slog.LevelDebug, "crm", "mysql", "crm.*", "/srv/out.jsonl", false, 64 << 10, time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRelativePaths(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		stateDir  string // "" leaves the key out
		sinkPath  string
		wantState string
		wantSink  string
	}{
		{"defaults beside the file", "/etc/siphon/siphon.yaml", "", "events.jsonl", "/etc/siphon/siphon-state", "/etc/siphon/events.jsonl"},
		{"relative with dots", "/etc/siphon/siphon.yaml", "../state", "./out/../e.jsonl", "/etc/state", "/etc/siphon/e.jsonl"},
		{"absolute stays", "/etc/siphon/siphon.yaml", "/var/lib/s", "/tmp/e.jsonl", "/var/lib/s", "/tmp/e.jsonl"},
		{"stdout stays", "/etc/siphon/siphon.yaml", "", "-", "/etc/siphon/siphon-state", "-"},
		{"file in the working directory", "siphon.yaml", "st", "e.jsonl", "st", "e.jsonl"},
		{"relative file", "conf/siphon.yaml", "", "e.jsonl", "conf/siphon-state", "conf/e.jsonl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(minimal, "path: out.jsonl", "path: '"+tt.sinkPath+"'", 1)
			if tt.stateDir != "" {
				doc = "state_dir: " + tt.stateDir + "\n" + doc
			}
			cfg, err := Parse([]byte(doc), tt.file, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.StateDir != tt.wantState || cfg.Pipelines[0].Sinks[0].Path != tt.wantSink {
				t.Errorf("state_dir %q sink %q, want %q %q", cfg.StateDir, cfg.Pipelines[0].Sinks[0].Path, tt.wantState, tt.wantSink)
			}
		})
	}
}

func TestLoadResolvesAgainstTheFilesDirectory(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "siphon.yaml")
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != path || cfg.StateDir != filepath.Join(dir, "siphon-state") || cfg.Pipelines[0].Sinks[0].Path != filepath.Join(dir, "out.jsonl") {
		t.Errorf("got path %q state %q sink %q", cfg.Path, cfg.StateDir, cfg.Pipelines[0].Sinks[0].Path)
	}
}

func TestLoadUnreadableFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.yaml")
	_, err := Load(path, noEnv)
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error does not wrap fs.ErrNotExist: %v", err)
	}
	if want := path + ": cannot read: no such file or directory"; err.Error() != want {
		t.Errorf("got %q, want %q", err.Error(), want)
	}
	_, err = Load(t.TempDir(), noEnv) // a directory
	if !errors.As(err, &cerr) || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("reading a directory: got %v", err)
	}
}

// TestBadConfigGolden shows the full error text for one file with one of
// each kind of problem.
func TestBadConfigGolden(t *testing.T) {
	_, err := Load("testdata/bad.yaml", noEnv)
	if err == nil {
		t.Fatal("bad.yaml loaded")
	}
	got := err.Error() + "\n"
	golden := "testdata/bad.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if strings.Contains(got, "hunter2") {
		t.Error("the password of bad.yaml appears in the error")
	}
}

func TestPasswordNeverInErrors(t *testing.T) {
	const pw = "T0pS3cret"
	urls := []string{
		"mysql://repl:" + pw + "@h:99999",
		"mysql://repl:" + pw + "@h:abc",
		"mysql://repl:" + pw,
		"mysql://repl:" + pw + "@",
		"mysql://repl:" + pw + "%zz@h",
		"mysql://repl:" + pw + "@h/db?x=y#f",
		"mysql://repl:ab?" + pw + "@h",
		"mysql://repl:ab/" + pw + "@h",
		"mysql://repl:ab#" + pw + "@h",
		"mysql://repl:ab" + pw + "@h@x",
		"postgres://repl:" + pw + "@h:1",
		"mysql://repl:" + pw + "@h\n",
		"mysql://repl:" + pw + "@[::1",
		"repl:" + pw + "@h",
		"mysql://repl:${PW}@h:0",
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			// snapshot is bad too, so that even a URL that parses fails.
			doc := fmt.Sprintf("pipelines:\n  - name: a\n    source: {type: mysql, url: %q, server_id: 1, snapshot: bad}\n    sinks: [{type: file, path: x}]\n", u)
			_, err := Parse([]byte(doc), "s.yaml", env(map[string]string{"PW": pw}))
			if err == nil {
				t.Fatal("expected an error")
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
	// A URL with a password written where a plain value was expected.
	doc := strings.Replace(minimal, "server_id: 1", "server_id: 1\n      topic_prefix: mysql://repl:"+pw+"@h", 1)
	_, err := Parse([]byte(doc), "s.yaml", noEnv)
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Errorf("got %v, want an error without the password", err)
	}
	// An environment value never appears in an error, whatever the key.
	doc = strings.Replace(minimal, "server_id: 1", "server_id: 1\n      snapshot: ${PW}", 1)
	_, err = Parse([]byte(doc), "s.yaml", env(map[string]string{"PW": pw}))
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Errorf("got %v, want an error without the password", err)
	}
}

func TestSourceNeverPrintsPassword(t *testing.T) {
	const pw = "hunter2"
	doc := strings.Replace(minimal, "mysql://repl@127.0.0.1", "mysql://repl:"+pw+"@127.0.0.1", 1)
	cfg, err := Parse([]byte(doc), "s.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	src := cfg.Pipelines[0].Source
	if got, want := src.String(), "mysql source mysql://repl:xxxxx@127.0.0.1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("start", "source", src, "pipeline", cfg.Pipelines[0], "config", cfg)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("start", "source", src, "pipeline", cfg.Pipelines[0], "config", cfg)
	jsonOut, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"fmt %v":      fmt.Sprintf("%v", cfg.Pipelines),
		"fmt %+v":     fmt.Sprintf("%+v", *cfg),
		"slog text":   text.String(),
		"slog json":   js.String(),
		"json":        string(jsonOut),
		"fmt Sprint":  fmt.Sprint(src),
		"LogValue":    src.LogValue().String(),
		"MySQLURL %v": fmt.Sprint(mustMySQLURL(t, src.URL)),
	}
	for name, out := range outputs {
		if strings.Contains(out, pw) {
			t.Errorf("%s shows the password: %s", name, out)
		}
		if !strings.Contains(out, "xxxxx") {
			t.Errorf("%s does not show the redacted URL: %s", name, out)
		}
	}
}

func mustMySQLURL(t *testing.T, raw string) MySQLURL {
	t.Helper()
	u, err := ParseMySQLURL(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestConfigPipeline(t *testing.T) {
	doc := minimal + "  - name: crm\n    source: {type: mysql, url: 'mysql://u@h', server_id: 2}\n    sinks: [{type: file, path: y}]\n"
	cfg, err := Parse([]byte(doc), "s.yaml", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := cfg.Pipeline("crm")
	if !ok || p.Name != "crm" || p != &cfg.Pipelines[1] {
		t.Errorf("Pipeline(crm) = %v, %v", p, ok)
	}
	if p, ok := cfg.Pipeline("nope"); ok || p != nil {
		t.Errorf("Pipeline(nope) = %v, %v", p, ok)
	}
}

func TestErrorFormat(t *testing.T) {
	e := &Error{File: "f.yaml", Problems: []Problem{
		{Message: "cannot read: boom"},
		{Line: 3, Message: "invalid YAML: x"},
		{Path: "a.b", Message: "required"},
		{Path: "a.c", Line: 7, Message: "bad"},
	}}
	want := "f.yaml: cannot read: boom\nf.yaml:3: invalid YAML: x\nf.yaml: a.b: required\nf.yaml:7: a.c: bad"
	if got := e.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
