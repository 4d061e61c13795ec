package coltype

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// This file builds real binlog events (FORMAT_DESCRIPTION, TABLE_MAP,
// WRITE_ROWS v2) for one column and runs them through go-mysql's parser,
// configured the way the source configures it, so tests see exactly the Go
// values BinlogDecoder receives in production.

func eventBytes(typ replication.EventType, body []byte) []byte {
	h := make([]byte, replication.EventHeaderSize)
	h[4] = byte(typ)
	binary.LittleEndian.PutUint32(h[9:], uint32(len(h)+len(body)))
	return append(h, body...)
}

func formatDescription() []byte {
	body := make([]byte, 2+50+4+1)
	binary.LittleEndian.PutUint16(body, 4)
	copy(body[2:], "5.5.0-siphon-test") // before 5.6.1: no checksum
	body[2+50+4] = replication.EventHeaderSize
	lengths := make([]byte, 40)
	lengths[replication.TABLE_MAP_EVENT-1] = 8
	lengths[replication.WRITE_ROWS_EVENTv2-1] = 10
	return eventBytes(replication.FORMAT_DESCRIPTION_EVENT, append(body, lengths...))
}

type binlogColumn struct {
	typ      byte
	meta     []byte // TABLE_MAP metadata bytes of the column
	unsigned bool
}

// goMySQLValue returns what go-mysql decodes value (the column's row
// bytes; nil for SQL NULL) into.
func goMySQLValue(t *testing.T, col binlogColumn, value []byte) any {
	t.Helper()
	p := replication.NewBinlogParser()
	p.SetParseTime(true)
	p.SetUseDecimal(false)
	p.SetUseFloatWithTrailingZero(false)
	p.SetRenderJSONAsMySQLText(RenderJSONAsMySQLText)

	tm := []byte{1, 0, 0, 0, 0, 0, 0, 0, 1, 'd', 0, 1, 't', 0, 1, col.typ, byte(len(col.meta))}
	tm = append(tm, col.meta...)
	tm = append(tm, 1) // nullable
	if col.unsigned {
		tm = append(tm, replication.TABLE_MAP_OPT_META_SIGNEDNESS, 1, 0x80)
	}
	rows := []byte{1, 0, 0, 0, 0, 0, 1, 0, 2, 0, 1, 1}
	if value == nil {
		rows = append(rows, 1)
	} else {
		rows = append(append(rows, 0), value...)
	}
	for _, ev := range [][]byte{formatDescription(), eventBytes(replication.TABLE_MAP_EVENT, tm)} {
		if _, err := p.Parse(ev); err != nil {
			t.Fatalf("go-mysql parse: %v", err)
		}
	}
	ev, err := p.Parse(eventBytes(replication.WRITE_ROWS_EVENTv2, rows))
	if err != nil {
		t.Fatalf("go-mysql parse rows: %v", err)
	}
	re := ev.Event.(*replication.RowsEvent)
	if len(re.Rows) != 1 || len(re.Rows[0]) != 1 {
		t.Fatalf("go-mysql decoded %d rows", len(re.Rows))
	}
	return re.Rows[0][0]
}

// decimalBinary is MySQL's decimal2bin for a plain decimal string.
func decimalBinary(s string, precision, scale int) []byte {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	ip, fp, _ := strings.Cut(s, ".")
	intg := precision - scale
	ip = strings.Repeat("0", intg-len(ip)) + ip
	fp += strings.Repeat("0", scale-len(fp))
	dig2bytes := [...]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}
	var out []byte
	put := func(digits string, n int) {
		v := 0
		for _, c := range digits {
			v = v*10 + int(c-'0')
		}
		for i := n - 1; i >= 0; i-- {
			out = append(out, byte(v>>(8*i)))
		}
	}
	lead := intg % 9
	put(ip[:lead], dig2bytes[lead])
	for i := lead; i < len(ip); i += 9 {
		put(ip[i:i+9], 4)
	}
	for i := 0; i+9 <= scale; i += 9 {
		put(fp[i:i+9], 4)
	}
	if rest := scale % 9; rest > 0 {
		put(fp[scale-rest:], dig2bytes[rest])
	}
	if neg {
		for i := range out {
			out[i] ^= 0xff
		}
	}
	out[0] ^= 0x80
	return out
}

// datetime2Binary is MySQL's DATETIME(fsp) storage.
func datetime2Binary(y, mo, d, h, mi, s, us, fsp int) []byte {
	ym := int64(y*13 + mo)
	intPart := (ym<<5|int64(d))<<17 | int64(h)<<12 | int64(mi)<<6 | int64(s)
	nr := intPart + 0x8000000000
	out := []byte{byte(nr >> 32), byte(nr >> 24), byte(nr >> 16), byte(nr >> 8), byte(nr)}
	return append(out, fracBinary(us, fsp)...)
}

func fracBinary(us, fsp int) []byte {
	switch fsp {
	case 1, 2:
		return []byte{byte(us / 10000)}
	case 3, 4:
		v := us / 100
		return []byte{byte(v >> 8), byte(v)}
	case 5, 6:
		return []byte{byte(us >> 16), byte(us >> 8), byte(us)}
	}
	return nil
}

// dateBinary is MySQL's DATE storage: year*512 + month*32 + day, 3 bytes LE.
func dateBinary(y, m, d int) []byte {
	v := y*512 + m*32 + d
	return []byte{byte(v), byte(v >> 8), byte(v >> 16)}
}

// JSONB (MySQL binary JSON) building blocks for tests.
type jsonbObject struct {
	keys []string // in MySQL's order: by length, then bytes
	vals []any
}

type jsonbDecimal struct {
	text             string
	precision, scale int
}

type jsonbDatetime struct{ y, mo, d, h, mi, s, us int }

func jsonbVarLen(n int) []byte {
	var out []byte
	for {
		b := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

// jsonb returns the type byte and payload of v.
func jsonb(v any) (byte, []byte) {
	switch x := v.(type) {
	case nil:
		return replication.JSONB_LITERAL, []byte{replication.JSONB_NULL_LITERAL}
	case bool:
		if x {
			return replication.JSONB_LITERAL, []byte{replication.JSONB_TRUE_LITERAL}
		}
		return replication.JSONB_LITERAL, []byte{replication.JSONB_FALSE_LITERAL}
	case int:
		return replication.JSONB_INT64, binary.LittleEndian.AppendUint64(nil, uint64(x))
	case float64:
		return replication.JSONB_DOUBLE, binary.LittleEndian.AppendUint64(nil, math.Float64bits(x))
	case string:
		return replication.JSONB_STRING, append(jsonbVarLen(len(x)), x...)
	case jsonbDecimal:
		data := append([]byte{byte(x.precision), byte(x.scale)}, decimalBinary(x.text, x.precision, x.scale)...)
		return replication.JSONB_OPAQUE, append(append([]byte{mysql.MYSQL_TYPE_NEWDECIMAL}, jsonbVarLen(len(data))...), data...)
	case jsonbDatetime:
		ymd := int64((x.y*13+x.mo)<<5 | x.d)
		packed := (ymd<<17|int64(x.h<<12|x.mi<<6|x.s))<<24 | int64(x.us)
		data := binary.LittleEndian.AppendUint64(nil, uint64(packed))
		return replication.JSONB_OPAQUE, append(append([]byte{mysql.MYSQL_TYPE_DATETIME}, jsonbVarLen(len(data))...), data...)
	case []any:
		return replication.JSONB_SMALL_ARRAY, jsonbContainer(nil, x)
	case jsonbObject:
		return replication.JSONB_SMALL_OBJECT, jsonbContainer(x.keys, x.vals)
	}
	panic("jsonb: unsupported test value")
}

func jsonbContainer(keys []string, vals []any) []byte {
	header := 4 + 4*len(keys) + 3*len(vals)
	var keyBytes, valBytes []byte
	type entry struct {
		typ    byte
		inline []byte
		data   []byte
	}
	entries := make([]entry, len(vals))
	for i, v := range vals {
		typ, data := jsonb(v)
		if typ == replication.JSONB_LITERAL {
			entries[i] = entry{typ: typ, inline: []byte{data[0], 0}}
		} else {
			entries[i] = entry{typ: typ, data: data}
		}
	}
	out := make([]byte, header)
	binary.LittleEndian.PutUint16(out, uint16(len(vals)))
	pos := header
	for i, k := range keys {
		binary.LittleEndian.PutUint16(out[4+4*i:], uint16(pos+len(keyBytes)))
		binary.LittleEndian.PutUint16(out[6+4*i:], uint16(len(k)))
		keyBytes = append(keyBytes, k...)
	}
	pos += len(keyBytes)
	for i, e := range entries {
		at := 4 + 4*len(keys) + 3*i
		out[at] = e.typ
		if e.inline != nil {
			copy(out[at+1:], e.inline)
			continue
		}
		binary.LittleEndian.PutUint16(out[at+1:], uint16(pos+len(valBytes)))
		valBytes = append(valBytes, e.data...)
	}
	out = append(append(out, keyBytes...), valBytes...)
	binary.LittleEndian.PutUint16(out[2:], uint16(len(out)))
	return out
}

// jsonColumnValue is a JSON column's row bytes: 4-byte length, then JSONB.
func jsonColumnValue(v any) []byte {
	typ, payload := jsonb(v)
	doc := append([]byte{typ}, payload...)
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(doc))), doc...)
}
