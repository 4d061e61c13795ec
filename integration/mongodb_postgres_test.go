package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// canonicalJSON re-encodes a JSON text with sorted keys, so that jsonb's
// normalisation and the source's order compare equal.
func canonicalJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMongoToPostgres: a MongoDB collection (snapshot, then inserts,
// updates, replaces, deletes, across a SIGKILL) applied by the postgres
// sink as (_id, document) rows equals the collection document for document.
func TestMongoToPostgres(t *testing.T) {
	sim := startSim(t)
	pg, pgdb := targetPostgres(t)
	ctx := testContext(t, 5*time.Minute)
	db := mongoTestDB(t)
	c := mongoClient(t, sim.URI())
	coll := c.Database(db).Collection("docs")
	seedMongo(t, coll, 200)
	e := newMongoEnv(t, mongoEnvOptions{uri: sim.URI(), tables: `["` + db + `.*"]`, snapshot: "initial",
		sinks: "      - " + pgSinkYAML(pg, pgdb, "")})
	want := func() map[string]string {
		cur, err := coll.Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for cur.Next(ctx) {
			text, ok := debezium.AppendExtJSON(nil, cur.Current, debezium.ExtJSONRelaxed)
			if !ok {
				t.Fatal("bad document")
			}
			out[mongoKey(t, cur.Current.Lookup("_id"))] = canonicalJSON(t, string(text))
		}
		return out
	}
	got := func() map[string]string {
		out := map[string]string{}
		rows, err := pg.Query(ctx, pgdb, `SELECT "_id", "document"::text FROM public.docs`)
		if err != nil && strings.Contains(err.Error(), "42P01") {
			return out // not created yet
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out[r[0]] = canonicalJSON(t, r[1])
		}
		return out
	}
	p := e.start()
	waitEqualRows(t, p, "rows after the snapshot", want, got)
	for i := 0; i < 100; i++ {
		id := mixedID(i)
		var err error
		switch i % 3 {
		case 0:
			_, err = coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: -i}, {Key: "nested.x", Value: fmt.Sprint(i)}}}})
		case 1:
			_, err = coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
		default:
			_, err = coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "r", Value: true}})
		}
		if err != nil {
			t.Fatal(err)
		}
		if i == 50 {
			p.kill(t)
			p = e.start()
		}
	}
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: "last"}, {Key: "d", Value: bson.DateTime(-1)}}); err != nil {
		t.Fatal(err)
	}
	waitEqualRows(t, p, "rows", want, got)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, p.logs())
	}
}
