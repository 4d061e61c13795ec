package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

// TestKill9UnderLoad kills siphon with SIGKILL several times while a
// writer commits transactions, restarts it each time, and checks that every
// committed change reaches the output, in commit order per key within each
// run, and that each run resumes at the stored checkpoint — so repeats come
// only from the unacknowledged tail.
func TestKill9UnderLoad(t *testing.T) {
	for _, mode := range []string{"gtid", "file"} {
		t.Run(mode, func(t *testing.T) {
			db := newDatabase(t, shared)
			w := newWorkload(db, 300, 8)
			w.bigEvery, w.bigRows = 25, 400
			w.createTable(t, shared)
			e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`, positionMode: mode,
				extra: "    batch:\n      max_events: 64\n"})
			p := e.start()
			waitStarted(t, e, p)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			werr := make(chan error, 1)
			go func() { werr <- w.run(ctx, shared, 42) }()

			var runStarts []int
			var resumed []storedPos
			for kill := 0; kill < 6; kill++ {
				n := len(e.records())
				e.waitRecords(p, 2*time.Minute, atLeast(n+150+kill*331))
				p.kill(t)
				runStarts = append(runStarts, len(e.records()))
				resumed = append(resumed, e.storedPosition())
				p = e.start()
			}
			cancel()
			if err := <-werr; err != nil {
				t.Fatalf("workload: %v", err)
			}
			waitDelivered(t, e, p, w, w.table, 2*time.Minute)
			if code := p.stop(t); code != 0 {
				t.Fatalf("final SIGTERM: exit %d\n%s", code, p.logs())
			}
			verifyDelivery(t, w, observe(t, e.records(), w.table), append([]int{0}, runStarts...), resumed, false)
		})
	}
}

// TestSIGTERMUnderLoadExitsCleanAndDoesNotDuplicate stops siphon with
// SIGTERM several times under load: each stop exits 0, and across all runs
// every committed change appears exactly once.
func TestSIGTERMUnderLoadExitsCleanAndDoesNotDuplicate(t *testing.T) {
	db := newDatabase(t, shared)
	w := newWorkload(db, 200, 20)
	w.createTable(t, shared)
	e := newEnv(t, envOptions{db: shared, tables: `["` + db + `.*"]`, extra: "    batch:\n      max_events: 50\n"})
	p := e.start()
	waitStarted(t, e, p)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	werr := make(chan error, 1)
	go func() { werr <- w.run(ctx, shared, 7) }()

	var runStarts []int
	var resumed []storedPos
	for stop := 0; stop < 3; stop++ {
		n := len(e.records())
		e.waitRecords(p, 2*time.Minute, atLeast(n+200))
		if code := p.stop(t); code != 0 {
			t.Fatalf("SIGTERM %d: exit %d\n%s", stop, code, p.logs())
		}
		runStarts = append(runStarts, len(e.records()))
		resumed = append(resumed, e.storedPosition())
		p = e.start()
	}
	cancel()
	if err := <-werr; err != nil {
		t.Fatalf("workload: %v", err)
	}
	waitDelivered(t, e, p, w, w.table, 2*time.Minute)
	if code := p.stop(t); code != 0 {
		t.Fatalf("final SIGTERM: exit %d", code)
	}
	verifyDelivery(t, w, observe(t, e.records(), w.table), append([]int{0}, runStarts...), resumed, true)
}

// storedPosition reads the pipeline's checkpoint with `siphon offsets show`.
func (e *env) storedPosition() storedPos {
	e.t.Helper()
	out, errOut, code := e.siphonCmd("offsets", "show", "--config", e.config)
	if code != 0 {
		e.t.Fatalf("offsets show: exit %d: %s", code, errOut)
	}
	var shown struct {
		Pipelines []struct {
			Pipeline string `json:"pipeline"`
			Offset   *struct {
				File string `json:"file"`
				Pos  int64  `json:"pos"`
			} `json:"offset"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &shown); err != nil {
		e.t.Fatalf("offsets show output: %v\n%s", err, out)
	}
	for _, p := range shown.Pipelines {
		if p.Pipeline == "test" && p.Offset != nil {
			return storedPos{fileSeq: fileSeqOf(p.Offset.File), pos: p.Offset.Pos}
		}
	}
	e.t.Fatalf("offsets show has no position for pipeline test:\n%s", out)
	return storedPos{}
}
