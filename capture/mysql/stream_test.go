package mysql

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// These tests drive the stream with binlog events built byte by byte in
// MySQL 8's format (GTID events, BEGIN with a thread id, XID) and parsed by
// go-mysql's real parser: this machine has MariaDB only, and the MySQL
// flavour's transaction and GTID handling must be covered too.

// binlogBuilder assembles events and parses them with go-mysql.
type binlogBuilder struct {
	t      *testing.T
	p      *replication.BinlogParser
	pos    uint32
	events []*replication.BinlogEvent
}

func newBinlogBuilder(t *testing.T) *binlogBuilder {
	b := &binlogBuilder{t: t, p: newParser(FlavorMySQL), pos: 4}
	body := make([]byte, 2+50+4+1)
	binary.LittleEndian.PutUint16(body, 4)
	copy(body[2:], "5.5.0-siphon-test") // no checksums
	body[2+50+4] = replication.EventHeaderSize
	lengths := make([]byte, 40)
	lengths[replication.QUERY_EVENT-1] = 13
	lengths[replication.TABLE_MAP_EVENT-1] = 8
	for _, e := range []replication.EventType{replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2} {
		lengths[e-1] = 10
	}
	b.add(replication.FORMAT_DESCRIPTION_EVENT, append(body, lengths...))
	return b
}

func (b *binlogBuilder) add(typ replication.EventType, body []byte) *replication.BinlogEvent {
	b.t.Helper()
	h := make([]byte, replication.EventHeaderSize)
	binary.LittleEndian.PutUint32(h[0:], 1700000000)
	h[4] = byte(typ)
	binary.LittleEndian.PutUint32(h[5:], 7) // server_id
	size := uint32(len(h) + len(body))
	binary.LittleEndian.PutUint32(h[9:], size)
	b.pos += size
	binary.LittleEndian.PutUint32(h[13:], b.pos)
	ev, err := b.p.Parse(append(h, body...))
	if err != nil {
		b.t.Fatalf("parse %v: %v", typ, err)
	}
	b.events = append(b.events, ev)
	return ev
}

var testSID = uuid.MustParse("3e11fa47-71ca-11e1-9e33-c80aa9429562")

func (b *binlogBuilder) gtid(gno int64, commitUs uint64) {
	body := []byte{1}
	body = append(body, testSID[:]...)
	body = binary.LittleEndian.AppendUint64(body, uint64(gno))
	body = append(body, replication.LogicalTimestampTypeCode)
	body = binary.LittleEndian.AppendUint64(body, 0)
	body = binary.LittleEndian.AppendUint64(body, 1)
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, commitUs) // immediate == original: top bit clear
	body = append(body, ts[:7]...)
	body = append(body, 0) // transaction length
	b.add(replication.GTID_EVENT, body)
}

func (b *binlogBuilder) query(schema, q string, thread uint32) {
	body := binary.LittleEndian.AppendUint32(nil, thread)
	body = binary.LittleEndian.AppendUint32(body, 0)
	body = append(body, byte(len(schema)), 0, 0, 0, 0)
	body = append(body, schema...)
	body = append(body, 0)
	b.add(replication.QUERY_EVENT, append(body, q...))
}

func (b *binlogBuilder) xid() {
	b.add(replication.XID_EVENT, binary.LittleEndian.AppendUint64(nil, 99))
}

// tableMap describes shop.t (id INT NOT NULL PRIMARY KEY, name VARCHAR(10)
// NULL) with full row metadata.
func (b *binlogBuilder) tableMap(id byte) {
	body := []byte{id, 0, 0, 0, 0, 0, 1, 0}
	body = append(body, 4, 's', 'h', 'o', 'p', 0, 1, 't', 0)
	body = append(body, 2, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_VARCHAR)
	body = append(body, 2, 40, 0) // meta: varchar max 40 bytes
	body = append(body, 0b10)     // name is nullable
	body = append(body, replication.TABLE_MAP_OPT_META_SIGNEDNESS, 1, 0)
	body = append(body, replication.TABLE_MAP_OPT_META_DEFAULT_CHARSET, 1, 45) // utf8mb4_general_ci
	names := []byte{2, 'i', 'd', 4, 'n', 'a', 'm', 'e'}
	body = append(body, replication.TABLE_MAP_OPT_META_COLUMN_NAME, byte(len(names)))
	body = append(body, names...)
	body = append(body, replication.TABLE_MAP_OPT_META_SIMPLE_PRIMARY_KEY, 1, 0)
	b.add(replication.TABLE_MAP_EVENT, body)
}

type row struct {
	id   int32
	name *string
}

func sp(s string) *string { return &s }

func (r row) image() []byte {
	null := byte(0)
	if r.name == nil {
		null = 0b10
	}
	img := []byte{null}
	img = binary.LittleEndian.AppendUint32(img, uint32(r.id))
	if r.name != nil {
		img = append(img, byte(len(*r.name)))
		img = append(img, *r.name...)
	}
	return img
}

func (b *binlogBuilder) rows(typ replication.EventType, tableID byte, rows ...row) {
	body := []byte{tableID, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0b11}
	if typ == replication.UPDATE_ROWS_EVENTv2 {
		body = append(body, 0b11)
	}
	for _, r := range rows {
		body = append(body, r.image()...)
	}
	b.add(typ, body)
}

type batchRecorder struct{ batches []*pipeline.Batch }

func (r *batchRecorder) emit(_ context.Context, b *pipeline.Batch) error {
	r.batches = append(r.batches, b)
	return nil
}

func (r *batchRecorder) events() []pipeline.Event {
	var out []pipeline.Event
	for _, b := range r.batches {
		out = append(out, b.Events...)
	}
	return out
}

func newTestStream(t *testing.T, rec *batchRecorder, maxEvents int) *stream {
	t.Helper()
	info := &serverInfo{Flavor: FlavorMySQL, GTIDMode: true}
	gt, err := newGTIDTracker(FlavorMySQL, testSID.String()+":1-5")
	if err != nil {
		t.Fatal(err)
	}
	cfg := New(Config{TopicPrefix: "srv", Version: "test", Batch: BatchLimits{MaxEvents: maxEvents}, Log: slog.New(slog.DiscardHandler)}).cfg
	st := &stream{
		src:     &Source{cfg: cfg, log: cfg.Log},
		info:    info,
		history: &schemaHistory{entries: map[string][]*historyEntry{}},
		out:     pipeline.NewBatcher(rec.emit, cfg.Batch.MaxEvents, cfg.Batch.MaxBytes, cfg.Batch.MaxWait),
		tables:  map[uint64]*tableState{},
		builder: &tableBuilder{info: info, topicPrefix: "srv", log: cfg.Log},
		srcInfo: sourceInfo(FlavorMySQL, "test", "srv"),
		gtids:   gt,
		file:    "binlog.000003",
	}
	st.resetTx()
	return st
}

// feed handles the events as the source loop does, flushing full batches.
func feed(t *testing.T, st *stream, events []*replication.BinlogEvent) error {
	t.Helper()
	for _, ev := range events {
		if err := st.handle(ev, ev.Header); err != nil {
			return err
		}
		if st.out.Full() {
			if err := st.flush(context.Background(), st.inTx); err != nil {
				return err
			}
		}
	}
	return st.flush(context.Background(), false)
}

func TestMySQLTransactionEvents(t *testing.T) {
	b := newBinlogBuilder(t)
	b.gtid(6, 1700000000123456)
	b.query("", "BEGIN", 42)
	b.tableMap(1)
	b.rows(replication.WRITE_ROWS_EVENTv2, 1, row{1, sp("a")}, row{2, nil})
	b.rows(replication.UPDATE_ROWS_EVENTv2, 1, row{1, sp("a")}, row{10, sp("a")}, row{2, nil}, row{2, sp("b")})
	b.rows(replication.DELETE_ROWS_EVENTv2, 1, row{2, sp("b")})
	b.xid()
	xidEnd := b.pos

	rec := &batchRecorder{}
	st := newTestStream(t, rec, 1000)
	if err := feed(t, st, b.events[1:]); err != nil {
		t.Fatal(err)
	}
	evs := rec.events()
	type want struct {
		op      pipeline.Op
		key     int64
		peerKey int64
		row     int32
	}
	wants := []want{
		{pipeline.OpCreate, 1, 0, 0}, {pipeline.OpCreate, 2, 0, 1},
		{pipeline.OpDelete, 1, 10, 0}, {pipeline.OpCreate, 10, 1, 0}, {pipeline.OpUpdate, 2, 0, 1},
		{pipeline.OpDelete, 2, 0, 0},
	}
	if len(evs) != len(wants) {
		t.Fatalf("%d events, want %d", len(evs), len(wants))
	}
	for i, w := range wants {
		e := evs[i]
		img := e.After
		if e.Op == pipeline.OpDelete {
			img = e.Before
		}
		if e.Op != w.op || img[0].AsInt() != w.key {
			t.Errorf("event %d: %c key %d, want %c key %d", i, e.Op, img[0].AsInt(), w.op, w.key)
		}
		if w.peerKey != 0 && (len(e.PeerKey) != 1 || e.PeerKey[0].AsInt() != w.peerKey) {
			t.Errorf("event %d: peer key %v, want %d", i, e.PeerKey, w.peerKey)
		}
		tail := e.Source.Tail.(*binlogTail)
		if tail.gtid != testSID.String()+":6" || tail.thread != 42 || tail.serverID != 7 || tail.row != w.row || tail.file != "binlog.000003" {
			t.Errorf("event %d: source tail %+v", i, tail)
		}
		if e.Source.TsUs != 1700000000123456 {
			t.Errorf("event %d: ts_us %d, want the original commit timestamp", i, e.Source.TsUs)
		}
		if e.TxEnd != (i == len(wants)-1) {
			t.Errorf("event %d: TxEnd = %v", i, e.TxEnd)
		}
	}
	last := rec.batches[len(rec.batches)-1]
	pos, err := DecodePosition(last.Position)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Position{File: "binlog.000003", Pos: xidEnd, GTIDs: testSID.String() + ":1-6", ServerID: 7, TsSec: 1700000000}); pos != want {
		t.Fatalf("position %+v, want %+v", pos, want)
	}

	// The whole value, as Debezium's MySQL connector writes it.
	enc := debezium.NewEncoder(debezium.Options{})
	got := string(enc.AppendValue(nil, &evs[4]))
	wantJSON := `{"before":{"id":2,"name":null},"after":{"id":2,"name":"b"},"source":{"version":"test","connector":"mysql","name":"srv","ts_ms":1700000000123,"snapshot":"false","db":"shop","sequence":null,"ts_us":1700000000123456,"ts_ns":1700000000123456000,"table":"t","server_id":7,"gtid":"3e11fa47-71ca-11e1-9e33-c80aa9429562:6","file":"binlog.000003","pos":`
	if !strings.HasPrefix(got, wantJSON) || !strings.Contains(got, `"row":1,"thread":42,"query":null},"transaction":null,"op":"u"`) {
		t.Fatalf("value JSON:\n%s", got)
	}
	var check map[string]any
	if err := json.Unmarshal([]byte(got), &check); err != nil {
		t.Fatal(err)
	}
}

func TestMySQLBatchesSplitInsideATransactionKeepTheEndMarked(t *testing.T) {
	b := newBinlogBuilder(t)
	b.gtid(6, 0)
	b.query("", "BEGIN", 1)
	b.tableMap(1)
	for i := int32(1); i <= 7; i++ {
		b.rows(replication.WRITE_ROWS_EVENTv2, 1, row{i, nil})
	}
	b.xid()
	rec := &batchRecorder{}
	st := newTestStream(t, rec, 3)
	if err := feed(t, st, b.events[1:]); err != nil {
		t.Fatal(err)
	}
	if len(rec.events()) != 7 {
		t.Fatalf("%d events, want 7", len(rec.events()))
	}
	for i, bt := range rec.batches {
		final := i == len(rec.batches)-1
		if (bt.Position != nil) != final {
			t.Errorf("batch %d: position %s (only the batch holding the commit may have one)", i, bt.Position)
		}
		for j, e := range bt.Events {
			if e.TxEnd != (final && j == len(bt.Events)-1) {
				t.Errorf("batch %d event %d: TxEnd = %v", i, j, e.TxEnd)
			}
		}
	}
}

func TestMySQLDDLIsATransactionOfItsOwn(t *testing.T) {
	b := newBinlogBuilder(t)
	b.gtid(6, 0)
	b.query("shop", "ALTER TABLE t ADD COLUMN c INT", 3)
	ddlEnd := b.pos
	rec := &batchRecorder{}
	st := newTestStream(t, rec, 100)
	st.tables[1] = &tableState{table: pipeline.NewTable(pipeline.TableID{Database: "shop", Name: "t"}, "srv.shop.t", nil, nil)}
	if err := feed(t, st, b.events[1:]); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.tables[1]; ok {
		t.Fatal("the table state built before the DDL survived it")
	}
	pos, _ := DecodePosition(rec.batches[0].Position)
	if pos.Pos != ddlEnd || pos.GTIDs != testSID.String()+":1-6" {
		t.Fatalf("position after DDL %+v", pos)
	}
}

func TestStatementBasedDMLStops(t *testing.T) {
	b := newBinlogBuilder(t)
	b.gtid(6, 0)
	b.query("shop", "BEGIN", 1)
	b.query("shop", "INSERT INTO t VALUES (1, 'x')", 1)
	rec := &batchRecorder{}
	st := newTestStream(t, rec, 100)
	err := feed(t, st, b.events[1:])
	var fatal *fatalError
	if !errors.As(err, &fatal) || !strings.Contains(err.Error(), "binlog_format=ROW") {
		t.Fatalf("error = %v, want a fatal error asking for binlog_format=ROW", err)
	}
}
