package mongosim

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func serverCode(err error) int32 {
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return ce.Code
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, c := range []int32{43, 47, 112, 251, 260, 286, 11000} {
			if se.HasErrorCode(int(c)) {
				return c
			}
		}
	}
	return 0
}

func TestHistoryLost(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("h").Collection("c")
	cs, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}})
	first := nextEvents(ctx, t, cs, 1)[0]
	token := first.Lookup("_id").Document()
	_ = cs.Close(ctx)

	// A second stream that stays open but falls behind.
	behind, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetResumeAfter(token))
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close(ctx)
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "_id", Value: 3}})
	if n := sim.TruncateHistory(sim.ClusterTime()); n != 3 {
		t.Fatalf("TruncateHistory removed %d events, want 3", n)
	}

	_, err = coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetResumeAfter(token))
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(286) {
		t.Fatalf("resume after truncation: err = %v, want ChangeStreamHistoryLost (286)", err)
	}
	if se.HasErrorLabel("ResumableChangeStreamError") {
		t.Errorf("286 must not be labelled resumable")
	}
	old := first.Lookup("clusterTime").Timestamp
	tT, tI := old()
	_, err = coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetStartAtOperationTime(&bson.Timestamp{T: tT, I: tI}))
	if serverCode(err) != 286 {
		t.Fatalf("startAtOperationTime before history: err = %v, want 286", err)
	}
	if behind.Next(ctx) {
		t.Fatalf("a stream behind the truncation delivered %s", behind.Current)
	}
	if serverCode(behind.Err()) != 286 {
		t.Fatalf("open stream behind the truncation: err = %v, want 286", behind.Err())
	}
	// A fresh stream works.
	fresh, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close(ctx)
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 4}})
	if id := nextEvents(ctx, t, fresh, 1)[0].Lookup("documentKey", "_id").Int32(); id != 4 {
		t.Errorf("fresh stream event _id = %d", id)
	}
}

// collectIDs reads n insert events and returns their documentKey._id values.
func collectIDs(ctx context.Context, t *testing.T, cs *mongo.ChangeStream, n int) []int32 {
	t.Helper()
	var out []int32
	for _, ev := range nextEvents(ctx, t, cs, n) {
		out = append(out, ev.Lookup("documentKey", "_id").Int32())
	}
	return out
}

func seq(from, to int32) []int32 {
	var out []int32
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func TestCursorNotFound(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("cnf").Collection("c")
	for i := range 10 {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: int32(i)}})
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(2))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	cur.Next(ctx)
	cur.Next(ctx)
	sim.KillAllCursors()
	if cur.Next(ctx) {
		t.Fatalf("getMore on a killed cursor returned %s", cur.Current)
	}
	if serverCode(cur.Err()) != 43 {
		t.Fatalf("err = %v, want CursorNotFound (43)", cur.Err())
	}

	// A change stream resumes by itself after CursorNotFound, without loss or repetition.
	cs, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	for i := int32(100); i < 103; i++ {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: i}})
	}
	got := collectIDs(ctx, t, cs, 2)
	sim.KillAllCursors()
	for i := int32(103); i < 106; i++ {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: i}})
	}
	got = append(got, collectIDs(ctx, t, cs, 4)...)
	if diff := cmp.Diff(seq(100, 105), got); diff != "" {
		t.Errorf("events across CursorNotFound (-want +got):\n%s", diff)
	}
	// The same through an injected error, as failCommand would return it.
	sim.FailCommand(FailPoint{Commands: []string{"getMore"}, ErrorCode: 43})
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: int32(106)}})
	if diff := cmp.Diff([]int32{106}, collectIDs(ctx, t, cs, 1)); diff != "" {
		t.Errorf("event after injected CursorNotFound (-want +got):\n%s", diff)
	}
}

// TestDroppedConnectionResume drops the connection of a getMore after it consumed events (the
// reply is lost) and while one is waiting; the driver resumes with its last token and every event
// arrives exactly once.
func TestDroppedConnectionResume(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("drop").Collection("c")
	cs, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetMaxAwaitTime(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	for i := int32(1); i <= 3; i++ {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: i}})
	}
	got := collectIDs(ctx, t, cs, 3)

	sim.FailCommand(FailPoint{Commands: []string{"getMore"}, CloseConnection: true, AfterExecute: true})
	for i := int32(4); i <= 6; i++ {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: i}})
	}
	got = append(got, collectIDs(ctx, t, cs, 3)...)

	// Drop the connection in the middle of a getMore that is waiting for events (failCommand's
	// blockConnection + closeConnection); the events written meanwhile reach the resumed stream.
	sim.FailCommand(FailPoint{Commands: []string{"getMore"}, BlockFor: 300 * time.Millisecond, CloseConnection: true})
	for i := int32(7); i <= 9; i++ {
		mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: i}})
	}
	got = append(got, collectIDs(ctx, t, cs, 3)...)
	if err := cs.Err(); err != nil {
		t.Fatalf("stream error: %v", err)
	}
	if diff := cmp.Diff(seq(1, 9), got); diff != "" {
		t.Errorf("events across dropped connections (-want +got):\n%s", diff)
	}
}

func TestRetryableWriteAfterLostReply(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("retry").Collection("c")
	sim.FailCommand(FailPoint{Commands: []string{"insert"}, CloseConnection: true, AfterExecute: true})
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatalf("retryable insert: %v", err)
	}
	inserts := 0
	for _, e := range sim.ChangeLog() {
		if e.OperationType == "insert" {
			inserts++
		}
	}
	if inserts != 1 || len(sim.Documents("retry", "c")) != 1 {
		t.Errorf("insert retried after a lost reply wrote %d events, %d documents; want 1 and 1", inserts, len(sim.Documents("retry", "c")))
	}
}

func TestInvalidate(t *testing.T) {
	_, client := startSim(t)
	ctx := testCtx(t)
	db := client.Database("inv")
	coll := db.Collection("c")
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 0}})

	collStream, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	dbStream, err := db.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}})
	if err := coll.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	evs := nextEvents(ctx, t, collStream, 3)
	if diff := cmp.Diff([]string{"insert", "drop", "invalidate"}, opTypes(evs)); diff != "" {
		t.Fatalf("collection stream (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"_id", "operationType", "clusterTime", "wallTime"}, keys(evs[2])); diff != "" {
		t.Errorf("invalidate fields (-want +got):\n%s", diff)
	}
	if collStream.Next(ctx) || collStream.Err() != nil || collStream.ID() != 0 {
		t.Fatalf("after invalidate: next delivered, err = %v, id = %d; want a closed stream", collStream.Err(), collStream.ID())
	}
	invToken := evs[2].Lookup("_id").Document()

	_, err = coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetResumeAfter(invToken))
	if serverCode(err) != 260 {
		t.Fatalf("resumeAfter an invalidate: err = %v, want InvalidResumeToken (260)", err)
	}
	after, err := coll.Watch(ctx, mongo.Pipeline{}, options.ChangeStream().SetStartAfter(invToken))
	if err != nil {
		t.Fatal(err)
	}
	defer after.Close(ctx)
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 2}})
	if ev := nextEvents(ctx, t, after, 1)[0]; ev.Lookup("documentKey", "_id").Int32() != 2 {
		t.Errorf("startAfter invalidate: first event %s", ev)
	}

	// rename invalidates a collection stream, with "to" ahead of _id.
	renamed, err := coll.Watch(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "renameCollection", Value: "inv.c"}, {Key: "to", Value: "inv.d"}}).Err(); err != nil {
		t.Fatal(err)
	}
	evs = nextEvents(ctx, t, renamed, 2)
	if diff := cmp.Diff([]string{"rename", "invalidate"}, opTypes(evs)); diff != "" {
		t.Fatalf("rename stream (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"to", "_id", "operationType", "clusterTime", "wallTime", "ns"}, keys(evs[0])); diff != "" {
		t.Errorf("rename fields (-want +got):\n%s", diff)
	}

	// A database stream sees drop and rename, and is invalidated by dropDatabase only.
	if err := db.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	// The database stream also sees the insert into the re-created collection and the rename.
	evs = nextEvents(ctx, t, dbStream, 7)
	want := []string{"insert", "drop", "insert", "rename", "drop", "dropDatabase", "invalidate"}
	if diff := cmp.Diff(want, opTypes(evs)); diff != "" {
		t.Errorf("database stream (-want +got):\n%s", diff)
	}
	if dbStream.Next(ctx) || dbStream.ID() != 0 {
		t.Errorf("database stream still open after dropDatabase")
	}
	if ns := evs[len(evs)-2].Lookup("ns"); ns.Document().Lookup("coll").Type != 0 {
		t.Errorf("dropDatabase ns = %s, want only db", ns)
	}
}

func TestSlowRepliesAndConfigureFailPoint(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	sim.SetReplyDelay(150 * time.Millisecond)
	start := time.Now()
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("ping took %v with a 150ms reply delay", d)
	}
	sim.SetReplyDelay(0)

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	sim.FailCommand(FailPoint{Commands: []string{"find"}, BlockFor: time.Second})
	err := client.Database("slow").Collection("c").FindOne(short, bson.D{}).Err()
	if !errors.Is(err, context.DeadlineExceeded) && !mongo.IsTimeout(err) {
		t.Errorf("find against a blocked server: err = %v, want a timeout", err)
	}

	cmd := bson.D{
		{Key: "configureFailPoint", Value: "failCommand"},
		{Key: "mode", Value: bson.D{{Key: "times", Value: 1}}},
		{Key: "data", Value: bson.D{{Key: "failCommands", Value: bson.A{"insert"}}, {Key: "errorCode", Value: 2}}},
	}
	if err := client.Database("admin").RunCommand(ctx, cmd).Err(); err != nil {
		t.Fatal(err)
	}
	_, err = client.Database("slow").Collection("c").InsertOne(ctx, bson.D{{Key: "_id", Value: 2}})
	var se mongo.ServerError
	if !errors.As(err, &se) || !se.HasErrorCode(2) {
		t.Fatalf("err = %v, want the injected BadValue (2)", err)
	}
}

// TestStandaloneCommand runs cmd/mongosim, connects to the URI it prints and stops it with
// SIGTERM.
func TestStandaloneCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	ctx := testCtx(t)
	bin := filepath.Join(t.TempDir(), "mongosim")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/mongosim")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.CommandContext(ctx, bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the URI: %v", err)
	}
	uri := strings.TrimSpace(line)
	if !strings.HasPrefix(uri, "mongodb://127.0.0.1:") || !strings.HasSuffix(uri, "/?replicaSet=rs0") {
		t.Fatalf("printed URI %q", uri)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Database("demo").Collection("c").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	_ = client.Disconnect(ctx)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mongosim exited with %v after SIGTERM", err)
	}
}

// TestDropAllConnections is a server restart as the client sees it: every connection, the
// monitor's included, breaks at once; the client reconnects and carries on.
func TestDropAllConnections(t *testing.T) {
	sim, client := startSim(t)
	ctx := testCtx(t)
	coll := client.Database("restart").Collection("c")
	mustInsert(ctx, t, coll, bson.D{{Key: "_id", Value: 1}})
	sim.DropConnections()
	deadline := time.Now().Add(10 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}}); err == nil || serverCode(err) == 11000 {
			break
		}
	}
	if err != nil && serverCode(err) != 11000 {
		t.Fatalf("no successful write after dropping every connection: %v", err)
	}
	if n := len(sim.Documents("restart", "c")); n != 2 {
		t.Errorf("documents = %d, want 2", n)
	}
}
