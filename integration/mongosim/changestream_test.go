package mongosim

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestChangeStreamScopes opens collection, database and deployment streams and checks which
// events each sees, then resumes each one with resumeAfter, startAfter and startAtOperationTime.
func TestChangeStreamScopes(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	shopOrders := client.Database("shop").Collection("orders")
	shopUsers := client.Database("shop").Collection("users")
	crmLeads := client.Database("crm").Collection("leads")

	type scope struct {
		name  string
		watch func(opts *options.ChangeStreamOptionsBuilder) (*mongo.ChangeStream, error)
		want  []string // ns of the events it must see, in order
	}
	scopes := []scope{
		{"collection", func(o *options.ChangeStreamOptionsBuilder) (*mongo.ChangeStream, error) {
			return shopOrders.Watch(ctx, mongo.Pipeline{}, o)
		}, []string{"shop.orders", "shop.orders"}},
		{"database", func(o *options.ChangeStreamOptionsBuilder) (*mongo.ChangeStream, error) {
			return client.Database("shop").Watch(ctx, mongo.Pipeline{}, o)
		}, []string{"shop.orders", "shop.users", "shop.orders"}},
		{"deployment", func(o *options.ChangeStreamOptionsBuilder) (*mongo.ChangeStream, error) {
			return client.Watch(ctx, mongo.Pipeline{}, o)
		}, []string{"shop.orders", "shop.users", "crm.leads", "shop.orders"}},
	}
	streams := make([]*mongo.ChangeStream, len(scopes))
	for i, sc := range scopes {
		cs, err := sc.watch(options.ChangeStream())
		if err != nil {
			t.Fatalf("%s: watch: %v", sc.name, err)
		}
		streams[i] = cs
	}
	defer func() {
		for _, cs := range streams {
			_ = cs.Close(ctx)
		}
	}()
	startTime := sim.ClusterTime()
	mustInsert(ctx, t, shopOrders, bson.D{{Key: "_id", Value: 1}})
	mustInsert(ctx, t, shopUsers, bson.D{{Key: "_id", Value: "u1"}})
	mustInsert(ctx, t, crmLeads, bson.D{{Key: "_id", Value: "l1"}})
	mustInsert(ctx, t, shopOrders, bson.D{{Key: "_id", Value: 2}})

	nsOf := func(evs []bson.Raw) []string {
		var out []string
		for _, e := range evs {
			ns := e.Lookup("ns").Document()
			out = append(out, ns.Lookup("db").StringValue()+"."+ns.Lookup("coll").StringValue())
		}
		return out
	}
	for i, sc := range scopes {
		t.Run(sc.name, func(t *testing.T) {
			evs := nextEvents(ctx, t, streams[i], len(sc.want))
			if diff := cmp.Diff(sc.want, nsOf(evs)); diff != "" {
				t.Fatalf("events (-want +got):\n%s", diff)
			}
			first := evs[0].Lookup("_id").Document()
			resumes := []struct {
				name string
				opts *options.ChangeStreamOptionsBuilder
				want []string
			}{
				{"resumeAfter", options.ChangeStream().SetResumeAfter(first), sc.want[1:]},
				{"startAfter", options.ChangeStream().SetStartAfter(first), sc.want[1:]},
				{"startAtOperationTime", options.ChangeStream().SetStartAtOperationTime(&startTime), sc.want},
			}
			for _, r := range resumes {
				cs, err := sc.watch(r.opts)
				if err != nil {
					t.Fatalf("%s: %v", r.name, err)
				}
				got := nsOf(nextEvents(ctx, t, cs, len(r.want)))
				_ = cs.Close(ctx)
				if diff := cmp.Diff(r.want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", r.name, diff)
				}
			}
		})
	}
}

func TestChangeEventShapes(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("shop").Collection("items")
	cs, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "pen"}, {Key: "tags", Value: bson.A{"a", "b", "c"}}, {Key: "old", Value: true}, {Key: "n", Value: 1}})
	upd := bson.D{
		{Key: "$set", Value: bson.D{{Key: "name", Value: "ink pen"}, {Key: "meta.color", Value: "blue"}}},
		{Key: "$unset", Value: bson.D{{Key: "old", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "n", Value: 2}}},
		{Key: "$push", Value: bson.D{{Key: "tags", Value: "d"}}},
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, upd); err != nil {
		t.Fatal(err)
	}
	// A pipeline update that shortens an array reports truncatedArrays.
	trunc := mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "tags", Value: bson.D{{Key: "$literal", Value: bson.A{"a", "b"}}}}}}}}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, trunc); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "name", Value: "pencil"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	evs := nextEvents(ctx, t, cs, 5)
	if diff := cmp.Diff([]string{"insert", "update", "update", "replace", "delete"}, opTypes(evs)); diff != "" {
		t.Fatalf("operation types (-want +got):\n%s", diff)
	}
	wantKeys := map[string][]string{
		"insert":  {"_id", "operationType", "clusterTime", "wallTime", "fullDocument", "ns", "documentKey"},
		"update":  {"_id", "operationType", "clusterTime", "wallTime", "ns", "documentKey", "updateDescription"},
		"replace": {"_id", "operationType", "clusterTime", "wallTime", "fullDocument", "ns", "documentKey"},
		"delete":  {"_id", "operationType", "clusterTime", "wallTime", "ns", "documentKey"},
	}
	for _, ev := range evs {
		op := ev.Lookup("operationType").StringValue()
		if diff := cmp.Diff(wantKeys[op], keys(ev)); diff != "" {
			t.Errorf("%s event fields (-want +got):\n%s", op, diff)
		}
	}
	desc := evs[1].Lookup("updateDescription").Document()
	wantDesc := `{"updatedFields": {"n": {"$numberInt":"3"},"name": "ink pen","meta": {"color": "blue"},"tags.3": "d"},"removedFields": ["old"],"truncatedArrays": []}`
	if desc.String() != wantDesc {
		t.Errorf("updateDescription\n got %s\nwant %s", desc, wantDesc)
	}
	desc = evs[2].Lookup("updateDescription").Document()
	wantDesc = `{"updatedFields": {},"removedFields": [],"truncatedArrays": [{"field": "tags","newSize": {"$numberInt":"2"}}]}`
	if desc.String() != wantDesc {
		t.Errorf("truncation updateDescription\n got %s\nwant %s", desc, wantDesc)
	}
	// Tokens order as the events do.
	for i := 1; i < len(evs); i++ {
		a := evs[i-1].Lookup("_id", "_data").StringValue()
		b := evs[i].Lookup("_id", "_data").StringValue()
		if a >= b {
			t.Errorf("resume token %d (%s) does not sort after %d (%s)", i, b, i-1, a)
		}
	}
}

func TestUpdateLookupAndPrePostImages(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	db := client.Database("img")
	if err := db.CreateCollection(ctx, "with", options.CreateCollection().SetChangeStreamPreAndPostImages(bson.D{{Key: "enabled", Value: true}})); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCollection(ctx, "without"); err != nil {
		t.Fatal(err)
	}
	with, without := db.Collection("with"), db.Collection("without")
	open := func(coll *mongo.Collection, o *options.ChangeStreamOptionsBuilder) *mongo.ChangeStream {
		cs, err := coll.Watch(ctx, mongo.Pipeline{}, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.Close(ctx) })
		return cs
	}
	lookup := open(with, options.ChangeStream().SetFullDocument(options.UpdateLookup))
	images := open(with, options.ChangeStream().SetFullDocument(options.Required).SetFullDocumentBeforeChange(options.Required))
	whenAvail := open(without, options.ChangeStream().SetFullDocument(options.WhenAvailable).SetFullDocumentBeforeChange(options.WhenAvailable))
	required := open(without, options.ChangeStream().SetFullDocumentBeforeChange(options.Required))

	for _, coll := range []*mongo.Collection{with, without} {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 1}})
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	}

	// updateLookup reads the current document: deleted by the time the stream reads the update.
	evs := nextEvents(ctx, t, lookup, 3)
	if v := evs[1].Lookup("fullDocument"); v.Type != bson.TypeNull {
		t.Errorf("updateLookup after delete: fullDocument = %s, want null", v)
	}
	if diff := cmp.Diff([]string{"_id", "operationType", "clusterTime", "wallTime", "fullDocument", "ns", "documentKey", "updateDescription"}, keys(evs[1])); diff != "" {
		t.Errorf("updateLookup event fields (-want +got):\n%s", diff)
	}

	evs = nextEvents(ctx, t, images, 3)
	if got := evs[1].Lookup("fullDocument", "v").Int32(); got != 2 {
		t.Errorf("post-image v = %d, want 2", got)
	}
	if got := evs[1].Lookup("fullDocumentBeforeChange", "v").Int32(); got != 1 {
		t.Errorf("update pre-image v = %d, want 1", got)
	}
	if got := evs[2].Lookup("fullDocumentBeforeChange", "v").Int32(); got != 2 {
		t.Errorf("delete pre-image v = %d, want 2", got)
	}
	if last := keys(evs[2]); last[len(last)-1] != "fullDocumentBeforeChange" {
		t.Errorf("fullDocumentBeforeChange is not the last field: %v", last)
	}

	evs = nextEvents(ctx, t, whenAvail, 3)
	if v := evs[1].Lookup("fullDocument"); v.Type != bson.TypeNull {
		t.Errorf("whenAvailable without images: fullDocument = %s, want null", v)
	}
	if v := evs[2].Lookup("fullDocumentBeforeChange"); v.Type != bson.TypeNull {
		t.Errorf("whenAvailable without images: fullDocumentBeforeChange = %s, want null", v)
	}

	// required without recorded pre-images fails when the stream reaches the update.
	if !required.Next(ctx) {
		t.Fatalf("insert should pass: %v", required.Err())
	}
	if required.Next(ctx) {
		t.Fatalf("update without a pre-image was delivered: %s", required.Current)
	}
	var se mongo.ServerError
	if !errors.As(required.Err(), &se) || !se.HasErrorCode(47) {
		t.Fatalf("err = %v, want NoMatchingDocument (47)", required.Err())
	}

	// collMod turns pre-images on for later writes.
	if err := db.RunCommand(ctx, bson.D{{Key: "collMod", Value: "without"}, {Key: "changeStreamPreAndPostImages", Value: bson.D{{Key: "enabled", Value: true}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	var info bson.Raw
	specs, err := db.ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: "without"}})
	if err != nil || len(specs) != 1 {
		t.Fatalf("listCollections: %v %v", specs, err)
	}
	info = specs[0].Options
	if !info.Lookup("changeStreamPreAndPostImages", "enabled").Boolean() {
		t.Errorf("options after collMod = %s", info)
	}
	_ = sim
}

func TestMatchStageAfterChangeStream(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("m").Collection("c")
	pipeline := mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: bson.D{{Key: "$in", Value: bson.A{"insert", "delete"}}}}}}}}
	cs, err := client.Database("m").Watch(ctx, pipeline)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}})
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"insert", "delete"}, opTypes(nextEvents(ctx, t, cs, 2))); diff != "" {
		t.Errorf("filtered events (-want +got):\n%s", diff)
	}
}

func TestTransactionEventsCarryLsidAndTxnNumber(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	db := client.Database("bank")
	cs, err := db.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	mustInsert(ctx, t, db.Collection("accounts"), bson.D{{Key: "_id", Value: "a"}, {Key: "bal", Value: 100}})

	sess, err := client.StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	_, err = sess.WithTransaction(ctx, func(sc context.Context) (any, error) {
		if _, err := db.Collection("accounts").UpdateOne(sc, bson.D{{Key: "_id", Value: "a"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "bal", Value: -30}}}}); err != nil {
			return nil, err
		}
		if _, err := db.Collection("ledger").InsertOne(sc, bson.D{{Key: "_id", Value: 1}, {Key: "amount", Value: 30}}); err != nil {
			return nil, err
		}
		// Reads inside the transaction see its own writes.
		var doc bson.M
		if err := db.Collection("accounts").FindOne(sc, bson.D{{Key: "_id", Value: "a"}}).Decode(&doc); err != nil {
			return nil, err
		}
		if doc["bal"] != int32(70) {
			return nil, fmt.Errorf("read inside transaction: bal = %v", doc["bal"])
		}
		return nil, nil
	})
	if err != nil {
		t.Fatalf("transaction: %v", err)
	}
	// An aborted transaction leaves no trace.
	if err := sess.StartTransaction(); err != nil {
		t.Fatal(err)
	}
	sc := mongo.NewSessionContext(ctx, sess)
	if _, err := db.Collection("ledger").InsertOne(sc, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := sess.AbortTransaction(ctx); err != nil {
		t.Fatal(err)
	}
	mustInsert(ctx, t, db.Collection("accounts"), bson.D{{Key: "_id", Value: "after"}})

	evs := nextEvents(ctx, t, cs, 4)
	if diff := cmp.Diff([]string{"insert", "update", "insert", "insert"}, opTypes(evs)); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	txnEvs := evs[1:3]
	wantKeys := map[string][]string{
		"update": {"txnNumber", "lsid", "_id", "operationType", "clusterTime", "wallTime", "ns", "documentKey", "updateDescription"},
		"insert": {"txnNumber", "lsid", "_id", "operationType", "clusterTime", "wallTime", "fullDocument", "ns", "documentKey"},
	}
	sessID := sess.ID().Lookup("id")
	for _, ev := range txnEvs {
		op := ev.Lookup("operationType").StringValue()
		if diff := cmp.Diff(wantKeys[op], keys(ev)); diff != "" {
			t.Errorf("transaction %s fields (-want +got):\n%s", op, diff)
		}
		if got := ev.Lookup("lsid", "id"); !got.Equal(sessID) {
			t.Errorf("lsid.id = %s, want %s", got, sessID)
		}
		if uid := ev.Lookup("lsid", "uid"); uid.Type != bson.TypeBinary {
			t.Errorf("lsid.uid missing: %s", ev.Lookup("lsid"))
		}
		if ev.Lookup("txnNumber").Type != bson.TypeInt64 {
			t.Errorf("txnNumber = %s, want a long", ev.Lookup("txnNumber"))
		}
	}
	if !txnEvs[0].Lookup("clusterTime").Equal(txnEvs[1].Lookup("clusterTime")) {
		t.Errorf("transaction events have different cluster times")
	}
	for _, ev := range []bson.Raw{evs[0], evs[3]} {
		if ev.Lookup("lsid").Type != 0 || ev.Lookup("txnNumber").Type != 0 {
			t.Errorf("non-transaction event carries lsid/txnNumber: %s", ev)
		}
	}
	if n, _ := db.Collection("ledger").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("ledger has %d documents after one commit and one abort", n)
	}
}

func TestTransactionWriteConflict(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("wc").Collection("c")
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}, {Key: "v", Value: 0}})
	sess, err := client.StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	if err := sess.StartTransaction(); err != nil {
		t.Fatal(err)
	}
	sc := mongo.NewSessionContext(ctx, sess)
	if _, err := coll.UpdateOne(sc, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 1}}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: 2}}}}); err != nil {
		t.Fatal(err)
	}
	err = sess.CommitTransaction(ctx)
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(112) || !se.HasErrorLabel("TransientTransactionError") {
		t.Fatalf("commit err = %v, want WriteConflict with TransientTransactionError", err)
	}
	var doc bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&doc); err != nil || doc["v"] != int32(2) {
		t.Fatalf("document after conflict = %v, %v", doc, err)
	}
}
