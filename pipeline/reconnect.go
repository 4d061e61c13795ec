package pipeline

import "time"

// Reconnects paces a source's reconnects after lost connections. A
// connection that made progress (or stayed up for Healthy, when set) was
// cut, not refused: the next attempt is at once and the count starts over. Attempts
// in a row without progress wait Min, then twice as long each time up to
// Max, and the source gives up after Limit of them.
type Reconnects struct {
	Min, Max time.Duration
	Healthy  time.Duration
	Limit    int

	wait     time.Duration
	failures int
}

// Lost records a lost connection that was up for `up` and made progress or
// not. It returns how long to wait before the next attempt and the attempt's
// number in the current run of failures; ok is false past Limit.
func (r *Reconnects) Lost(up time.Duration, progressed bool) (wait time.Duration, attempt int, ok bool) {
	if progressed || (r.Healthy > 0 && up >= r.Healthy) {
		r.wait, r.failures = 0, 0
	}
	r.failures++
	if r.failures > r.Limit {
		return 0, r.failures, false
	}
	wait = r.wait
	r.wait = min(max(2*r.wait, r.Min), r.Max)
	return wait, r.failures, true
}
