package postgres

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// A streamed transaction (protocol 2, streaming on) arrives in chunks
// between Stream Start and Stream Stop, interleaved with other
// transactions, and is only decided by Stream Commit or Stream Abort. Its
// messages are spilled, in order and as received, to one file per
// top-level xid under the pipeline's spill directory, so that memory stays
// bounded however large the transaction; Stream Commit replays the file
// through the normal decoding path and deletes it, Stream Abort deletes
// it.
//
// Each record is: length of the message (uint32), the xid the message
// carries (the subtransaction's for changes inside one), the message's
// WAL position (uint64), the message. A subtransaction's abort (Stream
// Abort with a subxid) is remembered and its changes are skipped at
// replay; RELATION and TYPE messages are always replayed, since they
// describe tables rather than change them.
//
// The replication reader goroutine spills (write, abort) while the stream
// goroutine replays: a transaction's file is written by the reader until
// its Stream Commit, which the reader hands on only after the last write,
// and then belongs to the stream goroutine (take). The map of open files
// is shared and locked.
//
// Spill files never outlive a run: after a restart the server streams the
// transaction again from its start (its commit lies after the slot's
// confirmed position), so leftovers are deleted at start.

const spillHeader = 16

type spiller struct {
	dir  string
	mu   sync.Mutex
	open map[uint32]*spillFile
}

type spillFile struct {
	xid     uint32
	path    string
	f       *os.File
	w       *bufio.Writer
	aborted map[uint32]bool
	records int64
	bytes   int64
}

// newSpiller prepares dir, deleting what an earlier run left there.
func newSpiller(dir string) (*spiller, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spill directory: %w", err)
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.spill"))
	if err != nil {
		return nil, err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return nil, fmt.Errorf("remove old spill file: %w", err)
		}
	}
	return &spiller{dir: dir, open: map[uint32]*spillFile{}}, nil
}

// Len is the number of streamed transactions in progress.
func (s *spiller) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open)
}

func (s *spiller) file(xid uint32) (*spillFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sf, ok := s.open[xid]; ok {
		return sf, nil
	}
	path := filepath.Join(s.dir, strconv.FormatUint(uint64(xid), 10)+".spill")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("spill transaction %d: %w", xid, err)
	}
	sf := &spillFile{xid: xid, path: path, f: f, w: bufio.NewWriterSize(f, 256<<10), aborted: map[uint32]bool{}}
	s.open[xid] = sf
	return sf, nil
}

// write appends one message of top-level transaction xid.
func (s *spiller) write(xid, msgXid uint32, lsn uint64, msg []byte) error {
	sf, err := s.file(xid)
	if err != nil {
		return err
	}
	var h [spillHeader]byte
	binary.BigEndian.PutUint32(h[0:], uint32(len(msg)))
	binary.BigEndian.PutUint32(h[4:], msgXid)
	binary.BigEndian.PutUint64(h[8:], lsn)
	if _, err := sf.w.Write(h[:]); err != nil {
		return fmt.Errorf("spill transaction %d: %w", xid, err)
	}
	if _, err := sf.w.Write(msg); err != nil {
		return fmt.Errorf("spill transaction %d: %w", xid, err)
	}
	sf.records++
	sf.bytes += int64(spillHeader + len(msg))
	return nil
}

// abort handles Stream Abort: the whole transaction when subXid is xid,
// else one subtransaction.
func (s *spiller) abort(xid, subXid uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sf, ok := s.open[xid]
	if !ok {
		return nil // nothing was streamed for it (or only for aborted parts)
	}
	if subXid != xid {
		sf.aborted[subXid] = true
		return nil
	}
	delete(s.open, xid)
	return sf.remove()
}

// take hands over the file of a committed transaction; the caller replays
// and removes it.
func (s *spiller) take(xid uint32) (*spillFile, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sf, ok := s.open[xid]
	if ok {
		delete(s.open, xid)
	}
	return sf, ok
}

// closeAll removes every open file (the run ends).
func (s *spiller) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for xid, sf := range s.open {
		_ = sf.remove()
		delete(s.open, xid)
	}
}

func (sf *spillFile) remove() error {
	err := sf.f.Close()
	if rerr := os.Remove(sf.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	return err
}

// replay calls fn for each message in order, skipping the changes of
// aborted subtransactions. msg is only valid during the call.
func (sf *spillFile) replay(fn func(lsn uint64, msg []byte) error) error {
	if err := sf.w.Flush(); err != nil {
		return fmt.Errorf("spill transaction %d: %w", sf.xid, err)
	}
	if _, err := sf.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spill transaction %d: %w", sf.xid, err)
	}
	r := bufio.NewReaderSize(sf.f, 256<<10)
	var h [spillHeader]byte
	buf := make([]byte, 0, 4096)
	for n := int64(0); n < sf.records; n++ {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return fmt.Errorf("spill transaction %d: record %d: %w", sf.xid, n, err)
		}
		size := int(binary.BigEndian.Uint32(h[0:]))
		msgXid := binary.BigEndian.Uint32(h[4:])
		lsn := binary.BigEndian.Uint64(h[8:])
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("spill transaction %d: record %d: %w", sf.xid, n, err)
		}
		if len(sf.aborted) > 0 && sf.aborted[msgXid] && size > 0 && buf[0] != msgRelation && buf[0] != msgType {
			continue
		}
		if err := fn(lsn, buf); err != nil {
			return err
		}
	}
	return nil
}
