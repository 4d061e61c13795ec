package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// pgTypesDDL is a PostgreSQL source table of the common built-in types
// (the full Debezium matrix is TestPostgresAllTypesGolden's).
const pgTypesDDL = `CREATE TABLE pg_types (
  id integer PRIMARY KEY,
  c_bool boolean, c_int2 smallint, c_int4 integer, c_int8 bigint, c_float4 real, c_float8 double precision,
  c_numeric numeric(10,2), c_numeric_var numeric,
  c_varchar varchar(20), c_char char(5), c_text text, c_json json, c_jsonb jsonb, c_uuid uuid, c_mood mood, c_inet inet,
  c_date date, c_time time, c_time3 time(3), c_timestamp timestamp, c_timestamp3 timestamp(3), c_timestamptz timestamptz,
  c_interval interval, c_bytea bytea, c_bit7 bit(7), c_varbit bit varying(16),
  c_int4_arr integer[], c_text_arr text[]
)`

// pgTypesRows inserts rows from..to of generated values (and NULLs in
// every tenth row).
func pgTypesRows(from, to int) string {
	return fmt.Sprintf(`INSERT INTO pg_types SELECT g,
  g %% 2 = 0, (g * 7 %% 65536 - 32768)::int2, g %% 1000 * 1000003 - 500000000, -g::int8 * 1000000007, g * 1.25, g / 3.0::float8,
  round((g * 12.345)::numeric, 2), (g::numeric / 7)::numeric(30,20),
  'v' || g, chr(65 + g %% 26), E'text\n' || g || ' "q" \ ☃', ('{"n": ' || g || ', "a": [1, null]}')::json, ('{"k": "v' || g || '"}')::jsonb,
  md5(g::text)::uuid, (ARRAY['sad', 'ok', 'happy'])[1 + g %% 3]::mood, ('10.0.' || g %% 256 || '.1/24')::inet,
  date '2000-01-01' + g * 37, time '00:00' + g * interval '1 minute 1.5 second', time '12:00:00.123' + g * interval '1 second',
  timestamp '2001-02-03 04:05:06.789012' + g * interval '1 day 1 hour 1.000001 second', timestamp '1969-12-31 23:59:59.999' - g * interval '1 hour',
  timestamptz '2016-11-04 13:51:30.123456+02' + g * interval '1 hour',
  g * interval '1 hour 1.5 second', decode(lpad(to_hex(g), 8, '0'), 'hex'), (g %% 128)::bit(7), (g %% 1024)::bit(10)::varbit,
  ARRAY[g, NULL, -g], ARRAY['a' || g, NULL, 'b c']
FROM generate_series(%d, %d) g;
UPDATE pg_types SET c_bool = NULL, c_int4 = NULL, c_numeric_var = NULL, c_text = NULL, c_jsonb = NULL, c_timestamptz = NULL,
  c_bytea = NULL, c_varbit = NULL, c_int4_arr = NULL WHERE id %% 10 = 0 AND id BETWEEN %d AND %d`, from, to, from, to)
}

// pgTypesColumn reads one pg_types column: as text on a PostgreSQL side,
// and on a MariaDB target next to the PostgreSQL expression that gives
// the same text under the documented mapping.
type pgTypesColumn struct {
	name     string
	pgSource string // on the source when compared with MariaDB
	mariadb  string
	float    float64
	number   bool // exact decimal: compare without trailing zeros
	bits     bool
}

var pgTypesCompare = []pgTypesColumn{
	{name: "id"}, {name: "c_bool", pgSource: "c_bool::int"}, {name: "c_int2"}, {name: "c_int4"}, {name: "c_int8"},
	{name: "c_float4", float: 1e-6}, {name: "c_float8", float: 1e-15},
	{name: "c_numeric", number: true}, {name: "c_numeric_var", number: true},
	{name: "c_varchar"}, {name: "c_char"}, {name: "c_text"}, {name: "c_json"}, {name: "c_jsonb"}, {name: "c_uuid"}, {name: "c_mood"}, {name: "c_inet"},
	{name: "c_date"}, {name: "c_time"}, {name: "c_time3"}, {name: "c_timestamp"}, {name: "c_timestamp3"},
	{name: "c_timestamptz", pgSource: "(c_timestamptz AT TIME ZONE 'UTC')::text"},
	{name: "c_interval", pgSource: "(extract(epoch FROM c_interval) * 1000000)::bigint"},
	{name: "c_bytea", pgSource: "encode(c_bytea, 'hex')", mariadb: "HEX(c_bytea)"},
	{name: "c_bit7", pgSource: "c_bit7::text", mariadb: "BIN(c_bit7)", bits: true},
	{name: "c_varbit", pgSource: "c_varbit::text", mariadb: "BIN(c_varbit)", bits: true},
	{name: "c_int4_arr", pgSource: "array_to_json(c_int4_arr)::text"}, {name: "c_text_arr", pgSource: "array_to_json(c_text_arr)::text"},
}

// pgTypesSelect reads pg_types: side is "pg" (a PostgreSQL table, as
// text), "pg-for-mariadb" (the source, in the MariaDB target's terms) or
// "mariadb".
func pgTypesSelect(table, side string) string {
	exprs := make([]string, len(pgTypesCompare))
	for i, c := range pgTypesCompare {
		switch {
		case side == "pg":
			exprs[i] = c.name + "::text"
		case side == "pg-for-mariadb" && c.pgSource != "":
			exprs[i] = c.pgSource
		case side == "mariadb" && c.mariadb != "":
			exprs[i] = c.mariadb
		default:
			exprs[i] = c.name
		}
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM " + table
}

func comparePGTypes(src, dst [][]string) string {
	names := make([]string, len(pgTypesCompare))
	for i, c := range pgTypesCompare {
		names[i] = c.name
	}
	norm := func(col int, cell string) string {
		c := pgTypesCompare[col]
		switch {
		case cell == "NULL":
			return cell
		case c.bits:
			return trimLeadingZeros(cell)
		case c.number && strings.Contains(cell, "."):
			return strings.TrimSuffix(strings.TrimRight(cell, "0"), ".")
		}
		return lowerHex(normalizeCell(cell))
	}
	eq := func(col int, a, b string) bool {
		if tol := pgTypesCompare[col].float; tol > 0 {
			return floatsEqual(a, b, tol)
		}
		return false
	}
	return diffRows(names, src, dst, norm, eq)
}

// newPGSinkEnv writes a siphon.yaml with one postgres pipeline "test"
// reading every public table of db into a database sink.
func newPGSinkEnv(t *testing.T, pg *harness.Postgres, db, sink string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "siphon.yaml"), output: filepath.Join(dir, "dead.jsonl")}
	cfg := fmt.Sprintf(`state_dir: ./state
log:
  level: debug
pipelines:
  - name: test
    source:
      type: postgres
      url: %s
      tables: ["public.*"]
      snapshot: initial
      snapshot_chunk_rows: 300
      topic_prefix: it
    batch:
      max_events: 1000
    sinks:
      - %s
`, pg.SuperuserURL(db), strings.TrimSpace(sink))
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// pgTypesWriter changes pg_types in small transactions until ctx ends.
func pgTypesWriter(ctx context.Context, pg *harness.Postgres, db string) error {
	for n := 0; ctx.Err() == nil; n++ {
		id := 1 + n*7%300
		stmts := []string{
			fmt.Sprintf("UPDATE pg_types SET c_varchar = 'w%d', c_int8 = c_int8 + 1, c_jsonb = '[%d]', c_numeric = c_numeric + 1, c_text_arr = '{x,y}' WHERE id = %d", n, n, id),
			fmt.Sprintf("DELETE FROM pg_types WHERE id = %d", 1+n*13%300),
			pgTypesRows(1000+n, 1000+n),
		}
		if err := pg.Exec(ctx, db, "BEGIN; "+strings.Join(stmts, "; ")+"; COMMIT"); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	return nil
}

// TestSinkFromPostgres copies a table of PostgreSQL types to PostgreSQL
// and to MariaDB: a snapshot while the table is written to, then the
// stream; each time both sides are read row by row and compared after the
// documented type mapping.
func TestSinkFromPostgres(t *testing.T) {
	targets := []struct {
		name  string
		setup func(t *testing.T, pg *harness.Postgres) (sink string, read func() [][]string, srcSide string)
	}{
		{"postgres", func(t *testing.T, pg *harness.Postgres) (string, func() [][]string, string) {
			db := pgNewDatabase(t, pg)
			pgMustExec(t, pg, db, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
			return pgSinkYAML(pg, db, ""), func() [][]string {
				rows, err := pg.Query(testContext(t, time.Minute), db, pgTypesSelect("public.pg_types", "pg"))
				if err != nil && strings.Contains(err.Error(), "does not exist") {
					return nil
				}
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}, "pg"
		}},
		{"mariadb", func(t *testing.T, _ *harness.Postgres) (string, func() [][]string, string) {
			db := newDatabase(t, shared)
			return mysqlSinkYAML(shared, db, ""), func() [][]string {
				rows, err := shared.Query(testContext(t, time.Minute), pgTypesSelect(db+".pg_types", "mariadb"))
				if err != nil && strings.Contains(err.Error(), "doesn't exist") {
					return nil
				}
				if err != nil {
					t.Fatal(err)
				}
				return rows
			}, "pg-for-mariadb"
		}},
	}
	for _, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			pg := newPostgres(t)
			src := pgNewDatabase(t, pg)
			pgMustExec(t, pg, src, "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", pgTypesDDL, pgTypesRows(1, 300),
				"INSERT INTO pg_types (id) VALUES (0)")
			sink, read, side := target.setup(t, pg)
			e := newPGSinkEnv(t, pg, src, sink)
			readSource := func() [][]string {
				return pgMustQuery(t, pg, src, pgTypesSelect("public.pg_types", side))
			}
			p := e.start()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var werr error
			wg.Go(func() { werr = pgTypesWriter(ctx, pg, src) })
			waitLog(t, p, "snapshot finished", time.Minute)
			cancel()
			wg.Wait()
			if werr != nil {
				t.Fatalf("writer: %v", werr)
			}
			same := func() (bool, string) {
				d := comparePGTypes(readSource(), read())
				return d == "", d
			}
			eventually(t, p, time.Minute, "the target to match after the snapshot", same)

			// Then the stream alone, after a restart, with a large insert
			// (a run written by COPY on PostgreSQL: no key of it exists).
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			p = e.start()
			pgMustExec(t, pg, src, "BEGIN; "+pgTypesRows(5000, 5300)+"; UPDATE pg_types SET id = 6000 WHERE id = 5000; "+
				"UPDATE pg_types SET c_float8 = -0.5, c_text = '', c_text_arr = '{}', c_bytea = '' WHERE id = 5001; DELETE FROM pg_types WHERE id = 5002; COMMIT")
			eventually(t, p, time.Minute, "the target to match after streaming", same)
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			if rows := readSource(); len(rows) < 250 {
				t.Fatalf("only %d source rows: the comparison covered too little", len(rows))
			}
		})
	}
}
