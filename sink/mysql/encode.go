package mysql

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// encoder appends a value's statement parameters (two for a geometry:
// its WKB and SRID).
type encoder func(args []any, v pipeline.Value) ([]any, error)

// isGeometry reports whether a column is written through ST_GeomFromWKB.
func isGeometry(c *sqlapply.MappedColumn) bool {
	switch strings.ToLower(c.Target.Cast) {
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return true
	}
	return false
}

// rowParams counts the parameters of one row; present, when set, selects
// the columns.
func rowParams(m *sqlapply.Mapping, present []bool) int {
	n := 0
	for i := range m.Columns {
		if len(present) > i && !present[i] {
			continue
		}
		n++
		if isGeometry(&m.Columns[i]) {
			n++
		}
	}
	return n
}

var errNotFinite = errors.New("NaN and infinite numbers cannot be stored in MySQL")

func encoderFor(c *sqlapply.Column, target sqlapply.TargetColumn) (encoder, error) {
	enc, err := valueEncoder(c, target)
	if err != nil {
		return nil, err
	}
	geometry := isGeometry(&sqlapply.MappedColumn{Target: target})
	return func(args []any, v pipeline.Value) ([]any, error) {
		if v.IsNull() {
			if geometry {
				return append(args, nil, nil), nil
			}
			return append(args, nil), nil
		}
		return enc(args, v)
	}, nil
}

func valueEncoder(c *sqlapply.Column, target sqlapply.TargetColumn) (encoder, error) {
	dataType := strings.ToLower(target.Cast)
	switch c.Kind {
	case sqlapply.KindBool:
		return func(args []any, v pipeline.Value) ([]any, error) {
			if v.AsBool() {
				return append(args, int64(1)), nil
			}
			return append(args, int64(0)), nil
		}, nil
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindYear, sqlapply.KindDuration:
		return func(args []any, v pipeline.Value) ([]any, error) { return append(args, v.AsInt()), nil }, nil
	case sqlapply.KindUint64:
		return func(args []any, v pipeline.Value) ([]any, error) { return append(args, uint64(v.AsInt())), nil }, nil
	case sqlapply.KindFloat32:
		return func(args []any, v pipeline.Value) ([]any, error) {
			f := v.AsFloat32()
			if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
				return args, errNotFinite
			}
			return append(args, f), nil
		}, nil
	case sqlapply.KindFloat64:
		return func(args []any, v pipeline.Value) ([]any, error) {
			f := v.AsFloat64()
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return args, errNotFinite
			}
			return append(args, f), nil
		}, nil
	case sqlapply.KindDecimal:
		scale := c.Scale
		return func(args []any, v pipeline.Value) ([]any, error) {
			return append(args, string(sqlapply.AppendDecimal(nil, v.AsBytes(), scale))), nil
		}, nil
	case sqlapply.KindVarDecimal:
		return func(args []any, v pipeline.Value) ([]any, error) {
			b, err := sqlapply.AppendVarDecimal(nil, v)
			return append(args, string(b)), err
		}, nil
	case sqlapply.KindBytes:
		return func(args []any, v pipeline.Value) ([]any, error) {
			b := v.AsBytes()
			if b == nil {
				b = []byte{}
			}
			return append(args, b), nil
		}, nil
	case sqlapply.KindDate:
		return func(args []any, v pipeline.Value) ([]any, error) {
			b, err := sqlapply.AppendDate(nil, v.AsInt(), sqlapply.ISODate)
			return append(args, string(b)), err
		}, nil
	case sqlapply.KindTime:
		unit := c.Unit
		return func(args []any, v pipeline.Value) ([]any, error) {
			return append(args, string(sqlapply.AppendClock(nil, sqlapply.ToMicros(v.AsInt(), unit)))), nil
		}, nil
	case sqlapply.KindTimestamp:
		unit := c.Unit
		return func(args []any, v pipeline.Value) ([]any, error) {
			b, err := sqlapply.AppendTimestamp(nil, sqlapply.ToMicros(v.AsInt(), unit), sqlapply.ISODate)
			return append(args, string(b)), err
		}, nil
	case sqlapply.KindZonedTimestamp:
		return func(args []any, v pipeline.Value) ([]any, error) {
			t, err := sqlapply.ParseZoned(v.AsString())
			if err != nil {
				return args, err
			}
			us := t.UTC().Sub(time.Unix(0, 0)).Microseconds()
			if t.Year() < 1 || t.Year() > 9999 {
				return args, fmt.Errorf("%w: %s", sqlapply.ErrOutOfRange, v.AsString())
			}
			b, err := sqlapply.AppendTimestamp(nil, us, sqlapply.ISODate)
			return append(args, string(b)), err
		}, nil
	case sqlapply.KindZonedTime:
		return func(args []any, v pipeline.Value) ([]any, error) {
			s := v.AsString()
			if i := strings.IndexAny(s, "Z+-"); i > 0 {
				s = s[:i]
			}
			return append(args, s), nil
		}, nil
	case sqlapply.KindBits:
		if dataType == "bit" {
			return func(args []any, v pipeline.Value) ([]any, error) {
				u, err := sqlapply.BitsUint64(v.AsBytes())
				return append(args, u), err
			}, nil
		}
		return func(args []any, v pipeline.Value) ([]any, error) { return append(args, v.AsBytes()), nil }, nil
	case sqlapply.KindGeometry, sqlapply.KindPoint:
		kind := c.Kind
		return func(args []any, v pipeline.Value) ([]any, error) {
			wkb, srid, _, err := sqlapply.GeometryWKB(v, kind)
			return append(args, wkb, srid), err
		}, nil
	case sqlapply.KindArray, sqlapply.KindMap:
		elem := c.Elem
		return func(args []any, v pipeline.Value) ([]any, error) {
			b, err := appendJSON(nil, elem, v)
			return append(args, string(b)), err
		}, nil
	case sqlapply.KindString, sqlapply.KindJSON, sqlapply.KindEnum, sqlapply.KindSet, sqlapply.KindUUID,
		sqlapply.KindInterval, sqlapply.KindXML:
		return func(args []any, v pipeline.Value) ([]any, error) { return append(args, v.AsString()), nil }, nil
	}
	return nil, fmt.Errorf("column %s: cannot write %s values to MySQL", c.Name, c.Kind)
}

// appendJSON renders an array (of elem values) as JSON text.
func appendJSON(dst []byte, elem *sqlapply.Column, v pipeline.Value) ([]byte, error) {
	if v.Kind() != pipeline.KindArray {
		return dst, fmt.Errorf("a %v value is not an array", v.Kind())
	}
	dst = append(dst, '[')
	for i, e := range v.Elems() {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendJSONElem(dst, elem, e); err != nil {
			return dst, err
		}
	}
	return append(dst, ']'), nil
}

func appendJSONElem(dst []byte, c *sqlapply.Column, v pipeline.Value) ([]byte, error) {
	if v.IsNull() {
		return append(dst, "null"...), nil
	}
	kind := sqlapply.KindString
	if c != nil {
		kind = c.Kind
	}
	switch kind {
	case sqlapply.KindBool:
		return strconv.AppendBool(dst, v.AsBool()), nil
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindYear, sqlapply.KindDuration:
		return strconv.AppendInt(dst, v.AsInt(), 10), nil
	case sqlapply.KindFloat32, sqlapply.KindFloat64:
		f := v.AsFloat64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return appendJSONString(dst, strconv.FormatFloat(f, 'g', -1, 64)), nil
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	case sqlapply.KindDecimal:
		return sqlapply.AppendDecimal(dst, v.AsBytes(), c.Scale), nil
	case sqlapply.KindVarDecimal:
		return sqlapply.AppendVarDecimal(dst, v)
	case sqlapply.KindJSON:
		return append(dst, v.AsString()...), nil
	case sqlapply.KindBytes:
		return appendJSONString(dst, base64.StdEncoding.EncodeToString(v.AsBytes())), nil
	case sqlapply.KindDate:
		b, err := sqlapply.AppendDate(nil, v.AsInt(), sqlapply.BCDate)
		return appendJSONString(dst, string(b)), err
	case sqlapply.KindTimestamp:
		b, err := sqlapply.AppendTimestamp(nil, sqlapply.ToMicros(v.AsInt(), c.Unit), sqlapply.BCDate)
		return appendJSONString(dst, string(b)), err
	case sqlapply.KindTime:
		return appendJSONString(dst, string(sqlapply.AppendClock(nil, sqlapply.ToMicros(v.AsInt(), c.Unit)))), nil
	case sqlapply.KindArray:
		return appendJSON(dst, c.Elem, v)
	}
	if v.Kind() == pipeline.KindString || v.Kind() == pipeline.KindBytes {
		return appendJSONString(dst, v.AsString()), nil
	}
	return dst, fmt.Errorf("cannot write %s array elements as JSON", kind)
}

// appendJSONString quotes s as a JSON string (strconv.Quote escapes are
// not all JSON).
func appendJSONString(dst []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
