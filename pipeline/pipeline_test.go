package pipeline

import (
	"context"
	"errors"
	"fmt"
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
	tr := newTracker(2)
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
