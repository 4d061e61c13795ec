package snapshot

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errPermanent = errors.New("unknown column type")

func TestRetry(t *testing.T) {
	errLost := errors.New("connection lost")
	tests := []struct {
		name      string
		failures  int
		err       error
		wantCalls int
		wantWarns int
		wantErr   bool
	}{
		{"succeeds at once", 0, errLost, 1, 0, false},
		{"a source restarting: succeeds after failures", 5, errLost, 6, 5, false},
		{"gives up after ten attempts", 100, errLost, 10, 9, true},
		{"an error that would recur: at once", 100, errPermanent, 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls, warns := 0, 0
			v, err := retry(context.Background(), time.Microsecond, func(err error) bool { return !errors.Is(err, errPermanent) },
				func(int, time.Duration, error) { warns++ }, func() (int, error) {
					calls++
					if calls <= tt.failures {
						return 0, tt.err
					}
					return 42, nil
				})
			if calls != tt.wantCalls || warns != tt.wantWarns || (err != nil) != tt.wantErr || (err == nil && v != 42) {
				t.Fatalf("%d calls, %d warnings, %v, %v; want %d calls, %d warnings, error %v", calls, warns, v, err, tt.wantCalls, tt.wantWarns, tt.wantErr)
			}
			if tt.wantErr && !errors.Is(err, tt.err) {
				t.Fatalf("error %v; want the read's own", err)
			}
		})
	}
	t.Run("stops when the context ends", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		calls := 0
		_, err := retry(ctx, time.Hour, func(error) bool { return true }, func(int, time.Duration, error) {}, func() (int, error) {
			calls++
			cancel()
			return 0, errLost
		})
		if calls != 1 || err == nil {
			t.Fatalf("%d calls, error %v; want 1 call and an error", calls, err)
		}
	})
}
