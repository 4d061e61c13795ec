package pgtype

import (
	"errors"
	"math/big"
	"math/bits"
)

var (
	errDecimalSyntax = errors.New("not a decimal number")
	errDecimalScale  = errors.New("has more fractional digits than the column's scale")
)

// splitDecimal splits PostgreSQL's numeric output ("-123.4500": an
// optional sign, digits, optionally a point and digits) into its sign and
// digit runs. The integer digits lose their leading zeros.
func splitDecimal(b []byte) (neg bool, intPart, frac []byte, ok bool) {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	intPart = b[:i]
	if i < len(b) {
		if b[i] != '.' {
			return false, nil, nil, false
		}
		frac = b[i+1:]
		for _, c := range frac {
			if c < '0' || c > '9' {
				return false, nil, nil, false
			}
		}
	}
	if len(intPart) == 0 && len(frac) == 0 {
		return false, nil, nil, false
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	return neg, intPart, frac, true
}

func allZeros(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return true
}

// unscaledBytes returns the digits intPart·frac followed by pad zeros as a
// two's-complement big-endian integer, the way Java's
// BigInteger.toByteArray() writes it (minimal length, 200 is 00 C8).
func unscaledBytes(neg bool, intPart, frac []byte, pad int) []byte {
	if len(intPart)+len(frac)+pad <= 18 {
		var v int64
		for _, c := range intPart {
			v = v*10 + int64(c-'0')
		}
		for _, c := range frac {
			v = v*10 + int64(c-'0')
		}
		for range pad {
			v *= 10
		}
		if neg {
			v = -v
		}
		return int64Bytes(v)
	}
	buf := make([]byte, 0, len(intPart)+len(frac)+pad)
	buf = append(buf, intPart...)
	buf = append(buf, frac...)
	for range pad {
		buf = append(buf, '0')
	}
	x, _ := new(big.Int).SetString(string(buf), 10)
	if neg {
		x.Neg(x)
	}
	return bigIntBytes(x)
}

// fixedScaleBytes is the unscaled value of a NUMERIC(p,s) value at scale s,
// as Debezium's BigDecimal.setScale(s) gives it: digits beyond the scale
// must be zeros (setScale without rounding throws otherwise). A negative
// scale (PostgreSQL 15) drops that many trailing integer zeros.
func fixedScaleBytes(b []byte, scale int) ([]byte, error) {
	neg, intPart, frac, ok := splitDecimal(b)
	if !ok {
		return nil, errDecimalSyntax
	}
	if scale < 0 {
		if !allZeros(frac) {
			return nil, errDecimalScale
		}
		frac = nil
		drop := -scale
		if len(intPart) > 0 {
			if drop > len(intPart) || !allZeros(intPart[len(intPart)-drop:]) {
				return nil, errDecimalScale
			}
			intPart = intPart[:len(intPart)-drop]
		}
		return unscaledBytes(neg, intPart, nil, 0), nil
	}
	if len(frac) > scale {
		if !allZeros(frac[scale:]) {
			return nil, errDecimalScale
		}
		frac = frac[:scale]
	}
	return unscaledBytes(neg, intPart, frac, scale-len(frac)), nil
}

// variableScale is Debezium's VariableScaleDecimal of an unconstrained
// NUMERIC value: BigDecimal.stripTrailingZeros(), with a negative scale
// set back to 0.
func variableScale(b []byte) (scale int, unscaled []byte, err error) {
	neg, intPart, frac, ok := splitDecimal(b)
	if !ok {
		return 0, nil, errDecimalSyntax
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if len(intPart) == 0 && len(frac) == 0 {
		neg = false
	}
	return len(frac), unscaledBytes(neg, intPart, frac, 0), nil
}

// int64Bytes is BigInteger.valueOf(v).toByteArray().
func int64Bytes(v int64) []byte {
	m := uint64(v)
	if v < 0 {
		m = ^m
	}
	n := (bits.Len64(m) + 8) / 8
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}

// bigIntBytes is BigInteger.toByteArray(): Go's big.Int.Bytes() is the
// unsigned magnitude and needs a sign byte or a two's complement.
func bigIntBytes(x *big.Int) []byte {
	if x.Sign() >= 0 {
		mag := x.Bytes()
		if len(mag) == 0 || mag[0]&0x80 != 0 {
			return append([]byte{0}, mag...)
		}
		return mag
	}
	m := new(big.Int).Not(x) // -x-1
	n := (m.BitLen() + 8) / 8
	t := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	t.Add(t, x)
	return t.FillBytes(make([]byte, n))
}

// moneyBytes parses MONEY as PostgreSQL prints it with lc_monetary=C
// ("$1,234.56", "-$1,234.56"; a parenthesised amount is negative too)
// and returns the unscaled value at scale, rounded half up as Debezium's
// BigDecimal.setScale(scale, HALF_UP) does.
func moneyBytes(b []byte, scale int) ([]byte, error) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '(') {
		neg = true
		if b[0] == '(' {
			if b[len(b)-1] != ')' {
				return nil, errDecimalSyntax
			}
			b = b[1 : len(b)-1]
		} else {
			b = b[1:]
		}
	}
	// The currency symbol: whatever precedes the first digit or point.
	i := 0
	for i < len(b) && (b[i] < '0' || b[i] > '9') && b[i] != '.' {
		i++
	}
	b = b[i:]
	var buf [64]byte
	digits := buf[:0]
	fracStart := -1
	sawDigit := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if len(digits) == 0 && c == '0' && fracStart < 0 {
				continue // a leading zero
			}
			digits = append(digits, c)
		case c == ',' && fracStart < 0:
		case c == '.' && fracStart < 0:
			fracStart = len(digits)
		default:
			return nil, errDecimalSyntax
		}
	}
	if !sawDigit {
		return nil, errDecimalSyntax
	}
	if fracStart < 0 {
		fracStart = len(digits)
	}
	intPart, frac := digits[:fracStart], digits[fracStart:]
	if len(frac) <= scale {
		return unscaledBytes(neg, intPart, frac, scale-len(frac)), nil
	}
	x, _ := new(big.Int).SetString("0"+string(intPart)+string(frac[:scale]), 10)
	if frac[scale] >= '5' {
		x.Add(x, big.NewInt(1))
	}
	if neg {
		x.Neg(x)
	}
	return bigIntBytes(x), nil
}

// javaDecimal parses a literal as Java's new BigDecimal(String) does:
// sign, digits with an optional point, an optional exponent. It returns
// the unscaled value and the scale.
func javaDecimal(s string) (*big.Int, int, bool) {
	mant, exp := s, int64(0)
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			mant = s[:i]
			e, ok := javaParseInt(s[i+1:], 32)
			if !ok {
				return nil, 0, false
			}
			exp = e
			break
		}
	}
	neg, intPart, frac, ok := splitDecimal([]byte(mant))
	if !ok {
		return nil, 0, false
	}
	scale := int64(len(frac)) - exp
	if scale > 1<<31-1 || scale < -(1<<31) {
		return nil, 0, false
	}
	x, _ := new(big.Int).SetString("0"+string(intPart)+string(frac), 10)
	if neg {
		x.Neg(x)
	}
	return x, int(scale), true
}

// rescale is BigDecimal.setScale(to) without rounding: it fails when
// digits would be lost.
func rescale(x *big.Int, from, to int) (*big.Int, bool) {
	if to == from {
		return x, true
	}
	if to > from {
		return new(big.Int).Mul(x, pow10(to-from)), true
	}
	q, r := new(big.Int).QuoRem(x, pow10(from-to), new(big.Int))
	return q, r.Sign() == 0
}

func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
