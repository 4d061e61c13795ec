package postgres

import (
	"encoding/hex"
	"testing"
	"time"
)

func TestAppendBinaryNumeric(t *testing.T) {
	tests := []struct {
		text string
		want string // ndigits weight sign dscale digits..., hex
	}{
		{"0", "0000" + "0000" + "0000" + "0000"},
		{"0.00", "0000" + "0000" + "0000" + "0002"},
		{"1", "0001" + "0000" + "0000" + "0000" + "0001"},
		{"12345.67", "0003" + "0001" + "0000" + "0002" + "0001" + "0929" + "1a2c"},
		{"-0.01", "0001" + "ffff" + "4000" + "0002" + "0064"},
		{"10000", "0001" + "0001" + "0000" + "0000" + "0001"},
		{"0.00010000", "0001" + "ffff" + "0000" + "0008" + "0001"},
		{"-0.00", "0000" + "0000" + "0000" + "0002"},
	}
	for _, tt := range tests {
		got, err := appendBinaryNumeric(nil, []byte(tt.text))
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%s: got %x, want %s", tt.text, got, tt.want)
		}
	}
	if _, err := appendBinaryNumeric(nil, []byte("1e5")); err == nil {
		t.Error("1e5: no error")
	}
}

func TestParseUTCTimestamp(t *testing.T) {
	for _, s := range []string{"2024-01-01T00:00:01Z", "1970-01-01T00:00:00Z", "2038-01-19T03:14:07.5Z",
		"1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.123456Z", "2024-02-29T12:00:00.000Z"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := parseUTCTimestamp(s)
		if !ok || got != want.UnixMicro() {
			t.Errorf("%s: got %d %v, want %d", s, got, ok, want.UnixMicro())
		}
	}
	for _, s := range []string{"2024-01-01T00:00:01+02:00", "2024-01-01 00:00:01Z", "2024-13-01T00:00:01Z", "2024-01-01T00:00:01.1234567Z", "x"} {
		if _, ok := parseUTCTimestamp(s); ok {
			t.Errorf("%s: accepted", s)
		}
	}
}
