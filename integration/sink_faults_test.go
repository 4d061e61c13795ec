package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
)

// TestSinkConnectionCuts puts a proxy between siphon and its target that
// cuts the connection where a database client is most easily wrong: right
// after the target committed, before siphon hears the answer, and at random
// points of the apply. siphon reconnects, reads its checkpoint row to learn
// whether the commit happened, and in the end the target equals the source
// with every change applied exactly once (counted by a trigger).
func TestSinkConnectionCuts(t *testing.T) {
	targets := []struct {
		name  string
		proto harness.Protocol
		setup func(t *testing.T) (kvTarget, string)
	}{
		{"postgres", harness.ProtocolPostgres, func(t *testing.T) (kvTarget, string) {
			k, pg, _ := pgKVTarget(t, "")
			return k, pg.Addr()
		}},
		{"postgres_key_workers", harness.ProtocolPostgres, func(t *testing.T) (kvTarget, string) {
			k, pg, _ := pgKVTarget(t, "        consistency: key\n        workers: 3\n")
			return k, pg.Addr()
		}},
		{"mariadb", harness.ProtocolMySQL, func(t *testing.T) (kvTarget, string) {
			return mariadbKVTarget(t, ""), shared.Addr()
		}},
	}
	for i, target := range targets {
		t.Run(target.name, func(t *testing.T) {
			src := newDatabase(t, shared)
			w := newWorkload(src, 200, 8)
			w.bigEvery, w.bigRows = 20, 300
			w.createTable(t, shared)
			kv, addr := target.setup(t)
			proxy, err := harness.StartFaultProxy(addr, target.proto, uint64(200+i))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = proxy.Close() })
			sink := strings.Replace(kv.sink, addr, proxy.Addr(), 1)
			if sink == kv.sink {
				t.Fatalf("the sink's URL does not name %s:\n%s", addr, kv.sink)
			}
			e := newSinkEnv(t, sinkEnvOptions{src: shared, srcDB: src, sink: sink,
				pipeline: "    batch:\n      max_events: 64\n"})
			p := e.start()
			waitStarted(t, e, p)

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			werr := make(chan error, 1)
			go func() { werr <- w.run(ctx, shared, uint64(300+i)) }()
			proxy.CutCommitAnswers(3)
			proxy.CutRandomly(300)
			const wantCuts = 4
			eventually(t, p, 3*time.Minute, "connections cut", func() (bool, string) {
				commits, random := proxy.Cuts()
				return commits >= wantCuts && random >= wantCuts,
					fmt.Sprintf("%d commit answers and %d random points cut (%d commits seen)", commits, random, proxy.Commits())
			})
			proxy.CutCommitAnswers(0)
			proxy.CutRandomly(0)
			cancel()
			if err := <-werr; err != nil {
				t.Fatalf("workload: %v", err)
			}
			waitSameKV(t, p, src, kv, 2*time.Minute)
			if code := p.stop(t); code != 0 {
				t.Fatalf("SIGTERM: exit %d\n%s", code, p.logs())
			}
			checkExactlyOnce(t, w, kv)
			logs := p.logs()
			found := strings.Count(logs, "the commit whose answer was lost is in the target")
			if found == 0 {
				t.Fatalf("no lost commit answer was found committed on reconnecting:\n%s", lastLines(logs, 40))
			}
			commits, random := proxy.Cuts()
			t.Logf("%d commit answers and %d random points cut; %d lost commits found in the target, %d not",
				commits, random, found, strings.Count(logs, "the commit whose answer was lost is not in the target"))
		})
	}
}

// lastLines is the end of a log, for a failure message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
