package mongosim

import (
	"crypto/sha256"
	"time"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Operation types of change events.
const (
	opInsert       = "insert"
	opUpdate       = "update"
	opReplace      = "replace"
	opDelete       = "delete"
	opDrop         = "drop"
	opRename       = "rename"
	opDropDatabase = "dropDatabase"
	opCreate       = "create"
	opInvalidate   = "invalidate"
)

// changeEvent is one entry of the simulated oplog, already in change-event terms. Images are kept
// as the write saw them; what a stream shows of them depends on its options.
type changeEvent struct {
	pos          position
	wall         int64 // wallTime, milliseconds
	op           string
	db, coll     string
	toDB, toColl string
	uuid         [16]byte
	documentKey  bsoncore.Document
	fullDocument bsoncore.Document // insert, replace
	postImage    bsoncore.Document // update, when the collection records pre- and post-images
	preImage     bsoncore.Document // update, replace, delete, when the collection records them
	hasPrePost   bool
	desc         updateDescription
	inTxn        bool
	lsid         bsoncore.Document
	txnNumber    int64
	expandedOnly bool // create events appear only with showExpandedEvents
}

// appendEvent logs one event at its own cluster time; the caller holds s.mu.
func (s *Sim) appendEvent(ev *changeEvent) uint64 {
	ev.pos = position{ts: s.clock.event(), event: true}
	ev.wall = time.Now().UnixMilli()
	s.events = append(s.events, ev)
	s.notifyLocked()
	return ev.pos.ts
}

// appendTransaction logs a committed transaction's events at one cluster time, numbered by
// txnOpIndex and carrying the session's lsid and txnNumber; the caller holds s.mu.
func (s *Sim) appendTransaction(evs []*changeEvent, lsid bsoncore.Document, txnNumber int64) uint64 {
	ts := s.clock.event()
	wall := time.Now().UnixMilli()
	for i, ev := range evs {
		ev.pos = position{ts: ts, event: true, txnOpIndex: uint32(i)}
		ev.wall = wall
		ev.inTxn = true
		ev.lsid = lsid
		ev.txnNumber = txnNumber
		s.events = append(s.events, ev)
	}
	s.notifyLocked()
	return ts
}

func (s *Sim) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// oplogLsid is the lsid as the server writes it into the oplog: the client's id plus uid, the
// SHA-256 of the authenticated user name (of "" without authentication).
func oplogLsid(clientLsid bsoncore.Document) bsoncore.Document {
	uid := sha256.Sum256(nil)
	id := clientLsid.Lookup("id")
	return bsoncore.BuildDocument(nil,
		bsoncore.AppendValueElement(nil, "id", id),
		bsoncore.AppendBinaryElement(nil, "uid", 0, uid[:]),
	)
}

func documentKeyOf(id bsoncore.Value) bsoncore.Document {
	return bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "_id", id))
}

func appendNS(dst []byte, key, db, coll string) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
	dst = bsoncore.AppendStringElement(dst, "db", db)
	if coll != "" {
		dst = bsoncore.AppendStringElement(dst, "coll", coll)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// renderEvent builds the change event document a 7.0 server sends for ev on a stream with the
// given options. The field order is the server's (change_stream_event_transform.cpp and the
// pre/post-image stages): for transactions txnNumber and lsid come first, a rename's "to" comes
// before _id, fullDocument sits after wallTime (an updateLookup fills the slot in place), and
// fullDocumentBeforeChange is appended last. The caller holds s.mu.
func (s *Sim) renderEvent(ev *changeEvent, st *streamState) (bsoncore.Document, error) {
	idx, d := bsoncore.AppendDocumentStart(nil)
	if ev.op == opRename {
		d = appendNS(d, "to", ev.toDB, ev.toColl)
	}
	if ev.inTxn {
		d = bsoncore.AppendInt64Element(d, "txnNumber", ev.txnNumber)
		d = bsoncore.AppendDocumentElement(d, "lsid", ev.lsid)
	}
	d = appendTokenElement(d, "_id", ev.pos)
	d = bsoncore.AppendStringElement(d, "operationType", ev.op)
	d = bsoncore.AppendTimestampElement(d, "clusterTime", tsT(ev.pos.ts), tsI(ev.pos.ts))
	if st.showExpanded && ev.op != opDropDatabase {
		d = bsoncore.AppendBinaryElement(d, "collectionUUID", 4, ev.uuid[:])
	}
	d = bsoncore.AppendDateTimeElement(d, "wallTime", ev.wall)

	switch ev.op {
	case opInsert, opReplace:
		d = bsoncore.AppendDocumentElement(d, "fullDocument", ev.fullDocument)
	case opUpdate:
		var post bsoncore.Document
		switch st.fullDocument {
		case "updateLookup":
			if c := s.cat.lookup(ev.db, ev.coll); c != nil && c.uuid == ev.uuid {
				if sd, ok := c.get(canonicalKey(ev.documentKey.Lookup("_id"))); ok {
					post = sd.doc
				}
			}
		case "whenAvailable", "required":
			post = ev.postImage
			if post == nil && st.fullDocument == "required" {
				return nil, errorf(codeNoMatchingDocument, "Change stream was configured to require a post-image for all update events, but the post-image was not found for event: %s", eventSummary(ev))
			}
		}
		if st.fullDocument != "default" {
			if post != nil {
				d = bsoncore.AppendDocumentElement(d, "fullDocument", post)
			} else {
				d = bsoncore.AppendNullElement(d, "fullDocument")
			}
		}
	}

	switch ev.op {
	case opDropDatabase:
		d = appendNS(d, "ns", ev.db, "")
	default:
		d = appendNS(d, "ns", ev.db, ev.coll)
	}
	if ev.documentKey != nil {
		d = bsoncore.AppendDocumentElement(d, "documentKey", ev.documentKey)
	}
	if st.showExpanded {
		switch ev.op {
		case opRename:
			oidx, b := bsoncore.AppendDocumentElementStart(d, "operationDescription")
			b = appendNS(b, "to", ev.toDB, ev.toColl)
			d, _ = bsoncore.AppendDocumentEnd(b, oidx)
		case opCreate:
			oidx, b := bsoncore.AppendDocumentElementStart(d, "operationDescription")
			b = bsoncore.AppendDocumentElement(b, "idIndex", idIndexSpec())
			d, _ = bsoncore.AppendDocumentEnd(b, oidx)
		}
	}
	if ev.op == opUpdate {
		d = appendUpdateDescription(d, ev.desc, st.showExpanded)
	}
	if st.before != "off" && (ev.op == opUpdate || ev.op == opReplace || ev.op == opDelete) {
		if ev.preImage == nil && st.before == "required" {
			return nil, errorf(codeNoMatchingDocument, "Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: %s", eventSummary(ev))
		}
		if ev.preImage != nil {
			d = bsoncore.AppendDocumentElement(d, "fullDocumentBeforeChange", ev.preImage)
		} else {
			d = bsoncore.AppendNullElement(d, "fullDocumentBeforeChange")
		}
	}
	d, _ = bsoncore.AppendDocumentEnd(d, idx)
	return d, nil
}

func eventSummary(ev *changeEvent) string {
	return "{operationType: \"" + ev.op + "\", ns: {db: \"" + ev.db + "\", coll: \"" + ev.coll + "\"}}"
}

// invalidatePosition is the position of the invalidate that follows an invalidating event.
func invalidatePosition(ev *changeEvent) position {
	p := ev.pos
	p.fromInvalidate = true
	return p
}

// renderInvalidate builds {_id, operationType: "invalidate", clusterTime, wallTime}
// (document_source_change_stream_check_invalidate.cpp).
func renderInvalidate(ev *changeEvent) bsoncore.Document {
	idx, d := bsoncore.AppendDocumentStart(nil)
	d = appendTokenElement(d, "_id", invalidatePosition(ev))
	d = bsoncore.AppendStringElement(d, "operationType", opInvalidate)
	d = bsoncore.AppendTimestampElement(d, "clusterTime", tsT(ev.pos.ts), tsI(ev.pos.ts))
	d = bsoncore.AppendDateTimeElement(d, "wallTime", ev.wall)
	d, _ = bsoncore.AppendDocumentEnd(d, idx)
	return d
}
