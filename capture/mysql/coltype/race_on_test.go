//go:build race

package coltype

// The race detector adds allocations: allocation counts are not checked.
const raceEnabled = true
