package pipeline

import "sync"

// tracker collects acknowledgements, from any sink and in any order, and
// releases batches strictly in emission order once every sink has
// acknowledged them and all batches before them are released. The
// pipeline keeps two: one for batches every sink has written (their memory
// is then free), one for batches every sink has made durable (their
// position may then be checkpointed). This is what keeps a checkpoint from
// ever passing an event that some sink has not applied.
type tracker struct {
	mu      sync.Mutex
	sinks   int32
	count   func(*Batch) *int32 // the batch's counter of sinks still to acknowledge
	pending []*Batch            // added and not yet released, in seq order
}

func newTracker(sinks int, count func(*Batch) *int32) *tracker {
	return &tracker{sinks: int32(sinks), count: count}
}

func (t *tracker) add(b *Batch) {
	t.mu.Lock()
	*t.count(b) = t.sinks
	t.pending = append(t.pending, b)
	t.mu.Unlock()
}

// ack records that one sink acknowledged b and returns the batches that
// became releasable, oldest first.
func (t *tracker) ack(b *Batch) []*Batch {
	t.mu.Lock()
	defer t.mu.Unlock()
	*t.count(b)--
	n := 0
	for n < len(t.pending) && *t.count(t.pending[n]) == 0 {
		n++
	}
	if n == 0 {
		return nil
	}
	done := make([]*Batch, n)
	copy(done, t.pending[:n])
	clear(t.pending[:n])
	t.pending = t.pending[n:]
	return done
}
