package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// seqSource emits n batches of one event each; batch i carries position i
// when i is a multiple of every.
type seqSource struct {
	n, every int
	emitted  int
}

func (s *seqSource) Run(ctx context.Context, from Position, stop <-chan struct{}, emit EmitFunc) error {
	start := 0
	if from != nil {
		start, _ = strconv.Atoi(string(from))
	}
	for i := start + 1; i <= s.n; i++ {
		select {
		case <-stop:
			if i%s.every == 1 || s.every == 1 {
				return nil
			}
		default:
		}
		b := &Batch{}
		b.Add(Event{Op: OpCreate, After: Row{Int(int64(i))}})
		if i%s.every == 0 {
			b.Position = Position(strconv.Itoa(i))
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
		s.emitted = i
	}
	<-stop
	return nil
}

// recordingSink applies batches into memory, optionally slowly or failing.
type recordingSink struct {
	mu     sync.Mutex
	seen   []int64
	delay  time.Duration
	failAt int64
}

func (s *recordingSink) Write(ctx context.Context, b *Batch) error {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range b.Events {
		v := e.After[0].AsInt()
		if s.failAt > 0 && v == s.failAt {
			return fmt.Errorf("boom at %d", v)
		}
		s.seen = append(s.seen, v)
	}
	return nil
}

func (s *recordingSink) Close() error { return nil }

type memStore struct {
	mu    sync.Mutex
	saved []string
}

func (m *memStore) SaveOffset(p Position) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, string(p))
	return nil
}

func (m *memStore) last() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.saved) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m.saved[len(m.saved)-1])
	return n
}

func TestPipelineDrainsAndCheckpointsOnStop(t *testing.T) {
	src := &seqSource{n: 200, every: 5}
	fast, slow := &recordingSink{}, &recordingSink{delay: time.Millisecond}
	store := &memStore{}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{fast, slow}, Store: store, Limits: Limits{MaxBatches: 4, MaxBytes: 1 << 20}}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), nil, stop) }()
	waitFor(t, func() bool { return store.last() >= 50 })
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Both sinks applied everything emitted, in order, and the last
	// checkpoint is the last boundary emitted.
	for name, s := range map[string]*recordingSink{"fast": fast, "slow": slow} {
		if len(s.seen) != src.emitted {
			t.Fatalf("%s sink applied %d events, source emitted %d", name, len(s.seen), src.emitted)
		}
		for i, v := range s.seen {
			if v != int64(i+1) {
				t.Fatalf("%s sink: event %d is %d", name, i, v)
			}
		}
	}
	if got, want := store.last(), src.emitted-src.emitted%5; got != want {
		t.Fatalf("last checkpoint %d, want %d", got, want)
	}
	// Checkpoints are monotonic.
	prev := 0
	for _, s := range store.saved {
		n, _ := strconv.Atoi(s)
		if n <= prev {
			t.Fatalf("checkpoints not increasing: %v", store.saved)
		}
		prev = n
	}
}

func TestPipelineNeverCheckpointsPastAFailedSink(t *testing.T) {
	src := &seqSource{n: 1000, every: 1}
	good, bad := &recordingSink{}, &recordingSink{failAt: 37}
	store := &memStore{}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{good, bad}, Store: store, Limits: Limits{MaxBatches: 8, MaxBytes: 1 << 20}}
	err := p.Run(context.Background(), nil, make(chan struct{}))
	if err == nil || !errorsContain(err, "boom at 37") {
		t.Fatalf("Run error = %v, want the sink failure", err)
	}
	if got := store.last(); got >= 37 {
		t.Fatalf("checkpoint %d passed the failed event 37", got)
	}
}

func TestPipelineBoundsInFlight(t *testing.T) {
	src := &seqSource{n: 100, every: 1}
	block := make(chan struct{})
	sink := &gateSink{gate: block}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{sink}, Store: &memStore{}, Limits: Limits{MaxBatches: 3, MaxBytes: 1 << 20}, Stats: &Stats{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, nil, make(chan struct{})) }()
	// The sink holds the first batch; the source can emit at most 3.
	waitFor(t, func() bool { return p.Stats.emittedOrZero() == 3 })
	for range 50 {
		if n := p.Stats.emittedOrZero(); n > 3 {
			t.Fatalf("source emitted %d batches with 3 allowed in flight", n)
		}
	}
	cancel()
	close(block)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v", err)
	}
}

type gateSink struct{ gate chan struct{} }

func (g *gateSink) Write(ctx context.Context, b *Batch) error {
	select {
	case <-g.gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (g *gateSink) Close() error { return nil }

func (s *Stats) emittedOrZero() int64 {
	if s == nil {
		return 0
	}
	return s.emittedBatches.Load()
}

func TestTrackerReleasesInOrder(t *testing.T) {
	tr := newTracker(2, durableCount)
	bs := make([]*Batch, 4)
	for i := range bs {
		bs[i] = &Batch{seq: uint64(i + 1)}
		tr.add(bs[i])
	}
	steps := []struct {
		ack  int
		want []int
	}{
		{1, nil}, {2, nil}, {1, nil}, // batch 2 done by both, but batch 1 is not
		{0, nil}, {0, []int{0, 1}}, // batch 1 done → 1 and 2 released
		{3, nil}, {2, []int{2}}, {3, []int{3}},
	}
	for i, s := range steps {
		got := tr.ack(bs[s.ack])
		if len(got) != len(s.want) {
			t.Fatalf("step %d: released %d batches, want %v", i, len(got), s.want)
		}
		for j, b := range got {
			if b != bs[s.want[j]] {
				t.Fatalf("step %d: released seq %d, want %d", i, b.seq, s.want[j]+1)
			}
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}

func errorsContain(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}

// txBatch is a batch of complete single-event source transactions with
// the given values, its position that of its last value; midTx leaves its
// last event open (no TxEnd), as a batch handed over inside a transaction.
func txBatch(midTx bool, vals ...int) *Batch {
	b := &Batch{}
	for _, v := range vals {
		b.Add(Event{Op: OpCreate, After: Row{Int(int64(v))}, TxEnd: true})
	}
	if n := len(b.Events); n > 0 {
		b.Position = Position(strconv.Itoa(vals[n-1]))
		if midTx {
			b.Events[n-1].TxEnd = false
			b.Position = nil
			if n > 1 {
				b.Position = Position(strconv.Itoa(vals[n-2]))
			}
		}
	}
	return b
}

func positionOnly(p string) *Batch { return &Batch{Position: Position(p)} }

func TestCoalesce(t *testing.T) {
	one := txBatch(false, 1).Bytes
	roomy := Limits{MergeEvents: 100, MergeBytes: 1 << 20}
	tests := []struct {
		name      string
		first     *Batch
		queued    []*Batch
		limits    Limits
		wantRun   int    // batches in the Write
		wantVals  []int  // its events
		wantEnds  []bool // their TxEnd marks
		wantPos   string
		wantRest  []int // first event of each batch taken and held back for the next writes
		wantQueue int   // batches left in the queue
	}{
		{
			name: "nothing queued", first: txBatch(false, 1), limits: roomy,
			wantRun: 1, wantVals: []int{1}, wantEnds: []bool{true}, wantPos: "1",
		},
		{
			name: "queued transactions join", first: txBatch(false, 1),
			queued: []*Batch{txBatch(false, 2, 3), txBatch(false, 4)}, limits: roomy,
			wantRun: 3, wantVals: []int{1, 2, 3, 4}, wantEnds: []bool{true, true, true, true}, wantPos: "4",
		},
		{
			name: "position-only batches join and move the position", first: txBatch(false, 1),
			queued: []*Batch{positionOnly("7"), txBatch(false, 8), positionOnly("9")}, limits: roomy,
			wantRun: 4, wantVals: []int{1, 8}, wantEnds: []bool{true, true}, wantPos: "9",
		},
		{
			name: "a batch ending inside a transaction joins the one that ends it", first: txBatch(true, 1, 2),
			queued: []*Batch{txBatch(false, 3)}, limits: roomy,
			wantRun: 2, wantVals: []int{1, 2, 3}, wantEnds: []bool{true, false, true}, wantPos: "3",
		},
		{
			name: "a batch without a position joins", first: txBatch(true, 1),
			queued: []*Batch{txBatch(false, 2)}, limits: roomy,
			wantRun: 2, wantVals: []int{1, 2}, wantEnds: []bool{false, true}, wantPos: "2",
		},
		{
			name: "a run ending inside a transaction ends at the last position instead", first: txBatch(false, 1),
			queued: []*Batch{txBatch(false, 2), txBatch(true, 3)}, limits: roomy,
			wantRun: 2, wantVals: []int{1, 2}, wantEnds: []bool{true, true}, wantPos: "2", wantRest: []int{3},
		},
		{
			name: "a bound inside a transaction: the write ends at the last position", first: txBatch(false, 1),
			queued: []*Batch{txBatch(true, 2, 3), txBatch(true, 4), txBatch(false, 5)}, limits: Limits{MergeEvents: 4, MergeBytes: 1 << 20},
			wantRun: 2, wantVals: []int{1, 2, 3}, wantEnds: []bool{true, true, false}, wantPos: "2", wantRest: []int{4, 5},
		},
		{
			name: "a run without any position is written as it is", first: txBatch(true, 1),
			queued: []*Batch{txBatch(true, 2), txBatch(true, 3, 4)}, limits: Limits{MergeEvents: 3, MergeBytes: 1 << 20},
			wantRun: 2, wantVals: []int{1, 2}, wantEnds: []bool{false, false}, wantPos: "", wantRest: []int{3},
		},
		{
			name: "queued batches ending inside transactions join", first: txBatch(false, 1),
			queued: []*Batch{txBatch(false, 2), txBatch(true, 3, 4), txBatch(false, 5)}, limits: roomy,
			wantRun: 4, wantVals: []int{1, 2, 3, 4, 5}, wantEnds: []bool{true, true, true, false, true}, wantPos: "5",
		},
		{
			name: "event bound", first: txBatch(false, 1, 2),
			queued: []*Batch{txBatch(false, 3), txBatch(false, 4, 5), txBatch(false, 6)}, limits: Limits{MergeEvents: 4, MergeBytes: 1 << 20},
			wantRun: 2, wantVals: []int{1, 2, 3}, wantEnds: []bool{true, true, true}, wantPos: "3", wantRest: []int{4}, wantQueue: 1,
		},
		{
			name: "event bound reached exactly", first: txBatch(false, 1, 2),
			queued: []*Batch{txBatch(false, 3, 4), txBatch(false, 5)}, limits: Limits{MergeEvents: 4, MergeBytes: 1 << 20},
			wantRun: 2, wantVals: []int{1, 2, 3, 4}, wantEnds: []bool{true, true, true, true}, wantPos: "4", wantRest: []int{5},
		},
		{
			name: "byte bound", first: txBatch(false, 1),
			queued: []*Batch{txBatch(false, 2), txBatch(false, 3)}, limits: Limits{MergeEvents: 100, MergeBytes: 2*one + one/2},
			wantRun: 2, wantVals: []int{1, 2}, wantEnds: []bool{true, true}, wantPos: "2", wantRest: []int{3},
		},
		{
			name: "a batch beyond the bounds is written alone, whole", first: txBatch(false, 1, 2, 3),
			queued: []*Batch{txBatch(false, 4)}, limits: Limits{MergeEvents: 2, MergeBytes: 1 << 20},
			wantRun: 1, wantVals: []int{1, 2, 3}, wantEnds: []bool{true, true, true}, wantPos: "3", wantRest: []int{4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := make(chan *Batch, len(tt.queued)+1)
			for _, b := range tt.queued {
				q <- b
			}
			before := []*Batch{tt.first}
			for _, b := range tt.queued {
				before = append(before, &Batch{Events: append([]Event(nil), b.Events...), Position: b.Position, Bytes: b.Bytes})
			}
			more := func() *Batch {
				select {
				case b := <-q:
					return b
				default:
					return nil
				}
			}
			run, w, rest := coalesce(tt.first, more, tt.limits)
			if len(run) != tt.wantRun {
				t.Fatalf("run of %d batches, want %d", len(run), tt.wantRun)
			}
			if len(run) == 1 && w != tt.first {
				t.Error("a batch written alone is not passed as is")
			}
			var vals []int
			var ends []bool
			for _, e := range w.Events {
				vals = append(vals, int(e.After[0].AsInt()))
				ends = append(ends, e.TxEnd)
			}
			if !equalInts(vals, tt.wantVals) || len(ends) != len(tt.wantEnds) {
				t.Fatalf("events %v, want %v", vals, tt.wantVals)
			}
			for i := range ends {
				if ends[i] != tt.wantEnds[i] {
					t.Fatalf("TxEnd marks %v, want %v", ends, tt.wantEnds)
				}
			}
			if string(w.Position) != tt.wantPos {
				t.Errorf("position %q, want %q", w.Position, tt.wantPos)
			}
			bytes := 0
			for _, b := range run {
				bytes += b.Bytes
			}
			if w.Bytes != bytes {
				t.Errorf("bytes %d, want %d", w.Bytes, bytes)
			}
			if len(run) > 1 && (len(w.Events) > tt.limits.MergeEvents || w.Bytes > tt.limits.MergeBytes) {
				t.Errorf("merged write of %d events, %d bytes exceeds %+v", len(w.Events), w.Bytes, tt.limits)
			}
			var held []int
			for _, b := range rest {
				held = append(held, int(b.Events[0].After[0].AsInt()))
			}
			if !equalInts(held, tt.wantRest) {
				t.Errorf("held back batches starting with %v, want %v", held, tt.wantRest)
			}
			if len(q) != tt.wantQueue {
				t.Errorf("%d batches left queued, want %d", len(q), tt.wantQueue)
			}
			// The batches themselves are untouched: each is acknowledged
			// as emitted.
			for i, b := range run[1:] {
				orig := before[i+1]
				if len(b.Events) != len(orig.Events) || string(b.Position) != string(orig.Position) || b.Bytes != orig.Bytes {
					t.Errorf("batch %d changed by the merge", i+1)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// txSource emits n single-event source transactions, one batch each, as
// a source does whose stream goes idle after every commit.
type txSource struct{ n int }

func (s *txSource) Run(ctx context.Context, _ Position, stop <-chan struct{}, emit EmitFunc) error {
	for i := 1; i <= s.n; i++ {
		if err := emit(ctx, txBatch(false, i)); err != nil {
			return err
		}
	}
	<-stop
	return nil
}

// writeLog records each Write; the first blocks until release is closed.
type writeLog struct {
	mu      sync.Mutex
	release chan struct{}
	writes  []*Batch
}

func (s *writeLog) Write(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	first := len(s.writes) == 0
	s.mu.Unlock()
	if first {
		select {
		case <-s.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	// The batch's events belong to the pipeline once Write returns.
	s.writes = append(s.writes, &Batch{Events: slices.Clone(b.Events), Position: b.Position})
	s.mu.Unlock()
	return nil
}

func (s *writeLog) Close() error { return nil }

// Behind a slow sink, the batches queued meanwhile reach it in one Write,
// and every invariant holds: each sink applies every event once, in order;
// each Write's position is that of its last event; checkpoints increase
// and reach the last position.
func TestPipelineMergesQueuedTransactions(t *testing.T) {
	const n, inFlight = 40, 8
	slow := &writeLog{release: make(chan struct{})}
	fast := &writeLog{release: make(chan struct{})}
	close(fast.release)
	store := &memStore{}
	p := &Pipeline{Name: "t", Source: &txSource{n: n}, Sinks: []Sink{slow, fast}, Store: store,
		Limits: Limits{MaxBatches: inFlight, MaxBytes: 1 << 20, MergeEvents: 5, MergeBytes: 1 << 20}, Stats: &Stats{}}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), nil, stop) }()
	waitFor(t, func() bool { return p.Stats.emittedOrZero() == inFlight })
	close(slow.release)
	waitFor(t, func() bool { return store.last() == n })
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	for name, s := range map[string]*writeLog{"slow": slow, "fast": fast} {
		next := 1
		for i, w := range s.writes {
			if len(w.Events) == 0 || len(w.Events) > 5 {
				t.Fatalf("%s sink write %d: %d events", name, i, len(w.Events))
			}
			for _, e := range w.Events {
				if v := int(e.After[0].AsInt()); v != next || !e.TxEnd {
					t.Fatalf("%s sink write %d: event %d (TxEnd %v), want %d", name, i, v, e.TxEnd, next)
				}
				next++
			}
			if string(w.Position) != strconv.Itoa(next-1) {
				t.Fatalf("%s sink write %d: position %s after event %d", name, i, w.Position, next-1)
			}
		}
		if next != n+1 {
			t.Fatalf("%s sink applied %d events, want %d", name, next-1, n)
		}
	}
	// While the slow sink held its first Write, the source filled the
	// pipeline: the second Write carries at least the batches queued
	// meanwhile (at least 3: the first took at most 5 of 8), as many as
	// the merge bound allows.
	if len(slow.writes) < 2 {
		t.Fatalf("slow sink: %d writes", len(slow.writes))
	}
	if got, want := len(slow.writes[1].Events), min(5, inFlight-len(slow.writes[0].Events)); got < want {
		t.Fatalf("slow sink's second write has %d events, want at least %d merged", got, want)
	}
	prev := 0
	for _, s := range store.saved {
		v, _ := strconv.Atoi(s)
		if v <= prev {
			t.Fatalf("checkpoints not increasing: %v", store.saved)
		}
		prev = v
	}
}

// offerSource commits n single-event transactions through a Batcher,
// offering the batch after each, then flushes and reports offered.
type offerSource struct {
	n       int
	offered chan struct{}
}

func (s *offerSource) Run(ctx context.Context, _ Position, stop <-chan struct{}, emit EmitFunc) error {
	b := NewBatcher(emit, 1000, 1<<20, time.Hour)
	for i := 1; i <= s.n; i++ {
		b.Add(Event{Op: OpCreate, After: Row{Int(int64(i))}})
		b.Boundary(Position(strconv.Itoa(i)))
		if err := b.Offer(ctx); err != nil {
			return err
		}
	}
	close(s.offered)
	if err := b.Flush(ctx, false); err != nil {
		return err
	}
	<-stop
	return nil
}

// While the sink is behind and the pipeline full, the source's batch
// grows instead of waiting: once the sink catches up, everything committed
// meanwhile arrives in one batch, in order, with the last position.
func TestPipelineOfferGrowsTheBatchWhileFull(t *testing.T) {
	const n = 50
	sink := &writeLog{release: make(chan struct{})}
	store := &memStore{}
	src := &offerSource{n: n, offered: make(chan struct{})}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{sink}, Store: store,
		Limits: Limits{MaxBatches: 2, MaxBytes: 1 << 20}, Stats: &Stats{}}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), nil, stop) }()
	<-src.offered
	if got := p.Stats.emittedOrZero(); got != 2 {
		t.Fatalf("%d batches emitted into a pipeline of 2, sink blocked", got)
	}
	close(sink.release)
	waitFor(t, func() bool { return store.last() == n })
	close(stop)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := p.Stats.emittedOrZero(); got != 3 {
		t.Fatalf("%d batches emitted, want 3 (two, then the rest grown into one)", got)
	}
	next := 1
	for i, w := range sink.writes {
		for _, e := range w.Events {
			if v := int(e.After[0].AsInt()); v != next || !e.TxEnd {
				t.Fatalf("write %d: event %d (TxEnd %v), want %d", i, v, e.TxEnd, next)
			}
			next++
		}
		if string(w.Position) != strconv.Itoa(next-1) {
			t.Fatalf("write %d: position %s after event %d", i, w.Position, next-1)
		}
	}
	if next != n+1 {
		t.Fatalf("sink applied %d events, want %d", next-1, n)
	}
}

type eagerFlag struct {
	mu sync.Mutex
	on bool
}

func (e *eagerFlag) EagerCheckpoints() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.on }

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.saved)
}

func TestCheckpointerInterval(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration
		eager    bool
		// offers after the first write, then what the store holds once
		// settled (before close when settle says so, else after close)
		settle bool
		want   []string
	}{
		{name: "no interval stores each position", interval: 0, settle: true, want: []string{"1", "2", "3"}},
		{name: "positions within the interval coalesce; close stores the last at once", interval: time.Hour, want: []string{"1", "3"}},
		// Without close, 3 is stored once the interval ends (2 too when the
		// offers happen to straddle it on a slow machine: want is then
		// checked as "ends with 3").
		{name: "the coalesced position is stored when the interval ends", interval: 200 * time.Millisecond, settle: true, want: []string{"3"}},
		{name: "an eager source gets every position at once", interval: time.Hour, eager: true, settle: true, want: []string{"1", "2", "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &memStore{}
			c := newCheckpointer(store, &Stats{})
			c.interval = tt.interval
			c.eager = &eagerFlag{on: tt.eager}
			done := make(chan error, 1)
			go func() { done <- c.run() }()
			c.offer(Position("1"))
			waitFor(t, func() bool { return store.count() == 1 })
			c.offer(Position("2"))
			if tt.interval == 0 || tt.eager {
				waitFor(t, func() bool { return store.count() == 2 })
			}
			c.offer(Position("3"))
			if tt.settle {
				waitFor(t, func() bool { return store.last() == 3 })
			}
			c.close()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got := strings.Join(store.saved, ",")
			if tt.settle && tt.interval > 0 && !tt.eager {
				if !strings.HasPrefix(got, "1,") || !strings.HasSuffix(got, ",3") {
					t.Fatalf("stored %s, want 1 first and 3 last", got)
				}
				return
			}
			if got != strings.Join(tt.want, ",") {
				t.Fatalf("stored %s, want %s", got, strings.Join(tt.want, ","))
			}
		})
	}
}
