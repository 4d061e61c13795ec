package pipeline

import (
	"testing"
	"unsafe"
)

// A Value stays four words: the compiler then passes, returns and stores
// it in registers, which every decoded column relies on.
func TestValueIsFourWords(t *testing.T) {
	if got, want := unsafe.Sizeof(Value{}), 4*unsafe.Sizeof(uintptr(0)); got != want {
		t.Errorf("a Value is %d bytes, want %d", got, want)
	}
}

// String data and members share a field: each kind sees only its own.
func TestValueKindsDoNotMix(t *testing.T) {
	s := String("abc")
	if s.AsString() != "abc" || s.Elems() != nil || string(s.AsBytes()) != "abc" {
		t.Errorf("string: %q %v %q", s.AsString(), s.Elems(), s.AsBytes())
	}
	st := Struct(Int(1), String("x"))
	if st.AsString() != "" || st.AsBytes() != nil || len(st.Elems()) != 2 || st.Elems()[1].AsString() != "x" {
		t.Errorf("struct: %q %v %v", st.AsString(), st.AsBytes(), st.Elems())
	}
	if b := Bytes(nil); b.AsBytes() != nil || b.Kind() != KindBytes {
		t.Errorf("empty bytes: %v %v", b.AsBytes(), b.Kind())
	}
	if !String("ab").Equal(String(string([]byte{'a', 'b'}))) || String("ab").Equal(Bytes([]byte("ab"))) {
		t.Error("Equal compares kind and content, not where the content is")
	}
	if !Struct(String("a")).Equal(Struct(String("a"))) || Struct(String("a")).Equal(Array(String("a"))) {
		t.Error("Equal compares members")
	}
	if got := st.Size(); got != 3*int(unsafe.Sizeof(Value{}))+1 {
		t.Errorf("struct size %d", got)
	}
}
