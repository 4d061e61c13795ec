package mongodb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/integration/mongosim"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestSnapReaderBrackets reads a collection whose _ids span every type
// bracket through Split and ReadChunk, against the simulator: every
// document comes exactly once, in the server's _id order within each
// range, whatever the chunk size and number of ranges.
func TestSnapReaderBrackets(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
	defer func() { _ = c.Disconnect(ctx) }()
	coll := c.Database("d").Collection("c")
	ids := []any{bson.MinKey{}, bson.MaxKey{}, bson.Null{}, "", "b", bson.D{{Key: "a", Value: 1}}, bson.Binary{Data: []byte{1}},
		true, false, bson.DateTime(-5), bson.Timestamp{T: 1}, int64(-7), 2.5, bson.NewDecimal128(0x303E000000000000, 95)}
	var oid bson.ObjectID
	for i := 0; i < 3000; i++ {
		oid[11], oid[10] = byte(i), byte(i>>8)
		switch i % 3 {
		case 0:
			ids = append(ids, int32(i))
		case 1:
			ids = append(ids, fmt.Sprintf("k%05d", i))
		default:
			ids = append(ids, oid)
		}
	}
	docs := make([]any, len(ids))
	for i, id := range ids {
		docs[i] = bson.D{{Key: "_id", Value: id}}
	}
	if _, err := coll.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	r := newSnapReader(ctx, c)
	table := &snapshot.Table{Name: "d.c", Schema: debezium.MongoTable("d", "c", "x.d.c"), Key: []int{debezium.MongoID}, Estimate: int64(len(ids))}
	for _, tc := range []struct{ ranges, limit, want int }{{1, 50, 1}, {3, 7, 3}, {4, 1000, 1 /* under 1000 documents a range */}} {
		rs, err := r.Split(ctx, table, tc.ranges)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != tc.want {
			t.Errorf("split into %d ranges, want %d", len(rs), tc.want)
		}
		seen := map[string]int{}
		for _, rg := range rs {
			var after []byte
			for {
				ch, err := r.ReadChunk(ctx, table, rg, after, tc.limit, 0)
				if err != nil {
					t.Fatal(err)
				}
				for _, row := range ch.Rows {
					seen[string(row[debezium.MongoID].AsBytes())]++
				}
				if !ch.More {
					break
				}
				after = ch.Last
			}
		}
		if len(seen) != len(ids) {
			t.Errorf("ranges %d, limit %d: %d distinct documents, want %d", tc.ranges, tc.limit, len(seen), len(ids))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("ranges %d, limit %d: %v read %d times", tc.ranges, tc.limit, bson.Raw(id), n)
			}
		}
	}
}
