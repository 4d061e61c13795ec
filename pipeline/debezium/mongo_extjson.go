package debezium

import (
	"encoding/base64"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// ExtJSONMode is one of the MongoDB Java driver's JsonWriter modes that
// Debezium's MongoDB connector uses (SPEC §3.3).
type ExtJSONMode uint8

const (
	// ExtJSONStrict is JsonMode.STRICT (Extended JSON v1) written with
	// indent on and empty indent and newline strings, as Debezium writes
	// `after` and `before` in json.serialization.mode=legacy:
	// {"_id": {"$numberLong": "1004"},"a": [1,2]}.
	ExtJSONStrict ExtJSONMode = iota
	// ExtJSONRelaxed is JsonMode.RELAXED (Extended JSON v2) without indent,
	// BsonDocument.toJson()'s default, as Debezium writes updatedFields and
	// the key: {"a": 1, "b": [1, 2]}.
	ExtJSONRelaxed
)

// maxRelaxedDate is the last instant (ms) that relaxed mode writes as an
// ISO-8601 string (9999-12-31T23:59:59.999Z); later and negative dates use
// the canonical {"$numberLong": …} form, as the Java driver does.
const maxRelaxedDate = 253402300799999

// AppendExtJSON appends doc as the Java driver's JsonWriter writes it in
// mode: the text Debezium puts into its Extended JSON strings. It reports
// false when doc is not well-formed BSON.
func AppendExtJSON(dst []byte, doc []byte, mode ExtJSONMode) ([]byte, bool) {
	return appendExtDocument(dst, doc, mode, false)
}

func appendExtDocument(dst []byte, doc []byte, mode ExtJSONMode, array bool) ([]byte, bool) {
	if len(doc) < 5 {
		return dst, false
	}
	length := int(int32(uint32(doc[0]) | uint32(doc[1])<<8 | uint32(doc[2])<<16 | uint32(doc[3])<<24))
	if length < 5 || length > len(doc) || doc[length-1] != 0 {
		return dst, false
	}
	opening, closing := byte('{'), byte('}')
	if array {
		opening, closing = '[', ']'
	}
	dst = append(dst, opening)
	rest := doc[4 : length-1]
	first := true
	for len(rest) > 0 {
		elem, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return dst, false
		}
		rest = r
		if !first {
			dst = append(dst, ',')
			if mode == ExtJSONRelaxed {
				dst = append(dst, ' ')
			}
		}
		first = false
		if !array {
			key, err := elem.KeyErr()
			if err != nil {
				return dst, false
			}
			dst = appendJavaJSONString(dst, key)
			dst = append(dst, ':', ' ')
		}
		val, err := elem.ValueErr()
		if err != nil {
			return dst, false
		}
		if dst, ok = appendExtValue(dst, val, mode); !ok {
			return dst, false
		}
	}
	return append(dst, closing), true
}

// appendExtValue appends one BSON value in mode.
func appendExtValue(dst []byte, v bsoncore.Value, mode ExtJSONMode) ([]byte, bool) {
	sep := ","
	if mode == ExtJSONRelaxed {
		sep = ", "
	}
	switch v.Type {
	case bsoncore.TypeDouble:
		f, ok := v.DoubleOK()
		if !ok {
			return dst, false
		}
		if mode == ExtJSONRelaxed && (math.IsNaN(f) || math.IsInf(f, 0)) {
			dst = append(dst, `{"$numberDouble": "`...)
			dst = appendJavaDouble(dst, f)
			return append(dst, `"}`...), true
		}
		return appendJavaDouble(dst, f), true
	case bsoncore.TypeString:
		s, ok := v.StringValueOK()
		if !ok {
			return dst, false
		}
		return appendJavaJSONString(dst, s), true
	case bsoncore.TypeEmbeddedDocument:
		return appendExtDocument(dst, v.Data, mode, false)
	case bsoncore.TypeArray:
		return appendExtDocument(dst, v.Data, mode, true)
	case bsoncore.TypeBinary:
		sub, data, ok := v.BinaryOK()
		if !ok {
			return dst, false
		}
		if mode == ExtJSONRelaxed {
			dst = append(dst, `{"$binary": {"base64": "`...)
			dst = base64.StdEncoding.AppendEncode(dst, data)
			dst = append(dst, `", "subType": "`...)
			dst = appendHexByte(dst, sub)
			return append(dst, `"}}`...), true
		}
		dst = append(dst, `{"$binary": "`...)
		dst = base64.StdEncoding.AppendEncode(dst, data)
		dst = append(dst, `","$type": "`...)
		dst = appendHexByte(dst, sub)
		return append(dst, `"}`...), true
	case bsoncore.TypeUndefined:
		return append(dst, `{"$undefined": true}`...), true
	case bsoncore.TypeObjectID:
		oid, ok := v.ObjectIDOK()
		if !ok {
			return dst, false
		}
		dst = append(dst, `{"$oid": "`...)
		dst = append(dst, bson.ObjectID(oid).Hex()...)
		return append(dst, `"}`...), true
	case bsoncore.TypeBoolean:
		b, ok := v.BooleanOK()
		if !ok {
			return dst, false
		}
		return appendBool(dst, b), true
	case bsoncore.TypeDateTime:
		ms, ok := v.DateTimeOK()
		if !ok {
			return dst, false
		}
		switch {
		case mode == ExtJSONStrict:
			dst = append(dst, `{"$date": `...)
			dst = strconv.AppendInt(dst, ms, 10)
			return append(dst, '}'), true
		case ms < 0 || ms > maxRelaxedDate:
			dst = append(dst, `{"$date": {"$numberLong": "`...)
			dst = strconv.AppendInt(dst, ms, 10)
			return append(dst, `"}}`...), true
		default:
			dst = append(dst, `{"$date": "`...)
			dst = appendISOInstant(dst, ms)
			return append(dst, `"}`...), true
		}
	case bsoncore.TypeNull:
		return append(dst, "null"...), true
	case bsoncore.TypeRegex:
		pattern, options, ok := v.RegexOK()
		if !ok {
			return dst, false
		}
		if mode == ExtJSONRelaxed {
			dst = append(dst, `{"$regularExpression": {"pattern": `...)
			dst = appendJavaJSONString(dst, pattern)
			dst = append(dst, `, "options": `...)
			dst = appendJavaJSONString(dst, options)
			return append(dst, "}}"...), true
		}
		dst = append(dst, `{"$regex": `...)
		dst = appendJavaJSONString(dst, pattern)
		dst = append(dst, `,"$options": `...)
		dst = appendJavaJSONString(dst, options)
		return append(dst, '}'), true
	case bsoncore.TypeDBPointer:
		ns, oid, ok := v.DBPointerOK()
		if !ok {
			return dst, false
		}
		if mode == ExtJSONRelaxed {
			dst = append(dst, `{"$dbPointer": `...)
		}
		dst = append(dst, `{"$ref": `...)
		dst = appendJavaJSONString(dst, ns)
		dst = append(dst, sep...)
		dst = append(dst, `"$id": {"$oid": "`...)
		dst = append(dst, bson.ObjectID(oid).Hex()...)
		dst = append(dst, `"}}`...)
		if mode == ExtJSONRelaxed {
			dst = append(dst, '}')
		}
		return dst, true
	case bsoncore.TypeJavaScript:
		code, ok := v.JavaScriptOK()
		if !ok {
			return dst, false
		}
		dst = append(dst, `{"$code": `...)
		dst = appendJavaJSONString(dst, code)
		return append(dst, '}'), true
	case bsoncore.TypeSymbol:
		sym, ok := v.SymbolOK()
		if !ok {
			return dst, false
		}
		dst = append(dst, `{"$symbol": `...)
		dst = appendJavaJSONString(dst, sym)
		return append(dst, '}'), true
	case bsoncore.TypeCodeWithScope:
		code, scope, ok := v.CodeWithScopeOK()
		if !ok {
			return dst, false
		}
		dst = append(dst, `{"$code": `...)
		dst = appendJavaJSONString(dst, code)
		dst = append(dst, sep...)
		dst = append(dst, `"$scope": `...)
		if dst, ok = appendExtDocument(dst, scope, mode, false); !ok {
			return dst, false
		}
		return append(dst, '}'), true
	case bsoncore.TypeInt32:
		i, ok := v.Int32OK()
		if !ok {
			return dst, false
		}
		return strconv.AppendInt(dst, int64(i), 10), true
	case bsoncore.TypeTimestamp:
		t, i, ok := v.TimestampOK()
		if !ok {
			return dst, false
		}
		dst = append(dst, `{"$timestamp": {"t": `...)
		dst = strconv.AppendUint(dst, uint64(t), 10)
		dst = append(dst, sep...)
		dst = append(dst, `"i": `...)
		dst = strconv.AppendUint(dst, uint64(i), 10)
		return append(dst, "}}"...), true
	case bsoncore.TypeInt64:
		i, ok := v.Int64OK()
		if !ok {
			return dst, false
		}
		if mode == ExtJSONRelaxed {
			return strconv.AppendInt(dst, i, 10), true
		}
		dst = append(dst, `{"$numberLong": "`...)
		dst = strconv.AppendInt(dst, i, 10)
		return append(dst, `"}`...), true
	case bsoncore.TypeDecimal128:
		h, l, ok := v.Decimal128OK()
		if !ok {
			return dst, false
		}
		dst = append(dst, `{"$numberDecimal": "`...)
		dst = append(dst, bson.NewDecimal128(h, l).String()...)
		return append(dst, `"}`...), true
	case bsoncore.TypeMaxKey:
		return append(dst, `{"$maxKey": 1}`...), true
	case bsoncore.TypeMinKey:
		return append(dst, `{"$minKey": 1}`...), true
	}
	return dst, false
}

// appendJavaDouble writes Java's Double.toString, NaN and infinities as
// bare words (the strict JsonWriter writes them so: not valid JSON, but
// what Debezium emits).
func appendJavaDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return appendJavaFloat(dst, f, 64)
}

func appendHexByte(dst []byte, b byte) []byte {
	const hex = "0123456789ABCDEF"
	return append(dst, hex[b>>4], hex[b&0xf])
}

// appendISOInstant writes ms as java.time's ISO_OFFSET_DATE_TIME in UTC:
// seconds always, the fraction only when non-zero and without trailing
// zeros, then Z.
func appendISOInstant(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	dst = t.AppendFormat(dst, "2006-01-02T15:04:05")
	if frac := ms % 1000; frac != 0 {
		digits := []byte{'.', byte('0' + frac/100), byte('0' + frac/10%10), byte('0' + frac%10)}
		for digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
		dst = append(dst, digits...)
	}
	return append(dst, 'Z')
}

// appendJavaJSONString writes s as the Java driver's JSON writer quotes a
// string: it escapes ", \, \b, \f, \n, \r, \t and, as \uXXXX of each
// UTF-16 unit, every character outside the letter, number, space
// separator, punctuation and symbol categories (controls, format
// characters, marks, and every character beyond the BMP, whose surrogate
// halves are escaped one by one).
func appendJavaJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"':
				dst = append(dst, `\"`...)
			case '\\':
				dst = append(dst, `\\`...)
			case '\b':
				dst = append(dst, `\b`...)
			case '\f':
				dst = append(dst, `\f`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = appendUnicodeEscape(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Java decodes invalid UTF-8 to U+FFFD (an OTHER_SYMBOL).
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			i++
			start = i
			continue
		}
		if javaPrintable(r) {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		if r > 0xFFFF {
			r -= 0x10000
			dst = appendUnicodeEscape(dst, 0xD800+(r>>10))
			dst = appendUnicodeEscape(dst, 0xDC00+(r&0x3FF))
		} else {
			dst = appendUnicodeEscape(dst, r)
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

var javaPrintableTables = []*unicode.RangeTable{
	unicode.Lu, unicode.Ll, unicode.Lt, unicode.Lo,
	unicode.Nd, unicode.Nl, unicode.No,
	unicode.Zs,
	unicode.Pc, unicode.Pd, unicode.Ps, unicode.Pe, unicode.Pi, unicode.Pf, unicode.Po,
	unicode.Sm, unicode.Sc, unicode.Sk, unicode.So,
}

// javaPrintable reports whether the Java writer writes the BMP character r
// as is. Characters beyond the BMP are never printable: Java looks at
// their surrogate halves.
func javaPrintable(r rune) bool {
	if r > 0xFFFF {
		return false
	}
	return unicode.IsOneOf(javaPrintableTables, r)
}

func appendUnicodeEscape(dst []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(dst, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}
