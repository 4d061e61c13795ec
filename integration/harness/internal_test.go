package harness

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDatabaseName(t *testing.T) {
	tests := []struct {
		prefix string
		seq    uint64
		want   string
	}{
		{"orders", 1, "orders_1"},
		{"TestSnapshot/composite_key", 12, "testsnapshot_composite_key_12"},
		{"", 3, "db_3"},
		{"___", 4, "db_4"},
		{"Ünïcode-ß", 5, "n_code_5"},
		{strings.Repeat("a", 80), 6, strings.Repeat("a", 62) + "_6"},
		{strings.Repeat("b", 80), 123456, strings.Repeat("b", 57) + "_123456"},
	}
	for _, tt := range tests {
		if got := databaseName(tt.prefix, tt.seq); got != tt.want {
			t.Errorf("databaseName(%q, %d) = %q, want %q", tt.prefix, tt.seq, got, tt.want)
		}
	}
}

func FuzzDatabaseName(f *testing.F) {
	f.Add("TestX/sub", uint64(1))
	f.Add("", uint64(0))
	f.Add("`; DROP DATABASE mysql; --", uint64(18446744073709551615))
	valid := regexp.MustCompile(`^[a-z0-9_]+_[0-9]+$`)
	f.Fuzz(func(t *testing.T, prefix string, seq uint64) {
		got := databaseName(prefix, seq)
		if len(got) > maxIdentifierLen || !valid.MatchString(got) {
			t.Fatalf("databaseName(%q, %d) = %q: not a plain identifier of at most %d bytes", prefix, seq, got, maxIdentifierLen)
		}
		if !strings.HasSuffix(got, "_"+strconv.FormatUint(seq, 10)) {
			t.Fatalf("databaseName(%q, %d) = %q lost the sequence suffix", prefix, seq, got)
		}
	})
}

// lenenc encodes s as a length-encoded string the way servers do.
func lenenc(s string) []byte {
	n := len(s)
	var head []byte
	switch {
	case n < 0xfb:
		head = []byte{byte(n)}
	case n <= 0xffff:
		head = []byte{0xfc, byte(n), byte(n >> 8)}
	case n <= 0xffffff:
		head = []byte{0xfd, byte(n), byte(n >> 8), byte(n >> 16)}
	default:
		head = []byte{0xfe, byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24), 0, 0, 0, 0}
	}
	return append(head, s...)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestTextRow(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	tests := []struct {
		name    string
		raw     []byte
		columns int
		want    []string
		wantErr string
	}{
		{"empty row", nil, 0, []string{}, ""},
		{"values and null", concat(lenenc("1"), []byte{0xfb}, lenenc("")), 3, []string{"1", "NULL", ""}, ""},
		{"two-byte length", lenenc(long), 1, []string{long}, ""},
		{"three-byte length", lenenc(huge), 1, []string{huge}, ""},
		{"eight-byte length", []byte{0xfe, 1, 0, 0, 0, 0, 0, 0, 0, 'z'}, 1, []string{"z"}, ""},
		{"missing column", lenenc("1"), 2, nil, "1 of 2 columns"},
		{"truncated value", []byte{5, 'a', 'b'}, 1, nil, "needs 5 bytes, 2 left"},
		{"truncated length", []byte{0xfc, 1}, 1, nil, "length needs 2 bytes, 1 left"},
		{"length beyond memory", []byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 1, nil, "needs 18446744073709551615 bytes"},
		{"error marker", []byte{0xff}, 1, nil, "0xff is not a length"},
		{"trailing bytes", concat(lenenc("1"), lenenc("2")), 1, nil, "bytes after 1 columns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := textRow(tt.raw, tt.columns)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("textRow error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("textRow (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzTextRow(f *testing.F) {
	f.Add(concat(lenenc("1"), []byte{0xfb}, lenenc("abc")), 3)
	f.Add([]byte{0xfc, 0xff}, 1)
	f.Add([]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 2)
	f.Fuzz(func(t *testing.T, raw []byte, columns int) {
		if columns < 0 || columns > 64 {
			return
		}
		row, err := textRow(raw, columns)
		if err != nil {
			return
		}
		if len(row) != columns {
			t.Fatalf("textRow returned %d columns, want %d", len(row), columns)
		}
		total := 0
		for _, v := range row {
			if v != "NULL" { // SQL NULL is one byte on the wire
				total += len(v)
			}
		}
		if total > len(raw) {
			t.Fatalf("textRow produced %d bytes of values from %d bytes of input", total, len(raw))
		}
	})
}

func TestOptionsWithDefaults(t *testing.T) {
	tests := []struct {
		in      MariaDBOptions
		wantRM  string
		wantID  uint32
		wantErr bool
	}{
		{MariaDBOptions{}, "FULL", 1, false},
		{MariaDBOptions{RowMetadata: "minimal", ServerID: 9}, "MINIMAL", 9, false},
		{MariaDBOptions{RowMetadata: "NO_LOG"}, "", 0, true},
	}
	for _, tt := range tests {
		got, err := tt.in.withDefaults()
		if tt.wantErr {
			if err == nil {
				t.Errorf("withDefaults(%+v) accepted an invalid option", tt.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("withDefaults(%+v): %v", tt.in, err)
			continue
		}
		if got.RowMetadata != tt.wantRM || got.ServerID != tt.wantID {
			t.Errorf("withDefaults(%+v) = %s/%d, want %s/%d", tt.in, got.RowMetadata, got.ServerID, tt.wantRM, tt.wantID)
		}
	}
}

func TestServerArgs(t *testing.T) {
	m := &MariaDB{Host: "127.0.0.1", Port: 3307, Dir: "/x", opts: MariaDBOptions{RowMetadata: "MINIMAL", ServerID: 5, ExtraArgs: []string{"--max-connections=10"}}}
	args := m.serverArgs()
	for _, want := range []string{"--no-defaults", "--port=3307", "--datadir=/x/data", "--log-bin=/x/binlog/mariadb-bin", "--binlog-row-metadata=MINIMAL", "--server-id=5", "--socket=/x/mysql.sock"} {
		if !containsString(args, want) {
			t.Errorf("server args lack %s: %q", want, args)
		}
	}
	if args[0] != "--no-defaults" {
		t.Errorf("--no-defaults must come first, got %q", args[0])
	}
	if args[len(args)-1] != "--max-connections=10" {
		t.Errorf("extra args must come last to override, got %q", args)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestQuoting(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{quoteString(`it's`), `'it\'s'`},
		{quoteString(`a\b`), `'a\\b'`},
		{quoteString("nul\x00"), `'nul\0'`},
		{quoteIdentifier("we`ird"), "`we``ird`"},
		{abbreviate("SELECT\n  1"), `"SELECT 1"`},
		{abbreviate(strings.Repeat("x", 250)), strconv.Quote(strings.Repeat("x", 200) + "…")},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %s, want %s", tt.got, tt.want)
		}
	}
}

func TestLastBytes(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"line1\nline2\nline3", 8, "line3"},
		{"no newline at all", 4, " all"},
	}
	for _, tt := range tests {
		if got := string(lastBytes([]byte(tt.in), tt.n)); got != tt.want {
			t.Errorf("lastBytes(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestFindGoMod(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, ok := findGoMod(deep); !ok || got != root {
		t.Errorf("findGoMod(%s) = %q, %v; want %q", deep, got, ok, root)
	}
}

func TestStartRejectsBadOptionsBeforeWork(t *testing.T) {
	_, err := StartMariaDB(context.Background(), MariaDBOptions{RowMetadata: "bogus"})
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Errorf("StartMariaDB with bad RowMetadata: %v", err)
	}
}

func TestRemoveAbandonedDirs(t *testing.T) {
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(exited.Process.Pid)
	livePID := strconv.Itoa(os.Getpid())
	old := time.Now().Add(-2 * abandonedAge)

	tests := []struct {
		name      string
		owner     string // "" for no owner file
		serverPID string // "" for no pid file
		old       bool
		wantKept  bool
	}{
		{"owner alive", livePID, "", false, true},
		{"owner dead", deadPID, "", false, false},
		{"owner dead, server alive", deadPID, livePID, false, true},
		{"owner dead, server dead", deadPID, deadPID, true, false},
		{"no owner, young", "", "", false, true},
		{"no owner, old", "", "", true, false},
		{"no owner, old, server alive", "", livePID, true, true},
	}
	root := t.TempDir()
	dirs := make([]string, len(tests))
	for i, tt := range tests {
		dirs[i] = filepath.Join(root, dirPrefix+strconv.Itoa(i))
		if err := os.Mkdir(dirs[i], 0o700); err != nil {
			t.Fatal(err)
		}
		if tt.owner != "" {
			writeFile(t, filepath.Join(dirs[i], ownerFileName), tt.owner)
		}
		if tt.serverPID != "" {
			writeFile(t, filepath.Join(dirs[i], "mariadbd.pid"), tt.serverPID+"\n")
		}
		if tt.old {
			if err := os.Chtimes(dirs[i], old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	unrelated := filepath.Join(root, "someone-else")
	if err := os.Mkdir(unrelated, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(unrelated, old, old); err != nil {
		t.Fatal(err)
	}

	removeAbandonedDirs(root, t.Logf)

	for i, tt := range tests {
		_, err := os.Stat(dirs[i])
		if kept := err == nil; kept != tt.wantKept {
			t.Errorf("%s: kept = %v, want %v", tt.name, kept, tt.wantKept)
		}
	}
	if _, err := os.Stat(unrelated); err != nil {
		t.Errorf("a directory without the harness prefix was touched: %v", err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestStartRetriesWhenPortIsTaken(t *testing.T) {
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
			m, err := startMariaDB(t.Context(), MariaDBOptions{Logf: t.Logf}, pick)
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
			defer m.Stop()
			if m.Port == takenPort || calls != tt.takenTimes+1 {
				t.Errorf("started on port %d after %d picks; taken port %d", m.Port, calls, takenPort)
			}
		})
	}
}

func TestStartFailureShowsErrorLog(t *testing.T) {
	_, err := StartMariaDB(t.Context(), MariaDBOptions{Logf: t.Logf, ExtraArgs: []string{"--no-such-option-for-the-harness"}})
	if err == nil {
		t.Fatal("mariadbd started with an unknown option")
	}
	for _, want := range []string{"exited before accepting connections", "no-such-option-for-the-harness", "error.log"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A port held by another MariaDB that also lets root in without a password
// must not be mistaken for our server.
func TestStartIgnoresAnotherServerOnItsPort(t *testing.T) {
	other := NewMariaDB(t, MariaDBOptions{Logf: t.Logf})
	calls := 0
	pick := func() (int, error) {
		calls++
		if calls == 1 {
			return other.Port, nil
		}
		return FreePort()
	}
	m, err := startMariaDB(t.Context(), MariaDBOptions{Logf: t.Logf, ServerID: 2}, pick)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if m.Port == other.Port {
		t.Fatalf("started on the other server's port %d", m.Port)
	}
	rows, err := m.Query(t.Context(), "SELECT @@server_id")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][0] != "2" {
		t.Errorf("server_id = %q, want our server's 2", rows)
	}
}
