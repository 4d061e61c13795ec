package integration

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pgAfter decodes the after (or, for a delete, before) image of a record
// without schemas.
func pgImage(t *testing.T, r record) (op string, before, after map[string]any) {
	t.Helper()
	var v struct {
		Op     string         `json:"op"`
		Before map[string]any `json:"before"`
		After  map[string]any `json:"after"`
	}
	if err := json.Unmarshal(r.Value, &v); err != nil {
		t.Fatalf("%v: %s", err, r.Value)
	}
	return v.Op, v.Before, v.After
}

// valueRecords drops tombstones.
func valueRecords(rs []record) []record {
	var out []record
	for _, r := range rs {
		if string(r.Value) != "null" {
			out = append(out, r)
		}
	}
	return out
}

// TestPostgresTOAST: an update that leaves a TOASTed column unchanged
// carries the placeholder of its type with REPLICA IDENTITY DEFAULT, and
// the real value with REPLICA IDENTITY FULL.
func TestPostgresTOAST(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	for _, tb := range []string{"toast_default", "toast_full"} {
		pgMustExec(t, pg, db,
			"CREATE TABLE "+tb+" (id integer PRIMARY KEY, small integer, big text, arr text[], bin bytea, js jsonb)",
			"ALTER TABLE "+tb+" ALTER COLUMN big SET STORAGE EXTERNAL, ALTER COLUMN arr SET STORAGE EXTERNAL, ALTER COLUMN bin SET STORAGE EXTERNAL, ALTER COLUMN js SET STORAGE EXTERNAL")
	}
	pgMustExec(t, pg, db, "ALTER TABLE toast_full REPLICA IDENTITY FULL")
	e := newPGEnv(t, pg, db, pgEnvOptions{})
	p := e.start()
	waitPGStarted(t, p)
	big := "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 300) i)"
	for _, tb := range []string{"toast_default", "toast_full"} {
		pgMustExec(t, pg, db,
			"INSERT INTO "+tb+" VALUES (1, 1, "+big+", ARRAY["+big+"], convert_to("+big+", 'UTF8'), jsonb_build_object('k', "+big+"))",
			"UPDATE "+tb+" SET small = 2 WHERE id = 1",
			"DELETE FROM "+tb+" WHERE id = 1")
	}
	rs := valueRecords(e.waitRecords(p, time.Minute, func(rs []record) bool { return len(valueRecords(rs)) >= 6 }))
	bigValue := pgMustQuery(t, pg, db, "SELECT "+big)[0][0]
	const ph = "__debezium_unavailable_value"
	for _, r := range rs {
		op, before, after := pgImage(t, r)
		full := strings.HasSuffix(r.Topic, "toast_full")
		switch op {
		case "u":
			if full {
				if after["big"] != bigValue || before["big"] != bigValue {
					t.Errorf("FULL update: big is not the real value: after %.40v…, before %.40v…", after["big"], before["big"])
				}
				continue
			}
			if after["big"] != ph {
				t.Errorf("DEFAULT update: big = %.60v, want the placeholder", after["big"])
			}
			if arr, _ := after["arr"].([]any); len(arr) != 1 || arr[0] != ph {
				t.Errorf("DEFAULT update: arr = %.60v, want [placeholder]", after["arr"])
			}
			if after["bin"] != base64.StdEncoding.EncodeToString([]byte(ph)) {
				t.Errorf("DEFAULT update: bin = %.60v, want the placeholder's bytes", after["bin"])
			}
			if after["js"] != ph {
				t.Errorf("DEFAULT update: js = %.60v, want the placeholder", after["js"])
			}
			if before["id"] != float64(1) || before["big"] != nil || before["small"] != nil {
				t.Errorf("DEFAULT update: before %v, want the key only", before)
			}
		case "d":
			if full && before["big"] != bigValue {
				t.Errorf("FULL delete: before.big is not the real value")
			}
			if !full && (before["big"] != nil || before["id"] != float64(1)) {
				t.Errorf("DEFAULT delete: before %v, want the key only", before)
			}
		}
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestPostgresDDLMidStream: columns added, dropped and retyped while the
// stream runs give events with the new schema from that point on.
func TestPostgresDDLMidStream(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	pgMustExec(t, pg, db, "CREATE TABLE t (id integer PRIMARY KEY, a integer, b text)")
	e := newPGEnv(t, pg, db, pgEnvOptions{schemas: true})
	p := e.start()
	waitPGStarted(t, p)
	pgMustExec(t, pg, db,
		"INSERT INTO t VALUES (1, 1, 'one')",
		"ALTER TABLE t ADD COLUMN c numeric(6,2) NOT NULL DEFAULT 1.5",
		"INSERT INTO t VALUES (2, 2, 'two', 2.25)",
		"ALTER TABLE t DROP COLUMN a",
		"INSERT INTO t VALUES (3, 'three', 3)",
		"ALTER TABLE t ALTER COLUMN b TYPE integer USING length(b)",
		"INSERT INTO t VALUES (4, 4, 4)",
		"BEGIN", "UPDATE t SET b = 40 WHERE id = 4", "ALTER TABLE t ADD COLUMN d boolean", "UPDATE t SET d = true WHERE id = 4", "COMMIT",
	)
	rs := e.waitRecords(p, time.Minute, atLeast(6))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	type field struct {
		Type     string `json:"type"`
		Optional bool   `json:"optional"`
		Name     string `json:"name"`
		Field    string `json:"field"`
		Default  any    `json:"default"`
	}
	var got []string
	for _, r := range rs {
		var v struct {
			Schema struct {
				Fields []struct {
					Fields []field `json:"fields"`
				} `json:"fields"`
			} `json:"schema"`
			Payload struct {
				After json.RawMessage `json:"after"`
			} `json:"payload"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		var cols []string
		for _, f := range v.Schema.Fields[1].Fields {
			c := f.Field + ":" + f.Type
			if f.Name != "" {
				c += "/" + f.Name
			}
			if !f.Optional {
				c += "!"
			}
			if f.Default != nil {
				c += fmt.Sprintf("=%v", f.Default)
			}
			cols = append(cols, c)
		}
		got = append(got, strings.Join(cols, ",")+" "+string(v.Payload.After))
	}
	want := []string{
		`id:int32! a:int32 b:string {"id":1,"a":1,"b":"one"}`,
		`id:int32! a:int32 b:string c:bytes/org.apache.kafka.connect.data.Decimal!=AJY= {"id":2,"a":2,"b":"two","c":"AOE="}`,
		`id:int32! b:string c:bytes/org.apache.kafka.connect.data.Decimal!=AJY= {"id":3,"b":"three","c":"ASw="}`,
		`id:int32! b:int32 c:bytes/org.apache.kafka.connect.data.Decimal!=AJY= {"id":4,"b":4,"c":"AZA="}`,
		`id:int32! b:int32 c:bytes/org.apache.kafka.connect.data.Decimal!=AJY= {"id":4,"b":40,"c":"AZA="}`,
		`id:int32! b:int32 c:bytes/org.apache.kafka.connect.data.Decimal!=AJY= d:boolean {"id":4,"b":40,"c":"AZA=","d":true}`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		norm := strings.Replace(want[i], " {", "\x00{", 1)
		norm = strings.ReplaceAll(norm, " ", ",")
		norm = strings.Replace(norm, "\x00", " ", 1)
		if got[i] != norm {
			t.Errorf("event %d:\n got %s\nwant %s", i, got[i], norm)
		}
	}
}

// TestPostgresLargeTransactionsSpilled: transactions larger than
// logical_decoding_work_mem (64kB in the harness) are streamed by the
// server while in progress, interleaved with others, spilled to disk and
// replayed at commit; an aborted one and an aborted subtransaction leave
// nothing.
func TestPostgresLargeTransactionsSpilled(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	pgMustExec(t, pg, db, "CREATE TABLE big (id integer PRIMARY KEY, v integer, pad text)", "CREATE TABLE small (id integer PRIMARY KEY)")
	e := newPGEnv(t, pg, db, pgEnvOptions{pipeline: "    batch:\n      max_events: 500\n"})
	p := e.start()
	waitPGStarted(t, p)

	// A large transaction stays open while small ones commit.
	var wg sync.WaitGroup
	var bigErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		bigErr = pg.Exec(testContext(t, 2*time.Minute), db, "BEGIN",
			"INSERT INTO big SELECT i, i, repeat('p', 50) FROM generate_series(1, 20000) i",
			// Wait inside the transaction until every small one committed.
			"DO $$ BEGIN WHILE NOT EXISTS (SELECT 1 FROM small WHERE id = 20) LOOP PERFORM pg_sleep(0.02); END LOOP; END $$",
			"UPDATE big SET v = -v WHERE id <= 5000",
			"COMMIT")
	}()
	for i := 1; i <= 20; i++ {
		pgMustExec(t, pg, db, fmt.Sprintf("INSERT INTO small VALUES (%d)", i))
	}
	wg.Wait()
	if bigErr != nil {
		t.Fatal(bigErr)
	}
	pgMustExec(t, pg, db,
		"BEGIN", "INSERT INTO big SELECT i, i, repeat('a', 50) FROM generate_series(100001, 105000) i", "ROLLBACK",
		"BEGIN",
		"INSERT INTO big SELECT i, i, repeat('s', 50) FROM generate_series(200001, 201000) i",
		"SAVEPOINT s1",
		"INSERT INTO big SELECT i, i, repeat('x', 50) FROM generate_series(300001, 304000) i",
		"SAVEPOINT s2",
		"INSERT INTO big SELECT i, i, repeat('y', 50) FROM generate_series(400001, 402000) i",
		"ROLLBACK TO s1",
		"INSERT INTO big SELECT i, i, repeat('z', 50) FROM generate_series(500001, 500010) i",
		"COMMIT",
		"INSERT INTO small VALUES (1000)")
	rs := e.waitRecords(p, 2*time.Minute, func(rs []record) bool {
		for _, r := range rs {
			if strings.HasSuffix(r.Topic, ".small") && strings.Contains(string(r.Key), "1000") {
				return true
			}
		}
		return false
	})
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	counts := map[string]int{}
	smallBefore := 0
	bigSeen := false
	for _, r := range valueRecords(rs) {
		op, _, after := pgImage(t, r)
		if strings.HasSuffix(r.Topic, ".small") {
			if !bigSeen {
				smallBefore++
			}
			continue
		}
		bigSeen = true
		id := int(after["id"].(float64))
		switch {
		case id <= 20000 && op == "c":
			counts["big-insert"]++
		case id <= 5000 && op == "u":
			if int(after["v"].(float64)) != -id {
				t.Fatalf("update of %d: v=%v", id, after["v"])
			}
			counts["big-update"]++
		case id > 100000 && id <= 105000:
			counts["aborted"]++
		case id > 200000 && id <= 201000:
			counts["kept"]++
		case id > 300000 && id <= 402000:
			counts["aborted-sub"]++
		case id > 500000:
			counts["after-rollback-to"]++
		default:
			counts[fmt.Sprintf("other %s %d", op, id)]++
		}
	}
	want := map[string]int{"big-insert": 20000, "big-update": 5000, "kept": 1000, "after-rollback-to": 10}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%s: %d events, want %d (all: %v)", k, counts[k], n, counts)
		}
	}
	for k, n := range counts {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected events %s: %d", k, n)
		}
	}
	if smallBefore < 20 {
		t.Errorf("only %d small transactions came before the large one that committed after them", smallBefore)
	}
	if !strings.Contains(p.logs(), "replayed streamed transaction") {
		t.Errorf("no transaction was streamed and spilled")
	}
	left, _ := filepath.Glob(filepath.Join(e.dir, "state", "spill", "test", "*"))
	if len(left) != 0 {
		t.Errorf("spill files left: %v", left)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "state", "spill", "test")); err != nil {
		t.Errorf("spill directory: %v", err)
	}
}

// TestPostgresTruncatesAndMessages: with emit_truncates and emit_messages,
// TRUNCATE gives one op t event per captured table (null key, no row
// images) and logical decoding messages op m events on <prefix>.message,
// transactional ones with the transaction's txId; the publication siphon
// creates covers the signal table though it is not captured.
func TestPostgresTruncatesAndMessages(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	pgMustExec(t, pg, db, "CREATE TABLE t (id integer PRIMARY KEY)", "CREATE TABLE other (id integer PRIMARY KEY)",
		"CREATE TABLE sig (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))")
	e := newPGEnv(t, pg, db, pgEnvOptions{tables: `["public.t"]`,
		source: "      emit_truncates: true\n      emit_messages: true\n      signal_table: public.sig\n"})
	p := e.start()
	waitPGStarted(t, p)
	published := pgMustQuery(t, pg, db, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_publication_tables WHERE pubname = 'siphon_test'")
	if got := published[0][0]; got != "sig,t" {
		t.Errorf("publication covers %s, want sig,t", got)
	}
	pgMustExec(t, pg, db,
		"INSERT INTO t VALUES (1)", "INSERT INTO other VALUES (1)",
		"TRUNCATE t, other",
		"BEGIN", "SELECT pg_logical_emit_message(true, 'audit', 'in a transaction')", "INSERT INTO t VALUES (2)", "COMMIT",
		"SELECT pg_logical_emit_message(false, 'beacon', convert_to('outside', 'UTF8'))")
	rs := e.waitRecords(p, time.Minute, atLeast(5))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var got []string
	for _, r := range rs {
		var v struct {
			Op     string `json:"op"`
			Source struct {
				Schema string `json:"schema"`
				Table  string `json:"table"`
				TxID   *int64 `json:"txId"`
			} `json:"source"`
			Before, After json.RawMessage
			Message       struct {
				Prefix  string `json:"prefix"`
				Content []byte `json:"content"`
			} `json:"message"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("%v: %s", err, r.Value)
		}
		line := fmt.Sprintf("%s %s key=%s tx=%t", r.Topic, v.Op, r.Key, v.Source.TxID != nil)
		if v.Op == "m" {
			if v.Before != nil || v.After != nil {
				t.Errorf("message with row images: %s", r.Value)
			}
			line += fmt.Sprintf(" %s=%q %q.%q", v.Message.Prefix, v.Message.Content, v.Source.Schema, v.Source.Table)
		} else if v.Op == "t" && (string(v.Before) != "null" || string(v.After) != "null") {
			t.Errorf("truncate with row images: %s", r.Value)
		}
		got = append(got, line)
	}
	want := []string{
		`it.public.t c key={"id":1} tx=true`,
		`it.public.t t key=null tx=true`,
		`it.message m key={"prefix":"audit"} tx=true audit="in a transaction" "".""`,
		`it.public.t c key={"id":2} tx=true`,
		`it.message m key={"prefix":"beacon"} tx=false beacon="outside" "".""`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, _, _ := e.siphonCmd("check", "--config", e.config)
	if !strings.Contains(out, "pass  publication siphon_test") || !strings.Contains(out, "covers the 2 selected tables") {
		t.Errorf("siphon check does not find the signal table covered:\n%s", out)
	}
	pgMustExec(t, pg, db, "ALTER PUBLICATION siphon_test DROP TABLE sig")
	out, _, _ = e.siphonCmd("check", "--config", e.config)
	if !strings.Contains(out, "warn  publication siphon_test") || !strings.Contains(out, "does not cover public.sig") {
		t.Errorf("siphon check does not report the signal table missing from the publication:\n%s", out)
	}
}
