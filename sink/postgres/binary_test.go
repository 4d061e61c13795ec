package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
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

func TestBinaryTimestamptz(t *testing.T) {
	enc := binaryEncoderFor(&sqlapply.Column{Kind: sqlapply.KindZonedTimestamp}, "timestamp(3) with time zone")
	if enc == nil {
		t.Fatal("no binary encoder for a zoned timestamp into timestamptz")
	}
	for _, s := range []string{"2024-01-01T00:00:01Z", "1970-01-01T00:00:00Z", "2038-01-19T03:14:07.5Z",
		"1969-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.123456Z", "2024-02-29T12:00:00.000+02:00"} {
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := enc(nil, pipeline.String(s))
		if err != nil || len(got) != 8 || int64(binary.BigEndian.Uint64(got)) != want.UnixMicro()-946_684_800_000_000 {
			t.Errorf("%s: got %x %v, want %d µs after 2000-01-01", s, got, err, want.UnixMicro()-946_684_800_000_000)
		}
	}
	for _, s := range []string{"infinity", "2024-01-01 00:00:01Z", "2024-13-01T00:00:01Z"} {
		if _, err := enc(nil, pipeline.String(s)); !errors.Is(err, errBinaryValue) {
			t.Errorf("%s: error %v, want errBinaryValue (text COPY)", s, err)
		}
	}
}

func TestBinaryNumericAllocations(t *testing.T) {
	enc := binaryEncoderFor(&sqlapply.Column{Kind: sqlapply.KindDecimal, Scale: 2}, "numeric(12,2)")
	v := pipeline.Bytes([]byte{0x12, 0xd6, 0x87}) // 1234567 → 12345.67
	dst := make([]byte, 0, 64)
	got, err := enc(dst, v)
	if err != nil || hex.EncodeToString(got) != "0003"+"0001"+"0000"+"0002"+"0001"+"0929"+"1a2c" {
		t.Fatalf("got %x, %v", got, err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = enc(dst, v) }); n != 0 {
		t.Errorf("%v allocations per value, want 0", n)
	}
}
