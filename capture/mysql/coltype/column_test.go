package coltype

import (
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/google/go-cmp/cmp"

	"github.com/siphoncdc/siphon/pipeline"
)

func i64(v int64) *int64 { return &v }

func TestFromBinlog(t *testing.T) {
	tests := []struct {
		name     string
		typ      byte
		meta     uint16
		unsigned bool
		want     Column
		wantErr  string
	}{
		{"tinyint unsigned", mysql.MYSQL_TYPE_TINY, 0, true, Column{Type: TypeTiny, Unsigned: true}, ""},
		{"smallint", mysql.MYSQL_TYPE_SHORT, 0, false, Column{Type: TypeShort}, ""},
		{"mediumint", mysql.MYSQL_TYPE_INT24, 0, false, Column{Type: TypeInt24}, ""},
		{"int", mysql.MYSQL_TYPE_LONG, 0, false, Column{Type: TypeLong}, ""},
		{"bigint", mysql.MYSQL_TYPE_LONGLONG, 0, true, Column{Type: TypeLongLong, Unsigned: true}, ""},
		{"decimal(10,4)", mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8 | 4, false, Column{Type: TypeDecimal, Precision: 10, Scale: 4}, ""},
		{"decimal(65,30)", mysql.MYSQL_TYPE_NEWDECIMAL, 65<<8 | 30, false, Column{Type: TypeDecimal, Precision: 65, Scale: 30}, ""},
		{"decimal impossible", mysql.MYSQL_TYPE_NEWDECIMAL, 4<<8 | 5, false, Column{}, "DECIMAL(4,5)"},
		{"float ignores unsigned", mysql.MYSQL_TYPE_FLOAT, 4, true, Column{Type: TypeFloat}, ""},
		{"double", mysql.MYSQL_TYPE_DOUBLE, 8, false, Column{Type: TypeDouble}, ""},
		{"bit(1)", mysql.MYSQL_TYPE_BIT, 1, false, Column{Type: TypeBit, Length: 1}, ""},
		{"bit(10)", mysql.MYSQL_TYPE_BIT, 1<<8 | 2, false, Column{Type: TypeBit, Length: 10}, ""},
		{"bit(64)", mysql.MYSQL_TYPE_BIT, 8 << 8, false, Column{Type: TypeBit, Length: 64}, ""},
		{"bit(0)", mysql.MYSQL_TYPE_BIT, 0, false, Column{}, "BIT(0)"},
		{"year", mysql.MYSQL_TYPE_YEAR, 0, false, Column{Type: TypeYear}, ""},
		{"date", mysql.MYSQL_TYPE_DATE, 0, false, Column{Type: TypeDate}, ""},
		{"old time", mysql.MYSQL_TYPE_TIME, 0, false, Column{Type: TypeTime}, ""},
		{"time(3)", mysql.MYSQL_TYPE_TIME2, 3, false, Column{Type: TypeTime, FSP: 3}, ""},
		{"old datetime", mysql.MYSQL_TYPE_DATETIME, 0, false, Column{Type: TypeDateTime}, ""},
		{"datetime(6)", mysql.MYSQL_TYPE_DATETIME2, 6, false, Column{Type: TypeDateTime, FSP: 6}, ""},
		{"old timestamp", mysql.MYSQL_TYPE_TIMESTAMP, 0, false, Column{Type: TypeTimestamp}, ""},
		{"timestamp(2)", mysql.MYSQL_TYPE_TIMESTAMP2, 2, false, Column{Type: TypeTimestamp, FSP: 2}, ""},
		{"timestamp(7)", mysql.MYSQL_TYPE_TIMESTAMP2, 7, false, Column{}, "TIMESTAMP(7)"},
		{"varchar", mysql.MYSQL_TYPE_VARCHAR, 1020, false, Column{Type: TypeVarChar, Length: 1020}, ""},
		{"char(10) utf8mb4", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8 | 40, false, Column{Type: TypeChar, Length: 40}, ""},
		{"char(255) utf8mb4: high length bits in the type byte", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING^0x30)<<8 | (1020 & 0xff), false, Column{Type: TypeChar, Length: 1020}, ""},
		{"enum", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1, false, Column{Type: TypeEnum, Length: 1}, ""},
		{"set", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_SET)<<8 | 8, false, Column{Type: TypeSet, Length: 8}, ""},
		{"enum of 3 bytes", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 3, false, Column{}, "ENUM stored in 3 bytes"},
		{"string of unknown real type", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_LONG)<<8 | 3, false, Column{}, "unsupported real type"},
		{"tinyblob", mysql.MYSQL_TYPE_BLOB, 1, false, Column{Type: TypeBlob, Length: 255}, ""},
		{"longblob", mysql.MYSQL_TYPE_BLOB, 4, false, Column{Type: TypeBlob, Length: 1<<32 - 1}, ""},
		{"blob prefix 5", mysql.MYSQL_TYPE_BLOB, 5, false, Column{}, "5-byte length prefix"},
		{"json", mysql.MYSQL_TYPE_JSON, 4, false, Column{Type: TypeJSON}, ""},
		{"geometry", mysql.MYSQL_TYPE_GEOMETRY, 4, false, Column{Type: TypeGeometry}, ""},
		{"vector", mysql.MYSQL_TYPE_VECTOR, 4, false, Column{Type: TypeVector}, ""},
		{"null type", mysql.MYSQL_TYPE_NULL, 0, false, Column{}, "unsupported binlog column type 0x6"},
		{"old decimal", mysql.MYSQL_TYPE_DECIMAL, 0, false, Column{}, "unsupported binlog column type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromBinlog("price", tt.typ, tt.meta, tt.unsigned, true)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "column price: ") {
					t.Fatalf("error = %v, want one naming the column and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Name, tt.want.Nullable = "price", true
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("column (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromInformationSchema(t *testing.T) {
	tests := []struct {
		name    string
		in      InfoSchemaColumn
		flavor  string
		want    Column
		wantErr string
	}{
		{"int unsigned zerofill", InfoSchemaColumn{DataType: "int", ColumnType: "int(10) unsigned zerofill", NumericPrecision: i64(10), NumericScale: i64(0)}, FlavorMySQL,
			Column{Type: TypeLong, Unsigned: true}, ""},
		{"tinyint(1)", InfoSchemaColumn{DataType: "tinyint", ColumnType: "tinyint(1)", IsNullable: true, Default: strPtr("1")}, FlavorMySQL,
			Column{Type: TypeTiny, Nullable: true, Default: strPtr("1")}, ""},
		{"decimal", InfoSchemaColumn{DataType: "decimal", ColumnType: "decimal(10,4) unsigned", NumericPrecision: i64(10), NumericScale: i64(4)}, FlavorMySQL,
			Column{Type: TypeDecimal, Precision: 10, Scale: 4}, ""},
		{"decimal without precision", InfoSchemaColumn{DataType: "decimal", ColumnType: "decimal(10,4)"}, FlavorMySQL, Column{}, "NUMERIC_PRECISION"},
		{"float(7,4)", InfoSchemaColumn{DataType: "float", ColumnType: "float(7,4)", NumericPrecision: i64(7), NumericScale: i64(4)}, FlavorMySQL,
			Column{Type: TypeFloat, Precision: 7, Scale: 4}, ""},
		{"bit from precision", InfoSchemaColumn{DataType: "bit", ColumnType: "bit(5)", NumericPrecision: i64(5)}, FlavorMariaDB, Column{Type: TypeBit, Length: 5}, ""},
		{"bit from column type", InfoSchemaColumn{DataType: "bit", ColumnType: "bit(12)"}, FlavorMySQL, Column{Type: TypeBit, Length: 12}, ""},
		{"datetime(6)", InfoSchemaColumn{DataType: "datetime", ColumnType: "datetime(6)", DatetimePrecision: i64(6), Extra: "DEFAULT_GENERATED on update CURRENT_TIMESTAMP(6)",
			Default: strPtr("CURRENT_TIMESTAMP(6)")}, FlavorMySQL,
			Column{Type: TypeDateTime, FSP: 6, Default: strPtr("CURRENT_TIMESTAMP(6)"), DefaultGenerated: true}, ""},
		{"mariadb has no DEFAULT_GENERATED", InfoSchemaColumn{DataType: "timestamp", ColumnType: "timestamp(3)", DatetimePrecision: i64(3), Extra: "on update current_timestamp(3)"}, FlavorMariaDB,
			Column{Type: TypeTimestamp, FSP: 3}, ""},
		{"varchar", InfoSchemaColumn{DataType: "varchar", ColumnType: "varchar(10)", CharMaxLength: i64(10), CharsetName: strPtr("utf8")}, FlavorMySQL,
			Column{Type: TypeVarChar, Length: 10, Charset: "utf8mb3"}, ""},
		{"binary", InfoSchemaColumn{DataType: "binary", ColumnType: "binary(4)", CharMaxLength: i64(4)}, FlavorMySQL,
			Column{Type: TypeChar, Length: 4, Charset: "binary"}, ""},
		{"mediumtext", InfoSchemaColumn{DataType: "mediumtext", ColumnType: "mediumtext", CharMaxLength: i64(16777215), CharsetName: strPtr("latin1")}, FlavorMariaDB,
			Column{Type: TypeBlob, Length: 16777215, Charset: "latin1"}, ""},
		{"longblob", InfoSchemaColumn{DataType: "longblob", ColumnType: "longblob", CharMaxLength: i64(4294967295)}, FlavorMySQL,
			Column{Type: TypeBlob, Length: 4294967295, Charset: "binary"}, ""},
		{"mariadb json alias", InfoSchemaColumn{DataType: "longtext", ColumnType: "longtext", CharsetName: strPtr("utf8mb4"), CharMaxLength: i64(4294967295), IsJSON: true}, FlavorMariaDB,
			Column{Type: TypeJSON, Length: 4294967295, Charset: "utf8mb4"}, ""},
		{"mysql json", InfoSchemaColumn{DataType: "json", ColumnType: "json"}, FlavorMySQL, Column{Type: TypeJSON}, ""},
		{"enum with escapes", InfoSchemaColumn{DataType: "enum", ColumnType: `enum('x','y,z','it''s','b\\s','')`, CharsetName: strPtr("latin1")}, FlavorMariaDB,
			Column{Type: TypeEnum, Charset: "latin1", Members: []string{"x", "y,z", "it's", `b\s`, ""}}, ""},
		{"set", InfoSchemaColumn{DataType: "set", ColumnType: "set('p','q')", CharsetName: strPtr("utf8mb4")}, FlavorMySQL,
			Column{Type: TypeSet, Charset: "utf8mb4", Members: []string{"p", "q"}}, ""},
		{"broken enum", InfoSchemaColumn{DataType: "enum", ColumnType: "enum('x"}, FlavorMySQL, Column{}, "cannot read members"},
		{"point", InfoSchemaColumn{DataType: "point", ColumnType: "point"}, FlavorMySQL, Column{Type: TypeGeometry, Geometry: "point"}, ""},
		{"geomcollection", InfoSchemaColumn{DataType: "geomcollection", ColumnType: "geomcollection"}, FlavorMySQL, Column{Type: TypeGeometry, Geometry: "geometrycollection"}, ""},
		{"virtual generated", InfoSchemaColumn{DataType: "int", ColumnType: "int(11)", Extra: "VIRTUAL GENERATED", GenerationExpression: "`a` + 1"}, FlavorMariaDB,
			Column{Type: TypeLong, Generated: true}, ""},
		{"stored generated", InfoSchemaColumn{DataType: "int", ColumnType: "int", Extra: "STORED GENERATED"}, FlavorMySQL, Column{Type: TypeLong, Generated: true}, ""},
		{"vector", InfoSchemaColumn{DataType: "vector", ColumnType: "vector(3)", CharMaxLength: i64(12)}, FlavorMySQL, Column{Type: TypeVector, Length: 12}, ""},
		{"mariadb uuid", InfoSchemaColumn{DataType: "uuid", ColumnType: "uuid"}, FlavorMariaDB, Column{}, "unsupported column type uuid"},
		{"bad flavor", InfoSchemaColumn{DataType: "int", ColumnType: "int"}, "postgres", Column{}, "unknown server flavor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Name = "price"
			got, err := FromInformationSchema(tt.in, tt.flavor)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "column price: ") {
					t.Fatalf("error = %v, want one naming the column and containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Name, tt.want.ColumnType, tt.want.Flavor = "price", tt.in.ColumnType, tt.flavor
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("column (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameStorage(t *testing.T) {
	info := func(dataType, colType string, mod func(*InfoSchemaColumn)) Column {
		ic := InfoSchemaColumn{Name: "c", DataType: dataType, ColumnType: colType, CharsetName: strPtr("utf8mb4"), NumericPrecision: i64(10), NumericScale: i64(2)}
		if mod != nil {
			mod(&ic)
		}
		c, err := FromInformationSchema(ic, FlavorMySQL)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	bin := func(typ byte, meta uint16, unsigned bool, mod func(*Column)) Column {
		c, err := FromBinlog("c", typ, meta, unsigned, true)
		if err != nil {
			t.Fatal(err)
		}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	tests := []struct {
		name    string
		binlog  Column
		info    Column
		wantErr string
	}{
		{"int", bin(mysql.MYSQL_TYPE_LONG, 0, false, nil), info("int", "int(11)", nil), ""},
		{"int vs varchar", bin(mysql.MYSQL_TYPE_LONG, 0, false, nil), info("varchar", "varchar(10)", nil), "binlog has INT, schema has VARCHAR"},
		{"binlog without signedness", bin(mysql.MYSQL_TYPE_LONG, 0, false, nil), info("int", "int(10) unsigned", nil), ""},
		{"binlog unsigned, schema signed", bin(mysql.MYSQL_TYPE_LONG, 0, true, nil), info("int", "int(11)", nil), "binlog has INT UNSIGNED, schema has INT"},
		{"decimal", bin(mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8|2, false, nil), info("decimal", "decimal(10,2)", nil), ""},
		{"decimal scale", bin(mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8|3, false, nil), info("decimal", "decimal(10,2)", nil), "binlog has DECIMAL(10,3), schema has DECIMAL(10,2)"},
		{"datetime fsp", bin(mysql.MYSQL_TYPE_DATETIME2, 3, false, nil), info("datetime", "datetime(6)", func(c *InfoSchemaColumn) { c.DatetimePrecision = i64(6) }), "binlog has DATETIME(3), schema has DATETIME(6)"},
		{"bit length", bin(mysql.MYSQL_TYPE_BIT, 1, false, nil), info("bit", "bit(2)", func(c *InfoSchemaColumn) { c.NumericPrecision = i64(2) }), "binlog has BIT(1), schema has BIT(2)"},
		{"float vs double", bin(mysql.MYSQL_TYPE_FLOAT, 4, false, nil), info("double", "double", nil), "binlog has FLOAT, schema has DOUBLE"},
		{"text", bin(mysql.MYSQL_TYPE_BLOB, 2, false, nil), info("text", "text", nil), ""},
		{"text charset changed", bin(mysql.MYSQL_TYPE_BLOB, 2, false, func(c *Column) { c.Charset = "latin1" }), info("text", "text", nil), "binlog has TEXT latin1, schema has TEXT utf8mb4"},
		{"blob vs text", bin(mysql.MYSQL_TYPE_BLOB, 2, false, func(c *Column) { c.Charset = "binary" }), info("text", "text", nil), "binlog has BLOB binary, schema has TEXT utf8mb4"},
		{"binary vs char", bin(mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8|4, false, func(c *Column) { c.Charset = "binary" }), info("char", "char(4)", nil), "binlog has BINARY binary, schema has CHAR utf8mb4"},
		{"mariadb json is longtext", bin(mysql.MYSQL_TYPE_BLOB, 4, false, nil), info("longtext", "longtext", func(c *InfoSchemaColumn) { c.IsJSON = true }), ""},
		{"enum", bin(mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8|1, false, nil), info("enum", "enum('a','b')", nil), ""},
		{"set grew past a byte", bin(mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_SET)<<8|1, false, nil),
			info("set", "set('a','b','c','d','e','f','g','h','i')", nil), "binlog has a SET stored in 1 bytes, schema has 9 members (2 bytes)"},
		{"enum members differ", bin(mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8|1, false, func(c *Column) { c.Members = []string{"a"} }),
			info("enum", "enum('a','b')", nil), "binlog has ENUM of 1 members, schema has 2"},
		{"geometry vs point", bin(mysql.MYSQL_TYPE_GEOMETRY, 4, false, nil), info("point", "point", nil), ""},
		{"point vs polygon", bin(mysql.MYSQL_TYPE_GEOMETRY, 4, false, func(c *Column) { c.Geometry = "point" }), info("polygon", "polygon", nil), "binlog has POINT, schema has POLYGON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := SameStorage(tt.binlog, tt.info)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCharsetOfCollation(t *testing.T) {
	tests := []struct {
		id   uint64
		want string
		ok   bool
	}{
		{8, "latin1", true},     // latin1_swedish_ci
		{33, "utf8mb3", true},   // utf8mb3_general_ci
		{45, "utf8mb4", true},   // utf8mb4_general_ci
		{63, "binary", true},    // binary
		{76, "utf8mb3", true},   // MySQL utf8mb3_tolower_ci
		{224, "utf8mb4", true},  // utf8mb4_unicode_ci
		{248, "gb18030", true},  // MySQL gb18030_chinese_ci
		{255, "utf8mb4", true},  // MySQL utf8mb4_0900_ai_ci
		{323, "utf8mb4", true},  // MySQL utf8mb4_mn_cyrl_0900_as_cs
		{576, "utf8mb3", true},  // MariaDB utf8mb3_croatian_ci
		{2048, "utf8mb3", true}, // MariaDB utf8mb3_uca1400_ai_ci
		{2304, "utf8mb4", true}, // MariaDB utf8mb4_uca1400_ai_ci
		{0, "", false},
		{1 << 20, "", false},
	}
	for _, tt := range tests {
		got, ok := CharsetOfCollation(tt.id)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CharsetOfCollation(%d) = %q, %v; want %q, %v", tt.id, got, ok, tt.want, tt.ok)
		}
	}
	for i := 1; i < len(collationRanges); i++ {
		if collationRanges[i].lo <= collationRanges[i-1].hi || collationRanges[i].lo > collationRanges[i].hi {
			t.Fatalf("collation ranges out of order at %d", i)
		}
	}
}

func TestDecodeString(t *testing.T) {
	tests := []struct {
		charset string
		in      string
		want    string
		wantErr bool
	}{
		{"latin1", "caf\xe9", "café", false},
		{"utf8mb4", "ok", "ok", false},
		{"binary", "\xff", "\xff", false},
		{"cp1251", "\xe4\xe0", "да", false},
		{"nope", "x", "", true},
	}
	for _, tt := range tests {
		got, err := DecodeString(tt.charset, []byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("DecodeString(%q, %q) = %q, %v; want %q", tt.charset, tt.in, got, err, tt.want)
		}
	}
}

func TestAppendValidUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"\xff", "\ufffd"},
		{"\xe2\x82A", "\ufffdA"},               // truncated 3-byte sequence: one U+FFFD
		{"\xe0\x80", "\ufffd\ufffd"},           // E0 needs A0..BF next
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // a UTF-16 surrogate
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"\xf0\x9f\x98", "\ufffd"},
		{"a\xc3", "a\ufffd"},
	}
	for _, tt := range tests {
		if got := string(appendValidUTF8(nil, tt.in)); got != tt.want {
			t.Errorf("appendValidUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNative(t *testing.T) {
	tests := []struct {
		col  Column
		want pipeline.NativeType
	}{
		{Column{Type: TypeLong, Unsigned: true, ColumnType: "int(10) unsigned"}, pipeline.NativeType{Name: "int", Full: "int(10) unsigned", Unsigned: true}},
		{Column{Type: TypeDecimal, Precision: 10, Scale: 2}, pipeline.NativeType{Name: "decimal", Full: "decimal(10,2)", Length: 10, Scale: 2}},
		{Column{Type: TypeVarChar, Length: 20, Charset: "latin1", ColumnType: "varchar(20)"}, pipeline.NativeType{Name: "varchar", Full: "varchar(20)", Length: 20, Charset: "latin1"}},
		{Column{Type: TypeChar, Length: 4, Charset: "binary"}, pipeline.NativeType{Name: "binary", Full: "binary(4)", Length: 4, Charset: "binary"}},
		{Column{Type: TypeBlob, Length: 16777215, Charset: "utf8mb4"}, pipeline.NativeType{Name: "mediumtext", Full: "mediumtext", Charset: "utf8mb4"}},
		{Column{Type: TypeBlob, Length: 255, Charset: "binary"}, pipeline.NativeType{Name: "tinyblob", Full: "tinyblob", Charset: "binary"}},
		{Column{Type: TypeDateTime, FSP: 3, Generated: true}, pipeline.NativeType{Name: "datetime", Full: "datetime(3)", Scale: 3, Generated: true}},
		{Column{Type: TypeEnum, Members: []string{"a", "it's"}, Charset: "utf8mb4"}, pipeline.NativeType{Name: "enum", Full: "enum('a','it''s')", Charset: "utf8mb4"}},
		{Column{Type: TypeJSON, ColumnType: "longtext", Charset: "utf8mb4", Flavor: FlavorMariaDB}, pipeline.NativeType{Name: "json", Full: "longtext", Charset: "utf8mb4"}},
		{Column{Type: TypeGeometry, Geometry: "point"}, pipeline.NativeType{Name: "point", Full: "point"}},
		{Column{Type: TypeBit, Length: 3}, pipeline.NativeType{Name: "bit", Full: "bit(3)", Length: 3}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.col.Native()); diff != "" {
			t.Errorf("%+v: native (-want +got):\n%s", tt.col, diff)
		}
	}
}

func TestTypeString(t *testing.T) {
	if TypeInt24.String() != "MEDIUMINT" || TypeVector.String() != "VECTOR" || Type(0).String() != "UNKNOWN(0)" {
		t.Errorf("type names: %s %s %s", TypeInt24, TypeVector, Type(0))
	}
}
