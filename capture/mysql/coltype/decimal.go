package coltype

import (
	"errors"
	"math/big"
	"math/bits"
	"strings"
)

var (
	errDecimalSyntax = errors.New("not a decimal number")
	errDecimalScale  = errors.New("more fractional digits than the column's scale")
)

// decimalUnscaled converts a decimal string as go-mysql renders it
// ("-123.4500": optional sign, digits, optionally a point and digits) into
// the unscaled value at the given scale, as Java's
// BigInteger.toByteArray() writes it: two's complement, big-endian, in as
// few bytes as hold the sign (200 is 00 C8, 0 is 00). More fractional
// digits than scale is an error: go-mysql always writes exactly scale.
func decimalUnscaled(s string, scale int) ([]byte, error) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return nil, errDecimalSyntax
	}
	if !allDigits(intPart) || !allDigits(frac) {
		return nil, errDecimalSyntax
	}
	if len(frac) > scale {
		return nil, errDecimalScale
	}
	pad := scale - len(frac)
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart)+len(frac)+pad <= 18 {
		var v int64
		for i := 0; i < len(intPart); i++ {
			v = v*10 + int64(intPart[i]-'0')
		}
		for i := 0; i < len(frac); i++ {
			v = v*10 + int64(frac[i]-'0')
		}
		for range pad {
			v *= 10
		}
		if neg {
			v = -v
		}
		return int64Bytes(v), nil
	}
	digits := intPart + frac + strings.Repeat("0", pad)
	x, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return nil, errDecimalSyntax
	}
	if neg {
		x.Neg(x)
	}
	return bigIntBytes(x), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// int64Bytes is BigInteger.valueOf(v).toByteArray().
func int64Bytes(v int64) []byte {
	return appendInt64Bytes(make([]byte, 0, int64BytesLen(v)), v)
}

// int64BytesLen is len(int64Bytes(v)): the bits of v and a sign bit.
func int64BytesLen(v int64) int {
	m := uint64(v)
	if v < 0 {
		m = ^m
	}
	return (bits.Len64(m) + 8) / 8
}

func appendInt64Bytes(dst []byte, v int64) []byte {
	for i := int64BytesLen(v) - 1; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
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

// decimalDefault converts a DECIMAL default literal the way Debezium does
// (new BigDecimal(s).setScale(scale, HALF_UP)): exponents are allowed and
// extra digits are rounded half away from zero.
func decimalDefault(s string, scale int) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.Trim(s, "0123456789+-.eE") != "" {
		return nil, errDecimalSyntax
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, errDecimalSyntax
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	num, den := new(big.Int).Set(r.Num()), r.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	if rem.Lsh(rem, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return bigIntBytes(q), nil
}
