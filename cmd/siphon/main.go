// Command siphon reads database logs and delivers Debezium-compatible
// change events to files and databases. See README.md.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"runtime/pprof"

	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the work failed at runtime
	exitUsage   = 2 // bad command line or configuration
)

// usageError marks errors in how siphon was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	tuneGC()
	// SIPHON_CPUPROFILE=<file> writes a CPU profile of the whole run, for
	// performance work (see docs/architecture.md).
	if path := os.Getenv("SIPHON_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			if pprof.StartCPUProfile(f) == nil {
				code := run(os.Args[1:])
				pprof.StopCPUProfile()
				f.Close()
				os.Exit(code)
			}
		}
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCommand()
	root.SetArgs(args)
	// Cobra reports unknown commands and bad arguments before any command
	// runs: those are usage errors, whatever their text.
	ran := false
	root.PersistentPreRun = func(*cobra.Command, []string) { ran = true }
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	fmt.Fprintln(os.Stderr, "siphon:", err)
	var cfgErr *config.Error
	var use usageError
	if !ran || errors.As(err, &cfgErr) || errors.As(err, &use) {
		return exitUsage
	}
	return exitFailure
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "siphon",
		Short:         "Change data capture from database logs to Debezium-compatible events",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w\n%s", err, c.UsageString())}
	})
	root.AddCommand(newRunCommand(), newCheckCommand(), newOffsetsCommand(), newVerifyCommand(), newVersionCommand())
	return root
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print siphon's version",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), "siphon", version)
			return nil
		},
	}
}

func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), args)}
	}
	return nil
}

// loadConfig reads --config; its errors are *config.Error (exit 2).
func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return nil, usageError{errors.New("--config is required")}
	}
	return config.Load(path, os.LookupEnv)
}

// tuneGC trades memory for CPU unless the user tuned the collector with
// GOGC or GOMEMLIMIT: siphon's live heap is small and bounded by its queue
// limits, but it allocates fast (decoded rows, encoded batches), so the
// default GOGC=100 spends 10–15% of a snapshot's CPU collecting. A soft
// limit keeps the larger target from growing the process without bound.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(512 << 20)
}
