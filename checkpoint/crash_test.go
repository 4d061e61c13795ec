package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// TestCrashSafety kills a process that saves offsets in a tight loop at
// random points and checks that every restart finds a complete offset the
// process had saved, never a torn or older one.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>1))
	dir := t.TempDir()

	var lastSeen uint64 // highest n a killed helper reported as saved
	for round := range 5 {
		cmd, _, stdout, stderr := startHelper(t, "save", dir)
		lines := 1 + rng.IntN(400)
		for range lines {
			if !stdout.Scan() {
				_ = cmd.Wait()
				t.Fatalf("round %d: helper stopped early: %v, stderr: %s", round, stdout.Err(), stderr.String())
			}
			n, err := strconv.ParseUint(stdout.Text(), 10, 64)
			if err != nil || n <= lastSeen {
				t.Fatalf("round %d: helper printed %q after %d", round, stdout.Text(), lastSeen)
			}
			lastSeen = n
		}
		// Reading a line synchronises us with the helper; the kill would then
		// always land at the start of the next save. A random pause of up to
		// about two saves moves it anywhere inside one (writing pages, fsync,
		// writing meta). The checks below hold whatever the pause is.
		time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper ended with %v, want killed; stderr: %s", round, err, stderr.String())
		}

		got := verifyCrashedState(t, dir, lastSeen)
		t.Logf("round %d: killed after %d lines, last printed %d, stored %d", round, lines, lastSeen, got)
		lastSeen = got
	}
}

// verifyCrashedState reopens the store the way a restarted siphon would and
// returns the stored n, which must be at least minN.
func verifyCrashedState(t *testing.T, dir string, minN uint64) uint64 {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()

	if err := s.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt consistency check: %v", err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	p := s.Pipeline(crashPipeline)
	off, found, err := p.LoadOffset()
	if err != nil || !found {
		t.Fatalf("LoadOffset after kill: found %v, %v", found, err)
	}
	var pos struct {
		File string `json:"file"`
		Pos  uint64 `json:"pos"`
		Pad  string `json:"pad"`
	}
	if err := json.Unmarshal(off.Position, &pos); err != nil {
		t.Fatalf("stored position is not well-formed JSON: %v: %.100q", err, off.Position)
	}
	if !bytes.Equal(off.Position, crashPosition(pos.Pos)) {
		t.Fatalf("stored position for n=%d is not the one the helper saved: %.100q", pos.Pos, off.Position)
	}
	if off.Seq != pos.Pos {
		t.Fatalf("stored seq %d does not match stored position n=%d", off.Seq, pos.Pos)
	}
	if pos.Pos < minN {
		t.Fatalf("stored n=%d, but the helper had reported n=%d as saved", pos.Pos, minN)
	}
	if off.UpdatedAt.IsZero() || time.Since(off.UpdatedAt) > time.Hour {
		t.Errorf("implausible updated_at %v", off.UpdatedAt)
	}

	// Schema history: every tenth n up to the stored one, in order, plus
	// the next one when the kill came between its append and its save.
	var keys []uint64
	if err := p.History(func(k, v []byte) error {
		n := binary.BigEndian.Uint64(k)
		if !bytes.Equal(v, crashPosition(n)) {
			t.Errorf("history entry %d has a torn value", n)
		}
		keys = append(keys, n)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := int(pos.Pos / 10); len(keys) != want && !(len(keys) == want+1 && (pos.Pos+1)%10 == 0) {
		t.Errorf("history has %d entries, want %d (n=%d)", len(keys), want, pos.Pos)
	}
	for i, k := range keys {
		if k != uint64(i+1)*10 {
			t.Errorf("history entry %d has key %d, want %d", i, k, (i+1)*10)
			break
		}
	}
	return pos.Pos
}
