package postgres

import (
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

func TestEncoders(t *testing.T) {
	tests := []struct {
		name   string
		col    sqlapply.Column
		target string
		v      pipeline.Value
		want   string
		err    bool
	}{
		{"bool", sqlapply.Column{Kind: sqlapply.KindBool}, "boolean", pipeline.Bool(true), "t", false},
		{"bool to smallint", sqlapply.Column{Kind: sqlapply.KindBool}, "smallint", pipeline.Bool(true), "1", false},
		{"uint64", sqlapply.Column{Kind: sqlapply.KindUint64}, "numeric(20,0)", pipeline.Int(-1), "18446744073709551615", false},
		{"float NaN", sqlapply.Column{Kind: sqlapply.KindFloat64}, "double precision", pipeline.Float64(nan()), "NaN", false},
		{"float32", sqlapply.Column{Kind: sqlapply.KindFloat32}, "real", pipeline.Float32(1.1), "1.1", false},
		{"decimal", sqlapply.Column{Kind: sqlapply.KindDecimal, Scale: 2}, "numeric(10,2)", pipeline.Bytes([]byte{0xcf, 0xc7}), "-123.45", false},
		{"variable decimal", sqlapply.Column{Kind: sqlapply.KindVarDecimal}, "numeric",
			pipeline.Struct(pipeline.Int(3), pipeline.Bytes([]byte{0x30, 0x39})), "12.345", false},
		{"bytea", sqlapply.Column{Kind: sqlapply.KindBytes}, "bytea", pipeline.Bytes([]byte{0, 0xff}), `\x00ff`, false},
		{"date BC", sqlapply.Column{Kind: sqlapply.KindDate}, "date", pipeline.Int(-719163), "0001-12-31 BC", false},
		{"time micros", sqlapply.Column{Kind: sqlapply.KindTime, Unit: sqlapply.Micros}, "time without time zone", pipeline.Int(1), "00:00:00.000001", false},
		{"mysql time to interval", sqlapply.Column{Kind: sqlapply.KindTime, Unit: sqlapply.Micros}, "interval", pipeline.Int(-3020399000000), "-838:59:59", false},
		{"timestamp infinity", sqlapply.Column{Kind: sqlapply.KindTimestamp, Unit: sqlapply.Micros}, "timestamp without time zone", pipeline.Int(pgInfinity), "infinity", false},
		{"timestamp millis", sqlapply.Column{Kind: sqlapply.KindTimestamp, Unit: sqlapply.Millis}, "timestamp(3) without time zone", pipeline.Int(-1), "1969-12-31 23:59:59.999000", false},
		{"bit(7) zero", sqlapply.Column{Kind: sqlapply.KindBits, Length: 7}, "bit(7)", pipeline.Bytes(nil), "0000000", false},
		{"bit(10)", sqlapply.Column{Kind: sqlapply.KindBits, Length: 10}, "bit(10)", pipeline.Bytes([]byte{0x01, 0x02}), "1000000001", false},
		{"varbit", sqlapply.Column{Kind: sqlapply.KindBits}, "bit varying(16)", pipeline.Bytes([]byte{0x05}), "00000101", false},
		{"bits to bigint", sqlapply.Column{Kind: sqlapply.KindBits, Length: 64}, "numeric(20,0)", pipeline.Bytes([]byte{0x01, 0x01}), "257", false},
		{"point", sqlapply.Column{Kind: sqlapply.KindPoint}, "point",
			pipeline.Struct(pipeline.Float64(1.5), pipeline.Float64(-2), pipeline.Null, pipeline.Null), "(1.5,-2)", false},
		{"geometry to bytea", sqlapply.Column{Kind: sqlapply.KindGeometry}, "bytea",
			pipeline.Struct(pipeline.Bytes([]byte{1, 2}), pipeline.Null), `\x0102`, false},
		{"duration", sqlapply.Column{Kind: sqlapply.KindDuration}, "interval", pipeline.Int(1500000), "1500000 microseconds", false},
		{"text with NUL", sqlapply.Column{Kind: sqlapply.KindString}, "text", pipeline.String("a\x00b"), "", true},
		{"json", sqlapply.Column{Kind: sqlapply.KindJSON}, "jsonb", pipeline.String(`{"a":1}`), `{"a":1}`, false},
		{"int array", sqlapply.Column{Kind: sqlapply.KindArray, Elem: &sqlapply.Column{Kind: sqlapply.KindInt32}}, "integer[]",
			pipeline.Array(pipeline.Int(1), pipeline.Null, pipeline.Int(-3)), `{"1",NULL,"-3"}`, false},
		{"text array quoting", sqlapply.Column{Kind: sqlapply.KindArray, Elem: &sqlapply.Column{Kind: sqlapply.KindString}}, "text[]",
			pipeline.Array(pipeline.String(`a "q" \`), pipeline.String("NULL")), `{"a \"q\" \\","NULL"}`, false},
		{"array to scalar", sqlapply.Column{Kind: sqlapply.KindArray, Elem: &sqlapply.Column{Kind: sqlapply.KindInt32}}, "integer",
			pipeline.Array(), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := encoderFor(&tt.col, tt.target)
			if err == nil {
				var b []byte
				b, err = enc(nil, tt.v)
				if err == nil && string(b) != tt.want {
					t.Fatalf("got %q, want %q", b, tt.want)
				}
			}
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error: %v", err, tt.err)
			}
		})
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestColumnTypes(t *testing.T) {
	tests := []struct {
		col  sqlapply.Column
		want string
	}{
		{sqlapply.Column{Kind: sqlapply.KindString, Length: 20, Connector: "mysql", Source: pipeline.Column{Native: pipeline.NativeType{Name: "varchar"}}}, "character varying(20)"},
		{sqlapply.Column{Kind: sqlapply.KindString, Connector: "mysql", Source: pipeline.Column{Native: pipeline.NativeType{Name: "longtext"}}}, "text"},
		{sqlapply.Column{Kind: sqlapply.KindTime, Connector: "mariadb", Precision: 6}, "interval"},
		{sqlapply.Column{Kind: sqlapply.KindTime, Connector: "postgresql", Precision: 3}, "time(3) without time zone"},
		{sqlapply.Column{Kind: sqlapply.KindTimestamp, Connector: "mysql", Precision: 0}, "timestamp(0) without time zone"},
		{sqlapply.Column{Kind: sqlapply.KindZonedTimestamp, Connector: "mysql", Precision: -1}, "timestamp with time zone"},
		{sqlapply.Column{Kind: sqlapply.KindDecimal, Precision: 65, Scale: 30}, "numeric(65,30)"},
		{sqlapply.Column{Kind: sqlapply.KindUint64}, "numeric(20,0)"},
		{sqlapply.Column{Kind: sqlapply.KindBits, Length: 64}, "bit(64)"},
		{sqlapply.Column{Kind: sqlapply.KindArray, Elem: &sqlapply.Column{Kind: sqlapply.KindInt64}}, "bigint[]"},
		{sqlapply.Column{Kind: sqlapply.KindString, Connector: "postgresql", Source: pipeline.Column{Native: pipeline.NativeType{Name: "varchar", Full: "character varying(20)"}}}, "character varying(20)"},
		{sqlapply.Column{Kind: sqlapply.KindEnum, Connector: "postgresql", Source: pipeline.Column{Native: pipeline.NativeType{Name: "mood", Full: "mood"}}}, "text"},
	}
	d := &dialect{}
	for _, tt := range tests {
		def, err := d.ColumnType(&tt.col)
		if err != nil || def.Type != tt.want {
			t.Errorf("%s from %s: %q, %v; want %q", tt.col.Kind, tt.col.Connector, def.Type, err, tt.want)
		}
	}
	if _, err := d.ColumnType(&sqlapply.Column{Kind: sqlapply.KindMap}); err == nil {
		t.Error("a map column has no PostgreSQL type")
	}
}

func TestCastAndBitWidths(t *testing.T) {
	casts := map[[2]string]string{
		{"varchar", "character varying(5)"}: "varchar", {"_bpchar", "character(3)[]"}: "bpchar[]",
		{"bit", "bit(7)"}: "varbit", {"numeric", "numeric(10,2)"}: "numeric(10,2)", {"int4", "integer"}: "integer",
	}
	for in, want := range casts {
		if got := castType(in[0], in[1]); got != want {
			t.Errorf("castType(%s, %s) = %s, want %s", in[0], in[1], got, want)
		}
	}
	widths := map[string][2]int64{"bit(7)": {7, 0}, "bit": {1, 0}, "bit varying(16)": {0, 16}, "bit varying": {0, 0}}
	for decl, want := range widths {
		if f, v := bitWidths(decl); f != want[0] || v != want[1] {
			t.Errorf("bitWidths(%s) = %d, %d; want %v", decl, f, v, want)
		}
	}
}

func TestStatements(t *testing.T) {
	intCol := func(name string, key bool) sqlapply.MappedColumn {
		return sqlapply.MappedColumn{Column: sqlapply.Column{Name: name, Key: key, Kind: sqlapply.KindInt32},
			Target: sqlapply.TargetColumn{Name: name, Type: "integer", Cast: "integer"}}
	}
	keyed := &sqlapply.Mapping{Target: sqlapply.Name{Namespace: "public", Table: "t"}, Columns: []sqlapply.MappedColumn{intCol("id", true), intCol("v", false)}, Key: []int{0}}
	keyless := &sqlapply.Mapping{Target: sqlapply.Name{Namespace: "s", Table: `we"ird`}, Columns: []sqlapply.MappedColumn{intCol("a", false)}}
	tests := []struct {
		run  sqlapply.Run
		want []string
	}{
		{sqlapply.Run{Kind: sqlapply.RunUpsert, Mapping: keyed}, []string{`INSERT INTO "public"."t" ("id", "v")`, `FROM unnest($1::text[], $2::text[])`, `ON CONFLICT ("id") DO UPDATE SET "v" = EXCLUDED."v"`}},
		{sqlapply.Run{Kind: sqlapply.RunDelete, Mapping: keyed}, []string{`DELETE FROM "public"."t" AS t USING unnest($1::text[])`, `t."id" = u.c1::integer`}},
		{sqlapply.Run{Kind: sqlapply.RunInsert, Mapping: keyless}, []string{`INSERT INTO "s"."we""ird" ("a")`}},
		{sqlapply.Run{Kind: sqlapply.RunDeleteRow, Mapping: keyless}, []string{`WHERE ctid = (SELECT ctid FROM "s"."we""ird" WHERE "a" IS NOT DISTINCT FROM $1::integer LIMIT 1)`}},
		{sqlapply.Run{Kind: sqlapply.RunUpdateRow, Mapping: keyless}, []string{`SET "a" = $2::integer`, `WHERE NOT EXISTS (SELECT 1 FROM u)`}},
		{sqlapply.Run{Kind: sqlapply.RunUpdateSome, Mapping: keyed, Present: []bool{true, false}}, []string{`UPDATE "public"."t" SET "id" = "id" WHERE "id" = $1::integer`}},
	}
	for _, tt := range tests {
		got := buildStatement(tt.run)
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("kind %d: %s\nlacks %s", tt.run.Kind, got, w)
			}
		}
	}
}

func TestAppendCopyText(t *testing.T) {
	tests := map[string]string{"plain": "plain", `\x00ff`: `\\x00ff`, "a\tb\nc\rd": `a\tb\nc\rd`, `{"a \"q\""}`: `{"a \\"q\\""}`}
	for in, want := range tests {
		if got := string(appendCopyText(nil, []byte(in))); got != want {
			t.Errorf("appendCopyText(%q) = %q, want %q", in, got, want)
		}
	}
}
