package debezium

import (
	"bytes"
	"encoding/base64"
	"math"
	"math/big"
	"testing"
)

func TestDecimalBytes(t *testing.T) {
	tests := []struct {
		unscaled string
		want     []byte
		base64   string // as JsonConverter prints it, where known
	}{
		{"2000000000", []byte{0x77, 0x35, 0x94, 0x00}, "dzWUAA=="}, // SPEC: 200000.0000 at scale 4
		{"100000", []byte{0x01, 0x86, 0xA0}, "AYag"},               // SPEC: 10.0000 at scale 4
		{"1880", []byte{0x07, 0x58}, "B1g="},                       // SPEC: 0.188 at scale 4
		{"200", []byte{0x00, 0xC8}, "AMg="},
		{"128", []byte{0x00, 0x80}, "AIA="},
		{"127", []byte{0x7F}, "fw=="},
		{"0", []byte{0x00}, "AA=="},
		{"1", []byte{0x01}, "AQ=="},
		{"-1", []byte{0xFF}, "/w=="},
		{"-128", []byte{0x80}, "gA=="},
		{"-129", []byte{0xFF, 0x7F}, "/38="},
		{"-200", []byte{0xFF, 0x38}, "/zg="},
		{"-256", []byte{0xFF, 0x00}, "/wA="},
		{"-32768", []byte{0x80, 0x00}, "gAA="},
		{"-32769", []byte{0xFF, 0x7F, 0xFF}, "/3//"},
		{"18446744073709551615", []byte{0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ""},
		{"-9223372036854775809", []byte{0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, ""},
	}
	for _, tt := range tests {
		n, _ := new(big.Int).SetString(tt.unscaled, 10)
		got := DecimalBytes(n)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("DecimalBytes(%s) = %x, want %x", tt.unscaled, got, tt.want)
		}
		if tt.base64 != "" {
			if b := base64.StdEncoding.EncodeToString(got); b != tt.base64 {
				t.Errorf("DecimalBytes(%s) in base64 = %s, want %s", tt.unscaled, b, tt.base64)
			}
		}
		if n.IsInt64() {
			if got := DecimalBytesInt64(n.Int64()); !bytes.Equal(got, tt.want) {
				t.Errorf("DecimalBytesInt64(%s) = %x, want %x", tt.unscaled, got, tt.want)
			}
		}
	}
}

// TestDecimalBytesInt64MatchesBig checks the fast path against the big.Int
// path around every byte-length boundary.
func TestDecimalBytesInt64MatchesBig(t *testing.T) {
	var values []int64
	for shift := 0; shift < 64; shift++ {
		p := int64(1) << shift
		values = append(values, p-1, p, p+1, -p-1, -p, -p+1)
	}
	values = append(values, math.MaxInt64, math.MinInt64)
	for _, v := range values {
		want := DecimalBytes(big.NewInt(v))
		if got := DecimalBytesInt64(v); !bytes.Equal(got, want) {
			t.Errorf("DecimalBytesInt64(%d) = %x, want %x", v, got, want)
		}
		if back := new(big.Int).SetBytes(want); v >= 0 && back.Int64() != v {
			t.Errorf("DecimalBytes(%d) = %x decodes to %d", v, want, back)
		}
	}
}
