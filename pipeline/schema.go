package pipeline

// Type is a Kafka Connect schema type.
type Type uint8

// Connect schema types.
const (
	TypeInt8 Type = iota + 1
	TypeInt16
	TypeInt32
	TypeInt64
	TypeFloat32
	TypeFloat64
	TypeBoolean
	TypeString
	TypeBytes
	TypeArray
	TypeMap
	TypeStruct
)

var typeNames = [...]string{
	TypeInt8:    "int8",
	TypeInt16:   "int16",
	TypeInt32:   "int32",
	TypeInt64:   "int64",
	TypeFloat32: "float",
	TypeFloat64: "double",
	TypeBoolean: "boolean",
	TypeString:  "string",
	TypeBytes:   "bytes",
	TypeArray:   "array",
	TypeMap:     "map",
	TypeStruct:  "struct",
}

// String returns the name JsonConverter writes for the type ("float" for
// FLOAT32, "double" for FLOAT64).
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "invalid"
}

// Param is one schema parameter. Parameters keep their declaration order,
// which is the order JsonConverter prints them in.
type Param struct {
	Key, Value string
}

// Schema is a Kafka Connect schema.
type Schema struct {
	Type     Type
	Optional bool
	Name     string // semantic name, e.g. io.debezium.time.Date; "" when unset
	Version  int    // 0 when unset
	Doc      string
	Params   []Param
	Default  *Value // nil when the schema has no default

	Fields []Field // TypeStruct
	Items  *Schema // TypeArray
	Keys   *Schema // TypeMap
	Values *Schema // TypeMap
}

// Field is a named member of a struct schema.
type Field struct {
	Name   string
	Schema *Schema
}

// Param returns the value of the named parameter.
func (s *Schema) Param(key string) (string, bool) {
	for _, p := range s.Params {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Field returns the index of the named field of a struct schema, or -1.
func (s *Schema) Field(name string) int {
	for i, f := range s.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}
