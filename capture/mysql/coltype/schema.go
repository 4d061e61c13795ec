package coltype

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
)

// Connect semantic type names.
const (
	nameDecimal        = "org.apache.kafka.connect.data.Decimal"
	nameBits           = "io.debezium.data.Bits"
	nameYear           = "io.debezium.time.Year"
	nameDate           = "io.debezium.time.Date"
	nameMicroTime      = "io.debezium.time.MicroTime"
	nameTimestamp      = "io.debezium.time.Timestamp"
	nameMicroTimestamp = "io.debezium.time.MicroTimestamp"
	nameZonedTimestamp = "io.debezium.time.ZonedTimestamp"
	nameEnum           = "io.debezium.data.Enum"
	nameEnumSet        = "io.debezium.data.EnumSet"
	nameJSON           = "io.debezium.data.Json"
	nameGeometry       = "io.debezium.data.geometry.Geometry"
	namePoint          = "io.debezium.data.geometry.Point"
	nameFloatVector    = "io.debezium.data.FloatVector"
)

// epochTimestamp is Debezium's value for a zero or CURRENT_TIMESTAMP
// TIMESTAMP where it needs one.
const epochTimestamp = "1970-01-01T00:00:00Z"

// Schema returns the column's Connect field schema: optional when the
// column is nullable, with Debezium's semantic name, version and
// parameters, and the column default converted like a value of the column.
// A default Debezium cannot evaluate (an expression other than
// CURRENT_TIMESTAMP, or a literal it fails to parse) gives no default.
func (c Column) Schema() (*pipeline.Schema, error) {
	s, err := c.valueSchema()
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", c.Name, err)
	}
	if v, ok := c.defaultValue(); ok {
		s.Default = &v
	}
	return s, nil
}

func (c Column) valueSchema() (*pipeline.Schema, error) {
	s := &pipeline.Schema{Optional: c.Nullable}
	switch c.Type {
	case TypeTiny:
		s.Type = pipeline.TypeInt8
		if c.Unsigned {
			s.Type = pipeline.TypeInt16
		}
	case TypeShort:
		s.Type = pipeline.TypeInt16
		if c.Unsigned {
			s.Type = pipeline.TypeInt32
		}
	case TypeInt24:
		s.Type = pipeline.TypeInt32
	case TypeLong:
		s.Type = pipeline.TypeInt32
		if c.Unsigned {
			s.Type = pipeline.TypeInt64
		}
	case TypeLongLong:
		// bigint.unsigned.handling.mode=long: values above 2^63-1 wrap.
		s.Type = pipeline.TypeInt64
	case TypeDecimal:
		if c.Precision < 1 || c.Scale < 0 || c.Scale > c.Precision {
			return nil, fmt.Errorf("DECIMAL(%d,%d) is impossible", c.Precision, c.Scale)
		}
		s.Type, s.Name, s.Version = pipeline.TypeBytes, nameDecimal, 1
		s.Params = []pipeline.Param{
			{Key: "scale", Value: strconv.Itoa(c.Scale)},
			{Key: "connect.decimal.precision", Value: strconv.Itoa(c.Precision)},
		}
	case TypeFloat:
		s.Type = pipeline.TypeFloat32
		if c.floatAsDouble() {
			s.Type = pipeline.TypeFloat64
		}
	case TypeDouble:
		s.Type = pipeline.TypeFloat64
	case TypeBit:
		if c.Length < 1 || c.Length > 64 {
			return nil, fmt.Errorf("BIT(%d) is impossible", c.Length)
		}
		if c.Length == 1 {
			s.Type = pipeline.TypeBoolean
			break
		}
		s.Type, s.Name, s.Version = pipeline.TypeBytes, nameBits, 1
		s.Params = []pipeline.Param{{Key: "length", Value: strconv.Itoa(c.Length)}}
	case TypeYear:
		s.Type, s.Name, s.Version = pipeline.TypeInt32, nameYear, 1
	case TypeDate:
		s.Type, s.Name, s.Version = pipeline.TypeInt32, nameDate, 1
	case TypeTime:
		s.Type, s.Name, s.Version = pipeline.TypeInt64, nameMicroTime, 1
	case TypeDateTime:
		s.Type, s.Name, s.Version = pipeline.TypeInt64, nameTimestamp, 1
		if c.FSP > 3 {
			s.Name = nameMicroTimestamp
		}
	case TypeTimestamp:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameZonedTimestamp, 1
	case TypeChar, TypeVarChar, TypeBlob:
		s.Type = pipeline.TypeString
		if c.isBinary() {
			s.Type = pipeline.TypeBytes
		}
	case TypeEnum:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameEnum, 1
		s.Params = []pipeline.Param{{Key: "allowed", Value: allowedParam(c.Members)}}
	case TypeSet:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameEnumSet, 1
		s.Params = []pipeline.Param{{Key: "allowed", Value: allowedParam(c.Members)}}
	case TypeJSON:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameJSON, 1
	case TypeGeometry:
		if c.Geometry == "point" {
			s.Type, s.Name, s.Version, s.Doc = pipeline.TypeStruct, namePoint, 1, "Geometry (POINT)"
			s.Fields = []pipeline.Field{
				{Name: "x", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
				{Name: "y", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
				{Name: "wkb", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true}},
				{Name: "srid", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}},
			}
			break
		}
		// Debezium's Geometry.builder() is always optional, whatever the
		// column's nullability.
		s.Type, s.Name, s.Version, s.Doc, s.Optional = pipeline.TypeStruct, nameGeometry, 1, "Geometry", true
		s.Fields = []pipeline.Field{
			{Name: "wkb", Schema: &pipeline.Schema{Type: pipeline.TypeBytes}},
			{Name: "srid", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}},
		}
	case TypeVector:
		s.Type, s.Name, s.Version = pipeline.TypeArray, nameFloatVector, 1
		s.Items = &pipeline.Schema{Type: pipeline.TypeFloat32}
	default:
		return nil, fmt.Errorf("unsupported column type %s", c.Type)
	}
	return s, nil
}

// floatAsDouble: Debezium gives FLOAT a float schema only without a scale
// (FLOAT, FLOAT(p)); the deprecated FLOAT(M,D) becomes double.
func (c Column) floatAsDouble() bool {
	if c.ColumnType != "" {
		_, d, ok := typeArgs(strings.ToLower(c.ColumnType))
		return ok && d >= 0
	}
	return c.Scale > 0
}

// allowedParam is Debezium's EnumeratedValues.toCommaSeparatedString:
// members joined by commas, with \ and , inside a member escaped by \.
func allowedParam(members []string) string {
	var b strings.Builder
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		for j := 0; j < len(m); j++ {
			if m[j] == '\\' || m[j] == ',' {
				b.WriteByte('\\')
			}
			b.WriteByte(m[j])
		}
	}
	return b.String()
}

// defaultValue converts the column default as Debezium's
// BinlogDefaultValueConverter and value converters do.
func (c Column) defaultValue() (pipeline.Value, bool) {
	lit, ok := c.defaultLiteral()
	if !ok {
		return pipeline.Null, false
	}
	v, err := c.convertDefault(lit)
	if err != nil {
		return pipeline.Null, false
	}
	return v, !v.IsNull()
}

// epochDefault is what Debezium's DDL parser turns CURRENT_TIMESTAMP, NOW()
// and LOCALTIME[STAMP] into, for any column type.
const epochDefault = "1970-01-01 00:00:00"

// defaultLiteral undoes the flavor's COLUMN_DEFAULT rendering: the literal,
// or false when there is no default or it is an expression Debezium does
// not evaluate.
func (c Column) defaultLiteral() (string, bool) {
	if c.Default == nil {
		return "", false
	}
	lit, expr := *c.Default, c.DefaultGenerated
	if c.Flavor == FlavorMariaDB {
		// MariaDB ≥ 10.2.7 quotes string literals and writes DEFAULT NULL
		// as the word NULL; what is neither quoted nor a number is an
		// expression.
		t := strings.TrimSpace(lit)
		switch {
		case t == "NULL":
			return "", false
		case strings.HasPrefix(t, "'"):
			v, n, ok := unquoteSQL(t)
			if !ok || n != len(t) {
				return "", false
			}
			lit, expr = v, false
		case isNumberLiteral(t), isBitLiteral(t):
			lit, expr = t, false
		default:
			lit, expr = t, true
		}
	}
	if (expr || c.Type.isTemporal()) && isCurrentTimestamp(lit) {
		return epochDefault, true
	}
	if expr {
		return "", false
	}
	return lit, true
}

func (t Type) isTemporal() bool {
	return t == TypeDate || t == TypeTime || t == TypeDateTime || t == TypeTimestamp || t == TypeYear
}

func isNumberLiteral(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	if s == "" {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && strings.Trim(s, "0123456789.eE+-") == ""
}

func isBitLiteral(s string) bool {
	return (strings.HasPrefix(s, "b'") || strings.HasPrefix(s, "B'")) && strings.HasSuffix(s, "'") && len(s) >= 3
}

// isCurrentTimestamp matches CURRENT_TIMESTAMP, NOW(), LOCALTIME and
// LOCALTIMESTAMP, with or without a precision.
func isCurrentTimestamp(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") || strings.Trim(s[i+1:len(s)-1], "0123456789 ") != "" {
			return false
		}
		s = s[:i]
	}
	switch s {
	case "current_timestamp", "now", "localtime", "localtimestamp":
		return true
	}
	return false
}

var errBadDefault = errors.New("default cannot be converted")

func (c Column) convertDefault(lit string) (pipeline.Value, error) {
	lit = stripIntroducer(lit)
	switch c.Type {
	case TypeTiny, TypeShort, TypeInt24, TypeLong, TypeLongLong:
		return c.integerDefault(strings.TrimSpace(lit))
	case TypeDecimal:
		v := strings.TrimSpace(lit)
		if b, ok := boolLiteral(v); ok {
			v = "0"
			if b {
				v = "1"
			}
		}
		b, err := decimalDefault(v, c.Scale)
		if err != nil {
			return pipeline.Null, err
		}
		return pipeline.Bytes(b), nil
	case TypeFloat, TypeDouble:
		v := strings.TrimSpace(lit)
		f, err := strconv.ParseFloat(v, 64)
		if b, ok := boolLiteral(v); ok {
			f, err = 0, nil
			if b {
				f = 1
			}
		}
		if err != nil {
			return pipeline.Null, errBadDefault
		}
		if c.Type == TypeFloat && !c.floatAsDouble() {
			return pipeline.Float32(float32(f)), nil
		}
		return pipeline.Float64(f), nil
	case TypeBit:
		return c.bitDefault(strings.TrimSpace(lit))
	case TypeYear:
		y, err := strconv.Atoi(strings.TrimSpace(lit))
		if err != nil {
			return pipeline.Null, errBadDefault
		}
		return pipeline.Int(int64(adjustYear(y))), nil
	case TypeDate:
		return c.dateDefault(strings.TrimSpace(lit))
	case TypeDateTime:
		return c.dateTimeDefault(strings.TrimSpace(lit))
	case TypeTimestamp:
		return c.timestampDefault(strings.TrimSpace(lit))
	case TypeTime:
		v := strings.TrimSpace(lit)
		if d, t, ok := strings.Cut(v, " "); ok && strings.Count(d, "-") == 2 {
			v = t
		}
		us, ok := parseDebeziumDuration(v)
		if !ok {
			return pipeline.Null, errBadDefault
		}
		return pipeline.Int(us), nil
	case TypeChar, TypeVarChar, TypeBlob:
		if c.isBinary() {
			// Debezium turns a binary column's default string into its UTF-8
			// bytes, without the zero padding a BINARY(n) value gets. MySQL
			// reports binary defaults as hex literals.
			if b, ok := hexLiteral(lit); ok && c.Flavor != FlavorMariaDB {
				return pipeline.Bytes(b), nil
			}
			return pipeline.Bytes([]byte(lit)), nil
		}
		return pipeline.String(lit), nil
	case TypeEnum, TypeSet, TypeJSON:
		return pipeline.String(lit), nil
	}
	return pipeline.Null, errBadDefault
}

// stripIntroducer removes a character set introducer: _utf8mb4'abc' is abc.
func stripIntroducer(s string) string {
	if len(s) < 4 || s[0] != '_' || s[len(s)-1] != '\'' {
		return s
	}
	q := strings.IndexByte(s, '\'')
	if q < 2 || q == len(s)-1 {
		return s
	}
	for i := 1; i < q; i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return s
		}
	}
	return s[q+1 : len(s)-1]
}

func boolLiteral(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func hexLiteral(s string) ([]byte, bool) {
	var h string
	switch {
	case strings.HasPrefix(s, "0x"):
		h = s[2:]
	case (strings.HasPrefix(s, "x'") || strings.HasPrefix(s, "X'")) && strings.HasSuffix(s, "'") && len(s) >= 3:
		h = s[2 : len(s)-1]
	default:
		return nil, false
	}
	if len(h)%2 != 0 {
		h = "0" + h
	}
	b := make([]byte, len(h)/2)
	for i := range b {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, false
		}
		b[i] = byte(v)
	}
	return b, true
}

// integerDefault: Debezium parses integer defaults as doubles and rounds
// them (Math.round: half up, clamped to the long range), so "1.5" is 2 and
// a BIGINT UNSIGNED default of 18446744073709551615 is 9223372036854775807
// — unlike the values, which wrap. Odd, followed.
func (c Column) integerDefault(s string) (pipeline.Value, error) {
	var r int64
	if b, ok := boolLiteral(s); ok {
		if b {
			r = 1
		}
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return pipeline.Null, errBadDefault
		}
		r = javaRound(f)
	}
	switch c.valueSchemaType() {
	case pipeline.TypeInt8:
		r = int64(int8(r))
	case pipeline.TypeInt16:
		r = int64(int16(r))
	case pipeline.TypeInt32:
		r = int64(int32(r))
	}
	return pipeline.Int(r), nil
}

func (c Column) valueSchemaType() pipeline.Type {
	s, err := c.valueSchema()
	if err != nil {
		return 0
	}
	return s.Type
}

// javaRound is Java's Math.round(double).
func javaRound(f float64) int64 {
	if math.IsNaN(f) {
		return 0
	}
	fl := math.Floor(f)
	if f-fl >= 0.5 {
		fl++
	}
	switch {
	case fl >= math.MaxInt64:
		return math.MaxInt64
	case fl <= math.MinInt64:
		return math.MinInt64
	}
	return int64(fl)
}

// bitDefault: MySQL and MariaDB report b'101'; Debezium reads the digits.
func (c Column) bitDefault(s string) (pipeline.Value, error) {
	if isBitLiteral(s) {
		s = s[2 : len(s)-1]
	}
	if c.Length == 1 {
		if n, err := strconv.ParseInt(s, 10, 16); err == nil {
			return pipeline.Bool(n != 0), nil
		}
		return pipeline.Bool(strings.EqualFold(s, "true")), nil
	}
	if s == "" || strings.Trim(s, "01") != "" {
		return pipeline.Null, errBadDefault
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v = v<<1 | uint64(s[i]-'0')
	}
	return pipeline.Bytes(bitBytes(v, c.Length)), nil
}

// bitBytes is BIT(n)'s value: little-endian, ceil(n/8) bytes.
func bitBytes(v uint64, n int) []byte { return appendBitBytes(make([]byte, 0, (n+7)/8), v, n) }

func appendBitBytes(dst []byte, v uint64, n int) []byte {
	for i := range (n + 7) / 8 {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

// isZeroDateLiteral matches Debezium's EPOCH_EQUIVALENT_DATE: a date with a
// zero year, month or day.
func isZeroDateLiteral(s string) bool {
	t, ok := parseDate(s)
	return ok && t.isZeroDate()
}

// isZeroDateTimeLiteral matches EPOCH_EQUIVALENT_TIMESTAMP: a zero date at
// 00:00:00[.0…].
func isZeroDateTimeLiteral(s string) bool {
	d, tm, ok := strings.Cut(s, " ")
	if !ok || !isZeroDateLiteral(d) {
		return false
	}
	hms, frac, hasFrac := strings.Cut(tm, ".")
	return hms == "00:00:00" && (!hasFrac || len(frac) >= 1 && len(frac) <= 6 && allDigits(frac))
}

func (c Column) dateDefault(s string) (pipeline.Value, error) {
	if isZeroDateLiteral(s) || isZeroDateTimeLiteral(s) || s == "0" {
		if c.Nullable {
			return pipeline.Null, nil
		}
		s = "1970-01-01"
	}
	t, ok := parseLocalDateTime(s, false)
	if !ok {
		// Debezium: an unparsable DATE default is null, or the epoch day
		// for a NOT NULL column.
		if c.Nullable {
			return pipeline.Null, nil
		}
		return pipeline.Int(0), nil
	}
	return pipeline.Int(daysFromCivil(adjustYear(t.year), t.month, t.day)), nil
}

func (c Column) dateTimeDefault(s string) (pipeline.Value, error) {
	if isZeroDateTimeLiteral(s) || s == "0" {
		if c.Nullable {
			return pipeline.Null, nil
		}
		s = epochDefault
	}
	t, ok := parseLocalDateTime(s, true)
	if !ok {
		if c.Nullable {
			return pipeline.Null, nil
		}
		t = civilTime{year: 1970, month: 1, day: 1}
	}
	t.year = adjustYear(t.year)
	us := t.epochMicros()
	if c.FSP <= 3 {
		return pipeline.Int(floorDiv(us, 1000)), nil
	}
	return pipeline.Int(us), nil
}

func (c Column) timestampDefault(s string) (pipeline.Value, error) {
	if isZeroDateTimeLiteral(s) || s == "0" || s == epochDefault {
		if c.Nullable {
			return pipeline.Null, nil
		}
		// A java.sql.Timestamp at the epoch, printed without the column's
		// fractional digits.
		return pipeline.String(epochTimestamp), nil
	}
	t, nanos, ok := parseCleanTimestamp(s)
	if !ok {
		return pipeline.Null, errBadDefault
	}
	// Debezium reads the literal in the JVM's zone; siphon assumes UTC, the
	// zone Debezium's containers run in.
	sec := daysFromCivil(t.year, t.month, t.day)*86400 + int64(t.hour*3600+t.minute*60+t.second)
	return pipeline.String(string(appendZonedTimestamp(nil, sec, nanos, c.FSP))), nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// parseLocalDateTime reads "yyyy-MM-dd[ HH:mm[:ss[.f…]]]" strictly (an
// impossible date fails); withTime false ignores any time part.
func parseLocalDateTime(s string, withTime bool) (civilTime, bool) {
	if len(s) < 10 {
		return civilTime{}, false
	}
	t, ok := parseDate(s[:10])
	if !ok || !validDate(t.year, t.month, t.day) {
		return civilTime{}, false
	}
	rest := s[10:]
	if rest == "" {
		return t, true
	}
	if rest[0] != ' ' {
		return civilTime{}, false
	}
	rest = rest[1:]
	hms, frac, hasFrac := strings.Cut(rest, ".")
	parts := strings.Split(hms, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return civilTime{}, false
	}
	vals := [3]int{}
	for i, p := range parts {
		if len(p) != 2 {
			return civilTime{}, false
		}
		v, ok := atoiN(p)
		if !ok {
			return civilTime{}, false
		}
		vals[i] = v
	}
	if vals[0] > 23 || vals[1] > 59 || vals[2] > 59 {
		return civilTime{}, false
	}
	if hasFrac {
		if len(parts) != 3 || len(frac) > 9 {
			return civilTime{}, false
		}
		us, ok := fracMicros(frac)
		if !ok {
			return civilTime{}, false
		}
		t.micro = us
	}
	if withTime {
		t.hour, t.minute, t.second = vals[0], vals[1], vals[2]
	} else {
		t.micro = 0
	}
	return t, true
}

// parseCleanTimestamp reads a TIMESTAMP default the way Debezium's
// cleanTimestamp + java.sql.Timestamp.valueOf do: date parts separated by
// any non-digits, month 1..12, day 1..31 (an overflowing day rolls into the
// next month), optional hour, minute, second and up to nine fractional
// digits.
func parseCleanTimestamp(s string) (civilTime, int, bool) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if len(fields) < 3 {
		return civilTime{}, 0, false
	}
	var nums [6]int
	nanos := 0
	for i, f := range fields {
		switch {
		case i < 6:
			v, ok := atoiN(f)
			if !ok {
				return civilTime{}, 0, false
			}
			nums[i] = v
		case i == 6 && len(f) <= 9:
			n, ok := atoiN(f)
			if !ok {
				return civilTime{}, 0, false
			}
			for j := len(f); j < 9; j++ {
				n *= 10
			}
			nanos = n
		default:
			return civilTime{}, 0, false
		}
	}
	if nums[1] < 1 || nums[1] > 12 || nums[2] < 1 || nums[2] > 31 {
		return civilTime{}, 0, false
	}
	days := daysFromCivil(nums[0], nums[1], 1) + int64(nums[2]-1)
	y, m, d := civilFromDays(days)
	return civilTime{year: y, month: m, day: d, hour: nums[3], minute: nums[4], second: nums[5]}, nanos, true
}

// parseDebeziumDuration is BinlogValueConverters.stringToDuration:
// "[-]H:M[:S[.f]]" into signed microseconds.
func parseDebeziumDuration(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	hms, frac, hasFrac := strings.Cut(body, ".")
	parts := strings.Split(hms, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var vals [3]int64
	for i, p := range parts {
		if p == "" || len(p) > 9 {
			return 0, false
		}
		v, ok := atoiN(p)
		if !ok {
			return 0, false
		}
		vals[i] = int64(v)
	}
	var us int64
	if hasFrac {
		if len(parts) != 3 {
			return 0, false
		}
		if frac != "" {
			n, ok := fracMicros(frac)
			if !ok {
				return 0, false
			}
			us = int64(n)
		}
	}
	total := (vals[0]*3600+vals[1]*60+vals[2])*1_000_000 + us
	if neg {
		total = -total
	}
	return total, true
}
