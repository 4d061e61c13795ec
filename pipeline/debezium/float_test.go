package debezium

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestAppendFloat64(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{100, "100.0"},
		{-2.5, "-2.5"},
		{1e7, "1.0E7"},
		{9999999, "9999999.0"},
		{12345678, "1.2345678E7"},
		{1e-3, "0.001"},
		{1e-4, "1.0E-4"},
		{0.1, "0.1"},
		{0.30000000000000004, "0.30000000000000004"},
		{123456.789, "123456.789"},
		{1.7976931348623157e308, "1.7976931348623157E308"},
		{4.9e-324, "4.9E-324"},
		{1.5e-323, "1.5E-323"},
		{2.2250738585072014e-308, "2.2250738585072014E-308"},
		{1e21, "1.0E21"},
		{1e23, "1.0E23"},
		{2.82879384806159e17, "2.82879384806159E17"}, // JDK ≤ 18 printed 2.82879384806159008E17
		{9.007199254740993e15, "9.007199254740992E15"},
		{1125899906842624.25, "1.1258999068426242E15"}, // exact tie: Java keeps the even digit
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{math.NaN(), `"NaN"`},
		{math.Inf(1), `"Infinity"`},
		{math.Inf(-1), `"-Infinity"`},
	}
	for _, tt := range tests {
		if got := string(AppendFloat64(nil, tt.in)); got != tt.want {
			t.Errorf("AppendFloat64(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendFloat32(t *testing.T) {
	tests := []struct {
		in   float32
		want string
	}{
		{99.99, "99.99"},
		{0.1, "0.1"},
		{1, "1.0"},
		{1e10, "1.0E10"},
		{3.4028235e38, "3.4028235E38"},
		{1.4e-45, "1.4E-45"},
		{1.17549435e-38, "1.1754944E-38"},
		{1e7, "1.0E7"},
		{9999999, "9999999.0"},
		{16777216, "1.6777216E7"},
		{0.001, "0.001"},
		{1e-4, "1.0E-4"},
		{2.4414062e-4, "2.4414062E-4"}, // 2^-12: exact tie, Java keeps the even digit
		{float32(math.Copysign(0, -1)), "-0.0"},
		{float32(math.NaN()), `"NaN"`},
		{float32(math.Inf(-1)), `"-Infinity"`},
	}
	for _, tt := range tests {
		if got := string(AppendFloat32(nil, tt.in)); got != tt.want {
			t.Errorf("AppendFloat32(%v) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestJavaToStringVectors checks outputs recorded from Java 25's
// Double.toString and Float.toString (testdata/java_tostring.txt).
func TestJavaToStringVectors(t *testing.T) {
	f, err := os.Open("testdata/java_tostring.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	checked := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("bad vector line %q", line)
		}
		raw, err := strconv.ParseUint(fields[1], 16, 64)
		if err != nil {
			t.Fatalf("bad vector line %q: %v", line, err)
		}
		var got string
		switch fields[0] {
		case "d":
			got = string(AppendFloat64(nil, math.Float64frombits(raw)))
		case "f":
			got = string(AppendFloat32(nil, math.Float32frombits(uint32(raw))))
		default:
			t.Fatalf("bad vector kind in %q", line)
		}
		if got != fields[2] {
			t.Errorf("%s %s: got %s, Java printed %s", fields[0], fields[1], got, fields[2])
		}
		checked++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if checked < 4000 {
		t.Fatalf("only %d vectors checked", checked)
	}
}

func FuzzAppendFloat64(f *testing.F) {
	for _, v := range []float64{0, 1, 1e7, 1e-3, 4.9e-324, 1.7976931348623157e308, 123456.789, 1125899906842624.25} {
		f.Add(math.Float64bits(v))
	}
	f.Fuzz(func(t *testing.T, raw uint64) {
		v := math.Float64frombits(raw)
		out := string(AppendFloat64(nil, v))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if out[0] != '"' {
				t.Fatalf("AppendFloat64(%v) = %s, want a quoted string", v, out)
			}
			return
		}
		back, err := strconv.ParseFloat(out, 64)
		if err != nil || math.Float64bits(back) != raw {
			t.Fatalf("AppendFloat64(%x) = %s parses back to %v (%v)", raw, out, back, err)
		}
		checkJavaShape(t, out)
	})
}

func FuzzAppendFloat32(f *testing.F) {
	for _, v := range []float32{0, 1, 99.99, 1e7, 1.4e-45, 3.4028235e38, 2.4414062e-4} {
		f.Add(math.Float32bits(v))
	}
	f.Fuzz(func(t *testing.T, raw uint32) {
		v := math.Float32frombits(raw)
		out := string(AppendFloat32(nil, v))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return
		}
		back, err := strconv.ParseFloat(out, 32)
		if err != nil || math.Float32bits(float32(back)) != raw {
			t.Fatalf("AppendFloat32(%x) = %s parses back to %v (%v)", raw, out, back, err)
		}
		checkJavaShape(t, out)
	})
}

// checkJavaShape asserts the layout of Java's toString: a '.' with a digit
// on both sides, scientific form exactly outside [1e-3, 1e7).
func checkJavaShape(t *testing.T, out string) {
	t.Helper()
	mant, exp, sci := strings.Cut(strings.TrimPrefix(out, "-"), "E")
	whole, frac, ok := strings.Cut(mant, ".")
	if !ok || whole == "" || frac == "" {
		t.Fatalf("%s: want digits on both sides of '.'", out)
	}
	v, _ := strconv.ParseFloat(strings.TrimPrefix(out, "-"), 64)
	plain := v == 0 || (v >= 1e-3 && v < 1e7)
	if sci == plain {
		t.Fatalf("%s: scientific=%v for magnitude %v", out, sci, v)
	}
	if sci && (len(whole) != 1 || whole == "0" || exp == "" || exp[0] == '+') {
		t.Fatalf("%s: malformed scientific notation", out)
	}
}

func TestFloatFormattingDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 64)
	for _, v := range []float64{1, 100, 1e7, 0.8734, 123456.789, -2.5e-8, 1.7976931348623157e308} {
		if n := testing.AllocsPerRun(20, func() { buf = AppendFloat64(buf[:0], v) }); n != 0 {
			t.Errorf("AppendFloat64(%v): %v allocations", v, n)
		}
	}
	for _, v := range []float32{1, 99.99, 1e10, 0.1} {
		if n := testing.AllocsPerRun(20, func() { buf = AppendFloat32(buf[:0], v) }); n != 0 {
			t.Errorf("AppendFloat32(%v): %v allocations", v, n)
		}
	}
}
