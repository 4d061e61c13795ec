package postgres

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// Position is where the stream resumes. Serialised, it is Debezium's
// PostgreSQL offset map (SPEC §7.3) plus siphon's snapshot progress.
// LSNCommit is the resume point: the end of the last checkpointed
// transaction's commit record, or a keepalive's WAL end when the stream
// was idle. Transactions whose commit record starts before it were
// delivered.
type Position struct {
	LSN       uint64          `json:"lsn"`               // LSN of the last event emitted
	TxID      uint32          `json:"txId,omitempty"`    // xid of the last transaction
	TsUsec    int64           `json:"ts_usec,omitempty"` // its commit time, µs
	LSNProc   uint64          `json:"lsn_proc"`          // last completely processed LSN
	LSNCommit uint64          `json:"lsn_commit"`        // resume point (see above)
	Snapshot  *snapshot.State `json:"snapshot,omitempty"`
}

// String is a short human form.
func (p Position) String() string {
	s := "lsn_commit " + formatLSN(p.LSNCommit)
	if p.TxID != 0 {
		s += " (txId " + strconv.FormatUint(uint64(p.TxID), 10) + ")"
	}
	return s
}

// Encode serialises the position for the checkpoint store.
func (p Position) Encode() pipeline.Position {
	b, _ := json.Marshal(p)
	return b
}

// DecodePosition reads a stored position.
func DecodePosition(b pipeline.Position) (Position, error) {
	var p Position
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("stored postgres position is not valid: %w", err)
	}
	if p.LSNCommit == 0 {
		return p, fmt.Errorf("stored postgres position %s has no lsn_commit: is it a position of another source type?", b)
	}
	return p, nil
}

// formatLSN prints an LSN as PostgreSQL does: 16/B374D848.
func formatLSN(lsn uint64) string {
	return strconv.FormatUint(lsn>>32, 16) + "/" + strconv.FormatUint(lsn&0xFFFFFFFF, 16)
}

// parseLSN reads PostgreSQL's X/Y form.
func parseLSN(s string) (uint64, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			hi, err1 := strconv.ParseUint(s[:i], 16, 32)
			lo, err2 := strconv.ParseUint(s[i+1:], 16, 32)
			if err1 != nil || err2 != nil {
				break
			}
			return hi<<32 | lo, nil
		}
	}
	return 0, fmt.Errorf("%q is not an LSN", s)
}
