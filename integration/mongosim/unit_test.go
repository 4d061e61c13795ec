package mongosim

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

var update = flag.Bool("update", false, "rewrite golden files")

func rawValue(t testing.TB, v any) bsoncore.Value {
	t.Helper()
	raw, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		t.Fatal(err)
	}
	return bsoncore.Document(raw).Lookup("v")
}

func TestCompareValuesFollowsBSONOrder(t *testing.T) {
	ids := mixedIDs()
	for i := range ids {
		for j := range ids {
			a, b := rawValue(t, ids[i]), rawValue(t, ids[j])
			got := compareValues(a, b)
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if sign(got) != want {
				t.Errorf("compare(%s, %s) = %d, want %d", a, b, got, want)
			}
			if (canonicalKey(a) == canonicalKey(b)) != (want == 0) {
				t.Errorf("canonicalKey equality of %s and %s disagrees with compare", a, b)
			}
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestNumericEqualityAcrossTypes(t *testing.T) {
	one, _ := bson.ParseDecimal128("1.000")
	tests := []struct {
		a, b any
		eq   bool
	}{
		{int32(1), int64(1), true},
		{int32(1), 1.0, true},
		{int32(1), one, true},
		{0.1, 0.1, true},
		{int64(1 << 62), float64(1 << 62), true},
		{int64(1<<53 + 1), float64(1 << 53), false},
		{"a", bson.Symbol("a"), true},
		{bson.D{{Key: "a", Value: 1}}, bson.D{{Key: "a", Value: 1.0}}, true},
	}
	for _, tt := range tests {
		a, b := rawValue(t, tt.a), rawValue(t, tt.b)
		if got := compareValues(a, b) == 0; got != tt.eq {
			t.Errorf("compare(%s, %s) == 0 is %v, want %v", a, b, got, tt.eq)
		}
		if got := canonicalKey(a) == canonicalKey(b); got != tt.eq {
			t.Errorf("canonicalKey(%s) == canonicalKey(%s) is %v, want %v", a, b, got, tt.eq)
		}
	}
}

func TestTokenRoundTripAndOrder(t *testing.T) {
	positions := []position{
		{ts: packTS(1, 1)},
		{ts: packTS(1, 1), event: true},
		{ts: packTS(1, 1), event: true, txnOpIndex: 1},
		{ts: packTS(1, 1), event: true, txnOpIndex: 1, fromInvalidate: true},
		{ts: packTS(1, 2)},
		{ts: packTS(2, 0), event: true},
	}
	for i, p := range positions {
		got, err := parseToken(p.token())
		if err != nil || got != p {
			t.Errorf("parseToken(%s) = %+v, %v; want %+v", p.token(), got, err, p)
		}
		if i > 0 && (positions[i-1].compare(p) >= 0 || positions[i-1].token() >= p.token()) {
			t.Errorf("position %d does not sort after %d", i, i-1)
		}
	}
	for _, bad := range []string{"", "82", strings.Repeat("0", tokenLen), "82" + strings.Repeat("G", tokenLen-2)} {
		if _, err := parseToken(bad); err == nil {
			t.Errorf("parseToken(%q) accepted a malformed token", bad)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(position{ts: packTS(5, 6), event: true, txnOpIndex: 2}.token())
	f.Add("8200")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseToken(s)
		if err == nil && p.token() != strings.ToUpper(s) {
			t.Fatalf("token %q parsed to %+v, which prints as %q", s, p, p.token())
		}
	})
}

func TestParseOpMsgFoldsDocumentSequences(t *testing.T) {
	body := bsoncore.BuildDocument(nil, bsoncore.AppendStringElement(nil, "insert", "c"), bsoncore.AppendStringElement(nil, "$db", "d"))
	doc1 := bsoncore.BuildDocument(nil, bsoncore.AppendInt32Element(nil, "_id", 1))
	doc2 := bsoncore.BuildDocument(nil, bsoncore.AppendInt32Element(nil, "_id", 2))
	idx, wm := wiremessage.AppendHeaderStart(nil, 7, 0, wiremessage.OpMsg)
	wm = wiremessage.AppendMsgFlags(wm, 0)
	wm = wiremessage.AppendMsgSectionType(wm, wiremessage.SingleDocument)
	wm = append(wm, body...)
	wm = wiremessage.AppendMsgSectionType(wm, wiremessage.DocumentSequence)
	sidx, wm := bsoncore.ReserveLength(wm)
	wm = append(wm, "documents\x00"...)
	wm = append(append(wm, doc1...), doc2...)
	wm = bsoncore.UpdateLength(wm, sidx, int32(len(wm)-int(sidx)))
	wm = bsoncore.UpdateLength(wm, idx, int32(len(wm)-int(idx)))

	req, err := parseMessage(wm)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"insert": "c","$db": "d","documents": [{"_id": {"$numberInt":"1"}},{"_id": {"$numberInt":"2"}}]}`
	if got := req.command.String(); got != want {
		t.Errorf("command\n got %s\nwant %s", got, want)
	}
	if req.requestID != 7 || commandName(req.command) != "insert" {
		t.Errorf("request %+v", req)
	}
}

func FuzzParseMessage(f *testing.F) {
	body := bsoncore.BuildDocument(nil, bsoncore.AppendInt32Element(nil, "ping", 1))
	f.Add(appendOpMsgReply(nil, 1, 0, false, body))
	f.Add(appendOpReply(nil, 1, 0, body))
	f.Fuzz(func(t *testing.T, msg []byte) {
		req, err := parseMessage(msg)
		if err == nil {
			if err := req.command.Validate(); err != nil {
				t.Fatalf("parsed an invalid command: %v", err)
			}
			_ = commandName(req.command)
		}
	})
}

func TestReadMessageRejectsBadLengths(t *testing.T) {
	for _, n := range []int32{0, 15, maxMessageSize + 1} {
		hdr := wiremessage.AppendHeader(nil, n, 1, 0, wiremessage.OpMsg)
		if _, err := readMessage(bytes.NewReader(hdr)); err == nil {
			t.Errorf("length %d accepted", n)
		}
	}
}

func docOf(t testing.TB, d bson.D) bsoncore.Document {
	t.Helper()
	raw, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestApplyUpdate(t *testing.T) {
	base := bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: 1}, {Key: "arr", Value: bson.A{1, 2, 3}}, {Key: "sub", Value: bson.D{{Key: "x", Value: 1}}}}
	tests := []struct {
		name     string
		update   any
		wantDoc  string
		wantDesc string // updatedFields|removedFields|truncatedArrays, "" for no change
		replace  bool
		errCode  int32
	}{
		{"set existing and new", bson.D{{Key: "$set", Value: bson.D{{Key: "b", Value: 2}, {Key: "a", Value: 5}}}},
			`{"_id": 1,"a": 5,"arr": [1,2,3],"sub": {"x": 1},"b": 2}`, `{"a": 5,"b": 2}|[]|[]`, false, 0},
		{"set same value is a no-op", bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, "", "", false, 0},
		{"nested set and new path", bson.D{{Key: "$set", Value: bson.D{{Key: "sub.y", Value: 2}, {Key: "n.m", Value: 3}}}},
			`{"_id": 1,"a": 1,"arr": [1,2,3],"sub": {"x": 1,"y": 2},"n": {"m": 3}}`, `{"n": {"m": 3},"sub.y": 2}|[]|[]`, false, 0},
		{"unset", bson.D{{Key: "$unset", Value: bson.D{{Key: "a", Value: ""}, {Key: "missing", Value: ""}}}},
			`{"_id": 1,"arr": [1,2,3],"sub": {"x": 1}}`, `{}|["a"]|[]`, false, 0},
		{"inc widens", bson.D{{Key: "$inc", Value: bson.D{{Key: "a", Value: int64(1)}, {Key: "c", Value: 1.5}}}},
			`{"_id": 1,"a": 2,"arr": [1,2,3],"sub": {"x": 1},"c": 1.5}`, `{"a": 2,"c": 1.5}|[]|[]`, false, 0},
		{"push each", bson.D{{Key: "$push", Value: bson.D{{Key: "arr", Value: bson.D{{Key: "$each", Value: bson.A{4, 5}}}}}}},
			`{"_id": 1,"a": 1,"arr": [1,2,3,4,5],"sub": {"x": 1}}`, `{"arr.3": 4,"arr.4": 5}|[]|[]`, false, 0},
		{"replacement keeps _id first", bson.D{{Key: "z", Value: 1}}, `{"_id": 1,"z": 1}`, "", true, 0},
		{"pipeline truncation", bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "arr", Value: bson.D{{Key: "$literal", Value: bson.A{1, 9}}}}}}}},
			`{"_id": 1,"a": 1,"arr": [1,9],"sub": {"x": 1}}`, `{"arr.1": 9}|[]|[{"field": "arr","newSize": 2}]`, false, 0},
		{"conflict", bson.D{{Key: "$set", Value: bson.D{{Key: "sub", Value: 1}}}, {Key: "$inc", Value: bson.D{{Key: "sub.x", Value: 1}}}}, "", "", false, 40},
		{"immutable _id", bson.D{{Key: "$set", Value: bson.D{{Key: "_id", Value: 2}}}}, "", "", false, 66},
		{"inc of a string", bson.D{{Key: "$set", Value: bson.D{{Key: "s", Value: "x"}}}, {Key: "$inc", Value: bson.D{{Key: "a.b", Value: 1}}}}, "", "", false, 28},
		{"unknown modifier", bson.D{{Key: "$rename", Value: bson.D{{Key: "a", Value: "b"}}}}, "", "", false, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := rawValue(t, tt.update)
			res, err := applyUpdate(docOf(t, base), u, false)
			if tt.errCode != 0 {
				var ce *commandError
				if !errors.As(err, &ce) || ce.code != tt.errCode {
					t.Fatalf("err = %v, want code %d", err, tt.errCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantDoc == "" {
				if res.changed {
					t.Fatalf("no-op update changed the document to %s", bson.Raw(res.doc))
				}
				return
			}
			if got := relaxed(t, res.doc); got != tt.wantDoc {
				t.Errorf("document\n got %s\nwant %s", got, tt.wantDoc)
			}
			if res.replace != tt.replace {
				t.Errorf("replace = %v, want %v", res.replace, tt.replace)
			}
			if tt.wantDesc != "" {
				d := appendUpdateDescription(nil, res.desc.describe(), false)
				doc := bsoncore.Document(bsoncore.BuildDocument(nil, d)).Lookup("updateDescription").Document()
				got := strings.Join([]string{relaxed(t, doc.Lookup("updatedFields").Document()), relaxedArr(t, doc.Lookup("removedFields")), relaxedArr(t, doc.Lookup("truncatedArrays"))}, "|")
				if got != tt.wantDesc {
					t.Errorf("updateDescription\n got %s\nwant %s", got, tt.wantDesc)
				}
			}
		})
	}
}

func relaxed(t testing.TB, d bsoncore.Document) string {
	t.Helper()
	out, err := bson.MarshalExtJSON(bson.Raw(d), false, false)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(out), `":`, `": `)
}

func relaxedArr(t testing.TB, v bsoncore.Value) string {
	t.Helper()
	wrapped := bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "a", v))
	s := relaxed(t, wrapped)
	return strings.TrimSuffix(strings.TrimPrefix(s, `{"a": `), "}")
}

// TestChangeEventGolden renders one event of each kind with fixed times and compares the
// canonical Extended JSON with testdata/change_events.golden.json (-update rewrites it).
func TestChangeEventGolden(t *testing.T) {
	s := &Sim{cat: catalog{}, changed: make(chan struct{}), cursors: map[int64]*cursor{}}
	uuid := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	id := rawValue(t, int32(7))
	doc := docOf(t, bson.D{{Key: "_id", Value: 7}, {Key: "v", Value: 1}})
	lsid := oplogLsid(docOf(t, bson.D{{Key: "id", Value: bson.Binary{Subtype: 4, Data: uuid[:]}}}))
	ts := packTS(1700000000, 3)
	desc := diffFromLog([]logEntry{{kind: logUpdate, path: []string{"v"}, value: rawValue(t, int32(2))}, {kind: logDelete, path: []string{"old"}}}, docTree(doc)).describe()
	events := []*changeEvent{
		{op: opInsert, db: "shop", coll: "orders", documentKey: documentKeyOf(id), fullDocument: doc},
		{op: opUpdate, db: "shop", coll: "orders", documentKey: documentKeyOf(id), desc: desc, preImage: doc, postImage: doc},
		{op: opReplace, db: "shop", coll: "orders", documentKey: documentKeyOf(id), fullDocument: doc, preImage: doc},
		{op: opDelete, db: "shop", coll: "orders", documentKey: documentKeyOf(id), inTxn: true, lsid: lsid, txnNumber: 4},
		{op: opRename, db: "shop", coll: "orders", toDB: "shop", toColl: "archive"},
		{op: opDrop, db: "shop", coll: "archive"},
		{op: opDropDatabase, db: "shop"},
	}
	st := &streamState{fullDocument: "whenAvailable", before: "whenAvailable", filter: matchAll}
	var out bytes.Buffer
	for i, ev := range events {
		ev.pos = position{ts: ts, event: true, txnOpIndex: uint32(i)}
		ev.wall = 1700000000123
		ev.uuid = uuid
		d, err := s.renderEvent(ev, st)
		if err != nil {
			t.Fatal(err)
		}
		js, err := bson.MarshalExtJSON(bson.Raw(d), true, false)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(js)
		out.WriteByte('\n')
	}
	js, _ := bson.MarshalExtJSON(bson.Raw(renderInvalidate(events[6])), true, false)
	out.Write(js)
	out.WriteByte('\n')

	path := filepath.Join("testdata", "change_events.golden.json")
	if *update {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), out.String()); diff != "" {
		t.Errorf("change events differ from %s (-want +got):\n%s", path, diff)
	}
}
