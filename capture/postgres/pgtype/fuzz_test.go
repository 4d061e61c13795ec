package pgtype

import (
	"math/big"
	"strconv"
	"strings"
	"testing"
)

func FuzzNumeric(f *testing.F) {
	for _, s := range []string{"12.34", "-0.50", "0", "0.000", "99999999.99", "-9223372036854775808", "1.500", "100", "-12345.678900",
		"123456789012345678901234567890.1234567890", ".5", "5.", "+1", "-", "", "1e5", "NaN", "00012.3400"} {
		f.Add(s, int16(2))
	}
	f.Fuzz(func(t *testing.T, s string, scale16 int16) {
		scale := int(scale16 % 40)
		want, isNum := new(big.Rat).SetString(s)
		isNum = isNum && strings.Trim(s, "+-0123456789.") == "" && strings.Count(s, ".") <= 1

		if b, err := fixedScaleBytes([]byte(s), scale); err == nil {
			if !isNum {
				t.Fatalf("%q accepted but is not a decimal", s)
			}
			checkMinimal(t, s, b)
			got := new(big.Rat).SetFrac(fromTwosComplement(b), big.NewInt(1))
			if scale >= 0 {
				got.Quo(got, new(big.Rat).SetInt(pow10(scale)))
			} else {
				got.Mul(got, new(big.Rat).SetInt(pow10(-scale)))
			}
			if got.Cmp(want) != 0 {
				t.Fatalf("%q at scale %d: bytes % x read back as %s", s, scale, b, got.FloatString(scale+1))
			}
		}

		if sc, b, err := variableScale([]byte(s)); err == nil {
			if !isNum {
				t.Fatalf("%q accepted but is not a decimal", s)
			}
			checkMinimal(t, s, b)
			unscaled := fromTwosComplement(b)
			if sc > 0 && new(big.Int).Rem(unscaled, big.NewInt(10)).Sign() == 0 {
				t.Fatalf("%q: scale %d keeps a trailing zero", s, sc)
			}
			got := new(big.Rat).SetFrac(unscaled, pow10(sc))
			if got.Cmp(want) != 0 {
				t.Fatalf("%q: {scale %d, % x} is %s", s, sc, b, got.FloatString(sc))
			}
		} else if isNum && s != "" && strings.Trim(s, "+-.") != "" {
			t.Fatalf("%q rejected: %v", s, err)
		}
	})
}

func checkMinimal(t *testing.T, s string, b []byte) {
	t.Helper()
	if len(b) == 0 {
		t.Fatalf("%q: no bytes", s)
	}
	if len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
		t.Fatalf("%q: % x is not minimal", s, b)
	}
}

// pgIntervalText prints an interval as PostgreSQL's EncodeInterval does
// with IntervalStyle=postgres.
func pgIntervalText(months, days int32, micros int64) string {
	var b strings.Builder
	before, zero := false, true
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !zero {
			b.WriteByte(' ')
		}
		if before && v > 0 {
			b.WriteByte('+')
		}
		b.WriteString(strconv.FormatInt(v, 10) + " " + unit)
		if v != 1 {
			b.WriteByte('s')
		}
		before, zero = v < 0, false
	}
	part(int64(months/12), "year")
	part(int64(months%12), "mon")
	part(int64(days), "day")
	if zero || micros != 0 {
		if !zero {
			b.WriteByte(' ')
		}
		u := uint64(micros)
		switch {
		case micros < 0:
			b.WriteByte('-')
			u = -u
		case before:
			b.WriteByte('+')
		}
		secs := u / microsPerSecond
		b.WriteString(pad2(secs/3600) + ":" + pad2(secs/60%60) + ":" + pad2(secs%60))
		if frac := u % microsPerSecond; frac != 0 {
			b.WriteString(strings.TrimRight("."+pad6(frac), "0"))
		}
	}
	return b.String()
}

func pad2(v uint64) string {
	s := strconv.FormatUint(v, 10)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

func pad6(v uint64) string {
	s := strconv.FormatUint(v, 10)
	return strings.Repeat("0", 6-len(s)) + s
}

func TestPgIntervalText(t *testing.T) {
	// The printer the fuzz target relies on matches PostgreSQL's output
	// (psql with IntervalStyle=postgres).
	cases := []struct {
		months, days int32
		micros       int64
		want         string
	}{
		{14, 3, 14706789000, "1 year 2 mons 3 days 04:05:06.789"},
		{-14, 3, -14706000000, "-1 years -2 mons +3 days -04:05:06"},
		{0, 0, -1000000, "-00:00:01"},
		{0, 0, 0, "00:00:00"},
		{0, 1, -1000000, "1 day -00:00:01"},
		{0, -1, 7380000000, "-1 days +02:03:00"},
		{0, 0, -500000, "-00:00:00.5"},
		{1, 0, 0, "1 mon"},
	}
	for _, tc := range cases {
		if got := pgIntervalText(tc.months, tc.days, tc.micros); got != tc.want {
			t.Errorf("pgIntervalText(%d, %d, %d) = %q, want %q", tc.months, tc.days, tc.micros, got, tc.want)
		}
	}
}

func FuzzInterval(f *testing.F) {
	f.Add(int32(14), int32(3), int64(14706789000), "")
	f.Add(int32(-14), int32(3), int64(-14706000000), "")
	f.Add(int32(0), int32(-2147483648), int64(-9223372036854775808), "")
	f.Add(int32(2147483647), int32(2147483647), int64(9223372036854775807), "")
	f.Add(int32(0), int32(0), int64(0), "1 day 04:0")
	f.Add(int32(0), int32(0), int64(0), "-:")
	f.Fuzz(func(t *testing.T, months, days int32, micros int64, raw string) {
		// Arbitrary text: no panic, and the result is deterministic.
		if iv, ok := parseInterval([]byte(raw)); ok {
			if iv2, _ := parseInterval([]byte(raw)); iv2 != iv || iv.micros() != iv2.micros() {
				t.Fatalf("%q parsed differently twice", raw)
			}
		}
		// PostgreSQL's output round-trips into the same months, days and
		// microseconds.
		text := pgIntervalText(months, days, micros)
		iv, ok := parseInterval([]byte(text))
		if !ok {
			t.Fatalf("%q rejected", text)
		}
		if got := iv.years*12 + iv.months; got != int64(months) {
			t.Fatalf("%q: %d months, want %d", text, got, months)
		}
		if iv.days != int64(days) {
			t.Fatalf("%q: %d days, want %d", text, iv.days, days)
		}
		gotMicros := (iv.hours*3600+iv.minutes*60+iv.wholeSeconds)*microsPerSecond + iv.microSeconds
		if gotMicros != micros {
			t.Fatalf("%q: %d µs, want %d", text, gotMicros, micros)
		}
		_ = iv.micros()
	})
}

// pgArrayText prints a one-dimensional text[] as array_out does.
func pgArrayText(elems []arrayElement) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		if e.null {
			b.WriteString("NULL")
			continue
		}
		s := string(e.text)
		if s == "" || strings.EqualFold(s, "NULL") || strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f") {
			b.WriteByte('"')
			for _, c := range []byte(s) {
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
			b.WriteByte('"')
			continue
		}
		b.WriteString(s)
	}
	b.WriteByte('}')
	return b.String()
}

func FuzzArray(f *testing.F) {
	f.Add("a\x00b c\x00\x01\x00NULL\x00with \"quote\"\x00back\\slash\x00\x00{}", `{1,"2",NULL}`)
	f.Add("", "{}")
	f.Add("x", `[0:1]={7,8}`)
	f.Add("é", `{{1,2},{3,4}}`)
	f.Add("\x01", `{"\\x0102",NULL,  a b  }`)
	f.Fuzz(func(t *testing.T, joined, raw string) {
		// Arbitrary text: no panic in the parser or the element decoders.
		if elems, err := parseArray([]byte(raw), nil); err == nil {
			for _, e := range elems {
				if e.null && e.text != nil {
					t.Fatalf("%q: a null element with text", raw)
				}
			}
		}
		for _, typ := range []*Type{arrayOf(builtinByName["int4"]), arrayOf(builtinByName["text"]), arrayOf(builtinByName["bytea"]),
			arrayOf(builtinByName["numeric"]), arrayOf(builtinByName["timestamptz"])} {
			dec, err := Column{Name: "a", Type: typ, TypMod: -1}.Decoder(Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = dec([]byte(raw))
		}

		// array_out's text of any element list parses back to it
		// (elements split at NUL; "\x01" is NULL).
		if strings.ContainsAny(joined, "\x00") || joined != "" {
			var want []arrayElement
			for _, s := range strings.Split(joined, "\x00") {
				if s == "\x01" {
					want = append(want, arrayElement{null: true})
				} else {
					want = append(want, arrayElement{text: []byte(s)})
				}
			}
			text := pgArrayText(want)
			got, err := parseArray([]byte(text), nil)
			if err != nil {
				t.Fatalf("%q: %v", text, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%q: %d elements, want %d", text, len(got), len(want))
			}
			for i := range got {
				if got[i].null != want[i].null || string(got[i].text) != string(want[i].text) {
					t.Fatalf("%q: element %d is %q (null %v), want %q (null %v)", text, i, got[i].text, got[i].null, want[i].text, want[i].null)
				}
			}
		}
	})
}

// FuzzDecoders feeds arbitrary text to every decoder: errors are fine,
// panics are not.
func FuzzDecoders(f *testing.F) {
	for _, s := range []string{"t", "-32768", "1.5", "NaN", "$1,234.56", "2020-01-01", "24:00:00", "10:00:00+05:30",
		"2020-01-01 00:00:00+00 BC", "1 year -00:00:01", `\x0102`, "101", `"a"=>"b", "c"=>NULL`, "(1,2)", "{1,NULL}", "infinity"} {
		f.Add(s)
	}
	var cols []Column
	for _, b := range builtins {
		for _, typmod := range []int32{-1, 1, 3, numTypmod(5, 2)} {
			cols = append(cols, Column{Name: b.name, Type: builtinByName[b.name], TypMod: typmod})
		}
	}
	cols = append(cols, Column{Name: "hs", Type: extension("hstore"), TypMod: -1})
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cols {
			dec, err := c.Decoder(Options{})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := dec([]byte(s)); err != nil && !v.IsNull() {
				t.Fatalf("%s: error %v with a value", c.Name, err)
			}
		}
	})
}
