package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// Config configures a file sink.
type Config struct {
	Path       string // file to append to; "-" is stdout
	Schemas    bool   // JsonConverter schemas.enable
	Tombstones bool   // a tombstone line after every delete
}

// maxRetainedBuffer is the largest encoding buffer kept between batches
// (room for about 3,000 events with schemas); a batch that needed more gets
// its buffer dropped afterwards so that one huge transaction does not pin
// its memory for the life of the sink.
const maxRetainedBuffer = 16 << 20

// Sink appends batches to a file. It implements pipeline.Sink; like every
// sink it receives one batch at a time.
type Sink struct {
	name   string // the path as configured, "stdout" for "-"; used in errors
	f      *os.File
	stdout bool
	noSync bool // stdout, a pipe or a device: nothing to fsync
	closed bool
	enc    *debezium.Encoder
	buf    []byte
	retain int // maxRetainedBuffer, lowered by tests
	// size is the file's length after the last complete batch, used to cut
	// a partly written batch off again; -1 when the file cannot be truncated.
	size  int64
	syncs int
	// unsynced: lines were written since the last fsync (by batches
	// without a position).
	unsynced bool
}

var _ pipeline.Sink = (*Sink)(nil)

// Open opens cfg.Path for appending, creating it (mode 0644) if needed.
func Open(cfg Config) (*Sink, error) {
	s := &Sink{
		name:   cfg.Path,
		enc:    debezium.NewEncoder(debezium.Options{Schemas: cfg.Schemas, Tombstones: cfg.Tombstones}),
		size:   -1,
		retain: maxRetainedBuffer,
	}
	switch cfg.Path {
	case "":
		return nil, errors.New("file sink: no path configured")
	case "-":
		s.name, s.f, s.stdout, s.noSync = "stdout", os.Stdout, true, true
		return s, nil
	}
	f, err := os.OpenFile(cfg.Path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, s.fail("open", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, s.fail("stat", err)
	}
	if fi.Mode().IsRegular() {
		s.size = fi.Size()
		if err := s.cutTornLine(f); err != nil {
			_ = f.Close()
			return nil, s.fail("repair", err)
		}
	} else {
		// A pipe or a device (/dev/null) cannot be synced: like stdout,
		// what it is written to decides durability.
		s.noSync = true
	}
	s.f = f
	return s, nil
}

// cutTornLine removes a last line without its newline: siphon was killed
// while writing a batch that was therefore never acknowledged, and will be
// written again. Left in place, it would glue onto the next line.
func (s *Sink) cutTornLine(f *os.File) error {
	if s.size == 0 {
		return nil
	}
	const chunk = 64 << 10
	end := s.size
	buf := make([]byte, chunk)
	for end > 0 {
		start := max(end-chunk, 0)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && n != int(end-start) {
			return err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				cut := start + int64(i) + 1
				if cut == s.size {
					return nil
				}
				s.size = cut
				return f.Truncate(cut)
			}
		}
		end = start
	}
	s.size = 0
	return f.Truncate(0)
}

// Write appends the lines of every event of b and fsyncs the file (not
// stdout). When it returns nil the batch is durable. A batch without events
// writes nothing. If the write fails, what was written of the batch is cut
// off again where possible, so the file never keeps half a batch.
func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("file sink %s: %w", s.name, err)
	}
	if s.closed {
		return s.fail("write", os.ErrClosed)
	}
	if len(b.Events) == 0 {
		// A position alone still ends the lines written before it.
		return s.persist(b, 0)
	}
	// Lines go out in pieces of about writeChunk bytes: a large (merged)
	// batch needs no buffer of its whole size.
	buf := s.buf[:0]
	var written int64
	for i := range b.Events {
		buf = s.enc.AppendLines(buf, &b.Events[i])
		if len(buf) >= writeChunk || i == len(b.Events)-1 {
			if _, err := s.f.Write(buf); err != nil {
				if s.size >= 0 {
					// Best effort: the write error is what the caller must see.
					_ = s.f.Truncate(s.size)
				}
				return s.fail("write", err)
			}
			written += int64(len(buf))
			buf = buf[:0]
		}
	}
	if cap(buf) > s.retain {
		s.buf = nil
	} else {
		s.buf = buf[:0]
	}
	if err := s.persist(b, written); err != nil {
		return err
	}
	if s.size >= 0 {
		s.size += written
	}
	return nil
}

// writeChunk is how many encoded bytes a Write gathers before writing them.
const writeChunk = 1 << 20

// persist makes the n bytes of b just written durable when b carries a
// position. A batch without a position ends inside a transaction or
// snapshot chunk: no checkpoint can rest on it alone, and the next batch
// that carries a position — events or not — syncs the file, this batch's
// lines included.
func (s *Sink) persist(b *pipeline.Batch, n int64) error {
	switch {
	case s.noSync:
	case b.Position != nil:
		if n == 0 && !s.unsynced {
			return nil
		}
		if err := s.f.Sync(); err != nil {
			return s.fail("sync", err)
		}
		s.syncs++
		s.unsynced = false
	case n > 0:
		s.unsynced = true
	}
	return nil
}

// Close closes the file; stdout is left open.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.buf = nil
	if s.stdout {
		return nil
	}
	if err := s.f.Close(); err != nil {
		return s.fail("close", err)
	}
	return nil
}

// fail wraps err as "file sink <path>: <op>: <cause>", dropping the
// *fs.PathError layer that would repeat the path.
func (s *Sink) fail(op string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("file sink %s: %s: %w", s.name, op, err)
}
