package harness_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/go-cmp/cmp"

	"github.com/siphoncdc/siphon/integration/harness"
)

// mariadb is the package's one server; tests isolate themselves by database.
var mariadb = &harness.SharedMariaDB{}

func TestMain(m *testing.M) {
	code := m.Run()
	if err := mariadb.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func queryOne(t *testing.T, db *harness.MariaDB, q string) []string {
	t.Helper()
	rows, err := db.Query(testContext(t), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%s: got %d rows, want 1: %q", q, len(rows), rows)
	}
	return rows[0]
}

func TestServerSettings(t *testing.T) {
	shared := mariadb.Get(t)
	got := queryOne(t, shared, "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, "+
		"@@server_id, @@gtid_strict_mode, @@character_set_server, @@collation_server, @@time_zone, "+
		"@@bind_address, @@skip_name_resolve, @@max_connections")
	want := []string{"1", "ROW", "FULL", "FULL", "1", "1", "utf8mb4", "utf8mb4_general_ci", "+00:00", "127.0.0.1", "1", "200"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server settings (-want +got):\n%s", diff)
	}
	if shared.Host != "127.0.0.1" || shared.Port <= 0 {
		t.Errorf("Host:Port = %s:%d, want 127.0.0.1 and a port", shared.Host, shared.Port)
	}
	if _, err := os.Stat(filepath.Join(shared.Dir, "error.log")); err != nil {
		t.Errorf("error log: %v", err)
	}
	if got, want := queryOne(t, shared, "SELECT @@tmpdir")[0], filepath.Join(shared.Dir, "tmp"); got != want {
		t.Errorf("tmpdir = %s, want the private %s", got, want)
	}
}

// Instances started at the same time must not disturb each other (they
// once shared /tmp, where a starting server deletes the other's
// bootstrap temporary tables).
func TestConcurrentStarts(t *testing.T) {
	const n = 3
	errs := make(chan error, n)
	for i := range n {
		go func() {
			db, err := harness.StartMariaDB(t.Context(), harness.MariaDBOptions{ServerID: uint32(10 + i)})
			if err == nil {
				var rows [][]string
				rows, err = db.Query(t.Context(), "SELECT @@server_id")
				if err == nil && (len(rows) != 1 || rows[0][0] != strconv.Itoa(10+i)) {
					err = fmt.Errorf("server %d answered server_id %q", 10+i, rows)
				}
				err = errors.Join(err, db.Stop())
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestMasterStatusHasPosition(t *testing.T) {
	shared := mariadb.Get(t)
	row := queryOne(t, shared, "SHOW MASTER STATUS")
	if !regexp.MustCompile(`^mariadb-bin\.\d{6}$`).MatchString(row[0]) {
		t.Errorf("binlog file = %q, want mariadb-bin.NNNNNN", row[0])
	}
	if pos, err := strconv.ParseUint(row[1], 10, 64); err != nil || pos < 4 {
		t.Errorf("binlog position = %q, want a number ≥ 4", row[1])
	}
}

func TestInsertWritesRowEvents(t *testing.T) {
	shared := mariadb.Get(t)
	ctx := testContext(t)
	db, err := shared.NewDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	file := queryOne(t, shared, "SHOW MASTER STATUS")[0]
	err = shared.Exec(ctx,
		"USE "+db,
		"CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(20))",
		"INSERT INTO t VALUES (1, 'one'), (2, NULL)",
	)
	if err != nil {
		t.Fatal(err)
	}
	events, err := shared.Query(ctx, "SHOW BINLOG EVENTS IN '"+file+"'")
	if err != nil {
		t.Fatal(err)
	}
	var tableMap, writeRows bool
	for _, e := range events {
		// Log_name, Pos, Event_type, Server_id, End_log_pos, Info
		switch {
		case e[2] == "Table_map" && strings.Contains(e[5], "("+db+".t)"):
			tableMap = true
		case strings.HasPrefix(e[2], "Write_rows") && tableMap:
			writeRows = true
		}
	}
	if !tableMap || !writeRows {
		t.Errorf("binlog %s: Table_map for %s.t seen %v, Write_rows after it %v; events:\n%q", file, db, tableMap, writeRows, events)
	}
}

func TestQueryReturnsServerText(t *testing.T) {
	shared := mariadb.Get(t)
	tests := []struct {
		expr string
		want string
	}{
		{"NULL", "NULL"},
		{"'NULL'", "NULL"},
		{"''", ""},
		{"1.50", "1.50"},
		{"CAST(1e20 AS DOUBLE)", "1e20"},
		{"-3", "-3"},
		{"18446744073709551615", "18446744073709551615"},
		{"'héllo ✓'", "héllo ✓"},
		{"REPEAT('x', 300)", strings.Repeat("x", 300)},
		{"CAST('2024-02-29 12:34:56.5' AS DATETIME(1))", "2024-02-29 12:34:56.5"},
		{"X'00FF'", "\x00\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := queryOne(t, shared, "SELECT "+tt.expr)
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("SELECT %s (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

func TestQueryWithoutResultSet(t *testing.T) {
	shared := mariadb.Get(t)
	rows, err := shared.Query(testContext(t), "DO 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("DO 1 returned rows %q", rows)
	}
}

func TestExecErrorNamesStatement(t *testing.T) {
	shared := mariadb.Get(t)
	err := shared.Exec(testContext(t), "SELECT 1", "SELEC oops")
	if err == nil {
		t.Fatal("Exec of an invalid statement succeeded")
	}
	if !strings.Contains(err.Error(), `"SELEC oops"`) || strings.Contains(err.Error(), `"SELECT 1"`) {
		t.Errorf("error %q should name the failing statement only", err)
	}
}

func TestExecHonoursCancelledContext(t *testing.T) {
	shared := mariadb.Get(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := shared.Exec(ctx, "SELECT 1")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Exec with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestExecCancelInterruptsStatement(t *testing.T) {
	shared := mariadb.Get(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := shared.Exec(ctx, "SELECT SLEEP(30)")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(began); elapsed > 10*time.Second {
		t.Errorf("Exec returned after %s, want soon after the deadline", elapsed)
	}
}

func TestNewDatabaseIsUnique(t *testing.T) {
	shared := mariadb.Get(t)
	ctx := testContext(t)
	a, err := shared.NewDatabase(ctx, "Same Prefix/x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := shared.NewDatabase(ctx, "Same Prefix/x")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two databases named %q", a)
	}
	rows, err := shared.Query(ctx, "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r[0])
	}
	for _, db := range []string{a, b} {
		if !slices.Contains(names, db) {
			t.Errorf("database %q not in SHOW DATABASES %q", db, names)
		}
	}
}

func TestURL(t *testing.T) {
	shared := mariadb.Get(t)
	tests := []struct {
		user, password string
		want           string
	}{
		{"root", "", "mysql://root:@127.0.0.1:" + strconv.Itoa(shared.Port)},
		{"siphon", "secret", "mysql://siphon:secret@127.0.0.1:" + strconv.Itoa(shared.Port)},
		{"siphon", "p@ss:w/rd", "mysql://siphon:p%40ss%3Aw%2Frd@127.0.0.1:" + strconv.Itoa(shared.Port)},
	}
	for _, tt := range tests {
		if got := shared.URL(tt.user, tt.password); got != tt.want {
			t.Errorf("URL(%q, %q) = %q, want %q", tt.user, tt.password, got, tt.want)
		}
	}
	if got, want := shared.RootURL(), shared.URL("root", ""); got != want {
		t.Errorf("RootURL() = %q, want %q", got, want)
	}
}

func TestReplicationUserCanStreamAndSnapshot(t *testing.T) {
	shared := mariadb.Get(t)
	ctx := testContext(t)
	const user, password = "siphon_repl", `pa'ss\word`
	if err := shared.CreateReplicationUser(ctx, user, password); err != nil {
		t.Fatal(err)
	}
	db, err := shared.NewDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	if err := shared.Exec(ctx, "CREATE TABLE "+db+".t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}

	c, err := client.Connect(shared.Addr(), user, password, "")
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	defer c.Close()
	allowed := []string{
		"SHOW MASTER STATUS",
		"SHOW BINARY LOGS",
		"SHOW BINLOG EVENTS LIMIT 1",
		"SELECT * FROM " + db + ".t",
		"SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + db + "'",
		"START TRANSACTION WITH CONSISTENT SNAPSHOT",
		"SHOW STATUS LIKE 'binlog_snapshot_%'",
		"COMMIT",
	}
	for _, q := range allowed {
		if _, err := c.Execute(q); err != nil {
			t.Errorf("as %s: %s: %v", user, q, err)
		}
	}
	denied := []string{
		"INSERT INTO " + db + ".t VALUES (1)",
		"CREATE DATABASE not_for_siphon",
		"FLUSH TABLES WITH READ LOCK",
	}
	for _, q := range denied {
		if _, err := c.Execute(q); err == nil {
			t.Errorf("as %s: %s succeeded, want permission denied", user, q)
		}
	}

	status, err := c.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := status.GetString(0, 0)
	pos, _ := status.GetUint(0, 1)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: 4242,
		Flavor:   mysql.MariaDBFlavor,
		Host:     shared.Host,
		Port:     uint16(shared.Port),
		User:     user,
		Password: password,
		Logger:   slog.New(slog.DiscardHandler),
	})
	defer syncer.Close()
	streamer, err := syncer.StartSync(mysql.Position{Name: file, Pos: uint32(pos)})
	if err != nil {
		t.Fatalf("start binlog dump as %s: %v", user, err)
	}
	if err := shared.Exec(ctx, "INSERT INTO "+db+".t VALUES (7)"); err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := streamer.GetEvent(ctx)
		if err != nil {
			t.Fatalf("waiting for the insert's rows event: %v", err)
		}
		rows, ok := ev.Event.(*replication.RowsEvent)
		if !ok || string(rows.Table.Schema) != db {
			continue
		}
		if diff := cmp.Diff([][]any{{int32(7)}}, rows.Rows); diff != "" {
			t.Errorf("rows event (-want +got):\n%s", diff)
		}
		if names := rows.Table.ColumnNameString(); !slices.Equal(names, []string{"id"}) {
			t.Errorf("column names from FULL row metadata = %q, want [id]", names)
		}
		return
	}
}

func TestKillRestartKeepsCommittedData(t *testing.T) {
	ctx := testContext(t)
	db := harness.NewMariaDB(t, harness.MariaDBOptions{RowMetadata: "MINIMAL", ServerID: 7})
	got := queryOne(t, db, "SELECT @@binlog_row_metadata, @@server_id")
	if diff := cmp.Diff([]string{"MINIMAL", "7"}, got); diff != "" {
		t.Errorf("options not applied (-want +got):\n%s", diff)
	}
	err := db.Exec(ctx,
		"CREATE DATABASE crash",
		"CREATE TABLE crash.t (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB",
		"INSERT INTO crash.t VALUES (1, 'a'), (2, 'b')",
		"UPDATE crash.t SET v = 'B' WHERE id = 2",
	)
	if err != nil {
		t.Fatal(err)
	}
	port, dir := db.Port, db.Dir
	firstLog := queryOne(t, db, "SHOW MASTER STATUS")[0]

	if err := db.Kill(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", db.Addr(), time.Second); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after Kill")
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Fatalf("data dir after Kill: %v", err)
	}
	if err := db.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if db.Port != port || db.Dir != dir {
		t.Errorf("after Restart %s:%d in %s, want port %d in %s", db.Host, db.Port, db.Dir, port, dir)
	}
	rows, err := db.Query(ctx, "SELECT id, v FROM crash.t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"1", "a"}, {"2", "B"}}, rows); diff != "" {
		t.Errorf("rows after crash and restart (-want +got):\n%s", diff)
	}
	logs, err := db.Query(ctx, "SHOW BINARY LOGS")
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) < 2 || logs[0][0] != firstLog {
		t.Errorf("binary logs after restart = %q, want %s kept and a new file", logs, firstLog)
	}

	if err := db.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stop left %s behind (stat: %v)", dir, err)
	}
	if err := db.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := db.Restart(ctx); err == nil {
		t.Error("Restart after Stop succeeded")
	}
}

func TestFreePortIsBindable(t *testing.T) {
	port, err := harness.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("FreePort returned %d, which cannot be bound: %v", port, err)
	}
	l.Close()
}

func TestBuildSiphon(t *testing.T) {
	ctx := testContext(t)
	root, err := harness.ModuleRoot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sources, _ := filepath.Glob(filepath.Join(root, "cmd", "siphon", "*.go")); len(sources) == 0 {
		t.Skip("cmd/siphon has no Go files yet; nothing to build")
	}
	path, err := harness.BuildSiphon(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %s)", path, st.Mode())
	}
}

func TestModuleRootHoldsSiphonModule(t *testing.T) {
	root, err := harness.ModuleRoot(testContext(t))
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "module github.com/siphoncdc/siphon\n") {
		t.Errorf("%s/go.mod is not siphon's", root)
	}
}
