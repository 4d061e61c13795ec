package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/siphoncdc/siphon/integration/harness"
)

// TestDDLMidStreamThenRestartBeforeIt runs a stream across column adds,
// drops, reorders and retypes, then restarts siphon from a position before
// the DDLs: the replay must produce exactly the same events — every row
// decoded with the columns it was written under — although the live table
// now has another shape. It runs against a server that logs full row
// metadata and against one that does not (where only siphon's schema
// history knows the old column names).
func TestDDLMidStreamThenRestartBeforeIt(t *testing.T) {
	for _, metadata := range []string{"FULL", "MINIMAL"} {
		t.Run(metadata, func(t *testing.T) {
			m := shared
			if metadata != "FULL" {
				m = harness.NewMariaDB(t, harness.MariaDBOptions{RowMetadata: metadata})
			}
			db := newDatabase(t, m)
			mustExec(t, m, fmt.Sprintf("CREATE TABLE %s.t (id INT PRIMARY KEY, a INT, b VARCHAR(10), c INT DEFAULT 7)", db))
			e := newEnv(t, envOptions{db: m, tables: `["` + db + `.*"]`, schemas: true})
			p := e.start()
			waitStarted(t, e, p)

			q := func(stmts ...string) { mustExec(t, m, append([]string{"USE " + db}, stmts...)...) }
			q("INSERT INTO t VALUES (1, 10, 'x', 100), (2, 20, 'y', 200)")
			e.waitRecords(p, time.Minute, atLeast(2))
			before := masterPosition(t, m)
			steps := []struct{ ddl, dml string }{
				{"", "INSERT INTO t VALUES (3, 30, 'z', 300)"},
				{"ALTER TABLE t ADD COLUMN d VARCHAR(5) DEFAULT 'dd' AFTER a", "INSERT INTO t (id, a, d, b, c) VALUES (4, 40, 'dx', 'w', 400)"},
				{"ALTER TABLE t DROP COLUMN b", "UPDATE t SET a = 11 WHERE id = 1"},
				{"ALTER TABLE t MODIFY c BIGINT AFTER id", "INSERT INTO t (id, c, a, d) VALUES (5, 5000000000, 50, 'e')"},
				{"ALTER TABLE t CHANGE a a_renamed INT", "DELETE FROM t WHERE id = 2"},
			}
			want := 2
			for _, s := range steps {
				if s.ddl != "" {
					q(s.ddl)
				}
				q(s.dml)
				want++
				if strings.HasPrefix(s.dml, "DELETE") {
					want++ // tombstone
				}
				// Let siphon pass each step before the next DDL, as a
				// live pipeline would.
				e.waitRecords(p, time.Minute, atLeast(want))
			}
			if code := p.stop(t); code != 0 {
				t.Fatalf("exit %d", code)
			}
			first := e.records()
			assertColumns(t, first, map[string]string{
				"c:3": "id,a,b,c", "c:4": "id,a,d,b,c", "u:1": "id,a,d,c", "c:5": "id,c,a,d", "d:2": "id,c,a_renamed,d",
			})

			// Rewind the stored position to before the DDLs and replay
			// into a fresh file.
			setStoredPosition(t, e, before)
			if err := os.Rename(e.output, filepath.Join(e.dir, "first.jsonl")); err != nil {
				t.Fatal(err)
			}
			p = e.start()
			e.waitRecords(p, time.Minute, atLeast(len(first)-2))
			if code := p.stop(t); code != 0 {
				t.Fatalf("replay exit %d", code)
			}
			replay := e.records()
			if len(replay) != len(first)-2 {
				t.Fatalf("replay has %d records, want %d", len(replay), len(first)-2)
			}
			for i, r := range replay {
				if got, want := normalize(r.raw), normalize(first[i+2].raw); got != want {
					t.Fatalf("replayed record %d differs\n got: %s\nwant: %s", i, got, want)
				}
			}
		})
	}
}

// TestMinimalMetadataDDLsWhileStoppedStopLoudly: without full row metadata
// siphon cannot know the shape of a table between two DDLs that happened
// while it was down; it must stop with an error naming the table and
// position, never decode rows with the wrong columns.
func TestMinimalMetadataDDLsWhileStoppedStopLoudly(t *testing.T) {
	m := harness.NewMariaDB(t, harness.MariaDBOptions{RowMetadata: "MINIMAL"})
	db := newDatabase(t, m)
	mustExec(t, m, fmt.Sprintf("CREATE TABLE %s.t (id INT PRIMARY KEY, a INT, b VARCHAR(10))", db))
	e := newEnv(t, envOptions{db: m, tables: `["` + db + `.*"]`})
	p := e.start()
	waitStarted(t, e, p)
	mustExec(t, m, "USE "+db, "INSERT INTO t VALUES (1, 1, 'x')")
	e.waitRecords(p, time.Minute, atLeast(1))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	mustExec(t, m, "USE "+db,
		"ALTER TABLE t ADD COLUMN c INT", "INSERT INTO t VALUES (2, 2, 'y', 2)",
		"ALTER TABLE t DROP COLUMN b", "INSERT INTO t VALUES (3, 3, 3)")
	p = e.start()
	code := p.wait(t, time.Minute)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, p.logs())
	}
	logs := p.logs()
	for _, want := range []string{db + ".t", "binlog_row_metadata=FULL"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("error does not mention %q:\n%s", want, logs)
		}
	}
	for _, r := range e.records() {
		if strings.Contains(r.raw, `"id":2`) {
			t.Fatalf("a row decoded without a known schema reached the output: %s", r.raw)
		}
	}
}

// assertColumns checks the column names of the after (or before) image of
// the events named "op:id".
func assertColumns(t *testing.T, rs []record, want map[string]string) {
	t.Helper()
	found := map[string]bool{}
	for _, r := range rs {
		env, ok := r.payload(t)
		if !ok {
			continue
		}
		img := env.After
		if env.Op == "d" {
			img = env.Before
		}
		key := fmt.Sprintf("%s:%v", env.Op, img["id"])
		w, ok := want[key]
		if !ok {
			continue
		}
		found[key] = true
		if got := orderedKeys(t, r, env.Op == "d"); got != w {
			t.Errorf("event %s has columns %s, want %s", key, got, w)
		}
	}
	for k := range want {
		if !found[k] {
			t.Errorf("event %s not found", k)
		}
	}
}

// orderedKeys returns the field names of the row image in output order.
func orderedKeys(t *testing.T, r record, before bool) string {
	t.Helper()
	field := `"after":{`
	if before {
		field = `"before":{`
	}
	i := strings.LastIndex(r.raw, field) // the payload comes after the schema
	if i < 0 {
		t.Fatalf("no %s in %s", field, r.raw)
	}
	s := r.raw[i+len(field):]
	var names []string
	depth := 0
	inStr := false
	start := -1
	for j := 0; j < len(s); j++ {
		c := s[j]
		if inStr {
			if c == '\\' {
				j++
			} else if c == '"' {
				inStr = false
				if depth == 0 && start >= 0 && j+1 < len(s) && s[j+1] == ':' {
					names = append(names, s[start:j])
				}
				start = -1
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
			start = j + 1
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return strings.Join(names, ",")
			}
			depth--
		}
	}
	return strings.Join(names, ",")
}

// masterPosition reads the server's current binlog position as siphon
// stores it.
func masterPosition(t *testing.T, m *harness.MariaDB) string {
	t.Helper()
	ctx := testContext(t, time.Minute)
	rows, err := m.Query(ctx, "SHOW MASTER STATUS")
	if err != nil || len(rows) == 0 {
		t.Fatalf("SHOW MASTER STATUS: %v", err)
	}
	g, err := m.Query(ctx, "SELECT @@gtid_binlog_pos, @@server_id")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`{"file":%q,"pos":%s,"gtids":%q,"server_id":%s}`, rows[0][0], rows[0][1], g[0][0], g[0][1])
}

// setStoredPosition overwrites the pipeline's checkpoint, as if siphon had
// stopped there.
func setStoredPosition(t *testing.T, e *env, pos string) {
	t.Helper()
	s, err := checkpoint.Open(filepath.Join(e.dir, "state"), checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Pipeline("test").SaveOffset([]byte(pos)); err != nil {
		t.Fatal(err)
	}
}
