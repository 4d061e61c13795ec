package mongosim

import (
	"crypto/rand"
	"encoding/binary"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// maxBatchBytes keeps a batch under the 16 MiB reply limit, as the server does.
const maxBatchBytes = 16 * 1024 * 1024

// streamState is an open change stream: its scope, options, user $match and how far it has read.
type streamState struct {
	db, coll     string // coll "" watches a database; db "" the whole deployment
	fullDocument string // default, updateLookup, whenAvailable, required
	before       string // off, whenAvailable, required
	showExpanded bool
	filter       matcher
	pos          position
}

func (st *streamState) inScope(ev *changeEvent) bool {
	if ev.expandedOnly && !st.showExpanded {
		return false
	}
	switch {
	case st.db == "":
		return ev.db != "admin" && ev.db != "config" && ev.db != "local"
	case st.coll == "":
		return ev.db == st.db && !strings.HasPrefix(ev.coll, "system.")
	}
	return ev.db == st.db && ev.coll == st.coll
}

// invalidatedBy is DocumentSourceChangeStreamCheckInvalidate's isInvalidatingCommand.
func (st *streamState) invalidatedBy(ev *changeEvent) bool {
	switch {
	case st.db == "":
		return false
	case st.coll == "":
		return ev.op == opDropDatabase
	}
	return ev.op == opDrop || ev.op == opRename || ev.op == opDropDatabase
}

// cursor is a server-side cursor: a materialised query result or a change stream.
type cursor struct {
	id     int64
	ns     string
	docs   []bsoncore.Document
	stream *streamState
}

func (s *Sim) newCursorID() int64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := int64(binary.LittleEndian.Uint64(b[:]) >> 1)
		if _, taken := s.cursors[id]; id != 0 && !taken {
			return id
		}
	}
}

var changeStreamOptions = map[string]bool{
	"resumeAfter": true, "startAfter": true, "startAtOperationTime": true, "fullDocument": true,
	"fullDocumentBeforeChange": true, "allChangesForCluster": true, "showExpandedEvents": true,
	"showSystemEvents": true, "showRawUpdateDescription": false, "allowToRunOnConfigDB": true,
	"allowToRunOnSystemNS": true, "showMigrationEvents": true,
}

// openChangeStream handles aggregate with a leading $changeStream stage.
func (s *Sim) openChangeStream(cc *cmdCtx, spec bsoncore.Document, rest []bsoncore.Value, batchSize int) ([]byte, error) {
	st := &streamState{fullDocument: "default", before: "off", filter: matchAll}
	target := cc.cmd.Lookup("aggregate")
	allCluster := truthy(spec.Lookup("allChangesForCluster"))
	switch {
	case target.Type == bsoncore.TypeString:
		st.db, st.coll = cc.db, target.StringValue()
		if cc.db == "admin" || cc.db == "config" || cc.db == "local" {
			return nil, errorf(codeInvalidNamespace, "$changeStream may not be opened on the internal %s database", cc.db)
		}
	case cc.db == "admin" && allCluster:
	case cc.db == "admin":
		return nil, errorf(codeInvalidNamespace, "$changeStream may not be opened on the internal admin database")
	case allCluster:
		return nil, errorf(codeInvalidOptions, "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name")
	default:
		st.db = cc.db
		if cc.db == "config" || cc.db == "local" {
			return nil, errorf(codeInvalidNamespace, "$changeStream may not be opened on the internal %s database", cc.db)
		}
	}

	elems, _ := spec.Elements()
	resumeOptions := 0
	var start *position
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range elems {
		key, v := e.Key(), e.Value()
		if !changeStreamOptions[key] {
			return nil, errorf(codeUnknownField, "BSON field '$changeStream.%s' is an unknown field.", key)
		}
		switch key {
		case "resumeAfter", "startAfter":
			resumeOptions++
			p, err := tokenFromValue(v)
			if err != nil {
				return nil, err
			}
			if key == "resumeAfter" && p.fromInvalidate {
				return nil, errorf(codeInvalidResumeToken, "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.")
			}
			start = &p
		case "startAtOperationTime":
			resumeOptions++
			t, i, ok := v.TimestampOK()
			if !ok {
				return nil, errorf(codeTypeMismatch, "BSON field '$changeStream.startAtOperationTime' is the wrong type '%s', expected type 'timestamp'", v.Type)
			}
			start = &position{ts: packTS(t, i)}
		case "fullDocument":
			mode, _ := v.StringValueOK()
			switch mode {
			case "default", "updateLookup", "whenAvailable", "required":
				st.fullDocument = mode
			default:
				return nil, errorf(codeBadValue, "Enumeration value '%s' for field '$changeStream.fullDocument' is not a valid value.", mode)
			}
		case "fullDocumentBeforeChange":
			mode, _ := v.StringValueOK()
			switch mode {
			case "off", "whenAvailable", "required":
				st.before = mode
			default:
				return nil, errorf(codeBadValue, "Enumeration value '%s' for field '$changeStream.fullDocumentBeforeChange' is not a valid value.", mode)
			}
		case "showExpandedEvents":
			st.showExpanded = truthy(v)
		}
	}
	if resumeOptions > 1 {
		return nil, errorf(40674, "Only one type of resume option is allowed, but multiple were found.")
	}
	for _, stage := range rest {
		sd, _ := stage.DocumentOK()
		e, err := sd.IndexErr(0)
		if err != nil {
			return nil, errorf(codeFailedToParse, "A pipeline stage specification object must contain exactly one field.")
		}
		if e.Key() != "$match" {
			return nil, errorf(codeIllegalOperation, "mongosim: stage %s after $changeStream is not simulated (only $match is)", e.Key())
		}
		m, err := compileFilter(e.Value().Document())
		if err != nil {
			return nil, err
		}
		prev := st.filter
		st.filter = func(d bsoncore.Document) bool { return prev(d) && m(d) }
	}
	if start != nil {
		if start.ts < s.historyFrom {
			return nil, errorf(codeChangeStreamHistoryLost, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")
		}
		st.pos = *start
	} else {
		st.pos = position{ts: s.clock.noop()}
	}

	c := &cursor{id: s.newCursorID(), stream: st}
	switch {
	case st.db == "":
		c.ns = "admin.$cmd.aggregate"
	case st.coll == "":
		c.ns = st.db + ".$cmd.aggregate"
	default:
		c.ns = st.db + "." + st.coll
	}
	docs, closed, err := s.streamBatch(st, batchSize)
	if err != nil {
		return nil, err
	}
	id := c.id
	if closed {
		id = 0
	} else {
		s.cursors[c.id] = c
	}
	return appendCursorReply(nil, true, docs, &st.pos, id, c.ns), nil
}

// streamBatch reads the next events of a stream; the caller holds s.mu. closed reports an
// invalidate, after which the server closes the cursor.
func (s *Sim) streamBatch(st *streamState, limit int) (docs []bsoncore.Document, closed bool, err error) {
	if s.truncatedThrough.compare(st.pos) > 0 {
		return nil, false, errorf(codeChangeStreamHistoryLost, "Resume of change stream was not possible, as the resume point may no longer be in the oplog.")
	}
	if limit <= 0 {
		limit = int(^uint(0) >> 1)
	}
	i := sort.Search(len(s.events), func(i int) bool { return s.events[i].pos.compare(st.pos) > 0 })
	size := 0
	for ; i < len(s.events); i++ {
		if len(docs) >= limit || size >= maxBatchBytes {
			return docs, false, nil
		}
		ev := s.events[i]
		if !st.inScope(ev) {
			st.pos = ev.pos
			continue
		}
		doc, err := s.renderEvent(ev, st)
		if err != nil {
			if len(docs) > 0 {
				// Deliver what precedes the failing event; the next getMore reports the error.
				return docs, false, nil
			}
			return nil, false, err
		}
		if st.filter(doc) {
			docs = append(docs, doc)
			size += len(doc)
		}
		st.pos = ev.pos
		if st.invalidatedBy(ev) {
			inv := renderInvalidate(ev)
			if st.filter(inv) {
				docs = append(docs, inv)
			}
			st.pos = invalidatePosition(ev)
			return docs, true, nil
		}
	}
	// Everything up to now has been read: the high-water mark moves to the present.
	if hwm := (position{ts: s.clock.noop()}); hwm.compare(st.pos) > 0 {
		st.pos = hwm
	}
	return docs, false, nil
}

// appendCursorReply appends cursor: {firstBatch|nextBatch, [postBatchResumeToken], id, ns}, the
// order of the server's CursorResponseBuilder.
func appendCursorReply(dst []byte, first bool, docs []bsoncore.Document, pbrt *position, id int64, ns string) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, "cursor")
	batch := "nextBatch"
	if first {
		batch = "firstBatch"
	}
	aidx, dst := bsoncore.AppendArrayElementStart(dst, batch)
	for i, d := range docs {
		dst = bsoncore.AppendDocumentElement(dst, arrayKey(i), d)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, aidx)
	if pbrt != nil {
		dst = appendTokenElement(dst, "postBatchResumeToken", *pbrt)
	}
	dst = bsoncore.AppendInt64Element(dst, "id", id)
	dst = bsoncore.AppendStringElement(dst, "ns", ns)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// cmdGetMore continues a cursor. A change stream's getMore waits up to maxTimeMS (1 s when
// absent, the server's default for awaitData cursors) for events.
func cmdGetMore(cc *cmdCtx) ([]byte, error) {
	id, ok := cc.cmd.Lookup("getMore").Int64OK()
	if !ok {
		return nil, errorf(codeTypeMismatch, "BSON field 'getMore.getMore' is the wrong type, expected type 'long'")
	}
	batchSize := 0
	if n, ok := cc.cmd.Lookup("batchSize").AsInt64OK(); ok {
		batchSize = int(n)
	}
	wait := time.Second
	if ms, ok := cc.cmd.Lookup("maxTimeMS").AsInt64OK(); ok {
		wait = time.Duration(ms) * time.Millisecond
	}
	deadline := time.Now().Add(wait)
	s := cc.s
	for {
		s.mu.Lock()
		c, ok := s.cursors[id]
		if !ok {
			s.mu.Unlock()
			return nil, errorf(codeCursorNotFound, "cursor id %d not found", id)
		}
		if c.stream == nil {
			n := len(c.docs)
			if batchSize > 0 && batchSize < n {
				n = batchSize
			}
			n = batchBySize(c.docs, n)
			docs := c.docs[:n]
			c.docs = c.docs[n:]
			outID := c.id
			if len(c.docs) == 0 {
				delete(s.cursors, id)
				outID = 0
			}
			s.mu.Unlock()
			return appendCursorReply(nil, false, docs, nil, outID, c.ns), nil
		}
		docs, closed, err := s.streamBatch(c.stream, batchSize)
		if err != nil {
			delete(s.cursors, id)
			s.mu.Unlock()
			return nil, err
		}
		changed := s.changed
		if len(docs) > 0 || closed || !time.Now().Before(deadline) {
			outID := c.id
			if closed {
				delete(s.cursors, id)
				outID = 0
			}
			pbrt := c.stream.pos
			s.mu.Unlock()
			return appendCursorReply(nil, false, docs, &pbrt, outID, c.ns), nil
		}
		s.mu.Unlock()
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-changed:
		case <-timer.C:
		case <-cc.ctx.Done():
			timer.Stop()
			return nil, errorf(codeInterruptedAtShutdown, "interrupted at shutdown")
		}
		timer.Stop()
	}
}

// batchBySize shortens a batch of n documents to stay under the reply size limit.
func batchBySize(docs []bsoncore.Document, n int) int {
	size := 0
	for i := 0; i < n; i++ {
		size += len(docs[i])
		if size > maxBatchBytes && i > 0 {
			return i
		}
	}
	return n
}
