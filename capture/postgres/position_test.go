package postgres

import (
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/capture/snapshot"
)

func TestPositionRoundTrip(t *testing.T) {
	p := Position{LSN: 34389336, TxID: 779, TsUsec: 1766925059528750, LSNProc: 34389400, LSNCommit: 34389400,
		Snapshot: &snapshot.State{Kind: snapshot.Initial, Tables: []*snapshot.TableState{{Table: "public.t", Rows: 5}}}}
	enc := p.Encode()
	if !strings.HasPrefix(string(enc), `{"lsn":34389336,"txId":779,"ts_usec":1766925059528750,"lsn_proc":34389400,"lsn_commit":34389400,"snapshot":`) {
		t.Fatalf("encoded %s: not Debezium's offset keys in order", enc)
	}
	got, err := DecodePosition(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.LSNCommit != p.LSNCommit || got.TxID != p.TxID || got.Snapshot == nil || got.Snapshot.Tables[0].Rows != 5 {
		t.Fatalf("round trip: %+v", got)
	}
}

func TestDecodePositionRejects(t *testing.T) {
	for _, in := range []string{`not json`, `{"file":"mysql-bin.000001","pos":4}`, `{"lsn":5}`} {
		if _, err := DecodePosition([]byte(in)); err == nil {
			t.Errorf("%s: decoded", in)
		}
	}
}

func TestLSN(t *testing.T) {
	tests := []struct {
		text string
		lsn  uint64
	}{
		{"0/0", 0}, {"0/20CBD58", 0x20CBD58}, {"16/B374D848", 0x16_B374D848}, {"FFFFFFFF/FFFFFFFF", ^uint64(0)},
	}
	for _, tc := range tests {
		got, err := parseLSN(tc.text)
		if err != nil || got != tc.lsn {
			t.Errorf("parseLSN(%q) = %x, %v; want %x", tc.text, got, err, tc.lsn)
		}
		if s := formatLSN(tc.lsn); !strings.EqualFold(s, tc.text) {
			t.Errorf("formatLSN(%x) = %s, want %s", tc.lsn, s, tc.text)
		}
	}
	for _, bad := range []string{"", "12", "x/1", "1/", "100000000/0"} {
		if _, err := parseLSN(bad); err == nil {
			t.Errorf("parseLSN(%q) succeeded", bad)
		}
	}
}
