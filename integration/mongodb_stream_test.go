package integration

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestMongoStreamEvents: insert, update ($set/$unset), replace and delete
// arrive as Debezium's MongoDB events, in order, with updateDescription
// and a tombstone after the delete.
func TestMongoStreamEvents(t *testing.T) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) {
		ctx := testContext(t, 3*time.Minute)
		db := mongoTestDB(t)
		c := mongoClient(t, srv.uri)
		coll := c.Database(db).Collection("customers")
		e := newMongoEnv(t, mongoEnvOptions{uri: srv.uri, tables: `["` + db + `.*"]`})
		p := e.start()
		waitMongoStarted(t, p)

		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: int64(1004)}, {Key: "first_name", Value: "Anne"}, {Key: "tags", Value: bson.A{"a", "b"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: int64(1004)}}, bson.D{
			{Key: "$set", Value: bson.D{{Key: "first_name", Value: "Anne Marie"}}},
			{Key: "$unset", Value: bson.D{{Key: "tags", Value: ""}}},
		}); err != nil {
			t.Fatal(err)
		}
		// updateLookup reads the document when the event is read: let
		// siphon read the update before the document changes again.
		e.waitRecords(p, time.Minute, atLeast(2))
		if _, err := coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: int64(1004)}}, bson.D{{Key: "name", Value: "AM"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: int64(1004)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Database(db).Collection("other").InsertOne(ctx, bson.D{{Key: "_id", Value: "k"}}); err != nil {
			t.Fatal(err)
		}
		rs := e.waitRecords(p, time.Minute, atLeast(6))
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
		topic := "it." + db + ".customers"
		want := []struct {
			op, after string
			update    string
			removed   []string
		}{
			{op: "c", after: `{"_id": {"$numberLong": "1004"},"first_name": "Anne","tags": ["a","b"]}`},
			{op: "u", after: `{"_id": {"$numberLong": "1004"},"first_name": "Anne Marie"}`, update: `{"first_name": "Anne Marie"}`, removed: []string{"tags"}},
			{op: "u", after: `{"_id": {"$numberLong": "1004"},"name": "AM"}`},
			{op: "d", after: "<null>"},
			{op: "tombstone"},
		}
		for i, w := range want {
			r := rs[i]
			if r.Topic != topic {
				t.Fatalf("record %d: topic %s, want %s", i, r.Topic, topic)
			}
			ev, key, ok := r.mongo(t)
			if key != "1004" {
				t.Errorf("record %d: key %q, want 1004", i, key)
			}
			if w.op == "tombstone" {
				if ok {
					t.Errorf("record %d: want a tombstone, got %s", i, r.Value)
				}
				continue
			}
			if ev.Op != w.op || ev.Source.Collection != "customers" || ev.Source.DB != db || ev.Source.Snapshot != "false" {
				t.Errorf("record %d: %s", i, r.Value)
			}
			if got := deref(ev.After); got != w.after {
				t.Errorf("record %d: after %s, want %s", i, got, w.after)
			}
			if w.update != "" {
				if ev.UpdateDescription == nil || deref(ev.UpdateDescription.UpdatedFields) != w.update ||
					strings.Join(ev.UpdateDescription.RemovedFields, ",") != strings.Join(w.removed, ",") {
					t.Errorf("record %d: updateDescription %s", i, r.Value)
				}
			} else if ev.UpdateDescription != nil {
				t.Errorf("record %d: unexpected updateDescription %s", i, r.Value)
			}
		}
		if rs[5].Topic != "it."+db+".other" || string(rs[5].Key) != `{"id":"\"k\""}` {
			t.Errorf("record 5: %s", rs[5].raw)
		}
	})
}

func deref(s *string) string {
	if s == nil {
		return "<null>"
	}
	return *s
}

// TestMongoTransactionsAndPreImages: events of a multi-document
// transaction carry lsid and txnNumber; with full_document:
// pre_post_images, updates and deletes carry the pre-image as before.
func TestMongoTransactionsAndPreImages(t *testing.T) {
	sim := startSim(t)
	ctx := testContext(t, 3*time.Minute)
	db := mongoTestDB(t)
	c := mongoClient(t, sim.URI())
	coll := c.Database(db).Collection("acc")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "bal", Value: 10}}); err != nil {
		t.Fatal(err)
	}
	sim.EnablePreAndPostImages(db, "acc")
	e := newMongoEnv(t, mongoEnvOptions{uri: sim.URI(), tables: `["` + db + `.*"]`, source: "      full_document: pre_post_images\n"})
	p := e.start()
	waitMongoStarted(t, p)

	sess, err := c.StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	if _, err := sess.WithTransaction(ctx, func(sc context.Context) (any, error) {
		if _, err := coll.InsertOne(sc, bson.D{{Key: "_id", Value: 2}, {Key: "bal", Value: 5}}); err != nil {
			return nil, err
		}
		return coll.UpdateOne(sc, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "bal", Value: -5}}}})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil {
		t.Fatal(err)
	}
	rs := e.waitRecords(p, time.Minute, atLeast(4))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logs())
	}
	lsid := regexp.MustCompile(`^\{"id": \{"\$binary": "[A-Za-z0-9+/=]{24}","\$type": "04"\},"uid": \{"\$binary": "[A-Za-z0-9+/=]{44}","\$type": "00"\}\}$`)
	for i, want := range []struct {
		op, before string
		tx         bool
	}{
		{"c", "<null>", true},
		{"u", `{"_id": 1,"bal": 10}`, true},
		{"d", `{"_id": 2,"bal": 5}`, false},
	} {
		ev, _, _ := rs[i].mongo(t)
		if ev.Op != want.op || deref(ev.Before) != want.before {
			t.Errorf("event %d: %s", i, rs[i].Value)
		}
		if want.tx != (ev.Source.Lsid != nil) || want.tx != (ev.Source.TxnNumber != nil) {
			t.Errorf("event %d: lsid/txnNumber: %s", i, rs[i].Value)
		}
		if ev.Source.Lsid != nil && !lsid.MatchString(*ev.Source.Lsid) {
			t.Errorf("event %d: lsid %s is not strict Extended JSON", i, *ev.Source.Lsid)
		}
	}
}
