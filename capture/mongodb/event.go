package mongodb

import (
	"fmt"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// change is one change event, its members sliced from the event's BSON.
type change struct {
	op          string
	token       []byte // _id: the resume token document
	sec, inc    uint32 // clusterTime
	wallTime    int64  // ms; 0 when absent
	db, coll    string
	toDB        string // rename: the target namespace
	toColl      string
	documentKey []byte
	fullDoc     []byte
	preImage    []byte
	update      []byte
	lsid        []byte
	txnNumber   int64
}

// parseChange reads the members of a change event in one pass. Members
// the source does not use are skipped; a malformed event is an error.
func parseChange(ev []byte) (change, error) {
	var c change
	doc := bsoncore.Document(ev)
	if len(doc) < 5 {
		return c, fmt.Errorf("change event of %d bytes", len(doc))
	}
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		elem, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return c, fmt.Errorf("malformed change event")
		}
		rest = r
		v := elem.Value()
		switch string(elem.KeyBytes()) {
		case "_id":
			c.token, _ = v.DocumentOK()
		case "operationType":
			c.op, _ = v.StringValueOK()
		case "clusterTime":
			c.sec, c.inc, _ = v.TimestampOK()
		case "wallTime":
			c.wallTime, _ = v.DateTimeOK()
		case "ns":
			ns, _ := v.DocumentOK()
			c.db, _ = ns.Lookup("db").StringValueOK()
			c.coll, _ = ns.Lookup("coll").StringValueOK()
		case "to":
			to, _ := v.DocumentOK()
			c.toDB, _ = to.Lookup("db").StringValueOK()
			c.toColl, _ = to.Lookup("coll").StringValueOK()
		case "documentKey":
			c.documentKey, _ = v.DocumentOK()
		case "fullDocument":
			c.fullDoc, _ = v.DocumentOK()
		case "fullDocumentBeforeChange":
			c.preImage, _ = v.DocumentOK()
		case "updateDescription":
			c.update, _ = v.DocumentOK()
		case "lsid":
			c.lsid, _ = v.DocumentOK()
		case "txnNumber":
			c.txnNumber, _ = v.AsInt64OK()
		}
	}
	if c.token == nil {
		return c, fmt.Errorf("change event without _id (resume token)")
	}
	return c, nil
}

// idDocument returns {_id: <id>} from a documentKey (which holds the shard
// key too on sharded collections) or a document.
func idDocument(doc []byte) ([]byte, error) {
	d := bsoncore.Document(doc)
	val, err := d.LookupErr("_id")
	if err != nil {
		return nil, fmt.Errorf("document has no _id")
	}
	if n := len(d); n >= 5 {
		if first, _, ok := bsoncore.ReadElement(d[4:]); ok && string(first.KeyBytes()) == "_id" && len(first)+5 == n {
			return doc, nil // already {_id: …}
		}
	}
	idx, out := bsoncore.AppendDocumentStart(make([]byte, 0, len(val.Data)+12))
	out = bsoncore.AppendValueElement(out, "_id", val)
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return out, nil
}

// opOf maps a change stream operation to Debezium's (SPEC §3.3); ok is
// false for operations that carry no document change.
func opOf(op string) (pipeline.Op, bool) {
	switch op {
	case "insert":
		return pipeline.OpCreate, true
	case "update", "replace":
		return pipeline.OpUpdate, true
	case "delete":
		return pipeline.OpDelete, true
	}
	return 0, false
}

// rows builds the event's before and after images.
func (c *change) rows(op pipeline.Op) (before, after pipeline.Row, err error) {
	id, err := idDocument(c.documentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("documentKey: %w", err)
	}
	switch op {
	case pipeline.OpCreate:
		after = debezium.MongoRow(id, c.fullDoc, nil)
	case pipeline.OpUpdate:
		var update []byte
		if c.op == "update" {
			update = c.update
		}
		after = debezium.MongoRow(id, c.fullDoc, update)
		if c.preImage != nil {
			before = debezium.MongoRow(id, c.preImage, nil)
		}
	case pipeline.OpDelete:
		before = debezium.MongoRow(id, c.preImage, nil)
	}
	return before, after, nil
}
