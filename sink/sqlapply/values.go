package sqlapply

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// AppendDecimal appends the exact decimal text of a Connect Decimal: the
// unscaled value as big-endian two's-complement bytes, and its scale.
func AppendDecimal(dst, unscaled []byte, scale int) []byte {
	if len(unscaled) == 0 {
		return appendScaled(dst, "0", false, scale)
	}
	neg := unscaled[0]&0x80 != 0
	if len(unscaled) <= 8 {
		var v int64
		if neg {
			v = -1
		}
		for _, b := range unscaled {
			v = v<<8 | int64(b)
		}
		mag := uint64(v)
		if v < 0 {
			mag = uint64(-v) // also right for math.MinInt64
		}
		var digits [20]byte
		return appendScaled(dst, strconv.AppendUint(digits[:0], mag, 10), neg, scale)
	}
	n := new(big.Int).SetBytes(unscaled)
	if neg {
		// Two's complement: value = magnitude bits - 2^(8·len).
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(unscaled))))
		n.Neg(n)
	}
	return appendScaled(dst, n.String(), neg, scale)
}

// appendScaled writes digits (a non-negative integer) divided by 10^scale.
func appendScaled[D string | []byte](dst []byte, digits D, neg bool, scale int) []byte {
	if neg && string(digits) != "0" {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		for range -scale {
			dst = append(dst, '0')
		}
		return dst
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for range scale - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// AppendVarDecimal appends a VariableScaleDecimal struct {scale, value}.
func AppendVarDecimal(dst []byte, v pipeline.Value) ([]byte, error) {
	f := v.Elems()
	if v.Kind() != pipeline.KindStruct || len(f) != 2 {
		return dst, errors.New("variable-scale decimal is not a {scale, value} struct")
	}
	return AppendDecimal(dst, f[1].AsBytes(), int(f[0].AsInt())), nil
}

// civil converts days since 1970-01-01 to a proleptic Gregorian date
// (astronomical years: 0 is 1 BC).
func civil(days int64) (year int64, month, day int) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, int(m), int(d)
}

// DateStyle says how a target writes years before 1 AD.
type DateStyle uint8

// Date styles.
const (
	// ISODate writes years 1..9999 only; others are an error (MySQL).
	ISODate DateStyle = iota
	// BCDate appends " BC" for years ≤ 0 (PostgreSQL).
	BCDate
)

// ErrOutOfRange reports a value the target type cannot hold.
var ErrOutOfRange = errors.New("value out of the target type's range")

func appendPad(dst []byte, v int64, width int) []byte {
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

func appendYMD(dst []byte, days int64, style DateStyle) ([]byte, bool, error) {
	y, m, d := civil(days)
	bc := false
	if y <= 0 {
		if style != BCDate {
			return dst, false, fmt.Errorf("%w: year %d", ErrOutOfRange, y)
		}
		y, bc = 1-y, true
	}
	if y > 9999 && style != BCDate {
		return dst, false, fmt.Errorf("%w: year %d", ErrOutOfRange, y)
	}
	dst = appendPad(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(m), 2)
	dst = append(dst, '-')
	dst = appendPad(dst, int64(d), 2)
	return dst, bc, nil
}

// AppendDate appends days since the epoch as YYYY-MM-DD.
func AppendDate(dst []byte, days int64, style DateStyle) ([]byte, error) {
	dst, bc, err := appendYMD(dst, days, style)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst, err
}

// ToMicros converts a temporal integer to microseconds (nanoseconds are
// truncated: no target keeps them).
func ToMicros(v int64, u Unit) int64 {
	switch u {
	case Millis:
		return v * 1000
	case Nanos:
		return v / 1000
	}
	return v
}

// AppendClock appends a duration of micros as [-]H:MM:SS[.ffffff]; hours
// may exceed 23 (MySQL TIME spans -838:59:59 to 838:59:59).
func AppendClock(dst []byte, micros int64) []byte {
	if micros < 0 {
		dst = append(dst, '-')
		micros = -micros
	}
	secs, frac := micros/1e6, micros%1e6
	dst = appendPad(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPad(dst, secs%60, 2)
	return appendFraction(dst, frac)
}

func appendFraction(dst []byte, frac int64) []byte {
	if frac == 0 {
		return dst
	}
	dst = append(dst, '.')
	return appendPad(dst, frac, 6)
}

// AppendTimestamp appends micros since the epoch as YYYY-MM-DD HH:MM:SS[.ffffff].
func AppendTimestamp(dst []byte, micros int64, style DateStyle) ([]byte, error) {
	days := micros / 86_400_000_000
	rem := micros % 86_400_000_000
	if rem < 0 {
		days--
		rem += 86_400_000_000
	}
	dst, bc, err := appendYMD(dst, days, style)
	if err != nil {
		return dst, err
	}
	dst = append(dst, ' ')
	dst = AppendClock(dst, rem)
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst, nil
}

// BitString renders Debezium Bits (little-endian bytes) as n bits, most
// significant first, e.g. "0000000101".
func BitString(b []byte, n int64) string {
	if n <= 0 {
		n = int64(len(b)) * 8
	}
	out := make([]byte, n)
	for j := range n {
		bit := n - 1 - j
		idx := bit / 8
		if idx < int64(len(b)) && b[idx]>>(bit%8)&1 == 1 {
			out[j] = '1'
		} else {
			out[j] = '0'
		}
	}
	return string(out)
}

// BitsUint64 reads Debezium Bits (little-endian bytes) of at most 64 bits.
func BitsUint64(b []byte) (uint64, error) {
	if len(b) > 8 {
		return 0, fmt.Errorf("%w: %d bytes of bits", ErrOutOfRange, len(b))
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

// ParseZoned parses a ZonedTimestamp string (ISO-8601 with offset).
func ParseZoned(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("zoned timestamp %q: %w", s, err)
	}
	return t, nil
}

// GeometryWKB returns the WKB and SRID of a Geometry or Point struct
// value; a Point without WKB gets one built from x and y.
func GeometryWKB(v pipeline.Value, kind Kind) (wkb []byte, srid int64, hasSRID bool, err error) {
	f := v.Elems()
	switch {
	case kind == KindGeometry && len(f) == 2:
		wkb = f[0].AsBytes()
		if !f[1].IsNull() {
			srid, hasSRID = f[1].AsInt(), true
		}
		return wkb, srid, hasSRID, nil
	case kind == KindPoint && len(f) == 4:
		if !f[3].IsNull() {
			srid, hasSRID = f[3].AsInt(), true
		}
		if !f[2].IsNull() && len(f[2].AsBytes()) > 0 {
			return f[2].AsBytes(), srid, hasSRID, nil
		}
		return PointWKB(f[0].AsFloat64(), f[1].AsFloat64()), srid, hasSRID, nil
	}
	return nil, 0, false, fmt.Errorf("%s value is not a geometry struct", kind)
}

// PointWKB is the little-endian WKB of POINT(x y).
func PointWKB(x, y float64) []byte {
	b := make([]byte, 21)
	b[0] = 1
	b[1] = 1
	putFloat(b[5:], x)
	putFloat(b[13:], y)
	return b
}

func putFloat(b []byte, f float64) {
	u := math.Float64bits(f)
	for i := range 8 {
		b[i] = byte(u >> (8 * i))
	}
}

// Placeholder is what the PostgreSQL source writes for an unchanged
// TOASTed value it did not receive (Debezium's default
// unavailable.value.placeholder).
const Placeholder = "__debezium_unavailable_value"

// IsPlaceholder reports whether v is the unchanged-TOAST placeholder in
// any of its representations (SPEC §4.3): the string, its bytes, or a
// one-element array of either.
func IsPlaceholder(v pipeline.Value) bool {
	switch v.Kind() {
	case pipeline.KindString, pipeline.KindBytes:
		return v.AsString() == Placeholder
	case pipeline.KindArray:
		e := v.Elems()
		if len(e) == 1 && (e[0].Kind() == pipeline.KindString || e[0].Kind() == pipeline.KindBytes) {
			return e[0].AsString() == Placeholder
		}
		// int arrays: the placeholder's byte values.
		if len(e) == len(Placeholder) {
			for i, x := range e {
				if x.Kind() != pipeline.KindInt || x.AsInt() != int64(Placeholder[i]) {
					return false
				}
			}
			return true
		}
	}
	return false
}

// ValueError is a value the target cannot hold, found before it is sent:
// a data error like the ones the target reports.
type ValueError struct {
	Column string
	Err    error
}

func (e *ValueError) Error() string { return "column " + e.Column + ": " + e.Err.Error() }
func (e *ValueError) Unwrap() error { return e.Err }
