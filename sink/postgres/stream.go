package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// A COPY costs PostgreSQL more per row when it is short: each COPY starts
// a new ring of buffers for the pages it fills, taken cold from shared
// buffers, where a long COPY keeps refilling one ring that stays in the
// CPU's cache (measured on PostgreSQL 15: 1M rows as 100 COPYs of 10k
// rows take 35% more backend CPU than as one COPY; COPYs of 200k rows, 10%
// more). So while the worker allows it (StreamCopies), a COPY stays open
// when Apply returns: the rows of the next runs of the same table join it,
// across writes and source transactions, and it ends only when something
// else must use the connection — another statement, the commit, a
// rollback. Should it fail then, the whole target transaction is gone
// (there is no savepoint around it): the error wraps
// sqlapply.ErrStreamFailed and the worker applies the transaction again.

// copyChunk is the size of the pieces an open COPY is fed in.
const copyChunk = 64 << 10

// copyPoll is how often a COPY waiting for rows lets pgconn look for an
// error from the server, which then ends it at once.
const copyPoll = 50 * time.Millisecond

// streamCopy is a COPY open on the connection, fed by Apply.
type streamCopy struct {
	m      *sqlapply.Mapping
	binary bool
	began  time.Time
	bytes  int
	chunks chan []byte // encoded rows, in order; closed at the end
	free   chan []byte // chunks read, for reuse
	done   chan error  // the COPY's outcome
	failed error       // done's value, once received
	ended  bool
}

// streamReader is the io.Reader pgconn's CopyFrom reads from, on its own
// goroutine.
type streamReader struct {
	s     *streamCopy
	cur   []byte
	off   int
	timer *time.Timer
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.off == len(r.cur) {
		if r.cur != nil {
			select {
			case r.s.free <- r.cur[:0]:
			default:
			}
			r.cur, r.off = nil, 0
		}
		if r.timer == nil {
			r.timer = time.NewTimer(copyPoll)
		} else {
			r.timer.Reset(copyPoll)
		}
		select {
		case b, ok := <-r.s.chunks:
			r.timer.Stop()
			if !ok {
				return 0, io.EOF
			}
			r.cur = b
		case <-r.timer.C:
			return 0, nil // pgconn checks for an error from the server, then reads again
		}
	}
	n := copy(p, r.cur[r.off:])
	r.off += n
	return n, nil
}

// StreamCopies lets COPYs stay open across Apply calls (on) or makes each
// end before Apply returns (off).
func (c *conn) StreamCopies(on bool) { c.streaming = on && c.mergeFor > 0 }

// openCopy starts a COPY of m's rows that Apply calls feed until endCopy.
func (c *conn) openCopy(ctx context.Context, m *sqlapply.Mapping, binary bool) *streamCopy {
	s := &streamCopy{m: m, binary: binary, began: time.Now(),
		chunks: make(chan []byte, 4), free: make(chan []byte, 6), done: make(chan error, 1)}
	query := c.lead() + c.copyStatement(m, binary)
	go func() {
		_, err := c.c.PgConn().CopyFrom(ctx, &streamReader{s: s}, query)
		s.done <- err
	}()
	if binary {
		s.chunks <- append(s.chunkBuf(), copyBinaryHeader...)
	}
	c.stream = s
	return s
}

// feedCopy encodes the events' rows and hands them to the open COPY. The
// rows are all encoded before any is sent: a value the encoders refuse
// leaves the COPY as it was (false, nil), for the run's statement to
// report. An error means the COPY failed.
func (c *conn) feedCopy(ctx context.Context, s *streamCopy, encs []encoder, bins []binEncoder, parts [][]pipeline.Event) (bool, error) {
	ready := c.readyChunks[:0]
	buf := s.chunkBuf()
	for _, part := range parts {
		for i := range part {
			var err error
			if buf, err = c.appendRow(buf, s.m, encs, bins, part[i].After); err != nil {
				if bins != nil && errors.Is(err, errBinaryValue) {
					c.binary[s.m] = nil // a value without a binary form: text from the next COPY on
				}
				for _, b := range ready {
					s.recycle(b)
				}
				s.recycle(buf)
				clear(ready)
				c.readyChunks = ready[:0]
				return false, nil
			}
			if len(buf) >= copyChunk {
				ready = append(ready, buf)
				buf = s.chunkBuf()
			}
		}
	}
	if len(buf) > 0 {
		ready = append(ready, buf)
	} else {
		s.recycle(buf)
	}
	for i, b := range ready {
		s.bytes += len(b)
		select {
		case s.chunks <- b:
		case err := <-s.done:
			s.failed, s.ended = copyOutcome(err), true
			clear(ready[i:])
			c.readyChunks = ready[:0]
			return false, s.failed
		case <-ctx.Done():
			clear(ready[i:])
			c.readyChunks = ready[:0]
			return false, ctx.Err()
		}
	}
	clear(ready)
	c.readyChunks = ready[:0]
	return true, nil
}

// copyOutcome wraps a COPY's failure with sqlapply.ErrStreamFailed; a COPY
// that ended without one before endCopy closed it failed too.
func copyOutcome(err error) error {
	if err == nil {
		// An early end without an error would have been the reader's EOF,
		// which only endCopy causes.
		return fmt.Errorf("%w: the COPY ended early", sqlapply.ErrStreamFailed)
	}
	return fmt.Errorf("%w: %w", sqlapply.ErrStreamFailed, err)
}

// chunkBuf returns an empty chunk, one the reader is done with if any.
func (s *streamCopy) chunkBuf() []byte {
	select {
	case b := <-s.free:
		return b
	default:
		return make([]byte, 0, copyChunk+4096)
	}
}

func (s *streamCopy) recycle(b []byte) {
	select {
	case s.free <- b[:0]:
	default:
	}
}

// endCopy ends the open COPY, if any, and returns its outcome.
func (c *conn) endCopy(ctx context.Context) error {
	s := c.stream
	if s == nil {
		return nil
	}
	c.stream = nil
	if s.ended {
		return s.failed
	}
	if s.binary {
		trailer := append(s.chunkBuf(), copyBinaryTrailer...)
		select {
		case s.chunks <- trailer:
		case err := <-s.done:
			return copyOutcome(err)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	close(s.chunks)
	select {
	case err := <-s.done:
		if err != nil {
			return copyOutcome(err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// holdable reports whether the open COPY may keep the transaction open
// past a commit point: it is young and small enough.
func (c *conn) holdable() bool {
	s := c.stream
	return s != nil && !s.ended && c.mergeFor > 0 && time.Since(s.began) < c.mergeFor && s.bytes < maxHeldCopyBytes
}

// maxHeldCopyBytes bounds the rows one held COPY writes: what a crash
// makes the source read again, and the target write again.
const maxHeldCopyBytes = 512 << 20
