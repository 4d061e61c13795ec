package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	e := &env{t: t}
	out, _, code := e.siphonCmd("version")
	if code != 0 || !strings.HasPrefix(out, "siphon ") {
		t.Fatalf("siphon version = %q, exit %d", out, code)
	}
}

func TestUsageAndConfigErrorsExit2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const secret = "pa55-SECRET"
	valid := `pipelines:
  - name: shop
    source: {type: mysql, url: "mysql://u:` + secret + `@127.0.0.1:1", server_id: 9}
    sinks: [{type: file, path: out.jsonl}]
`
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"unknown flag", []string{"run", "--nope"}, "unknown flag"},
		{"missing --config", []string{"run"}, "--config"},
		{"missing file", []string{"check", "--config", filepath.Join(dir, "absent.yaml")}, "absent.yaml"},
		{"unknown key", []string{"run", "--config", write("unknown.yaml", strings.Replace(valid, "path:", "pth:", 1))}, "pth"},
		{"bad value", []string{"run", "--config", write("bad.yaml", strings.Replace(valid, "server_id: 9", "server_id: -3", 1))}, "server_id"},
		{"unset variable", []string{"run", "--config", write("env.yaml", strings.Replace(valid, secret, "${SIPHON_TEST_UNSET_PW}", 1))}, "SIPHON_TEST_UNSET_PW"},
		{"bad port", []string{"run", "--config", write("port.yaml", strings.Replace(valid, "127.0.0.1:1", "127.0.0.1:99999", 1))}, "port"},
	}
	e := &env{t: t}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := e.siphonCmd(tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("stderr does not mention %q:\n%s", tt.want, stderr)
			}
			if strings.Contains(stderr, secret) {
				t.Fatalf("stderr leaks the password:\n%s", stderr)
			}
		})
	}
}

func TestCheckPassesWithMinimalGrants(t *testing.T) {
	ctx := testContext(t, time.Minute)
	if err := shared.CreateReplicationUser(ctx, "siphon_check", "check-pw"); err != nil {
		t.Fatal(err)
	}
	db := newDatabase(t, shared)
	mustExec(t, shared, "CREATE TABLE "+db+".t (id INT PRIMARY KEY)")
	e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`})
	cfg, _ := os.ReadFile(e.config)
	cfg = []byte(strings.Replace(string(cfg), shared.URL("root", ""), shared.URL("siphon_check", "check-pw"), 1))
	if err := os.WriteFile(e.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, code := e.siphonCmd("check", "--config", e.config, "--json")
	if code != 0 {
		t.Fatalf("check exit %d\n%s\n%s", code, out, stderr)
	}
	var reports []struct {
		Pipeline string `json:"pipeline"`
		Checks   []struct {
			Name, Status, Detail string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatalf("check --json: %v\n%s", err, out)
	}
	status := map[string]string{}
	for _, c := range reports[0].Checks {
		status[c.Name] = c.Status
	}
	for _, name := range []string{"connect", "log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata",
		"privilege REPLICATION SLAVE", "privilege BINLOG MONITOR", "privilege SELECT", "tables"} {
		if status[name] != "pass" {
			t.Errorf("check %q = %q, want pass (all: %v)", name, status[name], status)
		}
	}
	if strings.Contains(out+stderr, "check-pw") {
		t.Fatalf("check output leaks the password")
	}
}

func TestCheckFailsWithoutGrantsAndNamesTheFix(t *testing.T) {
	ctx := testContext(t, time.Minute)
	if err := shared.Exec(ctx, "CREATE USER IF NOT EXISTS 'nogrants'@'%' IDENTIFIED BY 'pw'"); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{db: shared, tables: `["nothing.*"]`})
	cfg, _ := os.ReadFile(e.config)
	cfg = []byte(strings.Replace(string(cfg), shared.URL("root", ""), shared.URL("nogrants", "pw"), 1))
	if err := os.WriteFile(e.config, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code := e.siphonCmd("check", "--config", e.config)
	if code != 1 {
		t.Fatalf("check exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{"fail  privilege REPLICATION SLAVE", "GRANT REPLICATION SLAVE ON *.*"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
}

func TestSecondSiphonOnSameStateDirFailsFast(t *testing.T) {
	db := newDatabase(t, shared)
	e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`})
	p := e.start()
	waitStarted(t, e, p)
	start := time.Now()
	_, stderr, code := e.siphonCmd("run", "--config", e.config)
	if code != 1 {
		t.Fatalf("second siphon exit %d, want 1\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "in use by another siphon") {
		t.Fatalf("second siphon error does not explain the lock:\n%s", stderr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("second siphon took %s to fail", d)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("first siphon exit %d", code)
	}
}

func TestPurgedPositionFailsWithTheFix(t *testing.T) {
	db := newDatabase(t, shared)
	mustExec(t, shared, "CREATE TABLE "+db+".t (id INT PRIMARY KEY)")
	e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`})
	p := e.start()
	waitStarted(t, e, p)
	mustExec(t, shared, "INSERT INTO "+db+".t VALUES (1)")
	e.waitRecords(p, time.Minute, atLeast(1))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	stored := e.storedPosition()

	purgeUpTo(t, stored)

	out, _, code := e.siphonCmd("check", "--config", e.config)
	if code != 1 || !strings.Contains(out, "no longer on the server") {
		t.Fatalf("check after purge: exit %d\n%s", code, out)
	}
	p = e.start()
	if code := p.wait(t, time.Minute); code != 1 {
		t.Fatalf("run after purge: exit %d, want 1", code)
	}
	logs := p.logs()
	for _, want := range []string{"no longer on the server", "purged", "siphon offsets reset"} {
		if !strings.Contains(logs, want) {
			t.Fatalf("error does not say %q:\n%s", want, logs)
		}
	}

	// The documented fix works: reset, then run from the current end.
	if _, stderr, code := e.siphonCmd("offsets", "reset", "--config", e.config, "--pipeline", "test"); code != 0 {
		t.Fatalf("offsets reset: exit %d: %s", code, stderr)
	}
	p = e.start()
	waitStarted(t, e, p)
	mustExec(t, shared, "INSERT INTO "+db+".t VALUES (2)")
	e.waitRecords(p, time.Minute, atLeast(2))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after reset", code)
	}
}

func TestOffsetsShowPrintsDebeziumOffsetMap(t *testing.T) {
	db := newDatabase(t, shared)
	mustExec(t, shared, "CREATE TABLE "+db+".t (id INT PRIMARY KEY)")
	e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`})
	out, _, code := e.siphonCmd("offsets", "show", "--config", e.config)
	if code != 0 || !strings.Contains(out, `"offset": null`) {
		t.Fatalf("offsets show before any run: exit %d\n%s", code, out)
	}
	p := e.start()
	waitStarted(t, e, p)
	mustExec(t, shared, "INSERT INTO "+db+".t VALUES (1)")
	e.waitRecords(p, time.Minute, atLeast(1))
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	out, _, code = e.siphonCmd("offsets", "show", "--config", e.config)
	if code != 0 {
		t.Fatalf("offsets show: exit %d", code)
	}
	var shown struct {
		Pipelines []struct {
			Pipeline  string            `json:"pipeline"`
			Partition map[string]string `json:"partition"`
			Offset    map[string]any    `json:"offset"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := shown.Pipelines[0]
	if got.Pipeline != "test" || got.Partition["server"] != "it" {
		t.Fatalf("unexpected pipeline entry: %+v", got)
	}
	for _, k := range []string{"file", "pos", "gtids", "server_id", "ts_sec"} {
		if _, ok := got.Offset[k]; !ok {
			t.Errorf("offset lacks %q: %v", k, got.Offset)
		}
	}
}

// purgeUpTo rotates and purges the shared server's binlogs until the file
// of p is gone. MariaDB keeps a log until its binlog checkpoint has moved
// on, which happens asynchronously after a rotation.
func purgeUpTo(t *testing.T, p storedPos) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mustExec(t, shared, "FLUSH BINARY LOGS")
		rows, err := shared.Query(ctx, "SHOW MASTER STATUS")
		if err != nil {
			t.Fatal(err)
		}
		mustExec(t, shared, "PURGE BINARY LOGS TO '"+rows[0][0]+"'")
		logs, err := shared.Query(ctx, "SHOW BINARY LOGS")
		if err != nil {
			t.Fatal(err)
		}
		if fileSeqOf(logs[0][0]) > p.fileSeq {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("could not purge binlogs past %d: oldest is still %s", p.fileSeq, logs[0][0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}
