package coltype

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"golang.org/x/text/encoding/charmap"

	"github.com/siphoncdc/siphon/integration/harness"
	"github.com/siphoncdc/siphon/pipeline"
)

// referenceSQLAdapter is capture/mysql's sqlAdapter as it was before
// SQLDecoder replaced it: it turns a client protocol value into the Go
// value go-mysql's binlog decoding gives, for BinlogDecoder. Together with
// referenceSQLPath it is the reference the differential tests hold
// SQLDecoder to.
func referenceSQLAdapter(c Column) (func(gomysql.FieldValue) (any, error), error) {
	text := func(fv gomysql.FieldValue) (any, error) { return string(fv.AsString()), nil }
	raw := func(fv gomysql.FieldValue) (any, error) { return bytes.Clone(fv.AsString()), nil }
	switch c.Type {
	case TypeTiny, TypeShort, TypeInt24, TypeLong, TypeLongLong, TypeYear:
		return func(fv gomysql.FieldValue) (any, error) {
			switch fv.Type {
			case gomysql.FieldValueTypeSigned:
				return fv.AsInt64(), nil
			case gomysql.FieldValueTypeUnsigned:
				return fv.AsUint64(), nil
			}
			n, err := strconv.ParseInt(string(fv.AsString()), 10, 64)
			return n, err
		}, nil
	case TypeDecimal, TypeDate, TypeDateTime, TypeTime, TypeChar, TypeVarChar, TypeJSON:
		if c.Type == TypeChar && c.Charset == "binary" {
			return raw, nil
		}
		if c.Type == TypeVarChar && c.Charset == "binary" {
			return raw, nil
		}
		return text, nil
	case TypeFloat, TypeDouble:
		return func(fv gomysql.FieldValue) (any, error) {
			f := fv.AsFloat64()
			if fv.Type == gomysql.FieldValueTypeString {
				var err error
				if f, err = strconv.ParseFloat(string(fv.AsString()), 64); err != nil {
					return nil, err
				}
			}
			if c.Type == TypeFloat {
				return float32(f), nil
			}
			return f, nil
		}, nil
	case TypeBit:
		return func(fv gomysql.FieldValue) (any, error) {
			var u uint64
			for _, b := range fv.AsString() {
				u = u<<8 | uint64(b)
			}
			return int64(u), nil
		}, nil
	case TypeTimestamp:
		return func(fv gomysql.FieldValue) (any, error) {
			s := string(fv.AsString())
			if strings.HasPrefix(s, "0000-00-00") {
				return s, nil
			}
			t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
			if err != nil {
				return nil, fmt.Errorf("TIMESTAMP value %q: %w", s, err)
			}
			return t, nil
		}, nil
	case TypeBlob, TypeGeometry, TypeVector:
		return raw, nil
	case TypeEnum:
		index := map[string]int64{}
		for i, m := range c.Members {
			index[m] = int64(i + 1)
		}
		return func(fv gomysql.FieldValue) (any, error) {
			s := string(fv.AsString())
			if s == "" {
				return int64(0), nil
			}
			i, ok := index[s]
			if !ok {
				return nil, fmt.Errorf("ENUM value %q is not a member", s)
			}
			return i, nil
		}, nil
	case TypeSet:
		bit := map[string]int64{}
		for i, m := range c.Members {
			bit[m] = 1 << i
		}
		return func(fv gomysql.FieldValue) (any, error) {
			s := string(fv.AsString())
			var mask int64
			if s == "" {
				return mask, nil
			}
			for _, m := range strings.Split(s, ",") {
				b, ok := bit[m]
				if !ok {
					return nil, fmt.Errorf("SET value %q has a non-member %q", s, m)
				}
				mask |= b
			}
			return mask, nil
		}, nil
	}
	return nil, fmt.Errorf("snapshot of %s columns is not supported", c.Type)
}

// referenceSQLPath is the snapshot's decoding before SQLDecoder: the
// adapter, then BinlogDecoder of the column with its text taken as utf8mb4
// (the connection's character set).
func referenceSQLPath(t testing.TB, c Column) func(gomysql.FieldValue) (pipeline.Value, error) {
	t.Helper()
	dc := c
	if dc.Charset != "" && dc.Charset != "binary" {
		dc.Charset = "utf8mb4"
	}
	dec, err := dc.BinlogDecoder()
	if err != nil {
		t.Fatal(err)
	}
	adapt, err := referenceSQLAdapter(c)
	if err != nil {
		t.Fatal(err)
	}
	return func(fv gomysql.FieldValue) (pipeline.Value, error) {
		if fv.Type == gomysql.FieldValueTypeNull {
			return pipeline.Null, nil
		}
		v, err := adapt(fv)
		if err != nil {
			return pipeline.Null, err
		}
		return dec(v)
	}
}

func sqlDecoder(t testing.TB, c Column) func(gomysql.FieldValue, *Arena) (pipeline.Value, error) {
	t.Helper()
	dec, err := c.SQLDecoder()
	if err != nil {
		t.Fatalf("SQLDecoder of %s: %v", c.Type, err)
	}
	return dec
}

// Client protocol forms of a value the server writes as text s.
type protocolForm int

const (
	textProtocol   protocolForm = iota // go-mysql's RowData.ParseText
	binaryProtocol                     // RowData.ParseBinary (temporals selected as text)
	stringForm                         // every value as a string
)

func (p protocolForm) String() string { return [...]string{"text", "binary", "string"}[p] }

func isIntegerLike(c Column) bool { return c.Type.isInteger() || c.Type == TypeYear }

// fieldValue builds the FieldValue go-mysql gives for a value the server
// renders as s, for the column's result field type.
func fieldValue(t testing.TB, c Column, s string, form protocolForm) gomysql.FieldValue {
	t.Helper()
	str := func() gomysql.FieldValue { return gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(s)) }
	switch {
	case form == stringForm:
		return str()
	case isIntegerLike(c):
		// YEAR is an UNSIGNED ZEROFILL field.
		if c.Unsigned || c.Type == TypeYear {
			u, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return str()
			}
			return gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, u, nil)
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return str()
		}
		return gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, uint64(i), nil)
	case c.Type == TypeFloat || c.Type == TypeDouble:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return str()
		}
		if form == binaryProtocol && c.Type == TypeFloat {
			f = float64(float32(f)) // the protocol sends the float's 4 bytes
		}
		return gomysql.NewFieldValue(gomysql.FieldValueTypeFloat, math.Float64bits(f), nil)
	}
	return str()
}

func sameResult(newV pipeline.Value, newErr error, oldV pipeline.Value, oldErr error) error {
	switch {
	case (newErr != nil) != (oldErr != nil):
		return fmt.Errorf("error %w, reference error %w", newErr, oldErr)
	case newErr == nil && !newV.Equal(oldV):
		return fmt.Errorf("%s, reference %s", valueString(newV), valueString(oldV))
	}
	return nil
}

func geometryText(srid uint32, wkb []byte) string {
	return string(append(binary.LittleEndian.AppendUint32(nil, srid), wkb...))
}

func float32Bytes(fs ...float32) string {
	var b []byte
	for _, f := range fs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return string(b)
}

var (
	pointWKB = append([]byte{1, 1, 0, 0, 0},
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(3.5)), math.Float64bits(-4.25))...)
	defaultDate     = "'2020-02-02'"
	defaultDateTime = "'2020-02-02 10:00:00.500'"
)

// sqlCases are columns and values as the server writes them as text.
var sqlCases = []struct {
	col    Column
	values []string
}{
	{Column{Name: "c", Type: TypeTiny, Nullable: true}, []string{"-128", "0", "127", "128", "x"}},
	{Column{Name: "c", Type: TypeTiny, Unsigned: true}, []string{"0", "255", "-1"}},
	{Column{Name: "c", Type: TypeShort}, []string{"-32768", "32767", "40000"}},
	{Column{Name: "c", Type: TypeShort, Unsigned: true}, []string{"65535", "0"}},
	{Column{Name: "c", Type: TypeInt24}, []string{"-8388608", "8388607", "8388608"}},
	{Column{Name: "c", Type: TypeInt24, Unsigned: true}, []string{"16777215"}},
	{Column{Name: "c", Type: TypeLong}, []string{"-2147483648", "2147483647", "42"}},
	{Column{Name: "c", Type: TypeLong, Unsigned: true}, []string{"4294967295"}},
	{Column{Name: "c", Type: TypeLongLong}, []string{"-9223372036854775808", "9223372036854775807", "9223372036854775808"}},
	{Column{Name: "c", Type: TypeLongLong, Unsigned: true}, []string{"18446744073709551615", "9223372036854775808", "1"}},

	{Column{Name: "c", Type: TypeDecimal, Precision: 10, Scale: 4}, []string{"123456.7890", "-0.0001", "0.0000", "-999999.9999", "200000.0000",
		"1x", "", ".", "1.2.3", "1.23456", "+1.5", "-.5", "7.", "-0.0000"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 65, Scale: 30}, []string{"-12345678901234567890.123456789012345678901234567890",
		"99999999999999999999999999999999999.999999999999999999999999999999", "-99999999999999999999999999999999999.999999999999999999999999999999",
		"0.000000000000000000000000000000", "-0.000000000000000000000000000001", "1"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 5, Scale: 0}, []string{"99999", "-99999", "0", "200", "-128", "-129"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 18, Scale: 0}, []string{"999999999999999999", "-999999999999999999"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 19, Scale: 0}, []string{"9223372036854775807", "-9223372036854775808", "9999999999999999999"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 30, Scale: 15}, []string{"1", "-1.5", "123.000000000000001", "123456789012345.123456789012345", "0.000000000000001"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 20, Scale: 2}, []string{"123456789012345678.99", "-123456789012345678.99", "0.01"}},
	{Column{Name: "c", Type: TypeDecimal, Precision: 65, Scale: 0}, []string{strings.Repeat("9", 65), "-" + strings.Repeat("9", 65),
		strings.Repeat("9", 76), strings.Repeat("9", 77), strings.Repeat("9", 90), "-" + strings.Repeat("0", 100) + "1"}},

	{Column{Name: "c", Type: TypeFloat}, []string{"1.5", "3.14159", "-0", "1e20", "1e-40", "3.40282e38", "x"}},
	{Column{Name: "c", Type: TypeFloat, ColumnType: "float(7,4)"}, []string{"3.1416", "-1.1"}},
	{Column{Name: "c", Type: TypeDouble}, []string{"3.141592653589793", "1e20", "-0", "5e-324", "0.30000000000000004", "-1.7976931348623157e308"}},

	{Column{Name: "c", Type: TypeBit, Length: 1}, []string{"\x00", "\x01"}},
	{Column{Name: "c", Type: TypeBit, Length: 10}, []string{"\x02\x01", "\x00\x00", "\x03\xff"}},
	{Column{Name: "c", Type: TypeBit, Length: 17}, []string{"\x01\x00\x01"}},
	{Column{Name: "c", Type: TypeBit, Length: 64}, []string{"\xff\xff\xff\xff\xff\xff\xff\xfe", "\x00\x00\x00\x00\x00\x00\x00\x00"}},

	{Column{Name: "c", Type: TypeYear}, []string{"0", "1901", "2024", "2155"}},

	{Column{Name: "c", Type: TypeDate, Nullable: true}, []string{"2024-02-29", "0000-00-00", "2024-00-10", "1969-12-31", "0001-01-01", "9999-12-31",
		"2024-02-30", "garbage", "2024-1-1"}},
	{Column{Name: "c", Type: TypeDate, Default: &defaultDate, Flavor: FlavorMariaDB}, []string{"0000-00-00", "2024-01-01"}},
	{Column{Name: "c", Type: TypeDate}, []string{"0000-00-00"}},
	{Column{Name: "c", Type: TypeDateTime, Nullable: true}, []string{"2018-06-20 06:37:03", "0000-00-00 00:00:00", "1000-01-01 00:00:00", "2018-06-20 24:00:00", "x"}},
	{Column{Name: "c", Type: TypeDateTime, FSP: 3, Default: &defaultDateTime, Flavor: FlavorMariaDB}, []string{"1969-12-31 23:59:59.123", "0000-00-00 00:00:00.000"}},
	{Column{Name: "c", Type: TypeDateTime, FSP: 6, Nullable: true}, []string{"2038-01-19 03:14:07.999999", "0000-00-00 00:00:00.000000", "1000-01-01 00:00:00.000000"}},

	{Column{Name: "c", Type: TypeTime, Nullable: true}, []string{"-838:59:59", "00:00:00", "838:59:59", "x"}},
	{Column{Name: "c", Type: TypeTime, FSP: 6}, []string{"12:34:56.789012", "-00:00:01.500000", "838:59:59.000000"}},

	{Column{Name: "c", Type: TypeTimestamp, Nullable: true}, []string{"2023-01-11 00:34:10", "0000-00-00 00:00:00", "1970-01-01 00:00:01", "2038-01-19 03:14:07",
		"2023-01-11 00:34:10,5", "2023-1-11 00:34:10", "2023-01-11 24:00:00", "2023-02-29 00:00:00", "+023-01-11 00:00:00", "2023-01-11 00:34:10.",
		"2023-01-11 00:34:10.1234567891", "2023-01-11 00:34:10.123456789", "2023-01-11T00:34:10", "0000-01-01 00:00:00", ""}},
	{Column{Name: "c", Type: TypeTimestamp, FSP: 3, Nullable: true}, []string{"2023-01-11 00:34:10.010", "0000-00-00 00:00:00.000", "2023-01-11 00:34:10.000"}},
	{Column{Name: "c", Type: TypeTimestamp, FSP: 6}, []string{"2023-01-11 00:34:10.123000", "0000-00-00 00:00:00.000000", "2038-01-19 03:14:07.999999"}},

	{Column{Name: "c", Type: TypeChar, Charset: "utf8mb4", Length: 10}, []string{"abc", "", "héllo wörld 🎉", "a\xffb", "\xed\xa0\x80"}},
	{Column{Name: "c", Type: TypeVarChar, Charset: "utf8mb3"}, []string{"text with \"quotes\"", "ü"}},
	{Column{Name: "c", Type: TypeBlob, Charset: "utf8mb4"}, []string{strings.Repeat("m", 300), strings.Repeat("long ", 2000), strings.Repeat("é", 3000) + "\xff"}},
	{Column{Name: "c", Type: TypeVarChar, Charset: "ucs2"}, []string{"wide", "∑"}},
	{Column{Name: "c", Type: TypeVarChar, Charset: "gbk"}, []string{"中文"}},

	{Column{Name: "c", Type: TypeChar, Charset: "binary", Length: 4}, []string{"\x01\x02\x03\x04", "\x01", "", "\x00\x00\x00\x00"}},
	{Column{Name: "c", Type: TypeVarChar, Charset: "binary", Length: 20}, []string{"\x00\xff", ""}},
	{Column{Name: "c", Type: TypeBlob, Charset: "binary"}, []string{"\xde\xad\xbe\xef", "", strings.Repeat("\x00", 5000)}},

	{Column{Name: "c", Type: TypeEnum, Charset: "utf8mb4", Members: []string{"small", "medium", "large"}}, []string{"medium", "", "bogus", "MEDIUM"}},
	{Column{Name: "c", Type: TypeSet, Charset: "utf8mb4", Members: []string{"a", "b", "c"}}, []string{"a,c", "", "a", "a,b,c", "d", "a,,b", "c,a", "b,b", "a,"}},
	{Column{Name: "c", Type: TypeSet, Charset: "utf8mb4", Members: []string{"", "x"}}, []string{",x", "x", ""}},

	{Column{Name: "c", Type: TypeJSON, Charset: "utf8mb4", Flavor: FlavorMariaDB}, []string{`{"b": [1, 2.5, "x"], "a": {"n": null}}`, "", "[]"}},

	{Column{Name: "c", Type: TypeGeometry}, []string{geometryText(4326, pointWKB), geometryText(0, []byte{1, 2, 0, 0, 0, 0, 0, 0, 0}), "\x01", ""}},
	{Column{Name: "c", Type: TypeGeometry, Geometry: "point"}, []string{geometryText(0, pointWKB), geometryText(7, []byte{1, 2, 0, 0, 0})}},
	{Column{Name: "c", Type: TypeVector}, []string{float32Bytes(1.5, -2, 0), "", "\x01\x02\x03\x04\x05"}},
}

// SQLDecoder gives what the snapshot's former adapter+BinlogDecoder gave,
// for every type, in every protocol form: the same value or an error from
// both.
func TestSQLDecoderMatchesReference(t *testing.T) {
	for _, tc := range sqlCases {
		ref := referenceSQLPath(t, tc.col)
		dec := sqlDecoder(t, tc.col)
		var a Arena
		for _, s := range tc.values {
			for _, form := range []protocolForm{textProtocol, binaryProtocol, stringForm} {
				fv := fieldValue(t, tc.col, s, form)
				want, wantErr := ref(fv)
				got, err := dec(fv, &a)
				if diff := sameResult(got, err, want, wantErr); diff != nil {
					t.Errorf("%s %q (%s protocol): %v", tc.col.sqlName(), s, form, diff)
				}
			}
		}
		null := gomysql.NewFieldValue(gomysql.FieldValueTypeNull, 0, nil)
		if got, err := dec(null, &a); err != nil || !got.IsNull() {
			t.Errorf("%s NULL: %s, %v", tc.col.sqlName(), valueString(got), err)
		}
	}
}

// Values the protocol can carry that no server sends for the column type:
// decoded as the reference decodes them.
func TestSQLDecoderOddProtocolValues(t *testing.T) {
	values := []gomysql.FieldValue{
		gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, uint64(math.MaxUint64), nil),
		gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, 200, nil),
		gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, 200, nil),
		gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, math.MaxUint64, nil),
		gomysql.NewFieldValue(gomysql.FieldValueTypeFloat, math.Float64bits(1.5), nil),
		gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, nil),
	}
	for _, tc := range sqlCases {
		ref := referenceSQLPath(t, tc.col)
		dec := sqlDecoder(t, tc.col)
		var a Arena
		for _, fv := range values {
			want, wantErr := ref(fv)
			got, err := dec(fv, &a)
			if diff := sameResult(got, err, want, wantErr); diff != nil {
				t.Errorf("%s %s: %v", tc.col.sqlName(), fv.String(), diff)
			}
		}
	}
}

// Errors name the column.
func TestSQLDecoderErrorsNameTheColumn(t *testing.T) {
	cols := []struct {
		col Column
		in  string
	}{
		{Column{Name: "price", Type: TypeDecimal, Precision: 5, Scale: 2}, "1x"},
		{Column{Name: "day", Type: TypeDate}, "x"},
		{Column{Name: "at", Type: TypeTimestamp}, "x"},
		{Column{Name: "size", Type: TypeEnum, Members: []string{"s"}}, "xl"},
		{Column{Name: "n", Type: TypeLong}, "x"},
	}
	for _, c := range cols {
		_, err := sqlDecoder(t, c.col)(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(c.in)), &Arena{})
		if err == nil || !strings.HasPrefix(err.Error(), "column "+c.col.Name+": ") {
			t.Errorf("%s %q: error %v does not name the column", c.col.sqlName(), c.in, err)
		}
	}
	if _, err := (Column{Name: "x", Type: TypeVarChar, Charset: "klingon"}).SQLDecoder(); err == nil {
		t.Error("unknown character set accepted")
	}
}

// mysqlLatin1 is the text MySQL's latin1 → utf8mb4 conversion sends for
// stored bytes: cp1252, with the bytes cp1252 leaves undefined as the C1
// control characters of the same number.
func mysqlLatin1(stored []byte) string {
	var b strings.Builder
	for _, c := range stored {
		r := charmap.Windows1252.DecodeByte(c)
		if r == utf8.RuneError {
			r = rune(c)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// A latin1 column's text arrives converted by the server; it decodes as
// the binlog path decodes the stored bytes.
func TestSQLDecoderLatin1MatchesBinlog(t *testing.T) {
	col := Column{Name: "c", Type: TypeVarChar, Charset: "latin1"}
	binlog, err := col.BinlogDecoder()
	if err != nil {
		t.Fatal(err)
	}
	dec := sqlDecoder(t, col)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	for _, stored := range [][]byte{[]byte("caf\xe9"), []byte("\x80\x81\x8d\x8f\x90\x9d\x9f\xff"), []byte("plain"), all, {0x81}, {}} {
		want, err := binlog(string(stored))
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(mysqlLatin1(stored))), &Arena{})
		if err != nil || !got.Equal(want) {
			t.Errorf("stored % x: %s, %v; binlog %s", stored, valueString(got), err, valueString(want))
		}
	}
}

// MySQL's JSON arrives as the server's text; it decodes as the binlog path
// decodes the binary document.
func TestSQLDecoderMySQLJSONMatchesBinlog(t *testing.T) {
	tests := []struct {
		doc    any
		server []string // the server's text, and variants of its double forms
	}{
		{jsonbObject{keys: []string{"a", "b"}, vals: []any{1, []any{1.5, "x", nil, true}}}, []string{`{"a": 1, "b": [1.5, "x", null, true]}`}},
		{[]any{1.0, 1e7, 1e20, 12345678.1, 1.5e-5, 0.0005, 2.5, math.Copysign(0, -1), 1234567.5, 1e16, -123456789.25},
			[]string{`[1.0, 10000000.0, 1e20, 12345678.1, 1.5e-5, 0.0005, 2.5, -0.0, 1234567.5, 1e16, -123456789.25]`,
				`[1.0, 1e7, 1e+20, 1.23456781e7, 1.5e-05, 5e-4, 2.5, -0.0, 1234567.5, 10000000000000000.0, -1.2345678925e8]`}},
		{[]any{jsonbDecimal{text: "12.50", precision: 4, scale: 2}, jsonbDecimal{text: "-0.10", precision: 3, scale: 2}, 7},
			[]string{`[12.50, -0.10, 7]`}},
		{jsonbObject{keys: []string{"s", "<"}, vals: []any{"a\"b\\c\n\x01<>&\u2028é", "x"}}, []string{`{"s": "a\"b\\c\n\u0001<>&` + "\u2028é" + `", "<": "x"}`}},
		{jsonbDatetime{2015, 1, 15, 23, 24, 25, 0}, []string{`"2015-01-15 23:24:25.000000"`}},
		{"scalar", []string{`"scalar"`}},
		{[]any{}, []string{`[]`}},
		{jsonbObject{}, []string{`{}`}},
	}
	for _, nullable := range []bool{true, false} {
		col := Column{Name: "j", Type: TypeJSON, Flavor: FlavorMySQL, Nullable: nullable}
		binlog, err := col.BinlogDecoder()
		if err != nil {
			t.Fatal(err)
		}
		dec := sqlDecoder(t, col)
		for _, tt := range tests {
			want, err := binlog(goMySQLValue(t, binlogColumn{typ: gomysql.MYSQL_TYPE_JSON, meta: []byte{4}}, jsonColumnValue(tt.doc)))
			if err != nil {
				t.Fatal(err)
			}
			for _, text := range tt.server {
				got, err := dec(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(text)), &Arena{})
				if err != nil || !got.Equal(want) {
					t.Errorf("%s\n got %s, %v\nwant %s", text, valueString(got), err, valueString(want))
				}
			}
		}
		// An empty value (INSERT IGNORE of NULL into a NOT NULL column).
		want, _ := binlog([]byte{})
		got, err := dec(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte{}), &Arena{})
		if err != nil || !got.Equal(want) {
			t.Errorf("empty JSON (nullable %t): %s, %v; binlog %s", nullable, valueString(got), err, valueString(want))
		}
	}
	if _, err := sqlDecoder(t, Column{Name: "j", Type: TypeJSON, Flavor: FlavorMySQL})(
		gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(`["unterminated`)), &Arena{}); err == nil {
		t.Error("malformed JSON accepted")
	}
}

// Values own their bytes: the client overwrites its row buffer.
func TestSQLDecoderCopiesBytes(t *testing.T) {
	for _, tc := range sqlCases {
		dec := sqlDecoder(t, tc.col)
		var a Arena
		for _, s := range tc.values {
			buf := []byte(s)
			fv := gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, buf)
			got, err := dec(fv, &a)
			if err != nil {
				continue
			}
			before := valueString(got)
			for i := range buf {
				buf[i] ^= 0x5a
			}
			if after := valueString(got); after != before {
				t.Errorf("%s %q: the value changed with the input buffer: %s, then %s", tc.col.sqlName(), s, before, after)
			}
		}
	}
}

// Decoding the common types allocates nothing per value beyond an
// arena's blocks.
func TestSQLDecoderAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	str := func(s string) gomysql.FieldValue {
		return gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(s))
	}
	tests := []struct {
		name string
		col  Column
		in   gomysql.FieldValue
		max  float64
	}{
		{"int", Column{Name: "c", Type: TypeLong}, gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, 42, nil), 0},
		{"bigint unsigned", Column{Name: "c", Type: TypeLongLong, Unsigned: true}, gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, math.MaxUint64, nil), 0},
		{"double", Column{Name: "c", Type: TypeDouble}, gomysql.NewFieldValue(gomysql.FieldValueTypeFloat, math.Float64bits(1.5), nil), 0},
		{"float", Column{Name: "c", Type: TypeFloat}, gomysql.NewFieldValue(gomysql.FieldValueTypeFloat, math.Float64bits(1.5), nil), 0},
		{"year", Column{Name: "c", Type: TypeYear}, gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, 2024, nil), 0},
		{"varchar", Column{Name: "c", Type: TypeVarChar, Charset: "utf8mb4"}, str("héllo world"), 0},
		{"text latin1", Column{Name: "c", Type: TypeBlob, Charset: "latin1"}, str("café"), 0},
		{"varbinary", Column{Name: "c", Type: TypeVarChar, Charset: "binary"}, str("\x00\x01"), 0},
		{"binary padded", Column{Name: "c", Type: TypeChar, Charset: "binary", Length: 8}, str("\x01"), 0},
		{"decimal", Column{Name: "c", Type: TypeDecimal, Precision: 12, Scale: 2}, str("-1234567.89"), 0},
		{"decimal wide", Column{Name: "c", Type: TypeDecimal, Precision: 65, Scale: 30}, str("-12345678901234567890.123456789012345678901234567890"), 0},
		{"date", Column{Name: "c", Type: TypeDate}, str("2024-02-29"), 0},
		{"datetime", Column{Name: "c", Type: TypeDateTime, FSP: 3}, str("2024-02-29 01:02:03.004"), 0},
		{"time", Column{Name: "c", Type: TypeTime, FSP: 6}, str("-12:00:00.5"), 0},
		{"timestamp", Column{Name: "c", Type: TypeTimestamp, FSP: 3}, str("2024-02-29 01:02:03.004"), 0},
		{"timestamp zero", Column{Name: "c", Type: TypeTimestamp}, str("0000-00-00 00:00:00"), 0},
		{"bit(1)", Column{Name: "c", Type: TypeBit, Length: 1}, str("\x01"), 0},
		{"bit(10)", Column{Name: "c", Type: TypeBit, Length: 10}, str("\x02\x01"), 0},
		{"enum", Column{Name: "c", Type: TypeEnum, Members: []string{"a", "b"}}, str("b"), 0},
		{"set", Column{Name: "c", Type: TypeSet, Members: []string{"a", "b"}}, str("a,b"), 0},
		{"mariadb json", Column{Name: "c", Type: TypeJSON, Charset: "utf8mb4", Flavor: FlavorMariaDB}, str(`{"a": [1, "x"]}`), 0},
		{"mysql json", Column{Name: "c", Type: TypeJSON, Flavor: FlavorMySQL}, str(`{"a": [1, "x", 2.5]}`), 0},
	}
	for _, tt := range tests {
		dec := sqlDecoder(t, tt.col)
		var a Arena
		if _, err := dec(tt.in, &a); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n := testing.AllocsPerRun(1000, func() { _, _ = dec(tt.in, &a) }); n > tt.max {
			t.Errorf("%s: %v allocations per value, want at most %v", tt.name, n, tt.max)
		}
	}
}

func TestArena(t *testing.T) {
	var a Arena
	if a.Copy(nil) != nil || a.String([]byte{}) != "" {
		t.Error("an empty copy is not empty")
	}
	var kept [][]byte
	var want []string
	for i := range 5000 {
		b := bytes.Repeat([]byte{byte(i)}, i%97)
		c := a.Copy(b)
		if !bytes.Equal(c, b) || cap(c) != len(c) {
			t.Fatalf("copy %d: %q (cap %d), want %q", i, c, cap(c), b)
		}
		kept, want = append(kept, c), append(want, string(b))
	}
	for i := range kept {
		if string(kept[i]) != want[i] {
			t.Fatalf("copy %d was overwritten by later copies", i)
		}
	}
	if cap(a.block) != arenaMaxBlock {
		t.Errorf("after %d copies the block holds %d bytes, want the largest, %d", len(kept), cap(a.block), arenaMaxBlock)
	}

	// A large copy has its own allocation and leaves the block alone.
	used := len(a.block)
	big := a.Copy(make([]byte, arenaMaxShared+1))
	if len(big) != arenaMaxShared+1 || len(a.block) != used {
		t.Errorf("a large copy took %d bytes of the block", len(a.block)-used)
	}

	// What is built in the space may use the block's free bytes; beyond
	// them append reallocates, and claim leaves the block alone.
	used = len(a.block)
	free := a.space(2)
	if got := a.claim(append(free, "more than two bytes"...)); string(got) != "more than two bytes" || len(a.block) != used+len(got) {
		t.Errorf("claim within the free bytes: %q, block %d → %d", got, used, len(a.block))
	}
	used = len(a.block)
	free = a.space(2)
	if got := a.claim(append(free, make([]byte, cap(free)+1)...)); len(got) != cap(free)+1 || len(a.block) != used {
		t.Errorf("claim of an outgrown slice: block %d → %d", used, len(a.block))
	}

	// Blocks grow from the first size.
	var b Arena
	b.Copy([]byte("x"))
	if cap(b.block) != arenaFirstBlock {
		t.Errorf("first block of %d bytes, want %d", cap(b.block), arenaFirstBlock)
	}
}

// fuzzSQLColumns are the columns FuzzSQLDecoder decodes into.
var fuzzSQLColumns = func() []Column {
	var cols []Column
	for _, tc := range sqlCases {
		cols = append(cols, tc.col)
	}
	return append(cols,
		Column{Name: "c", Type: TypeVarChar, Charset: "latin1"},
		Column{Name: "c", Type: TypeJSON, Flavor: FlavorMySQL},
		Column{Name: "c", Type: TypeJSON, Flavor: FlavorMySQL, Nullable: true},
	)
}()

// Any value of any form in any column decodes without a panic; where the
// reference path applies, to what it gives.
func FuzzSQLDecoder(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte("12"))
	f.Add(uint8(10), uint8(0), []byte("-12.50"))
	f.Add(uint8(35), uint8(0), []byte("2023-01-11 00:34:10.5"))
	f.Add(uint8(50), uint8(0), []byte("a,b"))
	f.Add(uint8(58), uint8(0), []byte(`{"a": [1e20, 12345678.5, "x\u0001"]}`))
	f.Add(uint8(57), uint8(0), []byte("\xc2\x81x"))
	f.Add(uint8(2), uint8(1), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, which, form uint8, data []byte) {
		col := fuzzSQLColumns[int(which)%len(fuzzSQLColumns)]
		var fv gomysql.FieldValue
		var num uint64
		if len(data) >= 8 {
			num = binary.LittleEndian.Uint64(data)
		}
		switch form % 4 {
		case 0:
			fv = gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, data)
		case 1:
			fv = gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, num, nil)
		case 2:
			fv = gomysql.NewFieldValue(gomysql.FieldValueTypeUnsigned, num, nil)
		default:
			fv = gomysql.NewFieldValue(gomysql.FieldValueTypeFloat, num, nil)
		}
		var a Arena
		got, err := sqlDecoder(t, col)(fv, &a)
		mysqlJSON := col.Type == TypeJSON && col.Flavor == FlavorMySQL
		if mysqlJSON {
			return // no reference, and not text: see TestSQLDecoderMySQLJSONMatchesBinlog
		}
		if err == nil && got.Kind() == pipeline.KindString && !utf8.ValidString(got.AsString()) && col.Type != TypeEnum && col.Type != TypeSet {
			t.Fatalf("%s % x: invalid UTF-8 %q", col.sqlName(), data, got.AsString())
		}
		if col.Charset == "latin1" {
			return // no reference: see TestSQLDecoderLatin1MatchesBinlog
		}
		want, wantErr := referenceSQLPath(t, col)(fv)
		if diff := sameResult(got, err, want, wantErr); diff != nil {
			t.Fatalf("%s %s % x: %v", col.sqlName(), fv.String(), data, diff)
		}
	})
}

// BenchmarkSQLRow decodes the benchmark table's 10-column row as a
// prepared statement returns it (temporals as text) through the former
// adapter+BinlogDecoder path and through SQLDecoder; it reports ns and
// allocations per row.
func BenchmarkSQLRow(b *testing.B) {
	str := func(s string) gomysql.FieldValue {
		return gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, []byte(s))
	}
	signed := func(i int64) gomysql.FieldValue {
		return gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, uint64(i), nil)
	}
	cols := []Column{
		{Name: "id", Type: TypeLongLong},
		{Name: "a", Type: TypeLong},
		{Name: "b", Type: TypeLongLong, Nullable: true},
		{Name: "c", Type: TypeVarChar, Charset: "utf8mb4", Length: 64, Nullable: true},
		{Name: "d", Type: TypeDecimal, Precision: 12, Scale: 2, Nullable: true},
		{Name: "e", Type: TypeDateTime, FSP: 3, Nullable: true},
		{Name: "f", Type: TypeDouble, Nullable: true},
		{Name: "g", Type: TypeBlob, Charset: "utf8mb4", Length: 65535, Nullable: true},
		{Name: "h", Type: TypeTiny, Nullable: true},
		{Name: "i", Type: TypeTimestamp, Nullable: true},
	}
	row := []gomysql.FieldValue{
		signed(123456), signed(-42), signed(9876543210), str("name-123456-abcdefghijklmnopqrstuvwxyz"), str("12345.67"),
		str("2024-02-29 12:34:56.789"), gomysql.NewFieldValue(gomysql.FieldValueTypeFloat, math.Float64bits(3.14159), nil),
		str(strings.Repeat("lorem ipsum ", 9)), signed(7), str("2024-02-29 12:34:56"),
	}
	const chunkRows = 8192
	b.Run("reference", func(b *testing.B) {
		decs := make([]func(gomysql.FieldValue) (pipeline.Value, error), len(cols))
		for i, c := range cols {
			decs[i] = referenceSQLPath(b, c)
		}
		out := make(pipeline.Row, len(cols))
		b.ReportAllocs()
		for b.Loop() {
			for i, fv := range row {
				var err error
				if out[i], err = decs[i](fv); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	})
	b.Run("SQLDecoder", func(b *testing.B) {
		decs := make([]func(gomysql.FieldValue, *Arena) (pipeline.Value, error), len(cols))
		for i, c := range cols {
			decs[i] = sqlDecoder(b, c)
		}
		out := make(pipeline.Row, len(cols))
		a, n := &Arena{}, 0
		b.ReportAllocs()
		for b.Loop() {
			if n++; n == chunkRows {
				a, n = &Arena{}, 0 // a new arena per chunk, as the snapshot does
			}
			for i, fv := range row {
				var err error
				if out[i], err = decs[i](fv, a); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/row")
	})
}

// --- end to end against MariaDB ---

// e2eDDL is a table of every type MariaDB has (integration's allTypesDDL
// and more: zero dates in NOT NULL columns, latin1, BINARY padding).
const e2eDDL = `CREATE TABLE t (
  id INT NOT NULL PRIMARY KEY,
  c_bool BOOLEAN,
  c_tinyint TINYINT, c_tinyint_u TINYINT UNSIGNED,
  c_smallint SMALLINT, c_smallint_u SMALLINT UNSIGNED,
  c_mediumint MEDIUMINT, c_mediumint_u MEDIUMINT UNSIGNED,
  c_int INT, c_int_u INT UNSIGNED,
  c_bigint BIGINT, c_bigint_u BIGINT UNSIGNED,
  c_decimal DECIMAL(10,4), c_decimal_wide DECIMAL(65,30), c_numeric NUMERIC(5,0), c_decimal20 DECIMAL(20,2),
  c_float FLOAT, c_float_md FLOAT(7,4), c_double DOUBLE, c_real REAL,
  c_bit1 BIT(1), c_bit10 BIT(10), c_bit64 BIT(64),
  c_year YEAR, c_date DATE, c_time TIME, c_time6 TIME(6),
  c_datetime DATETIME, c_datetime3 DATETIME(3), c_datetime6 DATETIME(6),
  c_timestamp TIMESTAMP NULL DEFAULT NULL, c_timestamp3 TIMESTAMP(3) NULL DEFAULT NULL, c_timestamp6 TIMESTAMP(6) NULL DEFAULT NULL,
  c_date_nn DATE NOT NULL DEFAULT '2020-02-02', c_date_nn0 DATE NOT NULL, c_datetime_nn DATETIME(3) NOT NULL DEFAULT '2020-02-02 10:00:00.500',
  c_timestamp_nn TIMESTAMP(3) NOT NULL DEFAULT '2020-01-01 00:00:00',
  c_char CHAR(10), c_varchar VARCHAR(100), c_tinytext TINYTEXT, c_text TEXT, c_mediumtext MEDIUMTEXT, c_longtext LONGTEXT,
  c_latin1 VARCHAR(20) CHARACTER SET latin1, c_latin1_text TEXT CHARACTER SET latin1, c_utf8mb3 VARCHAR(20) CHARACTER SET utf8mb3,
  c_binary BINARY(4), c_varbinary VARBINARY(20), c_tinyblob TINYBLOB, c_blob BLOB, c_mediumblob MEDIUMBLOB, c_longblob LONGBLOB,
  c_json JSON,
  c_enum ENUM('small','medium','large'), c_set SET('a','b','c'), c_enum_latin1 ENUM('café','thé') CHARACTER SET latin1,
  c_geometry GEOMETRY, c_point POINT, c_linestring LINESTRING, c_polygon POLYGON,
  c_virtual INT AS (c_int * 2) VIRTUAL, c_stored INT AS (c_int + 1) STORED,
  c_default_str VARCHAR(10) NOT NULL DEFAULT 'x', c_default_int INT DEFAULT 42
) CHARACTER SET utf8mb4`

var e2eRows = []string{
	`INSERT INTO t (id, c_bool, c_tinyint, c_tinyint_u, c_smallint, c_smallint_u, c_mediumint, c_mediumint_u, c_int, c_int_u,
	  c_bigint, c_bigint_u, c_decimal, c_decimal_wide, c_numeric, c_decimal20, c_float, c_float_md, c_double, c_real, c_bit1, c_bit10, c_bit64,
	  c_year, c_date, c_time, c_time6, c_datetime, c_datetime3, c_datetime6, c_timestamp, c_timestamp3, c_timestamp6,
	  c_date_nn, c_date_nn0, c_datetime_nn, c_timestamp_nn,
	  c_char, c_varchar, c_tinytext, c_text, c_mediumtext, c_longtext, c_latin1, c_latin1_text, c_utf8mb3,
	  c_binary, c_varbinary, c_tinyblob, c_blob, c_mediumblob, c_longblob, c_json, c_enum, c_set, c_enum_latin1,
	  c_geometry, c_point, c_linestring, c_polygon)
	VALUES (1, TRUE, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295,
	  -9223372036854775808, 18446744073709551615, 123456.7890, -12345678901234567890.123456789012345678901234567890, 99999, -123456789012345678.99,
	  1.5, 3.1416, 3.141592653589793, 1e20, b'1', b'1000000001', b'1111111111111111111111111111111111111111111111111111111111111110',
	  2024, '2024-02-29', '-838:59:59', '12:34:56.789012', '2018-06-20 06:37:03', '1969-12-31 23:59:59.123', '2038-01-19 03:14:07.999999',
	  '2023-01-11 00:34:10', '2023-01-11 00:34:10.010', '2023-01-11 00:34:10.123000',
	  '2024-01-01', '1999-12-31', '2024-01-01 00:00:00.001', '2024-01-01 00:00:00.999',
	  'abc', 'héllo wörld 🎉', 'tiny', 'text with "quotes" and \\backslash and <html>&', REPEAT('m', 300), REPEAT('long ', 2000),
	  'café', X'80818D8F909D9FFF41', 'ünïcödé',
	  x'01020304', x'00ff', x'', x'DEADBEEF', x'CAFE', x'00',
	  '{"b": [1, 2.5, "x"], "a": {"nested": true, "n": null}}',
	  'medium', 'a,c', 'thé',
	  ST_GeomFromText('POINT(1 2)', 4326), ST_GeomFromText('POINT(3.5 -4.25)'), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 0)'),
	  ST_GeomFromText('POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))'))`,
	`INSERT INTO t (id) VALUES (2)`,
	`INSERT INTO t (id, c_date, c_datetime, c_datetime3, c_datetime6, c_timestamp, c_timestamp3, c_year, c_float, c_double, c_decimal, c_bit10, c_enum, c_set,
	  c_date_nn, c_date_nn0, c_datetime_nn, c_timestamp_nn, c_time, c_binary, c_char)
	  VALUES (3, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000', '0000-00-00 00:00:00.000000', '0000-00-00 00:00:00', '0000-00-00 00:00:00.000',
	  0, -0.0, 1e-7, -0.0001, b'0', '', '', '0000-00-00', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', x'01', 'pad   ')`,
	`INSERT INTO t (id, c_date, c_datetime, c_year, c_float, c_double, c_decimal_wide, c_bit64, c_set, c_time6, c_timestamp6, c_json, c_varbinary)
	  VALUES (4, '2024-00-10', '2024-05-00 10:11:12', 1901, 3.4028234e38, -1.7976931348623157e308, 99999999999999999999999999999999999.999999999999999999999999999999,
	  b'0', 'a,b,c', '-00:00:01.5', '1970-01-01 00:00:01', '[]', '')`,
	`INSERT INTO t (id, c_date, c_datetime6, c_year, c_float, c_double, c_decimal, c_timestamp, c_timestamp6, c_time)
	  VALUES (5, '0001-01-01', '1000-01-01 00:00:00.000001', 2155, 0.1, 0.30000000000000004, -999999.9999, '2038-01-19 03:14:07', '2038-01-19 03:14:07.999999', '838:59:59')`,
}

// infoSchemaColumns reads the table's columns as capture/mysql does.
func infoSchemaColumns(t *testing.T, c *client.Conn, db, table string) []Column {
	t.Helper()
	r, err := c.Execute(`SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,
		NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, CHARACTER_MAXIMUM_LENGTH, CHARACTER_SET_NAME, EXTRA, GENERATION_EXPRESSION
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, db, table)
	if err != nil {
		t.Fatal(err)
	}
	jsonCols := map[string]bool{}
	checks, err := c.Execute(`SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`, db, table)
	if err != nil {
		t.Fatal(err)
	}
	for i := range checks.RowNumber() {
		clause, _ := checks.GetString(i, 0)
		if strings.HasPrefix(clause, "json_valid(`") {
			jsonCols[strings.TrimSuffix(strings.TrimPrefix(clause, "json_valid(`"), "`)")] = true
		}
	}
	optStr := func(i, j int) *string {
		if v, _ := r.IsNull(i, j); v {
			return nil
		}
		s, _ := r.GetString(i, j)
		return &s
	}
	optInt := func(i, j int) *int64 {
		if v, _ := r.IsNull(i, j); v {
			return nil
		}
		n, _ := r.GetInt(i, j)
		return &n
	}
	var cols []Column
	for i := range r.RowNumber() {
		s := func(j int) string { v, _ := r.GetString(i, j); return v }
		ic := InfoSchemaColumn{
			Name: s(0), DataType: strings.ToLower(s(1)), ColumnType: s(2), IsNullable: s(3) == "YES", Default: optStr(i, 4),
			NumericPrecision: optInt(i, 5), NumericScale: optInt(i, 6), DatetimePrecision: optInt(i, 7), CharMaxLength: optInt(i, 8),
			CharsetName: optStr(i, 9), Extra: s(10), GenerationExpression: s(11), IsJSON: jsonCols[s(0)],
		}
		col, err := FromInformationSchema(ic, FlavorMariaDB)
		if err != nil {
			t.Fatal(err)
		}
		cols = append(cols, col)
	}
	return cols
}

// sqlRows reads the table through SQLDecoder, keyed by id (column 0). The
// values are compared only after the query ends, so that one aliasing the
// client's row buffer would show.
func sqlRows(t *testing.T, c *client.Conn, cols []Column, query string, prepared bool) map[int64]pipeline.Row {
	t.Helper()
	decs := make([]func(gomysql.FieldValue, *Arena) (pipeline.Value, error), len(cols))
	for i, col := range cols {
		decs[i] = sqlDecoder(t, col)
	}
	rows := map[int64]pipeline.Row{}
	var a Arena
	onRow := func(vals []gomysql.FieldValue) error {
		row := make(pipeline.Row, len(vals))
		for i, fv := range vals {
			var err error
			if row[i], err = decs[i](fv, &a); err != nil {
				return err
			}
		}
		rows[row[0].AsInt()] = row
		return nil
	}
	var res gomysql.Result
	if prepared {
		s, err := c.Prepare(query)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.ExecuteSelectStreaming(&res, onRow, nil); err != nil {
			t.Fatalf("prepared %s: %v", query, err)
		}
	} else if err := c.ExecuteSelectStreaming(query, &res, onRow, nil); err != nil {
		t.Fatalf("text %s: %v", query, err)
	}
	return rows
}

// binlogRows decodes the table's WRITE_ROWS events in a binlog file the way
// the stream does (go-mysql with the source's settings, BinlogDecoder),
// keyed by id.
func binlogRows(t *testing.T, path string, cols []Column) map[int64]pipeline.Row {
	t.Helper()
	p := replication.NewBinlogParser()
	p.SetFlavor(gomysql.MariaDBFlavor)
	p.SetParseTime(true)
	p.SetUseDecimal(false)
	p.SetRenderJSONAsMySQLText(RenderJSONAsMySQLText)
	byName := map[string]int{}
	for i, c := range cols {
		byName[c.Name] = i
	}
	rows := map[int64]pipeline.Row{}
	err := p.ParseFile(path, 4, func(e *replication.BinlogEvent) error {
		re, ok := e.Event.(*replication.RowsEvent)
		if !ok || string(re.Table.Schema) != "sqltest" || string(re.Table.Table) != "t" {
			return nil
		}
		tm := re.Table
		names := tm.ColumnNameString()
		unsigned := tm.UnsignedMap()
		decs := make([]func(any) (pipeline.Value, error), len(names))
		at := make([]int, len(names))
		for i, name := range names {
			j, ok := byName[name]
			if !ok {
				return fmt.Errorf("binlog column %s is not in information_schema", name)
			}
			_, nullable := tm.Nullable(i)
			bc, err := FromBinlog(name, tm.ColumnType[i], tm.ColumnMeta[i], unsigned[i], nullable)
			if err != nil {
				return err
			}
			if err := SameStorage(bc, cols[j]); err != nil {
				return fmt.Errorf("column %s: %w", name, err)
			}
			if decs[i], err = cols[j].BinlogDecoder(); err != nil {
				return err
			}
			at[i] = j
		}
		for _, image := range re.Rows {
			row := make(pipeline.Row, len(cols))
			for i, v := range image {
				var err error
				if row[at[i]], err = decs[i](v); err != nil {
					return err
				}
			}
			rows[row[0].AsInt()] = row
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// Against a real MariaDB: every row read through a streamed prepared
// statement (temporals as CAST(… AS CHAR)) and through the text protocol
// decodes, with SQLDecoder, to what the binlog path decodes from the rows'
// binlog events.
func TestSQLDecoderMatchesBinlogOnMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a MariaDB server")
	}
	m := harness.NewMariaDB(t, harness.MariaDBOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	setup := append([]string{"CREATE DATABASE sqltest", "USE sqltest", "SET sql_mode = ''", "SET time_zone = '+00:00'", e2eDDL}, e2eRows...)
	if err := m.Exec(ctx, setup...); err != nil {
		t.Fatal(err)
	}
	if err := m.Exec(ctx, "FLUSH BINARY LOGS"); err != nil {
		t.Fatal(err)
	}

	c, err := client.ConnectWithContext(ctx, m.Addr(), "root", "", "sqltest", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// The session siphon's query connections have (capture/mysql dial).
	if _, err := c.Execute("SET time_zone = '+00:00', NAMES utf8mb4"); err != nil {
		t.Fatal(err)
	}
	cols := infoSchemaColumns(t, c, "sqltest", "t")
	var sel []string
	for _, col := range cols {
		switch col.Type {
		case TypeDate, TypeDateTime, TypeTimestamp, TypeTime:
			sel = append(sel, "CAST(`"+col.Name+"` AS CHAR)")
		default:
			sel = append(sel, "`"+col.Name+"`")
		}
	}
	query := "SELECT " + strings.Join(sel, ", ") + " FROM t ORDER BY id"
	prepared := sqlRows(t, c, cols, query, true)
	text := sqlRows(t, c, cols, query, false)
	// The text protocol's FLOAT is the server's six-digit rendering; a
	// FLOAT selected as DOUBLE comes whole.
	for i, col := range cols {
		if col.Type == TypeFloat {
			sel[i] = "CAST(`" + col.Name + "` AS DOUBLE)"
		}
	}
	textFloatAsDouble := sqlRows(t, c, cols, "SELECT "+strings.Join(sel, ", ")+" FROM t ORDER BY id", false)

	logs, err := filepath.Glob(filepath.Join(m.Dir, "binlog", "mariadb-bin.0*"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no binlog files in %s: %v", m.Dir, err)
	}
	binlog := map[int64]pipeline.Row{}
	for _, path := range logs {
		if _, err := os.Stat(path); err == nil {
			for id, row := range binlogRows(t, path, cols) {
				binlog[id] = row
			}
		}
	}
	if len(binlog) != len(e2eRows) || len(prepared) != len(e2eRows) || len(text) != len(e2eRows) {
		t.Fatalf("rows: binlog %d, prepared %d, text %d; want %d each", len(binlog), len(prepared), len(text), len(e2eRows))
	}
	for id, want := range binlog {
		for _, got := range []struct {
			protocol string
			row      pipeline.Row
		}{{"prepared statement", prepared[id]}, {"text protocol", text[id]}, {"text protocol, FLOAT as DOUBLE", textFloatAsDouble[id]}} {
			for i, col := range cols {
				want := want[i]
				if got.protocol == "text protocol" && col.Type == TypeFloat && !want.IsNull() {
					// Known loss: what the server prints, %g of six digits.
					f, _ := strconv.ParseFloat(strconv.FormatFloat(want.AsFloat64(), 'g', 6, 32), 64)
					if want.Kind() == pipeline.KindFloat32 {
						want = pipeline.Float32(float32(f))
					} else {
						want = pipeline.Float64(float64(float32(f)))
					}
				}
				if !got.row[i].Equal(want) {
					t.Errorf("id %d %s (%s): %s %s, binlog %s", id, col.Name, col.ColumnType, got.protocol, valueString(got.row[i]), valueString(want))
				}
			}
		}
	}
}
