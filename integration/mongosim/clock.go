package mongosim

import (
	"cmp"
	"fmt"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Cluster times are BSON Timestamps packed as t<<32 | i, so that they order as integers.
func tsT(ts uint64) uint32 { return uint32(ts >> 32) }
func tsI(ts uint64) uint32 { return uint32(ts) }
func packTS(t, i uint32) uint64 {
	return uint64(t)<<32 | uint64(i)
}

func toTimestamp(ts uint64) bson.Timestamp { return bson.Timestamp{T: tsT(ts), I: tsI(ts)} }

// clock is the oplog clock: every oplog entry gets a cluster time greater than the last, with the
// seconds taken from the wall clock and the increment counting entries within a second.
type clock struct {
	last uint64
	// lastIsEvent is true when last was given to a change event; a position "after everything"
	// then needs a fresh no-op entry, as the server's periodic no-op writer would provide.
	lastIsEvent bool
}

func (c *clock) tick() uint64 {
	now := uint32(time.Now().Unix())
	if now > tsT(c.last) {
		c.last = packTS(now, 1)
	} else {
		c.last++
	}
	return c.last
}

func (c *clock) event() uint64 {
	c.lastIsEvent = true
	return c.tick()
}

// noop returns a cluster time that no event has and every later event exceeds.
func (c *clock) noop() uint64 {
	if c.lastIsEvent || c.last == 0 {
		c.lastIsEvent = false
		return c.tick()
	}
	return c.last
}

// position orders the change stream as the server's resume tokens do: cluster time, then a
// high-water-mark token before any event at that time, then the event's index in its transaction,
// then the invalidate that follows an invalidating event.
type position struct {
	ts             uint64
	event          bool
	txnOpIndex     uint32
	fromInvalidate bool
}

func (p position) compare(q position) int {
	if c := cmp.Compare(p.ts, q.ts); c != 0 {
		return c
	}
	if p.event != q.event {
		if p.event {
			return 1
		}
		return -1
	}
	if c := cmp.Compare(p.txnOpIndex, q.txnOpIndex); c != 0 {
		return c
	}
	if p.fromInvalidate != q.fromInvalidate {
		if p.fromInvalidate {
			return 1
		}
		return -1
	}
	return 0
}

// Resume tokens are {_data: "<hex>"} like a 7.0 server's (token version 2), but the hex is the
// simulator's own fixed layout rather than KeyString: it only has to be opaque to clients, start
// with the cluster time as real tokens do, and sort as its position does.
//
//	82 TTTTTTTTIIIIIIII 02 KK OOOOOOOO FF 04
//	   cluster time     |  |  |        |  end
//	                 version |  txnOpIndex fromInvalidate
//	                 token type (00 high-water mark, 80 event)
const tokenLen = 2 + 16 + 2 + 2 + 8 + 2 + 2

func (p position) token() string {
	kind, fi := 0, 0
	if p.event {
		kind = 0x80
	}
	if p.fromInvalidate {
		fi = 1
	}
	return fmt.Sprintf("82%016X02%02X%08X%02X04", p.ts, kind, p.txnOpIndex, fi)
}

func parseToken(data string) (position, error) {
	bad := func(why string) (position, error) {
		return position{}, errorf(codeBadValue, "Bad resume token: %s", why)
	}
	if len(data) != tokenLen || data[:2] != "82" || data[18:20] != "02" || data[tokenLen-2:] != "04" {
		return bad("_data of unknown format")
	}
	ts, err1 := strconv.ParseUint(data[2:18], 16, 64)
	kind, err2 := strconv.ParseUint(data[20:22], 16, 8)
	op, err3 := strconv.ParseUint(data[22:30], 16, 32)
	fi, err4 := strconv.ParseUint(data[30:32], 16, 8)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || (kind != 0 && kind != 0x80) || fi > 1 {
		return bad("_data is not valid hex")
	}
	return position{ts: ts, event: kind == 0x80, txnOpIndex: uint32(op), fromInvalidate: fi == 1}, nil
}

// appendTokenElement appends key: {_data: "<token>"}.
func appendTokenElement(dst []byte, key string, p position) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
	dst = bsoncore.AppendStringElement(dst, "_data", p.token())
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func tokenFromValue(v bsoncore.Value) (position, error) {
	doc, ok := v.DocumentOK()
	if !ok {
		return position{}, errorf(codeTypeMismatch, "Bad resume token: must be an object")
	}
	data, ok := doc.Lookup("_data").StringValueOK()
	if !ok {
		return position{}, errorf(codeBadValue, "Bad resume token: _data of missing or of wrong type")
	}
	return parseToken(data)
}
