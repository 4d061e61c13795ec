package pipeline

import (
	"sync/atomic"
	"time"
)

// Stats counts what a pipeline did. It is safe for concurrent use.
type Stats struct {
	emittedBatches atomic.Int64
	emittedEvents  atomic.Int64
	appliedEvents  atomic.Int64
	checkpoints    atomic.Int64
	checkpointNs   atomic.Int64
	deadLettered   atomic.Int64
}

func (s *Stats) addEmitted(b *Batch) {
	s.emittedBatches.Add(1)
	s.emittedEvents.Add(int64(len(b.Events)))
}

func (s *Stats) addApplied(b *Batch) { s.appliedEvents.Add(int64(b.events)) }

func (s *Stats) addCheckpoint(d time.Duration) {
	s.checkpoints.Add(1)
	s.checkpointNs.Add(int64(d))
}

// Emitted returns the number of events the source emitted.
func (s *Stats) Emitted() int64 { return s.emittedEvents.Load() }

// Applied returns the number of events every sink applied.
func (s *Stats) Applied() int64 { return s.appliedEvents.Load() }

// Checkpoints returns the number of positions stored.
func (s *Stats) Checkpoints() int64 { return s.checkpoints.Load() }

// AddDeadLettered counts events a sink set aside in its dead-letter file
// instead of applying them.
func (s *Stats) AddDeadLettered(n int64) { s.deadLettered.Add(n) }

// DeadLettered returns the number of events sinks set aside.
func (s *Stats) DeadLettered() int64 { return s.deadLettered.Load() }
