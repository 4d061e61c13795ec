package pgtype

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

func TestDefaults(t *testing.T) {
	none := pipeline.Value{} // marker: no default expected
	cases := []struct {
		typ    string
		typmod int32
		expr   string
		want   pipeline.Value
	}{
		// Function and sequence defaults become the type's zero.
		{"int4", -1, "nextval('t_id_seq'::regclass)", num(0)},
		{"int8", -1, "nextval('\"Odd\"\"Seq\"'::regclass)", num(0)},
		{"int2", -1, "(nextval('s'::regclass))::smallint", num(0)},
		{"bool", -1, "some_func()", pipeline.Bool(false)},
		{"text", -1, "upper('x'::text)", str("")},
		{"numeric", numTypmod(6, 3), "random()", pipeline.Bytes([]byte{0})},
		{"float8", -1, "random()", pipeline.Float64(0)},
		{"float4", -1, "random()", pipeline.Float32(0)},
		{"uuid", -1, "gen_random_uuid()", str("00000000-0000-0000-0000-000000000000")},
		{"date", -1, "(now())::date", num(0)},
		{"time", -1, "LOCALTIME(0)", num(0)}, // an upper-case function call
		{"timestamp", -1, "now()", num(0)},
		{"timestamp", 3, "clock_timestamp()", num(0)},
		{"timestamptz", -1, "now()", str("1970-01-01T00:00:00.000000Z")},
		{"timestamptz", 0, "now()", str("1970-01-01T00:00:00Z")},
		{"interval", -1, "make_interval(1)", num(0)},
		{"jsonb", -1, "jsonb_build_object('a', 1)", str("{}")},
		{"xml", -1, "xmlcomment('x')", str("")},
		{"bit", 1, "f()", pipeline.Bool(false)},
		{"bit", 8, "f()", pipeline.Bytes(nil)},
		{"varbit", -1, "f()", pipeline.Bytes(nil)},
		{"varbit", 1, "f()", pipeline.Bool(false)},

		// Literals.
		{"int4", -1, "42", num(42)},
		{"int4", -1, "'-42'::integer", num(-42)},
		{"int4", -1, "2147483648", none},
		{"int4", -1, "(1 + 2)", none},
		{"int2", -1, "'32767'::smallint", num(32767)},
		{"int8", -1, "'-9223372036854775808'::bigint", num(math.MinInt64)},
		{"int4", -1, "NULL::integer", none},
		{"bool", -1, "true", pipeline.Bool(true)},
		{"bool", -1, "false", pipeline.Bool(false)},
		{"bool", -1, "NULL::boolean", none},
		{"varchar", 24, "'abc'::character varying", str("abc")},
		{"varchar", -1, "''::character varying", str("")},
		{"bpchar", 9, "'ab'::bpchar", str("ab")},
		{"text", -1, "'it''s'::text", str("it")}, // Debezium's '(.*?)' stops at the doubled quote
		{"text", -1, "'multi\nline'::text", none},
		{"text", -1, "('a\nb'::text || 'c'::text)", str("::text || ")}, // where Java's '(.*?)' finds its match
		{"text", -1, "'a\u2028b'::text", none},
		{"text", -1, "NULL::text", str("NULL::text")}, // no NULL:: check for strings in Debezium
		{"numeric", numTypmod(10, 2), "12.5", pipeline.Bytes([]byte{0x04, 0xe2})},
		{"numeric", numTypmod(10, 2), "'-12.50'::numeric", pipeline.Bytes([]byte{0xfb, 0x1e})},
		{"numeric", numTypmod(10, 2), "1.234", none}, // setScale(2) would round
		{"numeric", numTypmod(10, 2), "1E+2", pipeline.Bytes(int64Bytes(10000))},
		{"numeric", -1, "1.5", none}, // a struct default is dropped (KAFKA-12694)
		{"numeric", numTypmod(10, 2), "NULL::numeric", none},
		{"float8", -1, "1.5", pipeline.Float64(1.5)},
		{"float8", -1, "'-Infinity'::double precision", pipeline.Float64(math.Inf(-1))},
		{"float4", -1, "'0.1'::real", pipeline.Float32(0.1)},
		{"float8", -1, "'abc'::double precision", none},
		{"json", -1, "'{\"a\": 1}'::json", str(`{"a": 1}`)},
		{"uuid", -1, "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
		{"uuid", -1, "'nope'::uuid", none},
		{"date", -1, "'2020-01-01'::date", num(18262)},
		{"date", -1, "'0001-12-31 BC'::date", num(-719163)},
		{"date", -1, "'infinity'::date", num(169560311)},   // LocalDateTime.MAX's epoch day as an int
		{"date", -1, "'-infinity'::date", num(-170999002)}, // LocalDateTime.MIN's
		{"date", -1, "CURRENT_DATE", none},
		{"time", -1, "'10:00:00'::time without time zone", num(36000000000)},
		{"time", 3, "'10:00:00.5'::time without time zone", num(36000500)},
		{"time", -1, "'24:00:00'::time without time zone", num(86399999999)}, // LocalTime.MAX
		{"time", 3, "'24:00:00'::time without time zone", num(86399999)},
		{"timestamp", -1, "'2020-01-01 10:00:00'::timestamp without time zone", num(1577872800000000)},
		{"timestamp", 3, "'2020-01-01 10:00:00.123'::timestamp without time zone", num(1577872800123)},
		{"timestamp", -1, "'infinity'::timestamp without time zone", none},
		{"timestamp", -1, "CURRENT_TIMESTAMP", none},
		{"timestamptz", -1, "'2020-01-01 10:00:00+00'::timestamp with time zone", str("2020-01-01T10:00:00.000000Z")},
		{"timestamptz", -1, "'2020-01-01 10:00:00+02'::timestamp with time zone", str("2020-01-01T08:00:00.000000Z")},
		{"interval", -1, "'1 day 02:00:00'::interval", num(93600000000)},
		{"interval", -1, "'-00:00:01'::interval", num(-1000000)},
		{"bit", 1, "B'1'::\"bit\"", pipeline.Bool(true)},
		{"bit", 1, "B'0'::\"bit\"", pipeline.Bool(false)},
		{"bit", 7, "B'1000000'::\"bit\"", pipeline.Bytes([]byte{0x40})},
		{"varbit", -1, "B'101'::\"bit\"", pipeline.Bytes([]byte{0x05})},
		{"varbit", 1, "B'1'::\"bit\"", pipeline.Bool(true)},

		// Types without a mapper in Debezium get no default.
		{"money", -1, "'$1.00'::money", none},
		{"bytea", -1, "'\\x00'::bytea", none},
		{"timetz", -1, "'10:00:00+00'::time with time zone", none},
		{"inet", -1, "'1.2.3.4'::inet", none},
		{"int4[]", -1, "'{1}'::integer[]", none},
		{"mood", -1, "'ok'::mood", none},
		{"hstore", -1, "'a=>b'::hstore", none},
	}
	for _, tc := range cases {
		c := column(t, tc.typ, tc.typmod)
		c.Default = &tc.expr
		s, err := c.Schema(Options{})
		if err != nil {
			t.Fatalf("%s %q: %v", tc.typ, tc.expr, err)
		}
		if tc.want.Kind() == pipeline.KindNull {
			if s.Default != nil {
				t.Errorf("%s(%d) default %q = %s, want none", tc.typ, tc.typmod, tc.expr, describe(*s.Default))
			}
			continue
		}
		if s.Default == nil {
			t.Errorf("%s(%d) default %q: none, want %s", tc.typ, tc.typmod, tc.expr, describe(tc.want))
			continue
		}
		if !s.Default.Equal(tc.want) {
			t.Errorf("%s(%d) default %q = %s, want %s", tc.typ, tc.typmod, tc.expr, describe(*s.Default), describe(tc.want))
		}
	}
}

func TestPlaceholders(t *testing.T) {
	ph := "__debezium_unavailable_value"
	phBytes := func() pipeline.Value { return pipeline.Bytes([]byte(ph)) }
	phInts := func() pipeline.Value {
		vals := make([]pipeline.Value, len(ph))
		for i := range ph {
			vals[i] = num(int64(ph[i]))
		}
		return pipeline.Array(vals...)
	}
	cases := []struct {
		typ  string
		want pipeline.Value
		err  string
	}{
		{typ: "text", want: str(ph)},
		{typ: "varchar", want: str(ph)},
		{typ: "bpchar", want: str(ph)},
		{typ: "citext", want: str(ph)},
		{typ: "numrange", want: str(ph)},
		{typ: "json", want: str(ph)},
		{typ: "jsonb", want: str(ph)},
		{typ: "xml", want: str(ph)},
		{typ: "tsvector", want: str(ph)},
		{typ: "ltree", want: str(ph)},
		{typ: "bytea", want: phBytes()}, // base64 X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==
		{typ: "hstore", want: str(`{"__debezium_unavailable_value":"__debezium_unavailable_value"}`)},
		{typ: "text[]", want: pipeline.Array(str(ph))},
		{typ: "varchar[]", want: pipeline.Array(str(ph))},
		{typ: "jsonb[]", want: pipeline.Array(str(ph))},
		{typ: "bpchar[]", want: pipeline.Array(str(ph))},
		{typ: "bytea[]", want: pipeline.Array(phBytes())},
		{typ: "int4[]", want: phInts()},
		{typ: "int8[]", want: phInts()},
		{typ: "date[]", want: phInts()},
		{typ: "uuid[]", want: pipeline.Array(str("b68a35a7-17ad-35b3-af2a-ae46edb4545a"))}, // Java UUID.nameUUIDFromBytes
		{typ: "int4", err: "never TOASTed"},
		{typ: "uuid", err: "never TOASTed"},
		{typ: "timestamptz", err: "never TOASTed"},
		{typ: "mood", err: "never TOASTed"},
		{typ: "name", err: "never TOASTed"},
		{typ: "inet", err: "never TOASTed"},
		{typ: "numeric", err: "fails"},
		{typ: "varbit", err: "fails"},
		{typ: "int2[]", err: "no unchanged-TOAST placeholder"},
		{typ: "numeric[]", err: "no unchanged-TOAST placeholder"},
	}
	for _, tc := range cases {
		v, err := column(t, tc.typ, -1).Placeholder(Options{})
		if tc.err != "" {
			if !errors.Is(err, ErrNoPlaceholder) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %s, %v; want ErrNoPlaceholder containing %q", tc.typ, describe(v), err, tc.err)
			}
			continue
		}
		if err != nil || !v.Equal(tc.want) {
			t.Errorf("%s: %s, %v; want %s", tc.typ, describe(v), err, describe(tc.want))
		}
	}

	custom := Options{UnavailableValuePlaceholder: []byte{0xff, 'a'}}
	v, err := column(t, "int4[]", -1).Placeholder(custom)
	if err != nil || !v.Equal(pipeline.Array(num(-1), num('a'))) {
		t.Errorf("int4[] with a custom placeholder: %s, %v (Java bytes are signed)", describe(v), err)
	}
	v, err = column(t, "hstore", -1).Placeholder(Options{UnavailableValuePlaceholder: []byte(`q"`)})
	if err != nil || !v.Equal(str(`{"q\"":"q\""}`)) {
		t.Errorf("hstore with a quote in the placeholder: %s, %v", describe(v), err)
	}
}

func TestPlaceholderOfDomain(t *testing.T) {
	body := &Type{OID: 80030, Name: "body", Namespace: "public", Kind: 'd', Base: builtinByName["text"], BaseTypMod: -1}
	v, err := Column{Name: "b", Type: body, TypMod: -1}.Placeholder(Options{})
	if err != nil || !v.Equal(str("__debezium_unavailable_value")) {
		t.Errorf("domain over text: %s, %v", describe(v), err)
	}
	small := &Type{OID: 80031, Name: "small", Namespace: "public", Kind: 'd', Base: builtinByName["int2"], BaseTypMod: -1}
	if _, err := (Column{Name: "s", Type: small, TypMod: -1}).Placeholder(Options{}); !errors.Is(err, ErrNoPlaceholder) {
		t.Errorf("domain over int2: %v, want ErrNoPlaceholder", err)
	}
}
