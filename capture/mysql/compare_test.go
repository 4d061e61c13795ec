package mysql

import (
	"testing"

	"github.com/siphoncdc/siphon/capture/snapshot"
)

func TestComparePositions(t *testing.T) {
	initial := func(rows int64) *snapshot.State {
		return &snapshot.State{Kind: snapshot.Initial, Tables: []*snapshot.TableState{{Table: "db.t", Rows: rows}}}
	}
	incremental := &snapshot.State{Kind: snapshot.Incremental, Tables: []*snapshot.TableState{{Table: "db.t"}}}
	tests := []struct {
		name    string
		a, b    Position
		want    int
		wantErr bool
	}{
		{"same", Position{File: "bin.000003", Pos: 120}, Position{File: "bin.000003", Pos: 120}, 0, false},
		{"offset", Position{File: "bin.000003", Pos: 120}, Position{File: "bin.000003", Pos: 4000}, -1, false},
		{"file number, not text", Position{File: "bin.000010", Pos: 4}, Position{File: "bin.000009", Pos: 999999}, 1, false},
		{"six digits outgrown", Position{File: "bin.999999", Pos: 4}, Position{File: "bin.1000000", Pos: 4}, -1, false},
		{"mariadb gtid", Position{File: "b.000001", Pos: 900, GTIDs: "0-1-10", ServerID: 1}, Position{File: "b.000009", Pos: 4, GTIDs: "0-2-12", ServerID: 2}, -1, false},
		{"mariadb gtid after failover", Position{File: "b.000009", Pos: 4, GTIDs: "0-2-13", ServerID: 2}, Position{File: "b.000001", Pos: 900, GTIDs: "0-1-10", ServerID: 1}, 1, false},
		{"mysql gtid subset", Position{File: "b.000001", Pos: 4, GTIDs: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"}, Position{File: "b.000001", Pos: 900, GTIDs: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-7"}, -1, false},
		{"mysql gtid unordered", Position{GTIDs: "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"}, Position{GTIDs: "4e11fa47-71ca-11e1-9e33-c80aa9429562:1-7"}, 0, true},
		{"servers without gtids", Position{File: "a.000001", Pos: 4, ServerID: 1}, Position{File: "b.000001", Pos: 4, ServerID: 2}, 0, true},
		{"snapshot progress", Position{File: "b.000001", Pos: 4, Snapshot: initial(10)}, Position{File: "b.000001", Pos: 4, Snapshot: initial(20)}, -1, false},
		{"initial snapshot before its end", Position{File: "b.000001", Pos: 4, Snapshot: initial(10)}, Position{File: "b.000001", Pos: 4}, -1, false},
		{"incremental after the stream", Position{File: "b.000001", Pos: 4}, Position{File: "b.000001", Pos: 4, Snapshot: incremental}, -1, false},
		{"coordinate first", Position{File: "b.000001", Pos: 8, Snapshot: initial(1)}, Position{File: "b.000001", Pos: 4, Snapshot: initial(50)}, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := comparePositions(tc.a, tc.b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Fatalf("compare = %d, want %d", got, tc.want)
			}
			if err == nil {
				if back, _ := comparePositions(tc.b, tc.a); back != -tc.want {
					t.Fatalf("reverse compare = %d, want %d", back, -tc.want)
				}
			}
		})
	}
	s := &Source{}
	if c, err := s.ComparePositions(Position{File: "b.000002", Pos: 4}.Encode(), Position{File: "b.000001", Pos: 4}.Encode()); err != nil || c != 1 {
		t.Fatalf("ComparePositions = %d, %v", c, err)
	}
	if _, err := s.ComparePositions([]byte("junk"), Position{File: "b.000001", Pos: 4}.Encode()); err == nil {
		t.Fatal("ComparePositions accepted a malformed position")
	}
}
