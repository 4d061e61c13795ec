package coltype

import (
	"testing"
	"time"
)

// The decoders run once per column per row: the common types must not
// allocate beyond the data they produce.
func TestDecoderAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	tests := []struct {
		name string
		col  Column
		in   any
		max  float64
	}{
		{"int", Column{Name: "c", Type: TypeLong}, any(int32(42)), 0},
		{"int unsigned", Column{Name: "c", Type: TypeLong, Unsigned: true}, any(int32(-1)), 0},
		{"bigint", Column{Name: "c", Type: TypeLongLong}, any(int64(42)), 0},
		{"double", Column{Name: "c", Type: TypeDouble}, any(1.5), 0},
		{"varchar utf8mb4", Column{Name: "c", Type: TypeVarChar, Charset: "utf8mb4"}, any("héllo"), 0},
		{"text utf8mb4", Column{Name: "c", Type: TypeBlob, Charset: "utf8mb4"}, any([]byte("héllo")), 0},
		{"varchar latin1 ascii", Column{Name: "c", Type: TypeVarChar, Charset: "latin1"}, any("hello"), 0},
		{"varchar latin1", Column{Name: "c", Type: TypeVarChar, Charset: "latin1"}, any("caf\xe9"), 1},
		{"varbinary", Column{Name: "c", Type: TypeVarChar, Charset: "binary"}, any("abc"), 0},
		{"decimal", Column{Name: "c", Type: TypeDecimal, Precision: 10, Scale: 2}, any("-12345.67"), 1},
		{"date", Column{Name: "c", Type: TypeDate}, any("2024-02-29"), 0},
		{"datetime", Column{Name: "c", Type: TypeDateTime, FSP: 6}, any(time.Date(2024, 2, 29, 1, 2, 3, 4000, time.UTC)), 0},
		{"timestamp", Column{Name: "c", Type: TypeTimestamp, FSP: 3}, any(time.Unix(1700000000, 5e6)), 1},
		{"time", Column{Name: "c", Type: TypeTime}, any("12:00:00"), 0},
		{"enum", Column{Name: "c", Type: TypeEnum, Members: []string{"a", "b"}}, any(int64(2)), 0},
		{"set single", Column{Name: "c", Type: TypeSet, Members: []string{"a", "b"}}, any(int64(2)), 0},
		{"json unchanged", Column{Name: "c", Type: TypeJSON}, any(`{"a":[1,"x",true]}`), 0},
		{"bit(1)", Column{Name: "c", Type: TypeBit, Length: 1}, any(int64(1)), 0},
	}
	for _, tt := range tests {
		dec, err := tt.col.BinlogDecoder()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := dec(tt.in); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n := testing.AllocsPerRun(200, func() { _, _ = dec(tt.in) }); n > tt.max {
			t.Errorf("%s: %v allocations per value, want at most %v", tt.name, n, tt.max)
		}
	}
}

func BenchmarkDecoders(b *testing.B) {
	cases := []struct {
		name string
		col  Column
		in   any
	}{
		{"int", Column{Name: "c", Type: TypeLong}, any(int32(42))},
		{"varchar", Column{Name: "c", Type: TypeVarChar, Charset: "utf8mb4"}, any("hello world, this is a varchar")},
		{"decimal", Column{Name: "c", Type: TypeDecimal, Precision: 10, Scale: 2}, any("-12345.67")},
		{"timestamp", Column{Name: "c", Type: TypeTimestamp}, any(time.Unix(1700000000, 0))},
		{"json", Column{Name: "c", Type: TypeJSON}, any(`{"id":12,"name":"abc","tags":["x","y"],"price":12.5}`)},
	}
	for _, c := range cases {
		dec, err := c.col.BinlogDecoder()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = dec(c.in)
			}
		})
	}
}
