package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// pgVolatile are the PostgreSQL source fields that differ from run to run.
var pgVolatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"lsn":\d+`), `"lsn":0`},
	{regexp.MustCompile(`"txId":\d+`), `"txId":0`},
	{regexp.MustCompile(`"sequence":"(\\.|[^"\\])*"`), `"sequence":"<sequence>"`},
}

func pgGolden(t *testing.T, name string, rs []record) {
	t.Helper()
	out := make([]record, len(rs))
	for i, r := range rs {
		for _, v := range pgVolatile {
			r.raw = v.re.ReplaceAllString(r.raw, v.repl)
		}
		out[i] = r
	}
	checkGolden(t, name, out)
}

const pgAllTypesDDL = `CREATE TABLE all_types (
  id integer PRIMARY KEY,
  c_bool boolean, c_int2 smallint, c_int4 integer, c_int8 bigint, c_oid oid,
  c_float4 real, c_float8 double precision,
  c_numeric numeric(10,2), c_numeric_var numeric, c_numeric_neg numeric(5,-1), c_money money,
  c_varchar varchar(20), c_char char(5), c_text text, c_name name, c_qchar "char", c_citext citext,
  c_inet inet, c_cidr cidr, c_macaddr macaddr, c_macaddr8 macaddr8,
  c_int4range int4range, c_int8range int8range, c_numrange numrange, c_tsrange tsrange, c_tstzrange tstzrange, c_daterange daterange,
  c_json json, c_jsonb jsonb, c_xml xml, c_uuid uuid, c_tsvector tsvector, c_ltree ltree,
  c_mood mood, c_price price,
  c_date date, c_time time, c_time3 time(3), c_timetz timetz, c_timetz3 time(3) with time zone,
  c_timestamp timestamp, c_timestamp3 timestamp(3), c_timestamptz timestamptz, c_timestamptz0 timestamptz(0),
  c_interval interval, c_interval_ds interval day to second(2),
  c_bytea bytea, c_bit1 bit(1), c_bit7 bit(7), c_varbit bit varying,
  c_hstore hstore, c_point point,
  c_int4_arr integer[], c_int8_arr bigint[], c_text_arr text[], c_varchar_arr varchar(5)[], c_numeric_arr numeric(5,2)[],
  c_numeric_var_arr numeric[], c_float8_arr double precision[], c_bool_arr boolean[], c_date_arr date[],
  c_timestamptz_arr timestamptz[], c_time3_arr time(3)[], c_uuid_arr uuid[], c_jsonb_arr jsonb[], c_bytea_arr bytea[],
  c_mood_arr mood[], c_hstore_arr hstore[], c_int4range_arr int4range[], c_citext_arr citext[],
  c_serial serial, c_default_int integer NOT NULL DEFAULT 42, c_default_text varchar(10) DEFAULT 'x',
  c_default_ts timestamptz DEFAULT now(), c_default_uuid uuid DEFAULT gen_random_uuid(), c_default_date date DEFAULT '2020-01-01'
)`

const pgAllTypesValues = `(1, true, -32768, 2147483647, -9223372036854775808, 4294967295,
  'NaN', 1e-300,
  -12.34, 0.98765, 123, -92233720368547758.08,
  'héllo ☃', 'ab', 'text with "quotes" and \ backslash and <html>&', 'pg_class', 'x', 'MiXeD',
  '192.168.0.1/24', '10.0.0.0/8', '08:00:2B:01:02:03', '08:00:2b:01:02:03:04:05',
  '[1,10)', '(,5]', '(1.5,2.5]', '[2020-01-01 10:00,2020-01-02)', '[2020-01-01 00:00+02,)', '[2020-01-01,2020-02-01]',
  '{"b": 1,  "a": [1, 2]}', '{"b": 1,  "a": [1, 2]}', '<a>b</a>', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a fat cat', 'Top.Science.Astronomy',
  'happy', 1.5,
  '2000-02-29', '13:45:30.123456', '13:45:30.123', '24:00:00+05', '10:00:00.5-08:30',
  '2018-06-20 15:13:16.945104', '2018-06-20 15:13:16.945', '2016-11-04 13:51:30.123456+02', '2020-01-01 00:00:00+02',
  '1 year 2 mons 3 days 04:05:06.789', '1 day 00:00:01.25',
  '\x0102ff', B'1', B'1000000', B'101',
  '"key4"=>"val4", "key5"=>NULL', '(1.5,-2)',
  '{1,NULL,-3}', '{9223372036854775807}', ARRAY['a', 'b c', NULL, 'NULL', 'with "quote"', E'back\\slash', '', '{x}'], '{ab,NULL}', '{1.5,NULL}',
  '{1.500,-2}', '{NaN,1.5,-Infinity}', '{t,f}', '{1970-01-02,infinity}',
  ARRAY['2020-01-01 02:00:00+02'::timestamptz], '{12:00:00.5}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a":1}'::jsonb], ARRAY['\x0102'::bytea, NULL],
  '{sad,happy}', ARRAY['"key6"=>"val6"'::hstore], ARRAY['[1,2)'::int4range, 'empty'], '{A,b}',
  DEFAULT, DEFAULT, DEFAULT, '2020-01-01 00:00:00+00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', DEFAULT)`

const pgAllTypesEdge = `(3, false, 0, 0, 0, 0, '-Infinity', '-0', 0, 0, 0, 0, '', '', '', '', '', '', '::1', '::/0', '00:00:00:00:00:00', '00:00:00:00:00:00:00:00',
  'empty', 'empty', 'empty', 'empty', 'empty', 'empty', 'null', '[]', '', '00000000-0000-0000-0000-000000000000', '', '',
  'sad', 0,
  'infinity', '00:00:00', '24:00:00', '00:00:00+00', '24:00:00+00',
  'infinity', '-infinity', '-infinity', 'infinity', '-1 days +02:03:00', '-0.5 seconds',
  '', B'0', B'0000000', B'', '', '(0,0)',
  '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
  DEFAULT, DEFAULT, NULL, '1970-01-01 00:00:00+00', NULL, '4713-01-01 BC')`

// TestPostgresAllTypesGolden streams inserts, updates, deletes, a key
// change and a multi-statement transaction over a table of every type of
// SPEC §4.3 and compares the Debezium JSON with golden files, with and
// without schemas; a snapshot of the same rows gives the same schema and
// values as the stream's latest image of each row.
func TestPostgresAllTypesGolden(t *testing.T) {
	pg := newPostgres(t)
	const db = "golden_types"
	pgMustExec(t, pg, "", "CREATE DATABASE "+db)
	pgMustExec(t, pg, db, "CREATE EXTENSION hstore", "CREATE EXTENSION citext", "CREATE EXTENSION ltree",
		"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')", "CREATE DOMAIN price AS numeric(8,2)")
	for _, schemas := range []bool{true, false} {
		name := "pg_all_types_schemas_" + map[bool]string{true: "on", false: "off"}[schemas]
		t.Run(name, func(t *testing.T) {
			pgMustExec(t, pg, db, "DROP TABLE IF EXISTS all_types", "DROP TABLE IF EXISTS no_pk", "DROP PUBLICATION IF EXISTS siphon_test",
				"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'siphon_test'",
				pgAllTypesDDL, "CREATE TABLE no_pk (a integer, b text)", "ALTER TABLE no_pk REPLICA IDENTITY FULL")
			e := newPGEnv(t, pg, db, pgEnvOptions{schemas: schemas})
			p := e.start()
			waitPGStarted(t, p)
			pgMustExec(t, pg, db,
				"INSERT INTO all_types VALUES "+pgAllTypesValues,
				"INSERT INTO all_types (id, c_default_ts, c_default_uuid) VALUES (2, '2020-01-01 00:00:00+00', '11111111-2222-3333-4444-555555555555')",
				"INSERT INTO all_types VALUES "+pgAllTypesEdge,
				"UPDATE all_types SET c_varchar = 'changed', c_int4 = 7 WHERE id = 1",
				"UPDATE all_types SET id = 20 WHERE id = 2",
				"DELETE FROM all_types WHERE id = 3",
				"BEGIN",
				"INSERT INTO no_pk VALUES (1, 'one'), (2, 'two')",
				"UPDATE no_pk SET b = 'uno' WHERE a = 1",
				"DELETE FROM no_pk WHERE a = 2",
				"UPDATE all_types SET c_jsonb = '[]', c_text_arr = '{}' WHERE id = 1",
				"COMMIT",
			)
			// 3 inserts, update, key change (d, tombstone, c), delete +
			// tombstone, 2 inserts, update, delete + tombstone, update.
			e.waitRecords(p, time.Minute, atLeast(15))
			if code := p.stop(t); code != 0 {
				t.Fatalf("siphon exited %d after SIGTERM", code)
			}
			streamed := e.records()
			pgGolden(t, name, streamed)

			// A snapshot of the same rows carries the very same schema and
			// values as the stream's latest image of each row.
			snap := newPGEnv(t, pg, db, pgEnvOptions{schemas: schemas, tables: `["public.all_types"]`, snapshot: "initial_only",
				source: "      slot: snap_only\n      publication: snap_only\n"})
			sp := snap.start()
			if code := sp.wait(t, time.Minute); code != 0 {
				t.Fatalf("snapshot exit %d\n%s", code, sp.logs())
			}
			latest := map[string]string{}
			for _, r := range streamed {
				if strings.HasSuffix(r.Topic, ".all_types") && string(r.Value) != "null" {
					latest[string(r.Key)] = afterOf(t, r, schemas)
				}
			}
			reads := 0
			for _, r := range snap.records() {
				env, ok := r.payload(t)
				if !ok || env.Op != "r" {
					continue
				}
				reads++
				want, ok := latest[string(r.Key)]
				if !ok {
					t.Fatalf("snapshot read a row the stream never had: %s", r.Key)
				}
				if got := afterOf(t, r, schemas); got != want {
					t.Errorf("key %s: snapshot and stream differ\nsnapshot: %s\nstream:   %s", r.Key, got, want)
				}
			}
			if reads != 2 {
				t.Fatalf("snapshot read %d rows, want 2", reads)
			}
			pgMustExec(t, pg, db, "SELECT pg_drop_replication_slot('snap_only')", "DROP PUBLICATION snap_only")
		})
	}
}
