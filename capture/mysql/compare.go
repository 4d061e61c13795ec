package mysql

import (
	"errors"
	"fmt"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
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
	return comparePositions(pa, pb)
}

// comparePositions orders positions by GTID set when both carry one and
// the sets differ (the order that survives a failover to another server),
// else by binlog file number and offset on one server, and at one
// coordinate by snapshot progress.
func comparePositions(a, b Position) (int, error) {
	if a.GTIDs != "" && b.GTIDs != "" && a.GTIDs != b.GTIDs {
		c, err := compareGTIDSets(a.GTIDs, b.GTIDs)
		if err != nil {
			return 0, err
		}
		if c != 0 {
			return c, nil
		}
	}
	if a.ServerID != b.ServerID && a.ServerID != 0 && b.ServerID != 0 {
		if a.GTIDs == "" || b.GTIDs == "" {
			return 0, fmt.Errorf("positions %s and %s are on different servers (%d, %d) without GTIDs to order them", a, b, a.ServerID, b.ServerID)
		}
		return compareSnapshots(a.Snapshot, b.Snapshot), nil
	}
	if sa, sb := fileSeq(a.File), fileSeq(b.File); sa != sb {
		return order(sa, sb), nil
	}
	if a.Pos != b.Pos {
		return order(a.Pos, b.Pos), nil
	}
	return compareSnapshots(a.Snapshot, b.Snapshot), nil
}

func order[T int64 | uint64 | uint32](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareGTIDSets returns -1 when a is contained in b, 1 when b in a, 0
// when equal, and an error when neither contains the other.
func compareGTIDSets(a, b string) (int, error) {
	parse := gomysql.ParseMysqlGTIDSet
	if !strings.Contains(a+b, ":") {
		parse = gomysql.ParseMariadbGTIDSet
	}
	sa, err := parse(a)
	if err != nil {
		return 0, fmt.Errorf("gtid set %q: %w", a, err)
	}
	sb, err := parse(b)
	if err != nil {
		return 0, fmt.Errorf("gtid set %q: %w", b, err)
	}
	aInB, bInA := sb.Contain(sa), sa.Contain(sb)
	switch {
	case aInB && bInA:
		return 0, nil
	case aInB:
		return -1, nil
	case bInA:
		return 1, nil
	}
	return 0, errors.New("gtid sets " + a + " and " + b + " cannot be ordered: neither contains the other")
}

// compareSnapshots orders two snapshot progress states at one binlog
// coordinate. A finished (nil) state follows an initial snapshot in
// progress and precedes an incremental one (which starts after it).
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
	return order(snapshotProgress(a), snapshotProgress(b))
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
