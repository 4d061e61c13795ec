package coltype

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/siphoncdc/siphon/pipeline"
)

// ErrNoRawDecoder is returned (wrapped) by RawDecoder for a column whose
// values it does not decode from row image bytes: MySQL's binary JSON, and
// columns whose description disagrees with the TABLE_MAP type or metadata.
// Such a table keeps go-mysql's decoder and BinlogDecoder.
var ErrNoRawDecoder = errors.New("no raw binlog decoder")

// RawDecodeFunc decodes one non-NULL value from the start of data (a binlog
// row image positioned at the value) and returns it with the number of
// bytes consumed. Strings and bytes in the value may alias data.
type RawDecodeFunc func(data []byte) (pipeline.Value, int, error)

// RawDecoder returns the raw decoder for this column given its TABLE_MAP
// type code and metadata (TableMapEvent.ColumnType[i], ColumnMeta[i]). For
// the same bytes it produces exactly the value BinlogDecoder produces from
// what go-mysql decodes, with one premise: integers are read with the
// column's signedness. go-mysql reads them with the TABLE_MAP's, which
// differs only when the TABLE_MAP says unsigned and the column says signed —
// a column never built so (FromBinlog and the schema merge take signedness
// from the TABLE_MAP whenever it carries any).
//
// A malformed value decodes as go-mysql's reading of it followed by
// BinlogDecoder's does (go-mysql renders some values as text, which
// BinlogDecoder parses back), with one exception: a value longer than data
// is an error, where go-mysql may read its end from bytes past the event.
//
// It returns an error wrapping ErrNoRawDecoder for MYSQL_TYPE_JSON and for
// a column whose Type, precision or scale does not match the TABLE_MAP;
// MariaDB's JSON, a LONGTEXT in the binlog, is decoded. The errors
// BinlogDecoder returns (unknown character set, unsupported type) are
// returned as they are.
func (c Column) RawDecoder(binlogType byte, meta uint16) (RawDecodeFunc, error) {
	if _, err := c.BinlogDecoder(); err != nil {
		return nil, err
	}
	d := decoder{col: c, prefix: "column " + c.Name + ": "}
	dec, why, err := d.raw(binlogType, meta)
	if err != nil {
		return nil, err
	}
	if dec == nil {
		return nil, fmt.Errorf("column %s: %s: %w", c.Name, why, ErrNoRawDecoder)
	}
	return dec, nil
}

func (d decoder) raw(binlogType byte, meta uint16) (dec RawDecodeFunc, why string, err error) {
	c := d.col
	want := func(t Type) string {
		return "binlog type " + strconv.Itoa(int(binlogType)) + " holds " + t.String() + ", the column is " + c.Type.String()
	}
	switch binlogType {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG:
		t := map[byte]Type{mysql.MYSQL_TYPE_TINY: TypeTiny, mysql.MYSQL_TYPE_SHORT: TypeShort, mysql.MYSQL_TYPE_INT24: TypeInt24,
			mysql.MYSQL_TYPE_LONG: TypeLong, mysql.MYSQL_TYPE_LONGLONG: TypeLongLong}[binlogType]
		if c.Type != t {
			return nil, want(t), nil
		}
		return d.rawInteger(), "", nil
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		precision, scale := int(meta>>8), int(meta&0xff)
		if c.Type != TypeDecimal {
			return nil, want(TypeDecimal), nil
		}
		if precision < 1 || precision > 65 || scale > 30 || scale > precision {
			return nil, "DECIMAL(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + ") in TABLE_MAP is impossible", nil
		}
		if precision != c.Precision || scale != c.Scale {
			return nil, "the TABLE_MAP has DECIMAL(" + strconv.Itoa(precision) + "," + strconv.Itoa(scale) + "), the column DECIMAL(" +
				strconv.Itoa(c.Precision) + "," + strconv.Itoa(c.Scale) + ")", nil
		}
		return d.rawDecimal(precision, scale), "", nil
	case mysql.MYSQL_TYPE_FLOAT:
		if c.Type != TypeFloat {
			return nil, want(TypeFloat), nil
		}
		return d.rawFloat(), "", nil
	case mysql.MYSQL_TYPE_DOUBLE:
		if c.Type != TypeDouble {
			return nil, want(TypeDouble), nil
		}
		return d.rawDouble(), "", nil
	case mysql.MYSQL_TYPE_BIT:
		if c.Type != TypeBit {
			return nil, want(TypeBit), nil
		}
		nbits := int(meta>>8)*8 + int(meta&0xff)
		if nbits < 1 || nbits > 64 {
			return nil, "BIT(" + strconv.Itoa(nbits) + ") in TABLE_MAP is impossible", nil
		}
		return d.rawBit((nbits + 7) / 8), "", nil
	case mysql.MYSQL_TYPE_YEAR:
		if c.Type != TypeYear {
			return nil, want(TypeYear), nil
		}
		return d.rawYear(), "", nil
	case mysql.MYSQL_TYPE_DATE:
		if c.Type != TypeDate {
			return nil, want(TypeDate), nil
		}
		return d.rawDate(), "", nil
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		if c.Type != TypeTime {
			return nil, want(TypeTime), nil
		}
		if binlogType == mysql.MYSQL_TYPE_TIME {
			return d.rawTime(), "", nil
		}
		if meta > 6 {
			return nil, "TIME(" + strconv.Itoa(int(meta)) + ") in TABLE_MAP is impossible", nil
		}
		return d.rawTime2(int(meta)), "", nil
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		if c.Type != TypeDateTime {
			return nil, want(TypeDateTime), nil
		}
		if binlogType == mysql.MYSQL_TYPE_DATETIME {
			return d.rawDateTime(), "", nil
		}
		if meta > 6 {
			return nil, "DATETIME(" + strconv.Itoa(int(meta)) + ") in TABLE_MAP is impossible", nil
		}
		return d.rawDateTime2(int(meta)), "", nil
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		if c.Type != TypeTimestamp {
			return nil, want(TypeTimestamp), nil
		}
		if binlogType == mysql.MYSQL_TYPE_TIMESTAMP {
			return d.rawTimestamp(), "", nil
		}
		if meta > 6 {
			return nil, "TIMESTAMP(" + strconv.Itoa(int(meta)) + ") in TABLE_MAP is impossible", nil
		}
		return d.rawTimestamp2(int(meta)), "", nil
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		if c.Type != TypeVarChar {
			return nil, want(TypeVarChar), nil
		}
		return d.rawString(int(meta))
	case mysql.MYSQL_TYPE_STRING:
		realType, length := stringRealType(meta)
		switch realType {
		case mysql.MYSQL_TYPE_STRING:
			if c.Type != TypeChar {
				return nil, want(TypeChar), nil
			}
			return d.rawString(length)
		case mysql.MYSQL_TYPE_ENUM:
			if c.Type != TypeEnum {
				return nil, want(TypeEnum), nil
			}
			size := int(meta & 0xff)
			if size != 1 && size != 2 {
				return nil, "ENUM stored in " + strconv.Itoa(size) + " bytes is impossible", nil
			}
			return d.rawEnum(size), "", nil
		case mysql.MYSQL_TYPE_SET:
			if c.Type != TypeSet {
				return nil, want(TypeSet), nil
			}
			size := int(meta & 0xff)
			if size < 1 || size > 8 {
				return nil, "SET stored in " + strconv.Itoa(size) + " bytes is impossible", nil
			}
			return d.rawSet(size), "", nil
		}
		return nil, "MYSQL_TYPE_STRING of real type " + strconv.Itoa(int(realType)), nil
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR:
		if meta < 1 || meta > 4 {
			return nil, "a " + strconv.Itoa(int(meta)) + "-byte length prefix is impossible", nil
		}
		var conv func([]byte) (pipeline.Value, error)
		switch {
		case binlogType == mysql.MYSQL_TYPE_GEOMETRY && c.Type == TypeGeometry:
			point := c.Geometry == "point"
			conv = func(b []byte) (pipeline.Value, error) { return d.geometryValue(b, point) }
		case binlogType == mysql.MYSQL_TYPE_VECTOR && c.Type == TypeVector:
			conv = d.vectorValue
		case binlogType == mysql.MYSQL_TYPE_BLOB && (c.Type == TypeBlob || c.Type == TypeJSON && c.Flavor == FlavorMariaDB):
			if conv, err = d.bytesConverter(); err != nil {
				return nil, "", err
			}
		default:
			return nil, "binlog type " + strconv.Itoa(int(binlogType)) + " does not hold a " + c.Type.String(), nil
		}
		return d.rawBlob(int(meta), conv), "", nil
	case mysql.MYSQL_TYPE_JSON:
		return nil, "MySQL binary JSON is decoded by go-mysql only", nil
	}
	return nil, "binlog type " + strconv.Itoa(int(binlogType)), nil
}

func (d decoder) truncated(need, have int) error {
	return d.fail("row image truncated: the value needs " + strconv.Itoa(need) + " bytes, " + strconv.Itoa(have) + " left")
}

func (d decoder) rawInteger() RawDecodeFunc {
	truncated := func(need int, data []byte) (pipeline.Value, int, error) {
		return pipeline.Null, 0, d.truncated(need, len(data))
	}
	// go-mysql reads the value at the column's width; BinlogDecoder then
	// reads its bits by the column's signedness (BIGINT UNSIGNED wraps).
	unsigned := d.col.Unsigned
	switch d.col.Type {
	case TypeTiny:
		return func(data []byte) (pipeline.Value, int, error) {
			if len(data) < 1 {
				return truncated(1, data)
			}
			if unsigned {
				return pipeline.Int(int64(data[0])), 1, nil
			}
			return pipeline.Int(int64(int8(data[0]))), 1, nil
		}
	case TypeShort:
		return func(data []byte) (pipeline.Value, int, error) {
			if len(data) < 2 {
				return truncated(2, data)
			}
			u := binary.LittleEndian.Uint16(data)
			if unsigned {
				return pipeline.Int(int64(u)), 2, nil
			}
			return pipeline.Int(int64(int16(u))), 2, nil
		}
	case TypeInt24:
		return func(data []byte) (pipeline.Value, int, error) {
			if len(data) < 3 {
				return truncated(3, data)
			}
			u := uint32(data[0]) | uint32(data[1])<<8 | uint32(data[2])<<16
			if unsigned {
				return pipeline.Int(int64(u)), 3, nil
			}
			return pipeline.Int(int64(int32(u<<8) >> 8)), 3, nil
		}
	case TypeLong:
		return func(data []byte) (pipeline.Value, int, error) {
			if len(data) < 4 {
				return truncated(4, data)
			}
			u := binary.LittleEndian.Uint32(data)
			if unsigned {
				return pipeline.Int(int64(u)), 4, nil
			}
			return pipeline.Int(int64(int32(u))), 4, nil
		}
	default: // TypeLongLong
		return func(data []byte) (pipeline.Value, int, error) {
			if len(data) < 8 {
				return truncated(8, data)
			}
			return pipeline.Int(int64(binary.LittleEndian.Uint64(data))), 8, nil
		}
	}
}

func (d decoder) rawFloat() RawDecodeFunc {
	float32Schema := !d.col.floatAsDouble()
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 4 {
			return pipeline.Null, 0, d.truncated(4, len(data))
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(data))
		if float32Schema {
			return pipeline.Float32(f), 4, nil
		}
		return pipeline.Float64(float64(f)), 4, nil
	}
}

func (d decoder) rawDouble() RawDecodeFunc {
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 8 {
			return pipeline.Null, 0, d.truncated(8, len(data))
		}
		return pipeline.Float64(math.Float64frombits(binary.LittleEndian.Uint64(data))), 8, nil
	}
}

// rawBit reads a BIT value: size bytes, big-endian (go-mysql's decodeBit).
func (d decoder) rawBit(size int) RawDecodeFunc {
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		var u uint64
		for _, b := range data[:size] {
			u = u<<8 | uint64(b)
		}
		return d.bitValue(u), size, nil
	}
}

func (d decoder) rawYear() RawDecodeFunc {
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 1 {
			return pipeline.Null, 0, d.truncated(1, 0)
		}
		// The stored byte is the year - 1900; go-mysql turns 0 into year 0,
		// which BinlogDecoder reads as 1900 like Debezium.
		return pipeline.Int(1900 + int64(data[0])), 1, nil
	}
}

func (d decoder) rawDate() RawDecodeFunc {
	zero, _ := d.zeroTemporal()
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 3 {
			return pipeline.Null, 0, d.truncated(3, len(data))
		}
		v := int(data[0]) | int(data[1])<<8 | int(data[2])<<16
		if v == 0 {
			return zero, 3, nil
		}
		t := civilTime{year: v >> 9, month: v >> 5 & 15, day: v & 31}
		if t.year > 9999 {
			// go-mysql's "%04d-%02d-%02d" rendering is then no date.
			return pipeline.Null, 3, d.fail("unreadable DATE value " + strconv.Quote(fmt.Sprintf("%04d-%02d-%02d", t.year, t.month, t.day)))
		}
		val, err := d.dateValue(t, zero)
		return val, 3, err
	}
}

// rawTime reads the pre-5.6 TIME: HHMMSS as a 3-byte little-endian number.
func (d decoder) rawTime() RawDecodeFunc {
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 3 {
			return pipeline.Null, 0, d.truncated(3, len(data))
		}
		v := int64(data[0]) | int64(data[1])<<8 | int64(data[2])<<16
		h, m, s := v/10000, v%10000/100, v%100
		return pipeline.Int((h*3600 + m*60 + s) * 1_000_000), 3, nil
	}
}

func (d decoder) rawTime2(fsp int) RawDecodeFunc {
	size := 3 + (fsp+1)/2
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		return pipeline.Int(time2Micros(data, fsp)), size, nil
	}
}

// time2Micros follows go-mysql's decodeTime2 and timeFormat, then
// BinlogDecoder's parse of the text they produce, into signed microseconds.
func time2Micros(data []byte, fsp int) int64 {
	var tmp int64
	switch fsp {
	case 1, 2:
		intPart := int64(beUint(data[:3])) - 0x800000
		frac := int64(data[3])
		if intPart < 0 && frac != 0 {
			// Negative values store the fraction reversed (MySQL's my_time.cc).
			intPart++
			frac -= 0x100
		}
		tmp = intPart<<24 + frac*10000
	case 3, 4:
		intPart := int64(beUint(data[:3])) - 0x800000
		frac := int64(binary.BigEndian.Uint16(data[3:]))
		if intPart < 0 && frac != 0 {
			intPart++
			frac -= 0x10000
		}
		tmp = intPart<<24 + frac*100
	case 5, 6:
		tmp = int64(beUint(data[:6])) - 0x800000000000
	default:
		tmp = (int64(beUint(data[:3])) - 0x800000) << 24
	}
	neg := tmp < 0
	if neg {
		tmp = -tmp
	}
	hms := tmp >> 24
	hour := (hms >> 12) % (1 << 10)
	minute := (hms >> 6) % (1 << 6)
	second := hms % (1 << 6)
	us := (hour*3600 + minute*60 + second) * 1_000_000
	if secPart := tmp % (1 << 24); secPart != 0 {
		us += printedFraction(secPart, fsp)
	}
	if neg {
		us = -us
	}
	return us
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000}

// printedFraction is the microseconds BinlogDecoder reads back from the
// fraction go-mysql prints for frac at fsp (1..6): "%06d" of frac with its
// last 6-fsp digits cut, of which the first six count. frac may exceed
// 999999 only in a malformed value.
func printedFraction(frac int64, fsp int) int64 {
	digits := 6
	for x := frac / 1000000; x > 0; x /= 10 {
		digits++
	}
	keep := digits - (6 - fsp)
	q := frac / pow10[6-fsp]
	if keep > 6 {
		q /= pow10[keep-6]
		keep = 6
	}
	return q * pow10[6-keep]
}

// rawDateTime reads the pre-5.6 DATETIME: YYYYMMDDHHMMSS as an 8-byte
// little-endian number.
func (d decoder) rawDateTime() RawDecodeFunc {
	zero, _ := d.zeroTemporal()
	micros := d.col.FSP > 3
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 8 {
			return pipeline.Null, 0, d.truncated(8, len(data))
		}
		v := binary.LittleEndian.Uint64(data)
		if v == 0 {
			return zero, 8, nil
		}
		date, clock := v/1000000, v%1000000
		year, month, day := int(date/10000), int(date%10000/100), int(date%100)
		hour, minute, second := int(clock/10000), int(clock%10000/100), int(clock%100)
		if month == 0 || day == 0 {
			// go-mysql renders these as "%04d-%02d-%02d %02d:%02d:%02d",
			// a zero date when it parses.
			if year > 9999 {
				return pipeline.Null, 8, d.fail("unreadable DATETIME value " + strconv.Quote(fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", year, month, day, hour, minute, second)))
			}
			return zero, 8, nil
		}
		// go-mysql makes a time.Time of it, which normalises out-of-range fields.
		t := civilOf(time.Date(year, time.Month(month), day, hour, minute, second, 0, time.UTC))
		val, err := d.dateTimeValue(t, zero, micros)
		return val, 8, err
	}
}

// datetimeEpoch is DATETIME2's packed integer part of 1970-01-01 00:00:00:
// go-mysql renders earlier values as text rather than a time.Time.
const datetimeEpoch = 107420450816

func (d decoder) rawDateTime2(fsp int) RawDecodeFunc {
	zero, _ := d.zeroTemporal()
	micros := d.col.FSP > 3
	size := 5 + (fsp+1)/2
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		intPart := int64(beUint(data[:5])) - 0x8000000000
		frac := fracOf(data[5:], fsp)
		if intPart == 0 {
			return zero, size, nil
		}
		tmp := intPart<<24 + frac
		if tmp < 0 {
			tmp = -tmp
		}
		ymdhms := tmp >> 24
		ymd, hms := ymdhms>>17, ymdhms%(1<<17)
		ym := ymd >> 5
		t := civilTime{
			year: int(ym / 13), month: int(ym % 13), day: int(ymd % (1 << 5)),
			hour: int(hms >> 12), minute: int((hms >> 6) % (1 << 6)), second: int(hms % (1 << 6)),
		}
		if intPart < datetimeEpoch || t.month == 0 || t.day == 0 {
			val, err := d.printedDateTime(t, frac, fsp, zero, micros)
			return val, size, err
		}
		if t.hour > 23 || t.minute > 59 || t.second > 59 || frac > 999999 || !validDate(t.year, t.month, t.day) {
			// go-mysql's time.Date normalises out-of-range fields.
			t = civilOf(time.Date(t.year, time.Month(t.month), t.day, t.hour, t.minute, t.second, int(frac*1000), time.UTC))
		} else {
			t.micro = int(frac)
		}
		val, err := d.dateTimeValue(t, zero, micros)
		return val, size, err
	}
}

// printedDateTime is what BinlogDecoder makes of the text go-mysql prints
// for a DATETIME2 it does not turn into a time.Time.
func (d decoder) printedDateTime(t civilTime, frac int64, fsp int, zero pipeline.Value, micros bool) (pipeline.Value, error) {
	if t.year < 0 || t.year > 9999 || t.month < 0 || t.day < 0 || t.hour < 0 || t.minute < 0 || t.second < 0 {
		// Not "YYYY-MM-DD HH:MM:SS" with two-digit fields.
		s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day, t.hour, t.minute, t.second)
		return pipeline.Null, d.fail("unreadable DATETIME value " + strconv.Quote(s))
	}
	if fsp > 0 {
		t.micro = int(printedFraction(frac, fsp))
	}
	return d.dateTimeValue(t, zero, micros)
}

// fracOf reads the fractional seconds after a TIMESTAMP2/DATETIME2 integer
// part, in microseconds (go-mysql's reading, unchecked).
func fracOf(data []byte, fsp int) int64 {
	switch fsp {
	case 1, 2:
		return int64(data[0]) * 10000
	case 3, 4:
		return int64(binary.BigEndian.Uint16(data)) * 100
	case 5, 6:
		return int64(beUint(data[:3]))
	}
	return 0
}

func (d decoder) rawTimestamp() RawDecodeFunc {
	zero, _ := d.zeroTemporal()
	fsp := d.col.FSP
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 4 {
			return pipeline.Null, 0, d.truncated(4, len(data))
		}
		sec := binary.LittleEndian.Uint32(data)
		if sec == 0 {
			return zero, 4, nil
		}
		return timestampValue(int64(sec), 0, fsp), 4, nil
	}
}

func (d decoder) rawTimestamp2(binlogFSP int) RawDecodeFunc {
	zero, _ := d.zeroTemporal()
	fsp := d.col.FSP
	size := 4 + (binlogFSP+1)/2
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		sec := int64(binary.BigEndian.Uint32(data))
		if sec == 0 {
			return zero, size, nil
		}
		// As time.Unix(sec, µs*1000) normalises a malformed fraction.
		us := fracOf(data[4:], binlogFSP)
		return timestampValue(sec+us/1000000, int(us%1000000)*1000, fsp), size, nil
	}
}

// bytesConverter converts the bytes of a CHAR/VARCHAR/BLOB/TEXT value (or
// a MariaDB JSON, which is LONGTEXT) as BinlogDecoder does.
func (d decoder) bytesConverter() (func([]byte) (pipeline.Value, error), error) {
	c := d.col
	if c.Type != TypeJSON && c.isBinary() {
		padTo := 0
		if c.Type == TypeChar {
			padTo = c.Length
		}
		return func(b []byte) (pipeline.Value, error) { return binaryValue(b, padTo), nil }, nil
	}
	cs := c.Charset
	if c.Type == TypeJSON && cs == "" {
		cs = "utf8mb4"
	}
	text, err := newTextDecoder(cs)
	if err != nil {
		return nil, fmt.Errorf("column %s: %w", c.Name, err)
	}
	return func(b []byte) (pipeline.Value, error) { return d.textValue(text, unsafeString(b)) }, nil
}

// rawString reads a CHAR or VARCHAR value: a 1-byte length when the
// column's maximum byte length is below 256, else a 2-byte one.
func (d decoder) rawString(maxLength int) (RawDecodeFunc, string, error) {
	conv, err := d.bytesConverter()
	if err != nil {
		return nil, "", err
	}
	if maxLength < 256 {
		return func(data []byte) (pipeline.Value, int, error) {
			if len(data) < 1 || len(data) < 1+int(data[0]) {
				return pipeline.Null, 0, d.truncatedPrefixed(data, 1)
			}
			n := 1 + int(data[0])
			v, err := conv(data[1:n:n])
			return v, n, err
		}, "", nil
	}
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < 2 || len(data) < 2+int(binary.LittleEndian.Uint16(data)) {
			return pipeline.Null, 0, d.truncatedPrefixed(data, 2)
		}
		n := 2 + int(binary.LittleEndian.Uint16(data))
		v, err := conv(data[2:n:n])
		return v, n, err
	}, "", nil
}

// rawBlob reads a value behind a little-endian length of prefix bytes.
func (d decoder) rawBlob(prefix int, conv func([]byte) (pipeline.Value, error)) RawDecodeFunc {
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < prefix {
			return pipeline.Null, 0, d.truncated(prefix, len(data))
		}
		n := prefix + int(leUint(data[:prefix]))
		if len(data) < n {
			return pipeline.Null, 0, d.truncated(n, len(data))
		}
		v, err := conv(data[prefix:n:n])
		return v, n, err
	}
}

func (d decoder) truncatedPrefixed(data []byte, prefix int) error {
	if len(data) < prefix {
		return d.truncated(prefix, len(data))
	}
	return d.truncated(prefix+int(leUint(data[:prefix])), len(data))
}

func (d decoder) rawEnum(size int) RawDecodeFunc {
	members := d.col.Members
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		v, err := d.enumValue(members, int64(leUint(data[:size])))
		return v, size, err
	}
}

func (d decoder) rawSet(size int) RawDecodeFunc {
	members := d.col.Members
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		return setValue(members, leUint(data[:size])), size, nil
	}
}

func leUint(b []byte) uint64 {
	var u uint64
	for i := len(b) - 1; i >= 0; i-- {
		u = u<<8 | uint64(b[i])
	}
	return u
}

func beUint(b []byte) uint64 {
	var u uint64
	for _, x := range b {
		u = u<<8 | uint64(x)
	}
	return u
}

// dig2bytes is how many bytes MySQL's binary DECIMAL stores 0..9 digits in.
var dig2bytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

// rawDecimal reads MySQL's binary DECIMAL (strings/decimal.c decimal2bin):
// groups of nine digits in four big-endian bytes, a shorter group for the
// leading integer digits and the trailing fraction digits, the sign in the
// top bit of the first byte and negative numbers stored inverted. It writes
// the unscaled value as BigInteger.toByteArray() does, without going
// through text.
//
// go-mysql prints the groups and BinlogDecoder parses the print, so a
// malformed value behaves as that print does: a leading group above its
// digit count widens the number; a later group of ten digits, or a final
// fraction group of more digits than it holds, is an error.
func (d decoder) rawDecimal(precision, scale int) RawDecodeFunc {
	intg, frac := precision-scale, scale
	lead, intg0 := dig2bytes[intg%9], intg/9
	frac0, tail := frac/9, frac%9
	size := lead + 4*intg0 + 4*frac0 + dig2bytes[tail]
	narrow := precision <= 18
	return func(data []byte) (pipeline.Value, int, error) {
		if len(data) < size {
			return pipeline.Null, 0, d.truncated(size, len(data))
		}
		var buf [32]byte
		b := buf[:size]
		copy(b, data)
		neg := b[0]&0x80 == 0
		b[0] ^= 0x80
		if neg {
			for i := range b {
				b[i] = ^b[i]
			}
		}
		var groups [8]uint64 // the groups after the leading one: at most 3+3+1
		var scales [8]int64
		n := 0
		first := beUint(b[:lead])
		pos := lead
		leading := first == 0
		for range intg0 {
			g := uint64(binary.BigEndian.Uint32(b[pos:]))
			pos += 4
			if leading {
				leading = g == 0
			} else if g > 999999999 {
				return pipeline.Null, size, d.fail("malformed DECIMAL value: a group of " + strconv.FormatUint(g, 10))
			}
			groups[n], scales[n] = g, 1e9
			n++
		}
		for range frac0 {
			g := uint64(binary.BigEndian.Uint32(b[pos:]))
			pos += 4
			if g > 999999999 {
				return pipeline.Null, size, d.fail("malformed DECIMAL value: a group of " + strconv.FormatUint(g, 10))
			}
			groups[n], scales[n] = g, 1e9
			n++
		}
		if tail > 0 {
			g := beUint(b[pos:size])
			if g >= uint64(pow10[tail]) {
				return pipeline.Null, size, d.fail("malformed DECIMAL value: more fractional digits than the column's scale")
			}
			groups[n], scales[n] = g, pow10[tail]
			n++
		}
		if narrow {
			acc, ok := first, true
			for i := range n {
				hi, lo := bits.Mul64(acc, uint64(scales[i]))
				var carry uint64
				acc, carry = bits.Add64(lo, groups[i], 0)
				if hi != 0 || carry != 0 {
					ok = false
					break
				}
			}
			if ok && !neg && acc <= math.MaxInt64 {
				return pipeline.Bytes(int64Bytes(int64(acc))), size, nil
			}
			if ok && neg && acc <= 1<<63 {
				return pipeline.Bytes(int64Bytes(-int64(acc))), size, nil
			}
		}
		w := wideUint{first}
		for i := range n {
			w.mulAdd(uint64(scales[i]), groups[i])
		}
		return pipeline.Bytes(w.twosComplement(neg)), size, nil
	}
}

// wideUint is an unsigned 256-bit integer, least significant word first:
// wide enough for 65 digits and a malformed leading group.
type wideUint [4]uint64

func (w *wideUint) mulAdd(m, a uint64) {
	carry := a
	for i := range w {
		hi, lo := bits.Mul64(w[i], m)
		var c uint64
		w[i], c = bits.Add64(lo, carry, 0)
		carry = hi + c
	}
}

// twosComplement writes ±w as BigInteger.toByteArray(): two's complement,
// big-endian, in the fewest bytes that keep the sign.
func (w wideUint) twosComplement(neg bool) []byte { return w.appendTwosComplement(nil, neg) }

// appendTwosComplement appends twosComplement(neg) to dst; w must stay
// below 2^255 so that the sign fits.
func (w wideUint) appendTwosComplement(dst []byte, neg bool) []byte {
	if w == (wideUint{}) {
		neg = false
	}
	// The significant bits are those of w, or for a negative number of
	// ^(-w) = w-1; one more bit holds the sign.
	m := w
	if neg {
		borrow, carry := uint64(1), uint64(1)
		for i := range w {
			m[i], borrow = bits.Sub64(w[i], 0, borrow)
			w[i], carry = bits.Add64(^w[i], 0, carry)
		}
	}
	bitLen := 0
	for i := len(m) - 1; i >= 0; i-- {
		if m[i] != 0 {
			bitLen = 64*i + bits.Len64(m[i])
			break
		}
	}
	n := (bitLen + 8) / 8
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, byte(w[i/8]>>(8*(i%8))))
	}
	return dst
}

// RawLayout is how a non-NULL value of one binlog column type lies in a row
// image: Fixed bytes, or — when Fixed is 0 — a little-endian length of
// LengthBytes bytes followed by that many bytes.
type RawLayout struct {
	Fixed       int
	LengthBytes int
}

// BinlogLayout returns the layout of the values of a column given its
// TABLE_MAP type code and metadata, as go-mysql reads them. It lets a row
// image be walked without decoding it; a RawDecoder consumes exactly the
// bytes its layout says.
func BinlogLayout(binlogType byte, meta uint16) (RawLayout, error) {
	fixed := func(n int) (RawLayout, error) { return RawLayout{Fixed: n}, nil }
	prefixed := func(n int) (RawLayout, error) { return RawLayout{LengthBytes: n}, nil }
	switch binlogType {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_YEAR:
		return fixed(1)
	case mysql.MYSQL_TYPE_SHORT:
		return fixed(2)
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_TIME:
		return fixed(3)
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_TIMESTAMP:
		return fixed(4)
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_DATETIME:
		return fixed(8)
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		precision, scale := int(meta>>8), int(meta&0xff)
		if precision < 1 || precision > 65 || scale > 30 || scale > precision {
			break
		}
		intg := precision - scale
		return fixed(dig2bytes[intg%9] + 4*(intg/9) + 4*(scale/9) + dig2bytes[scale%9])
	case mysql.MYSQL_TYPE_BIT:
		nbits := int(meta>>8)*8 + int(meta&0xff)
		if nbits < 1 || nbits > 64 {
			break
		}
		return fixed((nbits + 7) / 8)
	case mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		if meta > 6 {
			break
		}
		base := map[byte]int{mysql.MYSQL_TYPE_TIME2: 3, mysql.MYSQL_TYPE_DATETIME2: 5, mysql.MYSQL_TYPE_TIMESTAMP2: 4}[binlogType]
		return fixed(base + (int(meta)+1)/2)
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		if meta < 256 {
			return prefixed(1)
		}
		return prefixed(2)
	case mysql.MYSQL_TYPE_STRING:
		realType, length := stringRealType(meta)
		switch realType {
		case mysql.MYSQL_TYPE_STRING:
			if length < 256 {
				return prefixed(1)
			}
			return prefixed(2)
		case mysql.MYSQL_TYPE_ENUM:
			if size := int(meta & 0xff); size == 1 || size == 2 {
				return fixed(size)
			}
		case mysql.MYSQL_TYPE_SET:
			if size := int(meta & 0xff); size >= 1 && size <= 8 {
				return fixed(size)
			}
		}
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR, mysql.MYSQL_TYPE_JSON:
		if meta >= 1 && meta <= 4 {
			return prefixed(int(meta))
		}
	}
	return RawLayout{}, fmt.Errorf("binlog type %d with metadata %#x has no known row image layout", binlogType, meta)
}

// Size returns how many bytes the value at the start of data takes; ok is
// false when data is shorter than that.
func (l RawLayout) Size(data []byte) (n int, ok bool) {
	if l.Fixed > 0 {
		return l.Fixed, len(data) >= l.Fixed
	}
	if len(data) < l.LengthBytes {
		return 0, false
	}
	n = l.LengthBytes + int(leUint(data[:l.LengthBytes]))
	return n, len(data) >= n
}
