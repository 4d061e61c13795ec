package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
)

// fixedClock returns a clock that advances one second per reading.
func fixedClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	now := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
}

func TestOffsetRoundTrip(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	base := time.Date(2026, 5, 4, 12, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))
	s.now = fixedClock(base)
	p := s.Pipeline("orders")

	if off, found, err := p.LoadOffset(); err != nil || found {
		t.Fatalf("LoadOffset on empty store = %+v, %v, %v; want not found", off, found, err)
	}

	steps := []struct {
		save    string
		reset   bool
		wantErr string
		want    *Offset // nil: nothing stored
	}{
		{save: `{"file":"bin.000001","pos":4}`, want: &Offset{Position: []byte(`{"file":"bin.000001","pos":4}`), Seq: 1}},
		{save: `{"file":"bin.000001","pos":900}`, want: &Offset{Position: []byte(`{"file":"bin.000001","pos":900}`), Seq: 2}},
		{save: ` {"gtids":"0-1-77"}`, want: &Offset{Position: []byte(` {"gtids":"0-1-77"}`), Seq: 3}},
		{save: ``, wantErr: "not a JSON object", want: &Offset{Position: []byte(` {"gtids":"0-1-77"}`), Seq: 3}},
		{save: `[1]`, wantErr: "not a JSON object", want: &Offset{Position: []byte(` {"gtids":"0-1-77"}`), Seq: 3}},
		{save: `{"pos":`, wantErr: "not a JSON object", want: &Offset{Position: []byte(` {"gtids":"0-1-77"}`), Seq: 3}},
		{save: `{"a":1} x`, wantErr: "not a JSON object", want: &Offset{Position: []byte(` {"gtids":"0-1-77"}`), Seq: 3}},
		{reset: true, want: nil},
		{reset: true, want: nil},
		{save: `{"snapshot":true}`, want: &Offset{Position: []byte(`{"snapshot":true}`), Seq: 4}},
	}
	clockReadings := 0
	for i, st := range steps {
		var err error
		if st.reset {
			err = p.ResetOffset()
		} else {
			err = p.SaveOffset([]byte(st.save))
		}
		if st.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), st.wantErr) {
				t.Fatalf("step %d: error %v, want %q", i, err, st.wantErr)
			}
		} else if err != nil {
			t.Fatalf("step %d: %v", i, err)
		} else if !st.reset {
			clockReadings++
		}

		got, found, err := p.LoadOffset()
		if err != nil {
			t.Fatalf("step %d: LoadOffset: %v", i, err)
		}
		if st.want == nil {
			if found {
				t.Errorf("step %d: LoadOffset found %+v, want nothing", i, got)
			}
			continue
		}
		want := *st.want
		want.UpdatedAt = base.Add(time.Duration(clockReadings) * time.Second).UTC()
		if !found {
			t.Fatalf("step %d: LoadOffset found nothing, want %s", i, want.Position)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("step %d: LoadOffset (-want +got):\n%s", i, diff)
		}
	}
}

func TestOffsetOnDiskEncoding(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	s.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC) }
	for range 258 {
		if err := s.Pipeline("p").SaveOffset([]byte(`{"pos":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPipelines).Bucket([]byte("p")).Bucket(bucketOffset)
		want := map[string]string{
			"position":   `{"pos":1}`,
			"seq":        "\x00\x00\x00\x00\x00\x00\x01\x02",
			"updated_at": "2026-01-02T03:04:05.0000006Z",
		}
		got := map[string]string{}
		if err := b.ForEach(func(k, v []byte) error {
			got[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("offset bucket (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadOffsetCopiesOutOfTransaction(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	p := s.Pipeline("p")
	if err := p.SaveOffset([]byte(`{"pos":1}`)); err != nil {
		t.Fatal(err)
	}
	off, _, err := p.LoadOffset()
	if err != nil {
		t.Fatal(err)
	}
	off.Position[0] = 'X'
	again, _, err := p.LoadOffset()
	if err != nil {
		t.Fatal(err)
	}
	if string(again.Position) != `{"pos":1}` {
		t.Errorf("stored position changed through a returned slice: %s", again.Position)
	}
}

func TestCorruptOffsetIsReported(t *testing.T) {
	tests := []struct {
		name    string
		seq     []byte
		at      string
		wantErr string
	}{
		{"short seq", []byte{1, 2, 3}, "2026-01-02T03:04:05Z", "corrupt seq: 3 bytes"},
		{"missing seq", nil, "2026-01-02T03:04:05Z", "position without seq"},
		{"bad time", encodeSeq(1), "yesterday", `updated_at "yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openT(t, t.TempDir(), Options{})
			p := s.Pipeline("p")
			if err := p.update(bucketOffset, func(b *bbolt.Bucket) error {
				if tt.seq != nil {
					if err := b.Put(keySeq, tt.seq); err != nil {
						return err
					}
				}
				if err := b.Put(keyUpdatedAt, []byte(tt.at)); err != nil {
					return err
				}
				return b.Put(keyPosition, []byte(`{}`))
			}); err != nil {
				t.Fatal(err)
			}
			_, found, err := p.LoadOffset()
			if err == nil || found || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadOffset = found %v, err %v; want error containing %q", found, err, tt.wantErr)
			}
		})
	}
}

func TestPipelinesAreIndependent(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	const pipelines, saves = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, pipelines)
	for i := range pipelines {
		wg.Go(func() {
			p := s.Pipeline(fmt.Sprintf("p%d", i))
			for n := 1; n <= saves*(i+1); n++ {
				if err := p.SaveOffset(fmt.Appendf(nil, `{"n":%d}`, n)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range pipelines {
		off, found, err := s.Pipeline(fmt.Sprintf("p%d", i)).LoadOffset()
		want := uint64(saves * (i + 1))
		if err != nil || !found || off.Seq != want || string(off.Position) != fmt.Sprintf(`{"n":%d}`, want) {
			t.Errorf("p%d: LoadOffset = %s seq %d found %v err %v; want seq %d", i, off.Position, off.Seq, found, err, want)
		}
	}
}

func TestHistory(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	p := s.Pipeline("orders")

	if n, err := p.HistoryLen(); err != nil || n != 0 {
		t.Fatalf("HistoryLen on empty = %d, %v", n, err)
	}
	appends := []struct {
		key, value string
		wantErr    error // nil: accepted
	}{
		{"0001", "CREATE TABLE a", nil},
		{"0002", "CREATE TABLE b", nil},
		{"0002", "duplicate", ErrHistoryOrder},
		{"0001", "older", ErrHistoryOrder},
		{"00019", "between", ErrHistoryOrder},
		{"0010", "", nil},
		{"001", "prefix of the last key", ErrHistoryOrder},
		{"0010\x00", "extends the last key", nil},
		{"1", "ALTER TABLE a", nil},
	}
	var want [][2]string
	for _, a := range appends {
		err := p.AppendHistory([]byte(a.key), []byte(a.value))
		if a.wantErr == nil {
			if err != nil {
				t.Fatalf("AppendHistory(%q): %v", a.key, err)
			}
			want = append(want, [2]string{a.key, a.value})
			continue
		}
		if !errors.Is(err, a.wantErr) {
			t.Fatalf("AppendHistory(%q) = %v, want %v", a.key, err, a.wantErr)
		}
	}
	if err := p.AppendHistory(nil, []byte("x")); err == nil {
		t.Error("AppendHistory with an empty key succeeded")
	}

	var got [][2]string
	if err := p.History(func(k, v []byte) error {
		got = append(got, [2]string{string(k), string(v)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("History (-want +got):\n%s", diff)
	}
	if n, err := p.HistoryLen(); err != nil || n != len(want) {
		t.Errorf("HistoryLen = %d, %v; want %d", n, err, len(want))
	}

	stop := errors.New("stop here")
	calls := 0
	err := p.History(func(k, v []byte) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("History returned %v, want the callback's error", err)
	}
	if calls != 2 {
		t.Errorf("History called fn %d times after it failed on call 2", calls)
	}

	// Another pipeline's history is separate.
	if n, err := s.Pipeline("other").HistoryLen(); err != nil || n != 0 {
		t.Errorf("other pipeline HistoryLen = %d, %v", n, err)
	}
	if err := s.Pipeline("other").AppendHistory([]byte("0001"), nil); err != nil {
		t.Errorf("other pipeline AppendHistory: %v", err)
	}
}

func TestState(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	p := s.Pipeline("orders")

	if v, found, err := p.Get("missing"); err != nil || found || v != nil {
		t.Fatalf("Get(missing) = %q, %v, %v", v, found, err)
	}
	if err := p.Put("snapshot.table", []byte("inventory.customers")); err != nil {
		t.Fatal(err)
	}
	if err := p.PutMany(map[string][]byte{
		"snapshot.table":  []byte("inventory.orders"),
		"snapshot.lastpk": []byte(`[42]`),
		"snapshot.empty":  nil,
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.PutMany(nil); err != nil {
		t.Errorf("PutMany(nil): %v", err)
	}
	tests := []struct {
		key   string
		want  []byte
		found bool
	}{
		{"snapshot.table", []byte("inventory.orders"), true},
		{"snapshot.lastpk", []byte(`[42]`), true},
		{"snapshot.empty", []byte{}, true},
		{"snapshot.other", nil, false},
	}
	for _, tt := range tests {
		got, found, err := p.Get(tt.key)
		if err != nil || found != tt.found || !bytes.Equal(got, tt.want) || (tt.found && got == nil) {
			t.Errorf("Get(%q) = %q, %v, %v; want %q, %v", tt.key, got, found, err, tt.want, tt.found)
		}
	}

	v, _, _ := p.Get("snapshot.lastpk")
	v[0] = 'X'
	if again, _, _ := p.Get("snapshot.lastpk"); string(again) != `[42]` {
		t.Errorf("stored value changed through a returned slice: %s", again)
	}

	// A failing PutMany writes nothing.
	if err := p.PutMany(map[string][]byte{"a": []byte("1"), "": []byte("2")}); err == nil {
		t.Error("PutMany with an empty key succeeded")
	}
	if _, found, _ := p.Get("a"); found {
		t.Error("failed PutMany stored a key")
	}
	if _, found, _ := s.Pipeline("other").Get("snapshot.table"); found {
		t.Error("state leaked into another pipeline")
	}
}

func TestEmptyPipelineName(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	p := s.Pipeline("")
	calls := map[string]func() error{
		"LoadOffset":    func() error { _, _, err := p.LoadOffset(); return err },
		"SaveOffset":    func() error { return p.SaveOffset([]byte(`{}`)) },
		"ResetOffset":   p.ResetOffset,
		"AppendHistory": func() error { return p.AppendHistory([]byte("k"), nil) },
		"History":       func() error { return p.History(func(k, v []byte) error { return nil }) },
		"HistoryLen":    func() error { _, err := p.HistoryLen(); return err },
		"Get":           func() error { _, _, err := p.Get("k"); return err },
		"Put":           func() error { return p.Put("k", nil) },
		"PutMany":       func() error { return p.PutMany(map[string][]byte{"k": nil}) },
	}
	for name, call := range calls {
		if err := call(); err == nil || !strings.Contains(err.Error(), "empty pipeline name") {
			t.Errorf("%s with an empty pipeline name: %v, want an error", name, err)
		}
	}
	if names, err := s.Pipelines(); err != nil || len(names) != 0 {
		t.Errorf("Pipelines() = %v, %v; want none", names, err)
	}
}

// BenchmarkSaveOffset measures one fsynced checkpoint.
func BenchmarkSaveOffset(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := s.Pipeline("bench")
	pos := []byte(`{"file":"mariadb-bin.000042","pos":123456789,"gtids":"0-1-123456","row":0,"event":2}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := p.SaveOffset(pos); err != nil {
			b.Fatal(err)
		}
	}
}

func TestResetForgetsPositionAndHistory(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := s.Pipeline("shop")
	if err := p.SaveOffset([]byte(`{"file":"a","pos":4}`)); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendHistory([]byte("k1"), []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := p.Put("snap", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := p.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := p.LoadOffset(); ok {
		t.Fatal("offset survived Reset")
	}
	if n, _ := p.HistoryLen(); n != 0 {
		t.Fatalf("history has %d entries after Reset", n)
	}
	if _, ok, _ := p.Get("snap"); ok {
		t.Fatal("state survived Reset")
	}
	// History starts over: a key smaller than the old last key is accepted.
	if err := p.AppendHistory([]byte("k0"), []byte("v")); err != nil {
		t.Fatalf("append after Reset: %v", err)
	}
	if err := p.SaveOffset([]byte(`{"file":"b","pos":4}`)); err != nil {
		t.Fatal(err)
	}
	if off, _, _ := p.LoadOffset(); off.Seq != 2 {
		t.Fatalf("seq after Reset = %d, want 2 (never goes back)", off.Seq)
	}
}
