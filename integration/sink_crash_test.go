package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// kvTarget is a target holding the workload's kv table, with a trigger
// that counts every row change applied to it per key.
type kvTarget struct {
	sink    string
	kv      func() map[int]int // k → v
	applied func() map[int]int // k → changes applied
	// summary is "rows|sum(k)|sum(v)" of a target table with integer k, v.
	summary func(table string) string
}

const summaryQuery = "SELECT count(*), COALESCE(sum(k), 0), COALESCE(sum(v), 0) FROM "

const pgCounterDDL = `CREATE TABLE kv (k integer PRIMARY KEY, v integer NOT NULL, pad character varying(200));
CREATE TABLE applied (k integer PRIMARY KEY, n integer NOT NULL);
CREATE FUNCTION count_applied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO applied VALUES (COALESCE(NEW.k, OLD.k), 1) ON CONFLICT (k) DO UPDATE SET n = applied.n + 1;
  RETURN NULL;
END $$;
CREATE TRIGGER kv_applied AFTER INSERT OR UPDATE OR DELETE ON kv FOR EACH ROW EXECUTE FUNCTION count_applied();`

func intPairs(t *testing.T, rows [][]string) map[int]int {
	t.Helper()
	out := make(map[int]int, len(rows))
	for _, r := range rows {
		k, err1 := strconv.Atoi(r[0])
		v, err2 := strconv.Atoi(r[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("not a pair of integers: %v", r)
		}
		out[k] = v
	}
	return out
}

func pgKVTarget(t *testing.T, extra string) (kvTarget, *harness.Postgres, string) {
	pg, db := targetPostgres(t)
	pgMustExec(t, pg, db, pgCounterDDL)
	return kvTarget{
		sink:    pgSinkYAML(pg, db, extra),
		kv:      func() map[int]int { return intPairs(t, pgMustQuery(t, pg, db, "SELECT k, v FROM kv")) },
		applied: func() map[int]int { return intPairs(t, pgMustQuery(t, pg, db, "SELECT k, n FROM applied")) },
		summary: func(table string) string { return strings.Join(pgMustQuery(t, pg, db, summaryQuery+table)[0], "|") },
	}, pg, db
}

func mariadbKVTarget(t *testing.T, extra string) kvTarget {
	db := newDatabase(t, shared)
	mustExec(t, shared, "USE "+db,
		"CREATE TABLE kv (k INT NOT NULL PRIMARY KEY, v INT NOT NULL, pad VARCHAR(200))",
		"CREATE TABLE applied (k INT PRIMARY KEY, n INT NOT NULL)",
		"CREATE TRIGGER kv_i AFTER INSERT ON kv FOR EACH ROW INSERT INTO applied VALUES (NEW.k, 1) ON DUPLICATE KEY UPDATE n = n + 1",
		"CREATE TRIGGER kv_u AFTER UPDATE ON kv FOR EACH ROW INSERT INTO applied VALUES (NEW.k, 1) ON DUPLICATE KEY UPDATE n = n + 1",
		"CREATE TRIGGER kv_d AFTER DELETE ON kv FOR EACH ROW INSERT INTO applied VALUES (OLD.k, 1) ON DUPLICATE KEY UPDATE n = n + 1")
	query := func(q string) map[int]int {
		rows, err := shared.Query(testContext(t, time.Minute), q)
		if err != nil {
			t.Fatal(err)
		}
		return intPairs(t, rows)
	}
	return kvTarget{
		sink:    mysqlSinkYAML(shared, db, extra),
		kv:      func() map[int]int { return query("SELECT k, v FROM " + db + ".kv") },
		applied: func() map[int]int { return query("SELECT k, n FROM " + db + ".applied") },
		summary: func(table string) string { return mariadbSummary(t, db+"."+table) },
	}
}

func mariadbSummary(t *testing.T, table string) string {
	t.Helper()
	rows, err := shared.Query(testContext(t, time.Minute), summaryQuery+table)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(rows[0], "|")
}

// checkExactlyOnce compares the target with the source and the trigger's
// counts with the changes the workload committed: a change applied twice
// (or lost) shows as a count that differs.
func checkExactlyOnce(t *testing.T, w *workload, target kvTarget) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	applied := target.applied()
	changes, bad := 0, 0
	for k, cs := range w.committed {
		changes += len(cs)
		if applied[k] != len(cs) {
			if bad < 5 {
				t.Errorf("key %d: %d changes committed at the source, %d applied to the target", k, len(cs), applied[k])
			}
			bad++
		}
	}
	for k, n := range applied {
		if _, ok := w.committed[k]; !ok {
			t.Errorf("key %d: %d changes applied, none committed", k, n)
		}
	}
	if bad > 0 {
		t.Fatalf("%d keys applied a different number of changes than committed", bad)
	}
	t.Logf("%d changes of %d transactions applied exactly once", changes, w.txs)
}

func waitSameKV(t *testing.T, p *proc, src string, target kvTarget, d time.Duration) {
	t.Helper()
	eventually(t, p, d, "the target to catch up", func() (bool, string) {
		diff, same := sameKV(dbKV(t, shared, src), target.kv())
		return same, diff
	})
}

// TestSinkKill9ExactlyOnce kills siphon with SIGKILL at random points of
// the apply, several times, while a workload commits transactions (some of
// them spanning many batches): after each restart the target goes on from
// where it committed, and in the end it equals the source and a trigger
// proves each change was applied once.
func TestSinkKill9ExactlyOnce(t *testing.T) {
	targets := []struct {
		name  string
		setup func(t *testing.T) kvTarget
	}{
		{"postgres", func(t *testing.T) kvTarget { k, _, _ := pgKVTarget(t, ""); return k }},
		{"postgres_key_workers", func(t *testing.T) kvTarget {
			k, _, _ := pgKVTarget(t, "        consistency: key\n        workers: 3\n")
			return k
		}},
		{"mariadb", func(t *testing.T) kvTarget { return mariadbKVTarget(t, "") }},
	}
	for i, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			w := newWorkload(src, 200, 8)
			w.bigEvery, w.bigRows = 20, 300
			w.createTable(t, shared)
			kv := target.setup(t)
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, sink: kv.sink,
				pipeline: "    batch:\n      max_events: 64\n"})
			p := e.start()
			waitStarted(t, e, p)

			stopWorkload := w.start(t, shared, uint64(100+i))
			for kill := range 5 {
				applied := func() int {
					n := 0
					for _, c := range kv.applied() {
						n += c
					}
					return n
				}
				start := applied()
				eventually(t, p, time.Minute, "progress before a kill", func() (bool, string) {
					n := applied()
					return n >= start+200+kill*97, fmt.Sprintf("%d changes applied", n)
				})
				p.kill(t)
				if os.Getenv("SIPHON_DUMP") != "" {
					for _, l := range strings.Split(p.logs(), "\n") {
						if strings.Contains(l, "resuming") || strings.Contains(l, "skipping") {
							t.Log(l)
						}
					}
				}
				p = e.start()
			}
			stopWorkload()
			waitSameKV(t, p, src, kv, 2*time.Minute)
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			checkExactlyOnce(t, w, kv)
		})
	}
}

// TestSinkTargetDownUnderLoad stops the target PostgreSQL for 20 seconds
// (a crash, then a restart on the same data) while the source is written
// to: siphon retries with backoff, holds the source back instead of
// buffering, and afterwards the target equals the source with every change
// applied once; siphon's peak memory stays bounded.
func TestSinkTargetDownUnderLoad(t *testing.T) {
	src := newDatabase(t, shared)
	// Small transactions, and every 50th of 200 rows (many batches): the
	// catch-up after the outage stays short.
	w := newWorkload(src, 300, 3)
	w.bigEvery, w.bigRows = 50, 200
	w.createTable(t, shared)
	kv, pg, _ := pgKVTarget(t, "")
	e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, sink: kv.sink,
		pipeline: "    batch:\n      max_events: 256\n    buffer:\n      max_batches: 8\n      max_bytes: 8MiB\n"})
	p := e.start()
	waitStarted(t, e, p)

	stopWorkload := w.start(t, shared, 77)
	eventually(t, p, time.Minute, "apply under load", func() (bool, string) {
		n := len(kv.applied())
		return n >= 100, fmt.Sprintf("%d keys applied", n)
	})
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	before := w.total()
	// The outage itself: the scenario is a target that is gone for 20 s.
	time.Sleep(20 * time.Second)
	if p.exited() {
		t.Fatalf("siphon exited while the target was down:\n%s", p.logs())
	}
	if err := pg.Restart(testContext(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d changes committed at the source while the target was down", w.total()-before)
	time.Sleep(2 * time.Second) // more load after the restart
	stopWorkload()
	waitSameKV(t, p, src, kv, 2*time.Minute)
	hwm := vmHWM(t, p)
	if code := p.stop(t); code != 0 {
		t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
	}
	if !strings.Contains(p.logs(), "target unavailable, retrying") {
		t.Fatalf("siphon never reported the target as unavailable:\n%s", p.logs())
	}
	checkExactlyOnce(t, w, kv)
	const limit = 200 << 20
	t.Logf("siphon's peak resident memory: %d MiB", hwm>>20)
	if hwm > limit {
		t.Fatalf("siphon's peak resident memory %d MiB is over %d MiB", hwm>>20, limit>>20)
	}
}

// vmHWM reads a running siphon's peak resident set size.
func vmHWM(t *testing.T, p *proc) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
