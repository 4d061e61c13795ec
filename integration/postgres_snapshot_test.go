package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/integration/harness"
)

// runPG is workload.run against PostgreSQL: random transactions of
// inserts, updates and deletes on kv until ctx ends, at most one per pace
// (the harness's server does not fsync, and an unpaced writer buries the
// test in output).
func (w *workload) runPG(ctx context.Context, pg *harness.Postgres, db string, seed uint64, pace time.Duration) error {
	conn, err := pgconn.Connect(ctx, pg.SuperuserURL(db))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	tick := time.NewTicker(pace)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil
		}
		n := 1 + rng.IntN(w.maxTxRows)
		if w.bigEvery > 0 && w.txs%w.bigEvery == w.bigEvery-1 {
			n = w.bigRows
		}
		w.mu.Lock()
		state := map[int]int{}
		var stmts []string
		var changes []change
		for range n {
			k := 1 + rng.IntN(w.keys)
			cur, seen := state[k]
			if !seen {
				cur = w.current[k]
			}
			nextV := w.next[k] + 1
			switch {
			case cur == 0:
				stmts = append(stmts, fmt.Sprintf("INSERT INTO %s (k, v, pad) VALUES (%d, %d, '%s')", w.table, k, nextV, strings.Repeat("p", rng.IntN(200))))
				changes = append(changes, change{k, "c", nextV})
				state[k] = nextV
				w.next[k] = nextV
			case rng.IntN(5) == 0:
				stmts = append(stmts, fmt.Sprintf("DELETE FROM %s WHERE k = %d", w.table, k))
				changes = append(changes, change{k, "d", cur})
				state[k] = 0
			default:
				stmts = append(stmts, fmt.Sprintf("UPDATE %s SET v = %d WHERE k = %d", w.table, nextV, k))
				changes = append(changes, change{k, "u", nextV})
				state[k] = nextV
				w.next[k] = nextV
			}
		}
		w.mu.Unlock()
		// A started transaction runs to its end: cancelling it could
		// interrupt a COMMIT that the server still carries out, leaving
		// the workload unaware of a committed change.
		err := pgTransaction(context.WithoutCancel(ctx), conn, stmts)
		w.mu.Lock()
		if err == nil {
			for _, c := range changes {
				w.committed[c.Key] = append(w.committed[c.Key], c)
			}
			for k, v := range state {
				w.current[k] = v
			}
			w.txs++
		}
		w.mu.Unlock()
		if err != nil {
			return fmt.Errorf("workload transaction: %w", err)
		}
	}
	return nil
}

// pgTransaction runs stmts in one transaction, sending them in pieces:
// one very large multi-statement query can stall pgconn.
func pgTransaction(ctx context.Context, conn *pgconn.PgConn, stmts []string) error {
	if _, err := conn.Exec(ctx, "BEGIN").ReadAll(); err != nil {
		return err
	}
	for len(stmts) > 0 {
		n := min(len(stmts), 50)
		if _, err := conn.Exec(ctx, strings.Join(stmts[:n], ";")).ReadAll(); err != nil {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK").ReadAll()
			return err
		}
		stmts = stmts[n:]
	}
	_, err := conn.Exec(ctx, "COMMIT").ReadAll()
	return err
}

func pgCreateKV(t *testing.T, pg *harness.Postgres, db string) {
	pgMustExec(t, pg, db, "CREATE TABLE kv (k integer NOT NULL PRIMARY KEY, v integer NOT NULL, pad text)")
}

func pgKV(t *testing.T, pg *harness.Postgres, db string) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, r := range pgMustQuery(t, pg, db, "SELECT k, v FROM kv") {
		k, _ := strconv.Atoi(r[0])
		v, _ := strconv.Atoi(r[1])
		out[k] = v
	}
	return out
}

// waitConsumerMatches polls the output until applying it by key gives
// exactly the table's rows.
func waitConsumerMatches(t *testing.T, e *env, topic string, final map[int]int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c := newConsumer()
		c.apply(t, e.records())
		diff, ok := sameKV(c.kvState(t, topic), final)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer never matched the source: %s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestPostgresSnapshotUnderWritesIsExact snapshots a table while a writer
// inserts, updates and deletes it: applying every event by key gives
// exactly the final rows. Then an incremental snapshot by signal does the
// same while streaming goes on.
func TestPostgresSnapshotUnderWritesIsExact(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	w := newWorkload(db, 3000, 10)
	pgCreateKV(t, pg, db)
	pgMustExec(t, pg, db, "INSERT INTO kv SELECT i, 1, 'seed' FROM generate_series(1, 2000) i", "ANALYZE kv",
		"CREATE TABLE debezium_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data varchar(2048))")
	for k := 1; k <= 2000; k++ {
		w.current[k], w.next[k] = 1, 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.runPG(ctx, pg, db, 11, 2*time.Millisecond) }()
	waitFor(t, func() bool { return w.total() > 200 })

	e := newPGEnv(t, pg, db, pgEnvOptions{snapshot: "initial",
		source: "      snapshot_chunk_rows: 50\n      snapshot_parallelism: 3\n      signal_table: public.debezium_signal\n"})
	p := e.start()
	waitLog(t, p, "snapshot finished", 3*time.Minute)
	// An incremental snapshot while the writer goes on.
	pgMustExec(t, pg, db, `INSERT INTO debezium_signal VALUES ('ad-hoc-1', 'execute-snapshot', '{"data-collections": ["public\\.kv"], "type": "incremental"}')`)
	deadline := time.Now().Add(3 * time.Minute)
	for strings.Count(p.logs(), "snapshot finished") < 2 {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("the incremental snapshot did not finish:\n%s", p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	topic := "it.public.kv"
	waitConsumerMatches(t, e, topic, pgKV(t, pg, db))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	rs := e.records()
	checkSnapshotMarkers(t, rs[:firstIncremental(t, rs)])
	marks := map[string]int{}
	for _, r := range valueRecords(rs) {
		env, _ := r.payload(t)
		if env.Op == "r" {
			var v struct {
				Source struct {
					Snapshot string `json:"snapshot"`
				} `json:"source"`
			}
			_ = jsonUnmarshalRecord(r, &v)
			marks[v.Source.Snapshot]++
		}
	}
	if marks["incremental"] == 0 {
		t.Fatalf("no incremental snapshot rows: %v", marks)
	}
	t.Logf("snapshot rows %v while %d changes were committed", marks, w.total())
}

func firstIncremental(t *testing.T, rs []record) int {
	for i, r := range rs {
		if strings.Contains(string(r.Value), `"snapshot":"incremental"`) {
			return i
		}
	}
	return len(rs)
}

// TestPostgresKill9 kills siphon with SIGKILL during a snapshot and then
// during streaming (with transactions large enough to be streamed and
// spilled) while a writer commits, restarts it each time, and checks that
// nothing is lost: every committed change is delivered, in order per key
// within each run, each run resuming at its stored position, and the
// consumer ends with exactly the table's rows.
func TestPostgresKill9(t *testing.T) {
	pg := newPostgres(t)
	db := pgNewDatabase(t, pg)
	w := newWorkload(db, 40000, 8)
	w.bigEvery, w.bigRows = 50, 1000
	pgCreateKV(t, pg, db)
	// FULL: deletes carry the deleted row's version, which the delivery
	// check needs.
	pgMustExec(t, pg, db, "ALTER TABLE kv REPLICA IDENTITY FULL",
		"INSERT INTO kv SELECT i, 1, repeat('s', 100) FROM generate_series(1, 30000) i", "ANALYZE kv")
	for k := 1; k <= 30000; k++ {
		w.current[k], w.next[k] = 1, 1
	}
	e := newPGEnv(t, pg, db, pgEnvOptions{snapshot: "initial",
		source:   "      snapshot_chunk_rows: 100\n      snapshot_parallelism: 2\n",
		pipeline: "    batch:\n      max_events: 64\n"})
	p := e.start()
	waitPGStarted(t, p) // changes before the slot exists are the snapshot's
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.runPG(ctx, pg, db, 42, 10*time.Millisecond) }()

	topic := "it.public.kv"
	var runStarts []int
	var resumed []storedPos
	kill := func() {
		p.kill(t)
		runStarts = append(runStarts, len(e.records()))
		resumed = append(resumed, storedPos{pos: int64(e.pgStoredLSN())})
		p = e.start()
	}
	// During the snapshot.
	for i := 0; i < 2; i++ {
		e.waitReads(p, topic, len(e.records()), 2000)
		if strings.Contains(p.logs(), "snapshot finished") {
			t.Fatalf("the snapshot finished before kill %d: make the table larger", i)
		}
		kill()
	}
	waitLog(t, p, "snapshot finished", 3*time.Minute)
	// During streaming.
	for i := 0; i < 4; i++ {
		n := len(e.records())
		e.waitRecords(p, 2*time.Minute, atLeast(n+300+i*577))
		kill()
	}
	cancel()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	waitConsumerMatches(t, e, topic, pgKV(t, pg, db))
	if code := p.stop(t); code != 0 {
		t.Fatalf("final SIGTERM: exit %d\n%s", code, p.logs())
	}
	verifyDelivery(t, w, pgObserve(t, e.records(), "kv"), append([]int{0}, runStarts...), resumed, false)
}

// pgObserve is observe for PostgreSQL records. The position of a change
// (fileSeq 0) is the first element of its source.sequence: the end of the
// last commit before its transaction. Not the change's own lsn: a
// transaction that commits after the resume point may have changes
// before it (it was in progress when an idle keepalive's WAL end was
// confirmed), and is rightly streamed again — its commit is what lies
// after the resume point. Snapshot reads are not changes.
func pgObserve(t *testing.T, rs []record, table string) []observed {
	t.Helper()
	var out []observed
	for i, r := range rs {
		env, ok := r.payload(t)
		if !ok || env.Source.Table != table || env.Op == "r" {
			continue
		}
		var v struct {
			Source struct {
				Sequence string `json:"sequence"`
			} `json:"source"`
		}
		if err := jsonUnmarshalRecord(r, &v); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var seq [2]*string
		if err := json.Unmarshal([]byte(v.Source.Sequence), &seq); err != nil {
			t.Fatalf("line %d: source.sequence %q: %v", i+1, v.Source.Sequence, err)
		}
		var pos int64
		if seq[0] != nil {
			pos, _ = strconv.ParseInt(*seq[0], 10, 64)
		}
		img := env.After
		if env.Op == "d" {
			img = env.Before
		}
		out = append(out, observed{change: change{Key: int(img["k"].(float64)), Op: env.Op, Version: int(img["v"].(float64))}, line: i, pos: pos})
	}
	return out
}

// jsonUnmarshalRecord decodes a record's value, with or without schemas.
func jsonUnmarshalRecord(r record, v any) error {
	var wrapped struct {
		Payload jsonRaw `json:"payload"`
	}
	if err := jsonDecode(r.Value, &wrapped); err == nil && len(wrapped.Payload) > 0 {
		return jsonDecode(wrapped.Payload, v)
	}
	return jsonDecode(r.Value, v)
}
