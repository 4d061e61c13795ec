package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pgoutput message types (PostgreSQL's "Logical Replication Message
// Formats", protocol versions 1 and 2).
const (
	msgBegin        = 'B'
	msgCommit       = 'C'
	msgOrigin       = 'O'
	msgRelation     = 'R'
	msgType         = 'Y'
	msgInsert       = 'I'
	msgUpdate       = 'U'
	msgDelete       = 'D'
	msgTruncate     = 'T'
	msgMessage      = 'M'
	msgStreamStart  = 'S'
	msgStreamStop   = 'E'
	msgStreamCommit = 'c'
	msgStreamAbort  = 'A'
)

// Tuple column kinds.
const (
	colNull      = 'n'
	colUnchanged = 'u' // an unchanged TOASTed value, not sent
	colText      = 't'
	colBinary    = 'b'
)

// pgEpochMicros is 2000-01-01 in µs since the Unix epoch: pgoutput
// timestamps count from there.
const pgEpochMicros = 946_684_800_000_000

// tupleCol is one column of a tuple; data aliases the message.
type tupleCol struct {
	kind byte
	data []byte
}

// relColumn is one column of a RELATION message.
type relColumn struct {
	flags  byte // 1: part of the replica identity
	name   string
	typOID uint32
	typmod int32
}

// message is one decoded pgoutput message. Only the fields of its type
// are set; tuples alias the message bytes and are reused by the next
// parse.
type message struct {
	typ byte
	xid uint32 // Begin, stream messages, and changes inside a stream

	// Begin, Commit, Stream Commit
	finalLSN   uint64 // Begin: the commit record's LSN
	commitLSN  uint64 // Commit, Stream Commit
	endLSN     uint64 // Commit, Stream Commit: end of the commit record
	commitTime int64  // µs since the Unix epoch

	// Origin
	originLSN  uint64
	originName string

	// Relation
	relID     uint32
	namespace string
	relName   string
	replIdent byte
	columns   []relColumn

	// Type
	typOID uint32

	// Insert, Update, Delete
	oldKind  byte // 'K' (replica identity key) or 'O' (old row), 0 when none
	oldTuple []tupleCol
	newTuple []tupleCol

	// Truncate
	truncOptions byte
	relIDs       []uint32

	// Message
	transactional bool
	messageLSN    uint64
	prefix        string
	content       []byte

	// Stream Start, Stream Abort
	firstSegment bool
	subXid       uint32
}

var errShort = errors.New("message is truncated")

// decoder reads the fields of one message.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if len(d.b) < n {
		d.err = errShort
		return false
	}
	return true
}

func (d *decoder) u8() byte {
	if !d.need(1) {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) time() int64 { return int64(d.u64()) + pgEpochMicros }

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	for i, c := range d.b {
		if c == 0 {
			s := string(d.b[:i])
			d.b = d.b[i+1:]
			return s
		}
	}
	d.err = errors.New("string is not NUL-terminated")
	return ""
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 {
		d.err = errors.New("negative length")
		return nil
	}
	if !d.need(n) {
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) tuple(dst []tupleCol) []tupleCol {
	n := int(d.u16())
	dst = dst[:0]
	for range n {
		c := tupleCol{kind: d.u8()}
		switch c.kind {
		case colText, colBinary:
			c.data = d.bytes(int(int32(d.u32())))
		case colNull, colUnchanged:
		default:
			if d.err == nil {
				d.err = fmt.Errorf("unknown tuple column kind %q", c.kind)
			}
		}
		if d.err != nil {
			return dst
		}
		dst = append(dst, c)
	}
	return dst
}

// parseMessage decodes b (one pgoutput message, type byte first) into m.
// inStream says a Stream Start is open: changes then carry their
// (sub)transaction's xid.
func parseMessage(b []byte, inStream bool, m *message) error {
	if len(b) == 0 {
		return errors.New("pgoutput: empty message")
	}
	m.typ = b[0]
	d := decoder{b: b[1:]}
	xid := func() {
		if inStream {
			m.xid = d.u32()
		}
	}
	switch m.typ {
	case msgBegin:
		m.finalLSN = d.u64()
		m.commitTime = d.time()
		m.xid = d.u32()
	case msgCommit:
		d.u8()
		m.commitLSN = d.u64()
		m.endLSN = d.u64()
		m.commitTime = d.time()
	case msgOrigin:
		m.originLSN = d.u64()
		m.originName = d.str()
	case msgRelation:
		xid()
		m.relID = d.u32()
		m.namespace = d.str()
		m.relName = d.str()
		m.replIdent = d.u8()
		n := int(d.u16())
		m.columns = m.columns[:0]
		for i := 0; i < n && d.err == nil; i++ {
			c := relColumn{flags: d.u8(), name: d.str(), typOID: d.u32(), typmod: int32(d.u32())}
			m.columns = append(m.columns, c)
		}
	case msgType:
		xid()
		m.typOID = d.u32()
		m.namespace = d.str()
		m.relName = d.str()
	case msgInsert:
		xid()
		m.relID = d.u32()
		if k := d.u8(); k != 'N' && d.err == nil {
			d.err = fmt.Errorf("insert: tuple marker %q, want 'N'", k)
		}
		m.oldKind = 0
		m.oldTuple = m.oldTuple[:0]
		m.newTuple = d.tuple(m.newTuple)
	case msgUpdate:
		xid()
		m.relID = d.u32()
		m.oldKind = 0
		m.oldTuple = m.oldTuple[:0]
		k := d.u8()
		if k == 'K' || k == 'O' {
			m.oldKind = k
			m.oldTuple = d.tuple(m.oldTuple)
			k = d.u8()
		}
		if k != 'N' && d.err == nil {
			d.err = fmt.Errorf("update: tuple marker %q, want 'N'", k)
		}
		m.newTuple = d.tuple(m.newTuple)
	case msgDelete:
		xid()
		m.relID = d.u32()
		m.oldKind = d.u8()
		if m.oldKind != 'K' && m.oldKind != 'O' && d.err == nil {
			d.err = fmt.Errorf("delete: tuple marker %q, want 'K' or 'O'", m.oldKind)
		}
		m.oldTuple = d.tuple(m.oldTuple)
		m.newTuple = m.newTuple[:0]
	case msgTruncate:
		xid()
		n := int(d.u32())
		m.truncOptions = d.u8()
		m.relIDs = m.relIDs[:0]
		for i := 0; i < n && d.err == nil; i++ {
			m.relIDs = append(m.relIDs, d.u32())
		}
	case msgMessage:
		// A transactional message inside a stream carries the xid.
		xid()
		m.transactional = d.u8()&1 != 0
		m.messageLSN = d.u64()
		m.prefix = d.str()
		m.content = d.bytes(int(int32(d.u32())))
	case msgStreamStart:
		m.xid = d.u32()
		m.firstSegment = d.u8() == 1
	case msgStreamStop:
	case msgStreamCommit:
		m.xid = d.u32()
		d.u8()
		m.commitLSN = d.u64()
		m.endLSN = d.u64()
		m.commitTime = d.time()
	case msgStreamAbort:
		m.xid = d.u32()
		m.subXid = d.u32()
	default:
		return fmt.Errorf("pgoutput: unknown message type %q", m.typ)
	}
	if d.err != nil {
		return fmt.Errorf("pgoutput: %c message: %w", m.typ, d.err)
	}
	return nil
}
