package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// AptInstallMariaDB is the command that provides the MariaDB binaries on
// Debian; .ci/deps runs it when they are missing.
const AptInstallMariaDB = "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server mariadb-client"

// ErrMariaDBMissing reports that mariadbd or mariadb-install-db is not
// installed.
var ErrMariaDBMissing = errors.New("harness: MariaDB server binaries (mariadbd, mariadb-install-db) not found; install them with: " + AptInstallMariaDB + " (or run .ci/deps)")

const (
	dirPrefix     = "siphon-mariadb-"
	ownerFileName = "owner.pid" // pid of the process that started the server

	// abandonedAge is how old a directory without an owner file must be to
	// count as abandoned; a young one may be about to get its owner file.
	abandonedAge = time.Hour

	defaultStartTimeout = 2 * time.Minute
	stopGracePeriod     = 60 * time.Second
	readinessInterval   = 50 * time.Millisecond
	portAttempts        = 3
	errorLogTailBytes   = 4096
)

// MariaDBOptions configure a private MariaDB server.
type MariaDBOptions struct {
	// RowMetadata is binlog_row_metadata: "FULL" (default) or "MINIMAL".
	RowMetadata string
	// ServerID is server_id; 0 means 1.
	ServerID uint32
	// ExtraArgs are appended to mariadbd's command line, so they override the
	// harness's settings.
	ExtraArgs []string
	// Logf, when set, receives progress messages (t.Logf fits).
	Logf func(format string, args ...any)
}

// MariaDB is a private mariadbd child process listening on Host:Port with
// all its files under Dir.
type MariaDB struct {
	Host string
	Port int
	Dir  string

	opts MariaDBOptions
	bins mariadbBinaries

	mu     sync.Mutex
	server *serverProcess // nil when not running
	closed bool           // Stop ran; the directory is gone

	dbSeq atomic.Uint64
}

type mariadbBinaries struct {
	server  string
	install string
}

// Pid is the running server's process id, 0 when it is not running
// (benchmarks read its CPU time from /proc).
func (m *MariaDB) Pid() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.server == nil || m.server.cmd.Process == nil {
		return 0
	}
	return m.server.cmd.Process.Pid
}

// serverProcess is one run of mariadbd; exited closes once it is reaped.
type serverProcess struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// StartMariaDB initialises a new data directory in a temporary directory and
// starts mariadbd on a free loopback port. ctx bounds the start only (two
// minutes when it has no deadline); the server runs until Stop or Kill.
func StartMariaDB(ctx context.Context, o MariaDBOptions) (*MariaDB, error) {
	return startMariaDB(ctx, o, FreePort)
}

// startMariaDB takes the port picker as a parameter so tests can hand it a
// taken port.
func startMariaDB(ctx context.Context, o MariaDBOptions, pickPort func() (int, error)) (*MariaDB, error) {
	began := time.Now()
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	bins, err := findMariaDBBinaries()
	if err != nil {
		return nil, err
	}
	root := shortTempRoot()
	removeAbandonedDirs(root, o.Logf)
	dir, err := os.MkdirTemp(root, dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("harness: mariadb: create temp dir: %w", err)
	}
	ownerFile := filepath.Join(dir, ownerFileName)
	if err := os.WriteFile(ownerFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("harness: mariadb: %w", err)
	}
	ctx, cancel := withDefaultTimeout(ctx, defaultStartTimeout)
	defer cancel()
	m := &MariaDB{Host: "127.0.0.1", Dir: dir, opts: o, bins: bins}
	if err := m.initialise(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		m.Port = port
		err = m.run(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, errAddressInUse) || attempt == portAttempts {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		m.logf("harness: mariadb: port %d was taken, trying another", port)
	}
	m.logf("harness: mariadb: started on %s in %s (dir %s)", m.Addr(), time.Since(began).Round(time.Millisecond), dir)
	return m, nil
}

// NewMariaDB starts a private server for one test and stops it in
// t.Cleanup. It fails the test when the server cannot start, naming the apt
// command when the binaries are missing.
func NewMariaDB(t testing.TB, o MariaDBOptions) *MariaDB {
	t.Helper()
	if o.Logf == nil {
		o.Logf = t.Logf
	}
	ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
	defer cancel()
	m, err := StartMariaDB(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Stop(); err != nil {
			t.Errorf("stop mariadb: %v", err)
		}
	})
	return m
}

// MainWithMariaDB starts one server for a whole test binary, passes it to
// use (which typically stores it in a package variable), runs the tests and
// stops the server. Call it from TestMain of a package whose tests all need
// the server (SharedMariaDB starts it only when a test asks):
//
//	func TestMain(m *testing.M) {
//		os.Exit(harness.MainWithMariaDB(m, harness.MariaDBOptions{}, func(db *harness.MariaDB) { shared = db }))
//	}
//
// When the server cannot start it prints why and returns 1 without running
// any test.
func MainWithMariaDB(m *testing.M, o MariaDBOptions, use func(*MariaDB)) int {
	ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
	db, err := StartMariaDB(ctx, o)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := db.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	use(db)
	return m.Run()
}

// SharedMariaDB is one server for a whole test binary, started by the first
// test that asks for it, so tests that need no server (unit tests, fuzz
// workers) do not pay for one. Declare it as a package variable and stop it
// in TestMain:
//
//	var mariadb = &harness.SharedMariaDB{}
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		if err := mariadb.Stop(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//		}
//		os.Exit(code)
//	}
//
// Tests then call mariadb.Get(t) and isolate themselves with NewDatabase.
type SharedMariaDB struct {
	// Options for the server. Its Logf must outlive every test (not a
	// t.Logf): the server is shared.
	Options MariaDBOptions

	once sync.Once
	db   *MariaDB
	err  error
}

// Get returns the shared server, starting it on first use. When it cannot
// start, every caller's test fails with the same error.
func (s *SharedMariaDB) Get(t testing.TB) *MariaDB {
	t.Helper()
	s.once.Do(func() {
		ctx, cancel := withDefaultTimeout(context.Background(), defaultStartTimeout)
		defer cancel()
		s.db, s.err = StartMariaDB(ctx, s.Options)
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.db
}

// Stop stops the server if one was started; later Gets fail.
func (s *SharedMariaDB) Stop() error {
	s.once.Do(func() {})
	if s.db == nil {
		return nil
	}
	s.err = errors.New("harness: shared mariadb: already stopped")
	return s.db.Stop()
}

// Addr is "127.0.0.1:PORT".
func (m *MariaDB) Addr() string {
	return m.Host + ":" + strconv.Itoa(m.Port)
}

// Stop shuts the server down gracefully (SIGKILL if it has not exited after
// a minute) and removes Dir. It is safe to call more than once.
func (m *MariaDB) Stop() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	var stopErr error
	if p := m.server; p != nil {
		m.server = nil
		stopErr = p.terminate(stopGracePeriod)
	}
	if err := os.RemoveAll(m.Dir); err != nil {
		return errors.Join(stopErr, fmt.Errorf("harness: mariadb: remove %s: %w", m.Dir, err))
	}
	return stopErr
}

// Kill sends SIGKILL to the server, as a crash would, and waits until it is
// gone. Dir is kept for Restart.
func (m *MariaDB) Kill() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.server
	if p == nil {
		return errors.New("harness: mariadb: kill: server is not running")
	}
	m.server = nil
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: mariadb: kill: %w", err)
	}
	<-p.exited
	m.logf("harness: mariadb: killed server on %s", m.Addr())
	return nil
}

// Restart starts the server again on the same directory and port after Kill
// (or after the server died). If it is still running it is stopped
// gracefully first.
func (m *MariaDB) Restart(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("harness: mariadb: restart: instance was stopped and its directory removed")
	}
	if p := m.server; p != nil {
		m.server = nil
		if err := p.terminate(stopGracePeriod); err != nil {
			return fmt.Errorf("harness: mariadb: restart: %w", err)
		}
	}
	ctx, cancel := withDefaultTimeout(ctx, defaultStartTimeout)
	defer cancel()
	began := time.Now()
	if err := m.runLocked(ctx); err != nil {
		return fmt.Errorf("harness: mariadb: restart: %w", err)
	}
	m.logf("harness: mariadb: restarted on %s in %s", m.Addr(), time.Since(began).Round(time.Millisecond))
	return nil
}

func (o MariaDBOptions) withDefaults() (MariaDBOptions, error) {
	switch strings.ToUpper(o.RowMetadata) {
	case "":
		o.RowMetadata = "FULL"
	case "FULL", "MINIMAL":
		o.RowMetadata = strings.ToUpper(o.RowMetadata)
	default:
		return o, fmt.Errorf("harness: mariadb: RowMetadata %q is not FULL or MINIMAL", o.RowMetadata)
	}
	if o.ServerID == 0 {
		o.ServerID = 1
	}
	return o, nil
}

func (m *MariaDB) logf(format string, args ...any) {
	if m.opts.Logf != nil {
		m.opts.Logf(format, args...)
	}
}

func (m *MariaDB) path(name string) string { return filepath.Join(m.Dir, name) }

// initialise runs mariadb-install-db into Dir/data.
func (m *MariaDB) initialise(ctx context.Context) error {
	for _, sub := range []string{"binlog", "tmp"} {
		if err := os.MkdirAll(m.path(sub), 0o755); err != nil {
			return fmt.Errorf("harness: mariadb: %w", err)
		}
	}
	args := []string{
		"--no-defaults",
		"--datadir=" + m.path("data"),
		// A private tmpdir: every mariadbd deletes "#sql*" files in its
		// tmpdir when it starts, including another bootstrap's temporary
		// tables when instances share /tmp.
		"--tmpdir=" + m.path("tmp"),
		"--auth-root-authentication-method=normal",
		"--skip-test-db",
		"--skip-name-resolve",
		// Same redo log and buffer pool as the server, so its first start
		// does not resize the log.
		"--innodb-log-file-size=48M",
		"--innodb-buffer-pool-size=64M",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	out, err := os.OpenFile(m.path("mariadbd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: mariadb: %w", err)
	}
	defer out.Close()
	var tail bytes.Buffer
	cmd := exec.CommandContext(ctx, m.bins.install, args...)
	cmd.Stdout = io.MultiWriter(out, &tail)
	cmd.Stderr = cmd.Stdout
	began := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("harness: mariadb: %s: %w\n%s", m.bins.install, err, lastBytes(tail.Bytes(), errorLogTailBytes))
	}
	m.logf("harness: mariadb: mariadb-install-db took %s", time.Since(began).Round(time.Millisecond))
	return nil
}

func (m *MariaDB) serverArgs() []string {
	args := []string{
		"--no-defaults",
		"--datadir=" + m.path("data"),
		"--tmpdir=" + m.path("tmp"),
		"--bind-address=127.0.0.1",
		"--port=" + strconv.Itoa(m.Port),
		"--socket=" + m.path("mysql.sock"),
		"--pid-file=" + m.path("mariadbd.pid"),
		"--log-error=" + m.path("error.log"),
		"--log-bin=" + filepath.Join(m.path("binlog"), "mariadb-bin"),
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--binlog-row-metadata=" + m.opts.RowMetadata,
		"--server-id=" + strconv.FormatUint(uint64(m.opts.ServerID), 10),
		"--gtid-strict-mode=ON",
		"--innodb-buffer-pool-size=64M",
		"--innodb-log-file-size=48M",
		"--innodb-flush-log-at-trx-commit=2",
		"--sync-binlog=0",
		"--skip-name-resolve",
		"--max-connections=200",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--default-time-zone=+00:00",
	}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	return append(args, m.opts.ExtraArgs...)
}

func (m *MariaDB) run(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runLocked(ctx)
}

// runLocked starts mariadbd and waits until it answers queries.
func (m *MariaDB) runLocked(ctx context.Context) error {
	errorLogStart := fileSize(m.path("error.log"))
	out, err := os.OpenFile(m.path("mariadbd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("harness: mariadb: %w", err)
	}
	// Not CommandContext: the server outlives the start context.
	cmd := exec.Command(m.bins.server, m.serverArgs()...)
	cmd.Stdout, cmd.Stderr = out, out
	// Pdeathsig kills the server with the test binary. It fires when the OS
	// thread that forked exits; Go only ends threads whose goroutine exits
	// while locked to them, which nothing here does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("harness: mariadb: start %s: %w", m.bins.server, err)
	}
	p := &serverProcess{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		out.Close()
		close(p.exited)
	}()
	if err := m.awaitReady(ctx, p); err != nil {
		_ = p.kill()
		logTail := m.errorLogSince(errorLogStart)
		if strings.Contains(logTail, "Address already in use") {
			return fmt.Errorf("harness: mariadb: port %d: %w", m.Port, errAddressInUse)
		}
		return fmt.Errorf("%w\n--- %s (tail) ---\n%s", err, m.path("error.log"), logTail)
	}
	m.server = p
	return nil
}

var errAddressInUse = errors.New("address already in use")

func (m *MariaDB) awaitReady(ctx context.Context, p *serverProcess) error {
	ticker := time.NewTicker(readinessInterval)
	defer ticker.Stop()
	exitedErr := func() error {
		if p.waitErr == nil {
			return fmt.Errorf("harness: mariadb: mariadbd on port %d exited before accepting connections", m.Port)
		}
		return fmt.Errorf("harness: mariadb: mariadbd on port %d exited before accepting connections: %w", m.Port, p.waitErr)
	}
	for {
		lastErr := m.pingOwnServer(ctx, p)
		if lastErr == nil {
			return nil
		}
		// Exit wins over another tick: the port may belong to a process that
		// accepts connections but never answers.
		select {
		case <-p.exited:
			return exitedErr()
		default:
		}
		select {
		case <-p.exited:
			return exitedErr()
		case <-ctx.Done():
			return fmt.Errorf("harness: mariadb: mariadbd on port %d not ready: %w (last attempt: %w)", m.Port, ctx.Err(), lastErr)
		case <-ticker.C:
		}
	}
}

// pingOwnServer succeeds when the server on m.Port answers as root and is
// the one in m.Dir, not another server that held the port first. The
// attempt ends early if our mariadbd exits.
func (m *MariaDB) pingOwnServer(ctx context.Context, p *serverProcess) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	go func() {
		select {
		case <-p.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	c, err := m.connect(ctx, "root", "", "")
	if err != nil {
		return err
	}
	defer c.close()
	r, err := c.Execute("SELECT @@socket")
	if err != nil {
		return c.cause(ctx, err)
	}
	defer r.Close()
	socket, err := r.GetString(0, 0)
	if err != nil {
		return err
	}
	if socket != m.path("mysql.sock") {
		return fmt.Errorf("port %d is served by another server (socket %s)", m.Port, socket)
	}
	return nil
}

// errorLogSince returns the end of what the server wrote to its error log
// after offset, or of mariadbd.out when the error log is empty.
func (m *MariaDB) errorLogSince(offset int64) string {
	for _, name := range []string{"error.log", "mariadbd.out"} {
		b, err := os.ReadFile(m.path(name))
		if err != nil {
			continue
		}
		if name == "error.log" && int64(len(b)) >= offset {
			b = b[offset:]
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return string(lastBytes(b, errorLogTailBytes))
		}
	}
	return "(no server output)"
}

// terminate asks the server to shut down and kills it after grace.
func (p *serverProcess) terminate(grace time.Duration) error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("harness: mariadb: stop: %w", err)
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.exited:
		return nil
	case <-timer.C:
		_ = p.kill()
		return fmt.Errorf("harness: mariadb: stop: server did not exit within %s of SIGTERM; killed", grace)
	}
}

func (p *serverProcess) kill() error {
	err := p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	if errors.Is(err, os.ErrProcessDone) {
		return nil
	}
	return err
}

func findMariaDBBinaries() (mariadbBinaries, error) {
	server, err := lookPath("mariadbd")
	if err != nil {
		return mariadbBinaries{}, ErrMariaDBMissing
	}
	install, err := lookPath("mariadb-install-db")
	if err != nil {
		return mariadbBinaries{}, ErrMariaDBMissing
	}
	return mariadbBinaries{server: server, install: install}, nil
}

// removeAbandonedDirs deletes directories left by test binaries that died
// without Stop (a -timeout panic, a killed fuzz worker): their owner and
// their server are both gone. Best effort: errors are only logged.
func removeAbandonedDirs(root string, logf func(string, ...any)) {
	dirs, err := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
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
		if processAlive(owner) || processAlive(filepath.Join(dir, "mariadbd.pid")) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			if logf != nil {
				logf("harness: mariadb: remove abandoned %s: %v", dir, err)
			}
			continue
		}
		if logf != nil {
			logf("harness: mariadb: removed abandoned %s", dir)
		}
	}
}

// processAlive reports whether the process named in pidFile exists. A
// missing or unreadable file counts as no process.
func processAlive(pidFile string) bool {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lookPath also searches the sbin directories, which are not on every
// user's PATH but are where Debian puts mariadbd.
func lookPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", name)
}

// shortTempRoot keeps the Unix socket path under the 108-byte sun_path
// limit even when TMPDIR is deep.
func shortTempRoot() string {
	const maxRoot = 60
	if tmp := os.TempDir(); len(tmp) <= maxRoot {
		return tmp
	}
	return "/tmp"
}

func withDefaultTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// lastBytes returns at most n bytes from the end of b, starting at a line
// boundary when it had to cut.
func lastBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	b = b[len(b)-n:]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return b
}
