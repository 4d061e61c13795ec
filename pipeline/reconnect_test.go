package pipeline

import (
	"testing"
	"time"
)

func TestReconnects(t *testing.T) {
	type lost struct {
		up         time.Duration
		progressed bool
		wait       time.Duration
		attempt    int
		ok         bool
	}
	tests := []struct {
		name string
		seq  []lost
	}{
		{"failures in a row back off up to Max, then give up", []lost{
			{0, false, 0, 1, true},
			{0, false, time.Second, 2, true},
			{0, false, 2 * time.Second, 3, true},
			{0, false, 4 * time.Second, 4, true},
			{0, false, 4 * time.Second, 5, true},
			{0, false, 0, 6, false},
		}},
		{"progress starts the count and the backoff over", []lost{
			{0, false, 0, 1, true},
			{0, false, time.Second, 2, true},
			{0, false, 2 * time.Second, 3, true},
			{0, true, 0, 1, true},
			{0, false, time.Second, 2, true},
			{0, true, 0, 1, true},
			{0, true, 0, 1, true},
		}},
		{"a connection up for Healthy counts as progress", []lost{
			{0, false, 0, 1, true},
			{0, false, time.Second, 2, true},
			{time.Minute, false, 0, 1, true},
			{59 * time.Second, false, time.Second, 2, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reconnects{Min: time.Second, Max: 4 * time.Second, Healthy: time.Minute, Limit: 5}
			for i, l := range tt.seq {
				wait, attempt, ok := r.Lost(l.up, l.progressed)
				if wait != l.wait || attempt != l.attempt || ok != l.ok {
					t.Fatalf("loss %d: got wait %v attempt %d ok %v; want %v %d %v", i, wait, attempt, ok, l.wait, l.attempt, l.ok)
				}
			}
		})
	}
}
