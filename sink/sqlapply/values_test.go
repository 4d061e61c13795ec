package sqlapply

import (
	"errors"
	"math/big"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

// twos is Java's BigInteger.toByteArray of v: minimal big-endian two's complement.
func twos(v *big.Int) []byte {
	if v.Sign() >= 0 {
		b := v.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	n := (v.BitLen() + 8) / 8
	mod := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	b := new(big.Int).Add(mod, v).Bytes()
	for len(b) < n {
		b = append([]byte{0xff}, b...)
	}
	return b
}

func TestAppendDecimal(t *testing.T) {
	tests := []struct {
		unscaled string
		scale    int
		want     string
	}{
		{"0", 0, "0"}, {"0", 2, "0.00"}, {"1", 0, "1"}, {"-1", 0, "-1"}, {"5", 3, "0.005"}, {"-5", 3, "-0.005"},
		{"12345", 2, "123.45"}, {"-12345", 2, "-123.45"}, {"128", 0, "128"}, {"-128", 1, "-12.8"}, {"255", 0, "255"},
		{"9223372036854775807", 0, "9223372036854775807"}, {"-9223372036854775808", 0, "-9223372036854775808"},
		{"-9223372036854775809", 0, "-9223372036854775809"},
		{"-1234567890123456789012345678901234567890", 30, "-1234567890.123456789012345678901234567890"},
		{"99999999999999999999999999999999999999999999999999999999999999999", 30, "99999999999999999999999999999999999.999999999999999999999999999999"},
		{"7", -2, "700"},
	}
	for _, tt := range tests {
		v, _ := new(big.Int).SetString(tt.unscaled, 10)
		if got := string(AppendDecimal(nil, twos(v), tt.scale)); got != tt.want {
			t.Errorf("AppendDecimal(%s, %d) = %s, want %s", tt.unscaled, tt.scale, got, tt.want)
		}
	}
	if got := string(AppendDecimal(nil, nil, 1)); got != "0.0" {
		t.Errorf("empty bytes: %s", got)
	}
}

func FuzzAppendDecimal(f *testing.F) {
	f.Add([]byte{0x80}, 2)
	f.Add([]byte{0x00, 0xff}, 0)
	f.Add([]byte{0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07}, 5)
	f.Fuzz(func(t *testing.T, b []byte, scale int) {
		if len(b) == 0 || scale < 0 || scale > 60 {
			return
		}
		want := new(big.Int).SetBytes(b)
		if b[0]&0x80 != 0 {
			want.Sub(want, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		got, ok := new(big.Rat).SetString(string(AppendDecimal(nil, b, scale)))
		if !ok {
			t.Fatalf("not a number: %s", AppendDecimal(nil, b, scale))
		}
		exp := new(big.Rat).SetFrac(want, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
		if got.Cmp(exp) != 0 {
			t.Fatalf("%x scale %d: got %s, want %s", b, scale, got, exp)
		}
	})
}

func TestAppendDateAndTimestamp(t *testing.T) {
	dates := []struct {
		days  int64
		style DateStyle
		want  string
		err   bool
	}{
		{0, ISODate, "1970-01-01", false}, {-1, ISODate, "1969-12-31", false}, {11016, ISODate, "2000-02-29", false},
		{2932896, ISODate, "9999-12-31", false}, {2932897, ISODate, "", true}, {-719162, ISODate, "0001-01-01", false},
		{-719163, ISODate, "", true}, {-719163, BCDate, "0001-12-31 BC", false}, {-2440588, BCDate, "4714-11-24 BC", false},
	}
	for _, tt := range dates {
		got, err := AppendDate(nil, tt.days, tt.style)
		if tt.err {
			if !errors.Is(err, ErrOutOfRange) {
				t.Errorf("AppendDate(%d): want out of range, got %q, %v", tt.days, got, err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendDate(%d) = %q, %v; want %s", tt.days, got, err, tt.want)
		}
	}
	stamps := []struct {
		micros int64
		want   string
	}{
		{0, "1970-01-01 00:00:00"}, {1, "1970-01-01 00:00:00.000001"}, {-1, "1969-12-31 23:59:59.999999"},
		{1529476623945104, "2018-06-20 06:37:03.945104"}, {-62135596800000000, "0001-01-01 00:00:00"},
	}
	for _, tt := range stamps {
		got, err := AppendTimestamp(nil, tt.micros, ISODate)
		if err != nil || string(got) != tt.want {
			t.Errorf("AppendTimestamp(%d) = %q, %v; want %s", tt.micros, got, err, tt.want)
		}
	}
	if got, err := AppendTimestamp(nil, -62135596800000001, BCDate); err != nil || string(got) != "0001-12-31 23:59:59.999999 BC" {
		t.Errorf("BC timestamp: %q, %v", got, err)
	}
}

func TestAppendClockAndUnits(t *testing.T) {
	tests := []struct {
		v    int64
		unit Unit
		want string
	}{
		{0, Micros, "00:00:00"}, {45296789012, Micros, "12:34:56.789012"}, {-3020399000000, Micros, "-838:59:59"},
		{3020399000000, Micros, "838:59:59"}, {1500, Millis, "00:00:01.500000"}, {1000000001, Nanos, "00:00:01"},
	}
	for _, tt := range tests {
		if got := string(AppendClock(nil, ToMicros(tt.v, tt.unit))); got != tt.want {
			t.Errorf("clock %d/%d = %s, want %s", tt.v, tt.unit, got, tt.want)
		}
	}
}

func TestBits(t *testing.T) {
	tests := []struct {
		b    []byte
		n    int64
		want string
		u    uint64
	}{
		{[]byte{0x01}, 1, "1", 1}, {[]byte{0x01, 0x02}, 10, "1000000001", 513}, {nil, 7, "0000000", 0},
		{[]byte{0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 64, "1111111111111111111111111111111111111111111111111111111111111110", 1<<64 - 2},
	}
	for _, tt := range tests {
		if got := BitString(tt.b, tt.n); got != tt.want {
			t.Errorf("BitString(%x, %d) = %s, want %s", tt.b, tt.n, got, tt.want)
		}
		if u, err := BitsUint64(tt.b); err != nil || u != tt.u {
			t.Errorf("BitsUint64(%x) = %d, %v; want %d", tt.b, u, err, tt.u)
		}
	}
	if _, err := BitsUint64(make([]byte, 9)); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("9 bytes of bits: %v", err)
	}
}

func TestGeometryWKB(t *testing.T) {
	wkb := []byte{1, 1, 0, 0, 0}
	g := pipeline.Struct(pipeline.Bytes(wkb), pipeline.Int(4326))
	got, srid, ok, err := GeometryWKB(g, KindGeometry)
	if err != nil || string(got) != string(wkb) || srid != 4326 || !ok {
		t.Fatalf("geometry: %x %d %v %v", got, srid, ok, err)
	}
	p := pipeline.Struct(pipeline.Float64(1), pipeline.Float64(2), pipeline.Null, pipeline.Null)
	got, _, ok, err = GeometryWKB(p, KindPoint)
	if err != nil || ok || string(got) != string(PointWKB(1, 2)) || len(got) != 21 {
		t.Fatalf("point without wkb: %x %v %v", got, ok, err)
	}
	if _, _, _, err := GeometryWKB(pipeline.String("x"), KindGeometry); err == nil {
		t.Fatal("a string is not a geometry")
	}
}

func TestIsPlaceholder(t *testing.T) {
	ints := make([]pipeline.Value, len(Placeholder))
	for i := range Placeholder {
		ints[i] = pipeline.Int(int64(Placeholder[i]))
	}
	tests := []struct {
		v    pipeline.Value
		want bool
	}{
		{pipeline.String(Placeholder), true}, {pipeline.Bytes([]byte(Placeholder)), true},
		{pipeline.Array(pipeline.String(Placeholder)), true}, {pipeline.Array(ints...), true},
		{pipeline.String("x"), false}, {pipeline.Null, false}, {pipeline.Array(), false},
	}
	for i, tt := range tests {
		if got := IsPlaceholder(tt.v); got != tt.want {
			t.Errorf("case %d: IsPlaceholder = %v", i, got)
		}
	}
}
