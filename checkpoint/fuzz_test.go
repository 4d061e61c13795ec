package checkpoint

import (
	"bytes"
	"testing"
	"time"
)

// FuzzDecodeOffset feeds arbitrary stored bytes to the offset decoder: it
// must never panic, and whatever it accepts must encode back to the same
// seq and carry its own copy of the position.
func FuzzDecodeOffset(f *testing.F) {
	f.Add([]byte(`{"pos":4}`), encodeSeq(1), []byte("2026-01-02T03:04:05.123456789Z"))
	f.Add([]byte(`{}`), encodeSeq(1<<63), []byte("2026-01-02T03:04:05+02:00"))
	f.Add([]byte(nil), []byte{1, 2, 3}, []byte("x"))
	f.Add([]byte(`{}`), []byte(nil), []byte(""))
	f.Fuzz(func(t *testing.T, position, seq, updatedAt []byte) {
		off, err := decodeOffset(position, seq, updatedAt)
		if err != nil {
			return
		}
		if !bytes.Equal(encodeSeq(off.Seq), seq) {
			t.Errorf("seq %x decoded to %d, which encodes as %x", seq, off.Seq, encodeSeq(off.Seq))
		}
		if !bytes.Equal(off.Position, position) {
			t.Errorf("position %q decoded to %q", position, off.Position)
		}
		if len(position) > 0 && &off.Position[0] == &position[0] {
			t.Error("decoded position aliases the stored bytes")
		}
		if _, err := time.Parse(time.RFC3339Nano, off.UpdatedAt.Format(time.RFC3339Nano)); err != nil {
			t.Errorf("updated_at %v does not format back: %v", off.UpdatedAt, err)
		}
	})
}

// FuzzIsJSONObject checks the position guard agrees with its definition:
// valid JSON whose first token is an object.
func FuzzIsJSONObject(f *testing.F) {
	for _, s := range []string{`{}`, ` {"a":1}`, `[]`, `{"a":`, `"x"`, ``, "\t{}\n", `{} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := isJSONObject(b)
		trimmed := bytes.TrimSpace(b)
		if got && (len(trimmed) == 0 || trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}') {
			t.Errorf("isJSONObject(%q) = true for something that is not an object", b)
		}
	})
}
