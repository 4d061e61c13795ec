package debezium

import "github.com/siphoncdc/siphon/pipeline"

// Options select the JsonConverter and connector settings to mimic.
type Options struct {
	// Schemas is JsonConverter's schemas.enable: wrap key and value as
	// {"schema":…,"payload":…}. False writes the bare payload.
	Schemas bool
	// Tombstones is Debezium's tombstones.on.delete: follow every delete
	// with a record of the same key and a null value.
	Tombstones bool
}

// maxCachedFormats bounds the rendered schemas an Encoder keeps. A DDL
// makes a new *pipeline.Table, so old versions must age out; when the cache
// is full an arbitrary entry is dropped and re-rendered if it is used again.
const maxCachedFormats = 1024

// Encoder writes events as Debezium's JsonConverter output. It caches the
// rendered schemas of every (table version, source) it meets. An Encoder is
// not safe for concurrent use: give each goroutine its own.
type Encoder struct {
	opts    Options
	formats map[formatKey]*tableFormat
	lastKey formatKey
	last    *tableFormat
	scratch []byte // Extended JSON of MongoDB documents before quoting
	// The envelope's and the source block's times of the last event, as
	// text: consecutive events mostly share them (a snapshot chunk, a
	// transaction), and copying 16–19 digits is cheaper than formatting.
	eventTime, sourceTime timeText
}

// timeText is one instant as the decimal text of its ms, µs and ns since
// the epoch, remembered for the value it was rendered from.
type timeText struct {
	from       int64
	valid      bool
	ms, us, ns []byte
}

// fromNs renders an instant given in ns (the envelope's ts_ms/us/ns).
func (t *timeText) fromNs(ns int64) *timeText {
	if !t.valid || t.from != ns {
		t.set(ns, floorDiv(ns, 1_000_000), floorDiv(ns, 1000), ns)
	}
	return t
}

// fromUs renders an instant given in µs (the source block's times).
func (t *timeText) fromUs(us int64) *timeText {
	if !t.valid || t.from != us {
		t.set(us, floorDiv(us, 1000), us, us*1000)
	}
	return t
}

func (t *timeText) set(from, ms, us, ns int64) {
	t.from, t.valid = from, true
	t.ms = AppendInt(t.ms[:0], ms)
	t.us = AppendInt(t.us[:0], us)
	t.ns = AppendInt(t.ns[:0], ns)
}

type formatKey struct {
	table *pipeline.Table
	info  *pipeline.SourceInfo
}

// tableFormat holds the static JSON of one (table version, source).
type tableFormat struct {
	// keyOpen is `{"schema":<key schema>,"payload":` (empty without schemas).
	keyOpen []byte
	// valueOpen is `{"schema":<envelope schema>,"payload":{"before":`, or
	// `{"before":` without schemas.
	valueOpen []byte
	// lineOpen is `{"topic":"<topic>","key":`.
	lineOpen []byte
	// sourceOpen is `,"source":{"version":…,"connector":…,"name":…,"ts_ms":`;
	// nil when the event has no SourceInfo.
	sourceOpen []byte
	// columns[i] is `{"<name>":` for the first value field, `,"<name>":` after.
	columns      [][]byte
	columnSchema []*pipeline.Schema
	keyColumns   [][]byte
	keySchema    []*pipeline.Schema
	// mongo selects Debezium's MongoDB envelope and key (mongo.go).
	mongo bool
	// message selects the PostgreSQL logical decoding message envelope
	// (message.go).
	message bool
}

// NewEncoder returns an Encoder for the given options.
func NewEncoder(o Options) *Encoder {
	return &Encoder{opts: o, formats: make(map[formatKey]*tableFormat)}
}

// Tombstone reports whether the record of e is followed by a tombstone
// (a delete, with Tombstones on).
func (enc *Encoder) Tombstone(e *pipeline.Event) bool {
	return enc.opts.Tombstones && e.Op == pipeline.OpDelete
}

// AppendKey appends the key JSON of e: null when the table has no key or
// the event carries no row (a truncate).
func (enc *Encoder) AppendKey(dst []byte, e *pipeline.Event) []byte {
	return enc.appendKey(dst, e, enc.format(e))
}

// AppendValue appends the value JSON of e: the Debezium envelope. A
// delete's tombstone is not part of it (see Tombstone); its value is null.
// Every Append method needs e.Table set.
func (enc *Encoder) AppendValue(dst []byte, e *pipeline.Event) []byte {
	return enc.appendValue(dst, e, enc.format(e))
}

// AppendLines appends the file-sink lines of e: one line
// {"topic":"<topic>","key":<key>,"value":<value>} and, when e is followed
// by a tombstone, a second line with the same key and "value":null. Each
// line ends with '\n'.
func (enc *Encoder) AppendLines(dst []byte, e *pipeline.Event) []byte {
	f := enc.format(e)
	dst = append(dst, f.lineOpen...)
	keyStart := len(dst)
	dst = enc.appendKey(dst, e, f)
	keyEnd := len(dst)
	dst = append(dst, `,"value":`...)
	dst = enc.appendValue(dst, e, f)
	dst = append(dst, "}\n"...)
	if enc.Tombstone(e) {
		dst = append(dst, f.lineOpen...)
		dst = append(dst, dst[keyStart:keyEnd]...)
		dst = append(dst, `,"value":null}`+"\n"...)
	}
	return dst
}

func (enc *Encoder) appendKey(dst []byte, e *pipeline.Event, f *tableFormat) []byte {
	if f.mongo {
		return enc.appendMongoKey(dst, e, f)
	}
	row := e.After
	if row == nil {
		row = e.Before
	}
	if len(f.keyColumns) == 0 || row == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, f.keyOpen...)
	for i, name := range f.keyColumns {
		dst = append(dst, name...)
		if c := e.Table.Key[i]; c < len(row) {
			dst = appendPayload(dst, row[c], f.keySchema[i])
		} else {
			dst = append(dst, "null"...)
		}
	}
	dst = append(dst, '}')
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst
}

func (enc *Encoder) appendValue(dst []byte, e *pipeline.Event, f *tableFormat) []byte {
	if f.message {
		return enc.appendMessageValue(dst, e, f)
	}
	if f.mongo {
		return enc.appendMongoValue(dst, e, f)
	}
	dst = append(dst, f.valueOpen...)
	dst = appendRow(dst, e.Before, f)
	dst = append(dst, `,"after":`...)
	dst = appendRow(dst, e.After, f)
	dst = enc.appendSourceBlock(dst, e, f)

	dst = append(dst, `,"transaction":null,"op":`...)
	if e.Op >= 'a' && e.Op <= 'z' {
		dst = append(dst, '"', byte(e.Op), '"')
	} else {
		dst = AppendString(dst, string(rune(e.Op)))
	}
	ts := enc.eventTime.fromNs(e.TsNs)
	dst = append(dst, `,"ts_ms":`...)
	dst = append(dst, ts.ms...)
	dst = append(dst, `,"ts_us":`...)
	dst = append(dst, ts.us...)
	dst = append(dst, `,"ts_ns":`...)
	dst = append(dst, ts.ns...)
	dst = append(dst, '}')
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst
}

// appendSourceBlock writes `,"source":{…}` (or `,"source":null`).
func (enc *Encoder) appendSourceBlock(dst []byte, e *pipeline.Event, f *tableFormat) []byte {
	src := &e.Source
	if f.sourceOpen == nil {
		return append(dst, `,"source":null`...)
	}
	ts := enc.sourceTime.fromUs(src.TsUs)
	dst = append(dst, f.sourceOpen...)
	dst = append(dst, ts.ms...)
	if int(src.Snapshot) < len(snapshotThenDB) {
		dst = append(dst, snapshotThenDB[src.Snapshot]...)
	} else {
		dst = append(dst, `,"snapshot":null,"db":`...)
	}
	dst = AppendString(dst, src.DB)
	if src.Sequence == "" {
		dst = append(dst, `,"sequence":null,"ts_us":`...)
	} else {
		dst = append(dst, `,"sequence":`...)
		dst = AppendString(dst, src.Sequence)
		dst = append(dst, `,"ts_us":`...)
	}
	dst = append(dst, ts.us...)
	dst = append(dst, `,"ts_ns":`...)
	dst = append(dst, ts.ns...)
	if src.Tail != nil {
		dst = src.Tail.AppendSourceJSON(dst)
	}
	return append(dst, '}')
}

// snapshotThenDB is the JSON between source.ts_ms and the db value, per
// snapshot marker.
var snapshotThenDB = [...]string{
	pipeline.SnapshotFalse:                 `,"snapshot":"false","db":`,
	pipeline.SnapshotTrue:                  `,"snapshot":"true","db":`,
	pipeline.SnapshotFirst:                 `,"snapshot":"first","db":`,
	pipeline.SnapshotFirstInDataCollection: `,"snapshot":"first_in_data_collection","db":`,
	pipeline.SnapshotLastInDataCollection:  `,"snapshot":"last_in_data_collection","db":`,
	pipeline.SnapshotLast:                  `,"snapshot":"last","db":`,
	pipeline.SnapshotIncremental:           `,"snapshot":"incremental","db":`,
}

func appendRow(dst []byte, row pipeline.Row, f *tableFormat) []byte {
	if row == nil {
		return append(dst, "null"...)
	}
	if len(f.columns) == 0 {
		return append(dst, "{}"...)
	}
	for i, name := range f.columns {
		dst = append(dst, name...)
		if i < len(row) {
			dst = appendPayload(dst, row[i], f.columnSchema[i])
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, '}')
}

// floorDiv divides rounding toward negative infinity, as Java's Instant
// conversions do for times before the epoch.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

func (enc *Encoder) format(e *pipeline.Event) *tableFormat {
	k := formatKey{e.Table, e.Source.Info}
	if enc.last != nil && k == enc.lastKey {
		return enc.last
	}
	f, ok := enc.formats[k]
	if !ok {
		if len(enc.formats) >= maxCachedFormats {
			for old := range enc.formats {
				delete(enc.formats, old)
				break
			}
		}
		f = enc.render(e.Table, e.Source.Info)
		enc.formats[k] = f
	}
	enc.lastKey, enc.last = k, f
	return f
}

// render builds the static JSON of a table version and source.
func (enc *Encoder) render(t *pipeline.Table, info *pipeline.SourceInfo) *tableFormat {
	value := t.ValueSchema
	if value == nil {
		value = pipeline.NewTable(t.ID, t.Topic, t.Columns, nil).ValueSchema
	}
	f := &tableFormat{}
	for i, fld := range value.Fields {
		f.columns = append(f.columns, memberOpen(i, fld.Name))
		f.columnSchema = append(f.columnSchema, fld.Schema)
	}
	if t.KeySchema != nil && len(t.Key) == len(t.KeySchema.Fields) {
		for i, fld := range t.KeySchema.Fields {
			f.keyColumns = append(f.keyColumns, memberOpen(i, fld.Name))
			f.keySchema = append(f.keySchema, fld.Schema)
		}
	}

	f.lineOpen = append(f.lineOpen, `{"topic":`...)
	f.lineOpen = AppendString(f.lineOpen, t.Topic)
	f.lineOpen = append(f.lineOpen, `,"key":`...)

	if enc.opts.Schemas {
		if len(f.keyColumns) > 0 {
			f.keyOpen = append(f.keyOpen, `{"schema":`...)
			f.keyOpen = AppendSchema(f.keyOpen, t.KeySchema)
			f.keyOpen = append(f.keyOpen, `,"payload":`...)
		}
		f.valueOpen = append(f.valueOpen, `{"schema":`...)
		f.valueOpen = AppendSchema(f.valueOpen, envelopeSchema(t.Topic, value, info))
		f.valueOpen = append(f.valueOpen, `,"payload":`...)
	}
	f.valueOpen = append(f.valueOpen, `{"before":`...)

	if info != nil {
		f.sourceOpen = append(f.sourceOpen, `,"source":{"version":`...)
		f.sourceOpen = AppendString(f.sourceOpen, info.Version)
		f.sourceOpen = append(f.sourceOpen, `,"connector":`...)
		f.sourceOpen = AppendString(f.sourceOpen, info.Connector)
		f.sourceOpen = append(f.sourceOpen, `,"name":`...)
		f.sourceOpen = AppendString(f.sourceOpen, info.Name)
		f.sourceOpen = append(f.sourceOpen, `,"ts_ms":`...)
	}
	if info != nil && info.Connector == MongoConnector {
		enc.renderMongo(f, t, info)
	}
	if value.Name == PostgresMessageSchema {
		enc.renderMessage(f, value, info)
	}
	return f
}

// memberOpen is the JSON before the i-th member's value: `{"name":` or `,"name":`.
func memberOpen(i int, name string) []byte {
	b := []byte{','}
	if i == 0 {
		b[0] = '{'
	}
	b = AppendString(b, name)
	return append(b, ':')
}

// envelopeSchema is the relational Debezium envelope (SPEC §1.4):
// before, after, source, transaction, op, ts_ms, ts_us, ts_ns; version 2.
func envelopeSchema(topic string, value *pipeline.Schema, info *pipeline.SourceInfo) *pipeline.Schema {
	source := &pipeline.Schema{Type: pipeline.TypeStruct}
	if info != nil && info.Schema != nil {
		source = info.Schema
	}
	optionalInt64 := &pipeline.Schema{Type: pipeline.TypeInt64, Optional: true}
	return &pipeline.Schema{
		Type:    pipeline.TypeStruct,
		Name:    topic + ".Envelope",
		Version: 2,
		Fields: []pipeline.Field{
			{Name: "before", Schema: value},
			{Name: "after", Schema: value},
			{Name: "source", Schema: source},
			{Name: "transaction", Schema: transactionSchema()},
			{Name: "op", Schema: &pipeline.Schema{Type: pipeline.TypeString}},
			{Name: "ts_ms", Schema: optionalInt64},
			{Name: "ts_us", Schema: optionalInt64},
			{Name: "ts_ns", Schema: optionalInt64},
		},
	}
}

// transactionSchema is Debezium's event.block (version 1), the schema of the
// envelope's transaction field; siphon always writes it as null, as
// Debezium does without provide.transaction.metadata.
func transactionSchema() *pipeline.Schema {
	return &pipeline.Schema{
		Type:     pipeline.TypeStruct,
		Optional: true,
		Name:     "event.block",
		Version:  1,
		Fields: []pipeline.Field{
			{Name: "id", Schema: &pipeline.Schema{Type: pipeline.TypeString}},
			{Name: "total_order", Schema: &pipeline.Schema{Type: pipeline.TypeInt64}},
			{Name: "data_collection_order", Schema: &pipeline.Schema{Type: pipeline.TypeInt64}},
		},
	}
}
