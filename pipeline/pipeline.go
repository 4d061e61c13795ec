package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// EmitFunc hands a batch to the pipeline. It blocks while the pipeline holds
// as many batches or bytes as it may (backpressure) and fails when ctx ends
// or the pipeline is failing. After Emit the batch belongs to the pipeline.
type EmitFunc func(ctx context.Context, b *Batch) error

// Source captures changes from a database.
type Source interface {
	// Run streams changes that follow from (nil: where the source starts
	// when it has no stored position) to emit. When stop is closed it
	// finishes the source transaction in progress, emits it and returns nil,
	// so that the last emitted batch ends at a transaction boundary. It
	// returns ctx's error when ctx ends first, and any failure wrapped with
	// what failed and where.
	Run(ctx context.Context, from Position, stop <-chan struct{}, emit EmitFunc) error
}

// CheckpointListener is implemented by sources that act on what has become
// durable, e.g. a snapshot that reads a range's next chunk only once the
// previous one is applied by every sink. Checkpointed is called from the
// checkpointer's goroutine after each position is stored.
type CheckpointListener interface {
	Checkpointed(pos Position)
}

// WriteListener is implemented by sources that act on what every sink
// has taken, before it is durable: a snapshot reads a range's next chunk
// once the one before is written, when a sink holds its transaction open
// across positions (see HoldingSink). Written is called, in emission
// order, for each position some sink holds; Checkpointed follows once it
// is stored.
type WriteListener interface {
	Written(pos Position)
}

// HoldingSink is a Sink that may keep its target transaction open past a
// batch's position, to merge what follows into it (a COPY that goes on
// streaming rows): its Write then returns nil with the position not yet
// durable, and Holding reports true. The pipeline frees the batches'
// memory, acknowledges nothing until a later Write returns with Holding
// false or Flush returns nil, and calls Flush when no batch has come for
// a while, and before a graceful stop. A sink holds nothing before
// AllowHolding: a wrapper that does not pass these methods on keeps
// every position durable at Write.
type HoldingSink interface {
	Sink
	// AllowHolding is called before the first Write by a pipeline that
	// knows about holding.
	AllowHolding()
	// Holding reports whether positions written are not durable yet.
	Holding() bool
	// Flush makes the positions written so far durable, unless the last
	// Write ended inside a source transaction: its start cannot be
	// committed alone, so Holding stays true until a later Write.
	Flush(ctx context.Context) error
}

// DefaultFlushIdle is how long a sink's queue stays empty before the
// pipeline flushes a HoldingSink.
const DefaultFlushIdle = 20 * time.Millisecond

// Sink applies batches to a target.
type Sink interface {
	// Write applies the batch durably: when it returns nil the batch
	// survives a crash of siphon and of the target. Batches arrive one at a
	// time, in order; one Write may carry several emitted batches merged
	// (see coalesce).
	// Write must not keep b: its events are dropped once every sink has
	// written them.
	Write(ctx context.Context, b *Batch) error
	// Close releases the sink's resources.
	Close() error
}

// EagerCheckpointer is implemented by sources that at times need every
// acknowledged position stored at once, whatever the pipeline's
// CheckpointInterval: a running snapshot reads a range's next chunk only
// after the previous one is checkpointed.
type EagerCheckpointer interface {
	EagerCheckpoints() bool
}

// OffsetStore persists the pipeline's position.
type OffsetStore interface {
	SaveOffset(pos Position) error
}

// Limits bound what a pipeline holds in memory between its source and its
// slowest sink.
type Limits struct {
	MaxBatches int // batches emitted and not yet acknowledged by every sink
	MaxBytes   int // their estimated bytes
	// MergeEvents and MergeBytes bound one sink Write made of several
	// queued batches (see coalesce); a batch alone may exceed them.
	MergeEvents int
	MergeBytes  int
}

// DefaultLimits suit a small machine.
var DefaultLimits = Limits{MaxBatches: 16, MaxBytes: 64 << 20, MergeEvents: 2048, MergeBytes: 4 << 20}

// Pipeline runs one source into its sinks and checkpoints what every sink
// has durably applied.
type Pipeline struct {
	Name   string
	Source Source
	Sinks  []Sink
	Store  OffsetStore
	Limits Limits
	Log    *slog.Logger
	// Stats, when set, receives counters as the pipeline works.
	Stats *Stats
	// CheckpointInterval is the least time between two writes to Store:
	// positions acknowledged meanwhile coalesce into the next write (a
	// crash then replays at most that much more). Zero stores each at once.
	CheckpointInterval time.Duration
	// FlushIdle is how long a sink's queue stays empty before the pipeline
	// flushes a HoldingSink; 0: DefaultFlushIdle.
	FlushIdle time.Duration
}

// Run starts the pipeline from position from. Closing stop asks for a
// graceful end: the source finishes its current transaction, the sinks
// apply everything emitted, the last position is checkpointed and Run
// returns nil. Cancelling ctx aborts at once (what is acknowledged is still
// checkpointed). The first failure of the source, a sink or the store stops
// everything and is returned.
func (p *Pipeline) Run(ctx context.Context, from Position, stop <-chan struct{}) error {
	if len(p.Sinks) == 0 {
		return fmt.Errorf("pipeline %s: no sinks", p.Name)
	}
	limits := p.Limits
	if limits.MaxBatches <= 0 {
		limits.MaxBatches = DefaultLimits.MaxBatches
	}
	if limits.MaxBytes <= 0 {
		limits.MaxBytes = DefaultLimits.MaxBytes
	}
	if limits.MergeEvents <= 0 {
		limits.MergeEvents = DefaultLimits.MergeEvents
	}
	if limits.MergeBytes <= 0 {
		limits.MergeBytes = DefaultLimits.MergeBytes
	}
	log := p.Log
	if log == nil {
		log = slog.Default()
	}
	stats := p.Stats
	if stats == nil {
		stats = &Stats{}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	flow := newFlow(limits)
	written := newTracker(len(p.Sinks), writtenCount)
	durable := newTracker(len(p.Sinks), durableCount)
	ckpt := newCheckpointer(p.Store, stats)
	ckpt.interval = p.CheckpointInterval
	if l, ok := p.Source.(CheckpointListener); ok {
		ckpt.listener = l
	}
	if e, ok := p.Source.(EagerCheckpointer); ok {
		ckpt.eager = e
	}
	writeListener, _ := p.Source.(WriteListener)
	flushIdle := p.FlushIdle
	if flushIdle <= 0 {
		flushIdle = DefaultFlushIdle
	}

	// wrote records that one sink has written the batches of run; once
	// every sink has, their memory is free for the source (a holding sink
	// needs them no more: it keeps what it may replay itself).
	wrote := func(run []*Batch, held bool) {
		for _, b := range run {
			if held {
				b.held.Store(true)
			}
			for _, done := range written.ack(b) {
				flow.release(done.Bytes)
				done.Events = nil
				if writeListener != nil && done.Position != nil && done.held.Load() {
					writeListener.Written(done.Position)
				}
			}
		}
	}
	// made records that one sink has made the batches of run durable.
	made := func(run []*Batch) {
		for _, b := range run {
			for _, done := range durable.ack(b) {
				stats.addApplied(done)
				if done.Position != nil {
					ckpt.offer(done.Position)
				}
			}
		}
	}

	queues := make([]chan *Batch, len(p.Sinks))
	var sinksWG sync.WaitGroup
	for i, s := range p.Sinks {
		queues[i] = make(chan *Batch, limits.MaxBatches)
		sinksWG.Add(1)
		go func(i int, s Sink, q <-chan *Batch) {
			defer sinksWG.Done()
			holder, _ := s.(HoldingSink)
			if holder != nil {
				holder.AllowHolding()
			}
			var held []*Batch      // taken from q but not written yet: the next Writes start with them
			var unflushed []*Batch // written, held by the sink: not durable yet
			more := func() *Batch {
				if len(held) > 0 {
					b := held[0]
					held = held[1:]
					return b
				}
				select {
				case b := <-q:
					return b
				default:
					return nil
				}
			}
			// stuck: the last Flush left positions held (the sink is inside a
			// source transaction); the next Write, not the clock, frees them.
			stuck := false
			flush := func() {
				if err := holder.Flush(ctx); err != nil {
					cancel(fmt.Errorf("sink %d: %w", i, err))
					return
				}
				if holder.Holding() {
					stuck = true
					return
				}
				made(unflushed)
				unflushed = nil
			}
			idle := time.NewTimer(flushIdle)
			idle.Stop()
			for {
				var b *Batch
				if len(held) > 0 {
					b, held = held[0], held[1:]
				} else {
					var ok bool
					var flushDue <-chan time.Time // set while the sink holds what a Flush can free
					if len(unflushed) > 0 && !stuck && ctx.Err() == nil {
						idle.Reset(flushIdle)
						flushDue = idle.C
					}
					select {
					case b, ok = <-q:
					case <-flushDue:
						flush()
						continue
					}
					if !ok {
						if len(unflushed) > 0 && ctx.Err() == nil {
							flush()
						}
						return
					}
				}
				if ctx.Err() != nil {
					continue // draining after a failure: never acknowledge
				}
				run, w, rest := coalesce(b, more, limits)
				held = append(rest, held...)
				stuck = false
				if err := s.Write(ctx, w); err != nil {
					cancel(fmt.Errorf("sink %d: %w", i, err))
					continue
				}
				if holder != nil && holder.Holding() {
					wrote(run, true)
					unflushed = append(unflushed, run...)
					continue
				}
				wrote(run, false)
				made(unflushed)
				made(run)
				unflushed = nil
			}
		}(i, s, queues[i])
	}

	ckptDone := make(chan error, 1)
	go func() {
		err := ckpt.run()
		if err != nil {
			cancel(fmt.Errorf("checkpoint: %w", err))
		}
		ckptDone <- err
	}()

	var seq uint64
	emit := func(ectx context.Context, b *Batch) error {
		if isOffer(ectx) {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if !flow.tryAcquire(b.Bytes) {
				return errNoRoom
			}
		} else if err := flow.acquire(ectx, ctx, b.Bytes); err != nil {
			if c := context.Cause(ctx); c != nil && ctx.Err() != nil {
				return c
			}
			return err
		}
		seq++
		b.seq = seq
		b.events = len(b.Events)
		written.add(b)
		durable.add(b)
		stats.addEmitted(b)
		for _, q := range queues {
			q <- b // never blocks: flow admits at most MaxBatches
		}
		return nil
	}

	srcErr := p.Source.Run(ctx, from, stop, emit)
	if srcErr != nil && ctx.Err() == nil {
		cancel(fmt.Errorf("source: %w", srcErr))
	}
	for _, q := range queues {
		close(q)
	}
	sinksWG.Wait()
	ckpt.close()
	storeErr := <-ckptDone

	var errs []error
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		errs = append(errs, cause)
	} else if srcErr != nil && !errors.Is(srcErr, context.Canceled) {
		errs = append(errs, fmt.Errorf("source: %w", srcErr))
	}
	if storeErr != nil && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("checkpoint: %w", storeErr))
	}
	if len(errs) > 0 {
		return fmt.Errorf("pipeline %s: %w", p.Name, errors.Join(errs...))
	}
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	log.Info("pipeline drained", "pipeline", p.Name, "events", stats.Applied(), "checkpoints", stats.Checkpoints())
	return nil
}

// coalesce takes, from more (which answers nil rather than wait), the
// batches queued behind first that can share its sink Write, and returns
// them (first included) with the batch to write. When the sink falls
// behind, its queue fills with small batches (the source hands one over
// whenever its stream is idle); one target commit for all of them keeps
// lag from growing with the queue, and larger writes apply a backlog or a
// snapshot faster.
//
// Batches join while the total stays within MergeEvents and MergeBytes:
// the merged batch is one the source could have emitted itself — events in
// order, TxEnd marks kept, and the position of the last batch that has one
// (a batch has a position exactly when it holds a transaction end, and the
// position is that of its last one). The write ends at the last batch with
// a position when there is one: a write ending inside a transaction keeps
// the target's transaction open until the next write, and a snapshot chunk
// or source transaction cut by the bound would cost two COPYs and a
// transaction left idle in between. The batches taken and not written are
// returned as rest, in order, for the following writes. The batches are
// acknowledged one by one, in order, once the Write succeeds.
func coalesce(first *Batch, more func() *Batch, l Limits) (run []*Batch, w *Batch, rest []*Batch) {
	run = []*Batch{first}
	events, bytes := len(first.Events), first.Bytes
	for {
		b := more()
		if b == nil {
			break
		}
		if events+len(b.Events) > l.MergeEvents || bytes+b.Bytes > l.MergeBytes {
			rest = []*Batch{b}
			break
		}
		run = append(run, b)
		events += len(b.Events)
		bytes += b.Bytes
	}
	if last := len(run) - 1; run[last].Position == nil {
		for j := last - 1; j >= 0; j-- {
			if run[j].Position != nil {
				rest = append(slices.Clone(run[j+1:]), rest...)
				run = run[:j+1]
				break
			}
		}
	}
	if len(run) == 1 {
		return run, first, rest
	}
	events, bytes = 0, 0
	for _, b := range run {
		events += len(b.Events)
		bytes += b.Bytes
	}
	w = &Batch{Events: make([]Event, 0, events), Bytes: bytes}
	for _, b := range run {
		w.Events = append(w.Events, b.Events...)
		if b.Position != nil {
			w.Position = b.Position
		}
	}
	return run, w, rest
}

// flow admits batches while fewer than MaxBatches and MaxBytes are in
// flight. A single batch larger than MaxBytes is admitted alone.
type flow struct {
	mu      sync.Mutex
	cond    chan struct{}
	limits  Limits
	batches int
	bytes   int
}

func newFlow(l Limits) *flow { return &flow{limits: l, cond: make(chan struct{})} }

func (f *flow) acquire(ctx, pctx context.Context, n int) error {
	for {
		f.mu.Lock()
		wait := f.cond
		f.mu.Unlock()
		if f.tryAcquire(n) {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		case <-pctx.Done():
			return pctx.Err()
		}
	}
}

// tryAcquire admits like acquire when that needs no waiting.
func (f *flow) tryAcquire(n int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.batches == 0 || (f.batches < f.limits.MaxBatches && f.bytes+n <= f.limits.MaxBytes) {
		f.batches++
		f.bytes += n
		return true
	}
	return false
}

func (f *flow) release(n int) {
	f.mu.Lock()
	f.batches--
	f.bytes -= n
	close(f.cond)
	f.cond = make(chan struct{})
	f.mu.Unlock()
}

// checkpointer stores the newest offered position, one store write at a
// time and at most one per interval: positions offered meanwhile coalesce
// into the next write.
type checkpointer struct {
	store    OffsetStore
	listener CheckpointListener
	eager    EagerCheckpointer
	interval time.Duration
	stats    *Stats
	mu       sync.Mutex
	latest   Position
	dirty    bool
	closed   bool
	wake     chan struct{}
}

func newCheckpointer(s OffsetStore, stats *Stats) *checkpointer {
	return &checkpointer{store: s, stats: stats, wake: make(chan struct{}, 1)}
}

func (c *checkpointer) offer(p Position) {
	c.mu.Lock()
	c.latest, c.dirty = p, true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *checkpointer) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run writes positions until close; the final write happens after close,
// without waiting for the interval, so that a graceful stop checkpoints
// everything acknowledged. A failing store stops the loop: the pipeline
// must not go on without checkpoints.
func (c *checkpointer) run() error {
	var last time.Time
	var due <-chan time.Time // set while a write waits for the interval
	for {
		select {
		case <-c.wake:
		case <-due:
			due = nil
		}
		c.mu.Lock()
		p, dirty, closed := c.latest, c.dirty, c.closed
		if dirty && !closed {
			if wait := c.interval - time.Since(last); wait > 0 && (c.eager == nil || !c.eager.EagerCheckpoints()) {
				c.mu.Unlock()
				if due == nil {
					due = time.After(wait)
				}
				continue
			}
		}
		due = nil
		c.dirty = false
		c.mu.Unlock()
		if dirty {
			start := time.Now()
			if err := c.store.SaveOffset(p); err != nil {
				return err
			}
			last = time.Now()
			c.stats.addCheckpoint(last.Sub(start))
			if c.listener != nil {
				c.listener.Checkpointed(p)
			}
		}
		if closed {
			return nil
		}
	}
}
