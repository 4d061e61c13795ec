package postgres

import (
	"cmp"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

var _ pipeline.PositionComparer = (*Source)(nil)

// ComparePositions orders two stored positions (pipeline.PositionComparer),
// so that siphon can resume after the later of its own checkpoint and a
// database target's.
func (s *Source) ComparePositions(a, b pipeline.Position) (int, error) {
	pa, err := DecodePosition(a)
	if err != nil {
		return 0, err
	}
	pb, err := DecodePosition(b)
	if err != nil {
		return 0, err
	}
	return comparePositions(pa, pb), nil
}

// comparePositions orders positions by their resume point (lsn_commit, in
// WAL order), then by the LSN of the last event, and at one point by
// snapshot progress.
func comparePositions(a, b Position) int {
	if c := cmp.Compare(a.LSNCommit, b.LSNCommit); c != 0 {
		return c
	}
	if c := cmp.Compare(a.LSN, b.LSN); c != 0 {
		return c
	}
	return compareSnapshots(a.Snapshot, b.Snapshot)
}

// compareSnapshots orders two snapshot progress states at one LSN. A
// finished (nil) state follows an initial snapshot in progress and
// precedes an incremental one (which starts after it).
func compareSnapshots(a, b *snapshot.State) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if b.Kind == snapshot.Incremental {
			return -1
		}
		return 1
	case b == nil:
		return -compareSnapshots(b, a)
	}
	if a.Kind != b.Kind {
		if a.Kind == snapshot.Initial {
			return -1
		}
		return 1
	}
	return cmp.Compare(snapshotProgress(a), snapshotProgress(b))
}

// snapshotProgress grows with every chunk a snapshot emits.
func snapshotProgress(s *snapshot.State) int64 {
	var n int64
	for _, t := range s.Tables {
		n += t.Rows
		if t.Done {
			n++
		}
		for _, r := range t.Ranges {
			n += r.Chunks
		}
	}
	return n
}
