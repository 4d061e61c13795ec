package pipeline

import (
	"sync/atomic"
	"unsafe"
)

// Op is the Debezium operation of an event.
type Op byte

// Debezium operations.
const (
	OpCreate   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r' // snapshot read
	OpTruncate Op = 't'
	OpMessage  Op = 'm'
)

// TableID names a captured table. Relational sources fill Database (MySQL)
// or Schema (PostgreSQL) or both; MongoDB uses Database and Name.
type TableID struct {
	Database string
	Schema   string
	Name     string
}

// String renders the id as the user writes it in config: db.table or schema.table.
func (id TableID) String() string {
	ns := id.Database
	if id.Schema != "" {
		ns = id.Schema
	}
	return ns + "." + id.Name
}

// NativeType is the column type as the source database declares it. Sinks
// that create tables in a database target use it; the Debezium encoder
// ignores it.
type NativeType struct {
	Name      string // lower-case base type, e.g. "varchar", "decimal", "enum"
	Full      string // full declaration, e.g. "varchar(255)", "int(10) unsigned"
	Length    int64  // declared length or precision; 0 when none
	Scale     int    // declared scale or fractional seconds precision
	Unsigned  bool
	Charset   string // character set of a character column; "binary" for bytes
	Generated bool   // a generated (computed) column
}

// Column is one column of a table: its name, its Connect schema (as a
// struct field of the row) and its native type.
type Column struct {
	Name   string
	Schema *Schema
	Native NativeType
}

// Table is one version of a captured table's structure. A DDL produces a
// new *Table; events keep pointing at the version they were decoded with.
// A Table is immutable once events refer to it.
type Table struct {
	ID      TableID
	Topic   string
	Columns []Column
	// Key lists the positions in Columns of the key columns, in key order.
	// It is empty when the table has no key; its events then have a null key.
	Key []int
	// KeySchema is the struct schema "<topic>.Key", nil when Key is empty.
	KeySchema *Schema
	// ValueSchema is the struct schema "<topic>.Value" (optional: true).
	ValueSchema *Schema
}

// NewTable builds a table version with its key and value schemas.
func NewTable(id TableID, topic string, cols []Column, key []int) *Table {
	t := &Table{ID: id, Topic: topic, Columns: cols, Key: key}
	value := &Schema{Type: TypeStruct, Optional: true, Name: topic + ".Value"}
	for _, c := range cols {
		value.Fields = append(value.Fields, Field{Name: c.Name, Schema: c.Schema})
	}
	t.ValueSchema = value
	if len(key) > 0 {
		ks := &Schema{Type: TypeStruct, Name: topic + ".Key"}
		for _, i := range key {
			fs := *cols[i].Schema
			fs.Optional = false
			ks.Fields = append(ks.Fields, Field{Name: cols[i].Name, Schema: &fs})
		}
		t.KeySchema = ks
	}
	return t
}

// KeyOf returns the key values of row, nil when the table has no key.
func (t *Table) KeyOf(row Row) Row {
	if len(t.Key) == 0 || row == nil {
		return nil
	}
	k := make(Row, len(t.Key))
	for i, c := range t.Key {
		k[i] = row[c]
	}
	return k
}

// KeyChanged reports whether an update moved the row to another key.
func (t *Table) KeyChanged(before, after Row) bool {
	if before == nil || after == nil {
		return false
	}
	for _, c := range t.Key {
		if !before[c].Equal(after[c]) {
			return true
		}
	}
	return false
}

// Row is one row image, its values in Table.Columns order.
type Row []Value

// Size estimates the memory the row holds.
func (r Row) Size() int {
	n := int(unsafe.Sizeof(r))
	for _, v := range r {
		n += v.Size()
	}
	return n
}

// SnapshotMarker is the value of source.snapshot (SPEC §2.2). The zero
// value means streaming and is written as "false".
type SnapshotMarker uint8

// Snapshot markers.
const (
	SnapshotFalse SnapshotMarker = iota
	SnapshotTrue
	SnapshotFirst
	SnapshotFirstInDataCollection
	SnapshotLastInDataCollection
	SnapshotLast
	SnapshotIncremental
)

var snapshotNames = [...]string{
	SnapshotFalse:                 "false",
	SnapshotTrue:                  "true",
	SnapshotFirst:                 "first",
	SnapshotFirstInDataCollection: "first_in_data_collection",
	SnapshotLastInDataCollection:  "last_in_data_collection",
	SnapshotLast:                  "last",
	SnapshotIncremental:           "incremental",
}

func (m SnapshotMarker) String() string { return snapshotNames[m] }

// SourceInfo is what a source declares once: the connector's identity and
// the Connect schema of its `source` block.
type SourceInfo struct {
	Version   string  // siphon's version, written as source.version
	Connector string  // "mysql", "mariadb", "postgresql", "mongodb"
	Name      string  // topic prefix (Debezium's logical server name)
	Schema    *Schema // the full `source` struct schema
}

// SourceTail writes the connector-specific fields of the `source` block,
// the ones after the common prefix (version … ts_ns), each preceded by a
// comma, e.g. `,"table":"t","server_id":1,…`.
type SourceTail interface {
	AppendSourceJSON(dst []byte) []byte
}

// SourceBlock is the `source` block of one event.
type SourceBlock struct {
	Info     *SourceInfo
	TsUs     int64 // time of the change in the database, µs since the epoch
	Snapshot SnapshotMarker
	DB       string
	Sequence string // "" is written as null
	Tail     SourceTail
}

// Event is one change: a row created, updated, deleted or read by a
// snapshot, with its source block. An update that changes the key is never
// an Event: sources emit it as a delete of the old key followed by a create
// of the new one, each with PeerKey set (Debezium's __debezium.newkey /
// __debezium.oldkey headers).
type Event struct {
	Op      Op
	Table   *Table
	Before  Row
	After   Row
	Source  SourceBlock
	PeerKey Row
	// TsNs is when siphon processed the event (the envelope's ts_ms/us/ns).
	TsNs int64
	// TxEnd marks the last event of a consistent unit — a source
	// transaction or a snapshot chunk. A batch's Position is the position
	// after its last TxEnd event (or, with none, after the batch before
	// it): events after that event belong to a unit still in progress.
	TxEnd bool
}

// Size estimates the memory the event holds.
func (e *Event) Size() int {
	return int(unsafe.Sizeof(*e)) + e.Before.Size() + e.After.Size() + e.PeerKey.Size() + 64
}

// Position is a source position, serialised by its source as a JSON object
// (for MySQL, Debezium's offset map). The pipeline treats it as opaque.
type Position []byte

// Batch is the unit that travels through the pipeline and is acknowledged.
type Batch struct {
	Events []Event
	// Position is where the source may resume once this batch and all
	// before it are applied by every sink: the last source-transaction
	// boundary inside the batch. Nil when the batch holds no boundary.
	Position Position
	// Bytes is the estimated memory the batch holds.
	Bytes int

	seq       uint64
	events    int         // len(Events) when emitted: Events is dropped once every sink has written it
	unwritten int32       // sinks that have not written the batch yet
	undurable int32       // sinks that have not made it durable yet
	held      atomic.Bool // some sink wrote it and held its position open
}

func writtenCount(b *Batch) *int32 { return &b.unwritten }
func durableCount(b *Batch) *int32 { return &b.undurable }

// Add appends an event and accounts for its size.
func (b *Batch) Add(e Event) {
	b.Bytes += e.Size()
	b.Events = append(b.Events, e)
}
