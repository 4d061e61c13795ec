package debezium

import (
	"math"
	"math/bits"
	"strconv"
)

// AppendFloat64 appends f as Jackson writes a Java double: the text of
// Double.toString, except that NaN and ±Infinity become the JSON strings
// "NaN", "Infinity" and "-Infinity" (Jackson's QUOTE_NON_NUMERIC_NUMBERS,
// on by default).
//
// Double.toString is followed as specified since JDK 19 (Raffaello
// Giulietti's shortest-decimal algorithm, JDK-4511638): the shortest
// decimal that rounds to f, the closest one if several, with at least two
// significant digits considered when one would do (so 4.9E-324, not
// 5.0E-324). |f| in [1e-3, 1e7) prints in plain notation with at least one
// fractional digit (100.0, 0.001), anything else as computerized
// scientific notation (1.0E7, 1.0E-4, 1.2345678E7). Older JDKs sometimes
// printed more digits than needed; siphon does not reproduce that.
func AppendFloat64(dst []byte, f float64) []byte {
	return appendJavaFloat(dst, f, 64)
}

// AppendFloat32 appends f as Jackson writes a Java float: Float.toString
// (JDK ≥ 19 semantics, see AppendFloat64), so 99.99f prints as 99.99 and
// not as the float64 widening 99.98999786376953.
func AppendFloat32(dst []byte, f float32) []byte {
	return appendJavaFloat(dst, float64(f), 32)
}

func appendJavaFloat(dst []byte, f float64, bitSize int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}

	var buf [32]byte
	var digits [24]byte
	nd, exp := sciDigits(buf[:0], f, -1, bitSize, &digits)
	switch {
	case nd == 1:
		nd, exp = twoDigitCandidate(f, bitSize, &digits, exp)
	case isShortestTie(f, nd, exp):
		nd, exp = evenTieBreak(f, bitSize, &digits, nd, exp)
	}
	return appendJavaDecimal(dst, digits[:nd], exp)
}

// isShortestTie reports whether f (> 0) lies exactly halfway between two
// nd-digit decimals, its shortest length: its exact decimal expansion then
// has nd+1 digits, the last a 5. strconv breaks that tie upwards; Java
// picks the even digit.
func isShortestTie(f float64, nd, exp int) bool {
	raw := math.Float64bits(f)
	mant := raw & (1<<52 - 1)
	e2 := int(raw>>52) & 0x7FF
	if e2 == 0 {
		e2 = 1
	} else {
		mant |= 1 << 52
	}
	e2 -= 1075
	tz := bits.TrailingZeros64(mant)
	e2 += tz
	// f = odd × 2^e2; for e2 < 0 its exact expansion ends at 10^e2 with a 5,
	// and starts at 10^exp (barring a carry in the shortest form, where no
	// tie between two nd-digit decimals of the same exponent exists).
	return e2 < 0 && nd == exp-e2
}

// evenTieBreak re-rounds a tie to nd digits half-to-even (strconv's fixed
// precision does that on the exact value), keeping strconv's shortest
// choice if the even one would not parse back to f.
func evenTieBreak(f float64, bitSize int, digits *[24]byte, nd, exp int) (int, int) {
	var buf [32]byte
	var even [24]byte
	n, e := sciDigits(buf[:0], f, nd-1, bitSize, &even)
	if n > nd || !decimalRoundsTo(even[:n], e, f, bitSize) {
		return nd, exp
	}
	*digits = even
	return n, e
}

// sciDigits formats f (> 0) with strconv in 'e' format with prec
// significant digits (-1: shortest round-trip) and returns its digits,
// without trailing zeros, and decimal exponent: f ≈ d0.d1d2… × 10^exp.
func sciDigits(buf []byte, f float64, prec, bitSize int, digits *[24]byte) (nd, exp int) {
	s := strconv.AppendFloat(buf, f, 'e', prec, bitSize)
	i := 0
	for ; s[i] != 'e'; i++ {
		if s[i] != '.' {
			digits[nd] = s[i]
			nd++
		}
	}
	neg := s[i+1] == '-'
	for _, c := range s[i+2:] {
		exp = exp*10 + int(c-'0')
	}
	if neg {
		exp = -exp
	}
	for nd > 1 && digits[nd-1] == '0' {
		nd--
	}
	return nd, exp
}

// twoDigitCandidate applies the JDK 19 rule for values whose shortest
// decimal has one digit: among the decimals of length 1 or 2 that round to
// f, the closest wins (4.9E-324 beats 5E-324). digits holds the one-digit
// decimal d1 on entry.
func twoDigitCandidate(f float64, bitSize int, digits *[24]byte, exp1 int) (nd, exp int) {
	var buf [32]byte
	var two [24]byte
	// d2 is the two-digit decimal closest to f; d1 is a two-digit decimal
	// too, so d2 is at least as close.
	n2, exp2 := sciDigits(buf[:0], f, 1, bitSize, &two)
	if n2 == 1 && two[0] == digits[0] && exp2 == exp1 {
		return 1, exp1
	}
	m := int(two[0]-'0') * 10
	if n2 == 2 {
		m += int(two[1] - '0')
	}
	if !decimalRoundsTo([]byte{byte('0' + m/10), byte('0' + m%10)}, exp2, f, bitSize) {
		// d2 lies on the other side of f than d1 and outside f's rounding
		// interval, so the closest candidate is d2's neighbour on d1's side,
		// which lies between f and d1 and therefore rounds to f.
		if decimalValue(m, exp2) < f {
			m++
			if m == 100 {
				m, exp2 = 10, exp2+1
			}
		} else {
			m--
			if m == 9 {
				m, exp2 = 99, exp2-1
			}
		}
	}
	digits[0] = byte('0' + m/10)
	if m%10 == 0 {
		return 1, exp2
	}
	digits[1] = byte('0' + m%10)
	return 2, exp2
}

// decimalRoundsTo reports whether the decimal d0.d1… × 10^exp parses back to f.
func decimalRoundsTo(digits []byte, exp int, f float64, bitSize int) bool {
	var buf [48]byte
	b := append(buf[:0], digits[0], '.')
	b = append(b, digits[1:]...)
	b = append(b, 'e')
	b = strconv.AppendInt(b, int64(exp), 10)
	g, err := strconv.ParseFloat(string(b), bitSize)
	return err == nil && g == f
}

// decimalValue approximates m × 10^(exp-1); only its side relative to a
// value it does not round to is used, which the approximation keeps.
func decimalValue(m, exp int) float64 {
	var buf [16]byte
	b := append(buf[:0], byte('0'+m/10), '.', byte('0'+m%10), 'e')
	b = strconv.AppendInt(b, int64(exp), 10)
	g, _ := strconv.ParseFloat(string(b), 64)
	return g
}

// appendJavaDecimal lays out d0.d1… × 10^exp as Java's toString does.
func appendJavaDecimal(dst []byte, digits []byte, exp int) []byte {
	nd := len(digits)
	switch {
	case exp >= 0 && exp < 7:
		intLen := exp + 1
		if nd <= intLen {
			dst = append(dst, digits...)
			for i := nd; i < intLen; i++ {
				dst = append(dst, '0')
			}
			return append(dst, '.', '0')
		}
		dst = append(dst, digits[:intLen]...)
		dst = append(dst, '.')
		return append(dst, digits[intLen:]...)
	case exp < 0 && exp >= -3:
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	default:
		dst = append(dst, digits[0], '.')
		if nd == 1 {
			dst = append(dst, '0')
		} else {
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'E')
		return strconv.AppendInt(dst, int64(exp), 10)
	}
}
