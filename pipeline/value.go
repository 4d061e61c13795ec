package pipeline

import (
	"math"
	"unsafe"
)

// Kind tells which member of a Value is set.
type Kind uint8

// Value kinds.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat32
	KindFloat64
	KindString
	KindBytes
	KindStruct
	KindArray
)

// Value is one datum in its Kafka Connect representation: a DATE is already
// days since the epoch, a DECIMAL already its unscaled two's-complement
// bytes. It is a small tagged union so that rows need no allocation per
// column beyond their string and byte data. Values are immutable: bytes and
// composite members must not be modified once wrapped.
//
// It is four words of four fields, the most the compiler keeps in
// registers: a Value is passed, returned and stored without going through
// memory (a fifth word made every decoded column cost a spill and a
// stalled reload).
type Value struct {
	kind Kind
	num  uint64
	// ptr is a string's or bytes' data, n their length; for a struct or an
	// array, ptr is its *[]Value and n is 0.
	ptr unsafe.Pointer
	n   int
}

// Null is the SQL NULL / JSON null value.
var Null = Value{}

// Bool wraps a boolean.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, num: 1}
	}
	return Value{kind: KindBool}
}

// Int wraps any Connect integer (int8 to int64).
func Int(i int64) Value { return Value{kind: KindInt, num: uint64(i)} }

// Float32 wraps a Connect FLOAT32.
func Float32(f float32) Value {
	return Value{kind: KindFloat32, num: uint64(math.Float32bits(f))}
}

// Float64 wraps a Connect FLOAT64.
func Float64(f float64) Value { return Value{kind: KindFloat64, num: math.Float64bits(f)} }

// String wraps a string.
func String(s string) Value {
	return Value{kind: KindString, ptr: unsafe.Pointer(unsafe.StringData(s)), n: len(s)}
}

// Bytes wraps bytes without copying; the caller gives up ownership of b.
func Bytes(b []byte) Value {
	if len(b) == 0 {
		return Value{kind: KindBytes}
	}
	return Value{kind: KindBytes, ptr: unsafe.Pointer(&b[0]), n: len(b)}
}

// Struct wraps the field values of a struct, in schema field order.
func Struct(fields ...Value) Value { return Value{kind: KindStruct, ptr: unsafe.Pointer(&fields)} }

// Array wraps array elements.
func Array(elems ...Value) Value { return Value{kind: KindArray, ptr: unsafe.Pointer(&elems)} }

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.kind == KindNull }

// AsBool returns the boolean of a KindBool value.
func (v Value) AsBool() bool { return v.num != 0 }

// AsInt returns the integer of a KindInt value.
func (v Value) AsInt() int64 { return int64(v.num) }

// AsFloat32 returns the float of a KindFloat32 value.
func (v Value) AsFloat32() float32 { return math.Float32frombits(uint32(v.num)) }

// AsFloat64 returns the float of a KindFloat64 value (a KindFloat32 value widened).
func (v Value) AsFloat64() float64 {
	if v.kind == KindFloat32 {
		return float64(v.AsFloat32())
	}
	return math.Float64frombits(v.num)
}

// AsString returns the string of a KindString value, or the raw bytes of a
// KindBytes value as a string.
func (v Value) AsString() string {
	if v.n == 0 {
		return ""
	}
	return unsafe.String((*byte)(v.ptr), v.n)
}

// AsBytes returns the bytes of a KindBytes value. They must not be modified.
func (v Value) AsBytes() []byte {
	if v.n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(v.ptr), v.n)
}

// Elems returns the members of a KindStruct or KindArray value.
func (v Value) Elems() []Value {
	if (v.kind != KindStruct && v.kind != KindArray) || v.ptr == nil {
		return nil
	}
	return *(*[]Value)(v.ptr)
}

// Size estimates the memory v holds, for byte-bounded queues.
func (v Value) Size() int {
	n := int(unsafe.Sizeof(v)) + v.n
	for _, e := range v.Elems() {
		n += e.Size()
	}
	return n
}

// Equal reports whether two values are identical (same kind and content).
func (v Value) Equal(o Value) bool {
	if v.kind != o.kind || v.num != o.num || v.AsString() != o.AsString() {
		return false
	}
	a, b := v.Elems(), o.Elems()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}
