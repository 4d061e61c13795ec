package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/mongosim"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// mongoServer is a MongoDB the scenario runs against: the simulator, or a
// real mongod when MONGO_TEST_URI is set.
type mongoServer struct {
	uri string
	sim *mongosim.Sim // nil for a real server
}

// mongoServers lists the servers a scenario runs against: always the
// simulator, and a real mongod when MONGO_TEST_URI names one (reported as
// a skipped subtest otherwise).
func forEachMongo(t *testing.T, scenario func(t *testing.T, srv mongoServer)) {
	t.Run("mongosim", func(t *testing.T) {
		sim, err := mongosim.Start(testContext(t, 10*time.Minute), mongosim.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sim.Close() })
		scenario(t, mongoServer{uri: sim.URI(), sim: sim})
	})
	t.Run("mongod", func(t *testing.T) {
		uri := os.Getenv("MONGO_TEST_URI")
		if uri == "" {
			t.Skip("MONGO_TEST_URI is not set: no real mongod to run against (see README, MongoDB)")
		}
		scenario(t, mongoServer{uri: uri})
	})
}

func mongoClient(t *testing.T, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// mongoTestDB names a database for the test, unique on a shared mongod.
func mongoTestDB(t *testing.T) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	return fmt.Sprintf("it_%s_%d", name, time.Now().UnixNano()%1_000_000)
}

type mongoEnvOptions struct {
	uri      string
	tables   string // YAML list
	snapshot string
	source   string // more source keys, indented 6 spaces
	sinks    string // the sinks list; default: the file sink
}

func newMongoEnv(t *testing.T, o mongoEnvOptions) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "siphon.yaml"), output: filepath.Join(dir, "events.jsonl")}
	if o.snapshot == "" {
		o.snapshot = "never"
	}
	if o.sinks == "" {
		o.sinks = "      - type: file\n        path: events.jsonl\n        schemas: false\n"
	}
	cfg := fmt.Sprintf(`state_dir: ./state
log:
  level: debug
pipelines:
  - name: test
    source:
      type: mongodb
      url: %s
      tables: %s
      snapshot: %s
      topic_prefix: it
      tombstones_on_delete: true
%s    sinks:
%s`, o.uri, o.tables, o.snapshot, o.source, o.sinks)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// waitMongoStarted waits until siphon has opened its change stream.
func waitMongoStarted(t *testing.T, p *proc) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.logs(), "starting at the change stream's end") && !strings.Contains(p.logs(), "resuming change stream") {
		if p.exited() {
			t.Fatalf("siphon exited early:\n%s", p.logs())
		}
		if time.Now().After(deadline) {
			t.Fatalf("siphon did not start within a minute:\n%s", p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mongoEvent is a MongoDB envelope as the tests read it.
type mongoEvent struct {
	Before            *string `json:"before"`
	After             *string `json:"after"`
	UpdateDescription *struct {
		RemovedFields   []string `json:"removedFields"`
		UpdatedFields   *string  `json:"updatedFields"`
		TruncatedArrays []struct {
			Field string `json:"field"`
			Size  int    `json:"size"`
		} `json:"truncatedArrays"`
	} `json:"updateDescription"`
	Source struct {
		Snapshot   string  `json:"snapshot"`
		DB         string  `json:"db"`
		Collection string  `json:"collection"`
		Ord        int     `json:"ord"`
		Lsid       *string `json:"lsid"`
		TxnNumber  *int64  `json:"txnNumber"`
	} `json:"source"`
	Op string `json:"op"`
}

func (r record) mongo(t *testing.T) (mongoEvent, string, bool) {
	t.Helper()
	var key struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Key, &key); err != nil {
		t.Fatalf("key: %v: %s", err, r.Key)
	}
	if string(r.Value) == "null" {
		return mongoEvent{}, key.ID, false
	}
	var ev mongoEvent
	if err := json.Unmarshal(r.Value, &ev); err != nil {
		t.Fatalf("value: %v: %s", err, r.Value)
	}
	return ev, key.ID, true
}

// mongoState replays the records of a topic into the final documents by
// key, as a consumer would: r/c/u set the after image, d removes it.
func mongoState(t *testing.T, rs []record, topic string) map[string]string {
	t.Helper()
	state := map[string]string{}
	for _, r := range rs {
		if r.Topic != topic {
			continue
		}
		ev, key, ok := r.mongo(t)
		if !ok {
			continue
		}
		switch ev.Op {
		case "d":
			delete(state, key)
		default:
			if ev.After != nil {
				state[key] = *ev.After
			}
		}
	}
	return state
}

// mongoDocs renders a collection's documents as the events' after images,
// by key.
func mongoDocs(t *testing.T, c *mongo.Client, db, coll string) map[string]string {
	t.Helper()
	cur, err := c.Database(db).Collection(coll).Find(testContext(t, time.Minute), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for cur.Next(context.Background()) {
		doc := cur.Current
		after, ok := debezium.AppendExtJSON(nil, doc, debezium.ExtJSONStrict)
		if !ok {
			t.Fatalf("bad document %v", doc)
		}
		out[mongoKey(t, doc.Lookup("_id"))] = string(after)
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// mongoKey is the key id of an _id value (relaxed Extended JSON).
func mongoKey(t *testing.T, id bson.RawValue) string {
	t.Helper()
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: id}})
	if err != nil {
		t.Fatal(err)
	}
	wrapped, ok := debezium.AppendExtJSON(nil, doc, debezium.ExtJSONRelaxed)
	if !ok {
		t.Fatal("bad _id")
	}
	return string(wrapped[len(`{"_id": `) : len(wrapped)-1])
}

// waitMongoState polls the output until the topic's replayed state equals want.
func waitMongoState(t *testing.T, e *env, p *proc, topic string, want map[string]string) {
	t.Helper()
	var got map[string]string
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got = mongoState(t, e.records(), topic)
		if equalStringMaps(got, want) {
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("siphon exited early (%v):\n%s", p.err, p.logs())
		}
		if time.Now().After(deadline) {
			missing, wrong, extra := 0, 0, 0
			for k, v := range want {
				if g, ok := got[k]; !ok {
					missing++
				} else if g != v {
					wrong++
					if wrong < 3 {
						t.Logf("key %s: got %s, want %s", k, g, v)
					}
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					extra++
				}
			}
			t.Fatalf("%s: final state differs: %d documents missing, %d differ, %d extra (want %d)", topic, missing, wrong, extra, len(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func equalStringMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// startFerretDB runs the embedded FerretDB (integration/ferretdb, built by
// `make ferretdb`, found through FERRETDB_BIN) for the test and returns
// its URI; the test is skipped, and says why, when it is not built.
func startFerretDB(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("FERRETDB_BIN")
	if bin == "" {
		t.Skip("FERRETDB_BIN is not set: `make test` builds integration/ferretdb and sets it")
	}
	cmd := exec.Command(bin, "-dir", t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &lockedWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ferretdb stderr:\n%s", stderr.String())
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("ferretdb did not start: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(line)
}

// forEachMongoTarget runs a scenario that needs no change streams on the
// target — the simulator, embedded FerretDB and a real mongod when
// MONGO_TEST_URI is set.
func forEachMongoTarget(t *testing.T, scenario func(t *testing.T, uri string)) {
	forEachMongo(t, func(t *testing.T, srv mongoServer) { scenario(t, srv.uri) })
	t.Run("ferretdb", func(t *testing.T) { scenario(t, startFerretDB(t)) })
}

// startSim starts a simulator for one test.
func startSim(t *testing.T) *mongosim.Sim {
	t.Helper()
	sim, err := mongosim.Start(testContext(t, 10*time.Minute), mongosim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	return sim
}
