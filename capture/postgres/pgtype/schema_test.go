package pgtype

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr(s string) *string { return &s }

// schemaColumns covers every mapping; the golden file holds the schemas as
// JsonConverter prints them.
func schemaColumns(t *testing.T) []Column {
	c := func(name, typ string, typmod int32, nullable bool, def *string) Column {
		return Column{Name: name, Type: typeOf(t, typ), TypMod: typmod, Nullable: nullable, Default: def}
	}
	domain := &Type{OID: 80020, Name: "price", Namespace: "public", Kind: 'd', Base: builtinByName["numeric"], BaseTypMod: numTypmod(8, 2)}
	return []Column{
		c("id", "int4", -1, false, ptr("nextval('t_id_seq'::regclass)")),
		c("small", "int2", -1, true, ptr("'-5'::smallint")),
		c("big", "int8", -1, true, ptr("'9223372036854775807'::bigint")),
		c("flag", "bool", -1, false, ptr("true")),
		c("ob", "oid", -1, true, nil),
		c("r", "float4", -1, true, ptr("1.5")),
		c("d", "float8", -1, true, ptr("'NaN'::double precision")),
		c("amount", "numeric", numTypmod(10, 2), true, ptr("12.5")),
		c("ratio", "numeric", -1, true, ptr("0.5")),
		c("price", "money", -1, true, ptr("'$1.00'::money")),
		c("name", "varchar", 24, false, ptr("'abc'::character varying")),
		c("code", "bpchar", 9, true, ptr("'ab'::bpchar")),
		c("body", "text", -1, true, ptr("'it''s'::text")),
		c("ci", "citext", -1, true, nil),
		c("addr", "inet", -1, true, nil),
		c("span", "int4range", -1, true, nil),
		c("doc", "jsonb", -1, true, ptr("'{}'::jsonb")),
		c("js", "json", -1, true, ptr("json_build_object('a', 1)")),
		c("x", "xml", -1, true, nil),
		c("uid", "uuid", -1, false, ptr("gen_random_uuid()")),
		c("tsv", "tsvector", -1, true, nil),
		c("path", "ltree", -1, true, nil),
		c("born", "date", -1, true, ptr("'2020-01-01'::date")),
		c("today", "date", -1, false, ptr("CURRENT_DATE")),
		c("t0", "time", 0, true, ptr("'10:00:00'::time without time zone")),
		c("t6", "time", -1, true, nil),
		c("ttz", "timetz", -1, true, nil),
		c("ts3", "timestamp", 3, true, ptr("now()")),
		c("ts", "timestamp", -1, true, ptr("'2020-01-01 10:00:00'::timestamp without time zone")),
		c("tstz", "timestamptz", -1, false, ptr("now()")),
		c("tstz3", "timestamptz", 3, true, ptr("'2020-01-01 10:00:00.5+00'::timestamp with time zone")),
		c("tstz_now", "timestamptz", -1, true, ptr("CURRENT_TIMESTAMP")),
		c("dur", "interval", -1, true, ptr("'1 day 02:00:00'::interval")),
		c("blob", "bytea", -1, true, ptr("'\\x00'::bytea")),
		c("b1", "bit", 1, true, ptr("B'1'::\"bit\"")),
		c("b7", "bit", 7, true, ptr("B'1000000'::\"bit\"")),
		c("vb", "varbit", -1, true, ptr("B'101'::\"bit\"")),
		c("vb1", "varbit", 1, true, nil),
		c("mood", "mood", -1, true, ptr("'ok'::mood")),
		c("hs", "hstore", -1, true, nil),
		c("pt", "point", -1, true, nil),
		c("ints", "int4[]", -1, true, ptr("'{1,2}'::integer[]")),
		c("texts", "text[]", -1, true, nil),
		c("nums", "numeric[]", numTypmod(5, 2), true, nil),
		c("vnums", "numeric[]", -1, true, nil),
		c("dates", "date[]", -1, true, nil),
		c("times", "time[]", 3, true, nil),
		c("tstzs", "timestamptz[]", -1, true, nil),
		c("uuids", "uuid[]", -1, true, nil),
		c("moods", "mood[]", -1, true, nil),
		c("hss", "hstore[]", -1, true, nil),
		c("blobs", "bytea[]", -1, true, nil),
		{Name: "dom", Type: domain, TypMod: -1, Nullable: true, Default: ptr("1.00")},
	}
}

func TestSchemaGolden(t *testing.T) {
	var out bytes.Buffer
	for _, c := range schemaColumns(t) {
		s, err := c.Schema(Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		out.WriteString(`{"column":`)
		out.Write(debezium.AppendString(nil, c.Name))
		out.WriteString(`,"schema":`)
		out.Write(debezium.AppendSchema(nil, s))
		out.WriteString("}\n")
	}
	path := filepath.Join("testdata", "schemas.golden.jsonl")
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
		t.Errorf("schemas differ from %s (-want +got):\n%s", path, diff)
	}
}

func TestSchemaStructs(t *testing.T) {
	v := func(x pipeline.Value) *pipeline.Value { return &x }
	cases := []struct {
		col  Column
		o    Options
		want *pipeline.Schema
	}{
		{
			col:  Column{Name: "id", Type: builtin(t, "int4"), TypMod: -1, Default: ptr("nextval('a_id_seq'::regclass)")},
			want: &pipeline.Schema{Type: pipeline.TypeInt32, Default: v(pipeline.Int(0))}, // SPEC §1.3: "default":0
		},
		{
			col: Column{Name: "n", Type: builtin(t, "numeric"), TypMod: -1, Nullable: true},
			want: &pipeline.Schema{Type: pipeline.TypeStruct, Optional: true, Name: "io.debezium.data.VariableScaleDecimal", Version: 1,
				Doc: "Variable scaled decimal", Fields: []pipeline.Field{
					{Name: "scale", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
					{Name: "value", Schema: &pipeline.Schema{Type: pipeline.TypeBytes}},
				}},
		},
		{
			col: Column{Name: "m", Type: builtin(t, "money"), TypMod: -1},
			o:   Options{MoneyFractionDigits: 4},
			want: &pipeline.Schema{Type: pipeline.TypeBytes, Name: "org.apache.kafka.connect.data.Decimal", Version: 1,
				Params: []pipeline.Param{{Key: "scale", Value: "4"}}},
		},
		{
			col: Column{Name: "vb", Type: builtin(t, "varbit"), TypMod: -1},
			want: &pipeline.Schema{Type: pipeline.TypeBytes, Name: "io.debezium.data.Bits", Version: 1,
				Params: []pipeline.Param{{Key: "length", Value: "2147483647"}}},
		},
		{
			col: Column{Name: "e", Type: arrayOf(enumType("a", "b,c")), TypMod: -1, Nullable: true},
			want: &pipeline.Schema{Type: pipeline.TypeArray, Optional: true, Items: &pipeline.Schema{Type: pipeline.TypeString,
				Name: "io.debezium.data.Enum", Version: 1, Params: []pipeline.Param{{Key: "allowed", Value: "a,b,c"}}}},
		},
		{
			col:  Column{Name: "i", Type: builtin(t, "_int8"), TypMod: -1},
			want: &pipeline.Schema{Type: pipeline.TypeArray, Items: &pipeline.Schema{Type: pipeline.TypeInt64, Optional: true}},
		},
	}
	for _, tc := range cases {
		got, err := tc.col.Schema(tc.o)
		if err != nil {
			t.Fatalf("%s: %v", tc.col.Name, err)
		}
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b pipeline.Value) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.col.Name, diff)
		}
	}
}

func TestNative(t *testing.T) {
	cases := []struct {
		typ    *Type
		typmod int32
		want   pipeline.NativeType
	}{
		{builtin(t, "numeric"), numTypmod(10, 2), pipeline.NativeType{Name: "numeric", Full: "numeric(10,2)", Length: 10, Scale: 2}},
		{builtin(t, "numeric"), -1, pipeline.NativeType{Name: "numeric", Full: "numeric"}},
		{builtin(t, "numeric"), numTypmod(5, -1), pipeline.NativeType{Name: "numeric", Full: "numeric(5,-1)", Length: 5, Scale: -1}},
		{builtin(t, "varchar"), 24, pipeline.NativeType{Name: "varchar", Full: "character varying(20)", Length: 20}},
		{builtin(t, "varchar"), -1, pipeline.NativeType{Name: "varchar", Full: "character varying"}},
		{builtin(t, "bpchar"), 5, pipeline.NativeType{Name: "bpchar", Full: "character(1)", Length: 1}},
		{builtin(t, "int4"), -1, pipeline.NativeType{Name: "int4", Full: "integer"}},
		{builtin(t, "_int4"), -1, pipeline.NativeType{Name: "_int4", Full: "integer[]"}},
		{builtin(t, "_varchar"), 24, pipeline.NativeType{Name: "_varchar", Full: "character varying(20)[]", Length: 20}},
		{builtin(t, "timestamptz"), 3, pipeline.NativeType{Name: "timestamptz", Full: "timestamp(3) with time zone", Scale: 3}},
		{builtin(t, "timestamp"), -1, pipeline.NativeType{Name: "timestamp", Full: "timestamp without time zone", Scale: 6}},
		{builtin(t, "_time"), 2, pipeline.NativeType{Name: "_time", Full: "time(2) without time zone[]", Scale: 2}},
		{builtin(t, "bit"), 7, pipeline.NativeType{Name: "bit", Full: "bit(7)", Length: 7}},
		{builtin(t, "varbit"), -1, pipeline.NativeType{Name: "varbit", Full: "bit varying"}},
		{builtin(t, "char"), -1, pipeline.NativeType{Name: "char", Full: `"char"`}},
		{builtin(t, "interval"), -1, pipeline.NativeType{Name: "interval", Full: "interval"}},
		{builtin(t, "interval"), 3, pipeline.NativeType{Name: "interval", Full: "interval(3)", Scale: 3}},
		{builtin(t, "interval"), int32(6<<16 | 0xFFFF), pipeline.NativeType{Name: "interval", Full: "interval year to month"}},
		{builtin(t, "interval"), int32(0x1C08<<16 | 2), pipeline.NativeType{Name: "interval", Full: "interval day to second(2)", Scale: 2}},
		{enumType("a"), -1, pipeline.NativeType{Name: "mood", Full: "mood"}},
		{extension("hstore"), -1, pipeline.NativeType{Name: "hstore", Full: "hstore"}},
		{&Type{Name: "tag", Namespace: "app", Kind: 'e'}, -1, pipeline.NativeType{Name: "tag", Full: "app.tag"}},
		{arrayOf(enumType("a")), -1, pipeline.NativeType{Name: "_mood", Full: "mood[]"}},
		{&Type{Name: "price", Namespace: "public", Kind: 'd', Base: builtinByName["numeric"], BaseTypMod: numTypmod(8, 2)}, -1,
			pipeline.NativeType{Name: "price", Full: "price"}},
	}
	for _, tc := range cases {
		got := Column{Name: "c", Type: tc.typ, TypMod: tc.typmod}.Native()
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s(%d) (-want +got):\n%s", tc.typ.Name, tc.typmod, diff)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, b := range builtins {
		typ, ok := Lookup(b.oid)
		if !ok || typ.Name != b.name || typ.Kind != b.kind || typ.Elem != nil {
			t.Errorf("Lookup(%d) = %+v, %v", b.oid, typ, ok)
		}
		arr, ok := Lookup(b.arrayOID)
		if !ok || arr.Name != "_"+b.name || arr.Elem == nil || arr.Elem.OID != b.oid {
			t.Errorf("Lookup(%d) = %+v, %v", b.arrayOID, arr, ok)
		}
	}
	if _, ok := Lookup(603); ok {
		t.Error("Lookup(603) (box) found a type")
	}
	// Lookup hands out copies: changing one does not change the next.
	a, _ := Lookup(23)
	a.Name = "changed"
	if b, _ := Lookup(23); b.Name != "int4" {
		t.Errorf("Lookup returned shared state: %q", b.Name)
	}
	// Every built-in has a mapping (scalars and the arrays Debezium maps).
	for _, b := range builtins {
		typ, _ := Lookup(b.oid)
		if _, err := (Column{Name: "c", Type: typ, TypMod: -1}).Schema(Options{}); err != nil {
			t.Errorf("%s: %v", b.name, err)
		}
	}
}
