package coltype

import (
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// fromTwosComplement reads Java BigInteger.toByteArray() output back.
func fromTwosComplement(b []byte) *big.Int {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x
}

func FuzzDecimal(f *testing.F) {
	f.Add("200000.0000", uint8(4))
	f.Add("10.0000", uint8(4))
	f.Add("0.1880", uint8(4))
	f.Add("-123.4500", uint8(4))
	f.Add("-0.50", uint8(2))
	f.Add("0", uint8(0))
	f.Add("99999999999999999999999999999999999.999999999999999999999999999999", uint8(30))
	f.Add("-9223372036854775808", uint8(0))
	f.Add("922337203685477580.7", uint8(1))
	f.Fuzz(func(t *testing.T, s string, scale uint8) {
		sc := int(scale % 31)
		b, err := decimalUnscaled(s, sc)
		if err != nil {
			return
		}
		if len(b) == 0 {
			t.Fatalf("%q: no bytes", s)
		}
		if len(b) > 1 && (b[0] == 0 && b[1]&0x80 == 0 || b[0] == 0xff && b[1]&0x80 != 0) {
			t.Fatalf("%q: % x is not minimal", s, b)
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			t.Fatalf("%q accepted but is not a number", s)
		}
		want.Mul(want, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sc)), nil)))
		if !want.IsInt() {
			t.Fatalf("%q at scale %d accepted but has more digits", s, sc)
		}
		if got := fromTwosComplement(b); got.Cmp(want.Num()) != 0 {
			t.Fatalf("%q at scale %d: bytes % x read back as %s, want %s", s, sc, b, got, want.Num())
		}
	})
}

func FuzzFromBinlog(f *testing.F) {
	for _, typ := range []byte{mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_NEWDECIMAL, mysql.MYSQL_TYPE_BIT, mysql.MYSQL_TYPE_STRING,
		mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_VECTOR} {
		f.Add(typ, uint16(0), false, true)
		f.Add(typ, uint16(0xf701), true, false)
		f.Add(typ, uint16(0xffff), false, false)
	}
	f.Fuzz(func(t *testing.T, typ byte, meta uint16, unsigned, nullable bool) {
		c, err := FromBinlog("c", typ, meta, unsigned, nullable)
		if err != nil {
			return
		}
		if c.Type.isText() || c.Type == TypeEnum || c.Type == TypeSet {
			c.Charset = "utf8mb4"
		}
		if _, err := c.Schema(); err != nil {
			t.Fatalf("%+v: Schema: %v", c, err)
		}
		dec, err := c.BinlogDecoder()
		if err != nil {
			t.Fatalf("%+v: BinlogDecoder: %v", c, err)
		}
		for _, v := range []any{nil, int64(-1), uint64(1), "0000-00-00 00:00:00", "x", []byte{1, 2, 3, 4, 5}, 1.5, float32(2)} {
			_, _ = dec(v) // must not panic
		}
	})
}

func FuzzDebeziumJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e-05,"\u003c"]}`, `"x"`, `[10000000.0,0.00012]`, "\"\xff\"", `"\ud800"`, `[1e999]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := debeziumJSON(s)
		if err != nil || !json.Valid([]byte(s)) {
			return
		}
		if !json.Valid([]byte(out)) {
			t.Fatalf("valid %q became invalid %q", s, out)
		}
		if !utf8.ValidString(s) {
			return
		}
		if !utf8.ValidString(out) {
			t.Fatalf("%q became invalid UTF-8 %q", s, out)
		}
		// The same document: equal strings, numbers equal as doubles.
		var before, after any
		if json.Unmarshal([]byte(s), &before) != nil {
			return
		}
		if err := json.Unmarshal([]byte(out), &after); err != nil {
			t.Fatalf("%q: %v", out, err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("%q became a different document %q", s, out)
		}
	})
}

var fuzzCharsets = []string{"utf8mb4", "utf8mb3", "ascii", "latin1", "latin2", "cp1250", "cp1251", "cp1256", "cp1257",
	"greek", "hebrew", "koi8r", "koi8u", "ucs2", "utf16", "utf16le", "utf32", "gbk", "gb2312", "gb18030", "big5",
	"sjis", "cp932", "ujis", "eucjpms", "euckr"}

// Any bytes in any supported charset decode, as in Java, to valid UTF-8.
func FuzzTextDecode(f *testing.F) {
	f.Add(uint8(0), []byte("a\xffb"))
	f.Add(uint8(16), []byte{0, 0, 0})
	f.Add(uint8(19), []byte{0x81, 0x30})
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		cs := fuzzCharsets[int(which)%len(fuzzCharsets)]
		d, err := newTextDecoder(cs)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d.decode(string(data))
		if err != nil {
			t.Fatalf("%s % x: %v", cs, data, err)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("%s % x: invalid UTF-8 %q", cs, data, out)
		}
	})
}
