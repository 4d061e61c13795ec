package debezium

import "math/big"

// DecimalBytes returns the unscaled value of a Connect DECIMAL as Java's
// BigInteger.toByteArray() does: minimal big-endian two's complement, so
// 200 is 0x00C8 (a positive value whose top bit is set gains a 0x00 byte),
// -1 is 0xFF, -128 is 0x80 and 0 is 0x00.
func DecimalBytes(unscaled *big.Int) []byte {
	switch unscaled.Sign() {
	case 0:
		return []byte{0}
	case 1:
		b := unscaled.Bytes()
		if b[0]&0x80 != 0 {
			return append([]byte{0}, b...)
		}
		return b
	}
	// For x < 0 the two's complement bytes are those of |x|-1 = ^x inverted.
	b := new(big.Int).Not(unscaled).Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		return append([]byte{0xFF}, b...)
	}
	return b
}

// DecimalBytesInt64 is DecimalBytes for an unscaled value that fits an int64.
func DecimalBytesInt64(v int64) []byte {
	n := 1
	for n < 8 && (v < -(1<<(8*n-1)) || v >= 1<<(8*n-1)) {
		n++
	}
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}
