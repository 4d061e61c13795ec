package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
)

func openT(t *testing.T, dir string, o Options) *Store {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open(%s, %+v): %v", dir, o, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestOpenCreatesStateDirAndStampsLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "siphon-state")
	s := openT(t, dir, Options{})

	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("state dir mode = %o, want 700", perm)
	}
	if got, want := s.Path(), filepath.Join(dir, FileName); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
	info, err = os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("state file mode = %o, want 600", perm)
	}
	var layout string
	if err := s.db.View(func(tx *bbolt.Tx) error {
		layout = string(tx.Bucket(bucketMeta).Get(keyLayout))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if layout != "1" {
		t.Errorf("meta/layout = %q, want \"1\"", layout)
	}
	names, err := s.Pipelines()
	if err != nil || len(names) != 0 {
		t.Errorf("Pipelines() = %v, %v; want none", names, err)
	}
}

func TestPIDFileLifecycle(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, PIDFileName)
	// A pid file left behind by a killed process is taken over.
	if err := os.WriteFile(pidFile, []byte("999999999\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(raw), strconv.Itoa(os.Getpid())+"\n"; got != want {
		t.Errorf("pid file = %q, want %q", got, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pidFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file after Close: stat error %v, want not exist", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func lockedMessage(dir string, pid int) string {
	return fmt.Sprintf("state dir %s is in use by another siphon (pid %d); stop it first or use another state_dir", dir, pid)
}

// bbolt's flock belongs to the open file description, so a second Open in
// the same process conflicts just like another process would.
func TestSecondOpenInSameProcessIsLocked(t *testing.T) {
	dir := t.TempDir()
	first := openT(t, dir, Options{})

	for _, o := range []Options{{}, {ReadOnly: true}} {
		start := time.Now()
		s, err := Open(dir, o)
		elapsed := time.Since(start)
		if err == nil {
			_ = s.Close()
			t.Fatalf("second Open(%+v) succeeded", o)
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("second Open(%+v): %v, want ErrLocked", o, err)
		}
		if got, want := err.Error(), lockedMessage(dir, os.Getpid()); got != want {
			t.Errorf("message = %q\nwant      %q", got, want)
		}
		if elapsed > time.Second {
			t.Errorf("second Open(%+v) took %v, want < 1s", o, elapsed)
		}
	}

	// The failed attempts left the holder's pid file and data alone.
	if err := first.Pipeline("p").SaveOffset([]byte(`{"pos":1}`)); err != nil {
		t.Fatal(err)
	}
	if pid := readPIDFile(dir); pid != os.Getpid() {
		t.Errorf("pid file = %d, want %d", pid, os.Getpid())
	}
}

func TestOpenLockedByOtherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd, stdin, stdout, stderr := startHelper(t, "hold", dir)
	if !stdout.Scan() || stdout.Text() != "ready" {
		_ = cmd.Wait()
		t.Fatalf("helper did not get ready: %q, stderr: %s", stdout.Text(), stderr.String())
	}

	start := time.Now()
	_, err := Open(dir, Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open while helper holds the lock: %v, want ErrLocked", err)
	}
	if got, want := err.Error(), lockedMessage(dir, cmd.Process.Pid); got != want {
		t.Errorf("message = %q\nwant      %q", got, want)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Open took %v, want < 1s", elapsed)
	}

	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v, stderr: %s", err, stderr.String())
	}
	openT(t, dir, Options{})
	if pid := readPIDFile(dir); pid != os.Getpid() {
		t.Errorf("pid file = %d, want ours (%d)", pid, os.Getpid())
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, Options{})
	if err := w.Pipeline("orders").SaveOffset([]byte(`{"file":"bin.000001","pos":4}`)); err != nil {
		t.Fatal(err)
	}
	if err := w.Pipeline("orders").AppendHistory([]byte("k1"), []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	r1 := openT(t, dir, Options{ReadOnly: true})
	r2 := openT(t, dir, Options{ReadOnly: true}) // readers share the lock

	for _, r := range []*Store{r1, r2} {
		off, found, err := r.Pipeline("orders").LoadOffset()
		if err != nil || !found {
			t.Fatalf("LoadOffset = %v, %v", found, err)
		}
		if got, want := string(off.Position), `{"file":"bin.000001","pos":4}`; got != want || off.Seq != 1 {
			t.Errorf("LoadOffset = %s seq %d, want %s seq 1", got, off.Seq, want)
		}
		names, err := r.Pipelines()
		if err != nil || !cmp.Equal(names, []string{"orders"}) {
			t.Errorf("Pipelines() = %v, %v", names, err)
		}
		if n, err := r.Pipeline("orders").HistoryLen(); err != nil || n != 1 {
			t.Errorf("HistoryLen() = %d, %v, want 1", n, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, PIDFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only Open wrote a pid file (stat: %v)", err)
	}

	writes := map[string]func(*PipelineState) error{
		"SaveOffset":    func(p *PipelineState) error { return p.SaveOffset([]byte(`{"pos":5}`)) },
		"ResetOffset":   func(p *PipelineState) error { return p.ResetOffset() },
		"AppendHistory": func(p *PipelineState) error { return p.AppendHistory([]byte("k2"), nil) },
		"Put":           func(p *PipelineState) error { return p.Put("k", []byte("v")) },
	}
	for name, write := range writes {
		if err := write(r1.Pipeline("orders")); err == nil {
			t.Errorf("%s on a read-only store succeeded", name)
		}
	}

	// A writer cannot start while a reader holds the shared lock, and no
	// pid is known for a reader.
	_, err := Open(dir, Options{})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("read-write Open beside readers: %v, want ErrLocked", err)
	}
	if want := fmt.Sprintf("state dir %s is in use by another siphon; stop it first or use another state_dir", dir); err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

func TestReadOnlyWithoutState(t *testing.T) {
	root := t.TempDir()
	emptyDir := filepath.Join(root, "empty")
	if err := os.Mkdir(emptyDir, 0o700); err != nil {
		t.Fatal(err)
	}
	emptyFileDir := filepath.Join(root, "empty-file")
	if err := os.Mkdir(emptyFileDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(emptyFileDir, FileName), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
	}{
		{"missing dir", filepath.Join(root, "missing")},
		{"dir without file", emptyDir},
		{"empty file", emptyFileDir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.dir, Options{ReadOnly: true})
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, ErrNoState) {
				t.Fatalf("Open: %v, want ErrNoState", err)
			}
			if !strings.Contains(err.Error(), tt.dir) {
				t.Errorf("message %q does not name the state dir", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(root, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only Open created the state dir (stat: %v)", err)
	}
}

// writeRawState creates a state file by hand, as another build would.
func writeRawState(t *testing.T, dir string, fill func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fill); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func withLayout(layout string) func(tx *bbolt.Tx) error {
	return func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		return b.Put(keyLayout, []byte(layout))
	}
}

func TestLayoutVersion(t *testing.T) {
	tests := []struct {
		name    string
		fill    func(tx *bbolt.Tx) error
		wantErr string // empty: Open succeeds
	}{
		{name: "current", fill: withLayout("1")},
		{name: "empty bbolt file", fill: func(*bbolt.Tx) error { return nil }},
		{name: "newer", fill: withLayout("2"), wantErr: "written by a newer siphon (layout 2, this build reads 1)"},
		{name: "much newer", fill: withLayout("17"), wantErr: "written by a newer siphon (layout 17, this build reads 1)"},
		{name: "garbage", fill: withLayout("one"), wantErr: `unreadable layout "one"`},
		{name: "zero", fill: withLayout("0"), wantErr: `unreadable layout "0"`},
		{name: "meta without layout", fill: withLayout(""), wantErr: `unreadable layout ""`},
		{
			name: "foreign file",
			fill: func(tx *bbolt.Tx) error {
				_, err := tx.CreateBucket([]byte("pipelines"))
				return err
			},
			wantErr: "is not a siphon state file",
		},
	}
	for _, tt := range tests {
		for _, readOnly := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/readonly=%t", tt.name, readOnly), func(t *testing.T) {
				dir := t.TempDir()
				writeRawState(t, dir, tt.fill)
				s, err := Open(dir, Options{ReadOnly: readOnly})
				if tt.wantErr == "" {
					if err != nil {
						t.Fatalf("Open: %v", err)
					}
					if _, err := s.Pipelines(); err != nil {
						t.Errorf("Pipelines: %v", err)
					}
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					return
				}
				if err == nil {
					_ = s.Close()
					t.Fatalf("Open succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Open: %q, want it to contain %q", err, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dir, PIDFileName)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("refused Open left a pid file (stat: %v)", err)
				}
				// The refused Open released the lock and changed nothing.
				db, err := bbolt.Open(filepath.Join(dir, FileName), 0o600, &bbolt.Options{Timeout: 100 * time.Millisecond})
				if err != nil {
					t.Fatalf("reopen after refusal: %v", err)
				}
				defer db.Close()
				if err := db.View(func(tx *bbolt.Tx) error {
					if tx.Bucket(bucketPipelines) != nil && tt.name != "foreign file" {
						return errors.New("refused Open created buckets")
					}
					return nil
				}); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

func TestPipelinesSortedAndCreatedOnWrite(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	// Reads and handles create nothing.
	for _, name := range []string{"zeta", "alpha"} {
		if _, _, err := s.Pipeline(name).LoadOffset(); err != nil {
			t.Fatal(err)
		}
	}
	if names, err := s.Pipelines(); err != nil || len(names) != 0 {
		t.Fatalf("Pipelines() after reads = %v, %v; want none", names, err)
	}

	writes := []struct {
		pipeline string
		write    func(*PipelineState) error
	}{
		{"orders-2", func(p *PipelineState) error { return p.SaveOffset([]byte(`{}`)) }},
		{"billing", func(p *PipelineState) error { return p.Put("snapshot", []byte("done")) }},
		{"audit_log", func(p *PipelineState) error { return p.AppendHistory([]byte{1}, []byte("ddl")) }},
		{"billing", func(p *PipelineState) error { return p.SaveOffset([]byte(`{}`)) }},
	}
	for _, w := range writes {
		if err := w.write(s.Pipeline(w.pipeline)); err != nil {
			t.Fatalf("%s: %v", w.pipeline, err)
		}
	}
	names, err := s.Pipelines()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"audit_log", "billing", "orders-2"}, names); diff != "" {
		t.Errorf("Pipelines() (-want +got):\n%s", diff)
	}
}
