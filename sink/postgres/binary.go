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
			us, ok := parseUTCTimestamp(v.AsString())
			if !ok {
				return dst, errBinaryValue
			}
			return binary.BigEndian.AppendUint64(dst, uint64(us-postgresEpochMicros)), nil
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
				return appendBinaryNumeric(dst, sqlapply.AppendDecimal(nil, v.AsBytes(), scale))
			}
		case sqlapply.KindVarDecimal:
			return func(dst []byte, v pipeline.Value) ([]byte, error) {
				text, err := sqlapply.AppendVarDecimal(nil, v)
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

// parseUTCTimestamp reads Debezium's ZonedTimestamp in UTC,
// "YYYY-MM-DDTHH:MM:SS[.fraction]Z", into microseconds since the Unix
// epoch. Any other form (an offset, a BC year) answers false.
func parseUTCTimestamp(s string) (int64, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return 0, false
	}
	num := func(part string) (int64, bool) {
		var n int64
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, false
			}
			n = n*10 + int64(part[i]-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	var frac int64
	if rest := s[19 : len(s)-1]; rest != "" {
		if rest[0] != '.' || len(rest) < 2 || len(rest) > 7 {
			return 0, false
		}
		f, ok := num(rest[1:])
		if !ok {
			return 0, false
		}
		for range 7 - len(rest) {
			f *= 10
		}
		frac = f
	}
	days := daysFromCivil(year, month, day)
	return ((days*24+hour)*60+minute)*60_000_000 + sec*1_000_000 + frac, true
}

// daysFromCivil counts days from 1970-01-01 to a proleptic Gregorian date
// (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// appendBinaryNumeric writes a decimal's text ("-123.4500") as PostgreSQL's
// binary numeric: base-10000 digits with a weight, a sign and the display
// scale.
func appendBinaryNumeric(dst, text []byte) ([]byte, error) {
	neg := len(text) > 0 && text[0] == '-'
	if neg {
		text = text[1:]
	}
	intPart, frac := text, []byte(nil)
	if i := strings.IndexByte(string(text), '.'); i >= 0 {
		intPart, frac = text[:i], text[i+1:]
	}
	for _, ch := range intPart {
		if ch < '0' || ch > '9' {
			return dst, errBinaryValue
		}
	}
	for _, ch := range frac {
		if ch < '0' || ch > '9' {
			return dst, errBinaryValue
		}
	}
	// Base-10000 groups: the integer part padded on the left, the fraction
	// on the right, to multiples of four digits.
	var groups []int16
	lead := (4 - len(intPart)%4) % 4
	padded := make([]byte, 0, lead+len(intPart)+len(frac)+3)
	for range lead {
		padded = append(padded, '0')
	}
	padded = append(padded, intPart...)
	intGroups := len(padded) / 4
	padded = append(padded, frac...)
	for len(padded)%4 != 0 {
		padded = append(padded, '0')
	}
	for i := 0; i < len(padded); i += 4 {
		g := int16(padded[i]-'0')*1000 + int16(padded[i+1]-'0')*100 + int16(padded[i+2]-'0')*10 + int16(padded[i+3]-'0')
		groups = append(groups, g)
	}
	weight := intGroups - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign := uint16(0x0000)
	if neg && len(groups) > 0 {
		sign = 0x4000
	}
	if len(groups) == 0 {
		weight = 0
	}
	if len(groups) > math.MaxInt16 || weight > math.MaxInt16 || weight < math.MinInt16 || len(frac) > math.MaxInt16 {
		return dst, errBinaryValue
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(groups)))
	dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
	dst = binary.BigEndian.AppendUint16(dst, sign)
	dst = binary.BigEndian.AppendUint16(dst, uint16(len(frac)))
	for _, g := range groups {
		dst = binary.BigEndian.AppendUint16(dst, uint16(g))
	}
	return dst, nil
}
