package mysql

import (
	"bytes"
	"encoding/binary"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/siphoncdc/siphon/capture/mysql/coltype"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// A chunk's DATETIME and TIMESTAMP values reach their decoders as the
// binary protocol's bytes once rawTemporals has retyped their columns, and
// decode as the text of the same values does.
func TestRawTemporalsHandOverProtocolBytes(t *testing.T) {
	cols := []coltype.Column{
		{Name: "id", Type: coltype.TypeLongLong},
		{Name: "at", Type: coltype.TypeDateTime, FSP: 3, Nullable: true},
		{Name: "ts", Type: coltype.TypeTimestamp, Nullable: true},
	}
	st := &snapTable{t: &snapshot.Table{Name: "db.t"}, cols: cols, rawTemporal: []int{1, 2}}
	for _, c := range cols {
		text, chunk, err := sqlDecoders(c)
		if err != nil {
			t.Fatal(err)
		}
		st.decode, st.chunkDecode = append(st.decode, text), append(st.chunkDecode, chunk)
	}
	res := &gomysql.Result{Resultset: &gomysql.Resultset{Fields: []*gomysql.Field{
		{Type: gomysql.MYSQL_TYPE_LONGLONG}, {Type: gomysql.MYSQL_TYPE_DATETIME}, {Type: gomysql.MYSQL_TYPE_TIMESTAMP},
	}}}
	if err := st.rawTemporals(res); err != nil {
		t.Fatal(err)
	}

	// OK header, null bitmap (offset 2), BIGINT 7, DATETIME
	// 2024-02-29 13:14:15.120, TIMESTAMP 2024-01-01 00:00:00 (4 bytes).
	row := []byte{0x00, 0x00}
	row = binary.LittleEndian.AppendUint64(row, 7)
	datetime := binary.LittleEndian.AppendUint16(nil, 2024)
	datetime = append(datetime, 2, 29, 13, 14, 15)
	datetime = binary.LittleEndian.AppendUint32(datetime, 120_000)
	row = append(append(row, byte(len(datetime))), datetime...)
	row = append(row, 4, 0xe8, 0x07, 1, 1)
	vals, err := gomysql.RowData(row).ParseBinary(res.Fields, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := vals[1].AsString(); !bytes.Equal(got, datetime) {
		t.Fatalf("DATETIME handed over as %q, want its protocol bytes %q", got, datetime)
	}
	got, err := st.decodeRow(st.chunkDecode, vals, make(pipeline.Row, len(cols)), &coltype.Arena{})
	if err != nil {
		t.Fatal(err)
	}
	text := func(s string) gomysql.FieldValue {
		return gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(s))
	}
	want, err := st.row([]gomysql.FieldValue{vals[0], text("2024-02-29 13:14:15.120"), text("2024-01-01 00:00:00")}, make(pipeline.Row, len(cols)), &coltype.Arena{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("column %s: %v from the protocol bytes, %v from text", cols[i].Name, got[i], want[i])
		}
	}
}

// A column the server does not return as a date or time stops the read
// rather than being misread.
func TestRawTemporalsRejectOtherTypes(t *testing.T) {
	st := &snapTable{t: &snapshot.Table{Name: "db.t"}, cols: []coltype.Column{{Name: "at", Type: coltype.TypeDateTime}}, rawTemporal: []int{0}}
	res := &gomysql.Result{Resultset: &gomysql.Resultset{Fields: []*gomysql.Field{{Type: gomysql.MYSQL_TYPE_VAR_STRING}}}}
	if err := st.rawTemporals(res); err == nil {
		t.Error("a VARCHAR result column was taken for a DATETIME")
	}
	res.Fields = append(res.Fields, &gomysql.Field{Type: gomysql.MYSQL_TYPE_DATETIME})
	if err := st.rawTemporals(res); err == nil {
		t.Error("two result columns were taken for one")
	}
}

// A DATETIME key goes into the cursor as the server's text of it, as it
// did when chunks selected it as text.
func TestCursorHoldsTemporalKeysAsText(t *testing.T) {
	st := &snapTable{
		t:    &snapshot.Table{Name: "db.t"},
		cols: []coltype.Column{{Name: "at", Type: coltype.TypeDateTime, FSP: 3}, {Name: "n", Type: coltype.TypeLong}},
		key:  []int{0, 1},
	}
	raw := binary.LittleEndian.AppendUint16(nil, 2024)
	raw = append(raw, 1, 2, 3, 4, 5)
	got, err := st.cursor([]gomysql.FieldValue{
		gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, raw),
		gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, 9, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := encodeCursor([]gomysql.FieldValue{
		gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte("2024-01-02 03:04:05.000")),
		gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, 9, nil),
	})
	if !bytes.Equal(got, want) {
		t.Errorf("cursor %s, want %s", got, want)
	}
}
