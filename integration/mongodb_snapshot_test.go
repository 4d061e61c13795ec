package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// mixedID gives documents _ids of several type brackets, so that chunking
// by _id must walk numbers, strings, ObjectIds and dates.
func mixedID(i int) any {
	switch i % 5 {
	case 0:
		return int32(i)
	case 1:
		return fmt.Sprintf("s%05d", i)
	case 2:
		var oid bson.ObjectID
		oid[8], oid[10], oid[11] = 1, byte(i>>8), byte(i)
		return oid
	case 3:
		return bson.DateTime(int64(i) * 1000)
	default:
		return float64(i) + 0.5
	}
}

func seedMongo(t *testing.T, coll *mongo.Collection, n int) {
	t.Helper()
	docs := make([]any, 0, n)
	for i := 0; i < n; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: mixedID(i)}, {Key: "v", Value: i}, {Key: "pad", Value: strings.Repeat("x", 40)}})
	}
	if _, err := coll.InsertMany(testContext(t, time.Minute), docs); err != nil {
		t.Fatal(err)
	}
}

// TestMongoSnapshotConcurrentWrites: an initial snapshot in small chunks,
// two collections in parallel, killed with SIGKILL in the middle, while a
// writer updates, deletes and inserts; the replayed output equals the
// collections' final state.
func TestMongoSnapshotConcurrentWrites(t *testing.T) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) {
		ctx := testContext(t, 5*time.Minute)
		db := mongoTestDB(t)
		c := mongoClient(t, srv.uri)
		colls := []*mongo.Collection{c.Database(db).Collection("a"), c.Database(db).Collection("b")}
		const n = 2000
		for _, coll := range colls {
			seedMongo(t, coll, n)
		}
		e := newMongoEnv(t, mongoEnvOptions{uri: srv.uri, tables: `["` + db + `.*"]`, snapshot: "initial",
			source: "      snapshot_chunk_rows: 20\n      snapshot_parallelism: 2\n"})

		writeCtx, stopWriting := context.WithCancel(ctx)
		defer stopWriting()
		done := make(chan error, 1)
		go func() {
			for i := 0; writeCtx.Err() == nil; i++ {
				coll := colls[i%2]
				id := mixedID((i * 37) % (n + 200))
				var err error
				switch i % 4 {
				case 0:
					_, err = coll.DeleteOne(writeCtx, bson.D{{Key: "_id", Value: id}})
				case 1:
					_, err = coll.InsertOne(writeCtx, bson.D{{Key: "_id", Value: mixedID(n + 1000 + i)}, {Key: "v", Value: -i}})
				default:
					_, err = coll.UpdateOne(writeCtx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: -i}}}})
				}
				if err != nil && writeCtx.Err() == nil {
					done <- err
					return
				}
			}
			done <- nil
		}()

		p := e.start()
		e.waitRecords(p, 2*time.Minute, atLeast(n/4))
		p.kill(t)
		p = e.start()
		waitMongoStarted(t, p)
		resumed := strings.Contains(p.logs(), "snapshot_in_progress=true")
		if resumed {
			e.waitRecords(p, 2*time.Minute, func(rs []record) bool { return strings.Contains(p.logs(), "snapshot finished") })
		}
		stopWriting()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b"} {
			waitMongoState(t, e, p, "it."+db+"."+name, mongoDocs(t, c, db, name))
		}
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
		if !resumed {
			t.Errorf("the snapshot finished before the kill: the restart did not resume it:\n%s", p.logs())
		}
	})
}

// TestMongoSnapshotCopy: snapshot: initial_only copies collections with
// _ids of every bracket in small chunks and stops; it also runs against
// FerretDB, which has no change streams.
func TestMongoSnapshotCopy(t *testing.T) {
	forEachMongoTarget(t, func(t *testing.T, uri string) {
		db := mongoTestDB(t)
		c := mongoClient(t, uri)
		for _, name := range []string{"a", "b"} {
			seedMongo(t, c.Database(db).Collection(name), 300)
		}
		e := newMongoEnv(t, mongoEnvOptions{uri: uri, tables: `["` + db + `.*"]`, snapshot: "initial_only",
			source: "      snapshot_chunk_rows: 20\n      snapshot_parallelism: 2\n"})
		p := e.start()
		if code := p.wait(t, 2*time.Minute); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
		rs := e.records()
		for _, name := range []string{"a", "b"} {
			want := mongoDocs(t, c, db, name)
			if got := mongoState(t, rs, "it."+db+"."+name); !equalStringMaps(got, want) {
				t.Fatalf("%s: %d documents copied, want %d", name, len(got), len(want))
			}
		}
		if len(rs) != 600 {
			t.Errorf("%d records, want 600 (every document once)", len(rs))
		}
	})
}
