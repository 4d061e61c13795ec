// Command mongosim runs the MongoDB replica-set simulator standalone: it prints its connection
// URI and serves until SIGINT or SIGTERM, for `make demo` and for trying siphon by hand.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/siphoncdc/siphon/integration/mongosim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	replSet := flag.String("replset", "rs0", "replica-set name")
	verbose := flag.Bool("v", false, "log protocol diagnostics to stderr")
	flag.Parse()

	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sim, err := mongosim.Start(ctx, mongosim.Options{Addr: *addr, ReplicaSet: *replSet, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(sim.URI())
	<-ctx.Done()
	if err := sim.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
