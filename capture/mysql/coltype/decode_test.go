package coltype

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/siphoncdc/siphon/pipeline"
)

func b64(s string) pipeline.Value {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return pipeline.Bytes(b)
}

func strPtr(s string) *string { return &s }

// valueString renders a Value for test messages.
func valueString(v pipeline.Value) string {
	switch v.Kind() {
	case pipeline.KindNull:
		return "null"
	case pipeline.KindBool:
		if v.AsBool() {
			return "true"
		}
		return "false"
	case pipeline.KindInt:
		return "int(" + itoa(v.AsInt()) + ")"
	case pipeline.KindFloat32, pipeline.KindFloat64:
		return "float(" + javaJSONDouble(v.AsFloat64()) + ")"
	case pipeline.KindString:
		return "string(" + quote(v.AsString()) + ")"
	case pipeline.KindBytes:
		return "bytes(" + base64.StdEncoding.EncodeToString(v.AsBytes()) + ")"
	}
	parts := []string{}
	for _, e := range v.Elems() {
		parts = append(parts, valueString(e))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func TestBinlogDecoder(t *testing.T) {
	utc := time.UTC
	minus7 := time.FixedZone("UTC-7", -7*3600)
	enumCol := Column{Name: "e", Type: TypeEnum, Charset: "utf8mb4", Members: []string{"a", "b", "c"}, Nullable: true}
	setCol := Column{Name: "s", Type: TypeSet, Charset: "utf8mb4", Members: []string{"a", "b", "c"}, Nullable: true}
	pointWKB := append([]byte{1, 1, 0, 0, 0}, binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5)), math.Float64bits(-2))...)
	lineWKB := []byte{1, 2, 0, 0, 0, 0, 0, 0, 0}
	srid := func(n uint32, wkb []byte) []byte { return append(binary.LittleEndian.AppendUint32(nil, n), wkb...) }

	tests := []struct {
		name    string
		col     Column
		in      any
		want    pipeline.Value
		wantErr string
	}{
		{"null", Column{Name: "n", Type: TypeLong, Nullable: true}, nil, pipeline.Null, ""},
		{"tinyint min", Column{Name: "n", Type: TypeTiny}, int8(-128), pipeline.Int(-128), ""},
		{"tinyint max", Column{Name: "n", Type: TypeTiny}, int8(127), pipeline.Int(127), ""},
		{"tinyint unsigned max", Column{Name: "n", Type: TypeTiny, Unsigned: true}, uint8(255), pipeline.Int(255), ""},
		{"tinyint unsigned decoded signed", Column{Name: "n", Type: TypeTiny, Unsigned: true}, int8(-1), pipeline.Int(255), ""},
		{"tinyint signed given big unsigned", Column{Name: "n", Type: TypeTiny}, uint8(200), pipeline.Null, "column n: value 200 out of range of a signed TINYINT"},
		{"smallint min", Column{Name: "n", Type: TypeShort}, int16(math.MinInt16), pipeline.Int(math.MinInt16), ""},
		{"smallint unsigned max", Column{Name: "n", Type: TypeShort, Unsigned: true}, uint16(65535), pipeline.Int(65535), ""},
		{"smallint unsigned decoded signed", Column{Name: "n", Type: TypeShort, Unsigned: true}, int16(-2), pipeline.Int(65534), ""},
		{"mediumint min", Column{Name: "n", Type: TypeInt24}, int32(-8388608), pipeline.Int(-8388608), ""},
		{"mediumint max", Column{Name: "n", Type: TypeInt24}, int32(8388607), pipeline.Int(8388607), ""},
		{"mediumint unsigned max", Column{Name: "n", Type: TypeInt24, Unsigned: true}, uint32(16777215), pipeline.Int(16777215), ""},
		{"mediumint unsigned decoded signed", Column{Name: "n", Type: TypeInt24, Unsigned: true}, int32(-1), pipeline.Int(16777215), ""},
		{"mediumint unsigned signed then widened", Column{Name: "n", Type: TypeInt24, Unsigned: true}, uint32(0xffffffff), pipeline.Int(16777215), ""},
		{"mediumint out of range", Column{Name: "n", Type: TypeInt24}, int32(8388608), pipeline.Null, "out of range"},
		{"int min", Column{Name: "n", Type: TypeLong}, int32(math.MinInt32), pipeline.Int(math.MinInt32), ""},
		{"int max", Column{Name: "n", Type: TypeLong}, int32(math.MaxInt32), pipeline.Int(math.MaxInt32), ""},
		{"int unsigned max", Column{Name: "n", Type: TypeLong, Unsigned: true}, uint32(math.MaxUint32), pipeline.Int(math.MaxUint32), ""},
		{"int unsigned decoded signed", Column{Name: "n", Type: TypeLong, Unsigned: true}, int32(-1), pipeline.Int(math.MaxUint32), ""},
		{"bigint min", Column{Name: "n", Type: TypeLongLong}, int64(math.MinInt64), pipeline.Int(math.MinInt64), ""},
		{"bigint max", Column{Name: "n", Type: TypeLongLong}, int64(math.MaxInt64), pipeline.Int(math.MaxInt64), ""},
		{"bigint unsigned max wraps", Column{Name: "n", Type: TypeLongLong, Unsigned: true}, uint64(math.MaxUint64), pipeline.Int(-1), ""},
		{"bigint unsigned 2^63 wraps", Column{Name: "n", Type: TypeLongLong, Unsigned: true}, uint64(1 << 63), pipeline.Int(math.MinInt64), ""},
		{"bigint signed given 2^63", Column{Name: "n", Type: TypeLongLong}, uint64(1 << 63), pipeline.Null, "out of range"},
		{"int given string", Column{Name: "price", Type: TypeLong}, "12", pipeline.Null, "column price: unexpected string value for a INT column"},

		{"decimal 200000.0000", Column{Name: "d", Type: TypeDecimal, Precision: 10, Scale: 4}, "200000.0000", b64("dzWUAA=="), ""},
		{"decimal 10.0000", Column{Name: "d", Type: TypeDecimal, Precision: 10, Scale: 4}, "10.0000", b64("AYag"), ""},
		{"decimal 0.1880", Column{Name: "d", Type: TypeDecimal, Precision: 10, Scale: 4}, "0.1880", b64("B1g="), ""},
		{"decimal 200 needs sign byte", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 0}, "200", pipeline.Bytes([]byte{0x00, 0xc8}), ""},
		{"decimal zero", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 2}, "0.00", pipeline.Bytes([]byte{0}), ""},
		{"decimal -1.00", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 2}, "-1.00", pipeline.Bytes([]byte{0x9c}), ""},
		{"decimal -1.28", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 2}, "-1.28", pipeline.Bytes([]byte{0x80}), ""},
		{"decimal -1.29", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 2}, "-1.29", pipeline.Bytes([]byte{0xff, 0x7f}), ""},
		{"decimal precision 65", Column{Name: "d", Type: TypeDecimal, Precision: 65, Scale: 30}, "99999999999999999999999999999999999.999999999999999999999999999999",
			pipeline.Bytes(bigBytes("99999999999999999999999999999999999999999999999999999999999999999")), ""},
		{"decimal precision 65 negative", Column{Name: "d", Type: TypeDecimal, Precision: 65, Scale: 0}, "-99999999999999999999999999999999999999999999999999999999999999999",
			pipeline.Bytes(bigBytes("-99999999999999999999999999999999999999999999999999999999999999999")), ""},
		{"decimal garbage", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 2}, "1x", pipeline.Null, "not a decimal"},
		{"decimal given float", Column{Name: "d", Type: TypeDecimal, Precision: 5, Scale: 2}, 1.5, pipeline.Null, "unexpected float64"},

		{"float", Column{Name: "f", Type: TypeFloat}, float32(1.1), pipeline.Float32(1.1), ""},
		{"float(M,D) is double", Column{Name: "f", Type: TypeFloat, ColumnType: "float(7,4)"}, float32(1.1), pipeline.Float64(float64(float32(1.1))), ""},
		{"double", Column{Name: "f", Type: TypeDouble}, 1.1, pipeline.Float64(1.1), ""},

		{"bit(1) set", Column{Name: "b", Type: TypeBit, Length: 1}, int64(1), pipeline.Bool(true), ""},
		{"bit(1) clear", Column{Name: "b", Type: TypeBit, Length: 1}, int64(0), pipeline.Bool(false), ""},
		{"bit(10) little-endian", Column{Name: "b", Type: TypeBit, Length: 10}, int64(0x201), pipeline.Bytes([]byte{0x01, 0x02}), ""},
		{"bit(10) zero", Column{Name: "b", Type: TypeBit, Length: 10}, int64(0), pipeline.Bytes([]byte{0, 0}), ""},
		{"bit(64) all ones", Column{Name: "b", Type: TypeBit, Length: 64}, int64(-1), pipeline.Bytes([]byte{255, 255, 255, 255, 255, 255, 255, 255}), ""},

		{"year", Column{Name: "y", Type: TypeYear}, 2024, pipeline.Int(2024), ""},
		{"year 1901", Column{Name: "y", Type: TypeYear}, 1901, pipeline.Int(1901), ""},
		{"year zero is 1900 as in Debezium", Column{Name: "y", Type: TypeYear}, 0, pipeline.Int(1900), ""},

		{"date", Column{Name: "d", Type: TypeDate}, "2024-02-29", pipeline.Int(19782), ""},
		{"date before 1970", Column{Name: "d", Type: TypeDate}, "1969-12-31", pipeline.Int(-1), ""},
		{"date year 1000", Column{Name: "d", Type: TypeDate}, "1000-01-01", pipeline.Int(-354285), ""},
		{"date two-digit year adjusted", Column{Name: "d", Type: TypeDate}, "0001-01-01", pipeline.Int(11323), ""},
		{"date year 99 adjusted", Column{Name: "d", Type: TypeDate}, "0099-12-31", pipeline.Int(10956), ""},
		{"date year 100 kept", Column{Name: "d", Type: TypeDate}, "0100-01-01", pipeline.Int(-683003), ""},
		{"date zero nullable", Column{Name: "d", Type: TypeDate, Nullable: true}, "0000-00-00", pipeline.Null, ""},
		{"date zero not null", Column{Name: "d", Type: TypeDate}, "0000-00-00", pipeline.Int(0), ""},
		{"date zero day not null takes default", Column{Name: "d", Type: TypeDate, Default: strPtr("2020-01-01"), Flavor: FlavorMySQL}, "2024-05-00", pipeline.Int(18262), ""},
		{"date zero year", Column{Name: "d", Type: TypeDate, Nullable: true}, "0000-05-01", pipeline.Null, ""},
		{"date invalid", Column{Name: "d", Type: TypeDate}, "2021-02-30", pipeline.Null, "column d: invalid DATE value 2021-02-30"},

		{"datetime docs example", Column{Name: "t", Type: TypeDateTime}, time.Date(2018, 6, 20, 6, 37, 3, 0, utc), pipeline.Int(1529476623000), ""},
		{"datetime(1)", Column{Name: "t", Type: TypeDateTime, FSP: 1}, time.Date(2018, 6, 20, 6, 37, 3, 500_000_000, utc), pipeline.Int(1529476623500), ""},
		{"datetime(3)", Column{Name: "t", Type: TypeDateTime, FSP: 3}, time.Date(2018, 6, 20, 6, 37, 3, 123_000_000, utc), pipeline.Int(1529476623123), ""},
		{"datetime(4) micro", Column{Name: "t", Type: TypeDateTime, FSP: 4}, time.Date(2018, 6, 20, 6, 37, 3, 123_400_000, utc), pipeline.Int(1529476623123400), ""},
		{"datetime(6)", Column{Name: "t", Type: TypeDateTime, FSP: 6}, time.Date(2018, 6, 20, 6, 37, 3, 123_456_000, utc), pipeline.Int(1529476623123456), ""},
		{"datetime before 1970 as string", Column{Name: "t", Type: TypeDateTime, FSP: 1}, "1969-12-31 23:59:59.5", pipeline.Int(-500), ""},
		{"datetime(6) before 1970", Column{Name: "t", Type: TypeDateTime, FSP: 6}, "1969-12-31 23:59:59.000001", pipeline.Int(-999999), ""},
		{"datetime zero nullable", Column{Name: "t", Type: TypeDateTime, Nullable: true}, "0000-00-00 00:00:00", pipeline.Null, ""},
		{"datetime zero not null", Column{Name: "t", Type: TypeDateTime, FSP: 6}, "0000-00-00 00:00:00.000000", pipeline.Int(0), ""},
		{"datetime zero month", Column{Name: "t", Type: TypeDateTime, Nullable: true}, "2020-00-10 10:00:00", pipeline.Null, ""},

		{"timestamp(6)", Column{Name: "t", Type: TypeTimestamp, FSP: 6}, time.Unix(1673397250, 0), pipeline.String("2023-01-11T00:34:10.000000Z"), ""},
		{"timestamp(6) .123", Column{Name: "t", Type: TypeTimestamp, FSP: 6}, time.Unix(1673397250, 123_000_000), pipeline.String("2023-01-11T00:34:10.123000Z"), ""},
		{"timestamp(3) .010", Column{Name: "t", Type: TypeTimestamp, FSP: 3}, time.Unix(1673397250, 10_000_000), pipeline.String("2023-01-11T00:34:10.010Z"), ""},
		{"timestamp(5) .123", Column{Name: "t", Type: TypeTimestamp, FSP: 5}, time.Unix(1673397250, 123_000_000), pipeline.String("2023-01-11T00:34:10.12300Z"), ""},
		{"timestamp", Column{Name: "t", Type: TypeTimestamp}, time.Unix(1673397250, 0), pipeline.String("2023-01-11T00:34:10Z"), ""},
		{"timestamp minimal .123", Column{Name: "t", Type: TypeTimestamp}, time.Unix(1673397250, 123_000_000), pipeline.String("2023-01-11T00:34:10.123Z"), ""},
		{"timestamp minimal .12345", Column{Name: "t", Type: TypeTimestamp}, time.Unix(1673397250, 123_450_000), pipeline.String("2023-01-11T00:34:10.12345Z"), ""},
		{"timestamp in UTC-7 server", Column{Name: "t", Type: TypeTimestamp}, time.Date(2018, 6, 20, 6, 37, 3, 0, minus7), pipeline.String("2018-06-20T13:37:03Z"), ""},
		{"timestamp zero nullable", Column{Name: "t", Type: TypeTimestamp, FSP: 3, Nullable: true}, "0000-00-00 00:00:00.000", pipeline.Null, ""},
		{"timestamp zero not null", Column{Name: "t", Type: TypeTimestamp}, "0000-00-00 00:00:00", pipeline.String("1970-01-01T00:00:00Z"), ""},
		{"timestamp(3) zero not null", Column{Name: "t", Type: TypeTimestamp, FSP: 3}, "0000-00-00 00:00:00.000", pipeline.String("1970-01-01T00:00:00.000Z"), ""},
		{"timestamp as non-zero string", Column{Name: "t", Type: TypeTimestamp}, "2020-01-01 00:00:00", pipeline.Null, "ParseTime"},

		{"time", Column{Name: "t", Type: TypeTime}, "12:34:56", pipeline.Int(45296000000), ""},
		{"time zero", Column{Name: "t", Type: TypeTime}, "00:00:00", pipeline.Int(0), ""},
		{"time(2) negative", Column{Name: "t", Type: TypeTime, FSP: 2}, "-00:00:01.01", pipeline.Int(-1010000), ""},
		{"time(6) fraction", Column{Name: "t", Type: TypeTime, FSP: 6}, "01:00:00.000001", pipeline.Int(3600000001), ""},
		{"time beyond 24h", Column{Name: "t", Type: TypeTime}, "838:59:59", pipeline.Int(3020399000000), ""},
		{"time most negative", Column{Name: "t", Type: TypeTime, FSP: 6}, "-838:59:59.000000", pipeline.Int(-3020399000000), ""},
		{"time garbage", Column{Name: "t", Type: TypeTime}, "noon", pipeline.Null, "unreadable TIME"},

		{"varchar utf8mb4 emoji", Column{Name: "s", Type: TypeVarChar, Charset: "utf8mb4"}, "héllo 😀", pipeline.String("héllo 😀"), ""},
		{"text utf8mb4 bytes", Column{Name: "s", Type: TypeBlob, Charset: "utf8mb4"}, []byte("text"), pipeline.String("text"), ""},
		{"utf8mb4 invalid replaced", Column{Name: "s", Type: TypeVarChar, Charset: "utf8mb4"}, "a\xffb\xe2\x82c", pipeline.String("a\ufffdb\ufffdc"), ""},
		{"utf8 alias", Column{Name: "s", Type: TypeVarChar, Charset: "utf8"}, "ok", pipeline.String("ok"), ""},
		{"latin1 é", Column{Name: "s", Type: TypeChar, Charset: "latin1"}, "caf\xe9", pipeline.String("café"), ""},
		{"latin1 euro", Column{Name: "s", Type: TypeChar, Charset: "latin1"}, "\x80", pipeline.String("€"), ""},
		{"latin1 undefined cp1252 bytes", Column{Name: "s", Type: TypeChar, Charset: "latin1"}, "\x81\x8d\x8f\x90\x9d", pipeline.String(strings.Repeat("\ufffd", 5)), ""},
		{"latin2", Column{Name: "s", Type: TypeVarChar, Charset: "latin2"}, "\xb1", pipeline.String("ą"), ""},
		{"cp1250", Column{Name: "s", Type: TypeVarChar, Charset: "cp1250"}, "\x9a", pipeline.String("š"), ""},
		{"cp1251", Column{Name: "s", Type: TypeVarChar, Charset: "cp1251"}, "\xcf\xf0\xe8\xe2\xe5\xf2", pipeline.String("Привет"), ""},
		{"cp1256", Column{Name: "s", Type: TypeVarChar, Charset: "cp1256"}, "\xc7", pipeline.String("ا"), ""},
		{"cp1257", Column{Name: "s", Type: TypeVarChar, Charset: "cp1257"}, "\xe0", pipeline.String("ą"), ""},
		{"greek", Column{Name: "s", Type: TypeVarChar, Charset: "greek"}, "\xe1", pipeline.String("α"), ""},
		{"hebrew", Column{Name: "s", Type: TypeVarChar, Charset: "hebrew"}, "\xf9", pipeline.String("ש"), ""},
		{"koi8r", Column{Name: "s", Type: TypeVarChar, Charset: "koi8r"}, "\xd0", pipeline.String("п"), ""},
		{"koi8u", Column{Name: "s", Type: TypeVarChar, Charset: "koi8u"}, "\xa4", pipeline.String("є"), ""},
		{"ascii", Column{Name: "s", Type: TypeVarChar, Charset: "ascii"}, "a\x80", pipeline.String("a\ufffd"), ""},
		{"ucs2", Column{Name: "s", Type: TypeVarChar, Charset: "ucs2"}, "\x00A\x04\x1f", pipeline.String("AП"), ""},
		{"utf16", Column{Name: "s", Type: TypeVarChar, Charset: "utf16"}, "\xd8\x3d\xde\x00", pipeline.String("😀"), ""},
		{"utf16le", Column{Name: "s", Type: TypeVarChar, Charset: "utf16le"}, "A\x00", pipeline.String("A"), ""},
		{"utf32", Column{Name: "s", Type: TypeVarChar, Charset: "utf32"}, "\x00\x01\xf6\x00", pipeline.String("😀"), ""},
		{"utf32 truncated", Column{Name: "s", Type: TypeVarChar, Charset: "utf32"}, "\x00\x00\x00A\x00\x00", pipeline.String("A\ufffd"), ""},
		{"gbk", Column{Name: "s", Type: TypeVarChar, Charset: "gbk"}, "\xc4\xe3\xba\xc3", pipeline.String("你好"), ""},
		{"gb2312", Column{Name: "s", Type: TypeVarChar, Charset: "gb2312"}, "\xc4\xe3", pipeline.String("你"), ""},
		{"gb18030", Column{Name: "s", Type: TypeVarChar, Charset: "gb18030"}, "\x94\x39\xfc\x36", pipeline.String("😀"), ""},
		{"big5", Column{Name: "s", Type: TypeVarChar, Charset: "big5"}, "\xa4\xa4", pipeline.String("中"), ""},
		{"sjis", Column{Name: "s", Type: TypeVarChar, Charset: "sjis"}, "\x82\xa0", pipeline.String("あ"), ""},
		{"cp932", Column{Name: "s", Type: TypeVarChar, Charset: "cp932"}, "\x82\xa0", pipeline.String("あ"), ""},
		{"ujis", Column{Name: "s", Type: TypeVarChar, Charset: "ujis"}, "\xa4\xa2", pipeline.String("あ"), ""},
		{"eucjpms", Column{Name: "s", Type: TypeVarChar, Charset: "eucjpms"}, "\xa4\xa2", pipeline.String("あ"), ""},
		{"euckr", Column{Name: "s", Type: TypeVarChar, Charset: "euckr"}, "\xbe\xc8\xb3\xe7", pipeline.String("안녕"), ""},
		{"ascii-only multibyte passes", Column{Name: "s", Type: TypeVarChar, Charset: "sjis"}, "plain", pipeline.String("plain"), ""},
		{"text given int", Column{Name: "s", Type: TypeVarChar, Charset: "utf8mb4"}, int64(1), pipeline.Null, "unexpected int64"},

		{"binary(4) padded", Column{Name: "b", Type: TypeChar, Charset: "binary", Length: 4}, "ab", pipeline.Bytes([]byte{'a', 'b', 0, 0}), ""},
		{"binary(4) full", Column{Name: "b", Type: TypeChar, Charset: "binary", Length: 4}, "abcd", pipeline.Bytes([]byte("abcd")), ""},
		{"varbinary", Column{Name: "b", Type: TypeVarChar, Charset: "binary", Length: 4}, "ab", pipeline.Bytes([]byte("ab")), ""},
		{"blob", Column{Name: "b", Type: TypeBlob, Charset: "binary"}, []byte{0, 1, 2}, pipeline.Bytes([]byte{0, 1, 2}), ""},
		{"empty blob", Column{Name: "b", Type: TypeBlob, Charset: "binary"}, []byte{}, pipeline.Bytes(nil), ""},

		{"enum", enumCol, int64(2), pipeline.String("b"), ""},
		{"enum invalid value", enumCol, int64(0), pipeline.String(""), ""},
		{"enum index beyond", enumCol, int64(4), pipeline.Null, "column e: ENUM index 4 beyond its 3 members"},
		{"set two", setCol, int64(0b101), pipeline.String("a,c"), ""},
		{"set one", setCol, int64(0b010), pipeline.String("b"), ""},
		{"set empty", setCol, int64(0), pipeline.String(""), ""},
		{"set bit beyond members keeps Debezium's comma", setCol, int64(0b1001), pipeline.String("a,"), ""},

		{"json object", Column{Name: "j", Type: TypeJSON, Flavor: FlavorMySQL}, `{"a":1,"b":[true,null,"x"]}`, pipeline.String(`{"a":1,"b":[true,null,"x"]}`), ""},
		{"json doubles", Column{Name: "j", Type: TypeJSON}, `[1.0,1e+21,10000000.0,1.5e-05,0.5]`, pipeline.String(`[1.0,1000000000000000000000,10000000,0.000015000000000000000380012861456169304119612206704914569854736328125,0.5]`), ""},
		{"json escapes", Column{Name: "j", Type: TypeJSON}, `"a\u003cb\u0026\u2028\u001f\n"`, pipeline.String("\"a<b&\u2028\\u001F\\n\""), ""},
		{"json empty nullable", Column{Name: "j", Type: TypeJSON, Nullable: true}, []byte{}, pipeline.Null, ""},
		{"json empty not null", Column{Name: "j", Type: TypeJSON}, []byte{}, pipeline.String("{}"), ""},
		{"json partial update", Column{Name: "j", Type: TypeJSON}, &replication.JsonDiff{}, pipeline.Null, "column j: partial JSON updates are not supported"},
		{"mariadb json passes through", Column{Name: "j", Type: TypeJSON, Flavor: FlavorMariaDB, Charset: "utf8mb4"}, []byte(`{"a": 1.50}`), pipeline.String(`{"a": 1.50}`), ""},

		{"point with srid", Column{Name: "g", Type: TypeGeometry, Geometry: "point", Nullable: true}, srid(4326, pointWKB),
			pipeline.Struct(pipeline.Float64(1.5), pipeline.Float64(-2), pipeline.Bytes(pointWKB), pipeline.Int(4326)), ""},
		{"point srid 0 is null", Column{Name: "g", Type: TypeGeometry, Geometry: "point"}, srid(0, pointWKB),
			pipeline.Struct(pipeline.Float64(1.5), pipeline.Float64(-2), pipeline.Bytes(pointWKB), pipeline.Null), ""},
		{"point column holding a linestring", Column{Name: "g", Type: TypeGeometry, Geometry: "point"}, srid(0, lineWKB), pipeline.Null, "not a 2D WKB point"},
		{"linestring with srid", Column{Name: "g", Type: TypeGeometry, Geometry: "linestring"}, srid(3857, lineWKB),
			pipeline.Struct(pipeline.Bytes(lineWKB), pipeline.Int(3857)), ""},
		{"geometry too short", Column{Name: "g", Type: TypeGeometry, Geometry: "geometry"}, []byte{1}, pipeline.Null, "shorter than its SRID"},

		{"vector", Column{Name: "v", Type: TypeVector}, binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(1.5)), math.Float32bits(-2)),
			pipeline.Array(pipeline.Float32(1.5), pipeline.Float32(-2)), ""},
		{"vector ragged", Column{Name: "v", Type: TypeVector}, []byte{1, 2, 3}, pipeline.Null, "not a sequence of 4-byte floats"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := tt.col.BinlogDecoder()
			if err != nil {
				t.Fatalf("BinlogDecoder: %v", err)
			}
			got, err := dec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if !strings.HasPrefix(err.Error(), "column "+tt.col.Name+": ") {
					t.Errorf("error %q does not name the column", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %s, want %s", valueString(got), valueString(tt.want))
			}
		})
	}
}

func TestBinlogDecoderRejectsUnknownCharset(t *testing.T) {
	for _, cs := range []string{"klingon", ""} {
		_, err := Column{Name: "s", Type: TypeVarChar, Charset: cs}.BinlogDecoder()
		if err == nil || !strings.Contains(err.Error(), "column s") || !strings.Contains(err.Error(), cs) {
			t.Errorf("charset %q: error = %v, want one naming the column and the charset", cs, err)
		}
	}
	if _, err := (Column{Name: "x"}).BinlogDecoder(); err == nil {
		t.Error("a column without a type has a decoder")
	}
}

// TestBinlogDecoderEndToEnd runs real binlog row bytes through go-mysql's
// parser configured as the source configures it, then through the decoder.
func TestBinlogDecoderEndToEnd(t *testing.T) {
	u32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	tests := []struct {
		name  string
		bcol  binlogColumn
		col   Column
		value []byte
		want  pipeline.Value
	}{
		{"int unsigned with signedness metadata", binlogColumn{typ: mysql.MYSQL_TYPE_LONG, unsigned: true},
			Column{Name: "n", Type: TypeLong, Unsigned: true}, u32(math.MaxUint32), pipeline.Int(math.MaxUint32)},
		{"int unsigned without signedness metadata", binlogColumn{typ: mysql.MYSQL_TYPE_LONG},
			Column{Name: "n", Type: TypeLong, Unsigned: true}, u32(math.MaxUint32), pipeline.Int(math.MaxUint32)},
		{"mediumint unsigned without signedness metadata", binlogColumn{typ: mysql.MYSQL_TYPE_INT24},
			Column{Name: "n", Type: TypeInt24, Unsigned: true}, []byte{0xff, 0xff, 0xff}, pipeline.Int(16777215)},
		{"mediumint signed", binlogColumn{typ: mysql.MYSQL_TYPE_INT24},
			Column{Name: "n", Type: TypeInt24}, []byte{0x00, 0x00, 0x80}, pipeline.Int(-8388608)},
		{"decimal negative", binlogColumn{typ: mysql.MYSQL_TYPE_NEWDECIMAL, meta: []byte{10, 4}},
			Column{Name: "d", Type: TypeDecimal, Precision: 10, Scale: 4}, decimalBinary("-123.4500", 10, 4), pipeline.Bytes(int64Bytes(-1234500))},
		{"decimal 200000.0000", binlogColumn{typ: mysql.MYSQL_TYPE_NEWDECIMAL, meta: []byte{10, 4}},
			Column{Name: "d", Type: TypeDecimal, Precision: 10, Scale: 4}, decimalBinary("200000.0000", 10, 4), b64("dzWUAA==")},
		{"decimal(65,30)", binlogColumn{typ: mysql.MYSQL_TYPE_NEWDECIMAL, meta: []byte{65, 30}},
			Column{Name: "d", Type: TypeDecimal, Precision: 65, Scale: 30}, decimalBinary("-12345678901234567890123456789012345.123456789012345678901234567890", 65, 30),
			pipeline.Bytes(bigBytes("-12345678901234567890123456789012345123456789012345678901234567890"))},
		{"datetime(3) before 1970", binlogColumn{typ: mysql.MYSQL_TYPE_DATETIME2, meta: []byte{3}},
			Column{Name: "t", Type: TypeDateTime, FSP: 3}, datetime2Binary(1969, 12, 31, 23, 59, 59, 500000, 3), pipeline.Int(-500)},
		{"datetime(6)", binlogColumn{typ: mysql.MYSQL_TYPE_DATETIME2, meta: []byte{6}},
			Column{Name: "t", Type: TypeDateTime, FSP: 6}, datetime2Binary(2018, 6, 20, 6, 37, 3, 123456, 6), pipeline.Int(1529476623123456)},
		{"datetime zero", binlogColumn{typ: mysql.MYSQL_TYPE_DATETIME2, meta: []byte{0}},
			Column{Name: "t", Type: TypeDateTime, Nullable: true}, datetime2Binary(0, 0, 0, 0, 0, 0, 0, 0), pipeline.Null},
		{"timestamp(3)", binlogColumn{typ: mysql.MYSQL_TYPE_TIMESTAMP2, meta: []byte{3}},
			Column{Name: "t", Type: TypeTimestamp, FSP: 3}, append(binary.BigEndian.AppendUint32(nil, 1673397250), fracBinary(10000, 3)...), pipeline.String("2023-01-11T00:34:10.010Z")},
		{"timestamp zero", binlogColumn{typ: mysql.MYSQL_TYPE_TIMESTAMP2, meta: []byte{0}},
			Column{Name: "t", Type: TypeTimestamp}, []byte{0, 0, 0, 0}, pipeline.String("1970-01-01T00:00:00Z")},
		{"time(2) negative", binlogColumn{typ: mysql.MYSQL_TYPE_TIME2, meta: []byte{2}},
			Column{Name: "t", Type: TypeTime, FSP: 2}, []byte{0x7f, 0xff, 0xfe, 0xff}, pipeline.Int(-1010000)},
		{"date", binlogColumn{typ: mysql.MYSQL_TYPE_DATE},
			Column{Name: "d", Type: TypeDate}, dateBinary(2024, 2, 29), pipeline.Int(19782)},
		{"year", binlogColumn{typ: mysql.MYSQL_TYPE_YEAR},
			Column{Name: "y", Type: TypeYear}, []byte{124}, pipeline.Int(2024)},
		{"bit(10)", binlogColumn{typ: mysql.MYSQL_TYPE_BIT, meta: []byte{2, 1}},
			Column{Name: "b", Type: TypeBit, Length: 10}, []byte{0x02, 0x01}, pipeline.Bytes([]byte{0x01, 0x02})},
		{"enum", binlogColumn{typ: mysql.MYSQL_TYPE_STRING, meta: []byte{mysql.MYSQL_TYPE_ENUM, 1}},
			Column{Name: "e", Type: TypeEnum, Members: []string{"x", "y"}}, []byte{2}, pipeline.String("y")},
		{"set", binlogColumn{typ: mysql.MYSQL_TYPE_STRING, meta: []byte{mysql.MYSQL_TYPE_SET, 1}},
			Column{Name: "s", Type: TypeSet, Members: []string{"x", "y", "z"}}, []byte{5}, pipeline.String("x,z")},
		{"latin1 char", binlogColumn{typ: mysql.MYSQL_TYPE_STRING, meta: []byte{mysql.MYSQL_TYPE_STRING, 10}},
			Column{Name: "s", Type: TypeChar, Charset: "latin1"}, []byte{4, 'c', 'a', 'f', 0xe9}, pipeline.String("café")},
		{"binary(4) stripped in the binlog", binlogColumn{typ: mysql.MYSQL_TYPE_STRING, meta: []byte{mysql.MYSQL_TYPE_STRING, 4}},
			Column{Name: "b", Type: TypeChar, Charset: "binary", Length: 4}, []byte{1, 'a'}, pipeline.Bytes([]byte{'a', 0, 0, 0})},
		{"utf8mb4 text", binlogColumn{typ: mysql.MYSQL_TYPE_BLOB, meta: []byte{2}},
			Column{Name: "s", Type: TypeBlob, Charset: "utf8mb4"}, append([]byte{4, 0}, "😀"...), pipeline.String("😀")},
		{"json", binlogColumn{typ: mysql.MYSQL_TYPE_JSON, meta: []byte{4}},
			Column{Name: "j", Type: TypeJSON},
			jsonColumnValue(jsonbObject{keys: []string{"a", "b", "dt", "big", "tiny"}, vals: []any{
				1, "x<y\u2028\x01", jsonbDatetime{2015, 1, 15, 23, 24, 25, 0}, []any{1e21, 12345678.0, 1.0, 0.5, nil, true}, []any{1.5e-5, jsonbDecimal{"12.50", 4, 2}, 0.00012},
			}}),
			pipeline.String(`{"a":1,"b":"x<y` + "\u2028" + `\u0001","dt":"2015-01-15 23:24:25.000000","big":[1000000000000000000000,12345678,1.0,0.5,null,true],` +
				`"tiny":[0.000015000000000000000380012861456169304119612206704914569854736328125,12.50,0.000120000000000000003040102891649354432956897653639316558837890625]}`)},
		{"json scalar string", binlogColumn{typ: mysql.MYSQL_TYPE_JSON, meta: []byte{4}},
			Column{Name: "j", Type: TypeJSON}, jsonColumnValue("a\"b\\c"), pipeline.String(`"a\"b\\c"`)},
		{"geometry point", binlogColumn{typ: mysql.MYSQL_TYPE_GEOMETRY, meta: []byte{4}},
			Column{Name: "g", Type: TypeGeometry, Geometry: "point"},
			append(u32(25), append(u32(4326), 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40)...),
			pipeline.Struct(pipeline.Float64(1), pipeline.Float64(2), pipeline.Bytes([]byte{1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40}), pipeline.Int(4326))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := goMySQLValue(t, tt.bcol, tt.value)
			dec, err := tt.col.BinlogDecoder()
			if err != nil {
				t.Fatal(err)
			}
			got, err := dec(raw)
			if err != nil {
				t.Fatalf("decode %#v: %v", raw, err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("go-mysql gave %#v; got %s, want %s", raw, valueString(got), valueString(tt.want))
			}
		})
	}
}
