package verify

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// nullCanon is the canonical form of SQL NULL: no canonical value holds a
// NUL byte followed by this text.
const nullCanon = "\x00NULL"

// PostgreSQL's infinite timestamps as the PostgreSQL source writes them.
const (
	pgInfinity    = 9223372036825200000
	pgNegInfinity = -9223372036832400000
)

var errNoCanon = errors.New("values of this type are not compared")

// canCompare reports whether verify has a canonical form for a column.
func canCompare(c *sqlapply.Column) bool {
	switch c.Kind {
	case sqlapply.KindArray:
		return c.Elem != nil && arrayElement(c.Elem.Kind)
	case sqlapply.KindMap, sqlapply.KindUnknown:
		return false
	}
	return true
}

// arrayElement reports whether arrays of a kind are compared: those whose
// elements read back from a target's JSON (MySQL) or array text
// (PostgreSQL, read as JSON) without a type-specific format.
func arrayElement(k sqlapply.Kind) bool {
	switch k {
	case sqlapply.KindBool, sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64,
		sqlapply.KindFloat32, sqlapply.KindFloat64, sqlapply.KindDecimal, sqlapply.KindVarDecimal,
		sqlapply.KindString, sqlapply.KindEnum, sqlapply.KindUUID:
		return true
	}
	return false
}

// appendArrayCanon appends one element's canonical value to an array's.
func appendArrayCanon(dst []byte, i int, canon string) []byte {
	if i > 0 {
		dst = append(dst, ',')
	}
	if canon == nullCanon {
		return append(dst, "null"...)
	}
	return strconv.AppendQuote(dst, canon)
}

// arrayTargetCanon reads an array as JSON text (MySQL's JSON column,
// PostgreSQL's to_jsonb) into the canonical form of its elements.
func arrayTargetCanon(c *sqlapply.Column, s string) string {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var elems []any
	if err := d.Decode(&elems); err != nil {
		return s
	}
	tc := &targetColumn{family: famNumber}
	if c.Elem.Kind == sqlapply.KindString || c.Elem.Kind == sqlapply.KindEnum || c.Elem.Kind == sqlapply.KindUUID {
		tc.family = famText
	}
	out := []byte{'['}
	for i, e := range elems {
		var text []byte
		switch x := e.(type) {
		case nil:
		case string:
			text = []byte(x)
		case json.Number:
			text = []byte(x)
		case bool:
			text = []byte(strconv.FormatBool(x))
		default:
			return s
		}
		canon, err := targetCanon(c.Elem, tc, text)
		if err != nil {
			return s
		}
		out = appendArrayCanon(out, i, canon)
	}
	return string(append(out, ']'))
}

// sourceCanon is the canonical text of a source value: equal to the
// canonical text of the target value when the sink applied it correctly.
func sourceCanon(c *sqlapply.Column, v pipeline.Value) (string, error) {
	if v.IsNull() {
		return nullCanon, nil
	}
	switch c.Kind {
	case sqlapply.KindBool:
		if v.AsBool() {
			return "1", nil
		}
		return "0", nil
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindYear,
		sqlapply.KindDate, sqlapply.KindDuration:
		return strconv.FormatInt(v.AsInt(), 10), nil
	case sqlapply.KindUint64:
		return strconv.FormatUint(uint64(v.AsInt()), 10), nil
	case sqlapply.KindFloat32:
		return canonFloat(float64(v.AsFloat32()), 32), nil
	case sqlapply.KindFloat64:
		return canonFloat(v.AsFloat64(), 64), nil
	case sqlapply.KindDecimal:
		return normDecimal(string(sqlapply.AppendDecimal(nil, v.AsBytes(), c.Scale))), nil
	case sqlapply.KindVarDecimal:
		b, err := sqlapply.AppendVarDecimal(nil, v)
		return normDecimal(string(b)), err
	case sqlapply.KindString, sqlapply.KindEnum, sqlapply.KindSet, sqlapply.KindXML, sqlapply.KindInterval:
		return v.AsString(), nil
	case sqlapply.KindUUID:
		return strings.ToLower(v.AsString()), nil
	case sqlapply.KindBytes:
		return hex.EncodeToString(v.AsBytes()), nil
	case sqlapply.KindJSON:
		return normJSON(v.AsString())
	case sqlapply.KindTime:
		return strconv.FormatInt(sqlapply.ToMicros(v.AsInt(), c.Unit), 10), nil
	case sqlapply.KindTimestamp:
		us := v.AsInt()
		if c.Unit == sqlapply.Micros {
			switch us {
			case pgInfinity:
				return "infinity", nil
			case pgNegInfinity:
				return "-infinity", nil
			}
		}
		return strconv.FormatInt(sqlapply.ToMicros(us, c.Unit), 10), nil
	case sqlapply.KindZonedTimestamp:
		s := v.AsString()
		if s == "infinity" || s == "-infinity" {
			return s, nil
		}
		t, err := sqlapply.ParseZoned(s)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(t.UnixMicro(), 10), nil
	case sqlapply.KindZonedTime:
		us, err := parseZonedTime(v.AsString())
		return strconv.FormatInt(us, 10), err
	case sqlapply.KindBits:
		return leBitsDecimal(v.AsBytes()), nil
	case sqlapply.KindGeometry, sqlapply.KindPoint:
		wkb, _, _, err := sqlapply.GeometryWKB(v, c.Kind)
		return hex.EncodeToString(wkb), err
	case sqlapply.KindArray:
		if c.Elem == nil || !arrayElement(c.Elem.Kind) {
			return "", errNoCanon
		}
		out := []byte{'['}
		for i, e := range v.Elems() {
			canon, err := sourceCanon(c.Elem, e)
			if err != nil {
				return "", err
			}
			out = appendArrayCanon(out, i, canon)
		}
		return string(append(out, ']')), nil
	}
	return "", errNoCanon
}

// targetCanon is the canonical text of a value read from the target with
// the expression selectExpr chose (text), nil for NULL.
func targetCanon(c *sqlapply.Column, tc *targetColumn, text []byte) (string, error) {
	if text == nil {
		return nullCanon, nil
	}
	s := string(text)
	switch c.Kind {
	case sqlapply.KindBool:
		switch strings.ToLower(s) {
		case "t", "true", "1":
			return "1", nil
		case "f", "false", "0":
			return "0", nil
		}
		return s, nil
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindYear, sqlapply.KindUint64:
		return normDecimal(s), nil
	case sqlapply.KindFloat32:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return s, nil //nolint:nilerr // an unreadable value simply differs
		}
		return canonFloat(float64(float32(f)), 32), nil
	case sqlapply.KindFloat64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return s, nil //nolint:nilerr // an unreadable value simply differs
		}
		return canonFloat(f, 64), nil
	case sqlapply.KindDecimal, sqlapply.KindVarDecimal:
		return normDecimal(s), nil
	case sqlapply.KindString, sqlapply.KindEnum, sqlapply.KindSet, sqlapply.KindXML, sqlapply.KindInterval:
		return s, nil
	case sqlapply.KindUUID, sqlapply.KindBytes:
		return strings.ToLower(s), nil
	case sqlapply.KindGeometry, sqlapply.KindPoint:
		if tc.family == famPoint {
			x, y, ok := parsePGPoint(s)
			if !ok {
				return s, nil
			}
			return hex.EncodeToString(sqlapply.PointWKB(x, y)), nil
		}
		return strings.ToLower(s), nil
	case sqlapply.KindArray:
		if c.Elem == nil || !arrayElement(c.Elem.Kind) {
			return "", errNoCanon
		}
		return arrayTargetCanon(c, s), nil
	case sqlapply.KindJSON:
		j, err := normJSON(s)
		if err != nil {
			return s, nil //nolint:nilerr // not JSON: differs from the source's JSON
		}
		return j, nil
	case sqlapply.KindDate:
		if s == "infinity" || s == "-infinity" {
			return s, nil
		}
		days, ok := parseDate(s)
		if !ok {
			return s, nil
		}
		return strconv.FormatInt(days, 10), nil
	case sqlapply.KindTime, sqlapply.KindDuration, sqlapply.KindTimestamp, sqlapply.KindZonedTimestamp:
		switch tc.family {
		case famEpoch:
			return epochMicros(s), nil
		case famNumber:
			return normDecimal(s), nil
		}
		if us, ok := parseClock(s); ok {
			return strconv.FormatInt(us, 10), nil
		}
		if us, ok := parseDateTime(s); ok {
			return strconv.FormatInt(us, 10), nil
		}
		return s, nil
	case sqlapply.KindZonedTime:
		us, err := parseZonedTime(s)
		if err != nil {
			return s, nil //nolint:nilerr // an unreadable value simply differs
		}
		return strconv.FormatInt(us, 10), nil
	case sqlapply.KindBits:
		switch tc.family {
		case famBitString:
			n, ok := new(big.Int).SetString(s, 2)
			if !ok {
				return s, nil
			}
			return n.String(), nil
		case famBytes:
			b, err := hex.DecodeString(s)
			if err != nil {
				return s, nil //nolint:nilerr // an unreadable value simply differs
			}
			return leBitsDecimal(b), nil
		}
		return normDecimal(s), nil
	}
	return "", errNoCanon
}

func canonFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(f, 'g', -1, bits)
}

// normDecimal writes decimal text without a plus sign, leading zeros,
// trailing fraction zeros or a negative zero; other text is returned as it is.
func normDecimal(s string) string {
	neg := false
	body := s
	switch {
	case strings.HasPrefix(body, "-"):
		neg, body = true, body[1:]
	case strings.HasPrefix(body, "+"):
		body = body[1:]
	}
	intPart, frac, hasFrac := strings.Cut(body, ".")
	if intPart == "" && !hasFrac || !allDigits(intPart) || !allDigits(frac) {
		return s
	}
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if intPart == "" {
		intPart = "0"
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// normJSON re-encodes JSON text with sorted object keys, no insignificant
// whitespace and numbers as exact decimals.
func normJSON(s string) (string, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("json: %w", err)
	}
	v = normJSONValue(v)
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", fmt.Errorf("json: %w", err)
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

func normJSONValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normJSONValue(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normJSONValue(e)
		}
	case json.Number:
		if i := strings.IndexAny(string(x), "eE"); i >= 0 {
			// Exact arithmetic on 1e999999999 would never end.
			if e, err := strconv.Atoi(string(x[i+1:])); err != nil || e > 1000 || e < -1000 {
				return x
			}
		}
		r, ok := new(big.Rat).SetString(string(x))
		if !ok {
			return x
		}
		if r.IsInt() {
			return json.Number(r.Num().String())
		}
		return json.Number(normDecimal(r.FloatString(40)))
	}
	return v
}

// leBitsDecimal reads Debezium Bits (little-endian bytes) as an unsigned
// decimal number.
func leBitsDecimal(b []byte) string {
	be := make([]byte, len(b))
	for i, c := range b {
		be[len(b)-1-i] = c
	}
	return new(big.Int).SetBytes(be).String()
}

// epochMicros turns seconds since the epoch as exact decimal text
// (PostgreSQL's extract(epoch from …)) into microseconds.
func epochMicros(s string) string {
	switch strings.ToLower(s) {
	case "infinity":
		return "infinity"
	case "-infinity":
		return "-infinity"
	}
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	secs, frac, _ := strings.Cut(body, ".")
	if !allDigits(secs) || !allDigits(frac) || secs == "" {
		return s
	}
	frac = (frac + "000000")[:6]
	n, ok := new(big.Int).SetString(secs+frac, 10)
	if !ok {
		return s
	}
	if neg {
		n.Neg(n)
	}
	return n.String()
}

// parseClock reads [-]H:MM:SS[.ffffff] (hours may exceed 23) as microseconds.
func parseClock(s string) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	secs, frac, _ := strings.Cut(parts[2], ".")
	sec, err3 := strconv.ParseInt(secs, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || !allDigits(frac) {
		return 0, false
	}
	f, _ := strconv.ParseInt((frac + "000000")[:6], 10, 64)
	us := ((h*60+m)*60+sec)*1_000_000 + f
	if neg {
		us = -us
	}
	return us, true
}

// parseDate reads YYYY-MM-DD[ BC] as days since the epoch.
func parseDate(s string) (int64, bool) {
	bc := strings.HasSuffix(s, " BC")
	s = strings.TrimSuffix(s, " BC")
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return 0, false
	}
	y, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	d, err3 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, false
	}
	if bc {
		y = 1 - y
	}
	return daysFromCivil(y, m, d), true
}

// parseDateTime reads YYYY-MM-DD HH:MM:SS[.ffffff][ BC] (or with a T) as
// microseconds since the epoch.
func parseDateTime(s string) (int64, bool) {
	bc := strings.HasSuffix(s, " BC")
	s = strings.TrimSuffix(s, " BC")
	date, clock, ok := strings.Cut(s, " ")
	if !ok {
		date, clock, ok = strings.Cut(s, "T")
	}
	if !ok {
		return 0, false
	}
	if bc {
		date += " BC"
	}
	days, ok := parseDate(date)
	if !ok {
		return 0, false
	}
	us, ok := parseClock(clock)
	if !ok || us < 0 {
		return 0, false
	}
	return days*86_400_000_000 + us, true
}

// parseZonedTime reads HH:MM:SS[.f] with an optional zone (Z, ±hh, ±hh:mm)
// as microseconds of the day in UTC.
func parseZonedTime(s string) (int64, error) {
	clock, offset := s, int64(0)
	if i := strings.IndexAny(s, "Z+-"); i > 0 {
		clock = s[:i]
		if zone := s[i:]; zone != "Z" {
			sign := int64(1)
			if zone[0] == '-' {
				sign = -1
			}
			hh, mm, _ := strings.Cut(zone[1:], ":")
			h, err1 := strconv.ParseInt(hh, 10, 64)
			var m int64
			var err2 error
			if mm != "" {
				m, err2 = strconv.ParseInt(mm, 10, 64)
			}
			if err1 != nil || err2 != nil {
				return 0, fmt.Errorf("time zone %q", zone)
			}
			offset = sign * (h*3600 + m*60) * 1_000_000
		}
	}
	us, ok := parseClock(clock)
	if !ok {
		return 0, fmt.Errorf("time %q", s)
	}
	const day = 86_400_000_000
	return ((us-offset)%day + day) % day, nil
}

// parsePGPoint reads PostgreSQL's point text (x,y).
func parsePGPoint(s string) (x, y float64, ok bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	a, b, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	var err1, err2 error
	x, err1 = strconv.ParseFloat(strings.TrimSpace(a), 64)
	y, err2 = strconv.ParseFloat(strings.TrimSpace(b), 64)
	return x, y, err1 == nil && err2 == nil
}

// daysFromCivil converts a proleptic Gregorian date (astronomical year) to
// days since 1970-01-01.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// keyable reports whether keyParam handles a key column's kind.
func keyable(k sqlapply.Kind) bool {
	switch k {
	case sqlapply.KindGeometry, sqlapply.KindPoint, sqlapply.KindZonedTime, sqlapply.KindArray, sqlapply.KindMap,
		sqlapply.KindUnknown, sqlapply.KindJSON:
		return false
	}
	return true
}

// keyParam turns a key column's canonical value into a statement argument
// for an engine ("postgres": text, cast in the statement; "mysql": a
// typed argument). family is the column's family on that side.
func keyParam(c *sqlapply.Column, canon string, engine string, family typeFamily) (any, error) {
	pg := engine == enginePostgres
	num := func() (any, error) {
		if pg {
			return canon, nil
		}
		if strings.HasPrefix(canon, "-") {
			return strconv.ParseInt(canon, 10, 64)
		}
		return strconv.ParseUint(canon, 10, 64)
	}
	switch c.Kind {
	case sqlapply.KindBool, sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64,
		sqlapply.KindYear, sqlapply.KindUint64:
		return num()
	case sqlapply.KindFloat32, sqlapply.KindFloat64:
		if pg {
			return canon, nil
		}
		return strconv.ParseFloat(canon, 64)
	case sqlapply.KindDecimal, sqlapply.KindVarDecimal, sqlapply.KindString, sqlapply.KindEnum, sqlapply.KindSet,
		sqlapply.KindUUID, sqlapply.KindXML, sqlapply.KindInterval, sqlapply.KindJSON:
		return canon, nil
	case sqlapply.KindBytes:
		if pg {
			return `\x` + canon, nil
		}
		return hex.DecodeString(canon)
	case sqlapply.KindDate:
		days, err := strconv.ParseInt(canon, 10, 64)
		if err != nil {
			return canon, nil //nolint:nilerr // infinity
		}
		style := sqlapply.ISODate
		if pg {
			style = sqlapply.BCDate
		}
		b, err := sqlapply.AppendDate(nil, days, style)
		return string(b), err
	case sqlapply.KindTime, sqlapply.KindDuration:
		us, err := strconv.ParseInt(canon, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("key value %q: %w", canon, err)
		}
		if family == famNumber {
			return num()
		}
		return string(sqlapply.AppendClock(nil, us)), nil
	case sqlapply.KindTimestamp, sqlapply.KindZonedTimestamp:
		us, err := strconv.ParseInt(canon, 10, 64)
		if err != nil {
			return canon, nil //nolint:nilerr // infinity
		}
		style := sqlapply.ISODate
		if pg {
			style = sqlapply.BCDate
		}
		b, err := sqlapply.AppendTimestamp(nil, us, style)
		if pg && c.Kind == sqlapply.KindZonedTimestamp {
			b = append(b, "+00"...)
			if bytes.HasSuffix(b[:len(b)-3], []byte(" BC")) {
				b = append(b[:len(b)-6], "+00 BC"...)
			}
		}
		return string(b), err
	case sqlapply.KindBits:
		if pg && family == famBitString {
			n, ok := new(big.Int).SetString(canon, 10)
			if !ok {
				return nil, fmt.Errorf("key value %q is not a number", canon)
			}
			s := n.Text(2)
			if w := int(c.Length); len(s) < w {
				s = strings.Repeat("0", w-len(s)) + s
			}
			return s, nil
		}
		return num()
	}
	return nil, fmt.Errorf("key columns of type %s cannot be looked up by verify", c.Kind)
}

// displayValue shortens a canonical value for a report.
func displayValue(c *sqlapply.Column, canon string) string {
	if canon == nullCanon {
		return "NULL"
	}
	switch c.Kind {
	case sqlapply.KindBytes, sqlapply.KindGeometry, sqlapply.KindPoint:
		canon = "0x" + canon
	case sqlapply.KindDate, sqlapply.KindTime, sqlapply.KindTimestamp, sqlapply.KindZonedTimestamp:
		if p, err := keyParam(c, canon, engineMySQL, famText); err == nil {
			if s, ok := p.(string); ok {
				canon = s
			}
		}
	}
	const limit = 120
	if len(canon) > limit {
		return canon[:limit] + "…(" + strconv.Itoa(len(canon)) + " bytes)"
	}
	return canon
}
