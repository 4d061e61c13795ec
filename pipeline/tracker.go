package pipeline

import "sync"

// tracker collects acknowledgements, from any sink and in any order, and
// releases batches strictly in emission order once every sink has applied
// them and all batches before them are released. This is what keeps a
// checkpoint from ever passing an event that some sink has not applied.
type tracker struct {
	mu      sync.Mutex
	sinks   int32
	pending []*Batch // emitted and not yet released, in seq order
}

func newTracker(sinks int) *tracker { return &tracker{sinks: int32(sinks)} }

func (t *tracker) add(b *Batch) {
	t.mu.Lock()
	b.pending = t.sinks
	t.pending = append(t.pending, b)
	t.mu.Unlock()
}

// ack records that one sink applied b and returns the batches that became
// releasable, oldest first.
func (t *tracker) ack(b *Batch) []*Batch {
	t.mu.Lock()
	defer t.mu.Unlock()
	b.pending--
	n := 0
	for n < len(t.pending) && t.pending[n].pending == 0 {
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
