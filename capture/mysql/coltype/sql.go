package coltype

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/siphoncdc/siphon/pipeline"
)

// sqlDecodeFunc is what Column.SQLDecoder returns.
type sqlDecodeFunc = func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error)

// SQLDecoder converts a column value as the MySQL client protocol returns
// it — text protocol, or binary protocol with DATE, TIME, DATETIME and
// TIMESTAMP columns selected as CAST(col AS CHAR) — into exactly the
// pipeline.Value the binlog path (BinlogDecoder / RawDecoder) produces for
// the same stored value. Its results never alias fv's bytes, which the
// client reuses for the next row: what a value must own is copied into a.
//
// It expects the session siphon's query connections have: character set
// utf8mb4 (SET NAMES utf8mb4), so that the server sends character data,
// ENUM and SET members converted to UTF-8 whatever the column's character
// set; and time_zone '+00:00', so that TIMESTAMP text is UTC.
//
// Where the server's conversion loses what the binlog keeps, the values
// differ:
//
//   - A FLOAT read through the text protocol is the server's six-digit
//     rendering (3.14159 for 3.1415927); the binary protocol sends the
//     float itself.
//   - Bytes a column's character set does not define reach the binlog path
//     as themselves and become U+FFFD there; the server sends '?' for most
//     of them. latin1 is exact: the five bytes cp1252 leaves undefined come
//     as U+0081, U+008D, U+008F, U+0090 and U+009D, which are mapped back.
//   - MySQL's JSON arrives as the server's text, in which a DECIMAL and a
//     DOUBLE look alike; a number with a fraction and eight or more integer
//     digits that is the shortest form of its double is taken for a double
//     (as the binlog path tells them apart, a DECIMAL written so differs).
//
// SQL NULL is pipeline.Null. A value the column cannot hold, or text the
// column's type cannot read, is an error naming the column.
func (c Column) SQLDecoder() (func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error), error) {
	// The same columns as the binlog path, and the same errors for the others.
	if _, err := c.BinlogDecoder(); err != nil {
		return nil, err
	}
	d := decoder{col: c, prefix: "column " + c.Name + ": "}
	var dec sqlDecodeFunc
	switch c.Type {
	case TypeTiny, TypeShort, TypeInt24, TypeLong, TypeLongLong:
		dec = d.sqlInteger()
	case TypeDecimal:
		dec = d.sqlDecimal()
	case TypeFloat, TypeDouble:
		dec = d.sqlFloat()
	case TypeBit:
		dec = d.sqlBit()
	case TypeYear:
		dec = d.sqlYear()
	case TypeDate, TypeDateTime:
		dec = d.sqlDate()
	case TypeTimestamp:
		dec = d.sqlTimestamp()
	case TypeTime:
		dec = d.sqlTime()
	case TypeChar, TypeVarChar, TypeBlob:
		if c.isBinary() {
			dec = d.sqlBinary()
		} else {
			dec = d.sqlText()
		}
	case TypeEnum:
		dec = d.sqlEnum()
	case TypeSet:
		dec = d.sqlSet()
	case TypeJSON:
		if c.Flavor == FlavorMariaDB {
			dec = d.sqlText()
		} else {
			dec = d.sqlMySQLJSON()
		}
	case TypeGeometry:
		dec = d.sqlGeometry()
	case TypeVector:
		dec = d.sqlVector()
	default:
		return nil, d.fail("unsupported column type " + c.Type.String())
	}
	return dec, nil
}

// isNull reports a NULL value; every sqlDecodeFunc starts with it.
func isNull(fv *gomysql.FieldValue) bool { return fv.Type == gomysql.FieldValueTypeNull }

// intOf reads an integer value: the client parses integer columns itself
// (by the result field's signedness), other types are read as decimal text.
func (d decoder) intOf(fv *gomysql.FieldValue) (i int64, u uint64, unsigned bool, err error) {
	switch fv.Type {
	case gomysql.FieldValueTypeSigned:
		return fv.AsInt64(), 0, false, nil
	case gomysql.FieldValueTypeUnsigned:
		return 0, fv.AsUint64(), true, nil
	}
	i, err = strconv.ParseInt(unsafeString(fv.AsString()), 10, 64)
	if err != nil {
		return 0, 0, false, d.fail("unreadable " + d.col.sqlName() + " value " + strconv.Quote(string(fv.AsString())))
	}
	return i, 0, false, nil
}

// sqlInteger reads integers exactly as decoder.integer does.
func (d decoder) sqlInteger() sqlDecodeFunc {
	width := map[Type]uint{TypeTiny: 8, TypeShort: 16, TypeInt24: 24, TypeLong: 32, TypeLongLong: 64}[d.col.Type]
	mask := uint64(math.MaxUint64)
	minSigned, maxSigned := int64(math.MinInt64), int64(math.MaxInt64)
	if width < 64 {
		mask = 1<<width - 1
		minSigned, maxSigned = int64(-1)<<(width-1), int64(1)<<(width-1)-1
	}
	unsignedCol := d.col.Unsigned
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		i, u, isUnsigned, err := d.intOf(&fv)
		if err != nil {
			return pipeline.Null, err
		}
		if unsignedCol {
			if !isUnsigned {
				u = uint64(i)
			}
			return pipeline.Int(int64(u & mask)), nil
		}
		if isUnsigned {
			if u > uint64(maxSigned) {
				return pipeline.Null, d.fail("value " + strconv.FormatUint(u, 10) + " out of range of a signed " + d.col.sqlName())
			}
			i = int64(u)
		}
		if i < minSigned || i > maxSigned {
			return pipeline.Null, d.fail("value " + strconv.FormatInt(i, 10) + " out of range of " + d.col.sqlName())
		}
		return pipeline.Int(i), nil
	}
}

func (d decoder) sqlYear() sqlDecodeFunc {
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		i, u, isUnsigned, err := d.intOf(&fv)
		if err != nil {
			return pipeline.Null, err
		}
		if isUnsigned {
			i = int64(u)
		}
		if i == 0 {
			i = 1900 // see decoder.year
		}
		return pipeline.Int(int64(adjustYear(int(i)))), nil
	}
}

// maxDecimalBytes bounds BigInteger.toByteArray() of an unscaled value of
// at most maxWideDigits digits.
const (
	maxWideDigits   = 76 // below 2^255: wideUint.appendTwosComplement's range
	maxDecimalBytes = 32
)

func (d decoder) sqlDecimal() sqlDecodeFunc {
	scale := d.col.Scale
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		s := unsafeString(fv.AsString())
		dst := a.space(maxDecimalBytes)
		out, err := appendDecimalUnscaled(dst, s, scale)
		if err != nil {
			return pipeline.Null, d.fail("DECIMAL value " + strconv.Quote(s) + ": " + err.Error())
		}
		return pipeline.Bytes(a.claim(out)), nil
	}
}

// appendDecimalUnscaled appends decimalUnscaled(s, scale) to dst, without
// big.Int for up to maxWideDigits digits.
func appendDecimalUnscaled(dst []byte, s string, scale int) ([]byte, error) {
	body := s
	neg := false
	if len(body) > 0 && (body[0] == '-' || body[0] == '+') {
		neg = body[0] == '-'
		body = body[1:]
	}
	intPart, frac, _ := strings.Cut(body, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return nil, errDecimalSyntax
	}
	if len(frac) > scale {
		return nil, errDecimalScale
	}
	intPart = strings.TrimLeft(intPart, "0")
	pad := scale - len(frac)
	digits := len(intPart) + len(frac) + pad
	switch {
	case digits <= 18:
		var v int64
		for i := 0; i < len(intPart); i++ {
			v = v*10 + int64(intPart[i]-'0')
		}
		for i := 0; i < len(frac); i++ {
			v = v*10 + int64(frac[i]-'0')
		}
		for range pad {
			v *= 10
		}
		if neg {
			v = -v
		}
		return appendInt64Bytes(dst, v), nil
	case digits <= maxWideDigits:
		var w wideUint
		for _, part := range [2]string{intPart, frac} {
			// Nine digits at a time: one multiplication per group.
			for len(part) > 0 {
				n := min(len(part), 9)
				g, _ := atoiN(part[:n])
				w.mulAdd(uint64(pow10[n]), uint64(g))
				part = part[n:]
			}
		}
		for p := pad; p > 0; p -= 9 {
			w.mulAdd(uint64(pow10[min(p, 9)]), 0)
		}
		return w.appendTwosComplement(dst, neg), nil
	}
	b, err := decimalUnscaled(s, scale)
	return append(dst, b...), err
}

func (d decoder) sqlFloat() sqlDecodeFunc {
	float := d.col.Type == TypeFloat
	float32Schema := float && !d.col.floatAsDouble()
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		f := fv.AsFloat64()
		if fv.Type == gomysql.FieldValueTypeString {
			var err error
			if f, err = strconv.ParseFloat(unsafeString(fv.AsString()), 64); err != nil {
				return pipeline.Null, d.fail("unreadable " + d.col.Type.String() + " value " + strconv.Quote(string(fv.AsString())))
			}
		}
		switch {
		case float32Schema:
			return pipeline.Float32(float32(f)), nil
		case float:
			// FLOAT(M,D) has a double schema; its value is still a float.
			return pipeline.Float64(float64(float32(f))), nil
		}
		return pipeline.Float64(f), nil
	}
}

// sqlBit reads BIT's bytes, which the protocol sends big-endian.
func (d decoder) sqlBit() sqlDecodeFunc {
	n := d.col.Length
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		var u uint64
		for _, b := range fv.AsString() {
			u = u<<8 | uint64(b)
		}
		if n == 1 {
			return d.bitValue(u), nil
		}
		return pipeline.Bytes(a.claim(appendBitBytes(a.space(8), u, n))), nil
	}
}

// sqlDate reads DATE and DATETIME text.
func (d decoder) sqlDate() sqlDecodeFunc {
	zero, _ := d.zeroTemporal()
	date := d.col.Type == TypeDate
	micros := d.col.FSP > 3
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		s := unsafeString(fv.AsString())
		if date {
			t, ok := parseDate(s)
			if !ok {
				return pipeline.Null, d.fail("unreadable DATE value " + strconv.Quote(s))
			}
			return d.dateValue(t, zero)
		}
		t, ok := parseDateTime(s)
		if !ok {
			return pipeline.Null, d.fail("unreadable DATETIME value " + strconv.Quote(s))
		}
		return d.dateTimeValue(t, zero, micros)
	}
}

func (d decoder) sqlTime() sqlDecodeFunc {
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		s := unsafeString(fv.AsString())
		us, ok := parseTimeMicros(s)
		if !ok {
			return pipeline.Null, d.fail("unreadable TIME value " + strconv.Quote(s))
		}
		return pipeline.Int(us), nil
	}
}

// zonedTimestampLen bounds appendZonedTimestamp's output for a year of at
// most four digits: 2006-01-02T15:04:05.999999999Z.
const zonedTimestampLen = 30

// sqlTimestamp reads TIMESTAMP text in UTC.
func (d decoder) sqlTimestamp() sqlDecodeFunc {
	zero, _ := d.zeroTemporal()
	fsp := d.col.FSP
	textLen := 19 // the server's text of a TIMESTAMP(fsp)
	if fsp > 0 {
		textLen += 1 + fsp
	}
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		s := unsafeString(fv.AsString())
		if len(s) >= 10 && s[:10] == "0000-00-00" {
			return zero, nil
		}
		if len(s) == textLen && isTimestampText(s) {
			// The text is already the UTC wall time with fsp digits:
			// what appendZonedTimestamp would write, with a T and a Z.
			out := append(append(append(a.space(textLen+1), s[:10]...), 'T'), s[11:]...)
			return pipeline.String(unsafeString(a.claim(append(out, 'Z')))), nil
		}
		sec, nanos, ok := parseTimestampUTC(s)
		if !ok {
			return pipeline.Null, d.fail("unreadable TIMESTAMP value " + strconv.Quote(s))
		}
		out := appendZonedTimestamp(a.space(zonedTimestampLen), sec, nanos, fsp)
		return pipeline.String(unsafeString(a.claim(out))), nil
	}
}

// isTimestampText reports whether s is "YYYY-MM-DD HH:MM:SS[.f…]" of a
// valid date and time: the form whose ZonedTimestamp is the same digits.
func isTimestampText(s string) bool {
	t, ok := parseDateTime(s)
	return ok && t.valid()
}

// valid reports a real date and time of day, as time.Parse checks them.
func (t civilTime) valid() bool {
	return validDate(t.year, t.month, t.day) && t.hour < 24 && t.minute < 60 && t.second < 60
}

// timestampLayout is how the server writes a TIMESTAMP as text.
const timestampLayout = "2006-01-02 15:04:05.999999"

// parseTimestampUTC reads "YYYY-MM-DD HH:MM:SS[.f…]" as a UTC instant,
// accepting exactly what time.Parse(timestampLayout) accepts: the common
// form here, anything else through time.Parse.
func parseTimestampUTC(s string) (sec int64, nanos int, ok bool) {
	if t, fast := parseDateTime(s); fast && len(s) <= 29 && t.valid() {
		frac := 0
		if len(s) > 19 {
			frac, _ = atoiN(s[20:])
			for i := len(s) - 20; i < 9; i++ {
				frac *= 10
			}
		}
		return daysFromCivil(t.year, t.month, t.day)*86400 + int64(t.hour*3600+t.minute*60+t.second), frac, true
	}
	t, err := time.ParseInLocation(timestampLayout, s, time.UTC)
	if err != nil {
		return 0, 0, false
	}
	return t.Unix(), t.Nanosecond(), true
}

func (d decoder) sqlBinary() sqlDecodeFunc {
	padTo := 0
	if d.col.Type == TypeChar {
		padTo = d.col.Length // see decoder.binary
	}
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		b := fv.AsString()
		if len(b) < padTo {
			padded := a.space(padTo)[:padTo]
			clear(padded[copy(padded, b):])
			return pipeline.Bytes(a.claim(padded)), nil
		}
		return pipeline.Bytes(a.Copy(b)), nil
	}
}

// sqlText reads character data, which the server has converted to UTF-8.
func (d decoder) sqlText() sqlDecodeFunc {
	latin1 := normCharset(d.col.Charset) == "latin1"
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		return pipeline.String(a.text(fv.AsString(), latin1)), nil
	}
}

// text copies UTF-8 text, replacing ill-formed sequences as Java's decoder
// does (see appendValidUTF8); for latin1 it also maps back the five
// characters the server gives the bytes cp1252 leaves undefined.
func (a *Arena) text(b []byte, latin1 bool) string {
	if utf8.Valid(b) && !(latin1 && hasCP1252Undefined(b)) {
		return a.String(b)
	}
	out := appendValidUTF8(make([]byte, 0, len(b)+8), unsafeString(b))
	if latin1 {
		out = replaceCP1252Undefined(out)
	}
	return unsafeString(out)
}

// hasCP1252Undefined reports whether UTF-8 text holds U+0081, U+008D,
// U+008F, U+0090 or U+009D: MySQL's latin1 decoding of the bytes in
// cp1252Undefined.
func hasCP1252Undefined(b []byte) bool {
	for {
		i := bytes.IndexByte(b, 0xc2)
		if i < 0 || i+1 >= len(b) {
			return false
		}
		if isCP1252Undefined(b[i+1]) {
			return true
		}
		b = b[i+1:]
	}
}

func isCP1252Undefined(second byte) bool {
	for _, u := range cp1252Undefined {
		if second == u {
			return true
		}
	}
	return false
}

// replaceCP1252Undefined turns those characters of valid UTF-8 into U+FFFD.
func replaceCP1252Undefined(b []byte) []byte {
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); i++ {
		if b[i] == 0xc2 && i+1 < len(b) && isCP1252Undefined(b[i+1]) {
			out = utf8.AppendRune(out, utf8.RuneError)
			i++
			continue
		}
		out = append(out, b[i])
	}
	return out
}

// sqlEnum reads an ENUM's member name.
func (d decoder) sqlEnum() sqlDecodeFunc {
	members := d.col.Members
	index := make(map[string]int, len(members))
	for i, m := range members {
		index[m] = i
	}
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		b := fv.AsString()
		if len(b) == 0 {
			return pipeline.String(""), nil // the value of an invalid ENUM
		}
		i, ok := index[string(b)]
		if !ok {
			return pipeline.Null, d.fail("ENUM value " + strconv.Quote(string(b)) + " is not a member")
		}
		return pipeline.String(members[i]), nil
	}
}

// sqlSet reads a SET's comma-separated member names.
func (d decoder) sqlSet() sqlDecodeFunc {
	members := d.col.Members
	index := make(map[string]int, len(members))
	for i, m := range members {
		index[m] = i
	}
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		b := fv.AsString()
		if len(b) == 0 {
			return pipeline.String(""), nil
		}
		var mask uint64
		for rest := b; ; {
			name := rest
			i := bytes.IndexByte(rest, ',')
			if i >= 0 {
				name = rest[:i]
			}
			idx, ok := index[string(name)]
			if !ok {
				return pipeline.Null, d.fail("SET value " + strconv.Quote(string(b)) + " has a non-member " + strconv.Quote(string(name)))
			}
			mask |= 1 << idx
			if i < 0 {
				break
			}
			rest = rest[i+1:]
		}
		if mask&(mask-1) == 0 {
			return pipeline.String(members[bitsIndex(mask)]), nil
		}
		// Members in declaration order, as the server writes them and
		// setValue orders them.
		n := 0
		for x := mask; x != 0; x &= x - 1 {
			n += len(members[bitsIndex(x&-x)]) + 1
		}
		out := a.space(n - 1)
		for x := mask; x != 0; x &= x - 1 {
			if x != mask {
				out = append(out, ',')
			}
			out = append(out, members[bitsIndex(x&-x)]...)
		}
		return pipeline.String(unsafeString(a.claim(out))), nil
	}
}

// sqlMySQLJSON reads MySQL's JSON text: the server's rendering, which puts
// a space after ',' and ':' and writes doubles its own way, is brought to
// go-mysql's (RenderJSONAsMySQLText), then rewritten as the binlog path
// rewrites it.
func (d decoder) sqlMySQLJSON() sqlDecodeFunc {
	nullable := d.col.Nullable
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		b := fv.AsString()
		if len(b) == 0 {
			// As decoder.json treats an empty binary JSON value.
			if nullable {
				return pipeline.Null, nil
			}
			return pipeline.String("{}"), nil
		}
		compact, err := appendGoMySQLJSON(a.space(len(b)), b)
		if err != nil {
			return pipeline.Null, d.fail(err.Error())
		}
		out, err := debeziumJSON(unsafeString(a.claim(compact)))
		if err != nil {
			return pipeline.Null, d.fail(err.Error())
		}
		return pipeline.String(out), nil
	}
}

// appendGoMySQLJSON appends the server's JSON text b as go-mysql renders
// the same document: without whitespace between tokens, doubles as
// formatMySQLDouble writes them. The result is never longer than b except
// where a double's form is longer.
func appendGoMySQLJSON(dst []byte, b []byte) ([]byte, error) {
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			end, ok := jsonStringEnd(unsafeString(b), i)
			if !ok {
				return nil, errJSONSyntax
			}
			dst = append(dst, b[i:end]...)
			i = end
		case c == '-' || (c >= '0' && c <= '9'):
			end := i + 1
			for end < len(b) && strings.IndexByte("0123456789+-.eE", b[end]) >= 0 {
				end++
			}
			dst = appendGoMySQLNumber(dst, unsafeString(b[i:end]))
			i = end
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst, nil
}

// appendGoMySQLNumber appends a number of the server's JSON text as
// go-mysql would have written the JSON value it stands for. The server
// writes a double with an exponent, or plain with at least one fractional
// digit; a DECIMAL plain; an integer without a point. Plain numbers are
// ambiguous: a whole one ("5.0") reads the same either way, and one with
// a fraction is taken for a double only where go-mysql writes that double
// differently (with an exponent) and the text is the double's shortest
// form — eight or more integer digits (below that, debeziumJSON prints the
// double and the DECIMAL alike).
func appendGoMySQLNumber(dst []byte, tok string) []byte {
	if !strings.ContainsAny(tok, "eE") {
		intPart, frac, hasPoint := strings.Cut(tok, ".")
		digits := strings.TrimPrefix(intPart, "-")
		if !hasPoint || len(digits) < 8 || digits[0] == '0' || strings.TrimRight(frac, "0") == "" {
			return append(dst, tok...)
		}
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil || strconv.FormatFloat(f, 'f', -1, 64) != tok {
			return append(dst, tok...)
		}
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil || math.IsInf(f, 0) {
		return append(dst, tok...)
	}
	if f == math.Trunc(f) {
		return strconv.AppendFloat(dst, f, 'f', 1, 64)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

func (d decoder) sqlGeometry() sqlDecodeFunc {
	point := d.col.Geometry == "point"
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		b := fv.AsString()
		if len(b) < 4 {
			return d.geometryValue(b, point) // the error
		}
		return d.geometryValue(a.Copy(b), point)
	}
}

func (d decoder) sqlVector() sqlDecodeFunc {
	return func(fv gomysql.FieldValue, _ *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		return d.vectorValue(fv.AsString()) // decodes the floats: nothing aliases fv
	}
}

// Arena hands out copies of byte data in large blocks, so that a chunk of
// rows costs a few allocations instead of one per value. A value keeps its
// whole block alive, so an Arena serves values that live about as long as
// each other (the rows of one chunk); it never reuses memory it handed
// out. The zero Arena is ready to use; it is not safe for concurrent use.
type Arena struct {
	block []byte // the current block: handed out up to len, free after
	next  int    // the size of the next block
}

const (
	arenaFirstBlock = 4 << 10
	arenaMaxBlock   = 64 << 10
	// arenaMaxShared is the largest copy made in a block; larger ones get
	// an allocation of their own so that a block is never mostly waste.
	arenaMaxShared = 4 << 10
)

// Copy returns a copy of b (nil when b is empty).
func (a *Arena) Copy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return a.claim(append(a.space(len(b)), b...))
}

// String returns a copy of b as a string.
func (a *Arena) String(b []byte) string { return unsafeString(a.Copy(b)) }

// space returns an empty slice with room for n bytes, at the free end of
// the current block when they fit there; claim takes what was appended.
func (a *Arena) space(n int) []byte {
	if n > arenaMaxShared {
		return make([]byte, 0, n)
	}
	if cap(a.block)-len(a.block) < n {
		if a.next == 0 {
			a.next = arenaFirstBlock
		}
		a.block = make([]byte, 0, a.next)
		a.next = min(2*a.next, arenaMaxBlock)
	}
	return a.block[len(a.block):len(a.block)]
}

// claim marks b, built from a.space(), as handed out and returns it with
// its capacity cut to its length. b may have outgrown the space (append
// reallocated): then it is its own allocation and the block is unchanged.
func (a *Arena) claim(b []byte) []byte {
	b = b[:len(b):len(b)]
	free := a.block[len(a.block):cap(a.block)]
	if len(b) > 0 && len(free) >= len(b) && unsafe.SliceData(b) == unsafe.SliceData(free) {
		a.block = a.block[:len(a.block)+len(b)]
	}
	return b
}
