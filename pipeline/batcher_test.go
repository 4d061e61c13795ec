package pipeline

import (
	"context"
	"errors"
	"strconv"
	"strings"
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

// A flush in the middle of a transaction that has no event yet (e.g. one
// of a table the source filters out) must not hold back the event that
// ended the transaction before: it belongs with the batch's position.
func TestBatcherMidTxFlushKeepsACompletedTransaction(t *testing.T) {
	var got []*Batch
	b := NewBatcher(func(_ context.Context, bt *Batch) error { got = append(got, bt); return nil }, 10, 1<<20, time.Second)
	ctx := context.Background()
	b.Add(Event{Op: OpCreate, After: Row{Int(1)}})
	b.Add(Event{Op: OpCreate, After: Row{Int(2)}})
	b.Boundary(Position(`{"p":1}`))
	// The next transaction began; none of its events reached the batch.
	if err := b.Flush(ctx, true); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Events) != 2 || !got[0].Events[1].TxEnd || string(got[0].Position) != `{"p":1}` {
		t.Fatalf("batches: %+v", got)
	}
	if b.Pending() {
		t.Fatal("an event stayed behind")
	}
}

// A batch full in the middle of a transaction hands over the completed
// transactions only: the open one starts the next batch, whole.
func TestBatcherMidTxFlushCarriesTheOpenTransaction(t *testing.T) {
	var got []*Batch
	b := NewBatcher(func(_ context.Context, bt *Batch) error { got = append(got, bt); return nil }, 5, 1<<20, time.Second)
	ctx := context.Background()
	add := func(v int) {
		b.Add(Event{Op: OpCreate, After: Row{Int(int64(v))}})
		if b.Full() {
			if err := b.Flush(ctx, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Transactions of 2, 3 and 9 events.
	v := 0
	for tx, n := range []int{2, 3, 9} {
		for range n {
			add(v)
			v++
		}
		b.Boundary(Position(strconv.Itoa(tx)))
	}
	if err := b.Flush(ctx, false); err != nil {
		t.Fatal(err)
	}
	var shapes []string
	for _, bt := range got {
		s := ""
		for _, e := range bt.Events {
			s += strconv.Itoa(int(e.After[0].AsInt()))
			if e.TxEnd {
				s += "|"
			} else {
				s += ","
			}
		}
		shapes = append(shapes, s+"@"+string(bt.Position))
	}
	// The batch that fills inside the second transaction hands over the
	// first; the second goes whole in the next one. The large one is
	// handed over in parts, its last event with its commit.
	want := []string{"0,1|@0", "2,3,4|@1", "5,6,7,8,@", "9,10,11,12,@", "13|@2"}
	if strings.Join(shapes, " ") != strings.Join(want, " ") {
		t.Fatalf("batches %q, want %q", shapes, want)
	}
}

func TestBatcherOffer(t *testing.T) {
	type step struct {
		add     int  // add a one-event transaction with this value, then Offer
		room    bool // whether the pipeline has room at this Offer
		wantOut int  // batches handed over so far
	}
	tests := []struct {
		name      string
		maxEvents int
		maxWait   time.Duration
		linger    time.Duration
		steps     []step
		wantWait  []bool // per batch handed over: whether emit could wait
		wantVals  [][]int
	}{
		{
			name: "room: each transaction handed over", maxEvents: 10, maxWait: time.Hour,
			steps:    []step{{1, true, 1}, {2, true, 2}},
			wantWait: []bool{false, false}, wantVals: [][]int{{1}, {2}},
		},
		{
			name: "no room: the batch grows until there is", maxEvents: 10, maxWait: time.Hour,
			steps:    []step{{1, false, 0}, {2, false, 0}, {3, true, 1}, {4, true, 2}},
			wantWait: []bool{false, false}, wantVals: [][]int{{1, 2, 3}, {4}},
		},
		{
			name: "no room but full: handed over, waiting for room", maxEvents: 2, maxWait: time.Hour,
			steps:    []step{{1, false, 0}, {2, false, 1}, {3, false, 1}},
			wantWait: []bool{true}, wantVals: [][]int{{1, 2}},
		},
		{
			name: "no room but waited max_wait: handed over, waiting for room", maxEvents: 10, maxWait: 0,
			steps:    []step{{1, false, 1}},
			wantWait: []bool{true}, wantVals: [][]int{{1}},
		},
		{
			name: "room but lingering: the batch grows", maxEvents: 10, maxWait: time.Hour, linger: time.Hour,
			steps:    []step{{1, true, 0}, {2, true, 0}},
			wantWait: []bool{}, wantVals: [][]int{},
		},
		{
			name: "lingering but full: handed over", maxEvents: 2, maxWait: time.Hour, linger: time.Hour,
			steps:    []step{{1, true, 0}, {2, true, 1}, {3, true, 1}},
			wantWait: []bool{true}, wantVals: [][]int{{1, 2}},
		},
		{
			name: "linger past max_wait ends with max_wait", maxEvents: 10, maxWait: 0, linger: time.Hour,
			steps:    []step{{1, false, 1}},
			wantWait: []bool{true}, wantVals: [][]int{{1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []*Batch
			var waited []bool
			room := false
			emit := func(ctx context.Context, bt *Batch) error {
				if isOffer(ctx) && !room {
					return errNoRoom
				}
				got = append(got, bt)
				waited = append(waited, !isOffer(ctx))
				return nil
			}
			b := NewBatcher(emit, tt.maxEvents, 1<<20, tt.maxWait)
			b.SetLinger(tt.linger)
			for i, s := range tt.steps {
				b.Add(Event{Op: OpCreate, After: Row{Int(int64(s.add))}})
				b.Boundary(Position(strconv.Itoa(s.add)))
				room = s.room
				if err := b.Offer(context.Background()); err != nil {
					t.Fatal(err)
				}
				if len(got) != s.wantOut {
					t.Fatalf("step %d: %d batches handed over, want %d", i, len(got), s.wantOut)
				}
			}
			if len(got) != len(tt.wantVals) {
				t.Fatalf("%d batches, want %d", len(got), len(tt.wantVals))
			}
			for i, bt := range got {
				if waited[i] != tt.wantWait[i] {
					t.Errorf("batch %d: emit could wait %v, want %v", i, waited[i], tt.wantWait[i])
				}
				vals := tt.wantVals[i]
				if len(bt.Events) != len(vals) {
					t.Fatalf("batch %d: %d events, want %v", i, len(bt.Events), vals)
				}
				for j, e := range bt.Events {
					if e.After[0].AsInt() != int64(vals[j]) || !e.TxEnd {
						t.Fatalf("batch %d event %d: %d TxEnd %v, want %d", i, j, e.After[0].AsInt(), e.TxEnd, vals[j])
					}
				}
				if want := strconv.Itoa(vals[len(vals)-1]); string(bt.Position) != want {
					t.Errorf("batch %d: position %s, want %s", i, bt.Position, want)
				}
			}
		})
	}
}

func TestBatcherOfferFailure(t *testing.T) {
	boom := errors.New("boom")
	b := NewBatcher(func(context.Context, *Batch) error { return boom }, 10, 1<<20, time.Hour)
	if err := b.Offer(context.Background()); err != nil {
		t.Fatalf("Offer with nothing pending: %v", err)
	}
	b.Add(Event{Op: OpCreate, After: Row{Int(1)}})
	b.Boundary(Position("1"))
	if err := b.Offer(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Offer = %v, want the emit failure", err)
	}
}

func TestBatcherWaitAndOverdue(t *testing.T) {
	b := NewBatcher(func(context.Context, *Batch) error { return nil }, 10, 1<<20, time.Hour)
	b.SetLinger(time.Minute)
	if b.Overdue() {
		t.Fatal("an empty batcher is overdue")
	}
	b.Add(Event{Op: OpCreate, After: Row{Int(1)}})
	if w := b.Wait(); w <= 0 || w > time.Minute {
		t.Fatalf("Wait while lingering = %v, want the rest of the linger", w)
	}
	b.started = b.started.Add(-2 * time.Minute) // the linger is over
	if w := b.Wait(); w <= time.Minute || w > time.Hour {
		t.Fatalf("Wait after the linger = %v, want the rest of max_wait", w)
	}
	if b.Overdue() {
		t.Fatal("overdue before max_wait")
	}
	b.started = b.started.Add(-time.Hour)
	if !b.Overdue() || b.Wait() > 0 {
		t.Fatalf("after max_wait: Overdue %v, Wait %v", b.Overdue(), b.Wait())
	}
}
