package coltype

import (
	"encoding/binary"
	"errors"
	"strconv"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/siphoncdc/siphon/pipeline"
)

// IsBinaryTemporal reports whether SQLBinaryTemporalDecoder reads the
// column: DATE, DATETIME and TIMESTAMP.
func (c Column) IsBinaryTemporal() bool {
	return c.Type == TypeDate || c.Type == TypeDateTime || c.Type == TypeTimestamp
}

// SQLBinaryTemporalDecoder is SQLDecoder for a DATE, DATETIME or TIMESTAMP
// column selected as itself through the binary protocol, its values
// handed over as the protocol's bytes rather than as go-mysql's rendering
// of them (which costs several fmt calls per value): 0, 4, 7 or 11 bytes
// of year (2 bytes, little endian), month, day, hour, minute, second and
// microseconds (4 bytes, little endian), shorter when the rest is zero.
// It returns what SQLDecoder returns for the server's text of the same
// value — no CAST(col AS CHAR), which costs the server as much again.
func (c Column) SQLBinaryTemporalDecoder() (func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error), error) {
	text, err := c.SQLDecoder()
	if err != nil {
		return nil, err
	}
	if !c.IsBinaryTemporal() {
		return nil, decoder{col: c, prefix: "column " + c.Name + ": "}.fail("not a DATE, DATETIME or TIMESTAMP column")
	}
	d := decoder{col: c, prefix: "column " + c.Name + ": "}
	zero, _ := d.zeroTemporal()
	fsp := c.FSP
	return func(fv gomysql.FieldValue, a *Arena) (pipeline.Value, error) {
		if isNull(&fv) {
			return pipeline.Null, nil
		}
		t, ok := binaryCivilTime(fv.AsString())
		if !ok {
			return pipeline.Null, d.fail("unreadable binary " + c.sqlName() + " value of " + strconv.Itoa(len(fv.AsString())) + " bytes")
		}
		switch c.Type {
		case TypeDate:
			return d.dateValue(t, zero)
		case TypeDateTime:
			return d.dateTimeValue(t, zero, fsp > 3)
		}
		if t.year == 0 && t.month == 0 && t.day == 0 {
			return zero, nil
		}
		if t.valid() && t.year <= 9999 && t.micro < 1_000_000 {
			// The server's text with a T and a Z, as sqlTimestamp writes it.
			out := appendDateTimeText(a.space(zonedTimestampLen), t, fsp, 'T')
			return pipeline.String(unsafeString(a.claim(append(out, 'Z')))), nil
		}
		s := appendDateTimeText(nil, t, fsp, ' ')
		return text(gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, s), a)
	}, nil
}

// AppendBinaryTemporalText appends the server's text of a binary-protocol
// DATE, DATETIME or TIMESTAMP value of the column: what CAST(col AS CHAR)
// returns, and what the server reads back as the same value.
func (c Column) AppendBinaryTemporalText(dst, b []byte) ([]byte, error) {
	t, ok := binaryCivilTime(b)
	if !ok || !c.IsBinaryTemporal() {
		return nil, errors.New("column " + c.Name + ": unreadable binary " + c.sqlName() + " value of " + strconv.Itoa(len(b)) + " bytes")
	}
	if c.Type == TypeDate {
		return appendDateText(dst, t), nil
	}
	return appendDateTimeText(dst, t, c.FSP, ' '), nil
}

// binaryCivilTime reads a binary-protocol DATE, DATETIME or TIMESTAMP.
func binaryCivilTime(b []byte) (civilTime, bool) {
	var t civilTime
	switch len(b) {
	case 0:
		return t, true
	case 4, 7, 11:
	default:
		return t, false
	}
	t.year, t.month, t.day = int(binary.LittleEndian.Uint16(b)), int(b[2]), int(b[3])
	if len(b) >= 7 {
		t.hour, t.minute, t.second = int(b[4]), int(b[5]), int(b[6])
	}
	if len(b) == 11 {
		t.micro = int(binary.LittleEndian.Uint32(b[7:]))
	}
	return t, true
}

// appendDateTimeText writes t as the server's text of a DATETIME(fsp) or
// TIMESTAMP(fsp), "YYYY-MM-DD HH:MM:SS[.f…]" with sep for the space.
func appendDateTimeText(dst []byte, t civilTime, fsp int, sep byte) []byte {
	dst = append(appendDateText(dst, t), sep)
	dst = appendPadded(dst, t.hour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.minute, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, t.second, 2)
	if fsp > 0 {
		dst = appendFraction(dst, t.micro*1000, fsp)
	}
	return dst
}

// appendDateText writes "YYYY-MM-DD".
func appendDateText(dst []byte, t civilTime) []byte {
	dst = appendPadded(dst, t.year, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, t.month, 2)
	dst = append(dst, '-')
	return appendPadded(dst, t.day, 2)
}
