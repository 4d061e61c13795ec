package debezium

import "github.com/siphoncdc/siphon/pipeline"

// appendPayload appends v as JsonConverter's convertToJson writes a value of
// schema s. The Kind of v decides the JSON type; s names struct members and
// tells maps from arrays.
func appendPayload(dst []byte, v pipeline.Value, s *pipeline.Schema) []byte {
	switch v.Kind() {
	case pipeline.KindBool:
		return appendBool(dst, v.AsBool())
	case pipeline.KindInt:
		return AppendInt(dst, v.AsInt())
	case pipeline.KindFloat32:
		return AppendFloat32(dst, v.AsFloat32())
	case pipeline.KindFloat64:
		return AppendFloat64(dst, v.AsFloat64())
	case pipeline.KindString:
		return AppendString(dst, v.AsString())
	case pipeline.KindBytes:
		return AppendBytes(dst, v.AsBytes())
	case pipeline.KindStruct:
		return appendStruct(dst, v.Elems(), s)
	case pipeline.KindArray:
		if s != nil && s.Type == pipeline.TypeMap {
			return appendMap(dst, v.Elems(), s)
		}
		var items *pipeline.Schema
		if s != nil {
			items = s.Items
		}
		return appendArray(dst, v.Elems(), items)
	default:
		return append(dst, "null"...)
	}
}

// appendStruct writes every field of s in schema order, null where elems
// has no member. Without a struct schema there are no names, so the
// members are written as an array.
func appendStruct(dst []byte, elems []pipeline.Value, s *pipeline.Schema) []byte {
	if s == nil || s.Type != pipeline.TypeStruct {
		return appendArray(dst, elems, nil)
	}
	dst = append(dst, '{')
	for i, f := range s.Fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, f.Name)
		dst = append(dst, ':')
		if i < len(elems) {
			dst = appendPayload(dst, elems[i], f.Schema)
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, '}')
}

func appendArray(dst []byte, elems []pipeline.Value, items *pipeline.Schema) []byte {
	dst = append(dst, '[')
	for i, e := range elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPayload(dst, e, items)
	}
	return append(dst, ']')
}

// appendMap writes map entries (two-member structs: key, value) as a JSON
// object when the key schema is a string and as an array of [key, value]
// arrays otherwise, as JsonConverter does.
func appendMap(dst []byte, entries []pipeline.Value, s *pipeline.Schema) []byte {
	objectMode := s.Keys != nil && s.Keys.Type == pipeline.TypeString
	if objectMode {
		dst = append(dst, '{')
	} else {
		dst = append(dst, '[')
	}
	for i, entry := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		var k, v pipeline.Value
		if kv := entry.Elems(); len(kv) == 2 {
			k, v = kv[0], kv[1]
		}
		if objectMode {
			dst = AppendString(dst, k.AsString())
			dst = append(dst, ':')
			dst = appendPayload(dst, v, s.Values)
			continue
		}
		dst = append(dst, '[')
		dst = appendPayload(dst, k, s.Keys)
		dst = append(dst, ',')
		dst = appendPayload(dst, v, s.Values)
		dst = append(dst, ']')
	}
	if objectMode {
		return append(dst, '}')
	}
	return append(dst, ']')
}
