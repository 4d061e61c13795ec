package coltype

import (
	"math"
	"testing"
	"unsafe"
)

func TestJavaJSONDouble(t *testing.T) {
	// Expected strings are what Java's Double.toString (JDK 19+) prints, or,
	// where that has an exponent, new BigDecimal(d).toPlainString().
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{-1.5, "-1.5"},
		{0.1, "0.1"},
		{0.001, "0.001"},
		{123456.7, "123456.7"},
		{1234567.5, "1234567.5"},
		{9999999.999, "9999999.999"},
		{1e7, "10000000"},
		{12345678.5, "12345678.5"},
		{1e21, "1000000000000000000000"},
		{1e23, "99999999999999991611392"},
		{1e-4, "0.000100000000000000004792173602385929598312941379845142364501953125"},
		{1.5e-5, "0.000015000000000000000380012861456169304119612206704914569854736328125"},
		{math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		if got := javaJSONDouble(tt.in); got != tt.want {
			t.Errorf("javaJSONDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDebeziumJSON(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"compact object unchanged", `{"a":1,"b":[true,false,null],"c":"x"}`, `{"a":1,"b":[true,false,null],"c":"x"}`},
		{"integers unchanged", `[-1,0,18446744073709551615]`, `[-1,0,18446744073709551615]`},
		{"decimals unchanged", `[12.50,-0.10,100]`, `[12.50,-0.10,100]`},
		{"whole doubles below 1e7 unchanged", `[1.0,-0.0,9999999.0]`, `[1.0,-0.0,9999999.0]`},
		{"whole doubles from 1e7 lose .0", `[10000000.0,-123456789.0]`, `[10000000,-123456789]`},
		{"exponent forms expanded", `[1e+21,1.2345675e+06,-2.5e-07]`, `[1000000000000000000000,1234567.5,-0.00000024999999999999998868702795647156467140348468092270195484161376953125]`},
		{"small plain double expanded", `[0.0005]`, `[0.0005000000000000000104083408558608425664715468883514404296875]`},
		{"small decimal with trailing zero kept", `[0.00050]`, `[0.00050]`},
		{"html escapes undone", `"\u003ca\u003e\u0026"`, `"<a>&"`},
		{"line separators raw", `"\u2028\u2029"`, "\"\u2028\u2029\""},
		{"control escapes upper case", `"\u001f\u0000"`, `"\u001F\u0000"`},
		{"java control escapes kept", `"\u001F\b\t\n\f\r\"\\"`, `"\u001F\b\t\n\f\r\"\\"`},
		{"escaped slash", `"a\/b"`, `"a/b"`},
		{"surrogate pair", `"\ud83d\ude00"`, `"😀"`},
		{"lone surrogate", `"\ud83d"`, "\"\ufffd\""},
		{"invalid utf-8 replaced", "\"a\xffb\"", "\"a\ufffdb\""},
		{"keys rewritten too", `{"\u003c":1.5e-05}`, `{"<":0.000015000000000000000380012861456169304119612206704914569854736328125}`},
		{"scalar string", `"x"`, `"x"`},
		{"scalar null", `null`, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := debeziumJSON(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("debeziumJSON(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
	if _, err := debeziumJSON(`"unterminated`); err == nil {
		t.Error("unterminated string accepted")
	}
}

func TestDebeziumJSONNoCopyWhenUnchanged(t *testing.T) {
	in := `{"a":[1,2.5,"x"]}`
	out, err := debeziumJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	if unsafe.StringData(out) != unsafe.StringData(in) {
		t.Error("unchanged JSON was copied")
	}
	allocs := testing.AllocsPerRun(100, func() { _, _ = debeziumJSON(in) })
	if allocs != 0 {
		t.Errorf("%v allocations for unchanged JSON", allocs)
	}
}
