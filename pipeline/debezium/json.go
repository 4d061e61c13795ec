package debezium

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789ABCDEF"

// needsEscape marks the ASCII bytes Jackson escapes: control characters,
// '"' and '\'. DEL and everything non-ASCII are written raw.
var needsEscape = [utf8.RuneSelf]bool{
	'"': true, '\\': true,
	0x00: true, 0x01: true, 0x02: true, 0x03: true, 0x04: true, 0x05: true, 0x06: true, 0x07: true,
	0x08: true, 0x09: true, 0x0A: true, 0x0B: true, 0x0C: true, 0x0D: true, 0x0E: true, 0x0F: true,
	0x10: true, 0x11: true, 0x12: true, 0x13: true, 0x14: true, 0x15: true, 0x16: true, 0x17: true,
	0x18: true, 0x19: true, 0x1A: true, 0x1B: true, 0x1C: true, 0x1D: true, 0x1E: true, 0x1F: true,
}

// AppendString appends s as a JSON string the way Jackson writes it:
// only '"', '\' and control characters are escaped — \b \t \n \f \r by
// name, the others as \u00XX with upper-case hex — and everything else,
// including '<', '>', '&', DEL, U+2028 and all non-ASCII text, is written
// as raw UTF-8.
//
// A Java string cannot hold invalid UTF-8; Java's decoder turns every
// maximal invalid subsequence into U+FFFD. AppendString does the same, so
// its output is always valid UTF-8 and valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plainASCII8(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if !needsEscape[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\r':
				dst = append(dst, '\\', 'r')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i += invalidUTF8Len(s[i:])
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plainASCII8 reports whether none of the 8 bytes of s needs attention:
// all are ASCII, none is a control character, '"' or '\'. Per byte, x-0x20
// borrows (sets the high bit) for x < 0x20, and x^'"'-1 and x^'\\'-1 do
// for a match; a borrow can only spill into higher bytes after a real hit.
func plainASCII8(s string) bool {
	const ones = 0x0101010101010101
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	hits := x | (x - ones*0x20) | ((x ^ ones*'"') - ones) | ((x ^ ones*'\\') - ones)
	return hits&(ones*0x80) == 0
}

// invalidUTF8Len returns the length of the maximal subpart of an ill-formed
// UTF-8 sequence at the start of s (Unicode §3.9, "U+FFFD substitution of
// maximal subparts", which Java's UTF-8 decoder follows): a lead byte and
// the continuation bytes that were still valid for it.
func invalidUTF8Len(s string) int {
	lo, hi := byte(0x80), byte(0xBF)
	need := 0
	switch b := s[0]; {
	case b >= 0xC2 && b <= 0xDF:
		need = 1
	case b == 0xE0:
		lo, need = 0xA0, 2
	case b == 0xED:
		hi, need = 0x9F, 2
	case b >= 0xE1 && b <= 0xEF:
		need = 2
	case b == 0xF0:
		lo, need = 0x90, 3
	case b == 0xF4:
		hi, need = 0x8F, 3
	case b >= 0xF1 && b <= 0xF3:
		need = 3
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}

// AppendInt appends v as a JSON number.
func AppendInt(dst []byte, v int64) []byte {
	return strconv.AppendInt(dst, v, 10)
}

// AppendBytes appends b as Jackson writes a byte[]: a JSON string holding
// standard base64 with padding and no line breaks.
func AppendBytes(dst []byte, b []byte) []byte {
	dst = append(dst, '"')
	dst = base64.StdEncoding.AppendEncode(dst, b)
	return append(dst, '"')
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}
