package coltype

import (
	"errors"
	"sort"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// CharsetOfCollation returns the character set of a collation id (binlog
// TABLE_MAP metadata carries collation ids), from a built-in table of the
// ids of MySQL 8.0 and MariaDB 10.x/11.x. A source that has read the
// server's own information_schema.COLLATIONS should prefer that.
func CharsetOfCollation(id uint64) (string, bool) {
	if id > 0xffff {
		return "", false
	}
	i := sort.Search(len(collationRanges), func(i int) bool { return uint64(collationRanges[i].hi) >= id })
	if i < len(collationRanges) && uint64(collationRanges[i].lo) <= id {
		return collationRanges[i].charset, true
	}
	return "", false
}

type textKind uint8

const (
	textUTF8       textKind = iota + 1 // utf8mb3, utf8mb4: validated, passed through
	textASCII                          // bytes >= 0x80 are not ASCII: U+FFFD
	textSingleByte                     // one byte, one rune, by table
	textMultiByte                      // an ASCII-compatible multi-byte charset, via x/text
	textWide                           // ucs2, utf16, utf16le, utf32, via x/text
)

// textDecoder turns a column's bytes into UTF-8 the way Debezium's
// new String(bytes, javaCharset) does: what cannot be decoded becomes
// U+FFFD rather than an error.
type textDecoder struct {
	kind  textKind
	table *[256]rune
	enc   encoding.Encoding
	unit  int // textWide: bytes per code unit
}

// cp1252Undefined are the bytes windows-1252 leaves undefined. MySQL's
// latin1 maps them to U+0081 … U+009D; Debezium decodes latin1 with Java's
// Cp1252, which turns them into U+FFFD, and so does siphon.
var cp1252Undefined = [...]byte{0x81, 0x8d, 0x8f, 0x90, 0x9d}

func singleByteCharsets(cs string) *charmap.Charmap {
	switch cs {
	case "latin1":
		return charmap.Windows1252
	case "latin2":
		return charmap.ISO8859_2
	case "latin5":
		return charmap.ISO8859_9
	case "latin7":
		return charmap.ISO8859_13
	case "greek":
		return charmap.ISO8859_7
	case "hebrew":
		return charmap.ISO8859_8
	case "cp1250":
		return charmap.Windows1250
	case "cp1251":
		return charmap.Windows1251
	case "cp1256":
		return charmap.Windows1256
	case "cp1257":
		return charmap.Windows1257
	case "koi8r":
		return charmap.KOI8R
	case "koi8u":
		return charmap.KOI8U
	case "cp850":
		return charmap.CodePage850
	case "cp852":
		return charmap.CodePage852
	case "cp866":
		return charmap.CodePage866
	case "macroman":
		return charmap.Macintosh
	}
	return nil
}

func multiByteCharset(cs string) encoding.Encoding {
	switch cs {
	case "gbk", "gb2312":
		// GB2312 (EUC-CN) is a subset of GBK.
		return simplifiedchinese.GBK
	case "gb18030":
		return simplifiedchinese.GB18030
	case "big5":
		return traditionalchinese.Big5
	case "sjis", "cp932":
		return japanese.ShiftJIS
	case "ujis", "eucjpms":
		return japanese.EUCJP
	case "euckr":
		return korean.EUCKR
	}
	return nil
}

func wideCharset(cs string) encoding.Encoding {
	switch cs {
	case "ucs2", "utf16":
		return unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	case "utf16le":
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	case "utf32":
		return utf32.UTF32(utf32.BigEndian, utf32.UseBOM)
	}
	return nil
}

func newTextDecoder(charset string) (*textDecoder, error) {
	cs := normCharset(charset)
	switch cs {
	case "":
		return nil, errors.New("character set unknown")
	case "utf8mb3", "utf8mb4":
		return &textDecoder{kind: textUTF8}, nil
	case "ascii":
		return &textDecoder{kind: textASCII}, nil
	}
	if m := singleByteCharsets(cs); m != nil {
		var table [256]rune
		for b := range table {
			table[b] = m.DecodeByte(byte(b))
		}
		if cs == "latin1" {
			for _, b := range cp1252Undefined {
				table[b] = utf8.RuneError
			}
		}
		return &textDecoder{kind: textSingleByte, table: &table}, nil
	}
	if enc := multiByteCharset(cs); enc != nil {
		return &textDecoder{kind: textMultiByte, enc: enc}, nil
	}
	if enc := wideCharset(cs); enc != nil {
		unit := 2
		if cs == "utf32" {
			unit = 4
		}
		return &textDecoder{kind: textWide, enc: enc, unit: unit}, nil
	}
	return nil, errors.New("unsupported character set " + charset)
}

// decode converts s, raw column bytes, to UTF-8. The result is s itself
// when s is already valid UTF-8 text in the column's encoding.
func (d *textDecoder) decode(s string) (string, error) {
	switch d.kind {
	case textUTF8:
		if utf8.ValidString(s) {
			return s, nil
		}
		return string(appendValidUTF8(make([]byte, 0, len(s)+8), s)), nil
	case textASCII:
		if isASCII(s) {
			return s, nil
		}
		var b strings.Builder
		b.Grow(len(s) + 8)
		for i := 0; i < len(s); i++ {
			if s[i] < utf8.RuneSelf {
				b.WriteByte(s[i])
			} else {
				b.WriteRune(utf8.RuneError)
			}
		}
		return b.String(), nil
	case textSingleByte:
		if isASCII(s) {
			return s, nil
		}
		out := make([]byte, 0, len(s)+len(s)/2)
		for i := 0; i < len(s); i++ {
			if s[i] < utf8.RuneSelf {
				out = append(out, s[i])
			} else {
				out = utf8.AppendRune(out, d.table[s[i]])
			}
		}
		return unsafe.String(unsafe.SliceData(out), len(out)), nil
	case textMultiByte:
		if isASCII(s) {
			return s, nil
		}
	case textWide:
		if rest := len(s) % d.unit; rest != 0 {
			// A truncated code unit: x/text fails on it, Java writes U+FFFD.
			out, err := d.enc.NewDecoder().String(s[:len(s)-rest])
			return out + "\ufffd", err
		}
	}
	return d.enc.NewDecoder().String(s)
}

// DecodeString converts bytes in a MySQL character set to a UTF-8 string,
// the way column values are converted; ENUM and SET members read from a
// binlog TABLE_MAP need it before they go into Column.Members.
func DecodeString(charset string, b []byte) (string, error) {
	if normCharset(charset) == "binary" {
		return string(b), nil
	}
	d, err := newTextDecoder(charset)
	if err != nil {
		return "", err
	}
	s, err := d.decode(string(b))
	if err != nil {
		return "", errors.New("cannot decode " + charset + " text: " + err.Error())
	}
	return s, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// appendValidUTF8 appends s with every ill-formed subsequence replaced by
// one U+FFFD per maximal subpart (Unicode §3.9, U+FFFD substitution of
// maximal subparts), which is what Java's UTF-8 decoder does.
func appendValidUTF8(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			dst = append(dst, s[i:i+n]...)
			i += n
			continue
		}
		dst = utf8.AppendRune(dst, utf8.RuneError)
		i += maximalSubpart(s[i:])
	}
	return dst
}

// maximalSubpart returns the length of the ill-formed sequence starting at
// s[0]: a lead byte plus the continuation bytes that could still have been
// part of a well-formed sequence, at least 1.
func maximalSubpart(s string) int {
	var need int
	lo, hi := byte(0x80), byte(0xbf)
	switch c := s[0]; {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
		need = 2
	case c == 0xed:
		need, hi = 2, 0x9f
	case c == 0xf0:
		need, lo = 3, 0x90
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	case c == 0xf4:
		need, hi = 3, 0x8f
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(s); n++ {
		if s[n] < lo || s[n] > hi {
			break
		}
		lo, hi = 0x80, 0xbf
	}
	return n
}
