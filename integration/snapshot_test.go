package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// snapshotEnv is an env whose pipeline takes snapshots.
func snapshotEnv(t *testing.T, m *harness.MariaDB, tables, mode string, chunkRows, parallelism int, extraSource string) *env {
	e := newEnv(t, envOptions{db: m, tables: tables, schemas: false})
	replaceInConfig(t, e, "      snapshot: never\n", fmt.Sprintf("      snapshot: %s\n      snapshot_chunk_rows: %d\n      snapshot_parallelism: %d\n%s", mode, chunkRows, parallelism, extraSource))
	return e
}

func waitLog(t *testing.T, p *proc, s string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !strings.Contains(p.logs(), s) {
		if p.exited() {
			t.Fatalf("siphon exited before logging %q:\n%s", s, p.logs())
		}
		if time.Now().After(deadline) {
			t.Fatalf("siphon did not log %q within %s:\n%s", s, d, p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// consumer applies events by key, as a downstream table would.
type consumer struct {
	rows map[string]map[string]string // topic → key JSON → after JSON
}

func newConsumer() *consumer { return &consumer{rows: map[string]map[string]string{}} }

func (c *consumer) apply(t *testing.T, rs []record) {
	t.Helper()
	for _, r := range rs {
		if string(r.Value) == "null" {
			continue // tombstone
		}
		var v struct {
			Op     string          `json:"op"`
			Before json.RawMessage `json:"before"`
			After  json.RawMessage `json:"after"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if c.rows[r.Topic] == nil {
			c.rows[r.Topic] = map[string]string{}
		}
		key := string(r.Key)
		if key == "null" {
			key = string(v.After) // keyless: the row is its own identity
			if v.Op == "d" {
				delete(c.rows[r.Topic], string(v.Before))
				continue
			}
			if v.Op == "u" {
				delete(c.rows[r.Topic], string(v.Before))
			}
		}
		switch v.Op {
		case "d":
			delete(c.rows[r.Topic], key)
		default:
			c.rows[r.Topic][key] = string(v.After)
		}
	}
}

// kvState reads table kv(k, v, pad) as the consumer holds it: k → v.
func (c *consumer) kvState(t *testing.T, topic string) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, after := range c.rows[topic] {
		var row struct {
			K int `json:"k"`
			V int `json:"v"`
		}
		if err := json.Unmarshal([]byte(after), &row); err != nil {
			t.Fatal(err)
		}
		out[row.K] = row.V
	}
	return out
}

func dbKV(t *testing.T, m *harness.MariaDB, db string) map[int]int {
	t.Helper()
	rows, err := m.Query(testContext(t, time.Minute), "SELECT k, v FROM "+db+".kv")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int{}
	for _, r := range rows {
		var k, v int
		fmt.Sscan(r[0], &k)
		fmt.Sscan(r[1], &v)
		out[k] = v
	}
	return out
}

func sameKV(a, b map[int]int) (string, bool) {
	if len(a) != len(b) {
		return fmt.Sprintf("%d rows vs %d", len(a), len(b)), false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return fmt.Sprintf("key %d: %d vs %d (present %v)", k, v, w, ok), false
		}
	}
	return "", true
}

// snapshotReads returns, per topic, the keys of the r events.
func snapshotReads(t *testing.T, rs []record) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, r := range rs {
		if string(r.Value) == "null" {
			continue
		}
		var v struct {
			Op     string          `json:"op"`
			After  json.RawMessage `json:"after"`
			Source struct {
				Snapshot string `json:"snapshot"`
			} `json:"source"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatal(err)
		}
		if v.Op != "r" {
			continue
		}
		key := string(r.Key)
		if key == "null" {
			key = string(v.After)
		}
		out[r.Topic] = append(out[r.Topic], key)
	}
	return out
}

// TestSnapshotEveryKeyType snapshots tables keyed by composite, case-
// insensitive string, negative integer, binary and UUID keys, one with only
// a unique key and one with no key: every row comes exactly once as r.
func TestSnapshotEveryKeyType(t *testing.T) {
	db := newDatabase(t, shared)
	q := func(stmts ...string) { mustExec(t, shared, append([]string{"USE " + db}, stmts...)...) }
	q("CREATE TABLE composite (a INT, b VARCHAR(10), v INT, PRIMARY KEY (a, b))",
		"CREATE TABLE ci_string (s VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, v INT)",
		"CREATE TABLE negative (id BIGINT PRIMARY KEY, v INT)",
		"CREATE TABLE bin (id VARBINARY(16) PRIMARY KEY, v INT)",
		"CREATE TABLE uuid_char (id CHAR(36) PRIMARY KEY, v INT)",
		"CREATE TABLE uuid_bin (id BINARY(16) PRIMARY KEY, v INT)",
		"CREATE TABLE dates (d DATETIME(3) PRIMARY KEY, v INT)",
		"CREATE TABLE unique_only (u INT NOT NULL, v INT, UNIQUE KEY (u))",
		"CREATE TABLE keyless (a INT, b VARCHAR(10))",
		"CREATE TABLE empty_table (id INT PRIMARY KEY)",
	)
	want := map[string]int{}
	for i := 0; i < 97; i++ {
		q(fmt.Sprintf("INSERT INTO composite VALUES (%d, '%c%d', %d)", i%7-3, 'a'+rune(i%5), i, i),
			fmt.Sprintf("INSERT INTO ci_string VALUES ('%s%03d', %d)", []string{"a", "B", "c", "D", "é", "Z"}[i%6], i, i),
			fmt.Sprintf("INSERT INTO negative VALUES (%d, %d)", (i-48)*1000003, i),
			fmt.Sprintf("INSERT INTO bin VALUES (UNHEX(LEFT(SHA2('%d', 256), 32)), %d)", i, i),
			fmt.Sprintf("INSERT INTO uuid_char VALUES (UUID(), %d)", i),
			fmt.Sprintf("INSERT INTO uuid_bin VALUES (UNHEX(REPLACE(UUID(), '-', '')), %d)", i),
			fmt.Sprintf("INSERT INTO dates VALUES ('2020-01-01' + INTERVAL %d SECOND + INTERVAL %d MICROSECOND, %d)", i*3600, i*1000, i),
			fmt.Sprintf("INSERT INTO unique_only VALUES (%d, %d)", 1000-i*7, i),
			fmt.Sprintf("INSERT INTO keyless VALUES (%d, 'x%d')", i, i),
		)
	}
	for _, tb := range []string{"composite", "ci_string", "negative", "bin", "uuid_char", "uuid_bin", "dates", "unique_only", "keyless"} {
		want["it."+db+"."+tb] = 97
	}
	e := snapshotEnv(t, shared, `["`+db+`.*"]`, "initial", 10, 3, "")
	p := e.start()
	waitLog(t, p, "snapshot finished", 2*time.Minute)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	rs := e.records()
	reads := snapshotReads(t, rs)
	for topic, n := range want {
		keys := reads[topic]
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("%s: key %s read twice", topic, k)
			}
			seen[k] = true
		}
		if len(keys) != n {
			t.Errorf("%s: %d rows read, want %d", topic, len(keys), n)
		}
	}
	if n := len(reads["it."+db+".empty_table"]); n != 0 {
		t.Errorf("empty table: %d rows", n)
	}
	checkSnapshotMarkers(t, rs)
	if !strings.Contains(p.logs(), "has no primary key and no unique NOT NULL key") {
		t.Errorf("the keyless fallback was not logged")
	}
}

// checkSnapshotMarkers: first once, last once at the end, and per table
// one first_in_data_collection/last_in_data_collection at most.
func checkSnapshotMarkers(t *testing.T, rs []record) {
	t.Helper()
	var marks []string
	for _, r := range rs {
		if string(r.Value) == "null" {
			continue
		}
		var v struct {
			Op     string `json:"op"`
			Source struct {
				Snapshot string `json:"snapshot"`
			} `json:"source"`
		}
		_ = json.Unmarshal(r.Value, &v)
		if v.Op == "r" {
			marks = append(marks, v.Source.Snapshot)
		}
	}
	if len(marks) == 0 {
		t.Fatal("no snapshot events")
	}
	count := map[string]int{}
	for _, m := range marks {
		count[m]++
	}
	if marks[0] != "first" || count["first"] != 1 {
		t.Errorf("first marker: %q, %d firsts", marks[0], count["first"])
	}
	if marks[len(marks)-1] != "last" || count["last"] != 1 {
		t.Errorf("last marker: %q, %d lasts", marks[len(marks)-1], count["last"])
	}
	t.Logf("snapshot markers: %v", count)
}

// TestSnapshotUnderWritesIsExact snapshots tables while a writer inserts,
// updates and deletes them: applying every event by key gives exactly the
// final rows.
func TestSnapshotUnderWritesIsExact(t *testing.T) {
	db := newDatabase(t, shared)
	w := newWorkload(db, 2000, 10)
	w.createTable(t, shared)
	mustExec(t, shared, "USE "+db, "INSERT INTO kv (k, v, pad) SELECT seq, 1, 'seed' FROM seq_1_to_1500")
	for k := 1; k <= 1500; k++ {
		w.current[k], w.next[k] = 1, 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.run(ctx, shared, 11) }()
	waitFor(t, func() bool {
		select {
		case err := <-werr:
			t.Fatalf("workload: %v", err)
		default:
		}
		return w.total() > 200
	})

	e := snapshotEnv(t, shared, `["`+db+`.*"]`, "initial", 50, 3, "")
	p := e.start()
	waitLog(t, p, "snapshot finished", 3*time.Minute)
	cancel()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	final := dbKV(t, shared, db)
	topic := "it." + db + ".kv"
	var last string
	deadline := time.Now().Add(time.Minute)
	for {
		c := newConsumer()
		c.apply(t, e.records())
		diff, ok := sameKV(c.kvState(t, topic), final)
		if ok {
			break
		}
		last = diff
		if time.Now().After(deadline) {
			t.Fatalf("consumer never matched the source: %s", last)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	reads := snapshotReads(t, e.records())
	t.Logf("%d rows read by the snapshot while %d changes were committed", len(reads[topic]), w.total())
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSnapshotKill9ResumesAtTheLastChunk kills siphon during a snapshot
// several times while a writer keeps changing the table, restarts it, and
// checks that each restart re-reads at most the two chunks per key range
// in flight, that finished tables are not read again, and that the result is
// still exactly the source's rows.
func TestSnapshotKill9ResumesAtTheLastChunk(t *testing.T) {
	const chunk = 100
	db := newDatabase(t, shared)
	w := newWorkload(db, 70000, 5)
	w.createTable(t, shared)
	mustExec(t, shared, "USE "+db,
		"INSERT INTO kv (k, v, pad) SELECT seq, 1, REPEAT('s', 100) FROM seq_1_to_60000",
		"CREATE TABLE small (a INT, b VARCHAR(8), PRIMARY KEY (a, b))",
		"INSERT INTO small SELECT seq, CONCAT('b', seq % 3) FROM seq_1_to_300",
		"ANALYZE TABLE kv")
	for k := 1; k <= 60000; k++ {
		w.current[k], w.next[k] = 1, 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.run(ctx, shared, 5) }()

	e := snapshotEnv(t, shared, `["`+db+`.*"]`, "initial", chunk, 2, "")
	p := e.start()
	kvTopic, smallTopic := "it."+db+".kv", "it."+db+".small"
	reread := 0
	// checkRestart counts what the run started after a kill read again. It
	// runs once that run was killed or finished, so that decoding the whole
	// output never lets a fast snapshot run on past the next kill point.
	checkRestart := func(kill, start, ranges int, records []record) {
		seen := map[string]bool{}
		for _, k := range snapshotReads(t, records[:start])[kvTopic] {
			seen[k] = true
		}
		again := 0
		for _, k := range snapshotReads(t, records[start:])[kvTopic] {
			if seen[k] {
				again++
			}
		}
		// A range reads its next chunk while the one before awaits the
		// sinks: at most two chunks per range are not checkpointed.
		if again > 2*ranges*chunk {
			t.Fatalf("kill %d: the restart read %d kv rows again; at most %d (two chunks of %d per each of %d ranges) may be",
				kill, again, 2*ranges*chunk, chunk, ranges)
		}
		t.Logf("kill %d: %d ranges in flight, %d rows read again", kill, ranges, again)
		reread += again
	}
	e.waitReads(p, kvTopic, 0, 2000)
	lastStart, lastRanges := -1, 0
	for kill := 0; kill < 3; kill++ {
		if strings.Contains(p.logs(), "snapshot finished") {
			t.Fatalf("the snapshot finished before kill %d: make the table larger", kill)
		}
		p.kill(t)
		before := e.records()
		if lastStart >= 0 {
			checkRestart(kill-1, lastStart, lastRanges, before)
		}
		lastStart, lastRanges = len(before), e.storedSnapshotRanges(kvTopic[3:])
		p = e.start()
		// Let the restarted run read on past what it may read again.
		e.waitReads(p, kvTopic, len(before), 3*chunk*max(lastRanges, 1))
	}
	waitLog(t, p, "snapshot finished", 3*time.Minute)
	checkRestart(2, lastStart, lastRanges, e.records())
	cancel()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	final := dbKV(t, shared, db)
	deadline := time.Now().Add(time.Minute)
	for {
		c := newConsumer()
		c.apply(t, e.records())
		diff, ok := sameKV(c.kvState(t, kvTopic), final)
		if ok && len(c.rows[smallTopic]) == 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer never matched the source: %s; small has %d rows", diff, len(c.rows[smallTopic]))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	reads := snapshotReads(t, e.records())
	if n := len(reads[smallTopic]); n != 300 {
		t.Errorf("the finished small table was read %d times for 300 rows", n)
	}
	t.Logf("3 kills during the snapshot; %d kv rows read in all for 60000 (%d read again), %d changes committed meanwhile",
		len(reads[kvTopic]), reread, w.total())
}

// waitReads waits until the output, from line skip on, holds n snapshot
// reads of topic (or the snapshot finished). It reads only what was
// appended since its last look and counts lines without decoding them, so
// that it keeps up with a fast snapshot.
func (e *env) waitReads(p *proc, topic string, skip, n int) {
	e.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	needle := []byte(`"topic":"` + topic + `"`)
	var offset int64
	var partial []byte
	line, got := 0, 0
	for {
		if f, err := os.Open(e.output); err == nil {
			data, _ := io.ReadAll(io.NewSectionReader(f, offset, 1<<40))
			f.Close()
			offset += int64(len(data))
			data = append(partial, data...)
			for {
				i := bytes.IndexByte(data, '\n')
				if i < 0 {
					break
				}
				if l := data[:i]; line >= skip && bytes.Contains(l, needle) && bytes.Contains(l, []byte(`"op":"r"`)) {
					got++
				}
				line++
				data = data[i+1:]
			}
			partial = append(partial[:0:0], data...)
		}
		if got >= n || strings.Contains(p.logs(), "snapshot finished") {
			return
		}
		if p.exited() {
			e.t.Fatalf("siphon exited:\n%s", p.logs())
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("%d of %d reads of %s after 2 minutes", got, n, topic)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// storedSnapshotRanges reads, from `siphon offsets show`, how many key
// ranges the stored snapshot state has for a table (db.table).
func (e *env) storedSnapshotRanges(table string) int {
	e.t.Helper()
	out, errOut, code := e.siphonCmd("offsets", "show", "--config", e.config)
	if code != 0 {
		e.t.Fatalf("offsets show: exit %d: %s", code, errOut)
	}
	var shown struct {
		Pipelines []struct {
			Offset *struct {
				Snapshot *struct {
					Tables []struct {
						Table  string            `json:"table"`
						Ranges []json.RawMessage `json:"ranges"`
					} `json:"tables"`
				} `json:"snapshot"`
			} `json:"offset"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		e.t.Fatal(err)
	}
	for _, p := range shown.Pipelines {
		if p.Offset == nil || p.Offset.Snapshot == nil {
			continue
		}
		for _, t := range p.Offset.Snapshot.Tables {
			if t.Table == table {
				return len(t.Ranges)
			}
		}
	}
	return 1
}

// TestIncrementalSnapshotBySignal starts an incremental snapshot with a
// Debezium execute-snapshot signal while a writer keeps writing: stream
// events keep flowing between the snapshot's chunks, and the result is
// exact.
func TestIncrementalSnapshotBySignal(t *testing.T) {
	db := newDatabase(t, shared)
	w := newWorkload(db, 8000, 5)
	w.createTable(t, shared)
	mustExec(t, shared, "USE "+db,
		"INSERT INTO kv (k, v, pad) SELECT seq, 1, 'seed' FROM seq_1_to_6000",
		"CREATE TABLE debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data VARCHAR(2048) NULL)")
	for k := 1; k <= 6000; k++ {
		w.current[k], w.next[k] = 1, 1
	}
	e := snapshotEnv(t, shared, `["`+db+`.*"]`, "never", 100, 2, "      signal_table: "+db+".debezium_signal\n")
	p := e.start()
	waitStarted(t, e, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.run(ctx, shared, 3) }()
	waitFor(t, func() bool { return w.total() > 300 })
	mustExec(t, shared, fmt.Sprintf(`INSERT INTO %s.debezium_signal VALUES ('ad-hoc-1', 'execute-snapshot', '{"data-collections": ["%s.kv"], "type": "incremental"}')`, db, db))
	waitLog(t, p, "snapshot finished", 3*time.Minute)
	cancel()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	topic := "it." + db + ".kv"
	final := dbKV(t, shared, db)
	deadline := time.Now().Add(time.Minute)
	for {
		c := newConsumer()
		c.apply(t, e.records())
		diff, ok := sameKV(c.kvState(t, topic), final)
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer never matched the source: %s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Streaming went on during the snapshot: change events sit between
	// its first and last read.
	rs := e.records()
	first, last, between := -1, -1, 0
	for i, r := range rs {
		env, ok := r.payload(t)
		if !ok || env.Source.Table != "kv" {
			continue
		}
		if env.Op == "r" {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	marks := map[string]int{}
	for i := first; i <= last && first >= 0; i++ {
		var v struct {
			Op     string `json:"op"`
			Source struct {
				Snapshot string `json:"snapshot"`
			} `json:"source"`
		}
		if string(rs[i].Value) == "null" {
			continue
		}
		_ = json.Unmarshal(rs[i].Value, &v)
		if v.Op != "r" {
			between++
		} else {
			marks[v.Source.Snapshot]++
		}
	}
	if first < 0 {
		t.Fatal("no snapshot events")
	}
	if between == 0 {
		t.Fatal("no change events between the incremental snapshot's first and last reads: streaming paused")
	}
	if len(marks) != 1 || marks["incremental"] == 0 {
		t.Fatalf("incremental snapshot markers: %v", marks)
	}
	t.Logf("incremental snapshot: %d reads with %d change events in between", marks["incremental"], between)
}

// TestInitialOnlyStopsWhenTheSnapshotIsDone: initial_only exits 0 once the
// snapshot is checkpointed, and a restart does nothing.
func TestInitialOnlyStopsWhenTheSnapshotIsDone(t *testing.T) {
	db := newDatabase(t, shared)
	mustExec(t, shared, "USE "+db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "INSERT INTO t SELECT seq, seq FROM seq_1_to_777")
	e := snapshotEnv(t, shared, `["`+db+`.*"]`, "initial_only", 100, 2, "")
	p := e.start()
	if code := p.wait(t, 2*time.Minute); code != 0 {
		t.Fatalf("initial_only exit %d\n%s", code, p.logs())
	}
	if n := len(snapshotReads(t, e.records())["it."+db+".t"]); n != 777 {
		t.Fatalf("%d rows read, want 777", n)
	}
	p = e.start()
	if code := p.wait(t, time.Minute); code != 0 {
		t.Fatalf("second initial_only run exit %d", code)
	}
	if n := len(e.records()); n != 777 {
		t.Fatalf("the second run wrote %d more records", n-777)
	}
	if !strings.Contains(p.logs(), "snapshot already complete") {
		t.Fatalf("second run did not say why it stopped:\n%s", p.logs())
	}
}

// TestWhenNeededResnapshotsAfterPurge: with when_needed, a stored position
// whose binlog was purged leads to a new snapshot instead of an error.
func TestWhenNeededResnapshotsAfterPurge(t *testing.T) {
	db := newDatabase(t, shared)
	mustExec(t, shared, "USE "+db, "CREATE TABLE t (id INT PRIMARY KEY, v INT)", "INSERT INTO t SELECT seq, seq FROM seq_1_to_100")
	e := snapshotEnv(t, shared, `["`+db+`.*"]`, "when_needed", 30, 2, "")
	p := e.start()
	waitLog(t, p, "snapshot finished", time.Minute)
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	mustExec(t, shared, "USE "+db, "UPDATE t SET v = -v WHERE id <= 10") // lost with the purge
	purgeUpTo(t, e.storedPosition())
	p = e.start()
	waitLog(t, p, "taking a new snapshot", time.Minute)
	waitLog(t, p, "snapshot finished", time.Minute)
	mustExec(t, shared, "USE "+db, "INSERT INTO t VALUES (101, 101)")
	e.waitRecords(p, time.Minute, func(rs []record) bool {
		c := newConsumer()
		c.apply(t, rs)
		return len(c.rows["it."+db+".t"]) == 101
	})
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	c := newConsumer()
	c.apply(t, e.records())
	if got := c.rows["it."+db+".t"][`{"id":5}`]; got != `{"id":5,"v":-5}` {
		t.Fatalf("row 5 after the re-snapshot: %s", got)
	}
}
