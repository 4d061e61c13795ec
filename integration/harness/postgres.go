package harness

// # PostgreSQL instance lifecycle
//
// StartPostgres creates a temporary directory, runs initdb into it (UTF8,
// locale C, superuser "postgres" with PostgresSuperuserPassword, SCRAM
// authentication), appends the harness settings to postgresql.conf, writes
// its own pg_hba.conf, picks a free loopback port and runs postgres in the
// foreground as a child process. It returns once the superuser can log in
// over TCP with its password and the server reports our data directory; if
// postgres exits first, the error carries the tail of the server log. A port
// taken between FreePort and the bind is retried with a new port (three
// attempts in all).
//
// PostgreSQL refuses to run as root. When the test runs as root, initdb and
// postgres run as the "postgres" OS user (Debian's postgresql package
// creates it) and the directory is chowned to it; otherwise they run as the
// current user.
//
// Stop asks for a fast shutdown (SIGINT: clients are disconnected, a
// checkpoint is written; SIGTERM would wait for every client, a streaming
// replication connection included), kills the server after a grace period
// and deletes the directory. Kill is a crash: SIGKILL to the postmaster and
// to every process it started, then a wait until they are all gone, so that
// Restart finds no old process attached to the shared memory and runs crash
// recovery on the same data and port. postgres is started with a
// parent-death signal; its children exit when they see the postmaster die.
//
// # Directory layout
//
//	<Dir>/data              PGDATA
//	<Dir>/data/postmaster.pid
//	<Dir>/postgres.log      stdout and stderr of initdb and postgres: the
//	                        server log (log_destination=stderr, no collector,
//	                        so startup failures land there too)
//	<Dir>/.s.PGSQL.<PORT>   Unix socket
//	<Dir>/owner.pid         pid of the process that called StartPostgres
//
// Directories left by a test binary that died without Stop are removed by
// the next StartPostgres once their owner and postmaster are both gone.
//
// # Server settings and why
//
// The settings are appended to postgresql.conf rather than passed with -c,
// so ALTER SYSTEM (postgresql.auto.conf) can still override them in a test;
// only the port is on the command line. PostgresOptions.Conf overrides them.
//
//   - wal_level=logical, max_replication_slots=20, max_wal_senders=20: what
//     siphon reads, with room for many slots in one shared instance.
//   - logical_decoding_work_mem=64kB: the minimum, so small transactions
//     already exercise spilling and streaming of large transactions.
//   - listen_addresses=127.0.0.1, unix_socket_directories=<Dir>: loopback
//     only, and no socket in /var/run/postgresql.
//   - fsync=off, full_page_writes=off: no fsync. Durability across an OS
//     crash is not under test; every write still reaches the OS, so Kill
//     (which kills processes, not the kernel) tears no page.
//   - synchronous_commit=on (PostgreSQL's default): with fsync=off it costs a
//     write(2) per commit. Off, the WAL of a commit can still sit in shared
//     memory when Kill strikes (losing a committed transaction), and a
//     logical walsender only sends WAL once it is flushed, so every change
//     would reach siphon up to wal_writer_delay (200 ms) late.
//   - max_connections=100, shared_buffers=64MB: small but not starved on a
//     2-core machine.
//   - wal_sender_timeout=60s, TimeZone=UTC, log_min_messages=warning.
//
// pg_hba.conf accepts SCRAM passwords only, for normal and replication
// connections, on 127.0.0.1 and the Unix socket: tests exercise real
// password authentication.
//
// # Connections
//
// Exec, Query and the readiness check use pgconn (pgx's connection layer)
// with the simple query protocol and a fresh connection per call, so results
// are the server's text. A cancelled context sends the server a cancel
// request and then closes the connection.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
)

// AptInstallPostgres is the command that provides the PostgreSQL binaries on
// Debian; .ci/deps runs it when they are missing.
const AptInstallPostgres = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql postgresql-client"

// ErrPostgresMissing reports that initdb or postgres is not installed.
var ErrPostgresMissing = errors.New("harness: PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH; install them with: " + AptInstallPostgres + " (or run .ci/deps)")

const (
	// PostgresSuperuser is the superuser initdb creates.
	PostgresSuperuser = "postgres"
	// PostgresSuperuserPassword is its password; pg_hba.conf demands it even
	// on the Unix socket.
	PostgresSuperuserPassword = "siphon-test-superuser"

	postgresDirPrefix = "siphon-postgres-"
	postgresOSUser    = "postgres"
	postgresLogName   = "postgres.log"

	// maxPostgresIdentifierLen is NAMEDATALEN-1.
	maxPostgresIdentifierLen = 63

	// killWaitTimeout bounds the wait for a killed server's processes to go.
	killWaitTimeout = 10 * time.Second
	// postgresStopGrace is shorter than MariaDB's: a fast shutdown of a
	// test-sized cluster takes well under a second, and what holds one up
	// is a replication client (see Stop), which only wal_sender_timeout
	// would end.
	postgresStopGrace = 20 * time.Second
)

// PostgresOptions configure a private PostgreSQL server.
type PostgresOptions struct {
	// Conf holds extra postgresql.conf settings; they override the
	// harness's. The port is the harness's to choose.
	Conf map[string]string
	// Logf, when set, receives progress messages (t.Logf fits).
	Logf func(format string, args ...any)
}

// Postgres is a private postgres child process listening on Host:Port with
// all its files under Dir.
type Postgres struct {
	Host string
	Port int
	Dir  string

	opts   PostgresOptions
	binDir string
	// runAs is the OS user initdb and postgres run as; nil for the current
	// user.
	runAs *syscall.Credential

	mu     sync.Mutex
	server *serverProcess // nil when not running
	closed bool           // Stop ran; the directory is gone

	dbSeq atomic.Uint64
}

// StartPostgres initialises a new cluster in a temporary directory and
// starts postgres on a free loopback port. ctx bounds the start only (two
// minutes when it has no deadline); the server runs until Stop or Kill.
func StartPostgres(ctx context.Context, o PostgresOptions) (*Postgres, error) {
	return startPostgres(ctx, o, FreePort)
}

// startPostgres takes the port picker as a parameter so tests can hand it a
// taken port.
func startPostgres(ctx context.Context, o PostgresOptions, pickPort func() (int, error)) (*Postgres, error) {
	began := time.Now()
	if _, err := postgresSettings("/x", o.Conf); err != nil {
		return nil, err
	}
	binDir, err := findPostgresBinDir()
	if err != nil {
		return nil, err
	}
	runAs, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	root := postgresTempRoot(runAs)
	removeAbandonedPostgresDirs(root, o.Logf)
	dir, err := os.MkdirTemp(root, postgresDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("harness: postgres: create temp dir: %w", err)
	}
	p := &Postgres{Host: "127.0.0.1", Dir: dir, opts: o, binDir: binDir, runAs: runAs}
	ctx, cancel := withDefaultTimeout(ctx, defaultStartTimeout)
	defer cancel()
	if err := p.initialise(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		p.Port = port
		err = p.run(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, errAddressInUse) || attempt == portAttempts {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		p.logf("harness: postgres: port %d was taken, trying another", port)
	}
	p.logf("harness: postgres: started on %s in %s (dir %s)", p.Addr(), time.Since(began).Round(time.Millisecond), dir)
	return p, nil
}

// NewPostgres starts a private server for one test and stops it in
// t.Cleanup. It fails the test when the server cannot start, naming the apt
// command when the binaries are missing.
func NewPostgres(t testing.TB, o PostgresOptions) *Postgres {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
	defer cancel()
	p, err := StartPostgres(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop postgres: %v", err)
		}
	})
	return p
}

// MainWithPostgres starts one server for a whole test binary, passes it to
// use, runs the tests and stops the server, like MainWithMariaDB:
//
//	func TestMain(m *testing.M) {
//		os.Exit(harness.MainWithPostgres(m, harness.PostgresOptions{}, func(p *harness.Postgres) { shared = p }))
//	}
//
// When the server cannot start it prints why and returns 1 without running
// any test.
func MainWithPostgres(m *testing.M, o PostgresOptions, use func(*Postgres)) int {
	ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
	p, err := StartPostgres(ctx, o)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := p.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	use(p)
	return m.Run()
}

// MainWithMariaDBAndPostgres is MainWithMariaDB and MainWithPostgres in one,
// for packages whose tests need both (MariaDB to PostgreSQL, say). The two
// servers start concurrently, so the start costs about the slower of the two.
func MainWithMariaDBAndPostgres(m *testing.M, mo MariaDBOptions, po PostgresOptions, use func(*MariaDB, *Postgres)) int {
	ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
	db, pg, err := startMariaDBAndPostgres(ctx, mo, po)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := errors.Join(db.Stop(), pg.Stop()); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	use(db, pg)
	return m.Run()
}

// startMariaDBAndPostgres starts both servers concurrently; when either
// fails, the other is stopped again.
func startMariaDBAndPostgres(ctx context.Context, mo MariaDBOptions, po PostgresOptions) (*MariaDB, *Postgres, error) {
	var (
		db           *MariaDB
		pg           *Postgres
		dbErr, pgErr error
		wg           sync.WaitGroup
	)
	wg.Go(func() { db, dbErr = StartMariaDB(ctx, mo) })
	wg.Go(func() { pg, pgErr = StartPostgres(ctx, po) })
	wg.Wait()
	if dbErr == nil && pgErr == nil {
		return db, pg, nil
	}
	err := errors.Join(dbErr, pgErr)
	if dbErr == nil {
		err = errors.Join(err, db.Stop())
	}
	if pgErr == nil {
		err = errors.Join(err, pg.Stop())
	}
	return nil, nil, err
}

// SharedPostgres is one server for a whole test binary, started by the
// first test that asks for it, like SharedMariaDB. Stop it in TestMain after
// m.Run; tests call Get(t) and isolate themselves with NewDatabase.
type SharedPostgres struct {
	// Options for the server. Its Logf must outlive every test (not a
	// t.Logf): the server is shared.
	Options PostgresOptions

	once sync.Once
	p    *Postgres
	err  error
}

// Get returns the shared server, starting it on first use. When it cannot
// start, every caller's test fails with the same error.
func (s *SharedPostgres) Get(t testing.TB) *Postgres {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
		defer cancel()
		s.p, s.err = StartPostgres(ctx, s.Options)
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.p
}

// Stop stops the server if one was started; later Gets fail.
func (s *SharedPostgres) Stop() error {
	s.once.Do(func() {})
	if s.err == nil {
		s.err = errors.New("harness: shared postgres: already stopped")
	}
	if s.p == nil {
		return nil
	}
	p := s.p
	s.p = nil
	return p.Stop()
}

// Addr is "127.0.0.1:PORT".
func (p *Postgres) Addr() string {
	return net.JoinHostPort(p.Host, strconv.Itoa(p.Port))
}

// BinDir is the directory of the server's binaries (pg_recvlogical,
// pg_waldump, psql, ...), for benchmarks that compare against them.
func (p *Postgres) BinDir() string { return p.binDir }

// URL is "postgres://user:password@127.0.0.1:PORT/database?sslmode=disable",
// the form siphon's configuration takes. User, password and database are
// URL-escaped; an empty database means the server's default, the user's
// name.
func (p *Postgres) URL(user, password, database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(user, password),
		Host:     p.Addr(),
		Path:     "/" + database,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// SuperuserURL is URL for the superuser postgres.
func (p *Postgres) SuperuserURL(database string) string {
	return p.URL(PostgresSuperuser, PostgresSuperuserPassword, database)
}

// Stop shuts the server down (fast shutdown; SIGKILL if it has not exited
// after 20 seconds, reported as an error) and removes Dir. It is safe to
// call more than once.
//
// Close logical replication connections first: in a fast shutdown each
// walsender waits until its client confirms the last WAL it was sent, so a
// client that is still connected but does not confirm (one that is
// stopped, or never sends standby status updates) holds the shutdown.
func (p *Postgres) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var stopErr error
	if s := p.server; s != nil {
		p.server = nil
		stopErr = stopPostgresProcess(s, postgresStopGrace)
	}
	if err := os.RemoveAll(p.Dir); err != nil {
		return errors.Join(stopErr, fmt.Errorf("harness: postgres: remove %s: %w", p.Dir, err))
	}
	return stopErr
}

// Kill crashes the server: SIGKILL to the postmaster and every process it
// started, then a wait until they are gone. Dir is kept for Restart.
func (p *Postgres) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.server
	if s == nil {
		return errors.New("harness: postgres: kill: server is not running")
	}
	p.server = nil
	if err := killPostgresProcesses(s); err != nil {
		return fmt.Errorf("harness: postgres: kill: %w", err)
	}
	p.logf("harness: postgres: killed server on %s", p.Addr())
	return nil
}

// Restart starts the server again on the same directory and port after Kill
// (or after the server died). If it is still running it is shut down first.
func (p *Postgres) Restart(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("harness: postgres: restart: instance was stopped and its directory removed")
	}
	if s := p.server; s != nil {
		p.server = nil
		if err := stopPostgresProcess(s, postgresStopGrace); err != nil {
			return fmt.Errorf("harness: postgres: restart: %w", err)
		}
	}
	ctx, cancel := withDefaultTimeout(ctx, defaultStartTimeout)
	defer cancel()
	began := time.Now()
	if err := p.runLocked(ctx); err != nil {
		return fmt.Errorf("harness: postgres: restart: %w", err)
	}
	p.logf("harness: postgres: restarted on %s in %s", p.Addr(), time.Since(began).Round(time.Millisecond))
	return nil
}

// Exec runs each statement separately, in order, as the superuser on one
// connection to database ("" is the database postgres), so SET and
// transaction statements apply to the statements after them. The error
// names the statement that failed.
func (p *Postgres) Exec(ctx context.Context, database string, stmts ...string) error {
	c, err := p.connect(ctx, PostgresSuperuser, PostgresSuperuserPassword, database)
	if err != nil {
		return fmt.Errorf("harness: postgres exec: %w", err)
	}
	defer closePgConn(c)
	for _, stmt := range stmts {
		if _, err := c.Exec(ctx, stmt).ReadAll(); err != nil {
			return fmt.Errorf("harness: postgres exec %s: %w", abbreviate(stmt), pgCause(ctx, err))
		}
	}
	return nil
}

// Query runs q as the superuser in database ("" is postgres) and returns
// its rows as the server's text: NULL is "NULL", bytea is "\x…" hex. A
// statement without a result set returns no rows; when q holds several
// statements, the rows are the last one's.
func (p *Postgres) Query(ctx context.Context, database, q string) ([][]string, error) {
	c, err := p.connect(ctx, PostgresSuperuser, PostgresSuperuserPassword, database)
	if err != nil {
		return nil, fmt.Errorf("harness: postgres query: %w", err)
	}
	defer closePgConn(c)
	rows, err := readTextResults(c.Exec(ctx, q))
	if err != nil {
		return nil, fmt.Errorf("harness: postgres query %s: %w", abbreviate(q), pgCause(ctx, err))
	}
	return rows, nil
}

// readTextResults returns the last result set's rows as text, nil when the
// last statement has none. (pgconn's ReadAll drops the columns of a result
// without rows, which would make an empty result look like none.)
func readTextResults(mrr *pgconn.MultiResultReader) ([][]string, error) {
	var rows [][]string
	var err error
	for mrr.NextResult() {
		rr := mrr.ResultReader()
		rows = nil
		if len(rr.FieldDescriptions()) > 0 {
			rows = [][]string{}
		}
		for rr.NextRow() {
			values := rr.Values()
			row := make([]string, len(values))
			for i, v := range values {
				if v == nil {
					row[i] = "NULL"
				} else {
					row[i] = string(v)
				}
			}
			rows = append(rows, row)
		}
		if _, err = rr.Close(); err != nil {
			break
		}
	}
	if closeErr := mrr.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// NewDatabase creates a database named after prefix (lower-cased, reduced
// to [a-z0-9_], t.Name() fits) with a suffix unique within this instance,
// and returns its name. Replication slots and publications are per
// database, so a test's own database isolates those too.
func (p *Postgres) NewDatabase(ctx context.Context, prefix string) (string, error) {
	name := postgresDatabaseName(prefix, p.dbSeq.Add(1))
	if err := p.Exec(ctx, "", "CREATE DATABASE "+quotePGIdentifier(name)); err != nil {
		return "", err
	}
	return name, nil
}

// CreateReplicationUser creates user (or, when it exists, resets its
// password and attributes) with the least rights siphon needs on
// PostgreSQL 15:
//
//   - LOGIN REPLICATION: open replication=database connections, create and
//     drop logical replication slots and stream them (pgoutput decodes in
//     the walsender, so streaming needs no table privilege).
//   - pg_read_all_data: SELECT on every table in every database, for
//     snapshots and for reading the catalogue; the counterpart of MariaDB's
//     SELECT ON *.*. CONNECT on databases comes from PUBLIC's default.
//
// Publications are not granted. The least-rights setup is a publication
// created by an administrator (CREATE PUBLICATION siphon FOR TABLE …,
// which needs ownership of the tables, or FOR ALL TABLES, which needs a
// superuser) that siphon only names. For siphon to create its own
// publication the user needs CREATE on the database and ownership of every
// table it lists; tests that want that grant it with Exec.
func (p *Postgres) CreateReplicationUser(ctx context.Context, user, password string) error {
	if strings.ContainsRune(user, 0) || strings.ContainsRune(password, 0) {
		return fmt.Errorf("harness: create replication user %q: PostgreSQL names and passwords cannot contain NUL", user)
	}
	rows, err := p.Query(ctx, "", "SELECT count(*) FROM pg_roles WHERE rolname = "+quotePGString(user))
	if err != nil {
		return fmt.Errorf("harness: create replication user %s: %w", user, err)
	}
	verb := "CREATE"
	if len(rows) == 1 && rows[0][0] == "1" {
		verb = "ALTER"
	}
	role := quotePGIdentifier(user)
	err = p.Exec(ctx, "",
		verb+" ROLE "+role+" LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD "+quotePGString(password),
		"GRANT pg_read_all_data TO "+role,
	)
	if err != nil {
		return fmt.Errorf("harness: create replication user %s: %w", user, err)
	}
	return nil
}

func (p *Postgres) logf(format string, args ...any) {
	if p.opts.Logf != nil {
		p.opts.Logf(format, args...)
	}
}

func (p *Postgres) path(name string) string { return filepath.Join(p.Dir, name) }

func (p *Postgres) dataDir() string { return p.path("data") }

// initialise runs initdb into Dir/data and writes the configuration.
func (p *Postgres) initialise(ctx context.Context) error {
	pwfile := p.path("pwfile")
	if err := os.WriteFile(pwfile, []byte(PostgresSuperuserPassword+"\n"), 0o600); err != nil {
		return fmt.Errorf("harness: postgres: %w", err)
	}
	if err := os.WriteFile(p.path(ownerFileName), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return fmt.Errorf("harness: postgres: %w", err)
	}
	if err := p.chownDir(); err != nil {
		return err
	}
	out, err := os.OpenFile(p.path(postgresLogName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: postgres: %w", err)
	}
	defer out.Close()
	var tail bytes.Buffer
	initdb := filepath.Join(p.binDir, "initdb")
	cmd := exec.CommandContext(ctx, initdb,
		"--pgdata="+p.dataDir(),
		"--username="+PostgresSuperuser,
		"--pwfile="+pwfile,
		"--auth=scram-sha-256",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
		"--no-instructions",
	)
	p.prepare(cmd)
	cmd.Stdout = io.MultiWriter(out, &tail)
	cmd.Stderr = cmd.Stdout
	began := time.Now()
	err = cmd.Run()
	_ = os.Remove(pwfile)
	if err != nil {
		return fmt.Errorf("harness: postgres: %s: %w\n%s", initdb, err, lastBytes(tail.Bytes(), errorLogTailBytes))
	}
	p.logf("harness: postgres: initdb took %s", time.Since(began).Round(time.Millisecond))
	return p.writeConfig()
}

// chownDir gives Dir and what is in it to the user postgres runs as.
func (p *Postgres) chownDir() error {
	if p.runAs == nil {
		return nil
	}
	err := filepath.WalkDir(p.Dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(p.runAs.Uid), int(p.runAs.Gid))
	})
	if err != nil {
		return fmt.Errorf("harness: postgres: give %s to user %s: %w", p.Dir, postgresOSUser, err)
	}
	return nil
}

// prepare makes cmd run as the server's user, in Dir, without the caller's
// PG* environment (PGDATA, PGPORT, ... would redirect initdb or postgres).
func (p *Postgres) prepare(cmd *exec.Cmd) {
	cmd.Dir = p.Dir
	env := []string{"TZ=UTC", "LC_ALL=C"}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG") || strings.HasPrefix(kv, "TZ=") {
			continue
		}
		env = append(env, kv)
	}
	cmd.Env = env
	// Pdeathsig kills the server with the test binary. It fires when the OS
	// thread that forked exits; Go only ends threads whose goroutine exits
	// while locked to them, which nothing here does. A change of user
	// clears it, but Go sets it after switching to Credential.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: p.runAs}
}

func (p *Postgres) writeConfig() error {
	settings, err := postgresSettings(p.Dir, p.opts.Conf)
	if err != nil {
		return err
	}
	conf, err := os.OpenFile(filepath.Join(p.dataDir(), "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("harness: postgres: %w", err)
	}
	_, err = io.WriteString(conf, renderPostgresConf(settings))
	if closeErr := conf.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("harness: postgres: write postgresql.conf: %w", err)
	}
	// Truncating an existing file keeps its owner.
	if err := os.WriteFile(filepath.Join(p.dataDir(), "pg_hba.conf"), []byte(postgresHBA), 0); err != nil {
		return fmt.Errorf("harness: postgres: write pg_hba.conf: %w", err)
	}
	return nil
}

const postgresHBA = `# Written by siphon's test harness: passwords (SCRAM) only.
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 scram-sha-256
local   replication  all                 scram-sha-256
host    all          all   127.0.0.1/32  scram-sha-256
host    replication  all   127.0.0.1/32  scram-sha-256
`

type confSetting struct{ name, value string }

var confNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// postgresSettings are the harness's postgresql.conf settings for an
// instance in dir with overrides applied: an override replaces a default in
// place, new names follow in sorted order.
func postgresSettings(dir string, overrides map[string]string) ([]confSetting, error) {
	settings := []confSetting{
		{"listen_addresses", "127.0.0.1"},
		{"unix_socket_directories", dir},
		{"wal_level", "logical"},
		{"max_replication_slots", "20"},
		{"max_wal_senders", "20"},
		{"logical_decoding_work_mem", "64kB"},
		{"wal_sender_timeout", "60s"},
		{"max_connections", "100"},
		{"shared_buffers", "64MB"},
		{"fsync", "off"},
		{"synchronous_commit", "on"},
		{"full_page_writes", "off"},
		{"TimeZone", "UTC"},
		{"log_timezone", "UTC"},
		{"log_destination", "stderr"},
		{"logging_collector", "off"},
		{"log_min_messages", "warning"},
	}
	names := make([]string, 0, len(overrides))
	for name := range overrides {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		value := overrides[name]
		if !confNamePattern.MatchString(name) {
			return nil, fmt.Errorf("harness: postgres: Conf: %q is not a setting name", name)
		}
		if strings.EqualFold(name, "port") {
			return nil, errors.New("harness: postgres: Conf: the harness picks the port")
		}
		if strings.ContainsAny(value, "\x00\r\n") {
			return nil, fmt.Errorf("harness: postgres: Conf: %s: value %q has a NUL or line break", name, value)
		}
		// Setting names are case-insensitive.
		i := slices.IndexFunc(settings, func(s confSetting) bool { return strings.EqualFold(s.name, name) })
		if i >= 0 {
			settings[i].value = value
		} else {
			settings = append(settings, confSetting{name, value})
		}
	}
	return settings, nil
}

func renderPostgresConf(settings []confSetting) string {
	var b strings.Builder
	b.WriteString("\n# siphon test harness settings (later lines win)\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "%s = %s\n", s.name, quoteConfValue(s.value))
	}
	return b.String()
}

// quoteConfValue quotes a postgresql.conf value; inside quotes the file
// format treats a backslash as an escape and doubles single quotes.
func quoteConfValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(v) + "'"
}

func (p *Postgres) run(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.runLocked(ctx)
}

// runLocked starts postgres and waits until it answers queries.
func (p *Postgres) runLocked(ctx context.Context) error {
	logStart := fileSize(p.path(postgresLogName))
	out, err := os.OpenFile(p.path(postgresLogName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: postgres: %w", err)
	}
	server := filepath.Join(p.binDir, "postgres")
	// Not CommandContext: the server outlives the start context.
	cmd := exec.Command(server, "-D", p.dataDir(), "-p", strconv.Itoa(p.Port))
	p.prepare(cmd)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("harness: postgres: start %s: %w", server, err)
	}
	s := &serverProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		out.Close()
		close(s.exited)
	}()
	if err := p.awaitReady(ctx, s); err != nil {
		_ = killPostgresProcesses(s)
		logTail := p.logSince(logStart)
		if strings.Contains(logTail, "could not create any TCP/IP sockets") || strings.Contains(logTail, "Address already in use") {
			return fmt.Errorf("harness: postgres: port %d: %w", p.Port, errAddressInUse)
		}
		return fmt.Errorf("%w\n--- %s (tail) ---\n%s", err, p.path(postgresLogName), logTail)
	}
	p.server = s
	return nil
}

func (p *Postgres) awaitReady(ctx context.Context, s *serverProcess) error {
	ticker := time.NewTicker(readinessInterval)
	defer ticker.Stop()
	exitedErr := func() error {
		if s.waitErr == nil {
			return fmt.Errorf("harness: postgres: postgres on port %d exited before accepting connections", p.Port)
		}
		return fmt.Errorf("harness: postgres: postgres on port %d exited before accepting connections: %w", p.Port, s.waitErr)
	}
	for {
		lastErr := p.pingOwnServer(ctx, s)
		if lastErr == nil {
			return nil
		}
		// Exit wins over another tick: the port may belong to a process that
		// accepts connections but never answers.
		select {
		case <-s.exited:
			return exitedErr()
		default:
		}
		select {
		case <-s.exited:
			return exitedErr()
		case <-ctx.Done():
			return fmt.Errorf("harness: postgres: postgres on port %d not ready: %w (last attempt: %w)", p.Port, ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
}

// pingOwnServer succeeds when the server on p.Port lets the superuser in
// with its password and is the one in p.Dir, not another server that held
// the port first. The attempt ends early if our postgres exits.
func (p *Postgres) pingOwnServer(ctx context.Context, s *serverProcess) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	go func() {
		select {
		case <-s.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	rows, err := p.Query(ctx, "", "SHOW data_directory")
	if err != nil {
		return err
	}
	if len(rows) != 1 || rows[0][0] != p.dataDir() {
		return fmt.Errorf("port %d is served by another server (data directory %q)", p.Port, rows)
	}
	return nil
}

// logSince returns the end of what initdb and postgres wrote to the log
// after offset, or all of it when nothing was written after offset.
func (p *Postgres) logSince(offset int64) string {
	b, err := os.ReadFile(p.path(postgresLogName))
	if err != nil {
		return "(no server output)"
	}
	if int64(len(b)) >= offset && len(bytes.TrimSpace(b[offset:])) > 0 {
		b = b[offset:]
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return "(no server output)"
	}
	return string(lastBytes(b, errorLogTailBytes))
}

func (p *Postgres) connect(ctx context.Context, user, password, database string) (*pgconn.PgConn, error) {
	cfg, err := pgconn.ParseConfig(p.URL(user, password, database))
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", p.Addr(), user, err)
	}
	// A cancelled statement is also cancelled on the server, so it does not
	// hold locks after the test has moved on.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s as %s: %w", p.Addr(), user, pgCause(ctx, err))
	}
	return c, nil
}

func closePgConn(c *pgconn.PgConn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.Close(ctx)
}

// pgCause puts the context's error first when the context ended: the
// driver's own error then reads "timeout: context already done" or similar.
func pgCause(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, context.Cause(ctx)) {
		return errors.Join(context.Cause(ctx), err)
	}
	return err
}

// stopPostgresProcess asks for a fast shutdown and kills the server after
// grace.
func stopPostgresProcess(s *serverProcess, grace time.Duration) error {
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: postgres: stop: %w", err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-s.exited:
		return nil
	case <-timer.C:
		killErr := killPostgresProcesses(s)
		return errors.Join(fmt.Errorf("harness: postgres: stop: server did not exit within %s of SIGINT (fast shutdown), so it was killed; "+
			"a replication connection left open whose client does not confirm the server's last WAL position is the usual cause", grace), killErr)
	}
}

// killPostgresProcesses SIGKILLs the postmaster and its children and waits
// until all are gone. Every child calls setsid, so neither the postmaster's
// process group nor its death reaches them at once: they are found by
// parent pid while the stopped postmaster can fork no more.
func killPostgresProcesses(s *serverProcess) error {
	pid := s.cmd.Process.Pid
	select {
	case <-s.exited:
		return nil
	default:
	}
	// The signal arrives asynchronously; list the children only once the
	// postmaster has really stopped and cannot fork another.
	_ = syscall.Kill(pid, syscall.SIGSTOP)
	stopDeadline := time.Now().Add(time.Second)
	for state, _, ok := procStat(pid); ok && state != 'T' && time.Now().Before(stopDeadline); state, _, ok = procStat(pid) {
		time.Sleep(time.Millisecond)
	}
	children := childProcesses(pid)
	err := s.cmd.Process.Signal(syscall.SIGKILL)
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	for _, child := range children {
		_ = syscall.Kill(child, syscall.SIGKILL)
	}
	<-s.exited
	deadline := time.Now().Add(killWaitTimeout)
	for {
		alive := slices.DeleteFunc(slices.Clone(children), func(pid int) bool { return !processRunning(pid) })
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server processes %v still running %s after SIGKILL", alive, killWaitTimeout)
		}
		time.Sleep(readinessInterval / 5)
	}
}

// procStat returns the state and parent pid of a process from
// /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, hence the last ')').
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	return parseProcStat(b)
}

func parseProcStat(b []byte) (state byte, ppid int, ok bool) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 2 || len(fields[0]) != 1 || !isASCIILetter(fields[0][0]) {
		return 0, 0, false
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		return 0, 0, false
	}
	return fields[0][0], ppid, true
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// processRunning is false for a process that is gone or a zombie (a killed
// backend reparented to an init that does not reap holds nothing).
func processRunning(pid int) bool {
	state, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

func childProcesses(parent int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var children []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if _, ppid, ok := procStat(pid); ok && ppid == parent {
			children = append(children, pid)
		}
	}
	return children
}

// findPostgresBinDir prefers the newest /usr/lib/postgresql/N/bin (Debian),
// then the directory of initdb on PATH.
func findPostgresBinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	if initdb, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(initdb))
	}
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", ErrPostgresMissing
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// postgresCredential is the user to run initdb and postgres as: the
// postgres OS user when we are root, which PostgreSQL refuses to run as.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(postgresOSUser)
	if err != nil {
		return nil, fmt.Errorf("harness: postgres: PostgreSQL refuses to run as root and there is no %q OS user to run it as (%w); "+
			"Debian's postgresql package creates it: %s", postgresOSUser, err, AptInstallPostgres)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("harness: postgres: user %s: uid %q: %w", postgresOSUser, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("harness: postgres: user %s: gid %q: %w", postgresOSUser, u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// postgresTempRoot is shortTempRoot, or /tmp when the server's user could
// not reach a directory there (a TMPDIR under /root, say).
func postgresTempRoot(runAs *syscall.Credential) string {
	root := shortTempRoot()
	if runAs == nil {
		return root
	}
	for dir := root; ; dir = filepath.Dir(dir) {
		st, err := os.Stat(dir)
		if err != nil {
			return "/tmp"
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		traversable := st.Mode()&0o001 != 0 || (ok && sys.Uid == runAs.Uid && st.Mode()&0o100 != 0)
		if !traversable {
			return "/tmp"
		}
		if dir == filepath.Dir(dir) {
			return root
		}
	}
}

// removeAbandonedPostgresDirs deletes directories left by test binaries
// that died without Stop: their owner and their postmaster are both gone.
// Best effort: errors are only logged.
func removeAbandonedPostgresDirs(root string, logf func(string, ...any)) {
	dirs, err := filepath.Glob(filepath.Join(root, postgresDirPrefix+"*"))
	if err != nil {
		return
	}
	for _, dir := range dirs {
		st, err := os.Stat(dir)
		if err != nil || !st.IsDir() {
			continue
		}
		owner := filepath.Join(dir, ownerFileName)
		if _, err := os.Stat(owner); err != nil && time.Since(st.ModTime()) < abandonedAge {
			continue
		}
		if processAlive(owner) || postmasterAlive(filepath.Join(dir, "data", "postmaster.pid")) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			if logf != nil {
				logf("harness: postgres: remove abandoned %s: %v", dir, err)
			}
			continue
		}
		if logf != nil {
			logf("harness: postgres: removed abandoned %s", dir)
		}
	}
}

// postmasterAlive reports whether the process on the first line of a
// postmaster.pid file exists.
func postmasterAlive(pidFile string) bool {
	f, err := os.Open(pidFile)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// postgresDatabaseName is databaseName within PostgreSQL's 63-byte limit.
func postgresDatabaseName(prefix string, seq uint64) string {
	name := databaseName(prefix, seq)
	if len(name) <= maxPostgresIdentifierLen {
		return name
	}
	suffix := "_" + strconv.FormatUint(seq, 10)
	base := strings.TrimSuffix(name, suffix)
	return base[:maxPostgresIdentifierLen-len(suffix)] + suffix
}

func quotePGIdentifier(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quotePGString quotes a literal for standard_conforming_strings=on (the
// default), where a backslash is an ordinary character.
func quotePGString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
