package sqlapply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// Sink applies batches to a database through a Dialect. It implements
// pipeline.PositionedSink.
type Sink struct {
	d          Dialect
	o          Options
	log        *slog.Logger
	checkpoint Name
	schemas    *schemas
	workers    []*worker
	admin      Conn
	dead       *deadLetter
	maxRunRows int

	// seq numbers commit points; every worker commits at each.
	seq int64
	// sinceCommit counts the events applied since the last commit point,
	// for max_transaction_rows.
	sinceCommit int
	// streamOffUntil: a COPY held open failed; COPYs end with their write
	// until then (streamOffFor later, doubled at each failure).
	streamOffUntil time.Time
	streamOffFor   time.Duration
	// holdAllowed: the pipeline flushes held commit points (AllowHolding).
	holdAllowed bool
	mu          sync.Mutex // guards skipWarned and the dead-letter count
	skipWarned  map[string]bool
	closed      bool
}

var (
	_ pipeline.PositionedSink = (*Sink)(nil)
	_ pipeline.HoldingSink    = (*Sink)(nil)
)

// New returns a sink; nothing connects until StoredPosition or Write.
// maxRunRows bounds the rows of one statement.
func New(d Dialect, o Options, maxRunRows int) (*Sink, error) {
	opts, err := o.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", d.Target(), err)
	}
	cp, err := ParseName(opts.CheckpointTable, d.DefaultNamespace())
	if err != nil {
		return nil, fmt.Errorf("%s: checkpoint_table: %w", d.Target(), err)
	}
	s := &Sink{d: d, o: opts, log: opts.Log.With("sink", d.Target()), checkpoint: cp,
		maxRunRows: max(1, maxRunRows), skipWarned: map[string]bool{}}
	s.schemas = newSchemas(s)
	for i := range opts.Workers {
		s.workers = append(s.workers, &worker{s: s, id: i, keys: map[uint64]struct{}{}, seed: maphash.MakeSeed()})
	}
	if opts.DeadLetterPath != "" {
		if s.dead, err = openDeadLetter(opts.DeadLetterPath); err != nil {
			return nil, fmt.Errorf("%s: dead_letter: %w", d.Target(), err)
		}
	}
	return s, nil
}

// Close releases every connection.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, w := range s.workers {
		if w.conn != nil {
			if w.inTx {
				_ = w.conn.Rollback(context.Background())
			}
			errs = append(errs, w.conn.Close())
			w.conn = nil
		}
	}
	if s.admin != nil {
		errs = append(errs, s.admin.Close())
		s.admin = nil
	}
	if s.dead != nil {
		errs = append(errs, s.dead.close())
	}
	return errors.Join(errs...)
}

// fail wraps an error with the target's name.
func (s *Sink) fail(err error) error { return fmt.Errorf("%s: %w", s.d.Target(), err) }

// backoff waits before the next reconnect attempt (none when wait is 0);
// it returns the next wait.
func (s *Sink) backoff(ctx context.Context, wait time.Duration, what string, err error) (time.Duration, error) {
	s.log.Warn("target unavailable, retrying", "what", what, "retry_in", wait, "error", err)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return wait, s.fail(fmt.Errorf("%s: %w (last error: %w)", what, ctx.Err(), err))
	case <-t.C:
	}
	return max(min(2*wait, s.o.MaxBackoff), s.o.MinBackoff), nil
}

// withAdmin runs fn on the autocommit connection used for the catalogue,
// DDL and checkpoint reads, reconnecting with backoff while the target is
// unreachable.
func (s *Sink) withAdmin(ctx context.Context, fn func(Conn) error) error {
	wait := s.o.MinBackoff
	for {
		var err error
		if s.admin == nil {
			s.admin, err = s.d.Connect(ctx)
		}
		if err == nil {
			err = fn(s.admin)
			if err == nil {
				return nil
			}
		}
		if s.d.Classify(err) != Retryable || ctx.Err() != nil {
			return err
		}
		if s.admin != nil {
			_ = s.admin.Close()
			s.admin = nil
		}
		if wait, err = s.backoff(ctx, wait, "admin connection", err); err != nil {
			return err
		}
	}
}

// StoredPosition returns the position the target's checkpoint rows hold:
// that of the workers furthest behind. It creates the checkpoint table
// when it is missing.
func (s *Sink) StoredPosition(ctx context.Context) (pipeline.Position, error) {
	rows, err := s.readRows(ctx)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	low := rows[0]
	for _, r := range rows[1:] {
		if r.Seq < low.Seq {
			low = r
		}
	}
	return low.Position, nil
}

func (s *Sink) readRows(ctx context.Context) ([]CheckpointRow, error) {
	var rows []CheckpointRow
	err := s.withAdmin(ctx, func(c Conn) error {
		if err := c.EnsureCheckpointTable(ctx, s.checkpoint); err != nil {
			return err
		}
		var err error
		rows, err = c.ReadCheckpoints(ctx, s.checkpoint, s.o.Pipeline)
		return err
	})
	if err != nil {
		return nil, s.fail(fmt.Errorf("read checkpoint table %s: %w", s.checkpoint, err))
	}
	return rows, nil
}

func (s *Sink) samePosition(a, b pipeline.Position) bool {
	if a == nil || b == nil {
		return false
	}
	if s.o.Compare != nil {
		c, err := s.o.Compare(a, b)
		return err == nil && c == 0
	}
	return bytes.Equal(a, b)
}

// ResumeFrom prepares the workers for a run that starts at from: each
// worker skips the stream events it already committed beyond from (parts
// of a transaction committed early, or a commit point other workers had
// not reached when siphon stopped). Any open target transaction is
// dropped: its events come again.
func (s *Sink) ResumeFrom(ctx context.Context, from pipeline.Position) error {
	rows, err := s.readRows(ctx)
	if err != nil {
		return err
	}
	for _, w := range s.workers {
		w.reset()
	}
	s.sinceCommit = 0
	byWorker := map[int]CheckpointRow{}
	var maxSeq int64
	maxWorker := -1
	for _, r := range rows {
		byWorker[r.Worker] = r
		maxSeq = max(maxSeq, r.Seq)
		maxWorker = max(maxWorker, r.Worker)
	}
	s.seq = maxSeq
	skips := make([]int64, max(len(s.workers), maxWorker+1))
	needSkip := false
	for id, r := range byWorker {
		switch {
		case from == nil:
		case s.samePosition(r.Position, from):
			skips[id] = r.Applied
		case s.samePosition(r.PrevPosition, from):
			skips[id] = r.PrevApplied
			// The worker committed one point more than the run resumes
			// from; it starts again from its state at from, so that
			// committing that point again records from as the point
			// before (a second crash then still skips what it has).
			byWorker[id] = CheckpointRow{Pipeline: r.Pipeline, Worker: r.Worker, Position: r.PrevPosition, Applied: r.PrevApplied,
				Seq: r.Seq, PrevPosition: r.PrevPosition, PrevApplied: r.PrevApplied, Updated: r.Updated}
		default:
			if s.o.Compare != nil {
				if c, err := s.o.Compare(r.Position, from); err == nil && c < 0 {
					s.log.Warn("the target's checkpoint is behind the pipeline's: changes between the two were applied to a target that no longer has them (was it restored from a backup?)",
						"worker", id, "target_position", string(r.Position), "resume_position", string(from))
				}
			}
		}
		needSkip = needSkip || skips[id] > 0
	}
	if needSkip && maxWorker+1 != len(s.workers) {
		return s.fail(fmt.Errorf("the checkpoint table %s shows a transaction applied in part by %d workers; run once more with workers: %d until it is committed, then change the number of workers",
			s.checkpoint, maxWorker+1, maxWorker+1))
	}
	for _, w := range s.workers {
		w.row = byWorker[w.id]
		w.skip = skips[w.id]
		if w.skip > 0 {
			s.log.Info("resuming inside a transaction the target committed in part: skipping the events it already has", "worker", w.id, "events", w.skip)
		}
	}
	if maxWorker >= len(s.workers) {
		err := s.withAdmin(ctx, func(c Conn) error {
			return c.DeleteCheckpoints(ctx, s.checkpoint, s.o.Pipeline, len(s.workers))
		})
		if err != nil {
			return s.fail(fmt.Errorf("checkpoint table %s: %w", s.checkpoint, err))
		}
	}
	s.warm(ctx)
	return nil
}

// warm opens the workers' connections and reads a table from the
// catalogue before the first batch, which would otherwise pay for both: a
// first catalogue lookup on a new connection takes 10 ms on an idle
// server and 100 ms on a busy one, and every change waiting behind it is
// that much late. A failure here is left to the first batch to retry.
func (s *Sink) warm(ctx context.Context) {
	_ = s.withAdmin(ctx, func(c Conn) error {
		_, err := c.Describe(ctx, s.checkpoint)
		return err
	})
	for _, w := range s.workers {
		if w.conn != nil {
			continue
		}
		if c, err := s.d.Connect(ctx); err == nil {
			w.conn = c
		}
	}
}

// commitPoint is where the workers commit: a batch's position (full) or
// a point inside a source transaction (partial).
type commitPoint struct {
	full     bool
	position pipeline.Position
	seq      int64
}

// Write applies the batch; see the package documentation.
func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
	evs := b.Events
	if len(evs) == 0 {
		return nil
	}
	if s.closed {
		return s.fail(errors.New("write after close"))
	}
	cut := -1 // events before cut end with the batch's commit
	if b.Position != nil {
		cut = 0
		for i := len(evs) - 1; i >= 0; i-- {
			if evs[i].TxEnd {
				cut = i + 1
				break
			}
		}
	}
	start := 0
	var lastAlter *schemaPlan
	for {
		end, point, alter, err := s.nextSegment(ctx, evs, start, cut, b.Position)
		if err != nil {
			return err
		}
		if alter != nil && lastAlter != nil && end == start && slices.Equal(alter.alter, lastAlter.alter) {
			return s.fail(fmt.Errorf("schema change of %s did not take effect: %v", alter.name, alter.alter))
		}
		lastAlter = alter
		if point != nil && point.full {
			cut = -1 // the batch's commit is this one
		}
		if point != nil && end-start == 0 && s.idle() {
			point = nil // nothing to commit
		}
		if point != nil {
			s.seq++
			point.seq = s.seq
		}
		if end > start || point != nil {
			if err := s.applySegment(ctx, evs[start:end], point); err != nil {
				return err
			}
		}
		if point != nil {
			s.sinceCommit = 0
		} else {
			s.sinceCommit += end - start
		}
		if alter != nil {
			if err := s.runAlter(ctx, alter); err != nil {
				return err
			}
		}
		start = end
		if start >= len(evs) && alter == nil {
			return nil
		}
	}
}

// AllowHolding lets a commit point be held (see Holding).
func (s *Sink) AllowHolding() { s.holdAllowed = true }

// Holding reports whether the last Write left a commit point held: the
// open transaction goes on in a COPY (see copyStreamer). It implements
// pipeline.HoldingSink.
func (s *Sink) Holding() bool {
	for _, w := range s.workers {
		if w.held != nil {
			return true
		}
	}
	return false
}

// Flush commits at the held commit point, unless events after it (part
// of a source transaction) are in the open transaction too: those commit
// with the transaction's end, and Holding stays true until then.
func (s *Sink) Flush(ctx context.Context) error {
	for _, w := range s.workers {
		if p := w.held; p != nil && !w.heldTail {
			if err := w.run(ctx, nil, p); err != nil {
				return err
			}
		}
	}
	return nil
}

// idle reports whether no worker has an open transaction with events.
func (s *Sink) idle() bool {
	for _, w := range s.workers {
		if w.openCount > 0 {
			return false
		}
	}
	return true
}

// nextSegment finds where the events from start must stop: the batch's
// commit, a point where a schema change needs every open transaction
// committed, or max_transaction_rows. It resolves every table version it
// passes.
func (s *Sink) nextSegment(ctx context.Context, evs []pipeline.Event, start, cut int, pos pipeline.Position) (end int, point *commitPoint, alter *schemaPlan, err error) {
	lastTxEnd := -1
	var prev *pipeline.Table
	limit := len(evs)
	if cut >= start {
		limit = cut
	}
	for i := start; i < limit; i++ {
		e := &evs[i]
		if e.Table != prev && e.Table != nil {
			prev = e.Table
			plan, err := s.schemas.resolve(ctx, e.Table, connectorOf(e))
			if err != nil {
				return 0, nil, nil, s.fail(err)
			}
			if plan.mapping == nil {
				// A schema change: commit what is open first, at the last
				// source-transaction boundary when there is one.
				at := i
				if lastTxEnd >= start {
					at = lastTxEnd + 1
				}
				if at == start && s.idle() {
					return start, nil, plan, nil
				}
				return at, &commitPoint{}, plan, nil
			}
		}
		if m := s.o.MaxTransactionRows; m > 0 && s.sinceCommit+(i-start) >= m {
			at := i
			if lastTxEnd >= start {
				at = lastTxEnd + 1
			}
			if at > start || !s.idle() {
				return at, &commitPoint{}, nil, nil
			}
		}
		if e.TxEnd {
			lastTxEnd = i
		}
	}
	if cut >= start {
		return cut, &commitPoint{full: true, position: pos}, nil, nil
	}
	return len(evs), nil, nil, nil
}

// runAlter runs a schema change on the admin connection, once no worker
// holds an open transaction, and resolves the table again.
func (s *Sink) runAlter(ctx context.Context, plan *schemaPlan) error {
	for _, stmt := range plan.alter {
		err := s.withAdmin(ctx, func(c Conn) error { return c.Exec(ctx, stmt) })
		if err != nil {
			return s.fail(fmt.Errorf("schema change of %s: %w", plan.name, err))
		}
		s.log.Info("evolved target table", "target", plan.name.String(), "statement", stmt)
	}
	s.schemas.afterAlter(plan.name)
	return nil
}

func connectorOf(e *pipeline.Event) string {
	if e.Source.Info != nil {
		return e.Source.Info.Connector
	}
	return ""
}

// applySegment applies events (all of resolved tables) and, with a
// commit point, commits every worker there.
func (s *Sink) applySegment(ctx context.Context, evs []pipeline.Event, point *commitPoint) error {
	if len(s.workers) == 1 {
		return s.workers[0].run(ctx, evs, point)
	}
	parts := make([][]pipeline.Event, len(s.workers))
	for i := range evs {
		w := s.route(&evs[i])
		parts[w] = append(parts[w], evs[i])
	}
	errs := make([]error, len(s.workers))
	var wg sync.WaitGroup
	for i, w := range s.workers {
		if len(parts[i]) == 0 && point == nil {
			continue
		}
		wg.Go(func() { errs[i] = w.run(ctx, parts[i], point) })
	}
	wg.Wait()
	// A restart request is only worth making when nothing worse happened.
	var restart error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if errors.Is(err, pipeline.ErrRestart) {
			restart = err
			continue
		}
		return err
	}
	return restart
}

// route picks the worker of an event: by target table and key, so that
// every change of one row goes through one worker, in order; tables
// without a key go to one worker each.
func (s *Sink) route(e *pipeline.Event) int {
	m := s.schemas.mappings[e.Table]
	h := fnv.New64a()
	if m != nil {
		h.Write([]byte(m.Target.String()))
	}
	if e.Table != nil && len(e.Table.Key) > 0 {
		row := e.After
		if row == nil {
			row = e.Before
		}
		var buf []byte
		for _, k := range e.Table.Key {
			if k < len(row) {
				buf = appendValueBytes(buf, row[k])
			}
		}
		h.Write(buf)
	}
	return int(h.Sum64() % uint64(len(s.workers)))
}

// appendValueBytes writes a value's identity: kind and content.
func appendValueBytes(dst []byte, v pipeline.Value) []byte {
	dst = append(dst, byte(v.Kind()))
	switch v.Kind() {
	case pipeline.KindBool:
		if v.AsBool() {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case pipeline.KindInt:
		u := uint64(v.AsInt())
		for i := range 8 {
			dst = append(dst, byte(u>>(8*i)))
		}
	case pipeline.KindFloat32, pipeline.KindFloat64:
		u := math.Float64bits(v.AsFloat64())
		for i := range 8 {
			dst = append(dst, byte(u>>(8*i)))
		}
	case pipeline.KindString, pipeline.KindBytes:
		n := len(v.AsString())
		dst = append(dst, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
		dst = append(dst, v.AsString()...)
	case pipeline.KindStruct, pipeline.KindArray:
		e := v.Elems()
		dst = append(dst, byte(len(e)))
		for _, x := range e {
			dst = appendValueBytes(dst, x)
		}
	}
	return dst
}
