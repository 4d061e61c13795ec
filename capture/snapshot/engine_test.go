package snapshot

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// simDB is a simulated database for the merge algorithm: tables of int
// keys whose every change is logged at an increasing position, with the
// history kept so that a read can see a table exactly as of a position.
type simDB struct {
	mu     sync.Mutex
	log    []simChange // position i+1 is log[i]
	hist   map[string]map[int64][]version
	window bool // reads report a window (Low < High) instead of an exact position
	newer  bool // reads report a window and an exact Newer predicate (PostgreSQL-like)
	rng    *rand.Rand
	reads  map[string]int // rows read per table
}

type simChange struct {
	table  string
	key    int64
	before *int64
	after  *int64
}

type version struct {
	pos   uint64
	value *int64 // nil: deleted
}

func newSimDB(seed uint64, window bool) *simDB {
	return &simDB{hist: map[string]map[int64][]version{}, window: window, rng: rand.New(rand.NewPCG(seed, 1)), reads: map[string]int{}}
}

// run positions double as transaction ids in the simulation.

func (d *simDB) write(table string, key int64, value *int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hist[table] == nil {
		d.hist[table] = map[int64][]version{}
	}
	vs := d.hist[table][key]
	var before *int64
	if len(vs) > 0 {
		before = vs[len(vs)-1].value
	}
	if before == nil && value == nil {
		return
	}
	d.log = append(d.log, simChange{table: table, key: key, before: before, after: value})
	d.hist[table][key] = append(vs, version{pos: uint64(len(d.log)), value: value})
}

func (d *simDB) end() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return uint64(len(d.log))
}

// asOf returns the table's rows at pos, sorted by key.
func (d *simDB) asOf(table string, pos uint64) map[int64]int64 {
	out := map[int64]int64{}
	for k, vs := range d.hist[table] {
		var cur *int64
		for _, v := range vs {
			if v.pos <= pos {
				cur = v.value
			}
		}
		if cur != nil {
			out[k] = *cur
		}
	}
	return out
}

func simRow(k, v int64) pipeline.Row { return pipeline.Row{pipeline.Int(k), pipeline.Int(v)} }

func cursorOf(k int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(k)) }

func keyOf(c []byte) int64 { return int64(binary.BigEndian.Uint64(c)) }

func (d *simDB) Split(_ context.Context, t *Table, n int) ([]Range, error) {
	// Keys are 1..1000: split that space evenly.
	var rs []Range
	for i := range n {
		r := Range{}
		if i > 0 {
			r.From = cursorOf(int64(i * 1000 / n))
		}
		if i < n-1 {
			r.To = cursorOf(int64((i + 1) * 1000 / n))
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func (d *simDB) ReadChunk(_ context.Context, t *Table, r Range, after []byte, limit int, floor uint64) (*Chunk, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	low := uint64(len(d.log))
	at := low
	high := low
	if d.window || d.newer {
		// The read sees some point between the floor and now, and reports
		// only the window.
		low = floor
		at = floor + d.rng.Uint64N(uint64(len(d.log))-floor+1)
		high = uint64(len(d.log))
	}
	rows := d.asOf(t.Name, at)
	var keys []int64
	lo := int64(-1 << 62)
	if after != nil {
		lo = keyOf(after)
	} else if r.From != nil {
		lo = keyOf(r.From)
	}
	for k := range rows {
		if k > lo && (r.To == nil || k <= keyOf(r.To)) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	ch := &Chunk{Low: low, High: high}
	if d.newer {
		seen := at
		ch.Newer = func(_, tx uint64) bool { return tx > seen }
	}
	if len(keys) > limit {
		keys, ch.More = keys[:limit], true
	}
	for _, k := range keys {
		ch.Rows = append(ch.Rows, simRow(k, rows[k]))
		ch.Last = cursorOf(k)
	}
	d.reads[t.Name] += len(keys)
	return ch, nil
}

func (d *simDB) OpenScan(context.Context, *Table, uint64) (Scan, error) {
	return nil, fmt.Errorf("no keyless tables in the simulation")
}

// simOutput applies events by key, as a consumer would.
type simOutput struct {
	rows    map[string]map[int64]int64
	events  int
	markers []pipeline.SnapshotMarker
}

func (o *simOutput) apply(table string, k int64, v *int64) {
	if o.rows[table] == nil {
		o.rows[table] = map[int64]int64{}
	}
	if v == nil {
		delete(o.rows[table], k)
	} else {
		o.rows[table][k] = *v
	}
	o.events++
}

type simRun struct {
	t         *testing.T
	db        *simDB
	eng       *Engine
	processed uint64 // stream position
	out       *simOutput
	acked     *State
}

func (r *simRun) emitDue() {
	for {
		em := r.eng.Next(r.processed)
		if em == nil {
			return
		}
		for i, row := range em.Rows {
			v := row[1].AsInt()
			r.out.apply(em.Table.Name, row[0].AsInt(), &v)
			r.out.markers = append(r.out.markers, em.Markers[i])
		}
		// The sinks apply at once; the checkpoint carries the state.
		r.acked = r.eng.State()
		r.eng.Acked(r.acked)
	}
}

// step processes up to n logged changes through the stream.
func (r *simRun) step(n int) {
	for ; n > 0 && r.processed < r.db.end(); n-- {
		r.db.mu.Lock()
		c := r.db.log[r.processed]
		r.db.mu.Unlock()
		r.processed++
		r.out.apply(c.table, c.key, c.after)
		var imgs []pipeline.Row
		if c.before != nil {
			imgs = append(imgs, simRow(c.key, *c.before))
		}
		if c.after != nil {
			imgs = append(imgs, simRow(c.key, *c.after))
		}
		r.eng.ObserveTx(c.table, r.processed, r.processed, imgs...)
		r.eng.SetStreamPos(r.processed)
		r.emitDue()
	}
}

func (r *simRun) drainReady() error {
	for {
		select {
		case v := <-r.eng.Ready():
			if err := r.eng.Register(v); err != nil {
				return err
			}
			r.emitDue()
		default:
			return nil
		}
	}
}

func simTables() []*Table {
	var ts []*Table
	for _, name := range []string{"db.a", "db.b", "db.c"} {
		ts = append(ts, &Table{Name: name, Schema: pipeline.NewTable(pipeline.TableID{Database: "db", Name: name[3:]}, name, nil, nil), Key: []int{0}, Estimate: 300})
	}
	return ts
}

// TestMergeIsConsistentWithHistory runs snapshots against a simulated
// database written to throughout, with the stream lagging by random
// amounts, and checks that applying every event by key gives exactly the
// final rows — for exact watermarks (MariaDB) and windows (MySQL).
func TestMergeIsConsistentWithHistory(t *testing.T) {
	for _, mode := range []string{"exact", "window", "newer"} {
		for seed := uint64(1); seed <= 20; seed++ {
			t.Run(fmt.Sprintf("%s/seed=%d", mode, seed), func(t *testing.T) {
				db := newSimDB(seed, mode == "window")
				db.newer = mode == "newer"
				rng := rand.New(rand.NewPCG(seed, 2))
				write := func() {
					table := []string{"db.a", "db.b", "db.c"}[rng.IntN(3)]
					k := int64(1 + rng.IntN(1000))
					if rng.IntN(4) == 0 {
						db.write(table, k, nil)
					} else {
						v := rng.Int64N(1 << 40)
						db.write(table, k, &v)
					}
				}
				for range 600 {
					write()
				}
				run := &simRun{t: t, db: db, out: &simOutput{rows: map[string]map[int64]int64{}}}
				// The stream starts where the snapshot starts: everything
				// before is the snapshot's job.
				run.processed = db.end()
				eng := New(Config{ChunkRows: 1 + rng.IntN(40), Parallelism: 1 + rng.IntN(4), MaxTrackedKeys: 50 + rng.IntN(2000),
					Log: slog.New(slog.DiscardHandler)}, db, Initial, simTables(), nil)
				run.eng = eng
				if err := eng.Start(context.Background(), run.processed); err != nil {
					t.Fatal(err)
				}
				defer eng.Stop()
				deadline := time.Now().Add(20 * time.Second)
				for !eng.Done() {
					if time.Now().After(deadline) {
						t.Fatalf("snapshot did not finish: %+v", eng.Progress())
					}
					for range rng.IntN(5) {
						write()
					}
					run.step(rng.IntN(6))
					if err := run.drainReady(); err != nil {
						t.Fatal(err)
					}
					if rng.IntN(3) == 0 {
						// Wait for a worker now and then, so that reads land
						// at many different stream lags.
						select {
						case v := <-eng.Ready():
							if err := eng.Register(v); err != nil {
								t.Fatal(err)
							}
							run.emitDue()
						case <-time.After(time.Millisecond):
						}
					}
				}
				for range 50 {
					write()
				}
				run.step(1 << 30)
				for _, name := range []string{"db.a", "db.b", "db.c"} {
					want := db.asOf(name, db.end())
					got := run.out.rows[name]
					if len(got) != len(want) {
						t.Fatalf("%s: consumer has %d rows, source %d", name, len(got), len(want))
					}
					for k, v := range want {
						if got[k] != v {
							t.Fatalf("%s key %d: consumer has %d, source %d", name, k, got[k], v)
						}
					}
				}
				checkMarkers(t, run.out.markers)
			})
		}
	}
}

func checkMarkers(t *testing.T, ms []pipeline.SnapshotMarker) {
	t.Helper()
	if len(ms) == 0 {
		return
	}
	count := map[pipeline.SnapshotMarker]int{}
	for _, m := range ms {
		count[m]++
	}
	if ms[0] != pipeline.SnapshotFirst || count[pipeline.SnapshotFirst] != 1 {
		t.Errorf("first marker: %v, %d firsts", ms[0], count[pipeline.SnapshotFirst])
	}
	if count[pipeline.SnapshotLast] > 1 {
		t.Errorf("%d rows marked last", count[pipeline.SnapshotLast])
	}
}

// TestResumeReadsAtMostOneChunkPerRangeAgain stops a snapshot mid-way,
// keeps only the checkpointed state, and resumes: rows already checkpointed
// are not read again except the chunk in flight per range.
func TestResumeReadsAtMostOneChunkPerRangeAgain(t *testing.T) {
	db := newSimDB(9, false)
	for k := int64(1); k <= 1000; k++ {
		for _, table := range []string{"db.a", "db.b", "db.c"} {
			v := k * 10
			db.write(table, k, &v)
		}
	}
	const chunk = 25
	run := &simRun{t: t, db: db, out: &simOutput{rows: map[string]map[int64]int64{}}, processed: db.end()}
	tables := simTables()
	for _, tb := range tables {
		tb.Estimate = 1000
	}
	eng := New(Config{ChunkRows: chunk, Parallelism: 3, Log: slog.New(slog.DiscardHandler)}, db, Initial, tables, nil)
	run.eng = eng
	if err := eng.Start(context.Background(), run.processed); err != nil {
		t.Fatal(err)
	}
	for run.out.events < 900 {
		if err := eng.Register(<-eng.Ready()); err != nil {
			t.Fatal(err)
		}
		run.emitDue()
	}
	eng.Stop()
	saved := run.acked
	_, _, rowsDone, _ := saved.Summary()
	readBefore := 0
	for _, n := range db.reads {
		readBefore += n
	}

	eng2 := New(Config{ChunkRows: chunk, Parallelism: 3, Log: slog.New(slog.DiscardHandler)}, db, Initial, simTables(), saved)
	run.eng = eng2
	if err := eng2.Start(context.Background(), run.processed); err != nil {
		t.Fatal(err)
	}
	defer eng2.Stop()
	for !eng2.Done() {
		if err := eng2.Register(<-eng2.Ready()); err != nil {
			t.Fatal(err)
		}
		run.emitDue()
	}
	readTotal := 0
	for _, n := range db.reads {
		readTotal += n
	}
	ranges := 0
	for _, ts := range saved.Tables {
		ranges += len(ts.Ranges)
	}
	reread := readTotal - 3000
	if limit := (chunksAhead + 1) * ranges * chunk; reread > limit {
		t.Fatalf("resume re-read %d rows; at most %d (%d chunks per range, %d ranges) allowed (checkpointed %d of %d read)",
			reread, limit, chunksAhead+1, ranges, rowsDone, readBefore)
	}
	for _, name := range []string{"db.a", "db.b", "db.c"} {
		if len(run.out.rows[name]) != 1000 {
			t.Fatalf("%s: %d rows after resume", name, len(run.out.rows[name]))
		}
	}
	t.Logf("stopped after %d rows read, %d checkpointed; resumed re-reading %d rows over %d ranges", readBefore, rowsDone, reread, ranges)
}
