package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// shared is the MariaDB server most tests use (binlog_row_metadata=FULL);
// each test works in its own database.
var (
	shared    *harness.MariaDB
	siphonBin string
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "siphon-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		siphonBin, err = harness.BuildSiphon(ctx, dir)
		cancel()
		if err != nil {
			fmt.Fprintln(os.Stderr, "build siphon:", err)
			return 1
		}
		return harness.MainWithMariaDB(m, harness.MariaDBOptions{}, func(db *harness.MariaDB) { shared = db })
	}())
}

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newDatabase creates a database for the test on db.
func newDatabase(t *testing.T, db *harness.MariaDB) string {
	t.Helper()
	name, err := db.NewDatabase(testContext(t, time.Minute), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func mustExec(t *testing.T, db *harness.MariaDB, stmts ...string) {
	t.Helper()
	if err := db.Exec(testContext(t, 2*time.Minute), stmts...); err != nil {
		t.Fatal(err)
	}
}

// env is one siphon installation: a config, a state dir and an output file.
type env struct {
	t      *testing.T
	dir    string
	config string
	output string
}

type envOptions struct {
	db           *harness.MariaDB
	tables       string // YAML list, e.g. `["shop.*"]`
	schemas      bool
	positionMode string
	extra        string // more pipeline keys, indented 4 spaces
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "siphon.yaml"), output: filepath.Join(dir, "events.jsonl")}
	if o.positionMode == "" {
		o.positionMode = "auto"
	}
	cfg := fmt.Sprintf(`state_dir: ./state
log:
  level: debug
pipelines:
  - name: test
    source:
      type: mysql
      url: %s
      server_id: %d
      tables: %s
      snapshot: never
      topic_prefix: it
      position_mode: %s
    sinks:
      - type: file
        path: events.jsonl
        schemas: %t
%s`, o.db.URL("root", ""), 5400+serverIDs.next(), o.tables, o.positionMode, o.schemas, o.extra)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// serverIDs hands out distinct replica server ids.
var serverIDs = &counter{}

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) next() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

// proc is a running siphon.
type proc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
	err    error
}

// start runs `siphon run` in the background.
func (e *env) start() *proc {
	e.t.Helper()
	p := &proc{stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(siphonBin, "run", "--config", e.config)
	p.cmd.Stderr = &lockedWriter{w: p.stderr}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if e.t.Failed() {
			e.t.Logf("siphon stderr:\n%s", p.logs())
		}
	})
	return p
}

func (p *proc) logs() string {
	w := p.cmd.Stderr.(*lockedWriter)
	w.mu.Lock()
	defer w.mu.Unlock()
	return p.stderr.String()
}

// stop sends SIGTERM and waits; it returns the exit code.
func (p *proc) stop(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	return p.wait(t, time.Minute)
}

// kill sends SIGKILL and waits.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Kill()
	p.wait(t, time.Minute)
}

func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("siphon did not exit within %s\n%s", d, p.logs())
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// siphonCmd runs a siphon command to completion.
func (e *env) siphonCmd(args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(siphonBin, args...)
	var o, er bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &er
	err := cmd.Run()
	if err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			e.t.Fatal(err)
		}
	}
	return o.String(), er.String(), cmd.ProcessState.ExitCode()
}

// record is one line of the file sink.
type record struct {
	Topic string          `json:"topic"`
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
	raw   string
}

// envelope is the part of a value the tests inspect.
type envelope struct {
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	Source struct {
		File  string `json:"file"`
		Pos   int64  `json:"pos"`
		Row   int    `json:"row"`
		GTID  string `json:"gtid"`
		Table string `json:"table"`
		DB    string `json:"db"`
	} `json:"source"`
	Op string `json:"op"`
}

// records reads every complete line of the output file.
func (e *env) records() []record {
	e.t.Helper()
	data, err := os.ReadFile(e.output)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	// A line torn by kill -9 has no newline yet: read complete lines only.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i+1]
	} else {
		data = nil
	}
	var out []record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			e.t.Fatalf("output line is not JSON: %v\n%s", err, sc.Text())
		}
		r.raw = sc.Text()
		out = append(out, r)
	}
	return out
}

// payload returns the envelope of a record; ok is false for a tombstone.
func (r record) payload(t *testing.T) (envelope, bool) {
	t.Helper()
	if string(r.Value) == "null" {
		return envelope{}, false
	}
	var v struct {
		Payload *envelope `json:"payload"`
	}
	if err := json.Unmarshal(r.Value, &v); err == nil && v.Payload != nil {
		return *v.Payload, true
	}
	var env envelope
	if err := json.Unmarshal(r.Value, &env); err != nil {
		t.Fatalf("value is not an envelope: %v\n%s", err, r.Value)
	}
	return env, true
}

// waitRecords polls the output until cond holds for the records.
func (e *env) waitRecords(p *proc, d time.Duration, cond func([]record) bool) []record {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for {
		rs := e.records()
		if cond(rs) {
			return rs
		}
		if p != nil && p.exited() {
			e.t.Fatalf("siphon exited early (%v):\n%s", p.err, p.logs())
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %s with %d records", d, len(rs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func atLeast(n int) func([]record) bool {
	return func(rs []record) bool { return len(rs) >= n }
}

// replaceInConfig edits the test's siphon.yaml.
func replaceInConfig(t *testing.T, e *env, old, replacement string) {
	t.Helper()
	data, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("config has no %q", old)
	}
	if err := os.WriteFile(e.config, []byte(strings.Replace(string(data), old, replacement, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
}
