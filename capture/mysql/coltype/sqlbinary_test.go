package coltype

import (
	"encoding/binary"
	"fmt"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// binaryTemporal encodes t as the binary protocol does, in n bytes.
func binaryTemporal(t civilTime, n int) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(t.year))
	b = append(b, byte(t.month), byte(t.day), byte(t.hour), byte(t.minute), byte(t.second))
	b = binary.LittleEndian.AppendUint32(b, uint32(t.micro))
	return b[:n]
}

// serverText is how the server writes t for a column of type typ and fsp.
func serverText(t civilTime, typ Type, fsp int) string {
	s := fmt.Sprintf("%04d-%02d-%02d", t.year, t.month, t.day)
	if typ == TypeDate {
		return s
	}
	s += fmt.Sprintf(" %02d:%02d:%02d", t.hour, t.minute, t.second)
	if fsp > 0 {
		div := 1
		for range 6 - fsp {
			div *= 10
		}
		s += fmt.Sprintf(".%0*d", fsp, t.micro/div)
	}
	return s
}

// A binary-protocol temporal decodes to what its server text decodes to.
func TestSQLBinaryTemporalDecoderMatchesText(t *testing.T) {
	times := []civilTime{
		{},
		{year: 2024, month: 1, day: 1},
		{year: 2024, month: 2, day: 29, hour: 23, minute: 59, second: 59},
		{year: 1970, month: 1, day: 1},
		{year: 2038, month: 1, day: 19, hour: 3, minute: 14, second: 7, micro: 999_000},
		{year: 9999, month: 12, day: 31, hour: 23, minute: 59, second: 59, micro: 999_999},
		{year: 1000, month: 1, day: 1, micro: 1},
		{year: 69, month: 6, day: 15, hour: 1},
		{year: 2023, month: 2, day: 30},       // invalid: ALLOW_INVALID_DATES
		{year: 2023, month: 0, day: 0},        // zero month and day
		{year: 0, month: 5, day: 1},           // zero year
		{year: 0, month: 0, day: 0, hour: 12}, // zero date with a time
	}
	var cols []Column
	for _, typ := range []Type{TypeDate, TypeDateTime, TypeTimestamp} {
		for _, fsp := range []int{0, 3, 6} {
			if typ == TypeDate && fsp > 0 {
				continue
			}
			for _, nullable := range []bool{true, false} {
				cols = append(cols, Column{Name: "c", Type: typ, FSP: fsp, Nullable: nullable})
			}
		}
	}
	for _, c := range cols {
		text := sqlDecoder(t, c)
		bin, err := c.SQLBinaryTemporalDecoder()
		if err != nil {
			t.Fatalf("%s(%d): %v", c.Type, c.FSP, err)
		}
		for _, tm := range times {
			if c.Type == TypeDate {
				tm.hour, tm.minute, tm.second, tm.micro = 0, 0, 0, 0
			}
			div := 1
			for range 6 - c.FSP {
				div *= 10
			}
			tm.micro -= tm.micro % div // the column keeps fsp digits
			s := serverText(tm, c.Type, c.FSP)
			want, wantErr := text(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(s)), &Arena{})
			for _, n := range []int{0, 4, 7, 11} {
				if (n == 0 && tm != civilTime{}) || (n <= 4 && tm.hour+tm.minute+tm.second+tm.micro > 0) || (n <= 7 && tm.micro > 0) {
					continue // too short for the value
				}
				raw := binaryTemporal(tm, n)
				if text, err := c.AppendBinaryTemporalText(nil, raw); err != nil || string(text) != s {
					t.Errorf("%s(%d) %q in %d bytes: text %q, %v", c.Type, c.FSP, s, n, text, err)
				}
				got, err := bin(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, raw), &Arena{})
				if (err != nil) != (wantErr != nil) || !got.Equal(want) {
					t.Errorf("%s(%d) nullable=%t %q in %d bytes: got %v, %v; want %v, %v", c.Type, c.FSP, c.Nullable, s, n, got, err, want, wantErr)
				}
			}
		}
		null, err := bin(gomysql.NewFieldValue(gomysql.FieldValueTypeNull, 0, nil), &Arena{})
		if err != nil || !null.IsNull() {
			t.Errorf("%s: NULL decodes to %v, %v", c.Type, null, err)
		}
		if _, err := bin(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte("2024-01-01")), &Arena{}); err == nil {
			t.Errorf("%s: text accepted as a binary value", c.Type)
		}
	}
}
