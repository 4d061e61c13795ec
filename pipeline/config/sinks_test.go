package config

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const dbSinkSource = `pipelines:
  - name: shop
    source: {type: mysql, url: 'mysql://repl@127.0.0.1', server_id: 1}
    sinks:
`

func TestDatabaseSinks(t *testing.T) {
	tests := []struct {
		name string
		sink string
		want Sink
	}{
		{
			name: "postgres defaults",
			sink: "      - {type: postgres, url: 'postgres://u:pw@db:5432/app'}\n",
			want: Sink{Type: "postgres", Schemas: true, URL: "postgres://u:pw@db:5432/app", Schema: "public", Consistency: "transaction",
				Workers: 1, CheckpointTable: "siphon_checkpoints", SchemaChanges: "evolve", CopyMerge: time.Second},
		},
		{
			name: "postgres copy_merge off",
			sink: "      - {type: postgres, url: 'postgres://u:pw@db:5432/app', copy_merge: 0s}\n",
			want: Sink{Type: "postgres", Schemas: true, URL: "postgres://u:pw@db:5432/app", Schema: "public", Consistency: "transaction",
				Workers: 1, CheckpointTable: "siphon_checkpoints", SchemaChanges: "evolve"},
		},
		{
			name: "mysql with every key",
			sink: `      - type: mysql
        url: mysql://u:pw@db:3306
        database: replica
        tables: {"shop.orders": "analytics.orders", "shop.items": items}
        consistency: key
        workers: 8
        checkpoint_table: meta.cp
        schema_changes: strict
        dead_letter: {path: /var/lib/siphon/dead.jsonl}
        max_transaction_rows: 100000
`,
			want: Sink{Type: "mysql", Schemas: true, URL: "mysql://u:pw@db:3306", Database: "replica",
				Tables:      map[string]string{"shop.orders": "analytics.orders", "shop.items": "items"},
				Consistency: "key", Workers: 8, CheckpointTable: "meta.cp", SchemaChanges: "strict",
				DeadLetter: DeadLetter{Path: "/var/lib/siphon/dead.jsonl"}, MaxTransactionRows: 100000},
		},
		{
			name: "key consistency default workers",
			sink: "      - {type: postgres, url: 'postgres://u@db/app', consistency: key, schema: mirror, truncate: false}\n",
			want: Sink{Type: "postgres", Schemas: true, URL: "postgres://u@db/app", Schema: "mirror", Consistency: "key",
				Workers: 4, CheckpointTable: "siphon_checkpoints", SchemaChanges: "evolve", CopyMerge: time.Second},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(dbSinkSource+tt.sink), "/etc/siphon/siphon.yaml", noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, cfg.Pipelines[0].Sinks[0]); diff != "" {
				t.Errorf("sink mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDatabaseSinkProblems(t *testing.T) {
	tests := []struct {
		name string
		sink string
		want []string
	}{
		{
			name: "required keys",
			sink: "      - {type: mysql}\n      - {type: postgres}\n",
			want: []string{
				"s.yaml:5: pipelines[0].sinks[0].url: required",
				"s.yaml:5: pipelines[0].sinks[0].database: required",
				"s.yaml:6: pipelines[0].sinks[1].url: required",
			},
		},
		{
			name: "urls never show the password",
			sink: "      - {type: postgres, url: 'mysql://u:hunter2@h/db'}\n      - {type: mysql, url: 'mysql://u:hunter2@h/x', database: d}\n      - {type: postgres, url: 'postgres://u:hunter2@h'}\n",
			want: []string{
				"s.yaml:5: pipelines[0].sinks[0].url: scheme must be postgres or postgresql",
				"s.yaml:6: pipelines[0].sinks[1].url: must not have a path (choose databases with tables)",
				"s.yaml:7: pipelines[0].sinks[2].url: database required: postgres://user:password@host:port/database",
			},
		},
		{
			name: "bad values",
			sink: `      - type: postgres
        url: postgres://u@h/db
        consistency: eventual
        workers: 0
        schema_changes: loose
        checkpoint_table: a.b.c
        schema: "my schema"
        tables: {"shop.*": x, "orders": y, "shop.ok": "a.b.c", "shop.list": [1]}
        dead_letter: {file: x}
        max_transaction_rows: -1
`,
			want: []string{
				`s.yaml:7: pipelines[0].sinks[0].consistency: "eventual" is not one of transaction, key`,
				`s.yaml:8: pipelines[0].sinks[0].workers: "0" is out of range: expected 1..64`,
				`s.yaml:9: pipelines[0].sinks[0].schema_changes: "loose" is not one of evolve, strict, ignore`,
				`s.yaml:10: pipelines[0].sinks[0].checkpoint_table: "a.b.c" is not a table name: expected table or namespace.table`,
				`s.yaml:11: pipelines[0].sinks[0].schema: "my schema" is not a valid schema name: expected 1..64 letters, digits, _, $ or -`,
				`s.yaml:12: pipelines[0].sinks[0].tables.shop.*: "shop.*" is not a source table: expected db.table (or schema.table) without wildcards`,
				`s.yaml:12: pipelines[0].sinks[0].tables.orders: "orders" is not a source table: expected db.table (or schema.table) without wildcards`,
				`s.yaml:12: pipelines[0].sinks[0].tables.shop.ok: "a.b.c" is not a target table: expected table or namespace.table`,
				`s.yaml:12: pipelines[0].sinks[0].tables.shop.list: expected a single value, got a list`,
				"s.yaml:13: pipelines[0].sinks[0].dead_letter.path: required",
				`s.yaml:13: pipelines[0].sinks[0].dead_letter: unknown key "file"`,
				`s.yaml:14: pipelines[0].sinks[0].max_transaction_rows: "-1" is not a whole number: expected 1..100000000`,
			},
		},
		{
			name: "consistency rules",
			sink: "      - {type: postgres, url: 'postgres://u@h/db', workers: 3}\n      - {type: mysql, url: 'mysql://u@h', database: d, consistency: key, truncate: true}\n",
			want: []string{
				"s.yaml:5: pipelines[0].sinks[0].workers: workers needs consistency: key (consistency: transaction applies in source order on one connection)",
				"s.yaml:6: pipelines[0].sinks[1].truncate: truncate: true needs consistency: transaction (a truncate must be ordered against every key)",
			},
		},
		{
			name: "file keys on a database sink and back",
			sink: "      - {type: postgres, url: 'postgres://u@h/db', path: x}\n      - {type: file, path: y, database: d}\n",
			want: []string{
				`s.yaml:5: pipelines[0].sinks[0]: key "path" is not allowed for sink type postgres (only for file)`,
				`s.yaml:6: pipelines[0].sinks[1]: key "database" is not allowed for sink type file (only for mysql, mongodb)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(dbSinkSource+tt.sink), "s.yaml", noEnv)
			got := errorLines(t, err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems mismatch (-want +got):\n%s", diff)
			}
			for _, line := range got {
				if strings.Contains(line, "hunter2") {
					t.Errorf("a problem shows the password: %s", line)
				}
			}
		})
	}
}
