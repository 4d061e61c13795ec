package postgres

import (
	"testing"

	"github.com/siphoncdc/siphon/capture/snapshot"
)

func TestComparePositions(t *testing.T) {
	initial := func(rows int64) *snapshot.State {
		return &snapshot.State{Kind: snapshot.Initial, Tables: []*snapshot.TableState{{Table: "public.t", Rows: rows}}}
	}
	incremental := &snapshot.State{Kind: snapshot.Incremental, Tables: []*snapshot.TableState{{Table: "public.t"}}}
	tests := []struct {
		name string
		a, b Position
		want int
	}{
		{"same", Position{LSN: 0x100, LSNCommit: 0x120}, Position{LSN: 0x100, LSNCommit: 0x120}, 0},
		{"commit lsn", Position{LSN: 0x100, LSNCommit: 0x120}, Position{LSN: 0x200, LSNCommit: 0x220}, -1},
		{"high word of the lsn", Position{LSNCommit: 0x1_00000000}, Position{LSNCommit: 0xFFFFFFFF}, 1},
		{"commit before last event lsn", Position{LSN: 0x900, LSNCommit: 0x1000}, Position{LSN: 0x10, LSNCommit: 0x1001}, -1},
		{"idle keepalive position after a transaction", Position{LSN: 0x100, LSNCommit: 0x120}, Position{LSN: 0x100, LSNCommit: 0x5000}, -1},
		{"snapshot progress", Position{LSNCommit: 0x120, Snapshot: initial(10)}, Position{LSNCommit: 0x120, Snapshot: initial(20)}, -1},
		{"initial snapshot before its end", Position{LSNCommit: 0x120, Snapshot: initial(10)}, Position{LSNCommit: 0x120}, -1},
		{"incremental after the stream", Position{LSNCommit: 0x120}, Position{LSNCommit: 0x120, Snapshot: incremental}, -1},
		{"lsn first", Position{LSNCommit: 0x121, Snapshot: initial(1)}, Position{LSNCommit: 0x120, Snapshot: initial(50)}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := comparePositions(tc.a, tc.b); got != tc.want {
				t.Fatalf("compare = %d, want %d", got, tc.want)
			}
			if back := comparePositions(tc.b, tc.a); back != -tc.want {
				t.Fatalf("reverse compare = %d, want %d", back, -tc.want)
			}
		})
	}
	s := &Source{}
	if c, err := s.ComparePositions(Position{LSNCommit: 0x2000}.Encode(), Position{LSNCommit: 0x1000}.Encode()); err != nil || c != 1 {
		t.Fatalf("ComparePositions = %d, %v", c, err)
	}
	if _, err := s.ComparePositions([]byte("junk"), Position{LSNCommit: 0x1000}.Encode()); err == nil {
		t.Fatal("ComparePositions accepted a malformed position")
	}
	if _, err := s.ComparePositions(Position{LSNCommit: 0x1000}.Encode(), []byte(`{"file":"mysql-bin.000001","pos":4}`)); err == nil {
		t.Fatal("ComparePositions accepted a MySQL position")
	}
}
