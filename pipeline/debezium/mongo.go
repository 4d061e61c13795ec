package debezium

import (
	"github.com/siphoncdc/siphon/pipeline"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// MongoConnector is the SourceInfo.Connector of MongoDB events. The
// encoder writes an event whose source has it in Debezium's MongoDB
// envelope (SPEC §3.3) instead of the relational one.
const MongoConnector = "mongodb"

// A MongoDB event's rows hold raw BSON, not Connect values: the document
// is rendered as Extended JSON only when an event is encoded, and a
// MongoDB sink writes it back without a lossy detour. Every row has
// MongoColumns members, each a pipeline.Bytes of a BSON document or Null:
const (
	// MongoID is the document key {_id: <id>} (change streams' documentKey).
	// Every row of a MongoDB event sets it, a delete's Before too.
	MongoID = iota
	// MongoDocument is the full document: the after image in After, the
	// pre-image in Before; Null when the server did not provide it.
	MongoDocument
	// MongoUpdate is an update's updateDescription document (After only).
	MongoUpdate
	// MongoColumns is the number of members of a MongoDB row.
	MongoColumns
)

// MongoTable returns the table version that describes a MongoDB collection
// for the pipeline: the three raw-BSON columns, keyed by _id.
func MongoTable(db, collection, topic string) *pipeline.Table {
	native := pipeline.NativeType{Name: "bson", Full: "bson"}
	str := &pipeline.Schema{Type: pipeline.TypeString}
	json := &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Json", Version: 1}
	return pipeline.NewTable(pipeline.TableID{Database: db, Name: collection}, topic, []pipeline.Column{
		{Name: "_id", Schema: str, Native: native},
		{Name: "document", Schema: json, Native: native},
		{Name: "updateDescription", Schema: json, Native: native},
	}, []int{MongoID})
}

// IsMongo reports whether e is a MongoDB event (raw BSON rows).
func IsMongo(e *pipeline.Event) bool {
	return e.Source.Info != nil && e.Source.Info.Connector == MongoConnector
}

// MongoRow builds a MongoDB row; doc and update may be nil.
func MongoRow(id, doc, update []byte) pipeline.Row {
	row := make(pipeline.Row, MongoColumns)
	row[MongoID] = pipeline.Bytes(id)
	if doc != nil {
		row[MongoDocument] = pipeline.Bytes(doc)
	}
	if update != nil {
		row[MongoUpdate] = pipeline.Bytes(update)
	}
	return row
}

// mongoMember returns member i of row as BSON, nil when absent.
func mongoMember(row pipeline.Row, i int) []byte {
	if len(row) <= i || row[i].Kind() != pipeline.KindBytes {
		return nil
	}
	return row[i].AsBytes()
}

// renderMongo fills the static JSON of a MongoDB collection.
func (enc *Encoder) renderMongo(f *tableFormat, t *pipeline.Table, info *pipeline.SourceInfo) {
	f.mongo = true
	if enc.opts.Schemas {
		key := &pipeline.Schema{Type: pipeline.TypeStruct, Name: t.Topic + ".Key", Fields: []pipeline.Field{
			{Name: "id", Schema: &pipeline.Schema{Type: pipeline.TypeString}},
		}}
		f.keyOpen = append(f.keyOpen[:0], `{"schema":`...)
		f.keyOpen = AppendSchema(f.keyOpen, key)
		f.keyOpen = append(f.keyOpen, `,"payload":`...)
		f.valueOpen = append(f.valueOpen[:0], `{"schema":`...)
		f.valueOpen = AppendSchema(f.valueOpen, mongoEnvelopeSchema(t.Topic, info))
		f.valueOpen = append(f.valueOpen, `,"payload":{"before":`...)
	}
}

// mongoEnvelopeSchema is Debezium's MongoDB envelope (SPEC §3.3): before,
// after, updateDescription, source, op (optional), ts_ms, transaction; no
// version.
func mongoEnvelopeSchema(topic string, info *pipeline.SourceInfo) *pipeline.Schema {
	source := &pipeline.Schema{Type: pipeline.TypeStruct}
	if info != nil && info.Schema != nil {
		source = info.Schema
	}
	json := &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Json", Version: 1}
	truncated := &pipeline.Schema{
		Type: pipeline.TypeStruct, Name: "io.debezium.connector.mongodb.changestream.truncatedarray", Version: 1,
		Fields: []pipeline.Field{
			{Name: "field", Schema: &pipeline.Schema{Type: pipeline.TypeString}},
			{Name: "size", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
		},
	}
	update := &pipeline.Schema{
		Type: pipeline.TypeStruct, Optional: true, Name: "io.debezium.connector.mongodb.changestream.updatedescription", Version: 1,
		Fields: []pipeline.Field{
			{Name: "removedFields", Schema: &pipeline.Schema{Type: pipeline.TypeArray, Optional: true, Items: &pipeline.Schema{Type: pipeline.TypeString}}},
			{Name: "updatedFields", Schema: json},
			{Name: "truncatedArrays", Schema: &pipeline.Schema{Type: pipeline.TypeArray, Optional: true, Items: truncated}},
		},
	}
	return &pipeline.Schema{
		Type: pipeline.TypeStruct,
		Name: topic + ".Envelope",
		Fields: []pipeline.Field{
			{Name: "before", Schema: json},
			{Name: "after", Schema: json},
			{Name: "updateDescription", Schema: update},
			{Name: "source", Schema: source},
			{Name: "op", Schema: &pipeline.Schema{Type: pipeline.TypeString, Optional: true}},
			{Name: "ts_ms", Schema: &pipeline.Schema{Type: pipeline.TypeInt64, Optional: true}},
			{Name: "transaction", Schema: transactionSchema()},
		},
	}
}

// appendMongoKey writes {"id":"<_id as relaxed Extended JSON>"}: Debezium
// serialises {"_": <_id>} and strips `{"_": ` and the closing brace.
func (enc *Encoder) appendMongoKey(dst []byte, e *pipeline.Event, f *tableFormat) []byte {
	row := e.After
	if mongoMember(row, MongoID) == nil {
		row = e.Before
	}
	id := mongoMember(row, MongoID)
	if id == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, f.keyOpen...)
	dst = append(dst, `{"id":`...)
	dst = enc.appendMongoIDString(dst, id)
	dst = append(dst, '}')
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst
}

// appendMongoIDString writes the relaxed Extended JSON of the first value
// of the document idDoc as a JSON string.
func (enc *Encoder) appendMongoIDString(dst []byte, idDoc []byte) []byte {
	val, ok := firstValue(idDoc)
	if !ok {
		return append(dst, "null"...)
	}
	scratch, ok := appendExtValue(enc.scratch[:0], val, ExtJSONRelaxed)
	enc.scratch = scratch
	if !ok {
		return append(dst, "null"...)
	}
	return AppendString(dst, string(scratch))
}

func firstValue(doc []byte) (bsoncore.Value, bool) {
	if len(doc) < 5 {
		return bsoncore.Value{}, false
	}
	elem, _, ok := bsoncore.ReadElement(doc[4:])
	if !ok {
		return bsoncore.Value{}, false
	}
	v, err := elem.ValueErr()
	return v, err == nil
}

// appendExtString writes doc in mode as a JSON string, null when doc is nil.
func (enc *Encoder) appendExtString(dst []byte, doc []byte, mode ExtJSONMode) []byte {
	if doc == nil {
		return append(dst, "null"...)
	}
	scratch, ok := AppendExtJSON(enc.scratch[:0], doc, mode)
	enc.scratch = scratch
	if !ok {
		return append(dst, "null"...)
	}
	return AppendString(dst, string(scratch))
}

func (enc *Encoder) appendMongoValue(dst []byte, e *pipeline.Event, f *tableFormat) []byte {
	dst = append(dst, f.valueOpen...)
	dst = enc.appendExtString(dst, mongoMember(e.Before, MongoDocument), ExtJSONStrict)
	dst = append(dst, `,"after":`...)
	dst = enc.appendExtString(dst, mongoMember(e.After, MongoDocument), ExtJSONStrict)
	dst = append(dst, `,"updateDescription":`...)
	dst = enc.appendUpdateDescription(dst, mongoMember(e.After, MongoUpdate))
	dst = enc.appendSourceBlock(dst, e, f)
	dst = append(dst, `,"op":`...)
	if e.Op >= 'a' && e.Op <= 'z' {
		dst = append(dst, '"', byte(e.Op), '"')
	} else {
		dst = AppendString(dst, string(rune(e.Op)))
	}
	dst = append(dst, `,"ts_ms":`...)
	dst = AppendInt(dst, floorDiv(e.TsNs, 1_000_000))
	dst = append(dst, `,"transaction":null}`...)
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst
}

// appendUpdateDescription writes a change stream's updateDescription:
// removedFields and truncatedArrays null when empty (Debezium only sets
// them when non-empty), updatedFields as relaxed Extended JSON.
func (enc *Encoder) appendUpdateDescription(dst []byte, ud []byte) []byte {
	if ud == nil {
		return append(dst, "null"...)
	}
	doc := bsoncore.Document(ud)
	dst = append(dst, `{"removedFields":`...)
	if arr, ok := doc.Lookup("removedFields").ArrayOK(); ok && len(arr) > 5 {
		vals, _ := arr.Values()
		dst = append(dst, '[')
		for i, v := range vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			s, _ := v.StringValueOK()
			dst = AppendString(dst, s)
		}
		dst = append(dst, ']')
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"updatedFields":`...)
	if upd, ok := doc.Lookup("updatedFields").DocumentOK(); ok {
		dst = enc.appendExtString(dst, upd, ExtJSONRelaxed)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"truncatedArrays":`...)
	if arr, ok := doc.Lookup("truncatedArrays").ArrayOK(); ok && len(arr) > 5 {
		vals, _ := arr.Values()
		dst = append(dst, '[')
		for i, v := range vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			ta, _ := v.DocumentOK()
			field, _ := ta.Lookup("field").StringValueOK()
			size, _ := ta.Lookup("newSize").AsInt64OK()
			dst = append(dst, `{"field":`...)
			dst = AppendString(dst, field)
			dst = append(dst, `,"size":`...)
			dst = AppendInt(dst, size)
			dst = append(dst, '}')
		}
		dst = append(dst, ']')
	} else {
		dst = append(dst, "null"...)
	}
	return append(dst, '}')
}

// MongoSourceSchema is io.debezium.connector.mongo.Source, version 1
// (SPEC §2.1, §2.5): the common prefix, then collection, ord, lsid,
// txnNumber and wallTime.
func MongoSourceSchema() *pipeline.Schema {
	str := func(opt bool) *pipeline.Schema { return &pipeline.Schema{Type: pipeline.TypeString, Optional: opt} }
	i64 := func(opt bool) *pipeline.Schema { return &pipeline.Schema{Type: pipeline.TypeInt64, Optional: opt} }
	def := pipeline.String("false")
	return &pipeline.Schema{
		Type: pipeline.TypeStruct, Name: "io.debezium.connector.mongo.Source", Version: 1,
		Fields: []pipeline.Field{
			{Name: "version", Schema: str(false)},
			{Name: "connector", Schema: str(false)},
			{Name: "name", Schema: str(false)},
			{Name: "ts_ms", Schema: i64(false)},
			{Name: "snapshot", Schema: &pipeline.Schema{
				Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Enum", Version: 1,
				Params:  []pipeline.Param{{Key: "allowed", Value: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}},
				Default: &def,
			}},
			{Name: "db", Schema: str(false)},
			{Name: "sequence", Schema: str(true)},
			{Name: "ts_us", Schema: i64(true)},
			{Name: "ts_ns", Schema: i64(true)},
			{Name: "collection", Schema: str(false)},
			{Name: "ord", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
			{Name: "lsid", Schema: str(true)},
			{Name: "txnNumber", Schema: i64(true)},
			{Name: "wallTime", Schema: i64(true)},
		},
	}
}

// MongoTail is the MongoDB part of the source block.
type MongoTail struct {
	Collection string
	Ord        int32  // clusterTime increment; -1 when none
	LSID       []byte // BSON lsid document of a transaction's event, nil outside transactions
	TxnNumber  int64  // valid with LSID
	WallTime   int64  // ms; 0 when the server sent none (written as null)
}

// AppendSourceJSON implements pipeline.SourceTail.
func (t *MongoTail) AppendSourceJSON(dst []byte) []byte {
	dst = append(dst, `,"collection":`...)
	dst = AppendString(dst, t.Collection)
	dst = append(dst, `,"ord":`...)
	dst = AppendInt(dst, int64(t.Ord))
	if t.LSID != nil {
		dst = append(dst, `,"lsid":`...)
		ext, ok := AppendExtJSON(nil, t.LSID, ExtJSONStrict)
		if ok {
			dst = AppendString(dst, string(ext))
		} else {
			dst = append(dst, "null"...)
		}
		dst = append(dst, `,"txnNumber":`...)
		dst = AppendInt(dst, t.TxnNumber)
	} else {
		dst = append(dst, `,"lsid":null,"txnNumber":null`...)
	}
	dst = append(dst, `,"wallTime":`...)
	if t.WallTime == 0 {
		return append(dst, "null"...)
	}
	return AppendInt(dst, t.WallTime)
}
