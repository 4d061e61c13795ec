package verify

import (
	"math"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// TestCanonAgrees checks that a source value and the text each target
// reads back for it have one canonical form, and that a changed target
// value has another.
func TestCanonAgrees(t *testing.T) {
	col := func(k sqlapply.Kind, mod ...func(*sqlapply.Column)) sqlapply.Column {
		c := sqlapply.Column{Name: "c", Kind: k}
		for _, m := range mod {
			m(&c)
		}
		return c
	}
	unit := func(u sqlapply.Unit) func(*sqlapply.Column) { return func(c *sqlapply.Column) { c.Unit = u } }
	scale := func(s int) func(*sqlapply.Column) { return func(c *sqlapply.Column) { c.Scale = s } }
	length := func(n int64) func(*sqlapply.Column) { return func(c *sqlapply.Column) { c.Length = n } }
	tests := []struct {
		name   string
		col    sqlapply.Column
		value  pipeline.Value
		family typeFamily
		same   []string // target texts equal to value
		differ []string // target texts that are not
	}{
		{"bool pg", col(sqlapply.KindBool), pipeline.Bool(true), famBool, []string{"t", "true", "1"}, []string{"f", "0"}},
		{"int", col(sqlapply.KindInt32), pipeline.Int(-42), famNumber, []string{"-42", "-042"}, []string{"42", "-41"}},
		{"uint64", col(sqlapply.KindUint64), pipeline.Int(-1), famNumber, []string{"18446744073709551615"}, []string{"-1"}},
		{"float32 from double", col(sqlapply.KindFloat32), pipeline.Float32(1.1), famFloat, []string{"1.100000023841858", "1.1"}, []string{"1.2"}},
		{"float64", col(sqlapply.KindFloat64), pipeline.Float64(1e20), famNumber, []string{"1e+20", "1e20", "100000000000000000000"}, []string{"1e19"}},
		{"float64 nan", col(sqlapply.KindFloat64), pipeline.Float64(math.NaN()), famNumber, []string{"NaN"}, []string{"0"}},
		{"decimal", col(sqlapply.KindDecimal, scale(4)), pipeline.Bytes([]byte{0xfe, 0x1d, 0xc0}), famNumber, // -123456 / 10^4
			[]string{"-12.3456", "-12.34560"}, []string{"12.3456", "-12.3455"}},
		{"decimal zero", col(sqlapply.KindDecimal, scale(2)), pipeline.Bytes(nil), famNumber, []string{"0.00", "0", "-0.00"}, []string{"0.01"}},
		{"string", col(sqlapply.KindString), pipeline.String("héllo 🎉"), famText, []string{"héllo 🎉"}, []string{"hello 🎉", "héllo 🎉 "}},
		{"uuid", col(sqlapply.KindUUID), pipeline.String("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"), famText,
			[]string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}, []string{"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12"}},
		{"bytes", col(sqlapply.KindBytes), pipeline.Bytes([]byte{0xde, 0xad, 0x00}), famBytes, []string{"DEAD00", "dead00"}, []string{"dead", "dead0000"}},
		{"json", col(sqlapply.KindJSON), pipeline.String(`{"b": [1, 2.50, "x"], "a": {"n": null, "t": true}}`), famJSON,
			[]string{`{"a": {"t": true, "n": null}, "b": [1, 2.5, "x"]}`, `{"a":{"n":null,"t":true},"b":[1.0,2.5,"x"]}`},
			[]string{`{"a": {"n": null, "t": true}, "b": [1, 2.5]}`, `{"b": [2.5, 1, "x"], "a": {"n": null, "t": true}}`}},
		{"json big number", col(sqlapply.KindJSON), pipeline.String(`1e20`), famJSON, []string{`100000000000000000000`}, []string{`1e21`}},
		{"date", col(sqlapply.KindDate), pipeline.Int(19782), famDate, []string{"2024-02-29"}, []string{"2024-03-01"}},
		{"date bc", col(sqlapply.KindDate), pipeline.Int(-719163), famDate, []string{"0001-12-31 BC"}, []string{"0001-12-31"}},
		{"mysql time to pg interval", col(sqlapply.KindTime, unit(sqlapply.Micros)), pipeline.Int(-(838*3600 + 59*60 + 59) * 1_000_000), famEpoch,
			[]string{"-3020399.000000", "-3020399"}, []string{"3020399"}},
		{"mysql time to mysql", col(sqlapply.KindTime, unit(sqlapply.Micros)), pipeline.Int(45296789012), famTemporal,
			[]string{"12:34:56.789012"}, []string{"12:34:56.789011", "12:34:56"}},
		{"timestamp millis to pg", col(sqlapply.KindTimestamp, unit(sqlapply.Millis)), pipeline.Int(-877), famEpoch,
			[]string{"-0.877000", "-0.877"}, []string{"0.877"}},
		{"timestamp to mysql", col(sqlapply.KindTimestamp, unit(sqlapply.Micros)), pipeline.Int(1529476623000000), famTemporal,
			[]string{"2018-06-20 06:37:03", "2018-06-20 06:37:03.000000"}, []string{"2018-06-20 06:37:04"}},
		{"pg infinity", col(sqlapply.KindTimestamp, unit(sqlapply.Micros)), pipeline.Int(pgInfinity), famEpoch, []string{"Infinity"}, []string{"-Infinity"}},
		{"zoned timestamp", col(sqlapply.KindZonedTimestamp), pipeline.String("2023-01-11T00:34:10.01Z"), famEpoch,
			[]string{"1673397250.010000"}, []string{"1673397250.001000"}},
		{"zoned timestamp to mysql", col(sqlapply.KindZonedTimestamp), pipeline.String("2023-01-11T00:34:10.01Z"), famTemporal,
			[]string{"2023-01-11 00:34:10.010"}, []string{"2023-01-11 01:34:10.010"}},
		{"zoned time", col(sqlapply.KindZonedTime), pipeline.String("22:30:00Z"), famText, []string{"23:30:00+01", "22:30:00+00:00", "01:00:00+02:30"}, []string{"22:30:00+01"}},
		{"bits to pg", col(sqlapply.KindBits, length(10)), pipeline.Bytes([]byte{0x01, 0x02}), famBitString, []string{"1000000001"}, []string{"0000000001"}},
		{"bits to mysql", col(sqlapply.KindBits, length(10)), pipeline.Bytes([]byte{0x01, 0x02}), famBit, []string{"513"}, []string{"258"}},
		{"bits as bytes", col(sqlapply.KindBits, length(100)), pipeline.Bytes([]byte{0x01, 0x02}), famBytes, []string{"0102"}, []string{"0201"}},
		{"point wkb", col(sqlapply.KindPoint), pipeline.Struct(pipeline.Float64(1), pipeline.Float64(2), pipeline.Null, pipeline.Null), famBytes,
			[]string{strings.ToUpper("0101000000000000000000f03f0000000000000040")}, []string{"0101000000000000000000f03f0000000000000840"}},
		{"pg point", col(sqlapply.KindPoint), pipeline.Struct(pipeline.Float64(1.5), pipeline.Float64(-2), pipeline.Null, pipeline.Null), famPoint,
			[]string{"(1.5,-2)"}, []string{"(1.5,2)"}},
		{"duration to pg", col(sqlapply.KindDuration), pipeline.Int(90_061_000_001), famEpoch, []string{"90061.000001"}, []string{"90061"}},
		{"int array", col(sqlapply.KindArray, func(c *sqlapply.Column) { c.Elem = &sqlapply.Column{Kind: sqlapply.KindInt32} }),
			pipeline.Array(pipeline.Int(1), pipeline.Null, pipeline.Int(-1)), famText,
			[]string{"[1, null, -1]", "[1,null,-1]"}, []string{"[1, -1]", "[1, 0, -1]", `["1", null, "-2"]`}},
		{"text array", col(sqlapply.KindArray, func(c *sqlapply.Column) { c.Elem = &sqlapply.Column{Kind: sqlapply.KindString} }),
			pipeline.Array(pipeline.String(`a "q"`), pipeline.Null, pipeline.String("")), famJSON,
			[]string{`["a \"q\"", null, ""]`}, []string{`["a \"q\"", "null", ""]`, `["a \"q\"", null]`}},
		{"bool array", col(sqlapply.KindArray, func(c *sqlapply.Column) { c.Elem = &sqlapply.Column{Kind: sqlapply.KindBool} }),
			pipeline.Array(pipeline.Bool(true), pipeline.Bool(false)), famJSON, []string{`[true, false]`}, []string{`[true, true]`}},
		{"duration to mysql", col(sqlapply.KindDuration), pipeline.Int(90_061_000_001), famNumber, []string{"90061000001"}, []string{"90061"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := sourceCanon(&tt.col, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			tc := &targetColumn{family: tt.family}
			for _, s := range tt.same {
				got, err := targetCanon(&tt.col, tc, []byte(s))
				if err != nil || got != want {
					t.Errorf("target %q: canonical %q (%v), source's %q", s, got, err, want)
				}
			}
			for _, s := range tt.differ {
				if got, _ := targetCanon(&tt.col, tc, []byte(s)); got == want {
					t.Errorf("target %q has the source's canonical form %q", s, want)
				}
			}
			if got, _ := targetCanon(&tt.col, tc, nil); got == want {
				t.Errorf("NULL has the source's canonical form %q", want)
			}
		})
	}
}

// TestKeyParam checks that key arguments are what each engine parses back
// into the key value.
func TestKeyParam(t *testing.T) {
	tests := []struct {
		kind   sqlapply.Kind
		canon  string
		engine string
		family typeFamily
		want   any
	}{
		{sqlapply.KindInt32, "-5", engineMySQL, famNumber, int64(-5)},
		{sqlapply.KindUint64, "18446744073709551615", engineMySQL, famNumber, uint64(18446744073709551615)},
		{sqlapply.KindInt64, "-5", enginePostgres, famNumber, "-5"},
		{sqlapply.KindBytes, "00ff", engineMySQL, famBytes, []byte{0, 0xff}},
		{sqlapply.KindBytes, "00ff", enginePostgres, famBytes, `\x00ff`},
		{sqlapply.KindDate, "-719163", enginePostgres, famDate, "0001-12-31 BC"},
		{sqlapply.KindTimestamp, "1529476623000001", engineMySQL, famTemporal, "2018-06-20 06:37:03.000001"},
		{sqlapply.KindZonedTimestamp, "1529476623000000", enginePostgres, famEpoch, "2018-06-20 06:37:03+00"},
		{sqlapply.KindTimestamp, "infinity", enginePostgres, famEpoch, "infinity"},
		{sqlapply.KindTime, "-3020399000000", engineMySQL, famTemporal, "-838:59:59"},
		{sqlapply.KindDuration, "1000", enginePostgres, famNumber, "1000"},
		{sqlapply.KindBits, "513", enginePostgres, famBitString, "1000000001"},
		{sqlapply.KindString, "a'b", engineMySQL, famText, "a'b"},
	}
	for _, tt := range tests {
		c := sqlapply.Column{Name: "k", Kind: tt.kind, Unit: sqlapply.Micros, Length: 10}
		got, err := keyParam(&c, tt.canon, tt.engine, tt.family)
		if err != nil {
			t.Errorf("%s %s %q: %v", tt.engine, tt.kind, tt.canon, err)
			continue
		}
		if b, ok := got.([]byte); ok {
			got = string(b)
			if w, ok := tt.want.([]byte); ok {
				tt.want = string(w)
			}
		}
		if got != tt.want {
			t.Errorf("%s %s %q: %#v, want %#v", tt.engine, tt.kind, tt.canon, got, tt.want)
		}
	}
	c := sqlapply.Column{Name: "g", Kind: sqlapply.KindGeometry}
	if keyable(c.Kind) {
		t.Error("geometry keys are keyable")
	}
}

func TestNormDecimal(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "-0.000": "0", "+1.50": "1.5", "007": "7", ".5": "0.5", "-.50": "-0.5",
		"123": "123", "NaN": "NaN", "1e5": "1e5", "": "", "-": "-", "1.2.3": "1.2.3",
	} {
		if got := normDecimal(in); got != want {
			t.Errorf("normDecimal(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCanonParsers(f *testing.F) {
	for _, s := range []string{"-12.50", "1e20", `{"a":[1,2.5e3]}`, "838:59:59.5", "2024-02-29 12:00:00.123 BC", "12:00:00+05:30", "(1,2)", "Infinity"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := normDecimal(s)
		if normDecimal(n) != n {
			t.Errorf("normDecimal not idempotent on %q: %q, %q", s, n, normDecimal(n))
		}
		if j, err := normJSON(s); err == nil {
			if j2, err := normJSON(j); err != nil || j2 != j {
				t.Errorf("normJSON not idempotent on %q: %q, %q (%v)", s, j, j2, err)
			}
		}
		_ = epochMicros(s)
		_, _ = parseClock(s)
		_, _ = parseDateTime(s)
		_, _ = parseZonedTime(s)
		_, _, _ = parsePGPoint(s)
		for _, fam := range []typeFamily{famText, famEpoch, famNumber, famBitString, famBytes, famPoint, famTemporal} {
			for _, k := range []sqlapply.Kind{sqlapply.KindBool, sqlapply.KindFloat32, sqlapply.KindJSON, sqlapply.KindDate,
				sqlapply.KindTimestamp, sqlapply.KindZonedTime, sqlapply.KindBits, sqlapply.KindPoint} {
				c := sqlapply.Column{Kind: k, Unit: sqlapply.Micros}
				_, _ = targetCanon(&c, &targetColumn{family: fam}, []byte(s))
			}
		}
	})
}

func TestTargetName(t *testing.T) {
	tbl := pipeline.NewTable(pipeline.TableID{Database: "shop", Name: "orders"}, "x.shop.orders", nil, nil)
	tg := &Target{namespace: "public"}
	for _, tt := range []struct {
		tables map[string]string
		want   string
	}{
		{nil, "public.orders"},
		{map[string]string{"shop.orders": "sales.orders2"}, "sales.orders2"},
		{map[string]string{"shop.orders": "orders2"}, "public.orders2"},
		{map[string]string{"shop.other": "x.y"}, "public.orders"},
	} {
		got, err := tg.targetName(tbl, Options{Tables: tt.tables})
		if err != nil || got.String() != tt.want {
			t.Errorf("tables %v: %v (%v), want %s", tt.tables, got, err, tt.want)
		}
	}
}
