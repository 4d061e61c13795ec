package mongodb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/mongosim"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestRecordBatch (go test -run TestRecordBatch -record) records the
// change events of a mixed workload from the simulator into
// testdata/batch.bson, as the driver receives them, for BenchmarkDecode.
func TestRecordBatch(t *testing.T) {
	if !*recordBatch {
		t.Skip("run with -record to rewrite testdata/batch.bson")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sim, err := mongosim.Start(ctx, mongosim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	c, err := mongo.Connect(options.Client().ApplyURI(sim.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	cs, err := c.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetFullDocument(options.UpdateLookup))
	if err != nil {
		t.Fatal(err)
	}
	coll := c.Database("shop").Collection("orders")
	const n = 800
	for i := 0; i < n; i++ {
		doc := bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "customer", Value: fmt.Sprintf("customer-%d", i%97)},
			{Key: "total", Value: bson.NewDecimal128(0x3040000000000000, uint64(i*1000+99))}, {Key: "qty", Value: int32(i % 10)},
			{Key: "created", Value: bson.DateTime(1700000000000 + int64(i))}, {Key: "tags", Value: bson.A{"a", "b"}},
			{Key: "address", Value: bson.D{{Key: "city", Value: "Zürich"}, {Key: "zip", Value: "8000"}}}}
		if _, err := coll.InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if _, err := coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: doc[0].Value}}, bson.D{{Key: "$set", Value: bson.D{{Key: "qty", Value: int32(99)}}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var out []byte
	got := 0
	for got < n+n/4 && cs.Next(ctx) {
		out = append(out, cs.Current...)
		got++
	}
	if err := os.WriteFile(filepath.Join("testdata", "batch.bson"), out, 0o644); err != nil {
		t.Fatal(err)
	}
}
