package postgres

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSpillReplayAndAborts(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "7.spill"), []byte("left by a crashed run"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := newSpiller(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "7.spill")); !os.IsNotExist(err) {
		t.Fatalf("an old spill file survived: %v", err)
	}
	type rec struct {
		xid, msgXid uint32
		lsn         uint64
		msg         string
	}
	in := []rec{
		{100, 100, 1, "R relation"},
		{100, 100, 2, "I top"},
		{200, 200, 3, "I other transaction"},
		{100, 101, 4, "I sub 101"},
		{100, 101, 5, "R relation in sub 101"},
		{100, 102, 6, "I sub 102"},
		{100, 100, 7, "I top again"},
	}
	for _, r := range in {
		if err := s.write(r.xid, r.msgXid, r.lsn, []byte(r.msg)); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 2 {
		t.Fatalf("%d open transactions, want 2", s.Len())
	}
	if err := s.abort(100, 101); err != nil { // a subtransaction
		t.Fatal(err)
	}
	if err := s.abort(200, 200); err != nil { // a whole transaction
		t.Fatal(err)
	}
	if err := s.abort(300, 300); err != nil { // never streamed anything
		t.Fatal(err)
	}
	sf, ok := s.take(100)
	if !ok {
		t.Fatal("transaction 100 is gone")
	}
	var got []string
	var lsns []uint64
	if err := sf.replay(func(lsn uint64, msg []byte) error {
		got = append(got, string(msg))
		lsns = append(lsns, lsn)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"R relation", "I top", "R relation in sub 101", "I sub 102", "I top again"}
	if len(got) != len(want) {
		t.Fatalf("replayed %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("replayed %q, want %q", got, want)
		}
	}
	if lsns[3] != 6 {
		t.Fatalf("lsns %v", lsns)
	}
	if err := sf.remove(); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 0 || s.Len() != 0 {
		t.Fatalf("left %v, %d open", left, s.Len())
	}
}
