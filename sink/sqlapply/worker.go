package sqlapply

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// worker owns one target connection and the transaction open on it.
type worker struct {
	s    *Sink
	id   int
	conn Conn
	inTx bool

	// open holds the events applied in the open transaction, to apply
	// again when the connection is lost with it; nil once they exceed
	// RetainBytes (overflow).
	open      []pipeline.Event
	openBytes int
	openCount int
	overflow  bool
	// openStream counts the stream (non-snapshot) events in the open transaction.
	openStream int64

	// row is the worker's last committed checkpoint row.
	row CheckpointRow
	// pending is a commit whose outcome a lost connection hid.
	pending *CheckpointRow
	// skip counts stream events still to pass over after a resume: the
	// target committed them before siphon stopped.
	skip int64
	// diagnose applies each run under a savepoint until the next commit,
	// to find the event a statement fails on.
	diagnose bool

	runs []Run
	keys map[uint64]struct{} // hashes of the keys in the run being split
	seed maphash.Seed
	// commitWith is the commit point of the events being applied: their
	// last statements may carry the commit (see applyCommitter).
	commitWith *commitPoint
	// held is the last commit point passed without committing: the open
	// transaction ends in a COPY that goes on (see copyStreamer). heldTail:
	// events after it are in the transaction too, the start of a source
	// transaction, so it can only commit at a later point.
	held     *commitPoint
	heldTail bool

	// progress counts new events applied and commits made: a connection
	// lost after it moved on is opened again at once, without backoff (a
	// replay of the open transaction alone does not count).
	progress uint64
}

// applyCommitter is a Conn that can send a transaction's last statements
// and its commit in one round trip.
type applyCommitter interface {
	// ApplyCommit is Apply followed by Commit. When the runs succeed and
	// the commit fails it returns len(runs) with the error. With hold it
	// may leave the transaction open, its last COPY going on, and report
	// held (see copyStreamer).
	ApplyCommit(ctx context.Context, runs []Run, checkpoint Name, row CheckpointRow, hold bool) (n int, held bool, err error)
}

// copyStreamer is a Conn whose COPY may stay open when Apply returns, for
// the rows of later runs of the same table to join it, across writes and
// commit points (a target's per-COPY cost then comes once per target
// transaction). The COPY ends when anything else uses the connection;
// should it fail then, the error wraps ErrStreamFailed and the open
// transaction is lost with it.
type copyStreamer interface {
	StreamCopies(on bool)
}

// ErrStreamFailed wraps the failure of a COPY that stayed open across
// Apply calls: the target transaction is lost and must be applied again.
var ErrStreamFailed = errors.New("streamed COPY failed")

// errReplay says the open transaction was rolled back and must be applied again.
var errReplay = errors.New("open transaction rolled back")

// retryable marks an error after which the connection is reopened.
type retryable struct{ err error }

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

func (w *worker) reset() {
	if w.conn != nil && w.inTx {
		_ = w.conn.Rollback(context.Background())
	}
	w.inTx = false
	w.forget()
	w.pending = nil
	w.held, w.heldTail = nil, false
	w.skip = 0
}

// forget empties the replay buffer of the open transaction, keeping its
// array for the next one (it is refilled at every batch).
func (w *worker) forget() {
	clear(w.open)
	w.open = w.open[:0]
	w.openBytes, w.openCount, w.overflow, w.openStream = 0, 0, false, 0
}

// lose drops the connection; the open transaction is gone with it.
func (w *worker) lose() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
	w.inTx = false
}

// run applies evs in the open transaction and commits at point, retrying
// across lost connections.
func (w *worker) run(ctx context.Context, evs []pipeline.Event, point *commitPoint) error {
	evs = w.skipApplied(evs)
	if point == nil && len(evs) > 0 && w.held != nil {
		w.heldTail = true
	}
	done := 0
	wait := w.s.o.MinBackoff
	for {
		before := w.progress
		err := w.attempt(ctx, evs, &done, point)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			w.lose()
			return w.s.fail(fmt.Errorf("worker %d: %w", w.id, ctx.Err()))
		}
		if errors.Is(err, ErrStreamFailed) && !errors.As(err, new(*retryable)) {
			err = w.streamFailed(ctx, err)
		}
		var r *retryable
		switch {
		case errors.Is(err, errReplay):
		case errors.As(err, &r):
			w.lose()
			if w.overflow {
				return w.restart(r.err)
			}
			if w.progress != before {
				wait = 0 // the connection worked: a cut, not a target that is down
			}
			if wait, err = w.s.backoff(ctx, wait, fmt.Sprintf("worker %d", w.id), r.err); err != nil {
				return err
			}
		default:
			return err
		}
		if w.overflow && !w.inTx {
			return w.restart(err)
		}
	}
}

// streamFailed undoes the open transaction after its COPY failed (a key
// that exists, a value the table refuses): it is applied again without
// COPYs held open, a statement at a time where one fails — or, when it
// was too large to keep, read again from the checkpoint.
func (w *worker) streamFailed(ctx context.Context, cause error) error {
	_ = w.conn.Rollback(ctx)
	w.inTx, w.held, w.heldTail, w.diagnose = false, nil, false, true
	w.s.streamOffFor = min(max(2*w.s.streamOffFor, minStreamOff), maxStreamOff)
	w.s.streamOffUntil = time.Now().Add(w.s.streamOffFor)
	w.s.log.Warn("a COPY held open across writes failed: the open transaction is applied again, and COPYs end with their write for a while",
		"worker", w.id, "for", w.s.streamOffFor, "error", cause)
	if w.overflow {
		return w.restart(cause)
	}
	return errReplay
}

func (w *worker) restart(cause error) error {
	return w.s.fail(fmt.Errorf("worker %d: the open transaction (%d events) was lost and is larger than the replay buffer: %w (cause: %w)",
		w.id, w.openCount, pipeline.ErrRestart, cause))
}

// skipApplied drops the stream events a resumed run must pass over.
func (w *worker) skipApplied(evs []pipeline.Event) []pipeline.Event {
	if w.skip == 0 {
		return evs
	}
	out := evs[:0:0]
	for i := range evs {
		if w.skip > 0 && evs[i].Op != pipeline.OpRead {
			w.skip--
			continue
		}
		out = append(out, evs[i])
	}
	return out
}

func (w *worker) classify(err error) error {
	if w.s.d.Classify(err) == Retryable {
		return &retryable{err}
	}
	return err
}

func (w *worker) begin(ctx context.Context) error {
	if w.inTx {
		return nil
	}
	if err := w.conn.Begin(ctx); err != nil {
		return w.classify(err)
	}
	w.inTx = true
	return nil
}

// attempt is one try at run's work; done counts the events of evs in
// the open transaction.
func (w *worker) attempt(ctx context.Context, evs []pipeline.Event, done *int, point *commitPoint) error {
	if w.conn == nil {
		c, err := w.s.d.Connect(ctx)
		if err != nil {
			return w.classify(err)
		}
		w.conn = c
	}
	if w.pending != nil {
		committed, err := w.checkPending(ctx)
		if err != nil {
			return w.classify(err)
		}
		if committed {
			w.s.log.Info("the commit whose answer was lost is in the target: not applied again",
				"worker", w.id, "seq", w.pending.Seq, "position", string(w.pending.Position))
			w.committed(*w.pending)
			w.pending = nil
			*done = len(evs)
			return nil
		}
		w.s.log.Info("the commit whose answer was lost is not in the target: applying again",
			"worker", w.id, "seq", w.pending.Seq)
		w.pending = nil
	}
	if !w.inTx && w.openCount > 0 {
		if w.overflow {
			return w.restart(errors.New("the open transaction cannot be replayed"))
		}
		if err := w.begin(ctx); err != nil {
			return err
		}
		n := 0
		if err := w.apply(ctx, w.open, &n, false); err != nil {
			return err
		}
	}
	if *done < len(evs) {
		if err := w.begin(ctx); err != nil {
			return err
		}
		w.commitWith = point
		err := w.apply(ctx, evs, done, true)
		w.commitWith = nil
		if err != nil {
			return err
		}
		if point != nil && (!w.inTx || w.held == point) {
			return nil // committed with the last statements, or held
		}
	}
	if point == nil {
		return nil
	}
	return w.commit(ctx, point)
}

// consume counts events that passed through the open transaction,
// applied or not: a partial commit records how many stream events it holds.
func (w *worker) consume(evs []pipeline.Event) {
	w.openCount += len(evs)
	for i := range evs {
		if evs[i].Op != pipeline.OpRead {
			w.openStream++
		}
	}
}

// remember keeps events applied in the open transaction, to apply them
// again after a lost connection.
func (w *worker) remember(evs []pipeline.Event) {
	if w.overflow {
		return
	}
	for i := range evs {
		w.openBytes += evs[i].Size()
		if w.openBytes > w.s.o.RetainBytes {
			clear(w.open)
			w.open, w.overflow = w.open[:0], true
			return
		}
		w.open = append(w.open, evs[i])
	}
}

// apply applies evs[*done:] in the open transaction. fresh is false when
// replaying events already counted and remembered.
func (w *worker) apply(ctx context.Context, evs []pipeline.Event, done *int, fresh bool) error {
	guarded := w.s.d.ErrorAbortsTransaction()
	if cs, ok := w.conn.(copyStreamer); ok {
		cs.StreamCopies(w.mayStream())
	}
	for *done < len(evs) {
		base := *done
		// Split a bounded number of events at a time: runs point into evs.
		end := min(len(evs), base+64*w.s.maxRunRows)
		runs, err := w.split(evs[base:end])
		if err != nil {
			return err
		}
		advance := func(to int) {
			if fresh {
				w.consume(evs[*done:to])
				w.progress += uint64(to - *done)
			}
			*done = to
		}
		for len(runs) > 0 {
			if w.diagnose && guarded {
				if err := w.applyGuarded(ctx, runs[0], fresh); err != nil {
					return err
				}
				advance(base + runs[0].end)
				runs = runs[1:]
				continue
			}
			var k int
			var row *CheckpointRow // committed with the runs
			held := false
			if ac, ok := w.conn.(applyCommitter); ok && fresh && w.commitWith != nil && end == len(evs) && len(runs) > 0 && !w.diagnose {
				r := w.nextRow(w.commitWith, evs[*done:end])
				row, w.pending = &r, &r
				k, held, err = ac.ApplyCommit(ctx, runs, w.s.checkpoint, r, w.s.holdAllowed && w.mayStream())
			} else {
				k, err = w.conn.Apply(ctx, runs)
			}
			if fresh {
				for _, r := range runs[:k] {
					w.remember(r.Events)
				}
			}
			if k > 0 {
				advance(base + runs[k-1].end)
			}
			if err == nil {
				if held {
					advance(end)
					clear(w.runs)
					w.pending = nil
					w.held, w.heldTail = w.commitWith, false
					return nil
				}
				if row != nil {
					advance(end)
					clear(w.runs)
					w.pending = nil
					w.committed(*row)
					return nil
				}
				break
			}
			if errors.Is(err, ErrStreamFailed) {
				w.pending = nil // the transaction is lost: see streamFailed
				if w.s.d.Classify(err) == Retryable {
					return &retryable{err}
				}
				return err
			}
			class := w.s.d.Classify(err)
			if row != nil && class != Retryable {
				w.pending = nil // refused, so not committed
				if k == len(runs) {
					w.inTx = false
					return w.s.fail(fmt.Errorf("worker %d: commit: %w", w.id, err))
				}
			}
			switch class {
			case Retryable:
				// A pending commit is checked on the new connection.
				return &retryable{err}
			case DataError:
				if guarded {
					_ = w.conn.Rollback(ctx)
					w.inTx = false
					w.diagnose = true
					return errReplay
				}
				// Only the statement was undone: find its bad event.
				if err := w.applyEach(ctx, runs[k], fresh); err != nil {
					return err
				}
				advance(base + runs[k].end)
				runs = runs[k+1:]
			default:
				return w.s.fail(fmt.Errorf("%s: %s: %w", runs[k].Mapping.Table.ID, abbreviate(w.conn.Statement(runs[k])), err))
			}
		}
		advance(end)
		// The runs must not outlive the events they point into.
		clear(w.runs)
	}
	return nil
}

// applyGuarded applies one run under a savepoint; when it fails on data,
// it is applied again event by event.
func (w *worker) applyGuarded(ctx context.Context, r Run, fresh bool) error {
	if err := w.conn.Savepoint(ctx); err != nil {
		return w.classify(err)
	}
	_, err := w.conn.Apply(ctx, []Run{r})
	if err == nil {
		if fresh {
			w.remember(r.Events)
		}
		return w.classify(w.conn.ReleaseSavepoint(ctx))
	}
	switch w.s.d.Classify(err) {
	case Retryable:
		return &retryable{err}
	case DataError:
		if err := w.conn.RollbackToSavepoint(ctx); err != nil {
			return w.classify(err)
		}
		return w.applyEach(ctx, r, fresh)
	}
	return w.s.fail(fmt.Errorf("%s: %s: %w", r.Mapping.Table.ID, abbreviate(w.conn.Statement(r)), err))
}

// applyEach applies a run's events one statement each, to find the ones
// the target refuses.
func (w *worker) applyEach(ctx context.Context, r Run, fresh bool) error {
	guard := w.s.d.ErrorAbortsTransaction()
	for i := range r.Events {
		one := Run{Kind: r.Kind, Mapping: r.Mapping, Events: r.Events[i : i+1], Present: r.Present, end: 1}
		if guard {
			if err := w.conn.Savepoint(ctx); err != nil {
				return w.classify(err)
			}
		}
		_, err := w.conn.Apply(ctx, []Run{one})
		if err == nil {
			if fresh {
				w.remember(one.Events)
			}
			if guard {
				if err := w.conn.ReleaseSavepoint(ctx); err != nil {
					return w.classify(err)
				}
			}
			continue
		}
		switch w.s.d.Classify(err) {
		case Retryable:
			return &retryable{err}
		case DataError:
			if guard {
				if err := w.conn.RollbackToSavepoint(ctx); err != nil {
					return w.classify(err)
				}
			}
			if err := w.s.poison(&one.Events[0], one.Mapping, w.conn.Statement(one), err); err != nil {
				return err
			}
		default:
			return w.s.fail(fmt.Errorf("%s: %s: %w", r.Mapping.Table.ID, abbreviate(w.conn.Statement(one)), err))
		}
	}
	return nil
}

// nextRow is the checkpoint row a commit at point writes once pending,
// events not yet counted in the open transaction, are applied too.
func (w *worker) nextRow(point *commitPoint, pending []pipeline.Event) CheckpointRow {
	stream := w.openStream
	for i := range pending {
		if pending[i].Op != pipeline.OpRead {
			stream++
		}
	}
	r := CheckpointRow{Pipeline: w.s.o.Pipeline, Worker: w.id, Seq: point.seq, Updated: time.Now().UTC()}
	if point.full {
		r.Position = point.position
		r.PrevPosition = w.row.Position
		r.PrevApplied = w.row.Applied + stream
		return r
	}
	r.Position = w.row.Position
	r.Applied = w.row.Applied + stream
	r.PrevPosition, r.PrevApplied = r.Position, r.Applied
	return r
}

func (w *worker) commit(ctx context.Context, point *commitPoint) error {
	if err := w.begin(ctx); err != nil {
		return err
	}
	row := w.nextRow(point, nil)
	w.pending = &row
	if err := w.conn.Commit(ctx, w.s.checkpoint, row); err != nil {
		if w.s.d.Classify(err) == Retryable {
			return &retryable{err}
		}
		if errors.Is(err, ErrStreamFailed) {
			w.pending = nil // not committed: the COPY before it failed
			return err
		}
		w.pending = nil
		w.inTx = false
		return w.s.fail(fmt.Errorf("worker %d: commit: %w", w.id, err))
	}
	w.pending = nil
	w.committed(row)
	return nil
}

func (w *worker) committed(row CheckpointRow) {
	w.progress++
	w.inTx = false
	w.row = row
	w.forget()
	w.diagnose = false
	w.held, w.heldTail = nil, false
}

// mayStream reports whether the worker lets its COPYs stay open (see
// copyStreamer): one worker (several commit together at every point), not
// hunting a failing event, and no streamed COPY failed lately.
func (w *worker) mayStream() bool {
	return len(w.s.workers) == 1 && !w.diagnose && time.Now().After(w.s.streamOffUntil)
}

// After a streamed COPY fails (a target that already holds the rows: a
// snapshot again, a re-sync), COPYs end with their write for minStreamOff,
// then for twice as long after each new failure, up to maxStreamOff: a
// failure costs replaying one open transaction, rare enough this way.
const (
	minStreamOff = time.Minute
	maxStreamOff = time.Hour
)

// checkPending reads the checkpoint row after a commit whose answer was lost.
func (w *worker) checkPending(ctx context.Context) (bool, error) {
	rows, err := w.conn.ReadCheckpoints(ctx, w.s.checkpoint, w.s.o.Pipeline)
	if err != nil {
		return false, err
	}
	for _, r := range rows {
		if r.Worker == w.id {
			return r.Seq == w.pending.Seq, nil
		}
	}
	return false, nil
}

// abbreviate shortens a statement for an error message.
func abbreviate(stmt string) string {
	const limit = 200
	if len(stmt) <= limit {
		return stmt
	}
	return stmt[:limit] + "…"
}
