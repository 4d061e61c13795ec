package harness

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

func pgTestContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func pgQueryOne(t *testing.T, p *Postgres, database, q string) []string {
	t.Helper()
	rows, err := p.Query(pgTestContext(t), database, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%s: got %d rows, want 1: %q", q, len(rows), rows)
	}
	return rows[0]
}

func pgExec(t *testing.T, p *Postgres, database string, stmts ...string) {
	t.Helper()
	if err := p.Exec(pgTestContext(t), database, stmts...); err != nil {
		t.Fatal(err)
	}
}

// TestPostgres shares one server between its subtests (each start costs an
// initdb), through SharedPostgres.
func TestPostgres(t *testing.T) {
	shared := &SharedPostgres{Options: PostgresOptions{Logf: t.Logf}}
	t.Cleanup(func() {
		if err := shared.Stop(); err != nil {
			t.Error(err)
		}
	})
	began := time.Now()
	p := shared.Get(t)
	t.Logf("StartPostgres took %s", time.Since(began).Round(time.Millisecond))
	if again := shared.Get(t); again != p {
		t.Fatalf("a second Get started another server")
	}

	t.Run("settings", func(t *testing.T) { testPostgresSettings(t, p) })
	t.Run("logical decoding", func(t *testing.T) { testPostgresLogicalDecoding(t, p) })
	t.Run("query text", func(t *testing.T) { testPostgresQueryText(t, p) })
	t.Run("query shapes", func(t *testing.T) { testPostgresQueryShapes(t, p) })
	t.Run("exec", func(t *testing.T) { testPostgresExec(t, p) })
	t.Run("exec cancel", func(t *testing.T) { testPostgresExecCancel(t, p) })
	t.Run("new database", func(t *testing.T) { testPostgresNewDatabase(t, p) })
	t.Run("url", func(t *testing.T) { testPostgresURL(t, p) })
	t.Run("replication user", func(t *testing.T) { testPostgresReplicationUser(t, p) })
	t.Run("password required", func(t *testing.T) { testPostgresPasswordRequired(t, p) })
	t.Run("bin dir", func(t *testing.T) {
		for _, tool := range []string{"pg_recvlogical", "psql", "pg_waldump"} {
			if !isExecutable(filepath.Join(p.BinDir(), tool)) {
				t.Errorf("%s is not in BinDir %s", tool, p.BinDir())
			}
		}
	})
	t.Run("shared stop", func(t *testing.T) {
		if err := shared.Stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(p.Dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Stop left %s behind (stat: %v)", p.Dir, err)
		}
		if msg := getFatal(t, shared); !strings.Contains(msg, "already stopped") {
			t.Errorf("Get after Stop: %q, want a failure saying it was stopped", msg)
		}
	})
}

func TestSharedPostgresStoppedBeforeUse(t *testing.T) {
	shared := &SharedPostgres{}
	if err := shared.Stop(); err != nil {
		t.Fatal(err)
	}
	if msg := getFatal(t, shared); !strings.Contains(msg, "already stopped") {
		t.Errorf("Get after Stop: %q, want a failure saying it was stopped", msg)
	}
}

// fatalRecorder is a testing.TB whose Fatal ends only the goroutine.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

// getFatal calls s.Get and returns the message it failed the test with, ""
// when it returned a server.
func getFatal(t *testing.T, s *SharedPostgres) string {
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if p := s.Get(rec); p != nil {
			t.Errorf("Get returned a server at %s", p.Addr())
		}
	}()
	<-done
	return rec.msg
}

func testPostgresSettings(t *testing.T, p *Postgres) {
	names := []string{
		"wal_level", "max_replication_slots", "max_wal_senders", "listen_addresses", "port",
		"unix_socket_directories", "logical_decoding_work_mem", "wal_sender_timeout", "max_connections",
		"shared_buffers", "fsync", "synchronous_commit", "full_page_writes", "TimeZone",
		"log_min_messages", "server_encoding", "lc_collate", "password_encryption",
	}
	var q strings.Builder
	q.WriteString("SELECT ")
	for i, name := range names {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("current_setting(" + quotePGString(name) + ")")
	}
	got := pgQueryOne(t, p, "", q.String())
	want := []string{
		"logical", "20", "20", "127.0.0.1", strconv.Itoa(p.Port),
		p.Dir, "64kB", "1min", "100",
		"64MB", "off", "on", "off", "UTC",
		"warning", "UTF8", "C", "scram-sha-256",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server settings %q (-want +got):\n%s", names, diff)
	}
	if p.Host != "127.0.0.1" || p.Port <= 0 {
		t.Errorf("Host:Port = %s:%d, want 127.0.0.1 and a port", p.Host, p.Port)
	}
	for _, name := range []string{postgresLogName, ownerFileName, ".s.PGSQL." + strconv.Itoa(p.Port)} {
		if _, err := os.Stat(p.path(name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := os.Stat(p.path("pwfile")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the superuser's password file was left in %s (stat: %v)", p.Dir, err)
	}
	if os.Geteuid() == 0 {
		u, err := user.Lookup(postgresOSUser)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p.dataDir())
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; strconv.FormatUint(uint64(uid), 10) != u.Uid {
			t.Errorf("running as root: data directory owned by uid %d, want %s's %s", uid, postgresOSUser, u.Uid)
		}
	}
}

// testPostgresLogicalDecoding proves what siphon builds on: a pgoutput
// slot sees an insert into a published table.
func testPostgresLogicalDecoding(t *testing.T, p *Postgres) {
	ctx := pgTestContext(t)
	db, err := p.NewDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	pgExec(t, p, db,
		"CREATE TABLE t (id int PRIMARY KEY, name text)",
		"CREATE PUBLICATION pub FOR TABLE t",
		"SELECT pg_create_logical_replication_slot('slot', 'pgoutput')",
		"INSERT INTO t VALUES (1, 'hello'), (2, NULL)",
	)
	msgs := peekPgoutput(t, p, db, "slot", "pub")
	want := []string{"B", "R public.t [id name]", "I [1 hello]", "I [2 NULL]", "C"}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("pgoutput messages (-want +got):\n%s", diff)
	}
}

// peekPgoutput reads a slot's pending changes without consuming them and
// summarises each pgoutput message.
func peekPgoutput(t *testing.T, p *Postgres, db, slot, publication string) []string {
	t.Helper()
	rows, err := p.Query(pgTestContext(t), db, "SELECT data FROM pg_logical_slot_peek_binary_changes("+quotePGString(slot)+
		", NULL, NULL, 'proto_version', '1', 'publication_names', "+quotePGString(publication)+")")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, row := range rows {
		data, err := hex.DecodeString(strings.TrimPrefix(row[0], `\x`))
		if err != nil {
			t.Fatalf("slot data %q: %v", row[0], err)
		}
		msgs = append(msgs, summarisePgoutput(t, data))
	}
	return msgs
}

func summarisePgoutput(t *testing.T, data []byte) string {
	t.Helper()
	m, err := pglogrepl.Parse(data)
	if err != nil {
		t.Fatalf("pgoutput message %x: %v", data, err)
	}
	switch m := m.(type) {
	case *pglogrepl.BeginMessage:
		return "B"
	case *pglogrepl.CommitMessage:
		return "C"
	case *pglogrepl.RelationMessage:
		var cols []string
		for _, c := range m.Columns {
			cols = append(cols, c.Name)
		}
		return "R " + m.Namespace + "." + m.RelationName + " [" + strings.Join(cols, " ") + "]"
	case *pglogrepl.InsertMessage:
		return "I " + summariseTuple(m.Tuple)
	case *pglogrepl.UpdateMessage:
		return "U " + summariseTuple(m.NewTuple)
	default:
		return string(rune(m.Type()))
	}
}

func summariseTuple(tuple *pglogrepl.TupleData) string {
	var vals []string
	for _, c := range tuple.Columns {
		if c.DataType == pglogrepl.TupleDataTypeNull {
			vals = append(vals, "NULL")
		} else {
			vals = append(vals, string(c.Data))
		}
	}
	return "[" + strings.Join(vals, " ") + "]"
}

func testPostgresQueryText(t *testing.T, p *Postgres) {
	tests := []struct {
		expr string
		want string
	}{
		{"NULL", "NULL"},
		{"'NULL'", "NULL"},
		{"''", ""},
		{"1.50::numeric", "1.50"},
		{"1e20::float8", "1e+20"},
		{"-3", "-3"},
		{"18446744073709551615", "18446744073709551615"},
		{"true", "t"},
		{"'héllo ✓'", "héllo ✓"},
		{"repeat('x', 300)", strings.Repeat("x", 300)},
		{"'2024-02-29 12:34:56.5'::timestamp", "2024-02-29 12:34:56.5"},
		{"'2024-02-29 12:34:56.5+02'::timestamptz", "2024-02-29 10:34:56.5+00"},
		{`'\x00ff'::bytea`, `\x00ff`},
		{"ARRAY[1, NULL]", "{1,NULL}"},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			got := pgQueryOne(t, p, "", "SELECT "+tt.expr)
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("SELECT %s (-want +got):\n%s", tt.expr, diff)
			}
		})
	}
}

func testPostgresQueryShapes(t *testing.T, p *Postgres) {
	tests := []struct {
		q    string
		want [][]string
	}{
		{"DO $$ BEGIN END $$", nil},
		{"SELECT 1 WHERE false", [][]string{}},
		{"SELECT 1, 'a' UNION ALL SELECT 2, 'b'", [][]string{{"1", "a"}, {"2", "b"}}},
		{"SELECT 1; SELECT 2", [][]string{{"2"}}},
		{"SELECT current_database()", [][]string{{"postgres"}}},
	}
	for _, tt := range tests {
		got, err := p.Query(pgTestContext(t), "", tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.q, diff)
		}
	}
}

func testPostgresExec(t *testing.T, p *Postgres) {
	ctx := pgTestContext(t)
	// A temporary table lives as long as its connection: the statements
	// share one.
	if err := p.Exec(ctx, "", "CREATE TEMP TABLE tmp (x int)", "INSERT INTO tmp VALUES (1)", "SELECT x FROM tmp"); err != nil {
		t.Errorf("statements on one connection: %v", err)
	}
	err := p.Exec(ctx, "", "SELECT 1", "SELEC oops")
	if err == nil {
		t.Fatal("Exec of an invalid statement succeeded")
	}
	if !strings.Contains(err.Error(), `"SELEC oops"`) || strings.Contains(err.Error(), `"SELECT 1"`) || !strings.Contains(err.Error(), "42601") {
		t.Errorf("error %q should name the failing statement only, with its SQLSTATE", err)
	}
	err = p.Exec(ctx, "no_such_database", "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "no_such_database") {
		t.Errorf("Exec in a missing database: %v", err)
	}
}

func testPostgresExecCancel(t *testing.T, p *Postgres) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := p.Exec(ctx, "", "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Exec with a cancelled context: %v, want context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := p.Exec(ctx, "", "SELECT pg_sleep(30) /* harness cancel test */")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(began); elapsed > 10*time.Second {
		t.Errorf("Exec returned after %s, want soon after the deadline", elapsed)
	}
	// The server got a cancel request: the statement is not left running.
	deadline := time.Now().Add(10 * time.Second)
	for {
		row := pgQueryOne(t, p, "", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%harness cancel test%' AND pid <> pg_backend_pid()")
		if row[0] == "0" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cancelled pg_sleep still runs on the server %s later", time.Since(began))
		}
		time.Sleep(readinessInterval)
	}
}

func testPostgresNewDatabase(t *testing.T, p *Postgres) {
	ctx := pgTestContext(t)
	a, err := p.NewDatabase(ctx, "Same Prefix/x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.NewDatabase(ctx, "Same Prefix/x")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two databases named %q", a)
	}
	long, err := p.NewDatabase(ctx, strings.Repeat("x", 100))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := p.Query(ctx, "", "SELECT datname FROM pg_database")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rows {
		names = append(names, r[0])
	}
	for _, db := range []string{a, b, long} {
		if !slices.Contains(names, db) {
			t.Errorf("database %q not in pg_database %q", db, names)
		}
	}
	if got := pgQueryOne(t, p, a, "SELECT current_database()")[0]; got != a {
		t.Errorf("Query in %s ran in %s", a, got)
	}
}

func testPostgresURL(t *testing.T, p *Postgres) {
	port := strconv.Itoa(p.Port)
	tests := []struct {
		user, password, database string
		want                     string
	}{
		{"postgres", "pw", "postgres", "postgres://postgres:pw@127.0.0.1:" + port + "/postgres?sslmode=disable"},
		{"siphon", "p@ss:w/rd", "shop", "postgres://siphon:p%40ss%3Aw%2Frd@127.0.0.1:" + port + "/shop?sslmode=disable"},
		{"siphon", "pw", "", "postgres://siphon:pw@127.0.0.1:" + port + "/?sslmode=disable"},
		{"siphon", "pw", "a b?c", "postgres://siphon:pw@127.0.0.1:" + port + "/a%20b%3Fc?sslmode=disable"},
	}
	for _, tt := range tests {
		if got := p.URL(tt.user, tt.password, tt.database); got != tt.want {
			t.Errorf("URL(%q, %q, %q) = %q, want %q", tt.user, tt.password, tt.database, got, tt.want)
		}
	}
	if got, want := p.SuperuserURL("x"), p.URL(PostgresSuperuser, PostgresSuperuserPassword, "x"); got != want {
		t.Errorf("SuperuserURL(x) = %q, want %q", got, want)
	}
	// The URL works as a pgx connection string.
	c, err := pgconn.Connect(pgTestContext(t), p.SuperuserURL(""))
	if err != nil {
		t.Fatalf("connect with SuperuserURL: %v", err)
	}
	closePgConn(c)
}

func testPostgresReplicationUser(t *testing.T, p *Postgres) {
	ctx := pgTestContext(t)
	const user, password = "siphon_repl", `pa'ss\word "x"`
	if err := p.CreateReplicationUser(ctx, user, "first password"); err != nil {
		t.Fatal(err)
	}
	// A second call resets the password of the existing role.
	if err := p.CreateReplicationUser(ctx, user, password); err != nil {
		t.Fatal(err)
	}
	db, err := p.NewDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	pgExec(t, p, db,
		"CREATE TABLE t (id int PRIMARY KEY, v text)",
		"INSERT INTO t VALUES (1, 'before')",
		"CREATE PUBLICATION siphon FOR TABLE t",
	)

	c, err := p.connect(ctx, user, password, db)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	defer closePgConn(c)
	allowed := []string{
		"SELECT * FROM t",
		"SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass",
		"SELECT pubname FROM pg_publication",
		"SELECT pg_current_wal_lsn()",
		"BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t; COMMIT",
	}
	for _, q := range allowed {
		if _, err := c.Exec(ctx, q).ReadAll(); err != nil {
			t.Errorf("as %s: %s: %v", user, q, err)
		}
	}
	denied := []string{
		"INSERT INTO t VALUES (2, 'no')",
		"CREATE TABLE mine (id int)",
		"CREATE PUBLICATION everything FOR ALL TABLES",
		"CREATE DATABASE not_for_siphon",
	}
	for _, q := range denied {
		if _, err := c.Exec(ctx, q).ReadAll(); err == nil {
			t.Errorf("as %s: %s succeeded, want permission denied", user, q)
		}
	}

	repl, err := pgconn.Connect(ctx, p.URL(user, password, db)+"&replication=database")
	if err != nil {
		t.Fatalf("replication connection as %s: %v", user, err)
	}
	defer closePgConn(repl)
	sys, err := pglogrepl.IdentifySystem(ctx, repl)
	if err != nil {
		t.Fatalf("IDENTIFY_SYSTEM as %s: %v", user, err)
	}
	if sys.DBName != db {
		t.Errorf("IDENTIFY_SYSTEM dbname = %q, want %q", sys.DBName, db)
	}
	slot, err := pglogrepl.CreateReplicationSlot(ctx, repl, "siphon_slot", "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication})
	if err != nil {
		t.Fatalf("CREATE_REPLICATION_SLOT as %s: %v", user, err)
	}
	start, err := pglogrepl.ParseLSN(slot.ConsistentPoint)
	if err != nil {
		t.Fatal(err)
	}
	err = pglogrepl.StartReplication(ctx, repl, slot.SlotName, start, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names 'siphon'"},
	})
	if err != nil {
		t.Fatalf("START_REPLICATION as %s: %v", user, err)
	}
	pgExec(t, p, db, "INSERT INTO t VALUES (7, 'streamed')")
	for {
		msg, err := repl.ReceiveMessage(ctx)
		if err != nil {
			t.Fatalf("waiting for the insert: %v", err)
		}
		data, ok := msg.(*pgproto3.CopyData)
		if !ok || len(data.Data) == 0 || data.Data[0] != pglogrepl.XLogDataByteID {
			continue
		}
		xld, err := pglogrepl.ParseXLogData(data.Data[1:])
		if err != nil {
			t.Fatal(err)
		}
		if got := summarisePgoutput(t, xld.WALData); strings.HasPrefix(got, "I ") {
			if got != "I [7 streamed]" {
				t.Errorf("streamed insert = %s, want I [7 streamed]", got)
			}
			return
		}
	}
}

func testPostgresPasswordRequired(t *testing.T, p *Postgres) {
	ctx := pgTestContext(t)
	for _, url := range []string{
		p.URL(PostgresSuperuser, "wrong", ""),
		p.URL(PostgresSuperuser, "", ""),
		"host=" + p.Dir + " port=" + strconv.Itoa(p.Port) + " user=postgres password=wrong sslmode=disable",
	} {
		c, err := pgconn.Connect(ctx, url)
		if err == nil {
			closePgConn(c)
			t.Errorf("connected without the right password: %s", url)
			continue
		}
		if !strings.Contains(err.Error(), "password authentication failed") && !strings.Contains(err.Error(), "password") {
			t.Errorf("connect %s: %v, want a password error", url, err)
		}
	}
	c, err := pgconn.Connect(ctx, "host="+p.Dir+" port="+strconv.Itoa(p.Port)+" user=postgres password="+PostgresSuperuserPassword+" sslmode=disable")
	if err != nil {
		t.Fatalf("connect over the Unix socket with the password: %v", err)
	}
	closePgConn(c)
}

func TestPostgresKillRestartKeepsCommittedData(t *testing.T) {
	ctx := pgTestContext(t)
	p := NewPostgres(t, PostgresOptions{Conf: map[string]string{
		"logical_decoding_work_mem": "128kB",
		"max_prepared_transactions": "3",
	}})
	got := pgQueryOne(t, p, "", "SELECT current_setting('logical_decoding_work_mem'), current_setting('max_prepared_transactions')")
	if diff := cmp.Diff([]string{"128kB", "3"}, got); diff != "" {
		t.Errorf("Conf not applied (-want +got):\n%s", diff)
	}
	pgExec(t, p, "",
		"CREATE TABLE t (id int PRIMARY KEY, v text)",
		"CREATE PUBLICATION pub FOR TABLE t",
		"SELECT pg_create_logical_replication_slot('slot', 'pgoutput')",
		"INSERT INTO t VALUES (1, 'a'), (2, 'b')",
		"UPDATE t SET v = 'B' WHERE id = 2",
	)
	port, dir := p.Port, p.Dir

	// A backend busy in a statement while the server dies.
	busy := make(chan error, 1)
	go func() { busy <- p.Exec(t.Context(), "", "SELECT pg_sleep(60) /* busy at kill */") }()
	deadline := time.Now().Add(30 * time.Second)
	for pgQueryOne(t, p, "", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%busy at kill%' AND pid <> pg_backend_pid()")[0] != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the busy statement never showed in pg_stat_activity")
		}
		time.Sleep(readinessInterval)
	}

	p.mu.Lock()
	serverProcesses := append(childProcesses(p.server.cmd.Process.Pid), p.server.cmd.Process.Pid)
	p.mu.Unlock()
	if len(serverProcesses) < 4 {
		t.Errorf("postmaster and children %v: want the postmaster, its auxiliary processes and the busy backend", serverProcesses)
	}

	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range serverProcesses {
		if processRunning(pid) {
			t.Errorf("server process %d still runs after Kill", pid)
		}
	}
	if err := <-busy; err == nil {
		t.Error("a statement running at Kill succeeded")
	}
	if conn, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		conn.Close()
		t.Fatal("server still accepts connections after Kill")
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "postmaster.pid")); err != nil {
		t.Fatalf("data dir after Kill: %v", err)
	}
	if err := p.Kill(); err == nil {
		t.Error("Kill of a killed server succeeded")
	}
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if p.Port != port || p.Dir != dir {
		t.Errorf("after Restart %s:%d in %s, want port %d in %s", p.Host, p.Port, p.Dir, port, dir)
	}
	rows, err := p.Query(ctx, "", "SELECT id, v FROM t ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]string{{"1", "a"}, {"2", "B"}}, rows); diff != "" {
		t.Errorf("rows after crash and restart (-want +got):\n%s", diff)
	}
	want := []string{"B", "R public.t [id v]", "I [1 a]", "I [2 b]", "C", "B", "U [2 B]", "C"}
	if diff := cmp.Diff(want, peekPgoutput(t, p, "postgres", "slot", "pub")); diff != "" {
		t.Errorf("slot changes after crash and restart (-want +got):\n%s", diff)
	}

	// Restart of a running server shuts it down first.
	if err := p.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pgQueryOne(t, p, "", "SELECT count(*) FROM t")[0]; got != "2" {
		t.Errorf("rows after a clean restart: %s, want 2", got)
	}

	// A streaming client that never confirms holds a fast shutdown: the
	// stop gives up after its grace, kills the server and says why.
	repl, err := pgconn.Connect(ctx, p.SuperuserURL("postgres")+"&replication=database")
	if err != nil {
		t.Fatal(err)
	}
	defer closePgConn(repl)
	slot, err := pglogrepl.CreateReplicationSlot(ctx, repl, "unconfirmed", "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true, Mode: pglogrepl.LogicalReplication})
	if err != nil {
		t.Fatal(err)
	}
	lsn, err := pglogrepl.ParseLSN(slot.ConsistentPoint)
	if err != nil {
		t.Fatal(err)
	}
	err = pglogrepl.StartReplication(ctx, repl, slot.SlotName, lsn, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names 'pub'"},
	})
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	s := p.server
	p.server = nil
	p.mu.Unlock()
	err = stopPostgresProcess(s, time.Second)
	if err == nil || !strings.Contains(err.Error(), "replication connection") {
		t.Errorf("stop with an unconfirming replication client: %v, want a kill naming the replication connection", err)
	}

	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stop left %s behind (stat: %v)", dir, err)
	}
	if err := p.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if err := p.Restart(ctx); err == nil {
		t.Error("Restart after Stop succeeded")
	}
}

func TestPostgresStartRetriesWhenPortIsTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name       string
		takenTimes int // how many attempts get the taken port
		wantErr    bool
	}{
		{"taken once, then free", 1, false},
		{"taken on every attempt", portAttempts, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			pick := func() (int, error) {
				calls++
				if calls <= tt.takenTimes {
					return takenPort, nil
				}
				return FreePort()
			}
			p, err := startPostgres(t.Context(), PostgresOptions{Logf: t.Logf}, pick)
			if tt.wantErr {
				if !errors.Is(err, errAddressInUse) {
					t.Fatalf("start with the port always taken: %v, want errAddressInUse", err)
				}
				if calls != portAttempts {
					t.Errorf("tried %d ports, want %d", calls, portAttempts)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			if p.Port == takenPort || calls != tt.takenTimes+1 {
				t.Errorf("started on port %d after %d picks; taken port %d", p.Port, calls, takenPort)
			}
		})
	}
}

// privateTempRoot points TMPDIR at a fresh directory that the server's OS
// user can reach, so a test sees exactly the directories the harness
// leaves behind.
func privateTempRoot(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TMPDIR", dir)
	if got := shortTempRoot(); got != dir {
		t.Fatalf("temp root %s, want %s", got, dir)
	}
	return dir
}

func assertEmptyDir(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", filepath.Join(dir, e.Name()))
	}
}

func TestPostgresStartFailureShowsLog(t *testing.T) {
	root := privateTempRoot(t)
	_, err := StartPostgres(t.Context(), PostgresOptions{Logf: t.Logf, Conf: map[string]string{"no_such_setting_for_the_harness": "1"}})
	if err == nil {
		t.Fatal("postgres started with an unknown setting")
	}
	for _, want := range []string{"exited before accepting connections", "no_such_setting_for_the_harness", postgresLogName} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	assertEmptyDir(t, root)
}

func TestStartMariaDBAndPostgres(t *testing.T) {
	t.Run("both start", func(t *testing.T) {
		root := privateTempRoot(t)
		ctx := pgTestContext(t)
		db, pg, err := startMariaDBAndPostgres(ctx, MariaDBOptions{Logf: t.Logf, ServerID: 3}, PostgresOptions{Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		if rows, err := db.Query(ctx, "SELECT @@server_id"); err != nil || len(rows) != 1 || rows[0][0] != "3" {
			t.Errorf("mariadb: server_id %q, %v; want 3", rows, err)
		}
		if got := pgQueryOne(t, pg, "", "SHOW wal_level")[0]; got != "logical" {
			t.Errorf("postgres: wal_level %s, want logical", got)
		}
		if err := errors.Join(db.Stop(), pg.Stop()); err != nil {
			t.Fatal(err)
		}
		assertEmptyDir(t, root)
	})
	t.Run("postgres fails", func(t *testing.T) {
		root := privateTempRoot(t)
		db, pg, err := startMariaDBAndPostgres(pgTestContext(t), MariaDBOptions{Logf: t.Logf}, PostgresOptions{Conf: map[string]string{"port": "1"}})
		if err == nil || !strings.Contains(err.Error(), "picks the port") {
			t.Errorf("start with a bad postgres option: %v", err)
		}
		if db != nil || pg != nil {
			t.Errorf("a failed start returned servers %v, %v", db, pg)
		}
		// The MariaDB server that did start is stopped again.
		assertEmptyDir(t, root)
	})
}

func TestPostgresStartRejectsBadConfBeforeWork(t *testing.T) {
	tests := []struct {
		conf map[string]string
		want string
	}{
		{map[string]string{"port": "5432"}, "picks the port"},
		{map[string]string{"PORT": "5432"}, "picks the port"},
		{map[string]string{"bad name": "1"}, `"bad name" is not a setting name`},
		{map[string]string{"x = 1\nfsync": "on"}, "is not a setting name"},
		{map[string]string{"work_mem": "1MB\nfsync = on"}, "line break"},
	}
	for _, tt := range tests {
		_, err := StartPostgres(t.Context(), PostgresOptions{Conf: tt.conf})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartPostgres with Conf %q: %v, want an error containing %q", tt.conf, err, tt.want)
		}
	}
}

func TestPostgresSettingsOverrides(t *testing.T) {
	got, err := postgresSettings("/d", map[string]string{
		"timezone":                 "Europe/Paris", // names are case-insensitive
		"wal_level":                "replica",
		"zz.custom":                "it's",
		"autovacuum":               "off",
		"shared_preload_libraries": "",
	})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	var order []string
	for _, s := range got {
		values[s.name] = s.value
		order = append(order, s.name)
	}
	for name, want := range map[string]string{
		"TimeZone": "Europe/Paris", "wal_level": "replica", "unix_socket_directories": "/d",
		"zz.custom": "it's", "autovacuum": "off", "max_wal_senders": "20", "shared_preload_libraries": "",
	} {
		if values[name] != want {
			t.Errorf("%s = %q, want %q", name, values[name], want)
		}
	}
	if slices.Contains(order, "timezone") {
		t.Errorf("an override of a default added a second line: %q", order)
	}
	if tail := order[len(order)-3:]; !slices.Equal(tail, []string{"autovacuum", "shared_preload_libraries", "zz.custom"}) {
		t.Errorf("new settings should follow the defaults in sorted order, got %q", tail)
	}
}

func TestRenderPostgresConf(t *testing.T) {
	got := renderPostgresConf([]confSetting{{"a", "x"}, {"b", `it's C:\dir`}, {"c", ""}})
	want := "\n# siphon test harness settings (later lines win)\na = 'x'\nb = 'it''s C:\\\\dir'\nc = ''\n"
	if got != want {
		t.Errorf("renderPostgresConf:\n%s\nwant:\n%s", got, want)
	}
}

func TestPostgresDatabaseName(t *testing.T) {
	tests := []struct {
		prefix string
		seq    uint64
		want   string
	}{
		{"orders", 1, "orders_1"},
		{"TestPostgres/logical_decoding", 2, "testpostgres_logical_decoding_2"},
		{strings.Repeat("a", 80), 6, strings.Repeat("a", 61) + "_6"},
		{strings.Repeat("b", 80), 123456, strings.Repeat("b", 56) + "_123456"},
		{strings.Repeat("c", 61), 7, strings.Repeat("c", 61) + "_7"},
	}
	for _, tt := range tests {
		if got := postgresDatabaseName(tt.prefix, tt.seq); got != tt.want {
			t.Errorf("postgresDatabaseName(%q, %d) = %q, want %q", tt.prefix, tt.seq, got, tt.want)
		}
	}
}

func FuzzPostgresDatabaseName(f *testing.F) {
	f.Add("TestX/sub", uint64(1))
	f.Add(strings.Repeat("z", 70), uint64(18446744073709551615))
	f.Add(`"; DROP DATABASE postgres; --`, uint64(0))
	valid := regexp.MustCompile(`^[a-z0-9_]+_[0-9]+$`)
	f.Fuzz(func(t *testing.T, prefix string, seq uint64) {
		got := postgresDatabaseName(prefix, seq)
		if len(got) > maxPostgresIdentifierLen || !valid.MatchString(got) {
			t.Fatalf("postgresDatabaseName(%q, %d) = %q: not a plain identifier of at most %d bytes", prefix, seq, got, maxPostgresIdentifierLen)
		}
		if !strings.HasSuffix(got, "_"+strconv.FormatUint(seq, 10)) {
			t.Fatalf("postgresDatabaseName(%q, %d) = %q lost the sequence suffix", prefix, seq, got)
		}
	})
}

func TestPostgresQuoting(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{quotePGString(`it's`), `'it''s'`},
		{quotePGString(`a\b`), `'a\b'`},
		{quotePGIdentifier(`we"ird`), `"we""ird"`},
		{quoteConfValue(`a'b\c`), `'a''b\\c'`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		in        string
		wantState byte
		wantPPID  int
		wantOK    bool
	}{
		{"123 (postgres) S 99 123 123 0 -1", 'S', 99, true},
		{"124 (postgres: walsender (x) idle) Z 1 124 124 0", 'Z', 1, true},
		{"125 (a b) R 7", 'R', 7, true},
		{"126 (truncated", 0, 0, false},
		{"127 (x) S", 0, 0, false},
		{"128 (x) SS 1", 0, 0, false},
		{"129 (x) S notanumber", 0, 0, false},
		{")\x00 0", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		state, ppid, ok := parseProcStat([]byte(tt.in))
		if state != tt.wantState || ppid != tt.wantPPID || ok != tt.wantOK {
			t.Errorf("parseProcStat(%q) = %q, %d, %v; want %q, %d, %v", tt.in, state, ppid, ok, tt.wantState, tt.wantPPID, tt.wantOK)
		}
	}
	state, ppid, ok := procStat(os.Getpid())
	if !ok || state == 'Z' || ppid != os.Getppid() {
		t.Errorf("procStat(self) = %q, %d, %v; want a live process with parent %d", state, ppid, ok, os.Getppid())
	}
}

func FuzzParseProcStat(f *testing.F) {
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560"))
	f.Add([]byte("2 ()) ) Z 1"))
	f.Add([]byte(")"))
	f.Add([]byte(")\x00 0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		state, ppid, ok := parseProcStat(b)
		if !ok {
			return
		}
		if !isASCIILetter(state) || !strings.Contains(string(b), strconv.Itoa(ppid)) {
			t.Fatalf("parseProcStat(%q) = %q, %d from input that does not hold them", b, state, ppid)
		}
	})
}

func TestRemoveAbandonedPostgresDirs(t *testing.T) {
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(exited.Process.Pid)
	livePID := strconv.Itoa(os.Getpid())
	old := time.Now().Add(-2 * abandonedAge)

	tests := []struct {
		name       string
		owner      string // "" for no owner file
		postmaster string // first line of data/postmaster.pid; "" for none
		old        bool
		wantKept   bool
	}{
		{"owner alive", livePID, "", false, true},
		{"owner dead", deadPID, "", false, false},
		{"owner dead, postmaster alive", deadPID, livePID, false, true},
		{"owner dead, postmaster dead", deadPID, deadPID, true, false},
		{"owner dead, postmaster.pid garbled", deadPID, "x", false, false},
		{"no owner, young", "", "", false, true},
		{"no owner, old", "", "", true, false},
		{"no owner, old, postmaster alive", "", livePID, true, true},
	}
	root := t.TempDir()
	dirs := make([]string, len(tests))
	for i, tt := range tests {
		dirs[i] = filepath.Join(root, postgresDirPrefix+strconv.Itoa(i))
		if err := os.MkdirAll(filepath.Join(dirs[i], "data"), 0o700); err != nil {
			t.Fatal(err)
		}
		if tt.owner != "" {
			writeFile(t, filepath.Join(dirs[i], ownerFileName), tt.owner)
		}
		if tt.postmaster != "" {
			// postmaster.pid: pid, data dir, start time, port, socket dir, ...
			writeFile(t, filepath.Join(dirs[i], "data", "postmaster.pid"), tt.postmaster+"\n"+dirs[i]+"/data\n1700000000\n5432\n")
		}
		if tt.old {
			if err := os.Chtimes(dirs[i], old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{dirPrefix + "kept", "someone-else"} {
		other := filepath.Join(root, name)
		if err := os.Mkdir(other, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(other, old, old); err != nil {
			t.Fatal(err)
		}
	}

	removeAbandonedPostgresDirs(root, t.Logf)

	for i, tt := range tests {
		_, err := os.Stat(dirs[i])
		if kept := err == nil; kept != tt.wantKept {
			t.Errorf("%s: kept = %v, want %v", tt.name, kept, tt.wantKept)
		}
	}
	for _, name := range []string{dirPrefix + "kept", "someone-else"} {
		if _, err := os.Stat(filepath.Join(root, name)); err != nil {
			t.Errorf("a directory without the postgres prefix was touched: %v", err)
		}
	}
}
