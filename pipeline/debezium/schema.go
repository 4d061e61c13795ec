package debezium

import (
	"strconv"

	"github.com/siphoncdc/siphon/pipeline"
)

// AppendSchema appends s as JsonConverter renders a Connect schema. Keys
// come in its fixed order: type; items, or keys and values, or fields;
// optional (always); then name, version, doc, parameters (declaration
// order) and default when set. Struct members carry their "field" name
// last. A nil schema is written as null.
func AppendSchema(dst []byte, s *pipeline.Schema) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = appendSchemaMembers(dst, s)
	return append(dst, '}')
}

// appendFieldSchema appends the schema of a struct member named name.
func appendFieldSchema(dst []byte, name string, s *pipeline.Schema) []byte {
	if s == nil {
		s = &pipeline.Schema{Optional: true}
	}
	dst = appendSchemaMembers(dst, s)
	dst = append(dst, `,"field":`...)
	dst = AppendString(dst, name)
	return append(dst, '}')
}

// appendSchemaMembers appends s up to, not including, its closing brace.
func appendSchemaMembers(dst []byte, s *pipeline.Schema) []byte {
	dst = append(dst, `{"type":`...)
	dst = AppendString(dst, s.Type.String())
	switch s.Type {
	case pipeline.TypeArray:
		dst = append(dst, `,"items":`...)
		dst = AppendSchema(dst, s.Items)
	case pipeline.TypeMap:
		dst = append(dst, `,"keys":`...)
		dst = AppendSchema(dst, s.Keys)
		dst = append(dst, `,"values":`...)
		dst = AppendSchema(dst, s.Values)
	case pipeline.TypeStruct:
		dst = append(dst, `,"fields":[`...)
		for i, f := range s.Fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendFieldSchema(dst, f.Name, f.Schema)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"optional":`...)
	dst = appendBool(dst, s.Optional)
	if s.Name != "" {
		dst = append(dst, `,"name":`...)
		dst = AppendString(dst, s.Name)
	}
	if s.Version != 0 {
		dst = append(dst, `,"version":`...)
		dst = strconv.AppendInt(dst, int64(s.Version), 10)
	}
	if s.Doc != "" {
		dst = append(dst, `,"doc":`...)
		dst = AppendString(dst, s.Doc)
	}
	if len(s.Params) > 0 {
		dst = append(dst, `,"parameters":{`...)
		for i, p := range s.Params {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, p.Key)
			dst = append(dst, ':')
			dst = AppendString(dst, p.Value)
		}
		dst = append(dst, '}')
	}
	if s.Default != nil {
		dst = append(dst, `,"default":`...)
		dst = appendPayload(dst, *s.Default, s)
	}
	return dst
}
