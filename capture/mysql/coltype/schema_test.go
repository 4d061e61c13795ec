package coltype

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/siphoncdc/siphon/pipeline"
)

var valueComparer = cmp.Comparer(func(a, b pipeline.Value) bool { return a.Equal(b) })

func params(kv ...string) []pipeline.Param {
	var ps []pipeline.Param
	for i := 0; i+1 < len(kv); i += 2 {
		ps = append(ps, pipeline.Param{Key: kv[i], Value: kv[i+1]})
	}
	return ps
}

func TestSchema(t *testing.T) {
	point := &pipeline.Schema{Type: pipeline.TypeStruct, Optional: true, Name: "io.debezium.data.geometry.Point", Version: 1, Doc: "Geometry (POINT)",
		Fields: []pipeline.Field{
			{Name: "x", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
			{Name: "y", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
			{Name: "wkb", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true}},
			{Name: "srid", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}},
		}}
	geometry := &pipeline.Schema{Type: pipeline.TypeStruct, Optional: true, Name: "io.debezium.data.geometry.Geometry", Version: 1, Doc: "Geometry",
		Fields: []pipeline.Field{
			{Name: "wkb", Schema: &pipeline.Schema{Type: pipeline.TypeBytes}},
			{Name: "srid", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}},
		}}
	tests := []struct {
		name string
		col  Column
		want *pipeline.Schema
	}{
		{"tinyint", Column{Type: TypeTiny}, &pipeline.Schema{Type: pipeline.TypeInt8}},
		{"tinyint(1) stays int8", Column{Type: TypeTiny, ColumnType: "tinyint(1)", Nullable: true}, &pipeline.Schema{Type: pipeline.TypeInt8, Optional: true}},
		{"tinyint unsigned", Column{Type: TypeTiny, Unsigned: true}, &pipeline.Schema{Type: pipeline.TypeInt16}},
		{"smallint", Column{Type: TypeShort}, &pipeline.Schema{Type: pipeline.TypeInt16}},
		{"smallint unsigned", Column{Type: TypeShort, Unsigned: true}, &pipeline.Schema{Type: pipeline.TypeInt32}},
		{"mediumint", Column{Type: TypeInt24}, &pipeline.Schema{Type: pipeline.TypeInt32}},
		{"mediumint unsigned", Column{Type: TypeInt24, Unsigned: true}, &pipeline.Schema{Type: pipeline.TypeInt32}},
		{"int", Column{Type: TypeLong}, &pipeline.Schema{Type: pipeline.TypeInt32}},
		{"int unsigned", Column{Type: TypeLong, Unsigned: true}, &pipeline.Schema{Type: pipeline.TypeInt64}},
		{"bigint", Column{Type: TypeLongLong}, &pipeline.Schema{Type: pipeline.TypeInt64}},
		{"bigint unsigned", Column{Type: TypeLongLong, Unsigned: true}, &pipeline.Schema{Type: pipeline.TypeInt64}},
		{"decimal", Column{Type: TypeDecimal, Precision: 10, Scale: 4, Nullable: true}, &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true,
			Name: "org.apache.kafka.connect.data.Decimal", Version: 1, Params: params("scale", "4", "connect.decimal.precision", "10")}},
		{"float", Column{Type: TypeFloat}, &pipeline.Schema{Type: pipeline.TypeFloat32}},
		{"float(p)", Column{Type: TypeFloat, ColumnType: "float"}, &pipeline.Schema{Type: pipeline.TypeFloat32}},
		{"float(M,D)", Column{Type: TypeFloat, ColumnType: "float(7,4)"}, &pipeline.Schema{Type: pipeline.TypeFloat64}},
		{"double", Column{Type: TypeDouble}, &pipeline.Schema{Type: pipeline.TypeFloat64}},
		{"bit(1)", Column{Type: TypeBit, Length: 1}, &pipeline.Schema{Type: pipeline.TypeBoolean}},
		{"bit(10)", Column{Type: TypeBit, Length: 10}, &pipeline.Schema{Type: pipeline.TypeBytes, Name: "io.debezium.data.Bits", Version: 1, Params: params("length", "10")}},
		{"year", Column{Type: TypeYear}, &pipeline.Schema{Type: pipeline.TypeInt32, Name: "io.debezium.time.Year", Version: 1}},
		{"date", Column{Type: TypeDate}, &pipeline.Schema{Type: pipeline.TypeInt32, Name: "io.debezium.time.Date", Version: 1}},
		{"time", Column{Type: TypeTime, FSP: 6}, &pipeline.Schema{Type: pipeline.TypeInt64, Name: "io.debezium.time.MicroTime", Version: 1}},
		{"datetime(3)", Column{Type: TypeDateTime, FSP: 3}, &pipeline.Schema{Type: pipeline.TypeInt64, Name: "io.debezium.time.Timestamp", Version: 1}},
		{"datetime(4)", Column{Type: TypeDateTime, FSP: 4}, &pipeline.Schema{Type: pipeline.TypeInt64, Name: "io.debezium.time.MicroTimestamp", Version: 1}},
		{"timestamp", Column{Type: TypeTimestamp, Nullable: true}, &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.time.ZonedTimestamp", Version: 1}},
		{"varchar", Column{Type: TypeVarChar, Charset: "utf8mb4"}, &pipeline.Schema{Type: pipeline.TypeString}},
		{"text", Column{Type: TypeBlob, Charset: "latin1"}, &pipeline.Schema{Type: pipeline.TypeString}},
		{"binary", Column{Type: TypeChar, Charset: "binary", Length: 4}, &pipeline.Schema{Type: pipeline.TypeBytes}},
		{"blob", Column{Type: TypeBlob, Charset: "binary"}, &pipeline.Schema{Type: pipeline.TypeBytes}},
		{"enum", Column{Type: TypeEnum, Members: []string{"a", "b,c", `d\e`}}, &pipeline.Schema{Type: pipeline.TypeString, Name: "io.debezium.data.Enum", Version: 1,
			Params: params("allowed", `a,b\,c,d\\e`)}},
		{"set", Column{Type: TypeSet, Members: []string{"x", "y"}}, &pipeline.Schema{Type: pipeline.TypeString, Name: "io.debezium.data.EnumSet", Version: 1, Params: params("allowed", "x,y")}},
		{"enum without members", Column{Type: TypeEnum}, &pipeline.Schema{Type: pipeline.TypeString, Name: "io.debezium.data.Enum", Version: 1, Params: params("allowed", "")}},
		{"json", Column{Type: TypeJSON, Nullable: true}, &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Json", Version: 1}},
		{"point", Column{Type: TypeGeometry, Geometry: "point", Nullable: true}, point},
		{"point not null", Column{Type: TypeGeometry, Geometry: "point"}, func() *pipeline.Schema { s := *point; s.Optional = false; return &s }()},
		{"polygon not null is still optional", Column{Type: TypeGeometry, Geometry: "polygon"}, geometry},
		{"vector", Column{Type: TypeVector}, &pipeline.Schema{Type: pipeline.TypeArray, Name: "io.debezium.data.FloatVector", Version: 1, Items: &pipeline.Schema{Type: pipeline.TypeFloat32}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.col.Name = "c"
			got, err := tt.col.Schema()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, valueComparer); diff != "" {
				t.Errorf("schema (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, c := range []Column{
		{Name: "price", Type: TypeDecimal, Precision: 0},
		{Name: "price", Type: TypeBit, Length: 65},
		{Name: "price"},
	} {
		if _, err := c.Schema(); err == nil || err.Error()[:13] != "column price:" {
			t.Errorf("%+v: error = %v, want one naming the column", c, err)
		}
	}
}

func TestSchemaDefaults(t *testing.T) {
	my, maria := FlavorMySQL, FlavorMariaDB
	tests := []struct {
		name string
		col  Column
		want pipeline.Value // Null: no default
	}{
		{"mysql int", Column{Type: TypeLong, Default: strPtr("5")}, pipeline.Int(5)},
		{"mysql int rounds half up", Column{Type: TypeLong, Default: strPtr("1.5")}, pipeline.Int(2)},
		{"mysql int rounds -1.5 to -1 like Java", Column{Type: TypeLong, Default: strPtr("-1.5")}, pipeline.Int(-1)},
		{"mysql int garbage", Column{Type: TypeLong, Default: strPtr("abc")}, pipeline.Null},
		{"mysql tinyint(1) true", Column{Type: TypeTiny, Default: strPtr("true")}, pipeline.Int(1)},
		{"mysql int unsigned max", Column{Type: TypeLong, Unsigned: true, Default: strPtr("4294967295")}, pipeline.Int(4294967295)},
		{"mysql bigint unsigned max clamps like Debezium", Column{Type: TypeLongLong, Unsigned: true, Default: strPtr("18446744073709551615")}, pipeline.Int(math.MaxInt64)},
		{"mysql decimal", Column{Type: TypeDecimal, Precision: 5, Scale: 2, Default: strPtr("1.50")}, pipeline.Bytes([]byte{0, 150})},
		{"mysql decimal half up", Column{Type: TypeDecimal, Precision: 5, Scale: 2, Default: strPtr("1.555")}, pipeline.Bytes([]byte{0, 156})},
		{"mysql decimal negative half up", Column{Type: TypeDecimal, Precision: 5, Scale: 2, Default: strPtr("-1.555")}, pipeline.Bytes([]byte{0xff, 0x64})},
		{"mysql float", Column{Type: TypeFloat, Default: strPtr("1.5")}, pipeline.Float32(1.5)},
		{"mysql double", Column{Type: TypeDouble, Default: strPtr("-2e10")}, pipeline.Float64(-2e10)},
		{"mysql bit(1)", Column{Type: TypeBit, Length: 1, Default: strPtr("b'1'")}, pipeline.Bool(true)},
		{"mysql bit(5)", Column{Type: TypeBit, Length: 5, Default: strPtr("b'101'")}, pipeline.Bytes([]byte{5})},
		{"mysql bit(10)", Column{Type: TypeBit, Length: 10, Default: strPtr("b'1000000001'")}, pipeline.Bytes([]byte{1, 2})},
		{"mysql year", Column{Type: TypeYear, Default: strPtr("2024")}, pipeline.Int(2024)},
		{"mysql date", Column{Type: TypeDate, Default: strPtr("2020-01-01")}, pipeline.Int(18262)},
		{"mysql date zero nullable", Column{Type: TypeDate, Nullable: true, Default: strPtr("0000-00-00")}, pipeline.Null},
		{"mysql date zero not null", Column{Type: TypeDate, Default: strPtr("0000-00-00")}, pipeline.Int(0)},
		{"mysql date invalid not null", Column{Type: TypeDate, Default: strPtr("2020-02-30")}, pipeline.Int(0)},
		{"mysql datetime", Column{Type: TypeDateTime, Default: strPtr("2018-06-20 06:37:03")}, pipeline.Int(1529476623000)},
		{"mysql datetime(6)", Column{Type: TypeDateTime, FSP: 6, Default: strPtr("2018-06-20 06:37:03.123456")}, pipeline.Int(1529476623123456)},
		{"mysql datetime zero not null", Column{Type: TypeDateTime, Default: strPtr("0000-00-00 00:00:00")}, pipeline.Int(0)},
		{"mysql datetime current_timestamp is the epoch", Column{Type: TypeDateTime, Nullable: true, Default: strPtr("CURRENT_TIMESTAMP"), DefaultGenerated: true}, pipeline.Int(0)},
		{"mysql 5.7 current_timestamp", Column{Type: TypeDateTime, FSP: 6, Default: strPtr("CURRENT_TIMESTAMP(6)")}, pipeline.Int(0)},
		{"mysql timestamp current_timestamp not null", Column{Type: TypeTimestamp, FSP: 3, Default: strPtr("CURRENT_TIMESTAMP(3)"), DefaultGenerated: true}, pipeline.String("1970-01-01T00:00:00Z")},
		{"mysql timestamp current_timestamp nullable", Column{Type: TypeTimestamp, Nullable: true, Default: strPtr("CURRENT_TIMESTAMP"), DefaultGenerated: true}, pipeline.Null},
		{"mysql timestamp literal", Column{Type: TypeTimestamp, FSP: 3, Default: strPtr("2020-01-01 00:00:00.5")}, pipeline.String("2020-01-01T00:00:00.500Z")},
		{"mysql timestamp zero not null", Column{Type: TypeTimestamp, Default: strPtr("0000-00-00 00:00:00")}, pipeline.String("1970-01-01T00:00:00Z")},
		{"mysql time", Column{Type: TypeTime, FSP: 1, Default: strPtr("-12:30:00.5")}, pipeline.Int(-45000500000)},
		{"mysql time without seconds", Column{Type: TypeTime, Default: strPtr("10:00")}, pipeline.Int(36000000000)},
		{"mysql varchar", Column{Type: TypeVarChar, Charset: "utf8mb4", Default: strPtr("abc")}, pipeline.String("abc")},
		{"mysql varchar empty", Column{Type: TypeVarChar, Charset: "utf8mb4", Default: strPtr("")}, pipeline.String("")},
		{"mysql varchar named like a function", Column{Type: TypeVarChar, Charset: "utf8mb4", Default: strPtr("CURRENT_TIMESTAMP")}, pipeline.String("CURRENT_TIMESTAMP")},
		{"mysql expression", Column{Type: TypeVarChar, Charset: "utf8mb4", Default: strPtr("uuid()"), DefaultGenerated: true}, pipeline.Null},
		{"mysql int expression", Column{Type: TypeLong, Default: strPtr("(1 + 1)"), DefaultGenerated: true}, pipeline.Null},
		{"mysql varbinary hex", Column{Type: TypeVarChar, Charset: "binary", Default: strPtr("0x6162")}, pipeline.Bytes([]byte("ab"))},
		{"mysql enum", Column{Type: TypeEnum, Members: []string{"x", "y,z"}, Default: strPtr("y,z")}, pipeline.String("y,z")},
		{"mysql json expression", Column{Type: TypeJSON, Default: strPtr("_utf8mb4\\'{}\\'"), DefaultGenerated: true}, pipeline.Null},
		{"mysql charset introducer", Column{Type: TypeVarChar, Charset: "utf8mb4", Default: strPtr("_utf8mb4'abc'")}, pipeline.String("abc")},
		{"no default", Column{Type: TypeLong}, pipeline.Null},

		{"mariadb quoted", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Default: strPtr("'it''s'")}, pipeline.String("it's")},
		{"mariadb backslash", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Default: strPtr(`'back\\slash'`)}, pipeline.String(`back\slash`)},
		{"mariadb newline", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Default: strPtr(`'a\nb` + "\t" + `c'`)}, pipeline.String("a\nb\tc")},
		{"mariadb NULL word", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Nullable: true, Default: strPtr("NULL")}, pipeline.Null},
		{"mariadb 'NULL' string", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Default: strPtr("'NULL'")}, pipeline.String("NULL")},
		{"mariadb empty string", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Default: strPtr("''")}, pipeline.String("")},
		{"mariadb int", Column{Type: TypeLong, Flavor: maria, Default: strPtr("5")}, pipeline.Int(5)},
		{"mariadb negative", Column{Type: TypeDouble, Flavor: maria, Default: strPtr("-20000000000")}, pipeline.Float64(-2e10)},
		{"mariadb expression", Column{Type: TypeLong, Flavor: maria, Default: strPtr("(1 + 1)")}, pipeline.Null},
		{"mariadb curdate", Column{Type: TypeDate, Flavor: maria, Nullable: true, Default: strPtr("curdate()")}, pipeline.Null},
		{"mariadb current_timestamp datetime", Column{Type: TypeDateTime, Flavor: maria, Nullable: true, Default: strPtr("current_timestamp()")}, pipeline.Int(0)},
		{"mariadb current_timestamp timestamp(3)", Column{Type: TypeTimestamp, FSP: 3, Flavor: maria, Default: strPtr("current_timestamp(3)")}, pipeline.String("1970-01-01T00:00:00Z")},
		{"mariadb bit", Column{Type: TypeBit, Length: 5, Flavor: maria, Default: strPtr("b'101'")}, pipeline.Bytes([]byte{5})},
		{"mariadb time", Column{Type: TypeTime, FSP: 2, Flavor: maria, Default: strPtr("'-12:30:00.50'")}, pipeline.Int(-45000500000)},
		{"mariadb datetime zero not null", Column{Type: TypeDateTime, Flavor: maria, Default: strPtr("'0000-00-00 00:00:00'")}, pipeline.Int(0)},
		{"mariadb date", Column{Type: TypeDate, Flavor: maria, Default: strPtr("'2020-01-01'")}, pipeline.Int(18262)},
		{"mariadb decimal", Column{Type: TypeDecimal, Precision: 5, Scale: 2, Flavor: maria, Default: strPtr("1.50")}, pipeline.Bytes([]byte{0, 150})},
		{"mariadb json", Column{Type: TypeJSON, Flavor: maria, Default: strPtr("'{}'")}, pipeline.String("{}")},
		{"mariadb binary padded by the server", Column{Type: TypeChar, Charset: "binary", Length: 4, Flavor: maria, Default: strPtr(`'ab\0\0'`)}, pipeline.Bytes([]byte{'a', 'b', 0, 0})},
		{"mariadb year", Column{Type: TypeYear, Flavor: maria, Default: strPtr("2024")}, pipeline.Int(2024)},
		{"mariadb enum", Column{Type: TypeEnum, Members: []string{"x", "y,z"}, Flavor: maria, Default: strPtr("'y,z'")}, pipeline.String("y,z")},
		{"mariadb unterminated quote", Column{Type: TypeVarChar, Charset: "latin1", Flavor: maria, Default: strPtr("'abc")}, pipeline.Null},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.col.Name = "c"
			if tt.col.Flavor == "" {
				tt.col.Flavor = my
			}
			s, err := tt.col.Schema()
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.want.IsNull() && s.Default != nil:
				t.Errorf("default %s, want none", valueString(*s.Default))
			case !tt.want.IsNull() && s.Default == nil:
				t.Errorf("no default, want %s", valueString(tt.want))
			case !tt.want.IsNull() && !s.Default.Equal(tt.want):
				t.Errorf("default %s, want %s", valueString(*s.Default), valueString(tt.want))
			}
		})
	}
}
