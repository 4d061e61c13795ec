package mongodb

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

func doc(build func([]byte) []byte) []byte {
	idx, d := bsoncore.AppendDocumentStart(nil)
	d = build(d)
	d, _ = bsoncore.AppendDocumentEnd(d, idx)
	return d
}

func token(data string) []byte {
	return doc(func(d []byte) []byte { return bsoncore.AppendStringElement(d, "_data", data) })
}

func TestTokenClusterTimeAndPosition(t *testing.T) {
	cases := []struct {
		data string
		ct   uint64
		ok   bool
	}{
		{"826B07489C000000010200000000000004", 0x6B07489C<<32 | 1, true},
		{"8200000001000000FF", 1<<32 | 0xFF, true},
		{"", 0, false},
		{"81000000010000000104", 0, false},
		{"82zz", 0, false},
	}
	for _, c := range cases {
		ct, ok := tokenClusterTime(token(c.data))
		if ct != c.ct || ok != c.ok {
			t.Errorf("%q: got %x %v, want %x %v", c.data, ct, ok, c.ct, c.ok)
		}
	}
	p := positionAt(token("826B07489C000000010200000000000004"))
	back, err := DecodePosition(p.Encode())
	if err != nil || back.Sec != 0x6B07489C || back.Ord != 1 || back.ResumeToken != p.ResumeToken {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if _, err := DecodePosition(pipeline.Position(`{"sec":1,"ord":2,"resume_token":"!!"}`)); err == nil {
		t.Error("bad token accepted")
	}
	legacy, err := DecodePosition(pipeline.Position(`{"sec":1,"ord":2,"resume_token":"826B07489C0000000102"}`))
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := legacy.Token(); bson.Raw(tok).Lookup("_data").StringValue() != "826B07489C0000000102" {
		t.Errorf("legacy hex token: %v", bson.Raw(tok))
	}
	s := &Source{}
	later := positionAt(token("826B07489C000000020200000000000004")).Encode()
	if c, err := s.ComparePositions(p.Encode(), later); err != nil || c != -1 {
		t.Errorf("compare: %d %v", c, err)
	}
	if c, err := s.ComparePositions(later, later); err != nil || c != 0 {
		t.Errorf("compare equal: %d %v", c, err)
	}
}

func TestParseChange(t *testing.T) {
	id := doc(func(d []byte) []byte { return bsoncore.AppendInt32Element(d, "_id", 7) })
	full := doc(func(d []byte) []byte {
		d = bsoncore.AppendInt32Element(d, "_id", 7)
		return bsoncore.AppendStringElement(d, "a", "x")
	})
	lsid := doc(func(d []byte) []byte { return bsoncore.AppendBinaryElement(d, "id", 4, make([]byte, 16)) })
	ev := doc(func(d []byte) []byte {
		d = bsoncore.AppendInt64Element(d, "txnNumber", 3)
		d = bsoncore.AppendDocumentElement(d, "lsid", lsid)
		d = bsoncore.AppendDocumentElement(d, "_id", token("8200000001000000020400"))
		d = bsoncore.AppendStringElement(d, "operationType", "update")
		d = bsoncore.AppendTimestampElement(d, "clusterTime", 1, 2)
		d = bsoncore.AppendDateTimeElement(d, "wallTime", 1000)
		d = bsoncore.AppendDocumentElement(d, "fullDocument", full)
		d = bsoncore.AppendDocumentElement(d, "ns", doc(func(d []byte) []byte {
			d = bsoncore.AppendStringElement(d, "db", "shop")
			return bsoncore.AppendStringElement(d, "coll", "orders")
		}))
		d = bsoncore.AppendDocumentElement(d, "documentKey", doc(func(d []byte) []byte {
			d = bsoncore.AppendInt32Element(d, "_id", 7)
			return bsoncore.AppendStringElement(d, "shard", "s")
		}))
		return bsoncore.AppendDocumentElement(d, "updateDescription", doc(func(d []byte) []byte { return d }))
	})
	c, err := parseChange(ev)
	if err != nil {
		t.Fatal(err)
	}
	if c.op != "update" || c.sec != 1 || c.inc != 2 || c.wallTime != 1000 || c.db != "shop" || c.coll != "orders" || c.txnNumber != 3 || !bytes.Equal(c.lsid, lsid) {
		t.Fatalf("parsed %+v", c)
	}
	op, ok := opOf(c.op)
	if !ok || op != pipeline.OpUpdate {
		t.Fatal(op, ok)
	}
	before, after, err := c.rows(op)
	if err != nil || before != nil {
		t.Fatal(before, err)
	}
	if !bytes.Equal(after[debezium.MongoID].AsBytes(), id) {
		t.Errorf("id document %v (the shard key must be dropped)", bson.Raw(after[debezium.MongoID].AsBytes()))
	}
	if !bytes.Equal(after[debezium.MongoDocument].AsBytes(), full) || after[debezium.MongoUpdate].IsNull() {
		t.Error("after row")
	}
	for _, bad := range [][]byte{nil, {5, 0, 0, 0}, doc(func(d []byte) []byte { return bsoncore.AppendStringElement(d, "operationType", "insert") })} {
		if _, err := parseChange(bad); err == nil {
			t.Errorf("accepted %v", bad)
		}
	}
	for op, want := range map[string]bool{"insert": true, "replace": true, "delete": true, "drop": false, "invalidate": false} {
		if _, ok := opOf(op); ok != want {
			t.Errorf("%s: %v", op, ok)
		}
	}
}

func FuzzParseChange(f *testing.F) {
	if batch, err := os.ReadFile(filepath.Join("testdata", "batch.bson")); err == nil {
		for _, ev := range splitDocs(batch)[:20] {
			f.Add(ev)
		}
	}
	f.Fuzz(func(t *testing.T, ev []byte) {
		if bsoncore.Document(ev).Validate() != nil {
			return
		}
		c, err := parseChange(ev)
		if err != nil {
			return
		}
		if op, ok := opOf(c.op); ok {
			_, _, _ = c.rows(op)
		}
	})
}

// splitDocs cuts concatenated BSON documents apart.
func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 5 {
		n := int(binary.LittleEndian.Uint32(b))
		if n < 5 || n > len(b) {
			break
		}
		out = append(out, b[:n:n])
		b = b[n:]
	}
	return out
}

var recordBatch = flag.Bool("record", false, "")

// BenchmarkDecode compares, over the same recorded change-stream batch,
// siphon's path (parse the event, build the pipeline event, write the
// Debezium JSON record) with the driver's bare decode of each event into
// a bson.D.
func BenchmarkDecode(b *testing.B) {
	batch, err := os.ReadFile(filepath.Join("testdata", "batch.bson"))
	if err != nil {
		b.Fatal(err)
	}
	events := splitDocs(batch)
	b.Run("driver_bson_D", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		for b.Loop() {
			for _, ev := range events {
				var d bson.D
				if err := bson.Unmarshal(ev, &d); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("driver_struct_raw_members", func(b *testing.B) {
		type changeEvent struct {
			ID                bson.Raw                  `bson:"_id"`
			OperationType     string                    `bson:"operationType"`
			ClusterTime       bson.Timestamp            `bson:"clusterTime"`
			WallTime          bson.DateTime             `bson:"wallTime"`
			NS                struct{ DB, Coll string } `bson:"ns"`
			DocumentKey       bson.Raw                  `bson:"documentKey"`
			FullDocument      bson.Raw                  `bson:"fullDocument"`
			UpdateDescription bson.Raw                  `bson:"updateDescription"`
		}
		b.SetBytes(int64(len(batch)))
		for b.Loop() {
			for _, ev := range events {
				var c changeEvent
				if err := bson.Unmarshal(ev, &c); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("siphon_debezium_json", func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		st := &stream{src: New(Config{TopicPrefix: "bench"}), tables: map[nsKey]*pipeline.Table{},
			info: &pipeline.SourceInfo{Version: "bench", Connector: debezium.MongoConnector, Name: "bench", Schema: debezium.MongoSourceSchema()}}
		enc := debezium.NewEncoder(debezium.Options{Tombstones: true})
		var out []byte
		for b.Loop() {
			for _, ev := range events {
				e, err := st.decodeForBench(ev)
				if err != nil {
					b.Fatal(err)
				}
				out = enc.AppendLines(out[:0], &e)
			}
		}
		b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	})
}

// decodeForBench is handle without the batcher: the decode work alone.
func (st *stream) decodeForBench(ev []byte) (pipeline.Event, error) {
	c, err := parseChange(ev)
	if err != nil {
		return pipeline.Event{}, err
	}
	op, ok := opOf(c.op)
	if !ok {
		return pipeline.Event{}, fmt.Errorf("op %s", c.op)
	}
	before, after, err := c.rows(op)
	if err != nil {
		return pipeline.Event{}, err
	}
	tail := &debezium.MongoTail{Collection: c.coll, Ord: int32(c.inc), WallTime: c.wallTime}
	return pipeline.Event{Op: op, Table: st.table(nsKey{c.db, c.coll}), Before: before, After: after,
		Source: pipeline.SourceBlock{Info: st.info, TsUs: c.wallTime * 1000, DB: c.db, Tail: tail}, TsNs: time.Now().UnixNano()}, nil
}
