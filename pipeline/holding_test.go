package pipeline

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// holdingSink holds every position it writes while hold is on; Flush makes
// them durable.
type holdingSink struct {
	recordingSink
	mu      sync.Mutex
	allowed bool
	hold    bool
	holding bool
	durable []int64 // positions made durable, in order
	written []int64 // positions written
	flushes int
}

func (s *holdingSink) AllowHolding() { s.mu.Lock(); s.allowed = true; s.mu.Unlock() }

func (s *holdingSink) Write(ctx context.Context, b *Batch) error {
	if err := s.recordingSink.Write(ctx, b); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.Position != nil {
		n, _ := strconv.Atoi(string(b.Position))
		s.written = append(s.written, int64(n))
	}
	s.holding = s.allowed && s.hold
	if !s.holding {
		s.durable = append(s.durable, s.written...)
		s.written = nil
	}
	return nil
}

func (s *holdingSink) Holding() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.holding }

func (s *holdingSink) Flush(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	s.durable = append(s.durable, s.written...)
	s.written, s.holding = nil, false
	return nil
}

func (s *holdingSink) setHold(on bool) { s.mu.Lock(); s.hold = on; s.mu.Unlock() }

func (s *holdingSink) state() (durable []int64, flushes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.durable), s.flushes
}

// writtenSource is a seqSource that records the positions the pipeline
// reports written.
type writtenSource struct {
	seqSource
	mu      sync.Mutex
	written []int
}

func (s *writtenSource) Written(p Position) {
	n, _ := strconv.Atoi(string(p))
	s.mu.Lock()
	s.written = append(s.written, n)
	s.mu.Unlock()
}

func (s *writtenSource) writtenList() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.written)
}

// A holding sink's positions reach the checkpoint only once it made them
// durable: by a later Write that does not hold, or by the Flush the
// pipeline calls when the queue has been idle. Meanwhile the batches'
// memory is free: the source goes on past MaxBatches, and learns which
// positions are written.
func TestPipelineHoldingSink(t *testing.T) {
	src := &writtenSource{seqSource: seqSource{n: 40, every: 2}}
	sink := &holdingSink{hold: true}
	store := &checkedStore{sink: sink}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{sink}, Store: store, Limits: Limits{MaxBatches: 2, MaxBytes: 1 << 20}}
	stop := runUntilStopped(t, p)

	// Everything is emitted although nothing is durable: written batches
	// no longer count against MaxBatches.
	waitFor(t, func() bool { return len(src.writtenList()) == 20 })
	if got := src.writtenList(); !slices.Equal(got, []int{2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40}) {
		t.Fatalf("written positions %v", got)
	}
	// The idle queue makes the pipeline flush; only then is 40 stored.
	waitFor(t, func() bool { return store.last() == 40 })
	durable, flushes := sink.state()
	if flushes == 0 || len(durable) != 20 {
		t.Fatalf("flushes %d, durable %v", flushes, durable)
	}
	if v := store.violations(); len(v) > 0 {
		t.Fatalf("checkpoints stored before the sink made them durable: %v", v)
	}
	stop()
}

// A graceful stop flushes a holding sink before the last checkpoint.
func TestPipelineHoldingSinkFlushesOnStop(t *testing.T) {
	src := &writtenSource{seqSource: seqSource{n: 10, every: 1}}
	sink := &holdingSink{hold: true}
	store := &memStore{}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{sink}, Store: store, FlushIdle: time.Hour}
	stop := runUntilStopped(t, p)
	waitFor(t, func() bool { w := src.writtenList(); return len(w) > 0 && w[len(w)-1] == 10 })
	if n := store.count(); n != 0 {
		t.Fatalf("%d checkpoints stored while the sink holds", n)
	}
	stop()
	durable, flushes := sink.state()
	if flushes != 1 || durable[len(durable)-1] != 10 || store.last() != 10 {
		t.Fatalf("flushes %d, durable %v, stored %v; want one flush making 10 durable and stored", flushes, durable, store.saved)
	}
}

// A Write that does not hold makes the held positions before it durable
// with its own.
func TestPipelineHoldingSinkReleasedByWrite(t *testing.T) {
	src := &seqSource{n: 6, every: 1}
	sink := &holdingSink{hold: true}
	store := &checkedStore{sink: sink}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{&gatedHolder{holdingSink: sink, releaseAt: 6}}, Store: store}
	stop := runUntilStopped(t, p)
	waitFor(t, func() bool { return store.last() == 6 })
	stop()
	// Merged writes and idle flushes vary with timing; what must hold is
	// that no stored position was not durable first.
	durable, _ := sink.state()
	if durable[len(durable)-1] != 6 {
		t.Fatalf("durable %v", durable)
	}
	if v := store.violations(); len(v) > 0 {
		t.Fatalf("checkpoints stored before the sink made them durable: %v", v)
	}
}

// gatedHolder holds until the batch with position releaseAt.
type gatedHolder struct {
	*holdingSink
	releaseAt int64
}

func (g *gatedHolder) Write(ctx context.Context, b *Batch) error {
	n, _ := strconv.Atoi(string(b.Position))
	g.setHold(int64(n) < g.releaseAt)
	return g.holdingSink.Write(ctx, b)
}

// A sink is never told it may hold when it is wrapped by a sink that does
// not pass holding on; one that is not allowed never holds.
func TestPipelineHoldingNeedsAllowing(t *testing.T) {
	sink := &holdingSink{hold: true}
	src := &seqSource{n: 4, every: 1}
	store := &memStore{}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{plainSink{sink}}, Store: store}
	stop := runUntilStopped(t, p)
	waitFor(t, func() bool { return store.last() == 4 })
	stop()
	if _, flushes := sink.state(); flushes != 0 || sink.allowed {
		t.Fatalf("a wrapped sink was allowed to hold (flushes %d)", flushes)
	}
}

type plainSink struct{ s Sink }

func (p plainSink) Write(ctx context.Context, b *Batch) error { return p.s.Write(ctx, b) }
func (p plainSink) Close() error                              { return nil }

// checkedStore records the positions stored before the sink had made
// them durable.
type checkedStore struct {
	memStore
	sink *holdingSink
	bad  []string
}

func (c *checkedStore) SaveOffset(p Position) error {
	n, _ := strconv.Atoi(string(p))
	durable, _ := c.sink.state()
	if len(durable) == 0 || int64(n) > slices.Max(durable) {
		c.mu.Lock()
		c.bad = append(c.bad, string(p))
		c.mu.Unlock()
	}
	return c.memStore.SaveOffset(p)
}

func (c *checkedStore) violations() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.bad)
}

// scriptSource emits the batches it is given, waiting before each one
// for its gate (nil: at once), then waits for stop.
type scriptSource struct {
	batches []*Batch
	gates   []chan struct{}
}

func (s *scriptSource) Run(ctx context.Context, _ Position, stop <-chan struct{}, emit EmitFunc) error {
	for i, b := range s.batches {
		if g := s.gates[i]; g != nil {
			select {
			case <-g:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := emit(ctx, b); err != nil {
			return err
		}
	}
	<-stop
	return nil
}

// tailSink holds like holdingSink, but its Flush cannot commit while its
// last Write ended inside a source transaction (no position).
type tailSink struct {
	holdingSink
	tail bool
}

func (s *tailSink) Write(ctx context.Context, b *Batch) error {
	s.mu.Lock()
	s.tail = b.Position == nil
	s.mu.Unlock()
	return s.holdingSink.Write(ctx, b)
}

func (s *tailSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	tail := s.tail
	if tail {
		s.flushes++
	}
	s.mu.Unlock()
	if tail {
		return nil
	}
	return s.holdingSink.Flush(ctx)
}

// A Flush that cannot commit (the sink is inside a source transaction)
// acknowledges nothing; the Write that ends the transaction does.
func TestPipelineHoldingSinkInsideATransaction(t *testing.T) {
	one := &Batch{}
	one.Add(Event{Op: OpCreate, After: Row{Int(1)}, TxEnd: true})
	one.Position = Position("1")
	two := &Batch{}
	two.Add(Event{Op: OpCreate, After: Row{Int(2)}}) // a transaction's start
	three := &Batch{}
	three.Add(Event{Op: OpCreate, After: Row{Int(3)}, TxEnd: true})
	three.Position = Position("3")
	gate := make(chan struct{})
	src := &scriptSource{batches: []*Batch{one, two, three}, gates: []chan struct{}{nil, nil, gate}}
	sink := &tailSink{holdingSink: holdingSink{hold: true}}
	store := &checkedStore{sink: &sink.holdingSink}
	p := &Pipeline{Name: "t", Source: src, Sinks: []Sink{sink}, Store: store, FlushIdle: time.Millisecond}
	stop := runUntilStopped(t, p)

	// The idle queue made the pipeline try a flush, which could not commit.
	waitFor(t, func() bool { _, f := sink.state(); return f > 0 })
	if n := store.count(); n != 0 {
		t.Fatalf("%d checkpoints stored while the sink is inside a transaction", n)
	}
	sink.setHold(false)
	close(gate)
	waitFor(t, func() bool { return store.last() == 3 })
	stop()
	if v := store.violations(); len(v) > 0 {
		t.Fatalf("checkpoints stored before the sink made them durable: %v", v)
	}
}

// runUntilStopped runs p; the function it returns stops p gracefully and
// fails the test unless Run returned nil.
func runUntilStopped(t *testing.T, p *Pipeline) (stop func()) {
	stopCh := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- p.Run(context.Background(), nil, stopCh) }()
	return func() {
		t.Helper()
		close(stopCh)
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}
