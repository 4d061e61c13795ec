package postgres

import (
	"strings"
	"testing"
)

// TestReaderSpillsStreamedBlocks: the reader spills Stream Start … Stream
// Stop blocks and handles Stream Aborts itself, and hands on everything
// else — Stream Commit included — for the stream goroutine.
func TestReaderSpillsStreamedBlocks(t *testing.T) {
	insert := func(xid uint32, v string) []byte {
		return msgBuilder{}.u8(msgInsert).u32(xid).u32(16384).u8('N').u16(1).text(v)
	}
	start := func(xid uint32) []byte { return msgBuilder{}.u8(msgStreamStart).u32(xid).u8(1) }
	stop := msgBuilder{}.u8(msgStreamStop)
	abort := func(xid, sub uint32) []byte { return msgBuilder{}.u8(msgStreamAbort).u32(xid).u32(sub) }
	commit := func(xid uint32) []byte {
		return msgBuilder{}.u8(msgStreamCommit).u32(xid).u8(0).u64(0x500).u64(0x528).u64(0)
	}
	begin := msgBuilder{}.u8(msgBegin).u64(0x300).u64(0).u32(9)

	stream := []struct {
		msg     []byte
		handOn  bool
		wantErr string
	}{
		{msg: start(700)},
		{msg: insert(700, "top 1")},
		{msg: insert(701, "sub 701")},
		{msg: stop},
		{msg: begin, handOn: true}, // another transaction between blocks
		{msg: start(800)},
		{msg: insert(800, "aborted whole")},
		{msg: stop},
		{msg: start(700)},
		{msg: insert(702, "sub 702")},
		{msg: insert(700, "top 2")},
		{msg: stop},
		{msg: abort(700, 701)},
		{msg: abort(800, 800)},
		{msg: commit(700), handOn: true},
	}
	s, err := newSpiller(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &replReader{spill: s}
	for i, step := range stream {
		spilled, err := r.streamed(uint64(i+1), step.msg)
		if err != nil {
			t.Fatalf("message %d (%q): %v", i, step.msg[0], err)
		}
		if spilled == step.handOn {
			t.Fatalf("message %d (%q): spilled %t, want handed on %t", i, step.msg[0], spilled, step.handOn)
		}
	}
	if s.Len() != 1 {
		t.Fatalf("%d streamed transactions open, want 1 (800 aborted)", s.Len())
	}
	sf, ok := s.take(700)
	if !ok {
		t.Fatal("transaction 700 was not spilled")
	}
	defer func() { _ = sf.remove() }()
	var got []string
	var m message
	if err := sf.replay(func(lsn uint64, data []byte) error {
		if err := parseMessage(data, true, &m); err != nil {
			return err
		}
		got = append(got, string(m.newTuple[0].data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := "top 1,sub 702,top 2"; strings.Join(got, ",") != want {
		t.Fatalf("replayed %q, want %q", strings.Join(got, ","), want)
	}

	for _, bad := range []struct {
		name string
		msgs [][]byte
		want string
	}{
		{"stop without start", [][]byte{stop}, "Stream Stop without Stream Start"},
		{"begin inside a block", [][]byte{start(5), begin}, "inside a streamed block"},
		{"truncated change", [][]byte{start(5), {msgInsert, 0}}, "too short"},
	} {
		r := &replReader{spill: s}
		var err error
		for _, m := range bad.msgs {
			if _, err = r.streamed(1, m); err != nil {
				break
			}
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want %q", bad.name, err, bad.want)
		}
	}
	s.closeAll()
}
