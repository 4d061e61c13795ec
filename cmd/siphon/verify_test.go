package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/sink/sqlapply/verify"
)

// TestVerifyUsageErrors checks the invocations that exit 2 before any
// database is contacted.
func TestVerifyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "siphon.yaml")
	yaml := `pipelines:
  - name: files
    source: {type: mysql, url: "mysql://root@127.0.0.1:1", server_id: 7}
    sinks:
      - {type: file, path: out.jsonl}
`
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := verifyFlags{config: cfg, format: "text", chunkRows: 10, rechecks: 1, recheckDelay: time.Millisecond, maxKeys: 10}
	tests := []struct {
		name string
		edit func(*verifyFlags)
		want string
	}{
		{"no config", func(f *verifyFlags) { f.config = "" }, "--config is required"},
		{"bad format", func(f *verifyFlags) { f.format = "xml" }, "--format"},
		{"bad chunk rows", func(f *verifyFlags) { f.chunkRows = 0 }, "--chunk-rows"},
		{"bad max keys", func(f *verifyFlags) { f.maxKeys = 0 }, "--max-keys"},
		{"unknown pipeline", func(f *verifyFlags) { f.pipeline = "nope" }, "no such pipeline"},
		{"file sink only", func(f *verifyFlags) { f.pipeline = "files" }, "no database sink"},
		{"no database sink anywhere", func(*verifyFlags) {}, "no pipeline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.edit(&f)
			err := runVerify(t.Context(), &bytes.Buffer{}, f)
			var use usageError
			if !errors.As(err, &use) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a usage error containing %q", err, tt.want)
			}
		})
	}
}

func TestPrintTableResult(t *testing.T) {
	var b bytes.Buffer
	printTableResult(&b, tableReport{Pipeline: "p", TableResult: verify.TableResult{
		Source: "shop.items", Target: "public.items", Rows: 10, Chunks: 1, Differences: 3,
		Missing: []string{"id=1"}, Extra: []string{"id=2"},
		Different:   []verify.Difference{{Key: "id=3", Columns: []verify.ColumnDiff{{Column: "price", Source: "1", Target: "2"}, {Column: "name"}}}},
		NotCompared: []string{"tags: array values are not compared"},
	}})
	want := `p: shop.items → public.items: 10 rows in 1 chunk: 3 differences (1 missing, 1 extra, 1 different) (0.0s)
  missing   id=1
  extra     id=2
  different id=3: price (source "1", target "2"), name
  not compared: tags: array values are not compared
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printTableResult(&b, tableReport{Pipeline: "p", TableResult: verify.TableResult{Source: "a.b", Target: "c.b", Error: "boom"}})
	if !strings.Contains(b.String(), "NOT COMPARED: boom") {
		t.Fatalf("an error is not shown: %s", b.String())
	}
}
