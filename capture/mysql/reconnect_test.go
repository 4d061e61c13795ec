package mysql

import "testing"

// TestLostConnectionCarriesSkip: after a lost connection the stream passes
// over every rows event of the transaction in progress already emitted —
// also when the connection before was itself cut while passing over them.
func TestLostConnectionCarriesSkip(t *testing.T) {
	tests := []struct {
		name              string
		inTx              bool
		seen, stillToSkip int
		want              int
	}{
		{"cut inside a transaction", true, 5, 0, 5},
		{"cut again while passing over", true, 3, 2, 5},
		{"cut again having passed over and emitted more", true, 8, 0, 8},
		{"cut again before the transaction was reached", false, 0, 5, 5},
		{"cut between transactions", false, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &stream{inTx: tt.inTx, txRowsSeen: tt.seen, skipRows: tt.stillToSkip}
			st.lostConnection()
			if st.skipRows != tt.want || st.inTx || st.txRowsSeen != 0 {
				t.Fatalf("skip %d, in transaction %v, seen %d; want skip %d of a transaction read again", st.skipRows, st.inTx, st.txRowsSeen, tt.want)
			}
		})
	}
}
