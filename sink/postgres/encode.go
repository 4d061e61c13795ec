package postgres

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// encoder appends a non-null value's PostgreSQL text form.
type encoder func(dst []byte, v pipeline.Value) ([]byte, error)

// PostgreSQL's infinite timestamps as the PostgreSQL source writes them
// (Debezium's MicroTimestamp sentinels).
const (
	pgInfinity    = 9223372036825200000
	pgNegInfinity = -9223372036832400000
)

var errNUL = errors.New("text with a NUL character, which PostgreSQL cannot store")

// encoderFor chooses how a column's values are written, from the value's
// kind and the target column's type.
func encoderFor(c *sqlapply.Column, target string) (encoder, error) {
	base := strings.ToLower(strings.TrimSpace(target))
	isArray := strings.HasSuffix(base, "[]")
	numericTarget := strings.HasPrefix(base, "smallint") || strings.HasPrefix(base, "integer") ||
		strings.HasPrefix(base, "bigint") || strings.HasPrefix(base, "numeric")
	switch c.Kind {
	case sqlapply.KindBool:
		if numericTarget {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				if v.AsBool() {
					return append(dst, '1'), nil
				}
				return append(dst, '0'), nil
			}, nil
		}
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			if v.AsBool() {
				return append(dst, 't'), nil
			}
			return append(dst, 'f'), nil
		}, nil
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindYear:
		return func(dst []byte, v pipeline.Value) ([]byte, error) { return strconv.AppendInt(dst, v.AsInt(), 10), nil }, nil
	case sqlapply.KindUint64:
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			return strconv.AppendUint(dst, uint64(v.AsInt()), 10), nil
		}, nil
	case sqlapply.KindFloat32:
		return func(dst []byte, v pipeline.Value) ([]byte, error) { return appendFloat(dst, v.AsFloat64(), 32), nil }, nil
	case sqlapply.KindFloat64:
		return func(dst []byte, v pipeline.Value) ([]byte, error) { return appendFloat(dst, v.AsFloat64(), 64), nil }, nil
	case sqlapply.KindDecimal:
		scale := c.Scale
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			return sqlapply.AppendDecimal(dst, v.AsBytes(), scale), nil
		}, nil
	case sqlapply.KindVarDecimal:
		return sqlapply.AppendVarDecimal, nil
	case sqlapply.KindBytes:
		return appendBytea, nil
	case sqlapply.KindDate:
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			return sqlapply.AppendDate(dst, v.AsInt(), sqlapply.BCDate)
		}, nil
	case sqlapply.KindTime:
		unit := c.Unit
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			return sqlapply.AppendClock(dst, sqlapply.ToMicros(v.AsInt(), unit)), nil
		}, nil
	case sqlapply.KindTimestamp:
		unit := c.Unit
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			us := v.AsInt()
			if unit == sqlapply.Micros {
				switch us {
				case pgInfinity:
					return append(dst, "infinity"...), nil
				case pgNegInfinity:
					return append(dst, "-infinity"...), nil
				}
			}
			return sqlapply.AppendTimestamp(dst, sqlapply.ToMicros(us, unit), sqlapply.BCDate)
		}, nil
	case sqlapply.KindBits:
		n := c.Length
		switch {
		case strings.HasPrefix(base, "bit"):
			fixed, varMax := bitWidths(base)
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				// Debezium's bytes drop the bit length: a bit(n) column
				// takes exactly n bits (leading zeros restored), a bit
				// varying one as many as the bytes carry, within its limit.
				width := fixed
				if width == 0 {
					width = int64(len(v.AsBytes())) * 8
					if n > 0 && n < width {
						width = n
					}
					if varMax > 0 && varMax < width {
						width = varMax
					}
				}
				return append(dst, sqlapply.BitString(v.AsBytes(), width)...), nil
			}, nil
		case numericTarget:
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				u, err := sqlapply.BitsUint64(v.AsBytes())
				return strconv.AppendUint(dst, u, 10), err
			}, nil
		}
		return appendBytea, nil
	case sqlapply.KindGeometry, sqlapply.KindPoint:
		kind := c.Kind
		if base == "point" {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				f := v.Elems()
				if kind != sqlapply.KindPoint || len(f) < 2 {
					return dst, fmt.Errorf("a %s value does not fit a point column", kind)
				}
				dst = append(dst, '(')
				dst = appendFloat(dst, f[0].AsFloat64(), 64)
				dst = append(dst, ',')
				dst = appendFloat(dst, f[1].AsFloat64(), 64)
				return append(dst, ')'), nil
			}, nil
		}
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			wkb, _, _, err := sqlapply.GeometryWKB(v, kind)
			if err != nil {
				return dst, err
			}
			if strings.HasPrefix(base, "geometry") || strings.HasPrefix(base, "geography") {
				return hex.AppendEncode(dst, wkb), nil
			}
			return appendBytea(dst, pipeline.Bytes(wkb))
		}, nil
	case sqlapply.KindDuration:
		if numericTarget {
			return func(dst []byte, v pipeline.Value) ([]byte, error) { return strconv.AppendInt(dst, v.AsInt(), 10), nil }, nil
		}
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			dst = strconv.AppendInt(dst, v.AsInt(), 10)
			return append(dst, " microseconds"...), nil
		}, nil
	case sqlapply.KindArray:
		if !isArray {
			// A PostgreSQL array into a non-array column: its JSON text.
			return nil, fmt.Errorf("column %s: an array cannot go to a %s column", c.Name, target)
		}
		elem, err := encoderFor(c.Elem, strings.TrimSuffix(base, "[]"))
		if err != nil {
			return nil, err
		}
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			dst = append(dst, '{')
			for i, e := range v.Elems() {
				if i > 0 {
					dst = append(dst, ',')
				}
				if e.IsNull() {
					dst = append(dst, "NULL"...)
					continue
				}
				start := len(dst)
				var err error
				if dst, err = elem(dst, e); err != nil {
					return dst, err
				}
				dst = quoteArrayElem(dst, start)
			}
			return append(dst, '}'), nil
		}, nil
	case sqlapply.KindString, sqlapply.KindJSON, sqlapply.KindEnum, sqlapply.KindSet, sqlapply.KindZonedTimestamp,
		sqlapply.KindZonedTime, sqlapply.KindUUID, sqlapply.KindInterval, sqlapply.KindXML:
		return appendText, nil
	}
	return nil, fmt.Errorf("column %s: cannot write %s values to PostgreSQL", c.Name, c.Kind)
}

func appendText(dst []byte, v pipeline.Value) ([]byte, error) {
	s := v.AsString()
	if strings.IndexByte(s, 0) >= 0 {
		return dst, errNUL
	}
	return append(dst, s...), nil
}

func appendBytea(dst []byte, v pipeline.Value) ([]byte, error) {
	dst = append(dst, '\\', 'x')
	return hex.AppendEncode(dst, v.AsBytes()), nil
}

func appendFloat(dst []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// quoteArrayElem double-quotes the element written at dst[start:], escaping
// quotes and backslashes, as array input wants.
func quoteArrayElem(dst []byte, start int) []byte {
	elem := string(dst[start:])
	dst = append(dst[:start], '"')
	for i := 0; i < len(elem); i++ {
		if elem[i] == '"' || elem[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, elem[i])
	}
	return append(dst, '"')
}

// bitWidths reads a bit column's declaration: bit(n) has a fixed width,
// bit varying(n) a maximum (0 when unlimited).
func bitWidths(decl string) (fixed, varMax int64) {
	open, end := strings.IndexByte(decl, '('), strings.IndexByte(decl, ')')
	var n int64
	if open > 0 && end > open {
		n, _ = strconv.ParseInt(decl[open+1:end], 10, 64)
	}
	if strings.HasPrefix(decl, "bit varying") || strings.HasPrefix(decl, "varbit") {
		return 0, n
	}
	if n == 0 {
		n = 1 // bit without a length is bit(1)
	}
	return n, 0
}
