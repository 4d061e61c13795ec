package debezium

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{"slash/stays", `"slash/stays"`},
		{"\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"\x00\x01\x0b\x1f", `"\u0000\u0001\u000B\u001F"`},
		{"\x1a\x1b", `"\u001A\u001B"`},
		{"del\x7f", "\"del\x7f\""},
		{"<a href='x'>&amp;</a>", `"<a href='x'>&amp;</a>"`},
		{"grüße 日本 😀", `"grüße 日本 😀"`},
		{"line\u2028sep\u2029", "\"line\u2028sep\u2029\""},
		{"bad\xffbyte", "\"bad\uFFFDbyte\""},
		// A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
		{"trunc\xe2\x82!", "\"trunc\uFFFD!\""},
		{"trunc\xe2\x82", "\"trunc\uFFFD\""},
		// Surrogate code points (ED A0..BF) are ill-formed byte by byte.
		{"\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""},
		{"\xf0\x9f\x98", "\"\uFFFD\""},
		{"\xc0\xaf", "\"\uFFFD\uFFFD\""},
		{"\x80\x80", "\"\uFFFD\uFFFD\""},
	}
	for _, tt := range tests {
		if got := string(AppendString(nil, tt.in)); got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendBytes(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, `""`},
		{[]byte{0x00, 0xC8}, `"AMg="`},
		{[]byte{0xFB, 0xFF}, `"+/8="`},
		{[]byte("abc"), `"YWJj"`},
		{[]byte("abcd"), `"YWJjZA=="`},
	}
	for _, tt := range tests {
		if got := string(AppendBytes(nil, tt.in)); got != tt.want {
			t.Errorf("AppendBytes(%x) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestAppendInt(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"}, {-1, "-1"}, {1741000296823752600, "1741000296823752600"},
		{-9223372036854775808, "-9223372036854775808"},
	}
	for _, tt := range tests {
		if got := string(AppendInt([]byte("x"), tt.in)); got != "x"+tt.want {
			t.Errorf("AppendInt(%d) = %s, want x%s", tt.in, got, tt.want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\x1f\x7f", "ü日😀", "\xff\xe2\x82", "\xed\xa0\x80", "\u2028<>&"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString(nil, s)
		if !utf8.Valid(out) {
			t.Fatalf("AppendString(%q) is not valid UTF-8: %q", s, out)
		}
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %s: %v", s, out, err)
		}
		if utf8.ValidString(s) && back != s {
			t.Fatalf("AppendString(%q) decodes to %q", s, back)
		}
		if !utf8.ValidString(s) && !utf8.ValidString(back) {
			t.Fatalf("AppendString(%q) decodes to invalid UTF-8 %q", s, back)
		}
	})
}

func TestPlainASCII8(t *testing.T) {
	for b := 0; b < 256; b++ {
		for pos := range 8 {
			s := []byte("aaaaaaaa")
			s[pos] = byte(b)
			want := b < utf8.RuneSelf && !needsEscape[b]
			if got := plainASCII8(string(s)); got != want {
				t.Errorf("plainASCII8 with %#x at %d = %v, want %v", b, pos, got, want)
			}
		}
	}
}
