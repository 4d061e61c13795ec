package pgtype

import "testing"

// The decoders run once per column per row: they allocate only the data
// they produce (a string, the bytes of a decimal, an array's elements).
func TestDecoderAllocations(t *testing.T) {
	tests := []struct {
		typ    string
		typmod int32
		in     string
		max    float64
	}{
		{"bool", -1, "t", 0},
		{"int4", -1, "-123456", 0},
		{"int8", -1, "9223372036854775807", 0},
		{"float8", -1, "1.2345678901234567", 0},
		{"float4", -1, "NaN", 0},
		{"numeric", numTypmod(10, 2), "-12345.67", 1},
		{"numeric", -1, "-12345.6700", 3}, // the bytes, and the struct's members and their slice header
		{"text", -1, "héllo wörld", 1},
		{"varchar", 24, "", 0},
		{"date", -1, "2024-02-29", 0},
		{"time", -1, "12:34:56.789012", 0},
		{"timestamp", -1, "2024-02-29 12:34:56.789012", 0},
		{"timestamptz", -1, "2024-02-29 12:34:56.789012+00", 1},
		{"timetz", -1, "12:34:56.789+02", 1},
		{"interval", -1, "1 year 2 mons 3 days 04:05:06.789", 1},
		{"bytea", -1, `\x0102030405`, 1},
		{"uuid", -1, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", 1},
		{"int4[]", -1, "{1,2,3,NULL}", 2},
	}
	for _, tt := range tests {
		dec, err := column(t, tt.typ, tt.typmod).Decoder(Options{})
		if err != nil {
			t.Fatal(err)
		}
		in := []byte(tt.in)
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := dec(in); err != nil {
				t.Fatal(err)
			}
		})
		if allocs > tt.max {
			t.Errorf("%s %q: %.1f allocations per value, want at most %.0f", tt.typ, tt.in, allocs, tt.max)
		}
	}
}

func BenchmarkDecoders(b *testing.B) {
	for _, tc := range []struct{ typ, in string }{
		{"int4", "-123456"},
		{"text", "héllo wörld"},
		{"timestamptz", "2024-02-29 12:34:56.789012+00"},
		{"numeric", "-12345.6700"},
		{"interval", "1 year 2 mons 3 days 04:05:06.789"},
		{"text[]", `{a,"b c",NULL,"with \"quote\""}`},
	} {
		dec, err := column(b, tc.typ, -1).Decoder(Options{})
		if err != nil {
			b.Fatal(err)
		}
		in := []byte(tc.in)
		b.Run(tc.typ, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dec(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
