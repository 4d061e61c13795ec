package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// mariaToMongoEnv writes a siphon.yaml reading MariaDB database db into
// the MongoDB database target.
func mariaToMongoEnv(t *testing.T, db, uri, target string) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "siphon.yaml"), output: filepath.Join(dir, "events.jsonl")}
	cfg := fmt.Sprintf(`state_dir: ./state
log:
  level: debug
pipelines:
  - name: test
    source:
      type: mysql
      url: %s
      server_id: %d
      tables: ["%s.*"]
      snapshot: initial
      topic_prefix: it
    sinks:
      - type: mongodb
        url: %s
        database: %s
`, shared.URL("root", ""), 5400+serverIDs.next(), db, uri, target)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// mongoRows renders a target collection's documents as "key: fields" lines.
func mongoRows(t *testing.T, c *mongo.Client, db, coll string, fields ...string) map[string]string {
	t.Helper()
	cur, err := c.Database(db).Collection(coll).Find(testContext(t, time.Minute), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for cur.Next(testContext(t, time.Minute)) {
		var parts []string
		for _, f := range fields {
			v, err := cur.Current.LookupErr(f)
			if err != nil {
				parts = append(parts, "<missing>")
				continue
			}
			parts = append(parts, bsonText(v))
		}
		out[bsonText(cur.Current.Lookup("_id"))] = strings.Join(parts, "|")
	}
	return out
}

func bsonText(v bson.RawValue) string {
	switch v.Type {
	case bson.TypeNull:
		return "<null>"
	case bson.TypeString:
		return v.StringValue()
	case bson.TypeInt32:
		return fmt.Sprint(v.Int32())
	case bson.TypeInt64:
		return fmt.Sprint(v.Int64())
	case bson.TypeDouble:
		return strconv.FormatFloat(v.Double(), 'f', -1, 64)
	case bson.TypeDecimal128:
		return v.Decimal128().String()
	case bson.TypeEmbeddedDocument:
		els, _ := v.Document().Elements()
		var parts []string
		for _, el := range els {
			parts = append(parts, el.Key()+"="+bsonText(el.Value()))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return v.String()
}

func mariaRows(t *testing.T, q string) map[string]string {
	t.Helper()
	rows, err := shared.Query(testContext(t, time.Minute), q)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r[0]] = strings.Join(r[1:], "|")
	}
	return out
}

func waitEqualRows(t *testing.T, p *proc, what string, want func() map[string]string, got func() map[string]string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		w, g := want(), got()
		if equalStringMaps(w, g) {
			return
		}
		if p.exited() {
			t.Fatalf("siphon exited early:\n%s", p.logs())
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s differs after 2 minutes:\n got %v\nwant %v", what, g, w)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMariaDBToMongo: a MariaDB database (snapshot, then inserts,
// updates, deletes, a key change, a composite key) applied by the mongodb
// sink equals the source row for row, also across a SIGKILL.
func TestMariaDBToMongo(t *testing.T) {
	forEachMongoTarget(t, func(t *testing.T, uri string) {
		srv := mongoServer{uri: uri}
		price := "DECIMAL(10,2)"
		if strings.HasSuffix(t.Name(), "/ferretdb") {
			price = "DOUBLE" // FerretDB 1.x has no Decimal128
		}
		db := newDatabase(t, shared)
		target := mongoTestDB(t)
		mustExec(t, shared, "USE "+db,
			"CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), qty INT, price "+price+", note TEXT NULL)",
			"CREATE TABLE pairs (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))",
			"INSERT INTO items VALUES (1,'one',1,1.50,NULL),(2,'two',2,2.25,'x'),(3,'three',3,-3.00,'y')",
			"INSERT INTO pairs VALUES (1,'a',10),(1,'b',11),(2,'a',20)")
		e := mariaToMongoEnv(t, db, srv.uri, target)
		p := e.start()
		c := mongoClient(t, srv.uri)
		wantItems := func() map[string]string {
			return mariaRows(t, "SELECT id, name, qty, price, COALESCE(note,'<null>') FROM "+db+".items")
		}
		gotItems := func() map[string]string { return mongoRows(t, c, target, "items", "name", "qty", "price", "note") }
		wantPairs := func() map[string]string {
			return mariaRows(t, "SELECT CONCAT('{a=',a,',b=',b,'}'), v FROM "+db+".pairs")
		}
		gotPairs := func() map[string]string { return mongoRows(t, c, target, "pairs", "v") }
		waitEqualRows(t, p, "items after the snapshot", wantItems, gotItems)

		mustExec(t, shared, "USE "+db,
			"INSERT INTO items VALUES (4,'four',4,4.75,'z')",
			"UPDATE items SET qty = qty * 10, note = NULL WHERE id <= 2",
			"DELETE FROM items WHERE id = 3",
			"UPDATE items SET id = 40 WHERE id = 4",
			"UPDATE pairs SET v = v + 1 WHERE a = 1",
			"DELETE FROM pairs WHERE a = 2",
			"INSERT INTO pairs VALUES (3,'c',30)")
		waitEqualRows(t, p, "items", wantItems, gotItems)
		p.kill(t)
		mustExec(t, shared, "USE "+db, "INSERT INTO items VALUES (5,'five',5,5.00,NULL)", "UPDATE pairs SET v = 0")
		p = e.start()
		waitEqualRows(t, p, "items after SIGKILL", wantItems, gotItems)
		waitEqualRows(t, p, "pairs", wantPairs, gotPairs)
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
	})
}

// TestMongoToMongo: the MongoDB source into the mongodb sink copies every
// BSON type exactly (raw documents, not a JSON detour).
func TestMongoToMongo(t *testing.T) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) {
		ctx := testContext(t, 3*time.Minute)
		db := mongoTestDB(t)
		target := db + "_copy"
		c := mongoClient(t, srv.uri)
		src := c.Database(db).Collection("docs")
		seedMongo(t, src, 50)
		e := newMongoEnv(t, mongoEnvOptions{uri: srv.uri, tables: `["` + db + `.*"]`, snapshot: "initial",
			sinks: fmt.Sprintf("      - type: mongodb\n        url: %s\n        database: %s\n", srv.uri, target)})
		p := e.start()
		waitMongoStarted(t, p)
		if _, err := src.InsertOne(ctx, bson.D{{Key: "_id", Value: "types"}, {Key: "d", Value: bson.NewDecimal128(0x3040000000000000, 12345)},
			{Key: "bin", Value: bson.Binary{Subtype: 4, Data: make([]byte, 16)}}, {Key: "ts", Value: bson.Timestamp{T: 1, I: 2}},
			{Key: "min", Value: bson.MinKey{}}, {Key: "re", Value: bson.Regex{Pattern: "^a", Options: "i"}}, {Key: "old", Value: bson.DateTime(-86400000)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := src.UpdateOne(ctx, bson.D{{Key: "_id", Value: mixedID(1)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "v", Value: -1}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := src.DeleteOne(ctx, bson.D{{Key: "_id", Value: mixedID(2)}}); err != nil {
			t.Fatal(err)
		}
		want := func() map[string]string { return mongoDocs(t, c, db, "docs") }
		got := func() map[string]string { return mongoDocs(t, c, target, "docs") }
		waitEqualRows(t, p, "copied documents", want, got)
		if code := p.stop(t); code != 0 {
			t.Fatalf("exit %d\n%s", code, p.logs())
		}
	})
}
