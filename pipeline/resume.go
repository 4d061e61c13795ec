package pipeline

import (
	"context"
	"errors"
)

// PositionedSink is implemented by sinks that store the position of what
// they applied in the target itself, in the same target transaction as the
// data (database targets). At start the runner resumes after the later of
// that position and the pipeline's own checkpoint: a crash between the
// target's commit and the checkpoint store then replays nothing twice.
type PositionedSink interface {
	Sink
	// StoredPosition returns the position the target holds, nil when it
	// holds none (a new target).
	StoredPosition(ctx context.Context) (Position, error)
	// ResumeFrom tells the sink where the pipeline resumes (nil: where the
	// source starts without a position), before the first Write of a run.
	ResumeFrom(ctx context.Context, from Position) error
}

// PositionComparer is implemented by sources whose positions can be
// ordered, so that the runner can pick the later of two stored positions.
type PositionComparer interface {
	// ComparePositions returns -1, 0 or 1 as a is before, equal to or
	// after b, and an error when they cannot be ordered (e.g. positions of
	// unrelated servers).
	ComparePositions(a, b Position) (int, error)
}

// ErrRestart, wrapped into a sink's or source's error, asks the runner to
// run the pipeline again from its checkpoint instead of stopping: what was
// in flight and not checkpointed is read again from the source. A database
// sink returns it when it lost an open target transaction it cannot replay
// from memory.
var ErrRestart = errors.New("restart from the checkpoint")
