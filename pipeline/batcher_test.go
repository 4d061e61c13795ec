package pipeline

import (
	"context"
	"testing"
	"time"
)

func TestBatcherKeepsTheTransactionEndWithItsCommit(t *testing.T) {
	var got []*Batch
	b := NewBatcher(func(_ context.Context, bt *Batch) error { got = append(got, bt); return nil }, 3, 1<<20, time.Second)
	ctx := context.Background()
	// A transaction of 7 events, flushed whenever full, then its commit.
	for i := range 7 {
		b.Add(Event{Op: OpCreate, After: Row{Int(int64(i))}})
		if b.Full() {
			if err := b.Flush(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.Boundary(Position(`{"p":1}`))
	if err := b.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, bt := range got {
		last := i == len(got)-1
		if (bt.Position != nil) != last {
			t.Errorf("batch %d: position %s", i, bt.Position)
		}
		for j, e := range bt.Events {
			if e.After[0].AsInt() != int64(n) {
				t.Fatalf("event order: got %d, want %d", e.After[0].AsInt(), n)
			}
			n++
			if e.TxEnd != (last && j == len(bt.Events)-1) {
				t.Errorf("batch %d event %d: TxEnd %v", i, j, e.TxEnd)
			}
		}
	}
	if n != 7 {
		t.Fatalf("%d events emitted, want 7", n)
	}
}

func TestBatcherPositionOnlyBatch(t *testing.T) {
	var got []*Batch
	b := NewBatcher(func(_ context.Context, bt *Batch) error { got = append(got, bt); return nil }, 10, 1<<20, time.Second)
	ctx := context.Background()
	if err := b.Flush(ctx, false); err != nil || len(got) != 0 {
		t.Fatalf("empty flush emitted %d batches, %v", len(got), err)
	}
	b.Boundary(Position(`{"p":2}`))
	if err := b.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Events) != 0 || string(got[0].Position) != `{"p":2}` {
		t.Fatalf("position-only batch: %+v", got)
	}
}
