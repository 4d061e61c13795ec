package pgtype

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
	"github.com/siphoncdc/siphon/pipeline"
)

// sessionSettings are the settings the PostgreSQL source puts on its
// connections; the decoders assume them.
const sessionSettings = "SET DateStyle = 'ISO, MDY'; SET IntervalStyle = postgres; SET TimeZone = 'UTC'; " +
	"SET extra_float_digits = 3; SET bytea_output = hex; SET lc_monetary = 'C'; SET client_encoding = 'UTF8'; "

type pgCase struct {
	decl string // column type as declared
	expr string // SQL expression stored in the column
	want pipeline.Value
	err  string // substring of the expected decode error instead
}

func pgCases(t *testing.T) []pgCase {
	vals := pipeline.Array
	return []pgCase{
		{decl: "boolean", expr: "true", want: pipeline.Bool(true)},
		{decl: "smallint", expr: "-32768", want: num(math.MinInt16)},
		{decl: "integer", expr: "2147483647", want: num(math.MaxInt32)},
		{decl: "bigint", expr: "-9223372036854775808", want: num(math.MinInt64)},
		{decl: "oid", expr: "4294967295", want: num(math.MaxUint32)},
		{decl: "real", expr: "'NaN'", want: pipeline.Float32(float32(math.NaN()))},
		{decl: "real", expr: "'-Infinity'", want: pipeline.Float32(float32(math.Inf(-1)))},
		{decl: "real", expr: "1.1", want: pipeline.Float32(1.1)},
		{decl: "real", expr: "3.4028235e38", want: pipeline.Float32(math.MaxFloat32)},
		{decl: "double precision", expr: "0.1", want: pipeline.Float64(0.1)},
		{decl: "double precision", expr: "1e-300", want: pipeline.Float64(1e-300)},
		{decl: "double precision", expr: "'-0'", want: pipeline.Float64(math.Copysign(0, -1))},
		{decl: "double precision", expr: "'Infinity'", want: pipeline.Float64(math.Inf(1))},
		{decl: "numeric(10,2)", expr: "-12.34", want: pipeline.Bytes(int64Bytes(-1234))},
		{decl: "numeric(10,2)", expr: "2", want: pipeline.Bytes([]byte{0x00, 0xc8})},
		{decl: "numeric(5,-1)", expr: "123", want: pipeline.Bytes([]byte{12})},
		{decl: "numeric", expr: "1.500", want: vsd(1, "0f")},
		{decl: "numeric", expr: "0.98765", want: vsd(5, "0181cd")},
		{decl: "numeric", expr: "'NaN'", err: "decimal.handling.mode=precise"},
		{decl: "numeric", expr: "'-Infinity'", err: "decimal.handling.mode=precise"},
		{decl: "money", expr: "1234.56", want: pipeline.Bytes(int64Bytes(123456))},
		{decl: "money", expr: "-92233720368547758.08", want: pipeline.Bytes(int64Bytes(math.MinInt64))},
		{decl: "character varying(20)", expr: "'abc'", want: str("abc")},
		{decl: "character(5)", expr: "'ab'", want: str("ab   ")},
		{decl: "text", expr: "'héllo ☃ \"q\" \\ end'", want: str(`héllo ☃ "q" \ end`)},
		{decl: "name", expr: "'pg_class'", want: str("pg_class")},
		{decl: `"char"`, expr: "'x'", want: str("x")},
		{decl: "citext", expr: "'MiXeD'", want: str("MiXeD")},
		{decl: "inet", expr: "'192.168.0.1/24'", want: str("192.168.0.1/24")},
		{decl: "cidr", expr: "'10.0.0.0/8'", want: str("10.0.0.0/8")},
		{decl: "macaddr", expr: "'08:00:2B:01:02:03'", want: str("08:00:2b:01:02:03")},
		{decl: "macaddr8", expr: "'08:00:2b:01:02:03:04:05'", want: str("08:00:2b:01:02:03:04:05")},
		{decl: "int4range", expr: "'[1,10)'", want: str("[1,10)")},
		{decl: "numrange", expr: "'(1.5,2.5]'", want: str("(1.5,2.5]")},
		{decl: "tstzrange", expr: "'[2020-01-01 00:00+00,)'", want: str(`["2020-01-01 00:00:00+00",)`)},
		{decl: "daterange", expr: "'[2020-01-01,2020-02-01]'", want: str("[2020-01-01,2020-02-02)")},
		{decl: "json", expr: `'{"b": 1,  "a": [1, 2]}'`, want: str(`{"b": 1,  "a": [1, 2]}`)},
		{decl: "jsonb", expr: `'{"b": 1,  "a": [1, 2]}'`, want: str(`{"a": [1, 2], "b": 1}`)},
		{decl: "xml", expr: "'<a>b</a>'", want: str("<a>b</a>")},
		{decl: "uuid", expr: "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", want: str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
		{decl: "tsvector", expr: "'a fat cat'", want: str("'a' 'cat' 'fat'")},
		{decl: "ltree", expr: "'Top.Science.Astronomy'", want: str("Top.Science.Astronomy")},
		{decl: "mood", expr: "'happy'", want: str("happy")},
		{decl: "price", expr: "1.5", want: pipeline.Bytes([]byte{0x00, 0x96})},
		{decl: "date", expr: "'4713-01-01 BC'", want: num(-2440550)},
		{decl: "date", expr: "'2000-02-29'", want: num(11016)},
		{decl: "date", expr: "'5874897-12-31'", want: num(2145042905)},
		{decl: "date", expr: "'infinity'", want: num(-2147472692)},
		{decl: "date", expr: "'-infinity'", want: num(-2147472691)},
		{decl: "time", expr: "'24:00:00'", want: num(86400000000)},
		{decl: "time", expr: "'13:45:30.123456'", want: num(49530123456)},
		{decl: "time(3)", expr: "'13:45:30.123'", want: num(49530123)},
		{decl: "time with time zone", expr: "'24:00:00+05'", want: str("19:00:00Z")},
		{decl: "time with time zone", expr: "'24:00:00+00'", want: str("24:00:00Z")},
		{decl: "time(3) with time zone", expr: "'10:00:00.5-08:30'", want: str("18:30:00.5Z")},
		{decl: "timestamp", expr: "'2018-06-20 15:13:16.945104'", want: num(1529507596945104)},
		{decl: "timestamp(3)", expr: "'2018-06-20 15:13:16.945'", want: num(1529507596945)},
		{decl: "timestamp", expr: "'4713-01-01 00:00:00 BC'", want: num(-210863520000000000)},
		{decl: "timestamp", expr: "'1969-12-31 23:59:59.999999'", want: num(-1)},
		{decl: "timestamp", expr: "'infinity'", want: num(9223372036825200000)},
		{decl: "timestamp(0)", expr: "'-infinity'", want: num(-9223372036832400)},
		{decl: "timestamp with time zone", expr: "'2016-11-04 13:51:30.123456+02'", want: str("2016-11-04T11:51:30.123456Z")},
		{decl: "timestamp with time zone", expr: "'2020-04-01 11:51:02+00'", want: str("2020-04-01T11:51:02.000000Z")},
		{decl: "timestamp(0) with time zone", expr: "'2020-01-01 00:00:00+02'", want: str("2019-12-31T22:00:00Z")},
		{decl: "timestamp(3) with time zone", expr: "'2020-01-01 00:00:00.1+00'", want: str("2020-01-01T00:00:00.100Z")},
		{decl: "timestamp with time zone", expr: "'0002-01-01 00:00:00+00 BC'", want: str("-0001-01-01T00:00:00.000000Z")},
		{decl: "timestamp with time zone", expr: "'12345-01-01 00:00:00+00'", want: str("+12345-01-01T00:00:00.000000Z")},
		{decl: "timestamp with time zone", expr: "'-infinity'", want: str("-infinity")},
		{decl: "interval", expr: "'1 year 2 mons 3 days 04:05:06.789'", want: num(37091106789000)},
		{decl: "interval", expr: "'-1 days +02:03:00'", want: num(-79020000000)},
		{decl: "interval", expr: "'-1 year -2 months 3 days -4 hours -5 minutes -6 seconds'", want: num(-36572706000000)},
		{decl: "interval", expr: "'-0.5 seconds'", want: num(-500000)},
		{decl: "interval", expr: "'178000000 years'", want: num(math.MaxInt64)},
		{decl: "interval day to second(2)", expr: "'1 day 00:00:01.25'", want: num(86401250000)},
		{decl: "bytea", expr: `'\x0102ff'`, want: pipeline.Bytes([]byte{1, 2, 0xff})},
		{decl: "bytea", expr: "''", want: pipeline.Bytes(nil)},
		{decl: "bit(7)", expr: "B'1000000'", want: pipeline.Bytes([]byte{0x40})},
		{decl: "bit(7)", expr: "B'0000000'", want: pipeline.Bytes(nil)},
		{decl: "bit(1)", expr: "B'1'", want: pipeline.Bool(true)},
		{decl: "bit varying", expr: "B'101'", want: pipeline.Bytes([]byte{0x05})},
		{decl: "bit varying(1)", expr: "B'0'", want: pipeline.Bool(false)},
		{decl: "hstore", expr: `'"key4"=>"val4", "key5"=>NULL'`, want: str(`{"key5":null,"key4":"val4"}`)},
		{decl: "hstore", expr: `hstore('a"b', E'c\\d')`, want: str(`{"a\"b":"c\\d"}`)},
		{decl: "hstore", expr: "''", want: str("{}")},
		{decl: "point", expr: "'(1.5,-2)'", want: pointValue(1.5, -2)},
		{decl: "integer[]", expr: "'{1,NULL,-3}'", want: vals(num(1), pipeline.Null, num(-3))},
		{decl: "integer[]", expr: "'[0:1]={7,8}'", want: vals(num(7), num(8))},
		{decl: "integer[]", expr: "'{}'", want: vals()},
		{decl: "integer[]", expr: "'{{1,2},{3,4}}'", err: "multi-dimensional"},
		{decl: "text[]", expr: `ARRAY['a', 'b c', NULL, 'NULL', 'with "quote"', E'back\\slash', '', '{x}']`,
			want: vals(str("a"), str("b c"), pipeline.Null, str("NULL"), str(`with "quote"`), str(`back\slash`), str(""), str("{x}"))},
		{decl: "character(3)[]", expr: "'{a,NULL}'", want: vals(str("a  "), pipeline.Null)},
		{decl: "numeric(5,2)[]", expr: "'{1.5,NULL}'", want: vals(pipeline.Bytes([]byte{0x00, 0x96}), pipeline.Null)},
		{decl: "numeric[]", expr: "'{1.500,-2}'", want: vals(vsd(1, "0f"), vsd(0, "fe"))},
		{decl: "date[]", expr: "'{1970-01-02,infinity}'", want: vals(num(1), num(-2147472692))},
		{decl: "bytea[]", expr: `ARRAY['\x0102'::bytea, NULL]`, want: vals(pipeline.Bytes([]byte{1, 2}), pipeline.Null)},
		{decl: "uuid[]", expr: "'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'", want: vals(str("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))},
		{decl: "mood[]", expr: "'{sad,happy}'", want: vals(str("sad"), str("happy"))},
		{decl: "hstore[]", expr: `ARRAY['"key6"=>"val6"'::hstore]`, want: vals(str(`{"key6":"val6"}`))},
		{decl: "timestamp with time zone[]", expr: "ARRAY['2020-01-01 02:00:00+02'::timestamptz]", want: vals(str("2020-01-01T00:00:00.000000Z"))},
		{decl: "time(3)[]", expr: "'{12:00:00.5}'", want: vals(num(43200500))},
		{decl: "jsonb[]", expr: `ARRAY['{"a":1}'::jsonb]`, want: vals(str(`{"a": 1}`))},
		{decl: "boolean[]", expr: "'{t,f}'", want: vals(pipeline.Bool(true), pipeline.Bool(false))},
		{decl: "double precision[]", expr: "'{NaN,1.5}'", want: vals(pipeline.Float64(math.NaN()), pipeline.Float64(1.5))},
		{decl: "int4range[]", expr: "ARRAY['[1,2)'::int4range, 'empty']", want: vals(str("[1,2)"), str("empty"))},
		{decl: "citext[]", expr: "'{A,b}'", want: vals(str("A"), str("b"))},
	}
}

// pgDefaultCases: column defaults as PostgreSQL stores them, converted.
var pgDefaultCases = []struct {
	decl, def string
	want      pipeline.Value // KindNull: no default
}{
	{"serial", "", num(0)},
	{"bigint", "nextval('seq')", num(0)},
	{"integer", "-42", num(-42)},
	{"smallint", "7", num(7)},
	{"boolean", "true", pipeline.Bool(true)},
	{"character varying(10)", "'abc'", str("abc")},
	{"text", "'it''s'", str("it")},
	{"numeric(6,2)", "-1.5", pipeline.Bytes(int64Bytes(-150))},
	{"numeric", "1.5", pipeline.Null},
	{"double precision", "'NaN'", pipeline.Float64(math.NaN())},
	{"real", "0.25", pipeline.Float32(0.25)},
	{"uuid", "gen_random_uuid()", str("00000000-0000-0000-0000-000000000000")},
	{"date", "'2020-01-01'", num(18262)},
	{"date", "CURRENT_DATE", pipeline.Null},
	{"time(3)", "'10:00:00.5'", num(36000500)},
	{"timestamp", "'2020-01-01 10:00:00'", num(1577872800000000)},
	{"timestamp with time zone", "now()", str("1970-01-01T00:00:00.000000Z")},
	{"timestamp(3) with time zone", "'2020-01-01 12:00:00+02'", str("2020-01-01T10:00:00.000Z")},
	{"timestamp with time zone", "CURRENT_TIMESTAMP", pipeline.Null},
	{"interval", "'1 day 2 hours'", num(93600000000)},
	{"bit(1)", "B'1'", pipeline.Bool(true)},
	{"bit(7)", "B'1000000'", pipeline.Bytes([]byte{0x40})},
	{"jsonb", `'{"a": 1}'`, str(`{"a": 1}`)},
	{"money", "1", pipeline.Null},
	{"integer[]", "'{1}'", pipeline.Null},
	{"mood", "'ok'", pipeline.Null},
}

// Against a real PostgreSQL 15: PostgreSQL's own text output of edge values
// of every type (with the source's session settings) decodes to the
// expected values, and column defaults as pg_get_expr prints them convert
// as expected. Column types come from the catalogs the way the source
// resolves them.
func TestDecodePostgresOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL server")
	}
	p := harness.NewPostgres(t, harness.PostgresOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := p.NewDatabase(ctx, t.Name())
	if err != nil {
		t.Fatal(err)
	}
	cases := pgCases(t)
	var cols, exprs []string
	for i, c := range cases {
		cols = append(cols, "c"+strconv.Itoa(i)+" "+c.decl)
		exprs = append(exprs, c.expr)
	}
	var dcols []string
	for i, c := range pgDefaultCases {
		col := "d" + strconv.Itoa(i) + " " + c.decl + " NOT NULL"
		if c.def != "" {
			col += " DEFAULT " + c.def
		}
		dcols = append(dcols, col)
	}
	if err := p.Exec(ctx, db,
		"CREATE EXTENSION hstore", "CREATE EXTENSION citext", "CREATE EXTENSION ltree",
		"CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
		"CREATE DOMAIN price AS numeric(8,2)",
		"CREATE SEQUENCE seq",
		"CREATE TABLE v ("+strings.Join(cols, ", ")+")",
		"INSERT INTO v VALUES ("+strings.Join(exprs, ", ")+")",
		"CREATE TABLE d ("+strings.Join(dcols, ", ")+")",
	); err != nil {
		t.Fatal(err)
	}
	rows, err := p.Query(ctx, db, sessionSettings+"SELECT * FROM v")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0]) != len(cases) {
		t.Fatalf("got %d rows", len(rows))
	}
	catalog := &pgCatalog{t: t, ctx: ctx, p: p, db: db, types: map[uint32]*Type{}}
	columns := catalog.columns("v")
	for i, tc := range cases {
		c := columns[i]
		text := rows[0][i]
		if _, err := c.Schema(Options{}); err != nil {
			t.Errorf("%s: Schema: %v", tc.decl, err)
			continue
		}
		dec, err := c.Decoder(Options{})
		if err != nil {
			t.Errorf("%s: Decoder: %v", tc.decl, err)
			continue
		}
		got, err := dec([]byte(text))
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %s: PostgreSQL printed %q, decoded to %s, %v; want an error containing %q", tc.decl, tc.expr, text, describe(got), err, tc.err)
			}
		case err != nil:
			t.Errorf("%s %s: PostgreSQL printed %q: %v", tc.decl, tc.expr, text, err)
		case !got.Equal(tc.want):
			t.Errorf("%s %s: PostgreSQL printed %q, decoded to %s, want %s", tc.decl, tc.expr, text, describe(got), describe(tc.want))
		}
	}

	for i, c := range catalog.columns("d") {
		tc := pgDefaultCases[i]
		s, err := c.Schema(Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.decl, err)
			continue
		}
		def := "<none>"
		if c.Default != nil {
			def = *c.Default
		}
		switch {
		case tc.want.IsNull() && s.Default != nil:
			t.Errorf("%s DEFAULT %s (stored as %s): default %s, want none", tc.decl, tc.def, def, describe(*s.Default))
		case !tc.want.IsNull() && (s.Default == nil || !s.Default.Equal(tc.want)):
			got := "none"
			if s.Default != nil {
				got = describe(*s.Default)
			}
			t.Errorf("%s DEFAULT %s (stored as %s): default %s, want %s", tc.decl, tc.def, def, got, describe(tc.want))
		}
	}
}

// pgCatalog resolves columns and types from pg_catalog as the PostgreSQL
// source does: built-ins with Lookup, the rest from pg_type.
type pgCatalog struct {
	t     *testing.T
	ctx   context.Context
	p     *harness.Postgres
	db    string
	types map[uint32]*Type
}

func (c *pgCatalog) query(q string) [][]string {
	c.t.Helper()
	rows, err := c.p.Query(c.ctx, c.db, sessionSettings+q)
	if err != nil {
		c.t.Fatal(err)
	}
	return rows
}

func (c *pgCatalog) columns(table string) []Column {
	c.t.Helper()
	rows := c.query(`SELECT a.attname, a.atttypid, a.atttypmod, NOT a.attnotnull, d.adbin IS NOT NULL, coalesce(pg_get_expr(d.adbin, d.adrelid), '')
		FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		WHERE a.attrelid = '` + table + `'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`)
	var cols []Column
	for _, r := range rows {
		col := Column{Name: r[0], Type: c.typ(parseUint32(c.t, r[1])), TypMod: int32(parseUint32(c.t, r[2])), Nullable: r[3] == "t"}
		if r[4] == "t" {
			def := r[5]
			col.Default = &def
		}
		cols = append(cols, col)
	}
	return cols
}

func (c *pgCatalog) typ(oid uint32) *Type {
	c.t.Helper()
	if t, ok := Lookup(oid); ok {
		return t
	}
	if t, ok := c.types[oid]; ok {
		return t
	}
	r := c.query(`SELECT t.typname, n.nspname, t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typtypmod
		FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.oid = ` + strconv.FormatUint(uint64(oid), 10))[0]
	t := &Type{OID: oid, Name: r[0], Namespace: r[1], Kind: r[2][0], BaseTypMod: int32(parseUint32(c.t, r[6]))}
	c.types[oid] = t
	switch {
	case t.Kind == 'e':
		for _, l := range c.query(`SELECT enumlabel FROM pg_enum WHERE enumtypid = ` + strconv.FormatUint(uint64(oid), 10) + ` ORDER BY enumsortorder`) {
			t.EnumValues = append(t.EnumValues, l[0])
		}
	case t.Kind == 'd':
		t.Base = c.typ(parseUint32(c.t, r[5]))
	case r[3] == "A":
		t.Elem = c.typ(parseUint32(c.t, r[4]))
	}
	return t
}

// parseUint32 reads an oid, or a typmod as its 32 bits.
func parseUint32(t *testing.T, s string) uint32 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(v)
}
