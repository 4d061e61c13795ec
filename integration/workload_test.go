package integration

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/siphoncdc/siphon/integration/harness"
)

// change is one committed row change of the workload: the key, the
// operation and the row's version (for a delete, the version deleted).
type change struct {
	Key     int
	Op      string
	Version int
}

// workload writes random transactions of inserts, updates and deletes to
// table kv(k INT PRIMARY KEY, v INT) and remembers, per key, every change
// whose transaction committed. Versions grow per key and never repeat, so
// (key, op, version) names one change.
type workload struct {
	db, table string
	keys      int
	maxTxRows int
	// every bigEvery-th transaction changes bigRows rows, so that a
	// transaction spans many batches and a kill can land inside it.
	bigEvery, bigRows int

	mu        sync.Mutex
	committed map[int][]change
	current   map[int]int // key → version present (0: absent)
	next      map[int]int // key → last version used
	txs       int
}

func newWorkload(db string, keys, maxTxRows int) *workload {
	return &workload{db: db, table: "kv", keys: keys, maxTxRows: maxTxRows,
		committed: map[int][]change{}, current: map[int]int{}, next: map[int]int{}}
}

func (w *workload) createTable(t *testing.T, m *harness.MariaDB) {
	mustExec(t, m, fmt.Sprintf("CREATE TABLE %s.%s (k INT NOT NULL PRIMARY KEY, v INT NOT NULL, pad VARCHAR(200))", w.db, w.table))
}

// start runs the workload in the background; the function it returns
// stops it and fails the test if it failed.
func (w *workload) start(t *testing.T, m *harness.MariaDB, seed uint64) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	werr := make(chan error, 1)
	go func() { werr <- w.run(ctx, m, seed) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-werr; err != nil {
			t.Fatalf("workload: %v", err)
		}
	}
	t.Cleanup(func() { cancel() })
	return stop
}

// run writes transactions until ctx ends. Failed transactions (e.g. the
// server restarting) are rolled back and not remembered.
func (w *workload) run(ctx context.Context, m *harness.MariaDB, seed uint64) error {
	conn, err := client.Connect(m.Addr(), "root", "", w.db)
	if err != nil {
		return err
	}
	defer conn.Close()
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	for ctx.Err() == nil {
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
		ok := w.exec(conn, stmts)
		w.mu.Lock()
		if ok {
			for _, c := range changes {
				w.committed[c.Key] = append(w.committed[c.Key], c)
			}
			for k, v := range state {
				w.current[k] = v
			}
			w.txs++
		} else {
			// The versions were not used: keep them unused.
			for _, c := range changes {
				if c.Op != "d" {
					w.next[c.Key] = min(w.next[c.Key], c.Version-1)
				}
			}
		}
		w.mu.Unlock()
		if !ok {
			return fmt.Errorf("workload transaction failed")
		}
	}
	return nil
}

func (w *workload) exec(conn *client.Conn, stmts []string) bool {
	if _, err := conn.Execute("BEGIN"); err != nil {
		return false
	}
	for _, s := range stmts {
		if _, err := conn.Execute(s); err != nil {
			_, _ = conn.Execute("ROLLBACK")
			return false
		}
	}
	_, err := conn.Execute("COMMIT")
	return err == nil
}

func (w *workload) total() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, cs := range w.committed {
		n += len(cs)
	}
	return n
}

// observed is one change seen in siphon's output.
type observed struct {
	change
	line    int // line number in the output
	fileSeq uint64
	pos     int64
}

// observe extracts the kv changes (not tombstones) from the records.
func observe(t *testing.T, rs []record, table string) []observed {
	t.Helper()
	var out []observed
	for i, r := range rs {
		env, ok := r.payload(t)
		if !ok || env.Source.Table != table {
			continue
		}
		img := env.After
		if env.Op == "d" {
			img = env.Before
		}
		o := observed{change: change{Key: int(img["k"].(float64)), Op: env.Op, Version: int(img["v"].(float64))}, line: i,
			fileSeq: fileSeqOf(env.Source.File), pos: env.Source.Pos}
		out = append(out, o)
	}
	return out
}

func fileSeqOf(f string) uint64 {
	i := strings.LastIndexByte(f, '.')
	n, _ := strconv.ParseUint(f[i+1:], 10, 64)
	return n
}

// verifyDelivery checks siphon's output against what the workload
// committed: every change appears; within one run of siphon the changes of
// a key come in commit order without gaps; a run after a restart starts at
// the stored position (so repeats come only from after it); and, when
// exactlyOnce, no change appears twice.
func verifyDelivery(t *testing.T, w *workload, obs []observed, runStarts []int, resumed []storedPos, exactlyOnce bool) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	index := map[change]int{}
	for _, cs := range w.committed {
		for i, c := range cs {
			index[c] = i
		}
	}
	seen := map[change]int{}
	runOf := func(line int) int {
		r := sort.Search(len(runStarts), func(i int) bool { return runStarts[i] > line }) - 1
		return max(r, 0)
	}
	last := map[[2]int]int{} // (run, key) → index of the last change seen
	for _, o := range obs {
		idx, ok := index[o.change]
		if !ok {
			t.Fatalf("output line %d has a change that was never committed: %+v", o.line+1, o.change)
		}
		seen[o.change]++
		run := runOf(o.line)
		rk := [2]int{run, o.Key}
		if prev, ok := last[rk]; ok && idx != prev+1 {
			t.Fatalf("run %d, key %d: change %d (%s v%d) follows change %d: out of order or a gap (line %d)",
				run, o.Key, idx, o.Op, o.Version, prev, o.line+1)
		}
		last[rk] = idx
		if run > 0 {
			p := resumed[run-1]
			if o.fileSeq < p.fileSeq || (o.fileSeq == p.fileSeq && o.pos < p.pos) {
				t.Fatalf("run %d emitted a change at %d:%d, before its stored start %d:%d (line %d)",
					run, o.fileSeq, o.pos, p.fileSeq, p.pos, o.line+1)
			}
		}
	}
	missing := 0
	for c := range index {
		if seen[c] == 0 {
			if missing < 5 {
				t.Errorf("committed change never delivered: %+v", c)
			}
			missing++
		}
		if exactlyOnce && seen[c] > 1 {
			t.Fatalf("change %+v delivered %d times", c, seen[c])
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d committed changes missing", missing, len(index))
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("verified %d committed changes in %d transactions over %d runs; %d delivered twice", len(index), w.txs, len(runStarts), dups)
}

type storedPos struct {
	fileSeq uint64
	pos     int64
}

// waitDelivered waits until the output holds every committed change.
func waitDelivered(t *testing.T, e *env, p *proc, w *workload, table string, d time.Duration) []record {
	t.Helper()
	total := w.total()
	return e.waitRecords(p, d, func(rs []record) bool {
		seen := map[change]bool{}
		for _, o := range observe(t, rs, table) {
			seen[o.change] = true
		}
		return len(seen) >= total
	})
}
