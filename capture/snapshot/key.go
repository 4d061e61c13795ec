package snapshot

import (
	"encoding/binary"
	"math"

	"github.com/siphoncdc/siphon/pipeline"
)

// KeyString encodes the values of the columns cols of a row as a map key.
// Two keys encode equally exactly when their values are identical, which
// is what the stream and a chunk share for the same stored row.
func KeyString(row pipeline.Row, cols []int) string {
	var b []byte
	for _, c := range cols {
		b = appendValue(b, row[c])
	}
	return string(b)
}

func appendValue(b []byte, v pipeline.Value) []byte {
	b = append(b, byte(v.Kind()))
	switch v.Kind() {
	case pipeline.KindBool:
		if v.AsBool() {
			return append(b, 1)
		}
		return append(b, 0)
	case pipeline.KindInt:
		return binary.BigEndian.AppendUint64(b, uint64(v.AsInt()))
	case pipeline.KindFloat32, pipeline.KindFloat64:
		return binary.BigEndian.AppendUint64(b, math.Float64bits(v.AsFloat64()))
	case pipeline.KindString, pipeline.KindBytes:
		b = binary.AppendUvarint(b, uint64(len(v.AsString())))
		return append(b, v.AsString()...)
	case pipeline.KindStruct, pipeline.KindArray:
		es := v.Elems()
		b = binary.AppendUvarint(b, uint64(len(es)))
		for _, e := range es {
			b = appendValue(b, e)
		}
	}
	return b
}
