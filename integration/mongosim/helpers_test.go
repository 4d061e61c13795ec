package mongosim

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// startSim starts a simulator and a connected driver client, both closed when the test ends.
func startSim(t *testing.T, opts ...func(*options.ClientOptions)) (*Sim, *mongo.Client) {
	t.Helper()
	sim, err := Start(context.Background(), Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	// After a dropped connection the driver may wait one heartbeat before it selects the server
	// again (when its recheck lands between two checks): a short heartbeat keeps fault tests quick.
	co := options.Client().ApplyURI(sim.URI()).SetServerSelectionTimeout(10 * time.Second).SetHeartbeatInterval(500 * time.Millisecond)
	for _, o := range opts {
		o(co)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	ctx := testCtx(t)
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	return sim, client
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// nextEvents reads n events from a change stream, failing the test on error or timeout.
func nextEvents(ctx context.Context, t *testing.T, cs *mongo.ChangeStream, n int) []bson.Raw {
	t.Helper()
	var out []bson.Raw
	for len(out) < n {
		if !cs.Next(ctx) {
			t.Fatalf("change stream ended after %d of %d events: %v", len(out), n, cs.Err())
		}
		out = append(out, append(bson.Raw(nil), cs.Current...))
	}
	return out
}

func opTypes(events []bson.Raw) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Lookup("operationType").StringValue())
	}
	return out
}

func keys(doc bson.Raw) []string {
	elems, _ := doc.Elements()
	var out []string
	for _, e := range elems {
		out = append(out, e.Key())
	}
	return out
}

func mustInsert(ctx context.Context, t *testing.T, coll *mongo.Collection, docs ...any) {
	t.Helper()
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatalf("insert into %s: %v", coll.Name(), err)
	}
}

func writeConcernMajority() *writeconcern.WriteConcern { return writeconcern.Majority() }
