package postgres

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// binEncoder appends a non-null value in PostgreSQL's binary format (the
// type's send function's output, without the length word).
type binEncoder func(dst []byte, v pipeline.Value) ([]byte, error)

// copyBinaryHeader starts a binary COPY stream: signature, flags, no
// header extension.
var copyBinaryHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

// copyBinaryTrailer ends COPY's binary format: a field count of -1.
var copyBinaryTrailer = []byte{0xff, 0xff}

// postgresEpochMicros and postgresEpochDays are 2000-01-01, PostgreSQL's
// epoch, from the Unix epoch.
const (
	postgresEpochMicros = 946_684_800_000_000
	postgresEpochDays   = 10_957
)

var errBinaryValue = errors.New("value has no binary form for its column")

// binaryEncoderFor returns how a column's values are written in a binary
// COPY, or nil when the pair of source kind and target type has no binary
// form here: the table is then copied in text format. Binary input spares
// PostgreSQL the parsing of numbers, timestamps and decimals; the target
// type's own receive function still checks lengths, precision and ranges.
func binaryEncoderFor(c *sqlapply.Column, target string) binEncoder {
	t := strings.ToLower(strings.TrimSpace(target))
	switch {
	case t == "bigint":
		return binInt(c.Kind, math.MinInt64, math.MaxInt64, 8)
	case t == "integer":
		return binInt(c.Kind, math.MinInt32, math.MaxInt32, 4)
	case t == "smallint":
		return binInt(c.Kind, math.MinInt16, math.MaxInt16, 2)
	case t == "double precision":
		if c.Kind == sqlapply.KindFloat32 || c.Kind == sqlapply.KindFloat64 {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				return binary.BigEndian.AppendUint64(dst, math.Float64bits(v.AsFloat64())), nil
			}
		}
	case t == "real":
		if c.Kind == sqlapply.KindFloat32 {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				return binary.BigEndian.AppendUint32(dst, math.Float32bits(float32(v.AsFloat64()))), nil
			}
		}
	case t == "boolean":
		if c.Kind == sqlapply.KindBool {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				if v.AsBool() {
					return append(dst, 1), nil
				}
				return append(dst, 0), nil
			}
		}
	case t == "bytea":
		if c.Kind == sqlapply.KindBytes {
			return func(dst []byte, v pipeline.Value) ([]byte, error) { return append(dst, v.AsBytes()...), nil }
		}
	case t == "text" || strings.HasPrefix(t, "character varying") || strings.HasPrefix(t, "character(") || t == "character" || t == "json":
		switch c.Kind {
		case sqlapply.KindString, sqlapply.KindJSON, sqlapply.KindEnum, sqlapply.KindSet:
			return binText
		}
	case t == "jsonb":
		if c.Kind == sqlapply.KindJSON || c.Kind == sqlapply.KindString {
			return func(dst []byte, v pipeline.Value) ([]byte, error) { return binText(append(dst, 1), v) }
		}
	case t == "date":
		if c.Kind == sqlapply.KindDate {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				d := v.AsInt() - postgresEpochDays
				if d < math.MinInt32+1 || d > math.MaxInt32-1 { // the extremes mean ±infinity
					return dst, errBinaryValue
				}
				return binary.BigEndian.AppendUint32(dst, uint32(int32(d))), nil
			}
		}
	case strings.HasPrefix(t, "timestamp") && strings.HasSuffix(t, "with time zone") && c.Kind == sqlapply.KindZonedTimestamp:
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			ts, err := sqlapply.ParseZoned(v.AsString())
			if err != nil { // "infinity", or not ISO 8601: the text form takes it
				return dst, errBinaryValue
			}
			return binary.BigEndian.AppendUint64(dst, uint64(ts.UnixMicro()-postgresEpochMicros)), nil
		}
	case strings.HasPrefix(t, "timestamp") && c.Kind == sqlapply.KindTimestamp:
		unit := c.Unit
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			us := v.AsInt()
			if unit == sqlapply.Micros && (us == pgInfinity || us == pgNegInfinity) {
				return dst, errBinaryValue
			}
			return binary.BigEndian.AppendUint64(dst, uint64(sqlapply.ToMicros(us, unit)-postgresEpochMicros)), nil
		}
	case strings.HasPrefix(t, "numeric"):
		switch c.Kind {
		case sqlapply.KindDecimal:
			scale := c.Scale
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				var text [80]byte
				return appendBinaryNumeric(dst, sqlapply.AppendDecimal(text[:0], v.AsBytes(), scale))
			}
		case sqlapply.KindVarDecimal:
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				var buf [80]byte
				text, err := sqlapply.AppendVarDecimal(buf[:0], v)
				if err != nil {
					return dst, err
				}
				return appendBinaryNumeric(dst, text)
			}
		}
	case t == "uuid":
		if c.Kind == sqlapply.KindUUID || c.Kind == sqlapply.KindString {
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				s := v.AsString()
				if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
					return dst, errBinaryValue
				}
				var b [32]byte
				copy(b[0:8], s[0:8])
				copy(b[8:12], s[9:13])
				copy(b[12:16], s[14:18])
				copy(b[16:20], s[19:23])
				copy(b[20:32], s[24:36])
				var raw [16]byte
				if _, err := hex.Decode(raw[:], b[:]); err != nil {
					return dst, errBinaryValue
				}
				return append(dst, raw[:]...), nil
			}
		}
	}
	return nil
}

func binText(dst []byte, v pipeline.Value) ([]byte, error) {
	s := v.AsString()
	if strings.IndexByte(s, 0) >= 0 {
		return dst, errNUL
	}
	return append(dst, s...), nil
}

// binInt writes integers of the given width, refusing (like the text form
// would) a value out of the column's range.
func binInt(kind sqlapply.Kind, lo, hi int64, width int) binEncoder {
	switch kind {
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindYear:
	case sqlapply.KindUint64:
		return func(dst []byte, v pipeline.Value) ([]byte, error) {
			u := uint64(v.AsInt())
			if u > uint64(hi) {
				return dst, fmt.Errorf("%d is out of range for the column", u)
			}
			return appendIntWidth(dst, int64(u), width), nil
		}
	default:
		return nil
	}
	return func(dst []byte, v pipeline.Value) ([]byte, error) {
		n := v.AsInt()
		if n < lo || n > hi {
			return dst, fmt.Errorf("%d is out of range for the column", n)
		}
		return appendIntWidth(dst, n, width), nil
	}
}

func appendIntWidth(dst []byte, n int64, width int) []byte {
	switch width {
	case 2:
		return binary.BigEndian.AppendUint16(dst, uint16(n))
	case 4:
		return binary.BigEndian.AppendUint32(dst, uint32(n))
	}
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// appendBinaryNumeric writes a decimal's text ("-123.4500") as PostgreSQL's
// binary numeric: base-10000 digits with a weight, a sign and the display
// scale. The digits are grouped by four from the decimal point outwards.
func appendBinaryNumeric(dst, text []byte) ([]byte, error) {
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	intPart, frac := text, text[len(text):]
	for i, ch := range text {
		if ch == '.' {
			intPart, frac = text[:i], text[i+1:]
			break
		}
	}
	for _, part := range [2][]byte{intPart, frac} {
		for _, ch := range part {
			if ch < '0' || ch > '9' {
				return dst, errBinaryValue
			}
		}
	}
	// Digit i of the integer part padded on the left to whole groups,
	// followed by the fraction padded on the right.
	lead := (4 - len(intPart)%4) % 4
	digit := func(i int) uint16 {
		if i -= lead; i < 0 {
			return 0
		}
		if i < len(intPart) {
			return uint16(intPart[i] - '0')
		}
		if i -= len(intPart); i < len(frac) {
			return uint16(frac[i] - '0')
		}
		return 0
	}
	group := func(g int) uint16 {
		return digit(4*g)*1000 + digit(4*g+1)*100 + digit(4*g+2)*10 + digit(4*g+3)
	}
	intGroups := (lead + len(intPart)) / 4
	groups := intGroups + (len(frac)+3)/4
	first, last := 0, groups-1
	for first < groups && group(first) == 0 {
		first++
	}
	for last >= first && group(last) == 0 {
		last--
	}
	n, weight, sign := last-first+1, intGroups-1-first, uint16(0)
	if n == 0 {
		weight = 0
	} else if neg {
		sign = 0x4000
	}
	if n > math.MaxInt16 || weight > math.MaxInt16 || weight < math.MinInt16 || len(frac) > math.MaxInt16 {
		return dst, errBinaryValue
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(frac)))
	for g := first; g <= last; g++ {
		dst = binary.BigEndian.AppendUint16(dst, group(g))
	}
	return dst, nil
}
