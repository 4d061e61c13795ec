package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

func testTable() *pipeline.Table {
	cols := []pipeline.Column{
		{Name: "id", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
		{Name: "name", Schema: &pipeline.Schema{Type: pipeline.TypeString, Optional: true}},
	}
	return pipeline.NewTable(pipeline.TableID{Database: "db", Name: "t"}, "srv.db.t", cols, []int{0})
}

func testInfo() *pipeline.SourceInfo {
	return &pipeline.SourceInfo{Version: "0.1.0", Connector: "mysql", Name: "srv",
		Schema: &pipeline.Schema{Type: pipeline.TypeStruct, Name: "io.debezium.connector.mysql.Source", Version: 1}}
}

func event(op pipeline.Op, id int64, name string) pipeline.Event {
	row := pipeline.Row{pipeline.Int(id), pipeline.String(name)}
	e := pipeline.Event{Op: op, Table: testTable(), Source: pipeline.SourceBlock{Info: testInfo(), TsUs: 1_000_000, DB: "db"}, TsNs: 2_000_000_000}
	if op == pipeline.OpDelete {
		e.Before = row
	} else {
		e.After = row
	}
	return e
}

// batch is a batch that ends a transaction (it carries a position).
func batch(events ...pipeline.Event) *pipeline.Batch {
	b := &pipeline.Batch{Position: pipeline.Position(`{"pos":1}`)}
	for _, e := range events {
		b.Add(e)
	}
	return b
}

type line struct {
	Topic string          `json:"topic"`
	Key   json.RawMessage `json:"key"`
	Value json.RawMessage `json:"value"`
}

func readLines(t *testing.T, path string) []line {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var l line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("line %d %q: %v", len(lines)+1, sc.Text(), err)
		}
		if l.Topic == "" || l.Key == nil || l.Value == nil {
			t.Fatalf("line %d lacks topic, key or value: %s", len(lines)+1, sc.Text())
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("file does not end with a newline")
	}
	return lines
}

func TestWriteBatches(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantValues []string // per line: the op, or "null" for a tombstone
		wantSchema bool
	}{
		{"schemas and tombstones", Config{Schemas: true, Tombstones: true}, []string{"c", "u", "d", "null", "c"}, true},
		{"bare payload, no tombstones", Config{}, []string{"c", "u", "d", "c"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.jsonl")
			tt.cfg.Path = path
			s, err := Open(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := s.Write(ctx, batch(event(pipeline.OpCreate, 1, "a"), event(pipeline.OpUpdate, 1, "b"))); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, batch(event(pipeline.OpDelete, 1, "b"), event(pipeline.OpCreate, 2, "<&>"))); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s.syncs != 2 {
				t.Errorf("%d fsyncs, want one per batch", s.syncs)
			}

			lines := readLines(t, path)
			if len(lines) != len(tt.wantValues) {
				t.Fatalf("%d lines, want %d", len(lines), len(tt.wantValues))
			}
			for i, l := range lines {
				if l.Topic != "srv.db.t" {
					t.Errorf("line %d topic %q", i, l.Topic)
				}
				var key map[string]json.RawMessage
				if err := json.Unmarshal(l.Key, &key); err != nil {
					t.Fatalf("line %d key %s: %v", i, l.Key, err)
				}
				if _, ok := key["schema"]; ok != tt.wantSchema {
					t.Errorf("line %d key %s: schema present = %v, want %v", i, l.Key, ok, tt.wantSchema)
				}
				if tt.wantValues[i] == "null" {
					if string(l.Value) != "null" {
						t.Errorf("line %d value %s, want a tombstone", i, l.Value)
					}
					continue
				}
				var value struct {
					Schema  json.RawMessage `json:"schema"`
					Payload struct {
						Op string `json:"op"`
					} `json:"payload"`
					Op string `json:"op"`
				}
				if err := json.Unmarshal(l.Value, &value); err != nil {
					t.Fatalf("line %d value: %v", i, err)
				}
				op := value.Op
				if tt.wantSchema {
					op = value.Payload.Op
				}
				if op != tt.wantValues[i] || (value.Schema != nil) != tt.wantSchema {
					t.Errorf("line %d: op %q schema %v, want op %q schema %v", i, op, value.Schema != nil, tt.wantValues[i], tt.wantSchema)
				}
			}
		})
	}
}

func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	for i := range 2 {
		s, err := Open(Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Write(context.Background(), batch(event(pipeline.OpCreate, int64(i), "x"))); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(readLines(t, path)); n != 2 {
		t.Errorf("%d lines after two opens, want 2 (append, not truncate)", n)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&^0o644 != 0 {
		t.Errorf("mode %v, want at most 0644", perm)
	}
}

func TestEmptyBatchWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := Open(Config{Path: path, Schemas: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Write(context.Background(), &pipeline.Batch{Position: pipeline.Position(`{"pos":4}`)}); err != nil {
		t.Fatal(err)
	}
	if s.syncs != 0 {
		t.Errorf("position-only batch fsynced %d times", s.syncs)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Errorf("file after a position-only batch: %v, %v; want empty", fi.Size(), err)
	}
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Sink)
		want  string
	}{
		{"closed sink", func(t *testing.T, s *Sink) { s.Close() }, "file already closed"},
		{"closed file", func(t *testing.T, s *Sink) { s.f.Close() }, "file already closed"},
		{"read-only descriptor", func(t *testing.T, s *Sink) {
			ro, err := os.Open(s.name)
			if err != nil {
				t.Fatal(err)
			}
			s.f.Close()
			s.f = ro
			t.Cleanup(func() { ro.Close() })
		}, "bad file descriptor"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "events"+string(rune('a'+i))+".jsonl")
			s, err := Open(Config{Path: path})
			if err != nil {
				t.Fatal(err)
			}
			tt.setup(t, s)
			err = s.Write(context.Background(), batch(event(pipeline.OpCreate, 1, "a")))
			if err == nil {
				t.Fatal("Write succeeded, want an error")
			}
			prefix := "file sink " + path + ": write: "
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q…%q", err, prefix, tt.want)
			}
		})
	}
}

// TestFailedWriteLeavesNoPartialBatch uses /dev/full, where every write
// fails with ENOSPC.
func TestFailedWriteLeavesNoPartialBatch(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	s, err := Open(Config{Path: "/dev/full"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Write(context.Background(), batch(event(pipeline.OpCreate, 1, "a")))
	if err == nil || !strings.Contains(err.Error(), "file sink /dev/full: write: no space left on device") {
		t.Errorf("error %v, want a write error naming /dev/full", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(Config{}); err == nil {
		t.Error("Open with no path succeeded")
	}
	_, err := Open(Config{Path: dir})
	if err == nil || !strings.HasPrefix(err.Error(), "file sink "+dir+": open: ") {
		t.Errorf("Open(directory) error %v, want one naming the path", err)
	}
}

func TestCanceledContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, batch(event(pipeline.OpCreate, 1, "a"))); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if n := len(readLines(t, path)); n != 0 {
		t.Errorf("%d lines written under a canceled context", n)
	}
}

func TestLargeBatchBufferIsDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.retain = 4096
	ctx := context.Background()
	if err := s.Write(ctx, batch(event(pipeline.OpCreate, 1, "small"))); err != nil {
		t.Fatal(err)
	}
	if cap(s.buf) == 0 {
		t.Error("buffer of a small batch was not kept for reuse")
	}
	if err := s.Write(ctx, batch(event(pipeline.OpCreate, 2, strings.Repeat("x", s.retain+1)))); err != nil {
		t.Fatal(err)
	}
	if cap(s.buf) != 0 {
		t.Errorf("kept a %d-byte buffer after a huge batch", cap(s.buf))
	}
	if n := len(readLines(t, path)); n != 2 {
		t.Errorf("%d lines, want 2", n)
	}
}

func TestStdoutStaysOpen(t *testing.T) {
	s, err := Open(Config{Path: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stdout.Stat(); err != nil {
		t.Errorf("stdout after Close: %v", err)
	}
	err = s.Write(context.Background(), batch(event(pipeline.OpCreate, 1, "a")))
	if err == nil || !strings.HasPrefix(err.Error(), "file sink stdout: write: ") {
		t.Errorf("write after Close: %v, want an error naming stdout", err)
	}
}

func TestOpenCutsATornLastLine(t *testing.T) {
	tests := []struct{ before, after string }{
		{"", ""},
		{"{\"a\":1}\n", "{\"a\":1}\n"},
		{"{\"a\":1}\n{\"b\":", "{\"a\":1}\n"},
		{"{\"torn\":", ""},
	}
	for _, tt := range tests {
		path := filepath.Join(t.TempDir(), "events.jsonl")
		if err := os.WriteFile(path, []byte(tt.before), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Config{Path: path})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != tt.after {
			t.Errorf("Open on %q left %q, want %q", tt.before, got, tt.after)
		}
	}
}

// openWithOpenTransaction opens a sink and writes one event of a
// transaction that has not ended (a batch without a position).
func openWithOpenTransaction(t *testing.T) (*Sink, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.jsonl")
	s, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	mid := batch(event(pipeline.OpCreate, 1, "a"))
	mid.Position = nil
	if err := s.Write(context.Background(), mid); err != nil {
		t.Fatal(err)
	}
	return s, path
}

func TestOnlyBatchesWithAPositionAreSynced(t *testing.T) {
	s, path := openWithOpenTransaction(t)
	if s.syncs != 0 {
		t.Fatalf("a batch ending inside a transaction was synced")
	}
	if err := s.Write(context.Background(), batch(event(pipeline.OpCreate, 2, "b"))); err != nil {
		t.Fatal(err)
	}
	if s.syncs != 1 {
		t.Fatalf("%d syncs after the batch that ends the transaction, want 1", s.syncs)
	}
	if n := len(readLines(t, path)); n != 2 {
		t.Fatalf("%d lines, want 2", n)
	}
}

// A batch holding only a position (a snapshot chunk whose last rows went
// out in a batch of their own) syncs the lines written before it: the
// position is checkpointed once Write returns.
func TestPositionOnlyBatchSyncsEarlierLines(t *testing.T) {
	s, _ := openWithOpenTransaction(t)
	if err := s.Write(context.Background(), &pipeline.Batch{Position: pipeline.Position(`{"pos":4}`)}); err != nil {
		t.Fatal(err)
	}
	if s.syncs != 1 {
		t.Fatalf("%d syncs after the position that ends the lines, want 1", s.syncs)
	}
	if err := s.Write(context.Background(), &pipeline.Batch{Position: pipeline.Position(`{"pos":5}`)}); err != nil {
		t.Fatal(err)
	}
	if s.syncs != 1 {
		t.Errorf("%d syncs after a second position with nothing new, want 1", s.syncs)
	}
}

func TestDevicesAreWrittenWithoutSync(t *testing.T) {
	s, err := Open(Config{Path: os.DevNull})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), batch(event(pipeline.OpCreate, 1, "a"))); err != nil {
		t.Fatalf("write to %s: %v", os.DevNull, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
