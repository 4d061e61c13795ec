package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// walMsg is one message of the replication stream, in order: a pgoutput
// message (XLogData) or a primary keepalive.
type walMsg struct {
	keepalive bool
	walStart  uint64 // XLogData: WAL position of the message
	walEnd    uint64 // keepalive: the server's sent WAL end
	data      []byte // XLogData: the pgoutput message
}

// replReader owns the replication connection: it receives the stream and
// hands it on in batches, spills the blocks of streamed transactions
// (Stream Start … Stream Stop, and Stream Abort) itself — so that the
// server goes on decoding while the stream goroutine replays a committed
// one — and answers the server — standby status
// updates carrying the last checkpointed position, on every keepalive
// that asks for a reply, whenever that position moves, and at least every
// status interval — even while the stream goroutine is busy or blocked by
// backpressure, so that wal_sender_timeout never fires.
type replReader struct {
	conn      *pgconn.PgConn
	out       chan []walMsg
	confirmed *atomic.Uint64 // the last checkpointed LSN
	poke      chan struct{}  // asks the server for a keepalive now
	interval  time.Duration

	spill     *spiller
	inStream  bool
	streamXid uint32

	lastSent     uint64
	lastSentTime time.Time
	deadline     time.Time // the connection's read deadline
	slab         []byte
}

const (
	readerBatch   = 256
	readerSlab    = 1 << 20
	readerLinger  = 2 * time.Millisecond
	readerTimeout = time.Second
)

func newReplReader(conn *pgconn.PgConn, spill *spiller, confirmed *atomic.Uint64, interval time.Duration) *replReader {
	return &replReader{conn: conn, spill: spill, out: make(chan []walMsg, 64), confirmed: confirmed, poke: make(chan struct{}, 1), interval: interval}
}

// setDeadline bounds the next receive. A read deadline on the connection,
// with ReceiveMessage given no cancellable context, costs far less per
// message than a context with a timeout (a timer and a watcher each).
func (r *replReader) setDeadline(ctx context.Context, d time.Duration) error {
	now := time.Now()
	want := now.Add(d)
	// Moving a far deadline a little further is not worth a timer update.
	if want.Before(r.deadline) || want.Sub(r.deadline) > d/4 {
		if err := r.conn.Conn().SetReadDeadline(want); err != nil {
			return fmt.Errorf("replication stream: %w", err)
		}
		r.deadline = want
	}
	// A cancellation that set the deadline to now before this call was
	// overwritten: it shows in ctx.
	return ctx.Err()
}

// copy keeps the message past the next receive, in a shared slab.
func (r *replReader) copy(b []byte) []byte {
	if len(b) > len(r.slab) {
		r.slab = make([]byte, max(readerSlab, len(b)))
	}
	c := r.slab[:len(b):len(b)]
	copy(c, b)
	r.slab = r.slab[len(b):]
	return c
}

// run reads until the connection fails or ctx ends; it closes out.
func (r *replReader) run(ctx context.Context) error {
	defer close(r.out)
	stop := context.AfterFunc(ctx, func() { _ = r.conn.Conn().SetReadDeadline(time.Now()) })
	defer stop()
	defer func() { _ = r.conn.Conn().SetReadDeadline(time.Time{}) }()
	if err := r.sendStatus(false); err != nil {
		return err
	}
	var batch []walMsg
	for {
		timeout := readerTimeout
		if len(batch) > 0 {
			timeout = readerLinger
		}
		if err := r.setDeadline(ctx, timeout); err != nil {
			return err
		}
		msg, err := r.conn.ReceiveMessage(context.Background())
		if err != nil {
			if pgconn.Timeout(err) && ctx.Err() == nil {
				if len(batch) > 0 {
					if err := r.send(ctx, batch); err != nil {
						return err
					}
					batch = nil
				}
				if err := r.maybeStatus(); err != nil {
					return err
				}
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("replication stream: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				ka, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return fmt.Errorf("replication stream: %w", err)
				}
				batch = append(batch, walMsg{keepalive: true, walEnd: uint64(ka.ServerWALEnd)})
				if ka.ReplyRequested {
					if err := r.sendStatus(false); err != nil {
						return err
					}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return fmt.Errorf("replication stream: %w", err)
				}
				if spilled, err := r.streamed(uint64(xld.WALStart), xld.WALData); err != nil {
					return err
				} else if !spilled {
					batch = append(batch, walMsg{walStart: uint64(xld.WALStart), data: r.copy(xld.WALData)})
				}
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("replication stream: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone:
			return errors.New("replication stream: the server ended the stream (CopyDone)")
		default:
			// NoticeResponse, ParameterStatus: nothing to do.
		}
		if len(batch) >= readerBatch || (len(batch) > 0 && len(r.out) == 0) {
			if err := r.send(ctx, batch); err != nil {
				return err
			}
			batch = nil
		}
		if err := r.maybeStatus(); err != nil {
			return err
		}
	}
}

// streamed spills the messages of streamed transactions: Stream Start …
// Stream Stop blocks and Stream Abort. It reports whether it consumed
// the message; a Stream Commit is handed on, after every write of its
// transaction.
func (r *replReader) streamed(lsn uint64, b []byte) (bool, error) {
	if len(b) == 0 {
		return false, nil
	}
	if r.inStream {
		switch b[0] {
		case msgStreamStop:
			r.inStream = false
		case msgRelation, msgType, msgInsert, msgUpdate, msgDelete, msgTruncate, msgMessage:
			if len(b) < 5 {
				return true, fatalf("at %s: streamed %q message too short", formatLSN(lsn), b[0])
			}
			if err := r.spill.write(r.streamXid, binary.BigEndian.Uint32(b[1:5]), lsn, b); err != nil {
				return true, fatalf("%w", err)
			}
		default:
			return true, fatalf("at %s: unexpected message %q inside a streamed block", formatLSN(lsn), b[0])
		}
		return true, nil
	}
	switch b[0] {
	case msgStreamStart, msgStreamAbort:
		var m message
		if err := parseMessage(b, false, &m); err != nil {
			return true, fatalf("at %s: %w", formatLSN(lsn), err)
		}
		if m.typ == msgStreamStart {
			r.inStream, r.streamXid = true, m.xid
			return true, nil
		}
		if err := r.spill.abort(m.xid, m.subXid); err != nil {
			return true, fatalf("%w", err)
		}
		return true, nil
	case msgStreamStop:
		return true, fatalf("at %s: Stream Stop without Stream Start", formatLSN(lsn))
	}
	return false, nil
}

// send hands a batch to the stream goroutine, answering the server while
// it waits.
func (r *replReader) send(ctx context.Context, batch []walMsg) error {
	select {
	case r.out <- batch:
		return nil
	default:
	}
	tick := time.NewTicker(readerTimeout)
	defer tick.Stop()
	for {
		select {
		case r.out <- batch:
			return nil
		case <-tick.C:
			if err := r.maybeStatus(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// maybeStatus sends a status update when the checkpointed position moved,
// the interval passed, or the stream goroutine asked for a keepalive.
func (r *replReader) maybeStatus() error {
	select {
	case <-r.poke:
		return r.sendStatus(true)
	default:
	}
	since := time.Since(r.lastSentTime)
	if since >= r.interval || (r.confirmed.Load() != r.lastSent && since >= 100*time.Millisecond) {
		return r.sendStatus(false)
	}
	return nil
}

func (r *replReader) sendStatus(reply bool) error {
	lsn := r.confirmed.Load()
	err := pglogrepl.SendStandbyStatusUpdate(context.Background(), r.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: pglogrepl.LSN(lsn),
		WALFlushPosition: pglogrepl.LSN(lsn),
		WALApplyPosition: pglogrepl.LSN(lsn),
		ReplyRequested:   reply,
	})
	if err != nil {
		return fmt.Errorf("replication stream: send status update: %w", err)
	}
	r.lastSent, r.lastSentTime = lsn, time.Now()
	return nil
}
