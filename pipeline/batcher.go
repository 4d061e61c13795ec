package pipeline

import (
	"context"
	"errors"
	"time"
)

// Batcher fills batches for a source and hands them to the pipeline. It
// keeps the rules every source must follow: a batch carries the position
// of the last transaction boundary inside it, and a batch handed over in
// the middle of a transaction keeps its last event back, so that the event
// ending a transaction is always in the batch that records the commit
// (and can be marked TxEnd). A Batcher belongs to one goroutine.
type Batcher struct {
	emit      EmitFunc
	maxEvents int
	maxBytes  int
	maxWait   time.Duration

	batch   *Batch
	started time.Time
}

// NewBatcher returns a batcher that hands batches to emit.
func NewBatcher(emit EmitFunc, maxEvents, maxBytes int, maxWait time.Duration) *Batcher {
	return &Batcher{emit: emit, maxEvents: maxEvents, maxBytes: maxBytes, maxWait: maxWait}
}

// Add appends an event to the batch being filled.
func (b *Batcher) Add(e Event) {
	if b.batch == nil {
		b.batch = &Batch{Events: make([]Event, 0, b.maxEvents)}
		b.started = time.Now()
	}
	b.batch.Add(e)
}

// Boundary records that a consistent unit (a source transaction, a
// snapshot chunk) ended: pos is where a restart may resume. The batch's
// last event, if any, ends the unit and is marked TxEnd: everything before
// a boundary is complete, because a batch handed over inside a unit keeps
// its last event back (Flush with midTx).
func (b *Batcher) Boundary(pos Position) {
	if b.batch == nil {
		b.batch = &Batch{}
		b.started = time.Now()
	}
	if n := len(b.batch.Events); n > 0 {
		b.batch.Events[n-1].TxEnd = true
	}
	b.batch.Position = pos
}

// Full reports whether the batch reached its size limits.
func (b *Batcher) Full() bool {
	return b.batch != nil && (len(b.batch.Events) >= b.maxEvents || b.batch.Bytes >= b.maxBytes)
}

// Pending reports whether there is anything to hand over.
func (b *Batcher) Pending() bool { return b.batch != nil }

// Len is the number of events in the batch being filled.
func (b *Batcher) Len() int {
	if b.batch == nil {
		return 0
	}
	return len(b.batch.Events)
}

// Wait is how long the batch may still wait to fill before MaxWait.
func (b *Batcher) Wait() time.Duration {
	return b.maxWait - time.Since(b.started)
}

// Flush hands the batch over. midTx says it ends inside a transaction:
// its last event then stays behind for the next batch — unless that event
// already ends a unit (the transaction in progress has no event in the
// batch yet): carrying it would separate it from the position it ends at.
func (b *Batcher) Flush(ctx context.Context, midTx bool) error {
	bt := b.batch
	if bt == nil {
		return nil
	}
	var carry *Event
	if n := len(bt.Events); midTx && n > 0 && !bt.Events[n-1].TxEnd {
		last := bt.Events[len(bt.Events)-1]
		carry = &last
		bt.Events = bt.Events[:len(bt.Events)-1]
		bt.Bytes -= last.Size()
	}
	if len(bt.Events) == 0 && bt.Position == nil {
		if carry != nil {
			bt.Add(*carry)
		}
		b.started = time.Now() // wait a full MaxWait again rather than spin
		return nil
	}
	b.batch = nil
	if err := b.emit(ctx, bt); err != nil {
		return err
	}
	if carry != nil {
		b.Add(*carry)
	}
	return nil
}

// Offer hands the batch over, like Flush at a transaction boundary, when
// the pipeline can take it without waiting. When the pipeline is full (its
// sinks are behind) the batch stays to grow: under backpressure the source
// sends fewer, larger batches instead of queueing many small ones, each of
// which would cost a sink a commit. The batch is still bounded: once it is
// Full or has waited MaxWait, Offer hands it over, waiting for room.
// Sources call Offer where the stream is idle at a transaction boundary,
// and Flush where everything must be handed over (on stop).
func (b *Batcher) Offer(ctx context.Context) error {
	bt := b.batch
	if bt == nil {
		return nil
	}
	if b.Full() || time.Since(b.started) >= b.maxWait || (len(bt.Events) == 0 && bt.Position == nil) {
		return b.Flush(ctx, false)
	}
	err := b.emit(context.WithValue(ctx, offerKey{}, true), bt)
	if errors.Is(err, errNoRoom) {
		return nil
	}
	if err != nil {
		return err
	}
	b.batch = nil
	return nil
}

// offerKey marks the context of an emit that must not wait for room: the
// pipeline then answers errNoRoom rather than block, and keeps nothing of
// the batch. An EmitFunc that ignores the mark simply waits.
type offerKey struct{}

var errNoRoom = errors.New("pipeline: no room for the batch now")

func isOffer(ctx context.Context) bool { return ctx.Value(offerKey{}) != nil }
