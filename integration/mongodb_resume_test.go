package integration

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/mongosim"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// mongoWriter inserts and updates documents of coll until n writes are
// done or ctx ends; it returns the number of writes.
// A write whose connection the test dropped (sim.DropConnections) is tried
// again; an insert found done by its retry counts as written.
func mongoWriter(ctx context.Context, coll *mongo.Collection, n int, written *atomic.Int64) error {
	for i := 0; i < n; i++ {
		id := int64(i % (n / 3))
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			switch {
			case i < n/3:
				_, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "v", Value: i}, {Key: "s", Value: fmt.Sprintf("doc %d", i)}})
				if attempt > 0 && mongo.IsDuplicateKeyError(err) {
					err = nil
				}
			case i%7 == 0:
				_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
			default:
				_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: i}}}})
			}
			var pool interface{ Retryable() bool } // the pool was cleared under the operation
			if err == nil || ctx.Err() != nil || !(mongo.IsNetworkError(err) || errors.As(err, &pool) && pool.Retryable()) {
				break
			}
		}
		if err != nil {
			return err
		}
		written.Add(1)
	}
	return nil
}

// TestMongoKill9Resume: siphon is killed with SIGKILL twice while a writer
// inserts, updates and deletes; after restarts the replayed output equals
// the collection (at-least-once, nothing lost).
func TestMongoKill9Resume(t *testing.T) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) {
		ctx := testContext(t, 5*time.Minute)
		db := mongoTestDB(t)
		c := mongoClient(t, srv.uri)
		coll := c.Database(db).Collection("kv")
		e := newMongoEnv(t, mongoEnvOptions{uri: srv.uri, tables: `["` + db + `.kv"]`})
		p := e.start()
		waitMongoStarted(t, p)

		var written atomic.Int64
		done := make(chan error, 1)
		go func() { done <- mongoWriter(ctx, coll, 3000, &written) }()
		for kill := 1; kill <= 2; kill++ {
			target := int64(kill * 800)
			for written.Load() < target {
				if p.exited() {
					t.Fatalf("siphon exited:\n%s", p.logs())
				}
				time.Sleep(5 * time.Millisecond)
			}
			p.kill(t)
			p = e.start()
			waitMongoStarted(t, p)
			if !strings.Contains(p.logs(), "resuming change stream") {
				t.Fatalf("restart did not resume:\n%s", p.logs())
			}
			if srv.sim != nil {
				// The driver resumes the stream by itself after a dropped
				// connection and a lost cursor.
				srv.sim.DropConnections()
				srv.sim.KillAllCursors()
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		waitMongoState(t, e, p, "it."+db+".kv", mongoDocs(t, c, db, "kv"))
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
	})
}

// TestMongoHistoryLost: a stored resume token older than the oplog stops
// siphon with a clear error unless snapshot: when_needed, which takes a
// new snapshot.
func TestMongoHistoryLost(t *testing.T) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) {
		if srv.sim == nil {
			t.Skip("needs the simulator's TruncateHistory: a real oplog cannot be rolled over on demand")
		}
		ctx := testContext(t, 3*time.Minute)
		db := mongoTestDB(t)
		c := mongoClient(t, srv.uri)
		coll := c.Database(db).Collection("kv")
		e := newMongoEnv(t, mongoEnvOptions{uri: srv.uri, tables: `["` + db + `.kv"]`})
		p := e.start()
		waitMongoStarted(t, p)
		for i := 0; i < 5; i++ {
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
				t.Fatal(err)
			}
		}
		e.waitRecords(p, time.Minute, atLeast(5))
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
		if out, _, code := e.siphonCmd("check", "--config", e.config); code != 0 || !strings.Contains(out, "replica set rs0") || !strings.Contains(out, "still in the oplog") {
			t.Errorf("siphon check exit %d:\n%s", code, out)
		}
		for i := 5; i < 10; i++ {
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}, {Key: "late", Value: true}}); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.sim.TruncateHistory(srv.sim.ClusterTime()); n == 0 {
			t.Fatal("nothing truncated")
		}

		out, _, code := e.siphonCmd("check", "--config", e.config)
		if code != 1 || !strings.Contains(out, "ChangeStreamHistoryLost") {
			t.Errorf("siphon check exit %d, want 1 naming the lost history:\n%s", code, out)
		}

		p = e.start()
		if code := p.wait(t, time.Minute); code == 0 {
			t.Fatalf("siphon resumed from a lost position:\n%s", p.logs())
		}
		if logs := p.logs(); !strings.Contains(logs, "ChangeStreamHistoryLost") || !strings.Contains(logs, "snapshot: when_needed") {
			t.Fatalf("error does not explain the lost history:\n%s", logs)
		}

		replaceInConfig(t, e, "snapshot: never", "snapshot: when_needed")
		p = e.start()
		waitMongoState(t, e, p, "it."+db+".kv", mongoDocs(t, c, db, "kv"))
		if !strings.Contains(p.logs(), "taking a new snapshot") {
			t.Fatalf("no new snapshot:\n%s", p.logs())
		}
		reads := 0
		for _, r := range e.records() {
			if ev, _, ok := r.mongo(t); ok && ev.Op == "r" {
				reads++
			}
		}
		if reads != 10 {
			t.Errorf("%d snapshot reads, want 10", reads)
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
	})
}

// TestMongoDropRenameInvalidate: dropping and renaming captured
// collections and dropping a database ends their events only; the other
// collections' events keep flowing on the deployment-scope stream.
func TestMongoDropRenameInvalidate(t *testing.T) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) {
		ctx := testContext(t, 3*time.Minute)
		db := mongoTestDB(t)
		db2 := db + "_x"
		c := mongoClient(t, srv.uri)
		e := newMongoEnv(t, mongoEnvOptions{uri: srv.uri, tables: `["` + db + `.*", "` + db2 + `.*"]`})
		p := e.start()
		waitMongoStarted(t, p)
		insert := func(dbName, coll string, id int) {
			t.Helper()
			if _, err := c.Database(dbName).Collection(coll).InsertOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
				t.Fatal(err)
			}
		}
		insert(db, "a", 1)
		insert(db, "b", 1)
		insert(db2, "z", 1)
		if err := c.Database(db).Collection("a").Drop(ctx); err != nil {
			t.Fatal(err)
		}
		insert(db, "keep", 1)
		if err := c.Database("admin").RunCommand(ctx, bson.D{{Key: "renameCollection", Value: db + ".b"}, {Key: "to", Value: db + ".c"}}).Err(); err != nil {
			t.Fatal(err)
		}
		insert(db, "c", 2)
		if err := c.Database(db2).Drop(ctx); err != nil {
			t.Fatal(err)
		}
		insert(db, "keep", 2)
		rs := e.waitRecords(p, time.Minute, atLeast(6))
		var got []string
		for _, r := range rs {
			_, key, _ := r.mongo(t)
			got = append(got, strings.TrimPrefix(r.Topic, "it.")+"/"+key)
		}
		want := []string{db + ".a/1", db + ".b/1", db2 + ".z/1", db + ".keep/1", db + ".c/2", db + ".keep/2"}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("events:\n got %v\nwant %v", got, want)
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
	})
}

// TestMongoHistoryLostWhileStreaming: with snapshot: when_needed, a
// ChangeStreamHistoryLost on a running stream restarts the pipeline from
// its checkpoint instead of stopping siphon.
func TestMongoHistoryLostWhileStreaming(t *testing.T) {
	sim := startSim(t)
	ctx := testContext(t, 3*time.Minute)
	db := mongoTestDB(t)
	c := mongoClient(t, sim.URI())
	coll := c.Database(db).Collection("kv")
	e := newMongoEnv(t, mongoEnvOptions{uri: sim.URI(), tables: `["` + db + `.kv"]`, snapshot: "when_needed"})
	p := e.start()
	waitMongoStarted(t, p)
	for i := 0; i < 5; i++ {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	e.waitRecords(p, time.Minute, atLeast(5))
	sim.FailCommand(mongosim.FailPoint{Commands: []string{"getMore"}, ErrorCode: 286})
	deadline := time.Now().Add(time.Minute)
	for strings.Count(p.logs(), "resuming change stream") < 1 {
		if p.exited() || time.Now().After(deadline) {
			t.Fatalf("siphon did not restart the pipeline:\n%s", p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := 5; i < 10; i++ {
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: i}}); err != nil {
			t.Fatal(err)
		}
	}
	waitMongoState(t, e, p, "it."+db+".kv", mongoDocs(t, c, db, "kv"))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logs())
	}
}
