package pgtype

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/siphoncdc/siphon/pipeline"
)

// ErrNoPlaceholder marks a column type that cannot be TOASTed (it is of
// fixed, small size) or whose placeholder Debezium cannot represent in the
// column's schema. pgoutput sending 'u' (unchanged TOASTed value) for such a
// column is a protocol surprise the source must not paper over.
var ErrNoPlaceholder = errors.New("no unchanged-TOAST placeholder")

// Placeholder returns the value Debezium emits for an unchanged TOASTed
// value of the column (pgoutput 'u'): unavailable.value.placeholder in the
// column's representation (SPEC §4.3, UnchangedToastedPlaceholder).
func (c Column) Placeholder(o Options) (pipeline.Value, error) {
	r, err := c.resolve()
	if err != nil {
		return pipeline.Null, err
	}
	v, err := r.placeholder(o.placeholder())
	if err != nil {
		return pipeline.Null, c.columnError(err)
	}
	return v, nil
}

func (r *resolved) placeholder(ph []byte) (pipeline.Value, error) {
	switch r.kind {
	case kindText:
		if !toastableText[r.name] {
			break
		}
		return pipeline.String(string(ph)), nil
	case kindJSON, kindXML, kindTsvector, kindLtree:
		// json and jsonb get the bare placeholder, which is not JSON.
		return pipeline.String(string(ph)), nil
	case kindBytea:
		return pipeline.Bytes(append([]byte(nil), ph...)), nil
	case kindHstore:
		return pipeline.String(string(appendHstoreJSON(nil, []hstorePair{{key: string(ph), value: string(ph)}}))), nil
	case kindArray:
		return r.arrayPlaceholder(ph)
	case kindNumeric, kindBit:
		return pipeline.Null, fmt.Errorf("%w: Debezium puts the placeholder string into the %s column's bytes schema and fails", ErrNoPlaceholder, r.name)
	}
	return pipeline.Null, fmt.Errorf("%w: values of type %s are never TOASTed", ErrNoPlaceholder, r.name)
}

// toastableText are the string-mapped types whose values can be large
// enough to be TOASTed; name, "char", inet, cidr and the macaddr types are
// small and fixed or bounded.
var toastableText = map[string]bool{
	"text": true, "varchar": true, "bpchar": true, "citext": true,
	"int4range": true, "int8range": true, "numrange": true, "tsrange": true, "tstzrange": true, "daterange": true,
}

// arrayPlaceholder follows UnchangedToastedReplicationMessageColumn: text,
// varchar, json and jsonb arrays get [placeholder]; bytea arrays
// [placeholder bytes]; int4, date and int8 arrays the placeholder's
// (signed) byte values; uuid arrays [UUID.nameUUIDFromBytes(placeholder)].
// Arrays of other string-mapped elements also get [placeholder] (Debezium
// 3.6 emits a bare string there, which fails its own schema check); the
// rest have no placeholder.
func (r *resolved) arrayPlaceholder(ph []byte) (pipeline.Value, error) {
	e := r.elem
	switch {
	case e.kind == kindInt4 || e.kind == kindInt8 || e.kind == kindDate:
		vals := make([]pipeline.Value, len(ph))
		for i, b := range ph {
			vals[i] = pipeline.Int(int64(int8(b)))
		}
		return pipeline.Array(vals...), nil
	case e.kind == kindBytea:
		return pipeline.Array(pipeline.Bytes(append([]byte(nil), ph...))), nil
	case e.kind == kindUUID:
		return pipeline.Array(pipeline.String(nameUUIDFromBytes(ph))), nil
	case e.kind == kindText || e.kind == kindJSON || e.kind == kindTsvector || e.kind == kindLtree || e.kind == kindEnum:
		return pipeline.Array(pipeline.String(string(ph))), nil
	}
	return pipeline.Null, fmt.Errorf("%w: Debezium has none for arrays of %s", ErrNoPlaceholder, e.name)
}

// nameUUIDFromBytes is Java's UUID.nameUUIDFromBytes: an MD5 (version 3)
// UUID, printed in lower case.
func nameUUIDFromBytes(b []byte) string {
	sum := md5.Sum(b)
	sum[6] = sum[6]&0x0f | 0x30
	sum[8] = sum[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], sum[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], sum[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], sum[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], sum[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], sum[10:16])
	return string(out[:])
}
