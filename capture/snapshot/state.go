package snapshot

import (
	"encoding/json"
	"sort"
)

// Kind tells an initial snapshot from an incremental one.
type Kind string

// Snapshot kinds.
const (
	Initial     Kind = "initial"
	Incremental Kind = "incremental"
)

// State is a snapshot's progress, serialised into the source position so
// that it is checkpointed with it. Only what the sinks have applied is in
// a checkpointed State: a chunk's cursor moves when the chunk is emitted,
// and the emitted State reaches the store only with the batch holding the
// chunk.
type State struct {
	Kind    Kind            `json:"kind"`
	ID      string          `json:"id,omitempty"` // signal id of an incremental snapshot
	Tables  []*TableState   `json:"tables"`
	Started bool            `json:"started,omitempty"` // the first row was emitted
	Origin  json.RawMessage `json:"origin,omitempty"`  // source-defined: where the snapshot started
	// RowsPerSecond is the snapshot's rate so far, for display.
	RowsPerSecond float64 `json:"rows_per_second,omitempty"`
}

// TableState is one table's progress.
type TableState struct {
	Table   string        `json:"table"` // the table as the user names it, e.g. shop.orders
	Done    bool          `json:"done,omitempty"`
	Rows    int64         `json:"rows,omitempty"` // rows emitted
	Started bool          `json:"started,omitempty"`
	StartUs int64         `json:"start_us,omitempty"` // when its snapshot started (source.ts)
	Ranges  []*RangeState `json:"ranges,omitempty"`
	Keyless bool          `json:"keyless,omitempty"`
	Est     int64         `json:"est,omitempty"` // estimated rows
}

// RangeState is the progress of one key range of a table, read by one
// cursor, one chunk at a time.
type RangeState struct {
	From   []byte `json:"from,omitempty"` // exclusive lower bound (source cursor); nil: the table's start
	To     []byte `json:"to,omitempty"`   // inclusive upper bound; nil: the table's end
	After  []byte `json:"after,omitempty"`
	Chunks int64  `json:"chunks,omitempty"` // chunks emitted
	Done   bool   `json:"done,omitempty"`
}

// Done reports whether every table is finished.
func (s *State) Done() bool {
	if s == nil {
		return true
	}
	for _, t := range s.Tables {
		if !t.Done {
			return false
		}
	}
	return true
}

// Clone returns a deep copy, safe to serialise while the engine goes on.
func (s *State) Clone() *State {
	if s == nil {
		return nil
	}
	c := *s
	c.Tables = make([]*TableState, len(s.Tables))
	for i, t := range s.Tables {
		tc := *t
		tc.Ranges = make([]*RangeState, len(t.Ranges))
		for j, r := range t.Ranges {
			rc := *r
			tc.Ranges[j] = &rc
		}
		c.Tables[i] = &tc
	}
	return &c
}

// table returns the state of the named table.
func (s *State) table(name string) *TableState {
	i := sort.Search(len(s.Tables), func(i int) bool { return s.Tables[i].Table >= name })
	if i < len(s.Tables) && s.Tables[i].Table == name {
		return s.Tables[i]
	}
	for _, t := range s.Tables { // not sorted (older state): linear
		if t.Table == name {
			return t
		}
	}
	return nil
}

// Summary counts finished tables and emitted rows.
func (s *State) Summary() (tablesDone, tables int, rows, estimate int64) {
	for _, t := range s.Tables {
		tables++
		if t.Done {
			tablesDone++
		}
		rows += t.Rows
		estimate += max(t.Est, t.Rows)
	}
	return
}
