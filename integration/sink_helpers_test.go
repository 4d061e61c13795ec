package integration

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// targetPostgres starts a private PostgreSQL for a database-target test
// and creates a database in it.
func targetPostgres(t *testing.T) (*harness.Postgres, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	pg := harness.NewPostgres(t, harness.PostgresOptions{})
	db, err := pg.NewDatabase(testContext(t, time.Minute), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return pg, db
}

type sinkEnvOptions struct {
	src      *harness.MariaDB
	srcURL   string // default src's root URL
	srcDB    string
	snapshot string // default never
	sink     string // the sink's YAML mapping, each line indented 8 spaces after "- "
	pipeline string // more pipeline keys, indented 4 spaces
}

// newSinkEnv writes a siphon.yaml with one pipeline "test" reading every
// table of srcDB into a database sink.
func newSinkEnv(t *testing.T, o sinkEnvOptions) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, dir: dir, config: filepath.Join(dir, "siphon.yaml"), output: filepath.Join(dir, "dead.jsonl")}
	if o.snapshot == "" {
		o.snapshot = "never"
	}
	if o.srcURL == "" {
		o.srcURL = o.src.URL("root", "")
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
      tables: ["%s.*"]
      snapshot: %s
      topic_prefix: it
    sinks:
      - %s
%s`, o.srcURL, 5400+serverIDs.next(), o.srcDB, o.snapshot, strings.TrimSpace(o.sink), o.pipeline)
	if err := os.WriteFile(e.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func pgSinkYAML(pg *harness.Postgres, db, extra string) string {
	return fmt.Sprintf("type: postgres\n        url: %s\n%s", pg.SuperuserURL(db), extra)
}

func mysqlSinkYAML(m *harness.MariaDB, db, extra string) string {
	return fmt.Sprintf("type: mysql\n        url: %s\n        database: %s\n%s", m.URL("root", ""), db, extra)
}

// eventually polls cond until it holds, failing the test after d or when
// siphon exits.
func eventually(t *testing.T, p *proc, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if p != nil && p.exited() {
			t.Fatalf("siphon exited while waiting for %s (%v): %s", what, p.err, detail)
		}
		if time.Now().After(deadline) {
			if p != nil && os.Getenv("SIPHON_DUMP") != "" {
				_ = p.cmd.Process.Signal(syscall.SIGQUIT)
				p.wait(t, 10*time.Second)
			}
			t.Fatalf("timed out after %s waiting for %s: %s", d, what, detail)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rowsByKey indexes query rows by their first column.
func rowsByKey(rows [][]string) map[string][]string {
	out := make(map[string][]string, len(rows))
	for _, r := range rows {
		out[r[0]] = r
	}
	return out
}

// diffRows compares two tables read row by row (first column the key),
// cell by cell through norm; it describes the first differences.
func diffRows(names []string, src, dst [][]string, norm func(col int, cell string) string, eq func(col int, a, b string) bool) string {
	a, b := rowsByKey(src), rowsByKey(dst)
	var out []string
	for k, ra := range a {
		rb, ok := b[k]
		if !ok {
			out = append(out, "key "+k+" missing in the target")
			continue
		}
		for i := range ra {
			x, y := norm(i, ra[i]), norm(i, rb[i])
			if x != y && (eq == nil || !eq(i, x, y)) {
				out = append(out, fmt.Sprintf("key %s column %s: source %q, target %q", k, names[i], x, y))
			}
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "key "+k+" only in the target")
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("… %d differences", len(out)))
	}
	return strings.Join(out, "; ")
}

var (
	timestampText = regexp.MustCompile(`^(-?\d+-\d\d-\d\d \d\d:\d\d:\d\d|-?\d+:\d\d:\d\d)(?:\.(\d*?)0*)?(\+00)?$`)
	hexText       = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
)

// normalizeCell puts equal values of the documented type mapping into
// one text: fractions without trailing zeros, UTC offsets dropped, JSON
// canonical.
func normalizeCell(cell string) string {
	if m := timestampText.FindStringSubmatch(cell); m != nil {
		if m[2] == "" {
			return m[1]
		}
		return m[1] + "." + m[2]
	}
	if strings.HasPrefix(cell, "{") || strings.HasPrefix(cell, "[") {
		var v any
		if json.Unmarshal([]byte(cell), &v) == nil {
			b, _ := json.Marshal(v)
			return string(b)
		}
	}
	return cell
}

// floatsEqual compares floating-point text with a relative tolerance
// (MariaDB prints FLOAT with 6 significant digits).
func floatsEqual(a, b string, tolerance float64) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return x == y || math.Abs(x-y) <= tolerance*math.Max(math.Abs(x), math.Abs(y))
}

func trimLeadingZeros(s string) string {
	s = strings.TrimLeft(s, "0")
	if s == "" {
		return "0"
	}
	return s
}

func lowerHex(s string) string {
	if hexText.MatchString(s) {
		return strings.ToLower(s)
	}
	return s
}
