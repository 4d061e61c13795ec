package pgtype

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/siphoncdc/siphon/pipeline"
)

type decodeFunc func(text []byte) (pipeline.Value, error)

var (
	errSyntax         = errors.New("cannot be parsed")
	errSpecialNumeric = errors.New("is a special value that decimal.handling.mode=precise cannot represent (Debezium fails on it too)")
)

// Decoder returns the function that turns one value of the column, in
// PostgreSQL's text output format (pgoutput 't' tuple data or a text-format
// SELECT), into its Connect representation. The function keeps no
// reference to its argument.
func (c Column) Decoder(o Options) (func(text []byte) (pipeline.Value, error), error) {
	if err := o.validate(); err != nil {
		return nil, c.columnError(err)
	}
	r, err := c.resolve()
	if err != nil {
		return nil, err
	}
	dec := r.decoder(o)
	return func(text []byte) (pipeline.Value, error) {
		v, err := dec(text)
		if err != nil {
			return pipeline.Null, c.valueError(text, err)
		}
		return v, nil
	}, nil
}

// valueError is built only when a value fails, so fmt is fine here.
func (c Column) valueError(text []byte, err error) error {
	shown := text
	if len(shown) > 64 {
		shown = shown[:64]
	}
	more := ""
	if len(shown) < len(text) {
		more = "…"
	}
	return fmt.Errorf("pgtype: column %s (type %s): value %q%s %w", c.Name, qualifiedName(c.Type), shown, more, err)
}

func (r *resolved) decoder(o Options) decodeFunc {
	switch r.kind {
	case kindBool:
		return decodeBool
	case kindInt2:
		return intDecoder(math.MinInt16, math.MaxInt16)
	case kindInt4:
		return intDecoder(math.MinInt32, math.MaxInt32)
	case kindInt8:
		return intDecoder(math.MinInt64, math.MaxInt64)
	case kindOID:
		return intDecoder(0, math.MaxUint32)
	case kindFloat4:
		return decodeFloat4
	case kindFloat8:
		return decodeFloat8
	case kindNumeric:
		if _, scale, ok := numericTypmod(r.typmod); ok {
			return func(b []byte) (pipeline.Value, error) {
				if isSpecialNumeric(b) {
					return pipeline.Null, errSpecialNumeric
				}
				u, err := fixedScaleBytes(b, scale)
				if err != nil {
					return pipeline.Null, err
				}
				return pipeline.Bytes(u), nil
			}
		}
		return decodeVariableScale
	case kindMoney:
		scale := o.moneyScale()
		return func(b []byte) (pipeline.Value, error) {
			u, err := moneyBytes(b, scale)
			if err != nil {
				return pipeline.Null, err
			}
			return pipeline.Bytes(u), nil
		}
	case kindText, kindJSON, kindXML, kindUUID, kindTsvector, kindLtree, kindEnum:
		return decodeString
	case kindDate:
		return decodeDate
	case kindTime:
		if timePrecision(r.typmod) <= 3 {
			return decodeTimeMillis
		}
		return decodeTimeMicros
	case kindTimetz:
		return decodeTimetz
	case kindTimestamp:
		if timePrecision(r.typmod) <= 3 {
			return decodeTimestampMillis
		}
		return decodeTimestampMicros
	case kindTimestamptz:
		width := timePrecision(r.typmod)
		return func(b []byte) (pipeline.Value, error) { return decodeTimestamptz(b, width) }
	case kindInterval:
		return decodeInterval
	case kindBytea:
		return decodeBytea
	case kindBit:
		if bitLength(r) <= 1 {
			return decodeBitBool
		}
		return decodeBits
	case kindHstore:
		return decodeHstore
	case kindPoint:
		return decodePoint
	case kindArray:
		return arrayDecoder(r.elem.decoder(o))
	}
	// resolve admits only the kinds above.
	panic("pgtype: no decoder for kind " + strconv.Itoa(int(r.kind)))
}

func decodeString(b []byte) (pipeline.Value, error) { return pipeline.String(string(b)), nil }

func decodeBool(b []byte) (pipeline.Value, error) {
	if len(b) == 1 {
		switch b[0] {
		case 't':
			return pipeline.Bool(true), nil
		case 'f':
			return pipeline.Bool(false), nil
		}
	}
	return pipeline.Null, errSyntax
}

func intDecoder(lo, hi int64) decodeFunc {
	return func(b []byte) (pipeline.Value, error) {
		v, ok := parseInt64(b)
		if !ok || v < lo || v > hi {
			return pipeline.Null, errSyntax
		}
		return pipeline.Int(v), nil
	}
}

// parseInt64 reads an optionally signed decimal integer without
// allocating.
func parseInt64(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return int64(-u), true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// PostgreSQL prints NaN, Infinity and -Infinity, which Java's
// Float/Double.valueOf read; extra_float_digits=3 makes the other values
// round-trip exactly.
func parseFloat(b []byte, bitSize int) (float64, error) {
	switch string(b) {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E' {
			return 0, errSyntax
		}
	}
	f, err := strconv.ParseFloat(string(b), bitSize)
	if err != nil {
		return 0, errSyntax
	}
	return f, nil
}

func decodeFloat4(b []byte) (pipeline.Value, error) {
	f, err := parseFloat(b, 32)
	if err != nil {
		return pipeline.Null, err
	}
	return pipeline.Float32(float32(f)), nil
}

func decodeFloat8(b []byte) (pipeline.Value, error) {
	f, err := parseFloat(b, 64)
	if err != nil {
		return pipeline.Null, err
	}
	return pipeline.Float64(f), nil
}

func isSpecialNumeric(b []byte) bool {
	s := string(b)
	return s == "NaN" || s == "Infinity" || s == "-Infinity"
}

func decodeVariableScale(b []byte) (pipeline.Value, error) {
	if isSpecialNumeric(b) {
		return pipeline.Null, errSpecialNumeric
	}
	scale, u, err := variableScale(b)
	if err != nil {
		return pipeline.Null, err
	}
	return pipeline.Struct(pipeline.Int(int64(scale)), pipeline.Bytes(u)), nil
}

func decodeDate(b []byte) (pipeline.Value, error) {
	days, inf, ok := parseDate(b)
	switch {
	case !ok:
		return pipeline.Null, errSyntax
	case inf > 0:
		return pipeline.Int(infinityDays), nil
	case inf < 0:
		return pipeline.Int(negInfinityDays), nil
	}
	return pipeline.Int(int64(int32(days))), nil
}

func decodeTimeMicros(b []byte) (pipeline.Value, error) {
	us, ok := parseTime(b)
	if !ok {
		return pipeline.Null, errSyntax
	}
	return pipeline.Int(us), nil
}

func decodeTimeMillis(b []byte) (pipeline.Value, error) {
	us, ok := parseTime(b)
	if !ok {
		return pipeline.Null, errSyntax
	}
	return pipeline.Int(us / 1000), nil
}

// decodeTimetz is Debezium's ZonedTime: the time moved to UTC (wrapping
// around midnight as OffsetTime does) in ISO_OFFSET_TIME form. 24:00:00 at
// UTC stays "24:00:00Z" as Debezium's PostgresTimeBoundary keeps it.
func decodeTimetz(b []byte) (pipeline.Value, error) {
	us, offset, ok := parseTimetz(b)
	if !ok {
		return pipeline.Null, errSyntax
	}
	if us == microsPerDay && offset == 0 {
		return pipeline.String("24:00:00Z"), nil
	}
	utc := floorMod(us-offset*microsPerSecond, microsPerDay)
	var buf [32]byte
	out := appendIsoClock(buf[:0], utc, 0)
	out = append(out, 'Z')
	return pipeline.String(string(out)), nil
}

func decodeTimestampMicros(b []byte) (pipeline.Value, error) {
	us, inf, ok := parseTimestamp(b, false)
	switch {
	case !ok:
		return pipeline.Null, errSyntax
	case inf > 0:
		return pipeline.Int(infinityMicros), nil
	case inf < 0:
		return pipeline.Int(negInfinityMicros), nil
	}
	return pipeline.Int(us), nil
}

func decodeTimestampMillis(b []byte) (pipeline.Value, error) {
	us, inf, ok := parseTimestamp(b, false)
	switch {
	case !ok:
		return pipeline.Null, errSyntax
	case inf > 0:
		return pipeline.Int(infinityMillis), nil
	case inf < 0:
		return pipeline.Int(negInfinityMillis), nil
	}
	return pipeline.Int(floorDiv(us, 1000)), nil
}

func decodeTimestamptz(b []byte, width int) (pipeline.Value, error) {
	us, inf, ok := parseTimestamp(b, true)
	switch {
	case !ok:
		return pipeline.Null, errSyntax
	case inf > 0:
		return pipeline.String("infinity"), nil
	case inf < 0:
		return pipeline.String("-infinity"), nil
	}
	var buf [48]byte
	return pipeline.String(string(appendZonedTimestamp(buf[:0], us, width))), nil
}

func decodeInterval(b []byte) (pipeline.Value, error) {
	iv, ok := parseInterval(b)
	if !ok {
		return pipeline.Null, errSyntax
	}
	return pipeline.Int(iv.micros()), nil
}

// decodeBytea reads bytea_output=hex: "\x" and two hex digits a byte.
func decodeBytea(b []byte) (pipeline.Value, error) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' || len(b)%2 != 0 {
		return pipeline.Null, errors.New("is not in bytea hex format (the session needs bytea_output=hex)")
	}
	out := make([]byte, (len(b)-2)/2)
	for i := range out {
		hi, ok1 := unhex(b[2+2*i])
		lo, ok2 := unhex(b[3+2*i])
		if !ok1 || !ok2 {
			return pipeline.Null, errSyntax
		}
		out[i] = hi<<4 | lo
	}
	return pipeline.Bytes(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func validBits(b []byte) bool {
	for _, c := range b {
		if c != '0' && c != '1' {
			return false
		}
	}
	return true
}

// decodeBitBool is BIT(1) and BIT VARYING(1): true when a bit is set.
func decodeBitBool(b []byte) (pipeline.Value, error) {
	if !validBits(b) {
		return pipeline.Null, errSyntax
	}
	return pipeline.Bool(indexByte(b, '1') >= 0), nil
}

// decodeBits is Debezium's Bits for BIT(n>1) and BIT VARYING: the last
// character is bit 0; the bytes are little-endian and only as many as the
// highest set bit needs (java.util.BitSet.toByteArray()), so all zeros are
// no bytes at all.
func decodeBits(b []byte) (pipeline.Value, error) {
	if !validBits(b) {
		return pipeline.Null, errSyntax
	}
	return pipeline.Bytes(bitsBytes(b)), nil
}

func bitsBytes(b []byte) []byte {
	high := -1 // index of the highest set bit
	for i, c := range b {
		if c == '1' {
			high = len(b) - 1 - i
			break
		}
	}
	if high < 0 {
		return nil
	}
	out := make([]byte, high/8+1)
	for i := 0; i <= high; i++ {
		if b[len(b)-1-i] == '1' {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func decodeHstore(b []byte) (pipeline.Value, error) {
	pairs, err := parseHstore(b)
	if err != nil {
		return pipeline.Null, err
	}
	return pipeline.String(string(appendHstoreJSON(nil, javaHashOrder(pairs)))), nil
}

// decodePoint reads "(x,y)" into Debezium's Point struct {x, y, wkb, srid}
// with the 21-byte little-endian WKB Point.createValue builds.
func decodePoint(b []byte) (pipeline.Value, error) {
	if len(b) < 5 || b[0] != '(' || b[len(b)-1] != ')' {
		return pipeline.Null, errSyntax
	}
	xs, ys, ok := cutComma(b[1 : len(b)-1])
	if !ok {
		return pipeline.Null, errSyntax
	}
	x, err1 := parseFloat(xs, 64)
	y, err2 := parseFloat(ys, 64)
	if err1 != nil || err2 != nil {
		return pipeline.Null, errSyntax
	}
	return pointValue(x, y), nil
}

func pointValue(x, y float64) pipeline.Value {
	wkb := make([]byte, 21)
	wkb[0] = 1 // little-endian
	binary.LittleEndian.PutUint32(wkb[1:], 1)
	binary.LittleEndian.PutUint64(wkb[5:], math.Float64bits(x))
	binary.LittleEndian.PutUint64(wkb[13:], math.Float64bits(y))
	return pipeline.Struct(pipeline.Float64(x), pipeline.Float64(y), pipeline.Bytes(wkb), pipeline.Null)
}

func cutComma(b []byte) (before, after []byte, ok bool) {
	i := indexByte(b, ',')
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}
