package pgtype

import (
	"math"
	"strconv"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
)

// defaultValue converts the column default as Debezium's
// PostgresDefaultValueConverter does: a mapper per type name
// (column.typeName(), so domains, enums and arrays get none) extracts the
// literal from "'…'::type" or takes the raw text; an expression that starts
// like a function call (nextval(…), now(), gen_random_uuid()) is replaced
// by the type's zero; the result goes through the column's value
// converter. Whatever fails to parse gives no default, as in Debezium.
func (c Column) defaultValue(r *resolved) (pipeline.Value, bool) {
	if c.Default == nil || c.Type == nil {
		return pipeline.Null, false
	}
	expr := *c.Default
	switch c.Type.Name {
	case "bit":
		v, ok := extractDefault(expr, "00")
		if !ok || r.kind != kindBit {
			return pipeline.Null, false
		}
		if len(v) == 1 {
			return pipeline.Bool(v == "1"), true
		}
		return bitsDefault(r, v)
	case "varbit":
		v, ok := extractDefault(expr, "0")
		if !ok || r.kind != kindBit {
			return pipeline.Null, false
		}
		return bitsDefault(r, v)
	case "bool":
		if strings.HasPrefix(expr, "NULL::") {
			return pipeline.Null, false
		}
		v, ok := extractDefault(expr, "false")
		return pipeline.Bool(strings.EqualFold(v, "true")), ok
	case "bpchar", "varchar", "text":
		v, ok := extractDefault(expr, "")
		return pipeline.String(v), ok
	case "json", "jsonb":
		v, ok := extractDefault(expr, "{}")
		return pipeline.String(v), ok
	case "xml":
		v, ok := extractDefault(expr, "")
		return pipeline.String(v), ok
	case "int2", "smallserial":
		return intDefault(expr, 16)
	case "int4", "serial":
		return intDefault(expr, 32)
	case "int8", "bigserial":
		return intDefault(expr, 64)
	case "float4", "float8":
		if strings.HasPrefix(expr, "NULL::") {
			return pipeline.Null, false
		}
		v, ok := extractDefault(expr, "0.0")
		if !ok {
			return pipeline.Null, false
		}
		bitSize := 64
		if c.Type.Name == "float4" {
			bitSize = 32
		}
		f, ok := javaParseFloat(v, bitSize)
		if !ok {
			return pipeline.Null, false
		}
		if bitSize == 32 {
			return pipeline.Float32(float32(f)), true
		}
		return pipeline.Float64(f), true
	case "numeric":
		if strings.HasPrefix(expr, "NULL::") {
			return pipeline.Null, false
		}
		v, ok := extractDefault(expr, "0.0")
		if !ok {
			return pipeline.Null, false
		}
		return numericDefault(r, v)
	case "uuid":
		v, ok := extractDefault(expr, "00000000-0000-0000-0000-000000000000")
		if !ok {
			return pipeline.Null, false
		}
		u, ok := canonicalUUID(v)
		return pipeline.String(u), ok
	case "date":
		v, ok := extractDefault(expr, "1970-01-01")
		if !ok {
			return pipeline.Null, false
		}
		return dateDefault(v)
	case "time":
		v, ok := extractDefault(expr, "00:00")
		if !ok {
			return pipeline.Null, false
		}
		us, ok := localTimeDefault(v)
		if !ok {
			return pipeline.Null, false
		}
		if timePrecision(r.typmod) <= 3 {
			return pipeline.Int(us / 1000), true
		}
		return pipeline.Int(us), true
	case "timestamp", "timestamptz":
		v, ok := extractDefault(expr, "1970-01-01")
		if !ok {
			return pipeline.Null, false
		}
		us, ok := offsetDateTimeDefault(v)
		if !ok {
			return pipeline.Null, false
		}
		switch {
		case r.kind == kindTimestamptz:
			return pipeline.String(string(appendZonedTimestamp(nil, us, timePrecision(r.typmod)))), true
		case timePrecision(r.typmod) <= 3:
			return pipeline.Int(floorDiv(us, 1000)), true
		}
		return pipeline.Int(us), true
	case "interval":
		v, ok := extractDefault(expr, "epoch")
		if !ok {
			return pipeline.Null, false
		}
		iv, ok := parseInterval([]byte(strings.ToLower(v)))
		if !ok {
			return pipeline.Null, false
		}
		return pipeline.Int(iv.micros()), true
	}
	return pipeline.Null, false
}

// extractDefault is PostgresDefaultValueConverter.extractDefault: the
// generated placeholder when the expression matches
// ^[(]?[A-Za-z0-9_]+\((?:.+(?:, ?.+)*)?\) (a function call), else the first
// match of '(.*?)' ('it”s' gives "it", as in Debezium), else the whole text
// when it has no quote at all. An unmatched quote gives no default.
func extractDefault(expr, generated string) (string, bool) {
	if isFunctionDefault(expr) {
		return generated, true
	}
	if strings.IndexByte(expr, '\'') < 0 {
		return expr, true
	}
	// Java's '.' stops at line terminators, so a match starts at the first
	// quote that has a closing one on the same line.
	for q := strings.IndexByte(expr, '\''); q >= 0; {
		rest := expr[q+1:]
		end := strings.IndexByte(rest, '\'')
		if end < 0 {
			return "", false
		}
		if !hasLineTerminator(rest[:end]) {
			return rest[:end], true
		}
		next := strings.IndexByte(rest, '\'')
		q += 1 + next
	}
	return "", false
}

// hasLineTerminator reports whether s holds a character Java's '.' does
// not match: \n, \r, U+0085, U+2028 or U+2029.
func hasLineTerminator(s string) bool {
	return strings.ContainsAny(s, "\n\r\u0085\u2028\u2029")
}

func isFunctionDefault(s string) bool {
	i := 0
	if i < len(s) && s[i] == '(' {
		i++
	}
	start := i
	for i < len(s) && (s[i] == '_' || s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == start || i >= len(s) || s[i] != '(' {
		return false
	}
	// ".+" up to some ')', or an immediate ')': a ')' before the end of the
	// line.
	line := s[i+1:]
	if j := strings.IndexAny(line, "\n\r\u0085\u2028\u2029"); j >= 0 {
		line = line[:j]
	}
	return strings.IndexByte(line, ')') >= 0
}

func intDefault(expr string, bitSize int) (pipeline.Value, bool) {
	if strings.HasPrefix(expr, "NULL::") {
		return pipeline.Null, false
	}
	v, ok := extractDefault(expr, "0")
	if !ok {
		return pipeline.Null, false
	}
	n, ok := javaParseInt(v, bitSize)
	return pipeline.Int(n), ok
}

// javaParseInt is Integer/Short/Long.parseInt: an optional sign and
// decimal digits, within the type's range.
func javaParseInt(s string, bitSize int) (int64, bool) {
	if s == "" || s == "+" || s == "-" || strings.Trim(s[1:], "0123456789") != "" ||
		(s[0] != '+' && s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, bitSize)
	return n, err == nil
}

// javaParseFloat is Float.parseFloat (bitSize 32) or Double.parseDouble
// (64) for what PostgreSQL defaults hold: surrounding blanks, NaN,
// [+-]Infinity, decimal numbers with an optional exponent and an optional
// f/d suffix.
func javaParseFloat(s string, bitSize int) (float64, bool) {
	s = strings.TrimSpace(s)
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) <= 1 {
		switch body {
		case "NaN":
			return math.NaN(), true
		case "Infinity":
			if s[0] == '-' {
				return math.Inf(-1), true
			}
			return math.Inf(1), true
		}
	}
	if n := len(s); n > 0 && strings.ContainsRune("fFdD", rune(s[n-1])) {
		s = s[:n-1]
	}
	if s == "" || strings.Trim(s, "0123456789.eE+-") != "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, bitSize)
	if err != nil {
		return 0, false
	}
	return f, true
}

// numericDefault: new BigDecimal(literal) through convertDecimal. A fixed
// scale must be reachable without rounding; an unconstrained NUMERIC
// default would be a VariableScaleDecimal struct, which Debezium drops
// (KAFKA-12694 workaround).
func numericDefault(r *resolved, lit string) (pipeline.Value, bool) {
	if r.kind != kindNumeric {
		return pipeline.Null, false
	}
	_, scale, ok := numericTypmod(r.typmod)
	if !ok {
		return pipeline.Null, false
	}
	x, from, ok := javaDecimal(lit)
	if !ok {
		return pipeline.Null, false
	}
	x, ok = rescale(x, from, scale)
	if !ok {
		return pipeline.Null, false
	}
	return pipeline.Bytes(bigIntBytes(x)), true
}

// bitsDefault converts a bit-string default through the BIT/VARBIT value
// converter: BIT VARYING(1) compares the number with 0; other lengths
// become Bits, where any character other than '1' is a clear bit.
func bitsDefault(r *resolved, v string) (pipeline.Value, bool) {
	if bitLength(r) <= 1 {
		n, err := strconv.ParseInt(v, 2, 32)
		if err != nil {
			return pipeline.Null, false
		}
		return pipeline.Bool(n != 0), true
	}
	b := []byte(v)
	for i := range b {
		if b[i] != '1' {
			b[i] = '0'
		}
	}
	return pipeline.Bytes(bitsBytes(b)), true
}

// canonicalUUID is UUID.fromString(s).toString() for the canonical form.
func canonicalUUID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	out := []byte(strings.ToLower(s))
	for i, c := range out {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if _, ok := unhex(c); !ok {
				return "", false
			}
		}
	}
	return string(out), true
}

// pgjdbcTimestamp reads what pgjdbc's TimestampUtils parses of a default:
// "Y…Y-MM-DD[ HH:MM[:SS[.f…]]][±HH[:MM[:SS]]][ BC]"; offsetSeconds is 0
// when absent. inf is ±1 for 'infinity'/'-infinity'.
func pgjdbcTimestamp(s string) (days, clock, offset int64, inf int, ok bool) {
	switch s {
	case "infinity":
		return 0, 0, 0, 1, true
	case "-infinity":
		return 0, 0, 0, -1, true
	}
	b := []byte(s)
	y, m, d, i, ok := parseDatePart(b)
	if !ok {
		return 0, 0, 0, 0, false
	}
	if i < len(b) && b[i] == ' ' && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '9' {
		var j int
		clock, j, ok = parseLocalTime(b, i+1)
		if !ok {
			return 0, 0, 0, 0, false
		}
		i = j
	}
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		if offset, i, ok = parseOffset(b, i); !ok {
			return 0, 0, 0, 0, false
		}
	}
	bc, ok := bcSuffix(b, i)
	if !ok || y == 0 {
		return 0, 0, 0, 0, false
	}
	y = astronomicalYear(y, bc)
	if !validDate(y, m, d) || clock >= microsPerDay {
		return 0, 0, 0, 0, false
	}
	return daysFromCivil(y, m, d), clock, offset, 0, true
}

// parseLocalTime reads java.time's LocalTime.parse form "HH:MM[:SS[.f…]]"
// at b[i:] into microseconds (nanoseconds truncated).
func parseLocalTime(b []byte, i int) (us int64, next int, ok bool) {
	h, ok1 := fixedDigits(b, i, 2)
	if !ok1 || i+2 >= len(b) || b[i+2] != ':' {
		return 0, 0, false
	}
	mi, ok2 := fixedDigits(b, i+3, 2)
	if !ok2 || h > 23 || mi > 59 {
		return 0, 0, false
	}
	us, i = (h*3600+mi*60)*microsPerSecond, i+5
	if i < len(b) && b[i] == ':' {
		s, ok := fixedDigits(b, i+1, 2)
		if !ok || s > 59 {
			return 0, 0, false
		}
		us, i = us+s*microsPerSecond, i+3
		if i < len(b) && b[i] == '.' {
			f, j, ok := digits(b, i+1, 9)
			if !ok {
				return 0, 0, false
			}
			for n := j - (i + 1); n < 9; n++ {
				f *= 10
			}
			us, i = us+f/1000, j
		}
	}
	return us, i, true
}

// dateDefault: TimestampUtils.toLocalDateTime(literal) as epoch days;
// 'infinity' is LocalDateTime.MAX/MIN, whose epoch day Debezium narrows to
// an int.
func dateDefault(s string) (pipeline.Value, bool) {
	days, _, _, inf, ok := pgjdbcTimestamp(s)
	switch {
	case !ok:
		return pipeline.Null, false
	case inf > 0:
		days = daysFromCivil(999999999, 12, 31)
	case inf < 0:
		days = daysFromCivil(-999999999, 1, 1)
	}
	return pipeline.Int(int64(int32(days))), true
}

// localTimeDefault: TimestampUtils.toLocalTime: "24:00:00…" is
// LocalTime.MAX, else LocalTime.parse.
func localTimeDefault(s string) (int64, bool) {
	if strings.HasPrefix(s, "24:00:00") {
		return microsPerDay - 1, true
	}
	us, i, ok := parseLocalTime([]byte(s), 0)
	return us, ok && i == len(s)
}

// offsetDateTimeDefault: TimestampUtils.toOffsetDateTime, moved to UTC.
// Infinite defaults overflow Debezium's conversions and give none.
func offsetDateTimeDefault(s string) (int64, bool) {
	days, clock, offset, inf, ok := pgjdbcTimestamp(s)
	if !ok || inf != 0 {
		return 0, false
	}
	if days >= math.MaxInt64/microsPerDay || days <= math.MinInt64/microsPerDay {
		return 0, false
	}
	return days*microsPerDay + clock - offset*microsPerSecond, true
}
