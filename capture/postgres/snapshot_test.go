package postgres

import (
	"math"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/capture/postgres/pgtype"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

func TestSnapshotVisibility(t *testing.T) {
	tests := []struct {
		snap      string
		invisible []uint32
		visible   []uint32
	}{
		{"100:105:100,103", []uint32{100, 103, 105, 106}, []uint32{99, 101, 102, 104, 3}},
		{"100:100:", []uint32{100, 101}, []uint32{99, 1}},
		// 64-bit xids with an epoch: compared as pgoutput's 32-bit xids.
		{"4294967395:4294967400:4294967396", []uint32{100, 104, 105}, []uint32{99, 101, 102}},
		// Around wraparound: xmax wrapped past 2^32.
		{"4294967290:4294967306:4294967295", []uint32{4294967295, 10, 11}, []uint32{4294967290, 4294967294, 0, 9}},
	}
	for _, tc := range tests {
		s, err := parseSnapshot(tc.snap)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range tc.invisible {
			if !s.invisible(x) {
				t.Errorf("%s: xid %d should be invisible", tc.snap, x)
			}
		}
		for _, x := range tc.visible {
			if s.invisible(x) {
				t.Errorf("%s: xid %d should be visible", tc.snap, x)
			}
		}
	}
	for _, bad := range []string{"", "1:2", "a:2:", "1:b:", "1:2:x"} {
		if _, err := parseSnapshot(bad); err == nil {
			t.Errorf("parseSnapshot(%q) succeeded", bad)
		}
	}
	if !precedes(math.MaxUint32, 1) || precedes(1, math.MaxUint32) {
		t.Errorf("precedes does not wrap")
	}
}

func testSnapTable(t *testing.T) *snapTable {
	t.Helper()
	i4, _ := pgtype.Lookup(23)
	txt, _ := pgtype.Lookup(25)
	cols := []pgtype.Column{{Name: "a", Type: i4, TypMod: -1}, {Name: "b b", Type: txt, TypMod: -1}, {Name: "v", Type: txt, TypMod: -1, Nullable: true}}
	sh, err := buildShape(pipeline.TableID{Schema: "s", Name: "t"}, "p.s.t", cols, []string{"a", "b b"})
	if err != nil {
		t.Fatal(err)
	}
	return &snapTable{name: "s.t", shape: sh, selects: `"a", "b b", "v"`, from: `"s"."t"`, key: []int{0, 1},
		keyCasts: []string{"integer", "text"}, orderBy: `"a", "b b"`}
}

func TestChunkQuery(t *testing.T) {
	st := testSnapTable(t)
	tests := []struct {
		name  string
		rg    snapshot.Range
		after []byte
		want  string
		args  []string
	}{
		{"first chunk", snapshot.Range{}, nil, `SELECT "a", "b b", "v" FROM "s"."t" ORDER BY "a", "b b" LIMIT 11`, nil},
		{"after a row", snapshot.Range{}, encodeCursor([]string{"5", "it's"}),
			`SELECT "a", "b b", "v" FROM "s"."t" WHERE ("a", "b b") > ($1::integer, $2::text) ORDER BY "a", "b b" LIMIT 11`, []string{"5", "it's"}},
		{"a range", snapshot.Range{From: encodeCursor([]string{"100"}), To: encodeCursor([]string{"200"})}, nil,
			`SELECT "a", "b b", "v" FROM "s"."t" WHERE "a" > $1::integer AND "a" <= $2::integer ORDER BY "a", "b b" LIMIT 11`, []string{"100", "200"}},
	}
	for _, tc := range tests {
		q, args, err := st.chunkQuery(tc.rg, tc.after, 10)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if q != tc.want || strings.Join(args, "|") != strings.Join(tc.args, "|") {
			t.Errorf("%s:\n got %s %q\nwant %s %q", tc.name, q, args, tc.want, tc.args)
		}
	}
	if _, _, err := st.chunkQuery(snapshot.Range{}, encodeCursor([]string{"1", "2", "3"}), 10); err == nil {
		t.Errorf("a cursor of three values for a two-column key was accepted")
	}
}

func TestSnapTableDecodeRow(t *testing.T) {
	st := testSnapTable(t)
	row := make(pipeline.Row, 3)
	if err := st.decodeRow([][]byte{[]byte("7"), []byte("x"), nil}, row); err != nil {
		t.Fatal(err)
	}
	if row[0].AsInt() != 7 || row[1].AsString() != "x" || !row[2].IsNull() {
		t.Fatalf("decoded %v", row)
	}
	if err := st.decodeRow([][]byte{[]byte("seven"), []byte("x"), nil}, row); err == nil {
		t.Fatalf("a bad integer decoded")
	}
	if k := st.shape.table.Key; len(k) != 2 || k[0] != 0 || k[1] != 1 {
		t.Fatalf("key %v", k)
	}
}
