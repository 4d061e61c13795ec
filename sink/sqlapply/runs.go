package sqlapply

import (
	"fmt"
	"hash/maphash"

	"github.com/siphoncdc/siphon/pipeline"
)

// split cuts events into runs: consecutive events of one table version
// and one statement kind, at most maxRunRows long, with no key twice (a
// multi-row upsert cannot touch a row twice). Events that write nothing
// (skipped truncates, messages) end the run before them.
func (w *worker) split(evs []pipeline.Event) ([]Run, error) {
	runs := w.runs[:0]
	var cur *Run
	clear(w.keys)
	var keyBuf []byte
	for i := range evs {
		e := &evs[i]
		if e.Table == nil || e.Op == pipeline.OpMessage {
			cur = nil
			continue
		}
		m := w.s.schemas.mappings[e.Table]
		if m == nil {
			return nil, w.s.fail(fmt.Errorf("table %s was not resolved", e.Table.ID))
		}
		kind, present := w.s.runKind(e, m)
		if kind == 0 {
			cur = nil
			continue
		}
		mergeable := kind == RunUpsert || kind == RunDelete || kind == RunInsert
		if cur != nil && mergeable && cur.Kind == kind && cur.Mapping == m && len(cur.Events) < w.s.maxRunRows {
			if kind == RunInsert {
				cur.Events = evs[i-len(cur.Events) : i+1]
				cur.end = i + 1
				continue
			}
			keyBuf = keyBytes(keyBuf[:0], e, m)
			if h := maphash.Bytes(w.seed, keyBuf); !w.hasKey(h) {
				w.keys[h] = struct{}{}
				cur.Events = evs[i-len(cur.Events) : i+1]
				cur.end = i + 1
				continue
			}
		}
		runs = append(runs, Run{Kind: kind, Mapping: m, Events: evs[i : i+1], Present: present, end: i + 1})
		cur = &runs[len(runs)-1]
		if !mergeable {
			cur = nil
			continue
		}
		clear(w.keys)
		if kind != RunInsert {
			keyBuf = keyBytes(keyBuf[:0], e, m)
			w.keys[maphash.Bytes(w.seed, keyBuf)] = struct{}{}
		}
	}
	if p, ok := w.s.d.(PowerOfTwoRuns); ok && p.PowerOfTwoRuns() {
		runs = cutPowersOfTwo(runs)
	}
	w.runs = runs
	return runs, nil
}

// PowerOfTwoRuns is implemented by dialects that prepare one statement per
// row count: their runs are cut into lengths that are powers of two, so
// that a few statements serve every length.
type PowerOfTwoRuns interface {
	PowerOfTwoRuns() bool
}

func cutPowersOfTwo(runs []Run) []Run {
	n := len(runs)
	for i := range n {
		r := runs[i]
		l := len(r.Events)
		if l&(l-1) == 0 {
			runs = append(runs, r)
			continue
		}
		start := r.end - l
		for l > 0 {
			p := 1
			for p*2 <= l {
				p *= 2
			}
			piece := r
			piece.Events = r.Events[len(r.Events)-l : len(r.Events)-l+p]
			piece.end = start + (len(r.Events) - l) + p
			runs = append(runs, piece)
			l -= p
		}
	}
	return append(runs[:0], runs[n:]...)
}

// keyBytes is the identity of an event's key.
func keyBytes(dst []byte, e *pipeline.Event, m *Mapping) []byte {
	row := e.After
	if row == nil {
		row = e.Before
	}
	for _, k := range m.Key {
		dst = appendValueBytes(dst, row[m.Columns[k].Index])
	}
	return dst
}

// runKind is the statement an event needs; 0 when it writes nothing.
func (s *Sink) runKind(e *pipeline.Event, m *Mapping) (RunKind, []bool) {
	keyed := m.Keyed()
	switch e.Op {
	case pipeline.OpCreate, pipeline.OpRead:
		if keyed {
			return RunUpsert, nil
		}
		return RunInsert, nil
	case pipeline.OpUpdate:
		if !keyed {
			return RunUpdateRow, nil
		}
		if m.Connector == "postgresql" {
			if present := placeholders(e.After, m); present != nil {
				return RunUpdateSome, present
			}
		}
		return RunUpsert, nil
	case pipeline.OpDelete:
		if keyed {
			return RunDelete, nil
		}
		return RunDeleteRow, nil
	case pipeline.OpTruncate:
		if s.o.Truncate {
			return RunTruncate, nil
		}
		s.mu.Lock()
		key := m.Target.String()
		first := !s.skipWarned[key]
		s.skipWarned[key] = true
		s.mu.Unlock()
		if first {
			s.log.Info("truncate events skipped (truncate: false)", "table", e.Table.ID.String(), "target", key)
		}
	}
	return 0, nil
}

// placeholders marks the mapped columns an after image carries, nil when
// it carries them all (no unchanged-TOAST placeholder).
func placeholders(row pipeline.Row, m *Mapping) []bool {
	var present []bool
	for i, c := range m.Columns {
		if c.Key || c.Index >= len(row) || !IsPlaceholder(row[c.Index]) {
			continue
		}
		if present == nil {
			present = make([]bool, len(m.Columns))
			for j := range present {
				present[j] = true
			}
		}
		present[i] = false
	}
	return present
}

// hasKey reports whether a key with hash h is in the run being built. Keys
// are kept as hashes (no allocation per row): a collision only ends a run
// early, which is always safe.
func (w *worker) hasKey(h uint64) bool {
	_, ok := w.keys[h]
	return ok
}
