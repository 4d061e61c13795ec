package postgres

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// msgBuilder writes pgoutput messages as the server does.
type msgBuilder []byte

func (b msgBuilder) u8(v byte) msgBuilder { return append(b, v) }
func (b msgBuilder) u16(v uint16) msgBuilder {
	return binary.BigEndian.AppendUint16(b, v)
}
func (b msgBuilder) u32(v uint32) msgBuilder {
	return binary.BigEndian.AppendUint32(b, v)
}
func (b msgBuilder) u64(v uint64) msgBuilder {
	return binary.BigEndian.AppendUint64(b, v)
}
func (b msgBuilder) str(s string) msgBuilder { return append(append(b, s...), 0) }
func (b msgBuilder) text(s string) msgBuilder {
	return append(b.u8('t').u32(uint32(len(s))), s...)
}

func TestParseMessage(t *testing.T) {
	const pgTime = 1_000_000 // 1 s after 2000-01-01
	tests := []struct {
		name     string
		data     msgBuilder
		inStream bool
		want     message
	}{
		{
			name: "begin",
			data: msgBuilder{'B'}.u64(0x1_0000_0010).u64(pgTime).u32(779),
			want: message{typ: 'B', finalLSN: 0x1_0000_0010, commitTime: pgEpochMicros + pgTime, xid: 779},
		},
		{
			name: "commit",
			data: msgBuilder{'C'}.u8(0).u64(100).u64(140).u64(pgTime),
			want: message{typ: 'C', commitLSN: 100, endLSN: 140, commitTime: pgEpochMicros + pgTime},
		},
		{
			name: "origin",
			data: msgBuilder{'O'}.u64(7).str("upstream"),
			want: message{typ: 'O', originLSN: 7, originName: "upstream"},
		},
		{
			name: "relation",
			data: msgBuilder{'R'}.u32(16384).str("public").str("t").u8('d').u16(2).
				u8(1).str("id").u32(23).u32(0xFFFFFFFF).
				u8(0).str("n").u32(1700).u32(655366),
			want: message{typ: 'R', relID: 16384, namespace: "public", relName: "t", replIdent: 'd',
				columns: []relColumn{{flags: 1, name: "id", typOID: 23, typmod: -1}, {name: "n", typOID: 1700, typmod: 655366}}},
		},
		{
			name:     "relation in a stream",
			data:     msgBuilder{'R'}.u32(901).u32(16384).str("s").str("t").u8('f').u16(0),
			inStream: true,
			want:     message{typ: 'R', xid: 901, relID: 16384, namespace: "s", relName: "t", replIdent: 'f', columns: []relColumn{}},
		},
		{
			name: "insert",
			data: msgBuilder{'I'}.u32(16384).u8('N').u16(3).text("42").u8('n').u8('u'),
			want: message{typ: 'I', relID: 16384, oldTuple: []tupleCol{},
				newTuple: []tupleCol{{kind: 't', data: []byte("42")}, {kind: 'n'}, {kind: 'u'}}},
		},
		{
			name: "update with key",
			data: msgBuilder{'U'}.u32(5).u8('K').u16(1).text("1").u8('N').u16(1).text("2"),
			want: message{typ: 'U', relID: 5, oldKind: 'K', oldTuple: []tupleCol{{kind: 't', data: []byte("1")}},
				newTuple: []tupleCol{{kind: 't', data: []byte("2")}}},
		},
		{
			name: "update without old tuple",
			data: msgBuilder{'U'}.u32(5).u8('N').u16(1).text(""),
			want: message{typ: 'U', relID: 5, oldTuple: []tupleCol{}, newTuple: []tupleCol{{kind: 't', data: []byte{}}}},
		},
		{
			name:     "delete in a stream",
			data:     msgBuilder{'D'}.u32(902).u32(5).u8('O').u16(1).text("x"),
			inStream: true,
			want:     message{typ: 'D', xid: 902, relID: 5, oldKind: 'O', oldTuple: []tupleCol{{kind: 't', data: []byte("x")}}, newTuple: []tupleCol{}},
		},
		{
			name: "truncate",
			data: msgBuilder{'T'}.u32(2).u8(1).u32(10).u32(11),
			want: message{typ: 'T', truncOptions: 1, relIDs: []uint32{10, 11}},
		},
		{
			name: "message",
			data: msgBuilder{'M'}.u8(1).u64(99).str("pfx").u32(3).u8('a').u8('b').u8('c'),
			want: message{typ: 'M', transactional: true, messageLSN: 99, prefix: "pfx", content: []byte("abc")},
		},
		{
			name: "stream start",
			data: msgBuilder{'S'}.u32(903).u8(1),
			want: message{typ: 'S', xid: 903, firstSegment: true},
		},
		{
			name: "stream stop",
			data: msgBuilder{'E'},
			want: message{typ: 'E'},
		},
		{
			name: "stream commit",
			data: msgBuilder{'c'}.u32(903).u8(0).u64(500).u64(540).u64(pgTime),
			want: message{typ: 'c', xid: 903, commitLSN: 500, endLSN: 540, commitTime: pgEpochMicros + pgTime},
		},
		{
			name: "stream abort of a subtransaction",
			data: msgBuilder{'A'}.u32(903).u32(904),
			want: message{typ: 'A', xid: 903, subXid: 904},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got message
			if err := parseMessage(tc.data, tc.inStream, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(message{}, tupleCol{}, relColumn{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseMessageErrors(t *testing.T) {
	tests := []struct {
		name string
		data msgBuilder
		want string
	}{
		{"empty", msgBuilder{}, "empty message"},
		{"unknown type", msgBuilder{'Z'}, "unknown message type"},
		{"short begin", msgBuilder{'B'}.u64(1), "truncated"},
		{"unterminated string", msgBuilder{'O'}.u64(1).u8('x'), "NUL-terminated"},
		{"bad tuple kind", msgBuilder{'I'}.u32(1).u8('N').u16(1).u8('q'), "unknown tuple column kind"},
		{"value past the end", msgBuilder{'I'}.u32(1).u8('N').u16(1).u8('t').u32(10).u8('x'), "truncated"},
		{"insert marker", msgBuilder{'I'}.u32(1).u8('K').u16(0), "want 'N'"},
		{"delete marker", msgBuilder{'D'}.u32(1).u8('N').u16(0), "want 'K' or 'O'"},
		{"negative length", msgBuilder{'M'}.u8(0).u64(1).str("p").u32(0xFFFFFFFF), "negative length"},
	}
	for _, tc := range tests {
		var m message
		err := parseMessage(tc.data, false, &m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParseMessage: any input either parses or fails, never panics, and
// tuple data always lies within the input.
func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(msgBuilder{'B'}.u64(1).u64(2).u32(3)), false)
	f.Add([]byte(msgBuilder{'R'}.u32(1).str("s").str("t").u8('d').u16(1).u8(1).str("c").u32(23).u32(0)), false)
	f.Add([]byte(msgBuilder{'U'}.u32(5).u8('O').u16(1).text("1").u8('N').u16(2).text("2").u8('u')), true)
	f.Add([]byte(msgBuilder{'M'}.u8(1).u64(99).str("p").u32(1).u8('a')), true)
	f.Add([]byte(msgBuilder{'T'}.u32(1).u32(2).u8(0).u32(3)), true)
	f.Fuzz(func(t *testing.T, data []byte, inStream bool) {
		var m message
		if err := parseMessage(data, inStream, &m); err != nil {
			return
		}
		for _, c := range append(append([]tupleCol{}, m.oldTuple...), m.newTuple...) {
			if len(c.data) > len(data) {
				t.Fatalf("column data longer than the message")
			}
		}
	})
}
