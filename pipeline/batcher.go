package pipeline

import (
	"context"
	"errors"
	"slices"
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
	linger    time.Duration

	batch   *Batch
	started time.Time
}

// initialBatchCap is the event capacity a new batch starts with.
const initialBatchCap = 16

// NewBatcher returns a batcher that hands batches to emit.
func NewBatcher(emit EmitFunc, maxEvents, maxBytes int, maxWait time.Duration) *Batcher {
	return &Batcher{emit: emit, maxEvents: maxEvents, maxBytes: maxBytes, maxWait: maxWait}
}

// SetLinger makes Offer keep a batch for at least d after its first event,
// so that a stream of small transactions goes to the sinks in batches of
// several: each batch costs a sink a round trip and a commit, and the
// source, the sinks and the target share the machine's CPU.
func (b *Batcher) SetLinger(d time.Duration) { b.linger = min(d, b.maxWait) }

// Add appends an event to the batch being filled.
func (b *Batcher) Add(e Event) {
	if b.batch == nil {
		// Room for a small transaction: a batch handed over with one
		// event must not cost a max_events-sized allocation (and its
		// clearing).
		b.batch = &Batch{Events: make([]Event, 0, min(b.maxEvents, initialBatchCap))}
		b.started = time.Now()
	}
	if n := len(b.batch.Events); n == cap(b.batch.Events) && n < b.maxEvents {
		// Past a small transaction, make room for a full batch at once
		// rather than by doubling (each step copies every event).
		b.batch.Events = slices.Grow(b.batch.Events, b.maxEvents-n)
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

// Wait is how long until the batch is due: until its linger ends, then
// until MaxWait. A source calls Offer when the linger ends and Flush once
// Overdue.
func (b *Batcher) Wait() time.Duration {
	age := time.Since(b.started)
	if age < b.linger {
		return b.linger - age
	}
	return b.maxWait - age
}

// Overdue reports whether the batch has waited MaxWait.
func (b *Batcher) Overdue() bool {
	return b.batch != nil && time.Since(b.started) >= b.maxWait
}

// Flush hands the batch over. midTx says it ends inside a transaction:
// the events of that transaction stay behind for the next batch when the
// batch holds a completed one before them — batches then end at
// transaction boundaries, and a sink applies each one as whole source
// transactions. A transaction larger than a batch is handed over in parts,
// its last event kept back so that the event ending it is in the batch
// that records the commit — unless that event already ends a unit (the
// transaction in progress has no event in the batch yet): carrying it
// would separate it from the position it ends at.
func (b *Batcher) Flush(ctx context.Context, midTx bool) error {
	bt := b.batch
	if bt == nil {
		return nil
	}
	var carry []Event
	if n := len(bt.Events); midTx && n > 0 && !bt.Events[n-1].TxEnd {
		keep := n - 1
		if bt.Position != nil {
			for keep > 0 && !bt.Events[keep-1].TxEnd {
				keep--
			}
		}
		carry = slices.Clone(bt.Events[keep:])
		clear(bt.Events[keep:])
		bt.Events = bt.Events[:keep]
		for i := range carry {
			bt.Bytes -= carry[i].Size()
		}
	}
	if len(bt.Events) == 0 && bt.Position == nil {
		for _, e := range carry {
			bt.Add(e)
		}
		b.started = time.Now() // wait a full MaxWait again rather than spin
		return nil
	}
	b.batch = nil
	if err := b.emit(ctx, bt); err != nil {
		return err
	}
	for _, e := range carry {
		b.Add(e)
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
// and Flush where everything must be handed over (on stop). Within its
// linger (SetLinger) a batch stays to grow.
func (b *Batcher) Offer(ctx context.Context) error {
	bt := b.batch
	if bt == nil {
		return nil
	}
	age := time.Since(b.started)
	if b.Full() || age >= b.maxWait || (len(bt.Events) == 0 && bt.Position == nil) {
		return b.Flush(ctx, false)
	}
	if age < b.linger {
		return nil
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
