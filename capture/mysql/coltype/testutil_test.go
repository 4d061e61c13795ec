package coltype

import (
	"math/big"
	"strconv"
)

func itoa(i int64) string   { return strconv.FormatInt(i, 10) }
func quote(s string) string { return strconv.Quote(s) }
func bigBytes(s string) []byte {
	x, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("bigBytes: " + s)
	}
	return bigIntBytes(x)
}
