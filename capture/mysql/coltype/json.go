package coltype

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

var errJSONSyntax = errors.New("malformed JSON text from the binlog decoder")

// debeziumJSON rewrites the JSON text go-mysql renders for a MySQL JSON
// value (RenderJSONAsMySQLText: binary key order kept, compact, DECIMALs
// unquoted) into the text Debezium's legacy JsonStringFormatter
// (mysql-binlog-connector-java JsonBinary.parseAsString) prints for the
// same binary value. Both are compact and keep the binary key order; they
// differ in
//
//   - doubles: Debezium prints Java's Double.toString, and where that has an
//     exponent the exact decimal expansion (new BigDecimal(d).toPlainString()):
//     1.0E7 is 10000000, 1.5E-5 is 0.0000150000000000000003799…; go-mysql
//     prints 10000000.0 and 1.5e-05;
//   - string escapes: Debezium escapes only ", \ and control characters (as
//     \b \t \f \n \r or \u00XX in upper case) and writes everything else raw;
//     go-mysql's encoder also escapes <, >, & and U+2028/9 and writes
//     \u00xx in lower case.
//
// A DECIMAL and a double are both bare numbers in go-mysql's text, so a
// number is taken for a double when go-mysql's double form could have
// produced it: it has an exponent; or it is an integer ≥ 1e7 written with
// ".0"; or it lies in (-1e-3, 1e-3) and is the shortest form of its double.
// A DECIMAL written exactly so (12345678.0 at scale 1, 0.0005 at scale 4) is
// printed as the double it equals — the same number to any JSON reader.
//
// The result is s itself when nothing needs rewriting.
func debeziumJSON(s string) (string, error) {
	var out []byte
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"':
			end, ok := jsonStringEnd(s, i)
			if !ok {
				return "", errJSONSyntax
			}
			tok := s[i:end]
			if jsonStringNeedsRewrite(tok) {
				if out == nil {
					out = make([]byte, 0, len(s)+16)
				}
				out = append(out, s[last:i]...)
				var err error
				if out, err = appendJavaJSONString(out, tok); err != nil {
					return "", err
				}
				last = end
			}
			i = end
		case c == '-' || (c >= '0' && c <= '9'):
			end := i + 1
			for end < len(s) && strings.IndexByte("0123456789+-.eE", s[end]) >= 0 {
				end++
			}
			if rewritten, changed := rewriteJSONNumber(s[i:end]); changed {
				if out == nil {
					out = make([]byte, 0, len(s)+16)
				}
				out = append(out, s[last:i]...)
				out = append(out, rewritten...)
				last = end
			}
			i = end
		default:
			i++
		}
	}
	if out == nil {
		return s, nil
	}
	out = append(out, s[last:]...)
	return unsafe.String(unsafe.SliceData(out), len(out)), nil
}

// jsonStringEnd returns the index just past the string token at s[start].
func jsonStringEnd(s string, start int) (int, bool) {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// jsonStringNeedsRewrite reports whether a string token differs from what
// Debezium's formatter writes for the same characters.
func jsonStringNeedsRewrite(tok string) bool {
	body := tok[1 : len(tok)-1]
	ascii := true
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= utf8.RuneSelf:
			ascii = false
		case c < 0x20:
			return true
		case c == '\\':
			if i+1 >= len(body) {
				return true
			}
			i++
			switch body[i] {
			case '"', '\\', 'b', 't', 'f', 'n', 'r':
			case 'u':
				if i+5 > len(body) || !javaControlEscape(body[i+1:i+5]) {
					return true
				}
				i += 4
			default:
				return true
			}
		}
	}
	return !ascii && !utf8.ValidString(body)
}

// javaControlEscape reports whether \uXXXX is how Debezium escapes that
// character: a control character without a short escape, upper-case hex.
func javaControlEscape(hex string) bool {
	if hex[0] != '0' || hex[1] != '0' || (hex[2] != '0' && hex[2] != '1') {
		return false
	}
	h := hex[3]
	if !(h >= '0' && h <= '9' || h >= 'A' && h <= 'F') {
		return false
	}
	switch hex[2:] {
	case "08", "09", "0A", "0C", "0D":
		return false
	}
	return true
}

// appendJavaJSONString decodes the string token tok and appends it the way
// Debezium's JsonStringFormatter writes a string.
func appendJavaJSONString(dst []byte, tok string) ([]byte, error) {
	raw := make([]byte, 0, len(tok))
	body := tok[1 : len(tok)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '\\' {
			raw = append(raw, c)
			continue
		}
		i++
		if i >= len(body) {
			return nil, errJSONSyntax
		}
		switch e := body[i]; e {
		case '"', '\\', '/':
			raw = append(raw, e)
		case 'b':
			raw = append(raw, '\b')
		case 'f':
			raw = append(raw, '\f')
		case 'n':
			raw = append(raw, '\n')
		case 'r':
			raw = append(raw, '\r')
		case 't':
			raw = append(raw, '\t')
		case 'u':
			r, n, ok := jsonUnicodeEscape(body[i-1:])
			if !ok {
				return nil, errJSONSyntax
			}
			raw = utf8.AppendRune(raw, r)
			i += n - 2
		default:
			return nil, errJSONSyntax
		}
	}
	text := unsafe.String(unsafe.SliceData(raw), len(raw))
	if !utf8.ValidString(text) {
		text = string(appendValidUTF8(nil, text))
	}
	const hexDigits = "0123456789ABCDEF"
	dst = append(dst, '"')
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	return append(dst, '"'), nil
}

// jsonUnicodeEscape decodes "\uXXXX" (and a following low surrogate) at the
// start of s, returning the rune and the bytes consumed.
func jsonUnicodeEscape(s string) (rune, int, bool) {
	hex4 := func(s string) (rune, bool) {
		if len(s) < 4 {
			return 0, false
		}
		v, err := strconv.ParseUint(s[:4], 16, 16)
		return rune(v), err == nil
	}
	if len(s) < 6 {
		return 0, 0, false
	}
	r, ok := hex4(s[2:])
	if !ok {
		return 0, 0, false
	}
	if utf16.IsSurrogate(r) {
		if len(s) >= 12 && s[6] == '\\' && s[7] == 'u' {
			if r2, ok := hex4(s[8:]); ok {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					return dec, 12, true
				}
			}
		}
		return utf8.RuneError, 6, true
	}
	return r, 6, true
}

// rewriteJSONNumber turns a number token of go-mysql's JSON text into
// Debezium's form; see debeziumJSON for which tokens are doubles.
func rewriteJSONNumber(tok string) (string, bool) {
	if strings.ContainsAny(tok, "eE") {
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return tok, false
		}
		return javaJSONDouble(f), true
	}
	intPart, frac, hasPoint := strings.Cut(tok, ".")
	if !hasPoint {
		return tok, false
	}
	digits := strings.TrimPrefix(intPart, "-")
	if frac == "0" && len(digits) >= 8 && digits[0] != '0' {
		// A whole double ≥ 1e7: Java's 1.0E7 form, so Debezium prints the
		// exact integer, which go-mysql's text already holds.
		return intPart, true
	}
	if digits == "0" && strings.HasPrefix(frac, "000") && frac[len(frac)-1] != '0' {
		f, err := strconv.ParseFloat(tok, 64)
		if err == nil && strconv.FormatFloat(f, 'g', -1, 64) == tok {
			return exactDecimal(f), true
		}
	}
	return tok, false
}

// javaJSONDouble prints a double as Debezium's JsonStringFormatter does:
// Java's Double.toString, unless that has an exponent, then the exact
// decimal value of the double.
func javaJSONDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return exactDecimal(f)
}

// exactDecimal is new BigDecimal(f).toPlainString(): every digit of the
// binary value (a double's expansion ends within 1074 decimals).
func exactDecimal(f float64) string {
	s := new(big.Float).SetFloat64(f).Text('f', 1080)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
