package postgres

import "testing"

// TestLostConnectionCarriesSkip: after a lost connection the stream passes
// over every change of the transaction in progress already emitted — also
// when the connection before was itself cut while passing over them.
func TestLostConnectionCarriesSkip(t *testing.T) {
	tests := []struct {
		name         string
		inTx, skipTx bool
		xid          uint32
		seen         int
		skipXid      uint32
		stillToSkip  int
		wantXid      uint32
		wantSkip     int
	}{
		{"cut inside a transaction", true, false, 7, 5, 0, 0, 7, 5},
		{"cut again while passing over", true, false, 7, 3, 7, 2, 7, 5},
		{"cut again before the transaction was reached", false, false, 0, 0, 7, 5, 7, 5},
		{"cut right after its begin", true, false, 7, 0, 7, 5, 7, 5},
		{"cut in a transaction delivered before a restart", true, true, 6, 4, 0, 0, 0, 0},
		{"cut between transactions", false, false, 0, 0, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &stream{inTx: tt.inTx, skipTx: tt.skipTx, txXid: tt.xid, txChanges: tt.seen,
				skipXid: tt.skipXid, skipChanges: tt.stillToSkip, spill: &spiller{open: map[uint32]*spillFile{}}}
			st.lostConnection()
			if st.skipXid != tt.wantXid || st.skipChanges != tt.wantSkip || st.inTx || st.txChanges != 0 {
				t.Fatalf("skip %d changes of xid %d, in transaction %v; want %d of xid %d", st.skipChanges, st.skipXid, st.inTx, tt.wantSkip, tt.wantXid)
			}
		})
	}
}
