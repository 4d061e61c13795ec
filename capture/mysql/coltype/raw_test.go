package coltype

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// metaBytes is the TABLE_MAP metadata of a column type, the inverse of
// go-mysql's TableMapEvent.decodeMeta.
func metaBytes(typ byte, meta uint16) []byte {
	switch typ {
	case mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_NEWDECIMAL:
		return []byte{byte(meta >> 8), byte(meta)}
	case mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_BIT:
		return []byte{byte(meta), byte(meta >> 8)}
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_GEOMETRY,
		mysql.MYSQL_TYPE_VECTOR, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
		return []byte{byte(meta)}
	}
	return nil
}

// goMySQLRows runs a one-column WRITE_ROWS event whose row data is body
// (null bitmap, value, null bitmap, value, …) through go-mysql's parser,
// configured as the source configures it, and returns its decoded rows.
// tableMapUnsigned sets the TABLE_MAP's signedness metadata.
func goMySQLRows(typ byte, meta uint16, tableMapUnsigned bool, body []byte) ([][]any, error) {
	p := replication.NewBinlogParser()
	p.SetParseTime(true)
	p.SetUseDecimal(false)
	p.SetUseFloatWithTrailingZero(false)
	p.SetRenderJSONAsMySQLText(RenderJSONAsMySQLText)
	mb := metaBytes(typ, meta)
	tm := []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 'd', 0, 1, 't', 0, 1, typ, byte(len(mb))}
	tm = append(tm, mb...)
	tm = append(tm, 1) // nullable
	if tableMapUnsigned {
		tm = append(tm, replication.TABLE_MAP_OPT_META_SIGNEDNESS, 1, 0x80)
	}
	rows := append([]byte{1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 1, 1}, body...)
	for _, ev := range [][]byte{formatDescription(), eventBytes(replication.TABLE_MAP_EVENT, tm)} {
		if _, err := p.Parse(ev); err != nil {
			return nil, err
		}
	}
	// Clipped: go-mysql slices values within the capacity of the event
	// buffer, so it would read a truncated value from bytes beyond it.
	rowsEvent := eventBytes(replication.WRITE_ROWS_EVENTv2, rows)
	ev, err := p.Parse(rowsEvent[:len(rowsEvent):len(rowsEvent)])
	if err != nil {
		return nil, err
	}
	return ev.Event.(*replication.RowsEvent).Rows, nil
}

// rawDiff decodes value (a non-NULL value's bytes) through go-mysql and
// BinlogDecoder and through RawDecoder and reports any difference: values
// must be Equal, consumed lengths equal to len(value) (and the layout's),
// and an error from one path must be an error from the other.
func rawDiff(col Column, typ byte, meta uint16, tableMapUnsigned bool, value []byte) error {
	raw, err := col.RawDecoder(typ, meta)
	if err != nil {
		return fmt.Errorf("RawDecoder: %w", err)
	}
	slow, err := col.BinlogDecoder()
	if err != nil {
		return fmt.Errorf("BinlogDecoder: %w", err)
	}
	rows, err := goMySQLRows(typ, meta, tableMapUnsigned, append([]byte{0}, value...))
	if err != nil {
		// A malformed value go-mysql fails on: the raw decoder must fail too.
		if _, _, rawErr := raw(value); rawErr == nil {
			return fmt.Errorf("go-mysql failed (%w) but RawDecoder did not", err)
		}
		return nil
	}
	if len(rows) != 1 {
		return fmt.Errorf("go-mysql read %d rows from one value: the test value is malformed", len(rows))
	}
	want, wantErr := slow(rows[0][0])
	// Trailing bytes must not be consumed.
	got, n, gotErr := raw(append(append([]byte{}, value...), 0xa5, 0x5a, 0xff))
	switch {
	case wantErr != nil && gotErr == nil:
		return fmt.Errorf("BinlogDecoder failed (%w) but RawDecoder gave %s", wantErr, valueString(got))
	case wantErr == nil && gotErr != nil:
		return fmt.Errorf("RawDecoder failed (%w) but BinlogDecoder gave %s", gotErr, valueString(want))
	case wantErr != nil:
		if !strings.HasPrefix(gotErr.Error(), "column "+col.Name+": ") {
			return fmt.Errorf("RawDecoder error %q does not name the column", gotErr.Error())
		}
		return nil
	}
	if !got.Equal(want) {
		return fmt.Errorf("go-mysql gave %#v: BinlogDecoder %s, RawDecoder %s", rows[0][0], valueString(want), valueString(got))
	}
	if n != len(value) {
		return fmt.Errorf("RawDecoder consumed %d bytes of a %d-byte value", n, len(value))
	}
	layout, err := BinlogLayout(typ, meta)
	if err != nil {
		return err
	}
	if size, ok := layout.Size(value); !ok || size != len(value) {
		return fmt.Errorf("layout %+v says %d bytes (ok=%v) for a %d-byte value", layout, size, ok, len(value))
	}
	// A truncated value is an error, never a panic.
	for cut := 0; cut < len(value); cut++ {
		if _, _, err := raw(value[:cut]); err == nil {
			return fmt.Errorf("RawDecoder accepted the value cut to %d of %d bytes", cut, len(value))
		}
	}
	return nil
}

// rawCase is one column and many values to compare.
type rawCase struct {
	name string
	typ  byte
	meta uint16
	// tableMapUnsigned is the TABLE_MAP's signedness of the column.
	tableMapUnsigned bool
	col              Column
	values           [][]byte
}

func (rc rawCase) run(t *testing.T) {
	t.Helper()
	for i, v := range rc.values {
		if err := rawDiff(rc.col, rc.typ, rc.meta, rc.tableMapUnsigned, v); err != nil {
			t.Errorf("%s: value %d (% x): %v", rc.name, i, v, err)
		}
	}
}

func le(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func be(v uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[n-1-i] = byte(v >> (8 * i))
	}
	return b
}

func TestRawDecoderIntegers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	widths := []struct {
		typ   byte
		t     Type
		bytes int
	}{
		{mysql.MYSQL_TYPE_TINY, TypeTiny, 1}, {mysql.MYSQL_TYPE_SHORT, TypeShort, 2}, {mysql.MYSQL_TYPE_INT24, TypeInt24, 3},
		{mysql.MYSQL_TYPE_LONG, TypeLong, 4}, {mysql.MYSQL_TYPE_LONGLONG, TypeLongLong, 8},
	}
	for _, w := range widths {
		bitsN := 8 * w.bytes
		all := uint64(math.MaxUint64) >> (64 - bitsN)
		var values [][]byte
		for _, v := range []uint64{0, 1, 2, 127, 128, 255, all, all >> 1, all>>1 + 1, all - 1} {
			values = append(values, le(v&all, w.bytes))
		}
		for range 50 {
			values = append(values, le(r.Uint64()&all, w.bytes))
		}
		for _, unsigned := range []bool{false, true} {
			col := Column{Name: "n", Type: w.t, Unsigned: unsigned, Nullable: true}
			name := w.t.String()
			if unsigned {
				name += " UNSIGNED"
			}
			rawCase{name: name, typ: w.typ, col: col, tableMapUnsigned: unsigned, values: values}.run(t)
			if unsigned {
				// A TABLE_MAP without signedness metadata: go-mysql decodes signed.
				rawCase{name: name + " without signedness metadata", typ: w.typ, col: col, values: values}.run(t)
			}
		}
	}
}

// randomDigits returns n random decimal digits.
func randomDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func TestRawDecoderDecimal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	shapes := [][2]int{{1, 0}, {1, 1}, {2, 1}, {4, 2}, {5, 2}, {5, 0}, {9, 0}, {9, 9}, {9, 4}, {10, 0}, {10, 4}, {12, 2},
		{17, 8}, {18, 0}, {18, 9}, {18, 18}, {19, 0}, {19, 4}, {20, 10}, {27, 9}, {30, 30}, {38, 10}, {40, 20}, {64, 30}, {65, 0}, {65, 30}}
	for _, sh := range shapes {
		precision, scale := sh[0], sh[1]
		intg := precision - scale
		var values []string
		nines := func(n int) string { return strings.Repeat("9", n) }
		number := func(ip, fp string) string {
			switch {
			case intg == 0:
				ip = "" // decimalBinary takes only the digits it stores
			case ip == "":
				ip = "0"
			}
			if scale == 0 {
				return ip
			}
			return ip + "." + fp
		}
		values = append(values, number("0", strings.Repeat("0", scale)), number(nines(intg), nines(scale)),
			"-"+number(nines(intg), nines(scale)), "-"+number("0", strings.Repeat("0", scale)))
		if scale > 0 {
			values = append(values, number("0", strings.Repeat("0", scale-1)+"1"), "-"+number("0", strings.Repeat("0", scale-1)+"1"))
		}
		if intg > 0 {
			values = append(values, number("1", strings.Repeat("0", scale)), "-"+number("1", strings.Repeat("0", scale)))
		}
		for range 40 {
			ip := randomDigits(r, r.IntN(intg+1))
			v := number(ip, randomDigits(r, scale))
			if r.IntN(2) == 0 {
				v = "-" + v
			}
			values = append(values, v)
		}
		var raw [][]byte
		for _, v := range values {
			raw = append(raw, decimalBinary(v, precision, scale))
		}
		col := Column{Name: "d", Type: TypeDecimal, Precision: precision, Scale: scale, Nullable: true}
		rawCase{name: fmt.Sprintf("DECIMAL(%d,%d)", precision, scale), typ: mysql.MYSQL_TYPE_NEWDECIMAL,
			meta: uint16(precision)<<8 | uint16(scale), col: col, values: raw}.run(t)
	}

	// Malformed: groups beyond their digit counts, as go-mysql prints them.
	malformed := []struct {
		precision, scale int
		value            []byte
	}{
		{5, 2, []byte{0xff, 0xff, 0x00}},                       // leading group 65535 > 999 widens the number
		{5, 2, []byte{0x80, 0x00, 0x63}},                       // fraction 99 fits
		{5, 2, []byte{0x80, 0x00, 0x64}},                       // fraction 100 has three digits: an error
		{18, 0, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}},    // leading 9-digit group of ten digits
		{18, 0, []byte{0x80, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}}, // later group of ten digits: an error
		{18, 0, []byte{0x7f, 0xff, 0xff, 0xfe, 0x00, 0, 0, 0}}, // negative, leading group 1
		{18, 9, []byte{0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}}, // fraction group of ten digits: an error
		{17, 8, []byte{0xff, 0xff, 0xff, 0xff, 0x05, 0xf5, 0xe0, 0xff}},
		{1, 0, []byte{0xff}},
		{1, 0, []byte{0x00}},
		{10, 0, []byte{0xff, 0xff, 0xff, 0xff, 0xff}},
		{65, 30, append([]byte{0xff, 0xff, 0xff, 0xff}, make([]byte, 26)...)},
		{65, 30, append([]byte{0x00, 0x00, 0x00, 0x00}, make([]byte, 26)...)},
	}
	for _, m := range malformed {
		col := Column{Name: "d", Type: TypeDecimal, Precision: m.precision, Scale: m.scale}
		rawCase{name: fmt.Sprintf("malformed DECIMAL(%d,%d)", m.precision, m.scale), typ: mysql.MYSQL_TYPE_NEWDECIMAL,
			meta: uint16(m.precision)<<8 | uint16(m.scale), col: col, values: [][]byte{m.value}}.run(t)
	}
}

func TestRawDecoderFloats(t *testing.T) {
	f32 := func(f float32) []byte { return le(uint64(math.Float32bits(f)), 4) }
	f64 := func(f float64) []byte { return le(math.Float64bits(f), 8) }
	floats := [][]byte{f32(0), f32(float32(math.Copysign(0, -1))), f32(1.5), f32(-3.25e-10), f32(math.MaxFloat32), f32(math.SmallestNonzeroFloat32),
		f32(float32(math.Inf(1))), f32(float32(math.Inf(-1))), le(0x7fc00001, 4), le(0x7f800001, 4), f32(1.1)}
	doubles := [][]byte{f64(0), f64(math.Copysign(0, -1)), f64(1.1), f64(-math.MaxFloat64), f64(math.SmallestNonzeroFloat64),
		f64(math.Inf(1)), f64(math.NaN()), le(0x7ff0000000000001, 8), f64(1e20)}
	rawCase{name: "FLOAT", typ: mysql.MYSQL_TYPE_FLOAT, meta: 4, col: Column{Name: "f", Type: TypeFloat}, values: floats}.run(t)
	rawCase{name: "FLOAT(7,4)", typ: mysql.MYSQL_TYPE_FLOAT, meta: 4, col: Column{Name: "f", Type: TypeFloat, ColumnType: "float(7,4)"}, values: floats}.run(t)
	rawCase{name: "DOUBLE", typ: mysql.MYSQL_TYPE_DOUBLE, meta: 8, col: Column{Name: "f", Type: TypeDouble}, values: doubles}.run(t)
}

func TestRawDecoderBitYearEnumSet(t *testing.T) {
	for _, n := range []int{1, 2, 7, 8, 9, 10, 17, 31, 32, 33, 63, 64} {
		size := (n + 7) / 8
		var values [][]byte
		for _, v := range []uint64{0, 1, 2, 0x5555555555555555, math.MaxUint64} {
			values = append(values, be(v&(math.MaxUint64>>(64-n)), size))
		}
		values = append(values, be(math.MaxUint64, size)) // bits beyond n, as a malformed image
		meta := uint16(n/8)<<8 | uint16(n%8)
		rawCase{name: fmt.Sprintf("BIT(%d)", n), typ: mysql.MYSQL_TYPE_BIT, meta: meta, col: Column{Name: "b", Type: TypeBit, Length: n}, values: values}.run(t)
	}

	var years [][]byte
	for _, y := range []byte{0, 1, 69, 70, 99, 100, 124, 155, 255} {
		years = append(years, []byte{y})
	}
	rawCase{name: "YEAR", typ: mysql.MYSQL_TYPE_YEAR, col: Column{Name: "y", Type: TypeYear}, values: years}.run(t)

	enum := Column{Name: "e", Type: TypeEnum, Charset: "utf8mb4", Members: []string{"small", "medium", "large"}}
	rawCase{name: "ENUM", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1, col: enum,
		values: [][]byte{{0}, {1}, {2}, {3}, {4}, {255}}}.run(t)
	many := make([]string, 300)
	for i := range many {
		many[i] = fmt.Sprintf("m%d", i)
	}
	enum2 := Column{Name: "e", Type: TypeEnum, Charset: "utf8mb4", Members: many}
	rawCase{name: "ENUM of 300", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 2, col: enum2,
		values: [][]byte{{0, 0}, {1, 0}, {0x2c, 1}, {0x2d, 1}, {0xff, 0xff}}}.run(t)

	set := Column{Name: "s", Type: TypeSet, Charset: "utf8mb4", Members: []string{"a", "b", "c"}}
	rawCase{name: "SET", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 1, col: set,
		values: [][]byte{{0}, {1}, {2}, {4}, {5}, {7}, {8}, {9}, {0xff}}}.run(t)
	set64 := Column{Name: "s", Type: TypeSet, Charset: "utf8mb4", Members: many[:64]}
	rawCase{name: "SET of 64", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 8, col: set64,
		values: [][]byte{le(0, 8), le(1, 8), le(1<<63, 8), le(math.MaxUint64, 8), le(0x8000000100000001, 8)}}.run(t)
	set3 := Column{Name: "s", Type: TypeSet, Charset: "utf8mb4", Members: many[:20]}
	rawCase{name: "SET in 3 bytes", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 3, col: set3,
		values: [][]byte{le(0, 3), le(0x80001, 3), le(0xffffff, 3)}}.run(t)
}

// time2Binary is MySQL's TIME(fsp) storage (my_time_packed_to_binary) of
// a signed duration in microseconds, already at the column's precision.
func time2Binary(us int64, fsp int) []byte {
	neg := us < 0
	if neg {
		us = -us
	}
	secs, frac := us/1000000, us%1000000
	h, m, s := secs/3600, secs/60%60, secs%60
	nr := (h<<12|m<<6|s)<<24 + frac
	if neg {
		nr = -nr
	}
	intPart, fracPart := nr>>24, nr%(1<<24)
	switch fsp {
	case 1, 2:
		return append(be(uint64(0x800000+intPart), 3), byte(int8(fracPart/10000)))
	case 3, 4:
		return append(be(uint64(0x800000+intPart), 3), be(uint64(int16(fracPart/100)), 2)...)
	case 5, 6:
		return be(uint64(nr+0x800000000000), 6)
	}
	return be(uint64(0x800000+intPart), 3)
}

// truncUs cuts microseconds to fsp digits.
func truncUs(us int64, fsp int) int64 {
	p := pow10[6-fsp]
	return us / p * p
}

func TestRawDecoderTime(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for fsp := range 7 {
		micros := []int64{0, 1, -1, 10000, -10000, 1010000, -1010000, 990000, -990000, 45296789012, -45296789012,
			3020399000000, -3020399000000, 3020399999999, -3020399999999, 86400000000, -1}
		for range 60 {
			micros = append(micros, r.Int64N(2*3020399999999)-3020399999999)
		}
		var values [][]byte
		for _, us := range micros {
			values = append(values, time2Binary(truncUs(us, fsp), fsp))
		}
		// Malformed images: every fraction byte pattern.
		values = append(values, append(be(0x7fffff, 3), make([]byte, (fsp+1)/2)...), append(be(0x800000, 3), []byte{0xff, 0xff, 0xff}[:(fsp+1)/2]...),
			append(be(0x7ffffe, 3), []byte{0x9d, 0x9d, 0x9d}[:(fsp+1)/2]...), be(math.MaxUint64, 3+(fsp+1)/2), make([]byte, 3+(fsp+1)/2))
		rawCase{name: fmt.Sprintf("TIME(%d)", fsp), typ: mysql.MYSQL_TYPE_TIME2, meta: uint16(fsp), col: Column{Name: "t", Type: TypeTime, FSP: fsp, Nullable: true}, values: values}.run(t)
	}
	var old [][]byte
	for _, v := range []uint64{0, 1, 123456, 8385959, 235959, 999999, 0xffffff} {
		old = append(old, le(v, 3))
	}
	rawCase{name: "TIME (pre-5.6)", typ: mysql.MYSQL_TYPE_TIME, col: Column{Name: "t", Type: TypeTime}, values: old}.run(t)
}

func TestRawDecoderDate(t *testing.T) {
	var values [][]byte
	for _, d := range [][3]int{{0, 0, 0}, {2024, 2, 29}, {1969, 12, 31}, {1000, 1, 1}, {9999, 12, 31}, {1, 1, 1}, {69, 12, 31}, {70, 1, 1},
		{99, 12, 31}, {100, 1, 1}, {2020, 0, 10}, {2020, 5, 0}, {0, 5, 1}, {2021, 2, 30}, {2021, 13, 1}, {2021, 15, 31}} {
		values = append(values, dateBinary(d[0], d[1], d[2]))
	}
	values = append(values, []byte{0xff, 0xff, 0xff}, le(10000*512+1*32+1, 3))
	cols := []Column{
		{Name: "d", Type: TypeDate, Nullable: true},
		{Name: "d", Type: TypeDate},
		{Name: "d", Type: TypeDate, Default: strPtr("2020-01-01"), Flavor: FlavorMySQL},
		{Name: "d", Type: TypeDate, Default: strPtr("'2020-01-01'"), Flavor: FlavorMariaDB},
	}
	for i, col := range cols {
		rawCase{name: fmt.Sprintf("DATE %d", i), typ: mysql.MYSQL_TYPE_DATE, col: col, values: values}.run(t)
	}
}

func TestRawDecoderDateTime(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	type dt struct{ y, mo, d, h, mi, s, us int }
	base := []dt{{0, 0, 0, 0, 0, 0, 0}, {2018, 6, 20, 6, 37, 3, 123456}, {1969, 12, 31, 23, 59, 59, 999999}, {1970, 1, 1, 0, 0, 0, 0},
		{1970, 1, 1, 0, 0, 0, 1}, {1000, 1, 1, 0, 0, 0, 0}, {9999, 12, 31, 23, 59, 59, 999999}, {1, 1, 1, 0, 0, 0, 0},
		{69, 6, 1, 12, 0, 0, 500000}, {70, 6, 1, 12, 0, 0, 0}, {99, 12, 31, 23, 59, 59, 0}, {2020, 0, 10, 10, 0, 0, 0},
		{2020, 5, 0, 0, 0, 0, 0}, {0, 5, 1, 0, 0, 0, 0}, {2021, 2, 30, 0, 0, 0, 0}, {2024, 2, 29, 0, 0, 0, 0}, {1900, 2, 29, 1, 2, 3, 4},
		{0, 0, 0, 0, 0, 0, 120000}}
	for range 60 {
		base = append(base, dt{r.IntN(10000), 1 + r.IntN(12), 1 + r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000000)})
	}
	cols := []Column{
		{Name: "t", Type: TypeDateTime, Nullable: true},
		{Name: "t", Type: TypeDateTime},
		{Name: "t", Type: TypeDateTime, Default: strPtr("2020-01-01 10:00:00"), Flavor: FlavorMySQL},
	}
	for fsp := range 7 {
		var values [][]byte
		for _, v := range base {
			values = append(values, datetime2Binary(v.y, v.mo, v.d, v.h, v.mi, v.s, int(truncUs(int64(v.us), fsp)), fsp))
		}
		// Malformed images: out-of-range fields, fractions and signs.
		values = append(values, datetime2Binary(2020, 2, 31, 25, 61, 63, 0, fsp), datetime2Binary(1960, 2, 31, 25, 61, 63, 0, fsp),
			append(be(0x8000000000, 5), []byte{0xff, 0xff, 0xff}[:(fsp+1)/2]...), append(be(0x7fffffffff, 5), make([]byte, (fsp+1)/2)...),
			append(be(0, 5), make([]byte, (fsp+1)/2)...), be(math.MaxUint64, 5+(fsp+1)/2),
			append(datetime2Binary(2020, 1, 1, 0, 0, 0, 0, 0), []byte{0xff, 0xff, 0xff}[:(fsp+1)/2]...),
			append(datetime2Binary(1960, 1, 1, 0, 0, 0, 0, 0), []byte{0xff, 0xff, 0xff}[:(fsp+1)/2]...))
		for i, col := range cols {
			col.FSP = fsp
			rawCase{name: fmt.Sprintf("DATETIME(%d) %d", fsp, i), typ: mysql.MYSQL_TYPE_DATETIME2, meta: uint16(fsp), col: col, values: values}.run(t)
		}
	}
	var old [][]byte
	for _, v := range []uint64{0, 20180620063703, 19691231235959, 10000101000000, 99991231235959, 20200010100000, 20200500000000,
		100000101000000, 100000001000000, 20210230000000, 20211301000000, 20201231996099, 101000000, 3000000, math.MaxUint64} {
		old = append(old, le(v, 8))
	}
	for i, col := range cols {
		rawCase{name: fmt.Sprintf("DATETIME (pre-5.6) %d", i), typ: mysql.MYSQL_TYPE_DATETIME, col: col, values: old}.run(t)
	}
}

func TestRawDecoderTimestamp(t *testing.T) {
	for fsp := range 7 {
		var values [][]byte
		for _, v := range []struct{ sec, us uint64 }{{0, 0}, {0, 120000}, {1, 0}, {1673397250, 0}, {1673397250, 10000}, {1673397250, 123456},
			{2147483647, 999999}, {86399, 999999}, {4294967295, 0}} {
			values = append(values, append(be(v.sec, 4), fracBinary(int(truncUs(int64(v.us), fsp)), fsp)...))
		}
		values = append(values, append(be(1673397250, 4), []byte{0xff, 0xff, 0xff}[:(fsp+1)/2]...))
		for _, nullable := range []bool{true, false} {
			col := Column{Name: "t", Type: TypeTimestamp, FSP: fsp, Nullable: nullable}
			rawCase{name: fmt.Sprintf("TIMESTAMP(%d) nullable=%v", fsp, nullable), typ: mysql.MYSQL_TYPE_TIMESTAMP2, meta: uint16(fsp), col: col, values: values}.run(t)
		}
	}
	old := [][]byte{le(0, 4), le(1, 4), le(1673397250, 4), le(math.MaxUint32, 4)}
	for _, nullable := range []bool{true, false} {
		col := Column{Name: "t", Type: TypeTimestamp, Nullable: nullable}
		rawCase{name: "TIMESTAMP (pre-5.6)", typ: mysql.MYSQL_TYPE_TIMESTAMP, col: col, values: old}.run(t)
	}
}

func prefixed(s string, lenBytes int) []byte {
	return append(le(uint64(len(s)), lenBytes), s...)
}

func TestRawDecoderStrings(t *testing.T) {
	texts := []string{"", "a", "héllo wörld 🎉", "a\xffb\xe2\x82c", "caf\xe9", "\x80\x81\x8d\x8f\x90\x9d", "plain ascii", "\xc4\xe3\xba\xc3",
		"\x00A\x04\x1f", "\x00", strings.Repeat("x", 255), "tab\there"}
	long := strings.Repeat("€", 300) // 900 bytes
	charsets := []string{"utf8mb4", "utf8mb3", "latin1", "ascii", "binary", "gbk", "ucs2", "utf16le", "cp1251", "utf32"}
	for _, cs := range charsets {
		var short, wide [][]byte
		for _, s := range texts {
			short = append(short, prefixed(s, 1))
			wide = append(wide, prefixed(s, 2))
		}
		wide = append(wide, prefixed(long, 2))
		rawCase{name: "VARCHAR(100) " + cs, typ: mysql.MYSQL_TYPE_VARCHAR, meta: 255, col: Column{Name: "s", Type: TypeVarChar, Charset: cs, Length: 255}, values: short}.run(t)
		rawCase{name: "VARCHAR(1020) " + cs, typ: mysql.MYSQL_TYPE_VARCHAR, meta: 1020, col: Column{Name: "s", Type: TypeVarChar, Charset: cs, Length: 1020}, values: wide}.run(t)
		rawCase{name: "VAR_STRING " + cs, typ: mysql.MYSQL_TYPE_VAR_STRING, meta: 100, col: Column{Name: "s", Type: TypeVarChar, Charset: cs}, values: short}.run(t)
		rawCase{name: "CHAR(255) " + cs, typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_STRING)<<8 | 255,
			col: Column{Name: "s", Type: TypeChar, Charset: cs, Length: 255}, values: short}.run(t)
		// CHAR(255) utf8mb4: 1020 bytes, whose high bits hide in the type byte.
		meta := uint16(mysql.MYSQL_TYPE_STRING^byte((1020&0x300)>>4))<<8 | 1020&0xff
		rawCase{name: "CHAR(1020 bytes) " + cs, typ: mysql.MYSQL_TYPE_STRING, meta: meta,
			col: Column{Name: "s", Type: TypeChar, Charset: cs, Length: 1020}, values: wide}.run(t)
		for prefix := 1; prefix <= 4; prefix++ {
			var blobs [][]byte
			for _, s := range texts {
				blobs = append(blobs, prefixed(s, prefix))
			}
			if prefix > 1 {
				blobs = append(blobs, prefixed(long, prefix))
			}
			rawCase{name: fmt.Sprintf("BLOB/%d %s", prefix, cs), typ: mysql.MYSQL_TYPE_BLOB, meta: uint16(prefix),
				col: Column{Name: "s", Type: TypeBlob, Charset: cs}, values: blobs}.run(t)
		}
	}
	// BINARY(n) is padded to n, from the binlog's byte length or the
	// schema's declared length.
	binaries := [][]byte{prefixed("", 1), prefixed("ab", 1), prefixed("abcd", 1), prefixed("\x00\x01", 1)}
	rawCase{name: "BINARY(4)", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_STRING)<<8 | 4,
		col: Column{Name: "b", Type: TypeChar, Charset: "binary", Length: 4}, values: binaries}.run(t)
	rawCase{name: "BINARY(16)", typ: mysql.MYSQL_TYPE_STRING, meta: uint16(mysql.MYSQL_TYPE_STRING)<<8 | 16,
		col: Column{Name: "b", Type: TypeChar, Charset: "binary", Length: 16}, values: binaries}.run(t)
	// MariaDB JSON is LONGTEXT in the binlog.
	rawCase{name: "MariaDB JSON", typ: mysql.MYSQL_TYPE_BLOB, meta: 4,
		col: Column{Name: "j", Type: TypeJSON, Flavor: FlavorMariaDB}, values: [][]byte{prefixed(`{"a": 1.50}`, 4), prefixed("", 4), prefixed("\xff", 4)}}.run(t)
	rawCase{name: "MariaDB JSON latin1", typ: mysql.MYSQL_TYPE_BLOB, meta: 4,
		col: Column{Name: "j", Type: TypeJSON, Flavor: FlavorMariaDB, Charset: "latin1"}, values: [][]byte{prefixed(`["caf\xe9"]`, 4)}}.run(t)
}

func TestRawDecoderGeometryVector(t *testing.T) {
	srid := func(n uint32, wkb []byte) []byte { return append(le(uint64(n), 4), wkb...) }
	point := append([]byte{1, 1, 0, 0, 0}, append(le(math.Float64bits(1.5), 8), le(math.Float64bits(-2), 8)...)...)
	pointBE := append([]byte{0, 0, 0, 0, 1}, append(be(math.Float64bits(3.5), 8), be(math.Float64bits(-4.25), 8)...)...)
	line := []byte{1, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}
	values := [][]byte{prefixed(string(srid(4326, point)), 4), prefixed(string(srid(0, point)), 4), prefixed(string(srid(3857, pointBE)), 4),
		prefixed(string(srid(0, line)), 4), prefixed("\x01", 4), prefixed("", 4), prefixed(string(srid(0xffffffff, point)), 4)}
	for _, g := range []string{"", "geometry", "point", "linestring"} {
		col := Column{Name: "g", Type: TypeGeometry, Geometry: g, Nullable: true}
		rawCase{name: "GEOMETRY " + g, typ: mysql.MYSQL_TYPE_GEOMETRY, meta: 4, col: col, values: values}.run(t)
	}
	vec := func(fs ...float32) []byte {
		var b []byte
		for _, f := range fs {
			b = append(b, le(uint64(math.Float32bits(f)), 4)...)
		}
		return prefixed(string(b), 4)
	}
	rawCase{name: "VECTOR", typ: mysql.MYSQL_TYPE_VECTOR, meta: 4, col: Column{Name: "v", Type: TypeVector},
		values: [][]byte{vec(), vec(1.5, -2), vec(float32(math.NaN())), prefixed("\x01\x02\x03", 4)}}.run(t)
}

func TestRawDecoderRefuses(t *testing.T) {
	tests := []struct {
		name    string
		col     Column
		typ     byte
		meta    uint16
		noRaw   bool   // the decoder is ErrNoRawDecoder
		wantErr string // otherwise an error containing this
	}{
		{"json", Column{Name: "j", Type: TypeJSON, Flavor: FlavorMySQL}, mysql.MYSQL_TYPE_JSON, 4, true, ""},
		{"json in a MySQL blob", Column{Name: "j", Type: TypeJSON, Flavor: FlavorMySQL}, mysql.MYSQL_TYPE_BLOB, 4, true, ""},
		{"type mismatch", Column{Name: "n", Type: TypeLong}, mysql.MYSQL_TYPE_LONGLONG, 0, true, ""},
		{"varchar given blob", Column{Name: "s", Type: TypeVarChar, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_BLOB, 2, true, ""},
		{"decimal scale mismatch", Column{Name: "d", Type: TypeDecimal, Precision: 10, Scale: 2}, mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8 | 3, true, ""},
		{"impossible decimal", Column{Name: "d", Type: TypeDecimal, Precision: 70, Scale: 2}, mysql.MYSQL_TYPE_NEWDECIMAL, 70<<8 | 2, true, ""},
		{"impossible bit", Column{Name: "b", Type: TypeBit, Length: 70}, mysql.MYSQL_TYPE_BIT, 9 << 8, true, ""},
		{"impossible blob prefix", Column{Name: "b", Type: TypeBlob, Charset: "binary"}, mysql.MYSQL_TYPE_BLOB, 5, true, ""},
		{"impossible enum", Column{Name: "e", Type: TypeEnum}, mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 3, true, ""},
		{"impossible fsp", Column{Name: "t", Type: TypeDateTime}, mysql.MYSQL_TYPE_DATETIME2, 7, true, ""},
		{"unknown binlog type", Column{Name: "x", Type: TypeLong}, mysql.MYSQL_TYPE_NEWDATE, 0, true, ""},
		{"unknown charset is BinlogDecoder's error", Column{Name: "s", Type: TypeVarChar, Charset: "klingon"}, mysql.MYSQL_TYPE_VARCHAR, 10, false, "klingon"},
		{"no type is BinlogDecoder's error", Column{Name: "x"}, mysql.MYSQL_TYPE_LONG, 0, false, "unsupported column type"},
	}
	for _, tt := range tests {
		dec, err := tt.col.RawDecoder(tt.typ, tt.meta)
		switch {
		case dec != nil || err == nil:
			t.Errorf("%s: got a raw decoder", tt.name)
		case tt.noRaw && !errors.Is(err, ErrNoRawDecoder):
			t.Errorf("%s: error %v is not ErrNoRawDecoder", tt.name, err)
		case !tt.noRaw && (errors.Is(err, ErrNoRawDecoder) || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: error %v, want one containing %q and not ErrNoRawDecoder", tt.name, err, tt.wantErr)
		case !strings.Contains(err.Error(), "column "+tt.col.Name):
			t.Errorf("%s: error %v does not name the column", tt.name, err)
		}
	}
}

// Text that is valid UTF-8 aliases the row image; nothing but the data a
// value must own is allocated.
func TestRawDecoderAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector adds allocations")
	}
	tests := []struct {
		name string
		col  Column
		typ  byte
		meta uint16
		data []byte
		max  float64
	}{
		{"bigint", Column{Name: "c", Type: TypeLongLong}, mysql.MYSQL_TYPE_LONGLONG, 0, le(42, 8), 0},
		{"int unsigned", Column{Name: "c", Type: TypeLong, Unsigned: true}, mysql.MYSQL_TYPE_LONG, 0, le(math.MaxUint32, 4), 0},
		{"double", Column{Name: "c", Type: TypeDouble}, mysql.MYSQL_TYPE_DOUBLE, 8, le(math.Float64bits(1.5), 8), 0},
		{"varchar utf8mb4", Column{Name: "c", Type: TypeVarChar, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_VARCHAR, 256, prefixed("héllo", 2), 0},
		{"text utf8mb4", Column{Name: "c", Type: TypeBlob, Charset: "utf8mb4"}, mysql.MYSQL_TYPE_BLOB, 2, prefixed("héllo", 2), 0},
		{"varchar latin1 ascii", Column{Name: "c", Type: TypeVarChar, Charset: "latin1"}, mysql.MYSQL_TYPE_VARCHAR, 20, prefixed("hello", 1), 0},
		{"varchar latin1", Column{Name: "c", Type: TypeVarChar, Charset: "latin1"}, mysql.MYSQL_TYPE_VARCHAR, 20, prefixed("caf\xe9", 1), 1},
		{"varbinary", Column{Name: "c", Type: TypeVarChar, Charset: "binary"}, mysql.MYSQL_TYPE_VARCHAR, 20, prefixed("abc", 1), 0},
		{"decimal(12,2)", Column{Name: "c", Type: TypeDecimal, Precision: 12, Scale: 2}, mysql.MYSQL_TYPE_NEWDECIMAL, 12<<8 | 2, decimalBinary("-12345.67", 12, 2), 1},
		{"decimal(65,30)", Column{Name: "c", Type: TypeDecimal, Precision: 65, Scale: 30}, mysql.MYSQL_TYPE_NEWDECIMAL, 65<<8 | 30,
			decimalBinary("-12345678901234567890123456789012345.123456789012345678901234567890", 65, 30), 1},
		{"date", Column{Name: "c", Type: TypeDate}, mysql.MYSQL_TYPE_DATE, 0, dateBinary(2024, 2, 29), 0},
		{"datetime(3)", Column{Name: "c", Type: TypeDateTime, FSP: 3}, mysql.MYSQL_TYPE_DATETIME2, 3, datetime2Binary(2024, 2, 29, 1, 2, 3, 4000, 3), 0},
		{"datetime before 1970", Column{Name: "c", Type: TypeDateTime}, mysql.MYSQL_TYPE_DATETIME2, 0, datetime2Binary(1960, 2, 29, 1, 2, 3, 0, 0), 0},
		{"timestamp(3)", Column{Name: "c", Type: TypeTimestamp, FSP: 3}, mysql.MYSQL_TYPE_TIMESTAMP2, 3, append(be(1700000000, 4), 0, 5), 1},
		{"time(6)", Column{Name: "c", Type: TypeTime, FSP: 6}, mysql.MYSQL_TYPE_TIME2, 6, time2Binary(-45296789012, 6), 0},
		{"enum", Column{Name: "c", Type: TypeEnum, Members: []string{"a", "b"}}, mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1, []byte{2}, 0},
		{"set single", Column{Name: "c", Type: TypeSet, Members: []string{"a", "b"}}, mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_SET)<<8 | 1, []byte{2}, 0},
		{"bit(1)", Column{Name: "c", Type: TypeBit, Length: 1}, mysql.MYSQL_TYPE_BIT, 1, []byte{1}, 0},
		{"tinyint", Column{Name: "c", Type: TypeTiny}, mysql.MYSQL_TYPE_TINY, 0, []byte{0x80}, 0},
		{"geometry", Column{Name: "c", Type: TypeGeometry}, mysql.MYSQL_TYPE_GEOMETRY, 4, prefixed("\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x00\x00\x00", 4), 2},
	}
	for _, tt := range tests {
		dec, err := tt.col.RawDecoder(tt.typ, tt.meta)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if _, n, err := dec(tt.data); err != nil || n != len(tt.data) {
			t.Fatalf("%s: consumed %d of %d bytes, error %v", tt.name, n, len(tt.data), err)
		}
		if n := testing.AllocsPerRun(200, func() { _, _, _ = dec(tt.data) }); n > tt.max {
			t.Errorf("%s: %v allocations per value, want at most %v", tt.name, n, tt.max)
		}
	}
	// Valid UTF-8 is not copied.
	dec, err := Column{Name: "c", Type: TypeVarChar, Charset: "utf8mb4"}.RawDecoder(mysql.MYSQL_TYPE_VARCHAR, 100)
	if err != nil {
		t.Fatal(err)
	}
	data := prefixed("zero-copy", 1)
	v, _, err := dec(data)
	if err != nil {
		t.Fatal(err)
	}
	if !sameMemory(v.AsString(), data[1:]) {
		t.Errorf("valid UTF-8 text was copied")
	}
}

// sameMemory reports whether s starts where b starts.
func sameMemory(s string, b []byte) bool {
	return len(s) > 0 && len(b) > 0 && unsafe.StringData(s) == &b[0]
}

func TestBinlogLayoutMatchesRawDecoders(t *testing.T) {
	tests := []struct {
		typ  byte
		meta uint16
		want RawLayout
	}{
		{mysql.MYSQL_TYPE_TINY, 0, RawLayout{Fixed: 1}},
		{mysql.MYSQL_TYPE_LONGLONG, 0, RawLayout{Fixed: 8}},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8 | 4, RawLayout{Fixed: 5}},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 65<<8 | 30, RawLayout{Fixed: 30}},
		{mysql.MYSQL_TYPE_BIT, 2<<8 | 1, RawLayout{Fixed: 3}},
		{mysql.MYSQL_TYPE_DATETIME2, 3, RawLayout{Fixed: 7}},
		{mysql.MYSQL_TYPE_TIMESTAMP2, 6, RawLayout{Fixed: 7}},
		{mysql.MYSQL_TYPE_TIME2, 1, RawLayout{Fixed: 4}},
		{mysql.MYSQL_TYPE_VARCHAR, 255, RawLayout{LengthBytes: 1}},
		{mysql.MYSQL_TYPE_VARCHAR, 256, RawLayout{LengthBytes: 2}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8 | 40, RawLayout{LengthBytes: 1}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING^0x30)<<8 | 0xfc, RawLayout{LengthBytes: 2}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 2, RawLayout{Fixed: 2}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_SET)<<8 | 8, RawLayout{Fixed: 8}},
		{mysql.MYSQL_TYPE_BLOB, 3, RawLayout{LengthBytes: 3}},
		{mysql.MYSQL_TYPE_JSON, 4, RawLayout{LengthBytes: 4}},
	}
	for _, tt := range tests {
		got, err := BinlogLayout(tt.typ, tt.meta)
		if err != nil || got != tt.want {
			t.Errorf("BinlogLayout(%d, %#x) = %+v, %v; want %+v", tt.typ, tt.meta, got, err, tt.want)
		}
	}
	for _, bad := range [][2]uint16{{uint16(mysql.MYSQL_TYPE_NEWDATE), 0}, {uint16(mysql.MYSQL_TYPE_BLOB), 0}, {uint16(mysql.MYSQL_TYPE_BIT), 0},
		{uint16(mysql.MYSQL_TYPE_NEWDECIMAL), 0}, {uint16(mysql.MYSQL_TYPE_TIME2), 7}} {
		if l, err := BinlogLayout(byte(bad[0]), bad[1]); err == nil {
			t.Errorf("BinlogLayout(%d, %#x) = %+v, want an error", bad[0], bad[1], l)
		}
	}
	if n, ok := (RawLayout{LengthBytes: 2}).Size([]byte{3, 0, 'a', 'b'}); ok || n != 5 {
		t.Errorf("a truncated value: Size = %d, %v", n, ok)
	}
}

// fuzzColumn builds the column a fuzz input describes, as the source would
// from a TABLE_MAP, with the variations BinlogDecoder cares about.
func fuzzColumn(typ byte, meta uint16, unsigned, nullable bool, variant uint8) (Column, bool) {
	c, err := FromBinlog("c", typ, meta, unsigned, nullable)
	if err != nil {
		return Column{}, false
	}
	charsets := []string{"utf8mb4", "latin1", "binary", "ascii", "utf16", "gbk", "utf8mb3", "cp1251"}
	if c.Type.isText() || c.Type == TypeEnum || c.Type == TypeSet {
		c.Charset = charsets[int(variant)%len(charsets)]
	}
	switch c.Type {
	case TypeEnum, TypeSet:
		members := []string{"a", "b", "c", "d", "e"}
		if variant&8 != 0 {
			members = nil
			for i := range 64 {
				members = append(members, fmt.Sprint("m", i))
			}
		}
		c.Members = members
	case TypeGeometry:
		c.Geometry = []string{"", "point", "linestring", "geometry"}[variant%4]
	case TypeFloat:
		if variant&1 != 0 {
			c.ColumnType = "float(7,4)"
		}
	case TypeDate:
		if variant&1 != 0 {
			c.Default, c.Flavor = strPtr("2020-01-01"), FlavorMySQL
		}
	case TypeDateTime:
		if variant&1 != 0 {
			c.Default, c.Flavor = strPtr("2020-01-01 10:00:00.5"), FlavorMySQL
		}
	case TypeBlob:
		if variant&16 != 0 {
			c.Type, c.Flavor = TypeJSON, FlavorMariaDB
		}
	}
	return c, true
}

// FuzzRawDecoderMatchesBinlogDecoder feeds random row bytes for a random
// column to go-mysql and to RawDecoder. Wherever go-mysql decodes, the raw
// decoder must produce the same values (via BinlogDecoder) from the same
// bytes, consuming the same lengths; on any input it must not panic.
func FuzzRawDecoderMatchesBinlogDecoder(f *testing.F) {
	seeds := []struct {
		typ  byte
		meta uint16
		data []byte
	}{
		{mysql.MYSQL_TYPE_LONG, 0, le(math.MaxUint32, 4)},
		{mysql.MYSQL_TYPE_INT24, 0, []byte{0, 0, 0x80}},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 10<<8 | 4, decimalBinary("-123.4500", 10, 4)},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 65<<8 | 30, decimalBinary("-12345678901234567890123456789012345.123456789012345678901234567890", 65, 30)},
		{mysql.MYSQL_TYPE_NEWDECIMAL, 5<<8 | 2, []byte{0xff, 0xff, 0x00}},
		{mysql.MYSQL_TYPE_DATETIME2, 6, datetime2Binary(1969, 12, 31, 23, 59, 59, 999999, 6)},
		{mysql.MYSQL_TYPE_DATETIME2, 3, datetime2Binary(2020, 2, 31, 25, 61, 63, 0, 3)},
		{mysql.MYSQL_TYPE_DATETIME, 0, le(20200010100000, 8)},
		{mysql.MYSQL_TYPE_TIMESTAMP2, 3, append(be(1673397250, 4), 0xff, 0xff)},
		{mysql.MYSQL_TYPE_TIME2, 2, []byte{0x7f, 0xff, 0xfe, 0xff}},
		{mysql.MYSQL_TYPE_TIME2, 6, be(math.MaxUint64, 6)},
		{mysql.MYSQL_TYPE_DATE, 0, dateBinary(2021, 2, 30)},
		{mysql.MYSQL_TYPE_BIT, 2<<8 | 1, []byte{2, 1}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1, []byte{2, 0, 7}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_SET)<<8 | 2, []byte{5, 0}},
		{mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8 | 10, []byte{4, 'c', 'a', 'f', 0xe9}},
		{mysql.MYSQL_TYPE_VARCHAR, 300, []byte{3, 0, 'a', 0xff, 'b'}},
		{mysql.MYSQL_TYPE_BLOB, 2, append([]byte{4, 0}, "😀"...)},
		{mysql.MYSQL_TYPE_GEOMETRY, 4, prefixed("\xe6\x10\x00\x00\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40", 4)},
		{mysql.MYSQL_TYPE_VECTOR, 4, prefixed("\x00\x00\xc0\x3f", 4)},
		{mysql.MYSQL_TYPE_YEAR, 0, []byte{0, 0, 124}},
		{mysql.MYSQL_TYPE_FLOAT, 4, le(0x7fc00001, 4)},
	}
	for i, s := range seeds {
		f.Add(s.typ, s.meta, i%2 == 0, i%3 == 0, uint8(i), s.data)
	}
	f.Fuzz(func(t *testing.T, typ byte, meta uint16, unsigned, nullable bool, variant uint8, data []byte) {
		col, ok := fuzzColumn(typ, meta, unsigned, nullable, variant)
		if mb := metaBytes(typ, meta); !ok || len(mb) == 1 && meta > 0xff || len(mb) == 0 && meta != 0 {
			return
		}
		raw, err := col.RawDecoder(typ, meta)
		if err != nil {
			return
		}
		for cut := 0; cut <= len(data); cut++ {
			_, _, _ = raw(data[:cut]) // must not panic
		}
		slow, err := col.BinlogDecoder()
		if err != nil {
			t.Fatalf("BinlogDecoder: %v", err)
		}
		// One image is the null bitmap, then the value. go-mysql reads
		// further images from what the value leaves.
		tableMapUnsigned := unsigned && variant&32 != 0
		body := append([]byte{0}, data...)
		rows, err := goMySQLRows(typ, meta, tableMapUnsigned, body)
		if err != nil || len(rows) > 1000 {
			return
		}
		pos := 0
		for i, row := range rows {
			nullBitmap := body[pos]
			pos++
			if nullBitmap&1 != 0 {
				if row[0] != nil {
					t.Fatalf("row %d: go-mysql read %#v where the bitmap says NULL", i, row[0])
				}
				continue
			}
			want, wantErr := slow(row[0])
			got, n, gotErr := raw(body[pos:])
			if (wantErr != nil) != (gotErr != nil) {
				t.Fatalf("row %d: go-mysql %#v: BinlogDecoder error %v, RawDecoder error %v", i, row[0], wantErr, gotErr)
			}
			if wantErr != nil {
				return // the row fails either way; the rest is unaligned
			}
			if !got.Equal(want) {
				t.Fatalf("row %d: go-mysql %#v: BinlogDecoder %s, RawDecoder %s", i, row[0], valueString(want), valueString(got))
			}
			pos += n
		}
		if pos != len(body) {
			t.Fatalf("raw decoding consumed %d of %d bytes that go-mysql read as %d rows", pos, len(body), len(rows))
		}
	})
}

// appendPadded and appendZonedTimestamp are shared with BinlogDecoder, so
// the differential tests cannot see their mistakes: check them against
// independent renderings.
func TestAppendPaddedMatchesReference(t *testing.T) {
	reference := func(v, width int) string {
		s := strconv.Itoa(v)
		neg := v < 0
		if neg {
			s = s[1:]
		}
		for len(s) < width {
			s = "0" + s
		}
		if neg {
			s = "-" + s
		}
		return s
	}
	r := rand.New(rand.NewPCG(9, 10))
	values := []int{0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 999999999, 1000000000, -1, -5, -10000, math.MaxInt64, math.MinInt64 + 1}
	for range 2000 {
		values = append(values, int(r.Int64N(2e10))-1e10, r.IntN(100000))
	}
	for _, v := range values {
		for width := 0; width <= 11; width++ {
			if got, want := string(appendPadded([]byte("x"), v, width)), "x"+reference(v, width); got != want {
				t.Fatalf("appendPadded(%d, %d) = %q, want %q", v, width, got, want)
			}
		}
	}
}

func TestAppendZonedTimestampMatchesTimeFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	secs := []int64{0, 1, 86399, 86400, 951782400, 1673397250, math.MaxInt32, math.MaxUint32, -1, -86401, 253402300799}
	for range 3000 {
		secs = append(secs, r.Int64N(253402300800))
	}
	for _, sec := range secs {
		for _, nanos := range []int{0, 1000, 10_000_000, 123_456_000, 999_999_000, int(r.Int64N(1e9))} {
			tm := time.Unix(sec, int64(nanos)).UTC()
			for fsp := range 7 {
				layout := "2006-01-02T15:04:05.999999999Z07:00"
				if fsp > 0 {
					layout = "2006-01-02T15:04:05." + strings.Repeat("0", fsp) + "Z07:00"
				}
				if got, want := string(appendZonedTimestamp(nil, sec, nanos, fsp)), tm.Format(layout); got != want {
					t.Fatalf("appendZonedTimestamp(%d, %d, %d) = %q, want %q", sec, nanos, fsp, got, want)
				}
			}
		}
	}
}
