package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// allTypesDDL is a table with every MySQL/MariaDB column type of SPEC §4.2.
const allTypesDDL = `CREATE TABLE all_types (
  id INT NOT NULL PRIMARY KEY,
  c_bool BOOLEAN,
  c_tinyint TINYINT, c_tinyint_u TINYINT UNSIGNED,
  c_smallint SMALLINT, c_smallint_u SMALLINT UNSIGNED,
  c_mediumint MEDIUMINT, c_mediumint_u MEDIUMINT UNSIGNED,
  c_int INT, c_int_u INT UNSIGNED,
  c_bigint BIGINT, c_bigint_u BIGINT UNSIGNED,
  c_decimal DECIMAL(10,4), c_decimal_wide DECIMAL(65,30), c_numeric NUMERIC(5,0),
  c_float FLOAT, c_double DOUBLE, c_real REAL,
  c_bit1 BIT(1), c_bit10 BIT(10), c_bit64 BIT(64),
  c_year YEAR, c_date DATE, c_time TIME, c_time6 TIME(6),
  c_datetime DATETIME, c_datetime3 DATETIME(3), c_datetime6 DATETIME(6),
  c_timestamp TIMESTAMP NULL DEFAULT NULL, c_timestamp3 TIMESTAMP(3) NULL DEFAULT NULL, c_timestamp6 TIMESTAMP(6) NULL DEFAULT NULL,
  c_char CHAR(10), c_varchar VARCHAR(100), c_tinytext TINYTEXT, c_text TEXT, c_mediumtext MEDIUMTEXT, c_longtext LONGTEXT,
  c_latin1 VARCHAR(20) CHARACTER SET latin1,
  c_binary BINARY(4), c_varbinary VARBINARY(20), c_tinyblob TINYBLOB, c_blob BLOB, c_mediumblob MEDIUMBLOB, c_longblob LONGBLOB,
  c_json JSON,
  c_enum ENUM('small','medium','large'), c_set SET('a','b','c'),
  c_geometry GEOMETRY, c_point POINT, c_linestring LINESTRING, c_polygon POLYGON,
  c_virtual INT AS (c_int * 2) VIRTUAL, c_stored INT AS (c_int + 1) STORED,
  c_default_str VARCHAR(10) NOT NULL DEFAULT 'x', c_default_int INT DEFAULT 42,
  c_default_ts TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) CHARACTER SET utf8mb4`

const allTypesColumns = `id, c_bool, c_tinyint, c_tinyint_u, c_smallint, c_smallint_u, c_mediumint, c_mediumint_u, c_int, c_int_u,
  c_bigint, c_bigint_u, c_decimal, c_decimal_wide, c_numeric, c_float, c_double, c_real, c_bit1, c_bit10, c_bit64,
  c_year, c_date, c_time, c_time6, c_datetime, c_datetime3, c_datetime6, c_timestamp, c_timestamp3, c_timestamp6,
  c_char, c_varchar, c_tinytext, c_text, c_mediumtext, c_longtext, c_latin1,
  c_binary, c_varbinary, c_tinyblob, c_blob, c_mediumblob, c_longblob, c_json, c_enum, c_set,
  c_geometry, c_point, c_linestring, c_polygon, c_default_ts`

// TestAllTypesGolden streams inserts, updates, deletes, a key change and a
// multi-statement transaction over a table of every type and compares the
// Debezium JSON with golden files, with and without schemas.
func TestAllTypesGolden(t *testing.T) {
	db := "golden_types"
	mustExec(t, shared, "DROP DATABASE IF EXISTS "+db, "CREATE DATABASE "+db)

	for _, schemas := range []bool{true, false} {
		name := "all_types_schemas_" + map[bool]string{true: "on", false: "off"}[schemas]
		t.Run(name, func(t *testing.T) {
			mustExec(t, shared, "USE "+db, "DROP TABLE IF EXISTS all_types", "DROP TABLE IF EXISTS no_pk", allTypesDDL,
				"CREATE TABLE no_pk (a INT, b VARCHAR(10))")
			e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`, schemas: schemas})
			p := e.start()
			// Wait until siphon has taken its start position: its first
			// checkpoint appears in offsets show once a transaction passes.
			waitStarted(t, e, p)

			mustExec(t, shared, "USE "+db, "SET time_zone = '+00:00'", "SET sql_mode = ''",
				`INSERT INTO all_types (`+allTypesColumns+`) VALUES (1, TRUE, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
				  -9223372036854775808, 18446744073709551615, 123456.7890, -12345678901234567890.123456789012345678901234567890, 99999,
				  1.5, 3.141592653589793, 1e20, b'1', b'1000000001', b'1111111111111111111111111111111111111111111111111111111111111110',
				  2024, '2024-02-29', '-838:59:59', '12:34:56.789012', '2018-06-20 06:37:03', '1969-12-31 23:59:59.123', '2038-01-19 03:14:07.999999',
				  '2023-01-11 00:34:10', '2023-01-11 00:34:10.010', '2023-01-11 00:34:10.123000',
				  'abc', 'héllo wörld 🎉', 'tiny', 'text with "quotes" and \\backslash and <html>&', REPEAT('m', 300), 'long', 'café',
				  x'01020304', x'00ff', x'', x'DEADBEEF', x'CAFE', x'00',
				  '{"b": [1, 2.5, "x"], "a": {"nested": true, "n": null}}',
				  'medium', 'a,c',
				  ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(3.5 -4.25)'), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
				  ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))'), '2020-01-01 00:00:00')`,
				`INSERT INTO all_types (id, c_default_ts) VALUES (2, '2020-01-01 00:00:00')`,
				`INSERT INTO all_types (id, c_date, c_datetime, c_datetime6, c_timestamp, c_year, c_default_ts, c_float, c_double, c_decimal, c_bit10, c_enum, c_set)
				  VALUES (3, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', 0, '2020-01-01 00:00:00', -0.0, 1e-7, -0.0001, b'0', '', '')`,
				`UPDATE all_types SET c_varchar = 'changed', c_int = 7 WHERE id = 1`,
				`UPDATE all_types SET id = 20 WHERE id = 2`,
				`DELETE FROM all_types WHERE id = 3`,
				"BEGIN",
				`INSERT INTO no_pk VALUES (1, 'one'), (2, 'two')`,
				`UPDATE no_pk SET b = 'uno' WHERE a = 1`,
				`DELETE FROM no_pk WHERE a = 2`,
				`UPDATE all_types SET c_json = '[]', c_set = '' WHERE id = 1`,
				"COMMIT",
			)
			// 3 inserts, 1 update, key change (d, tombstone, c), delete +
			// tombstone, 2 inserts, update, delete + tombstone, update.
			e.waitRecords(p, time.Minute, atLeast(15))
			if code := p.stop(t); code != 0 {
				t.Fatalf("siphon exited %d after SIGTERM", code)
			}
			streamed := e.records()
			checkGolden(t, name, streamed)

			// A snapshot of the same rows must carry the very same schema
			// and values as the stream's latest image of each row.
			snap := snapshotEnv(t, shared, `["`+db+`.all_types"]`, "initial_only", 100, 2, "")
			replaceInConfig(t, snap, fmt.Sprintf("schemas: %t", false), fmt.Sprintf("schemas: %t", schemas))
			sp := snap.start()
			if code := sp.wait(t, time.Minute); code != 0 {
				t.Fatalf("snapshot exit %d\n%s", code, sp.logs())
			}
			latest := map[string]string{}
			for _, r := range streamed {
				if r.Topic == "it."+db+".all_types" && string(r.Value) != "null" {
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
		})
	}
}

// afterOf returns the after image of a record, with its schema when the
// record has schemas, as raw JSON.
func afterOf(t *testing.T, r record, schemas bool) string {
	t.Helper()
	var v struct {
		Schema struct {
			Fields []json.RawMessage `json:"fields"`
		} `json:"schema"`
		Payload struct {
			After json.RawMessage `json:"after"`
		} `json:"payload"`
		After json.RawMessage `json:"after"`
	}
	if err := json.Unmarshal(r.Value, &v); err != nil {
		t.Fatal(err)
	}
	if !schemas {
		return string(v.After)
	}
	return string(v.Schema.Fields[1]) + " " + string(v.Payload.After)
}

// waitStarted waits until siphon runs and has read its start position.
func waitStarted(t *testing.T, e *env, p *proc) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.logs(), "starting at the binlog end") && !strings.Contains(p.logs(), "resuming binlog") {
		if p.exited() {
			t.Fatalf("siphon exited early:\n%s", p.logs())
		}
		if time.Now().After(deadline) {
			t.Fatalf("siphon did not start within a minute:\n%s", p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
