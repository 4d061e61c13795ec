package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// newPostgres starts a private PostgreSQL 15 for one test: slots and
// publications, kills and idle clusters stay the test's own.
func newPostgres(t *testing.T) *harness.Postgres {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	return harness.NewPostgres(t, harness.PostgresOptions{})
}

func pgNewDatabase(t *testing.T, pg *harness.Postgres) string {
	t.Helper()
	db, err := pg.NewDatabase(testContext(t, time.Minute), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func pgMustExec(t *testing.T, pg *harness.Postgres, db string, stmts ...string) {
	t.Helper()
	if err := pg.Exec(testContext(t, 5*time.Minute), db, stmts...); err != nil {
		t.Fatal(err)
	}
}

func pgMustQuery(t *testing.T, pg *harness.Postgres, db, q string) [][]string {
	t.Helper()
	rows, err := pg.Query(testContext(t, 2*time.Minute), db, q)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

type pgEnvOptions struct {
	url      string // default: the superuser's
	tables   string // YAML list; default ["public.*"]
	schemas  bool
	snapshot string // default never
	source   string // more source keys, indented 6 spaces
	pipeline string // more pipeline keys, indented 4 spaces
}

// newPGEnv writes a siphon.yaml with one postgres pipeline "test" reading
// database db into events.jsonl.
func newPGEnv(t *testing.T, pg *harness.Postgres, db string, o pgEnvOptions) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "siphon.yaml"), output: filepath.Join(dir, "events.jsonl")}
	if o.url == "" {
		o.url = pg.SuperuserURL(db)
	}
	if o.tables == "" {
		o.tables = `["public.*"]`
	}
	if o.snapshot == "" {
		o.snapshot = "never"
	}
	cfg := fmt.Sprintf(`state_dir: ./state
log:
  level: debug
pipelines:
  - name: test
    source:
      type: postgres
      url: %s
      tables: %s
      snapshot: %s
      topic_prefix: it
%s    sinks:
      - type: file
        path: events.jsonl
        schemas: %t
%s`, o.url, o.tables, o.snapshot, o.source, o.schemas, o.pipeline)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// waitPGStarted waits until siphon streams from its slot.
func waitPGStarted(t *testing.T, p *proc) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(p.logs(), "starting at the slot's position") && !strings.Contains(p.logs(), "resuming replication") {
		if p.exited() {
			t.Fatalf("siphon exited early:\n%s", p.logs())
		}
		if time.Now().After(deadline) {
			t.Fatalf("siphon did not start within a minute:\n%s", p.logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pgStoredPosition reads the pipeline's stored lsn_commit.
func (e *env) pgStoredLSN() uint64 {
	e.t.Helper()
	out, errOut, code := e.siphonCmd("offsets", "show", "--config", e.config)
	if code != 0 {
		e.t.Fatalf("offsets show: exit %d: %s", code, errOut)
	}
	var shown struct {
		Pipelines []struct {
			Pipeline string `json:"pipeline"`
			Offset   *struct {
				LSNCommit uint64 `json:"lsn_commit"`
			} `json:"offset"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		e.t.Fatalf("offsets show output: %v\n%s", err, out)
	}
	for _, p := range shown.Pipelines {
		if p.Pipeline == "test" && p.Offset != nil {
			return p.Offset.LSNCommit
		}
	}
	return 0
}

type jsonRaw = json.RawMessage

func jsonDecode(b []byte, v any) error { return json.Unmarshal(b, v) }
