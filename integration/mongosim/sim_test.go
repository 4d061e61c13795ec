package mongosim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

func TestHandshakeReplicaSetDiscovery(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		t.Fatalf("ping primary: %v", err)
	}
	var hello bson.Raw
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "hello", Value: 1}}).Decode(&hello); err != nil {
		t.Fatal(err)
	}
	want := []string{"topologyVersion", "hosts", "setName", "setVersion", "isWritablePrimary", "secondary", "primary", "me",
		"electionId", "lastWrite", "maxBsonObjectSize", "maxMessageSizeBytes", "maxWriteBatchSize", "localTime",
		"logicalSessionTimeoutMinutes", "connectionId", "minWireVersion", "maxWireVersion", "readOnly", "ok",
		"$clusterTime", "operationTime"}
	if diff := cmp.Diff(want, keys(hello)); diff != "" {
		t.Errorf("hello fields (-want +got):\n%s", diff)
	}
	if got := hello.Lookup("setName").StringValue(); got != "rs0" {
		t.Errorf("setName = %q", got)
	}
	if got := hello.Lookup("me").StringValue(); got != sim.Addr() {
		t.Errorf("me = %q, want %q", got, sim.Addr())
	}
	if got := hello.Lookup("maxWireVersion").Int32(); got != 21 {
		t.Errorf("maxWireVersion = %d", got)
	}
	// The driver's streaming monitor holds an awaitable hello open; the server must keep answering.
	deadline := time.Now().Add(5 * time.Second)
	for sim.OpenConnections() < 2 && time.Now().Before(deadline) {
		if err := client.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.OpenConnections(); n < 2 {
		t.Errorf("open connections = %d, want the monitor's and the pool's", n)
	}
	var bi bson.Raw
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&bi); err != nil {
		t.Fatal(err)
	}
	if v := bi.Lookup("version").StringValue(); v != serverVersion {
		t.Errorf("buildInfo version = %q", v)
	}
}

func TestUnknownCommand(t *testing.T) {
	_, client := startSim(t)
	err := client.Database("x").RunCommand(testCtx(t), bson.D{{Key: "frobnicate", Value: 1}}).Err()
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(59) {
		t.Fatalf("err = %v, want CommandNotFound (59)", err)
	}
}

// allTypesDoc holds every BSON type, including the values that break naive round trips.
func allTypesDoc(id any) bson.D {
	negZero := math.Copysign(0, -1)
	dec, _ := bson.ParseDecimal128("-1234567890.123456789012345678901234E-10")
	decNaN, _ := bson.ParseDecimal128("NaN")
	decInf, _ := bson.ParseDecimal128("-Infinity")
	oid, _ := bson.ObjectIDFromHex("5f1d7a3c9b1e8a0001a1b2c3")
	var bins bson.D
	for _, st := range []byte{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x80, 0xff} {
		data := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
		bins = append(bins, bson.E{Key: fmt.Sprintf("bin%02x", st), Value: bson.Binary{Subtype: st, Data: data}})
	}
	return bson.D{
		{Key: "_id", Value: id},
		{Key: "double", Value: 3.14159},
		{Key: "nan", Value: math.NaN()},
		{Key: "negzero", Value: negZero},
		{Key: "inf", Value: math.Inf(-1)},
		{Key: "string", Value: "héllo \x00 wörld"},
		{Key: "doc", Value: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: bson.A{"x", bson.D{{Key: "c", Value: nil}}}}}},
		{Key: "array", Value: bson.A{int32(1), "two", 3.0, bson.A{}}},
		{Key: "binaries", Value: bins},
		{Key: "undefined", Value: bson.Undefined{}},
		{Key: "oid", Value: oid},
		{Key: "bool", Value: true},
		{Key: "date", Value: bson.DateTime(-14182940000)},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: "^a.*b$", Options: "imsx"}},
		{Key: "dbpointer", Value: bson.DBPointer{DB: "db.coll", Pointer: oid}},
		{Key: "js", Value: bson.JavaScript("function() { return 1; }")},
		{Key: "symbol", Value: bson.Symbol("sym")},
		{Key: "jsscope", Value: bson.CodeWithScope{Code: "function() { return x; }", Scope: bson.D{{Key: "x", Value: int32(42)}}}},
		{Key: "int32", Value: int32(math.MinInt32)},
		{Key: "timestamp", Value: bson.Timestamp{T: math.MaxUint32, I: 7}},
		{Key: "int64", Value: int64(math.MaxInt64)},
		{Key: "decimal", Value: dec},
		{Key: "decnan", Value: decNaN},
		{Key: "decinf", Value: decInf},
		{Key: "minkey", Value: bson.MinKey{}},
		{Key: "maxkey", Value: bson.MaxKey{}},
	}
}

func TestCRUDRoundTripsEveryBSONType(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("types").Collection("all")
	cs, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)

	ids := []any{int32(1), "two", bson.MinKey{}, bson.D{{Key: "k", Value: int64(3)}}, bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{9}, 16)}}
	var raws []bson.Raw
	for _, id := range ids {
		raw, err := bson.Marshal(allTypesDoc(id))
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, raw)
		if _, err := coll.InsertOne(ctx, bson.Raw(raw)); err != nil {
			t.Fatalf("insert %v: %v", id, err)
		}
	}
	for i, id := range ids {
		got, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
		if err != nil {
			t.Fatalf("find %v: %v", id, err)
		}
		if !bytes.Equal(got, raws[i]) {
			t.Errorf("document %v changed in the store:\n got %s\nwant %s", id, got, raws[i])
		}
	}
	events := nextEvents(ctx, t, cs, len(ids))
	for i, ev := range events {
		full := ev.Lookup("fullDocument").Document()
		if !bytes.Equal(full, raws[i]) {
			t.Errorf("event %d fullDocument changed:\n got %s\nwant %s", i, full, raws[i])
		}
	}
	// A replacement stores the new bytes exactly, and $set leaves untouched fields bit-identical.
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "two"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "extra", Value: int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	got, err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "two"}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Lookup("nan").Value, raws[1].Lookup("nan").Value) || !bytes.Equal(got.Lookup("negzero").Value, raws[1].Lookup("negzero").Value) {
		t.Errorf("NaN or -0.0 changed by an unrelated $set: %s", got)
	}
}

// mixedIDs are _id values of every orderable type, listed in the server's BSON sort order.
func mixedIDs() []any {
	oid1, _ := bson.ObjectIDFromHex("000000000000000000000001")
	oid2, _ := bson.ObjectIDFromHex("ffffffffffffffffffffffff")
	d1, _ := bson.ParseDecimal128("1.5")
	dNaN, _ := bson.ParseDecimal128("NaN")
	return []any{
		bson.MinKey{},
		nil,
		dNaN,
		math.Inf(-1),
		int64(math.MinInt64),
		int32(-5),
		0.5,
		int32(1),
		d1,
		int64(2),
		2.5,
		"",
		"a",
		"b",
		bson.D{{Key: "a", Value: int32(1)}},
		bson.D{{Key: "a", Value: int32(2)}},
		bson.D{{Key: "b", Value: int32(0)}},
		bson.Binary{Subtype: 5, Data: []byte{1}},
		bson.Binary{Subtype: 0, Data: []byte{1, 2}},
		oid1,
		oid2,
		false,
		true,
		bson.DateTime(-1),
		bson.DateTime(0),
		bson.Timestamp{T: 1, I: 2},
		bson.Timestamp{T: 2, I: 1},
		bson.MaxKey{},
	}
}

func TestSortedIDRangeScansInBatches(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("scan").Collection("mixed")
	ids := mixedIDs()
	shuffled := slices.Clone(ids)
	for i := range shuffled {
		j := (i*7 + 3) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	for _, id := range shuffled {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: id}})
	}
	wantOrder := func(want []any) []string {
		var out []string
		for _, id := range want {
			raw, _ := bson.Marshal(bson.D{{Key: "_id", Value: id}})
			out = append(out, bson.Raw(raw).Lookup("_id").String())
		}
		return out
	}
	scan := func(filter any, dir int) []string {
		cur, err := coll.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "_id", Value: dir}}).SetBatchSize(4))
		if err != nil {
			t.Fatal(err)
		}
		defer cur.Close(ctx)
		var out []string
		for cur.Next(ctx) {
			out = append(out, cur.Current.Lookup("_id").String())
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	tests := []struct {
		name   string
		filter any
		dir    int
		want   []any
	}{
		{"ascending", bson.D{}, 1, ids},
		{"descending", bson.D{}, -1, reversed(ids)},
		{"numbers gte lt", bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: int32(1)}, {Key: "$lt", Value: 2.5}}}}, 1, ids[7:10]},
		{"strings gt", bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: ""}}}}, 1, ids[12:14]},
		{"in mixed", bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"a", int64(1), true}}}}}, 1, []any{ids[7], ids[12], ids[22]}},
		{"eq numeric across types", bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: 2.0}}}}, 1, ids[9:10]},
		{"lte date", bson.D{{Key: "_id", Value: bson.D{{Key: "$lte", Value: bson.DateTime(0)}}}}, -1, []any{ids[24], ids[23]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(wantOrder(tt.want), scan(tt.filter, tt.dir)); diff != "" {
				t.Errorf("scan order (-want +got):\n%s", diff)
			}
		})
	}
	if n := sim.OpenCursors(); n != 0 {
		t.Errorf("exhausted scans left %d cursors open", n)
	}
	// Numerically equal _ids of different types are the same key.
	_, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1.0}})
	var we mongo.WriteException
	if !errors.As(err, &we) || !we.HasErrorCode(11000) {
		t.Fatalf("insert _id 1.0 next to int 1: err = %v, want duplicate key", err)
	}
	if kv := we.WriteErrors[0].Raw.Lookup("keyValue"); kv.Type != bson.TypeEmbeddedDocument {
		t.Errorf("duplicate key error lacks keyValue: %s", we.WriteErrors[0].Raw)
	}
}

func reversed(in []any) []any {
	out := slices.Clone(in)
	slices.Reverse(out)
	return out
}

func TestCountLimitAndDeletes(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("crud").Collection("c")
	for i := range 10 {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: int32(i)}, {Key: "even", Value: i%2 == 0}})
	}
	n, err := coll.CountDocuments(ctx, bson.D{{Key: "even", Value: true}})
	if err != nil || n != 5 {
		t.Fatalf("CountDocuments = %d, %v", n, err)
	}
	est, err := coll.EstimatedDocumentCount(ctx)
	if err != nil || est != 10 {
		t.Fatalf("EstimatedDocumentCount = %d, %v", est, err)
	}
	res, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: int32(7)}}}})
	if err != nil || res.DeletedCount != 3 {
		t.Fatalf("DeleteMany = %+v, %v", res, err)
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetLimit(2).SetSort(bson.D{{Key: "_id", Value: -1}}))
	if err != nil {
		t.Fatal(err)
	}
	var got []bson.M
	if err := cur.All(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0]["_id"] != int32(6) || got[1]["_id"] != int32(5) {
		t.Fatalf("find limit 2 desc = %v", got)
	}
	up, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: "new"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 1}}}}, options.UpdateOne().SetUpsert(true))
	if err != nil || up.UpsertedID != "new" || up.UpsertedCount != 1 {
		t.Fatalf("upsert = %+v, %v", up, err)
	}
	rep, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "new"}}, bson.D{{Key: "w", Value: 2}})
	if err != nil || rep.ModifiedCount != 1 {
		t.Fatalf("replace = %+v, %v", rep, err)
	}
	var doc bson.D
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "new"}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bson.D{{Key: "_id", Value: "new"}, {Key: "w", Value: int32(2)}}, doc); diff != "" {
		t.Errorf("replaced document (-want +got):\n%s", diff)
	}
}

func TestOrderedBulkWriteStopsAtFirstError(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("bulk").Collection("c")
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 2}})
	models := []mongo.WriteModel{
		mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}}),
		mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 2}}),
		mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 3}}),
	}
	_, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || len(bwe.WriteErrors) != 1 || bwe.WriteErrors[0].Index != 1 || bwe.WriteErrors[0].Code != 11000 {
		t.Fatalf("err = %v, want one duplicate key error at index 1", err)
	}
	n, _ := coll.CountDocuments(ctx, bson.D{})
	if n != 2 {
		t.Errorf("documents after ordered failure = %d, want 2", n)
	}
	wc := options.Collection().SetWriteConcern(writeConcernMajority())
	mixed := []mongo.WriteModel{
		mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: 5}}).SetReplacement(bson.D{{Key: "v", Value: 5}}).SetUpsert(true),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "c", Value: 1}}}}),
		mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 2}}),
	}
	res, err := client.Database("bulk").Collection("c", wc).BulkWrite(ctx, mixed)
	if err != nil {
		t.Fatal(err)
	}
	if res.UpsertedCount != 1 || res.ModifiedCount != 1 || res.DeletedCount != 1 {
		t.Errorf("bulk result = %+v", res)
	}
}
