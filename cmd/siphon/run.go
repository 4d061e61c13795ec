package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/spf13/cobra"
)

func newRunCommand() *cobra.Command {
	var cfgPath string
	c := &cobra.Command{
		Use:   "run",
		Short: "Run the configured pipelines until SIGINT or SIGTERM",
		Long: "Run streams every configured pipeline. On SIGINT or SIGTERM it finishes the source\n" +
			"transaction in progress, waits until every sink has applied what was read, stores the\n" +
			"position and exits 0. A second signal, or shutdown_timeout, aborts the drain (exit 1).",
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cfgPath)
			if err != nil {
				return err
			}
			log := newLogger(cfg.Log)
			store, err := checkpoint.Open(cfg.StateDir, checkpoint.Options{})
			if err != nil {
				return err
			}
			defer store.Close()

			ctx, cancel := context.WithCancel(c.Context())
			defer cancel()
			stop := make(chan struct{})
			go handleSignals(ctx, log, stop, cancel, shutdownTimeout(cfg))
			return runPipelines(ctx, cfg, store, log, stop)
		},
	}
	c.Flags().StringVarP(&cfgPath, "config", "c", "", "path to siphon.yaml")
	return c
}

func shutdownTimeout(cfg *config.Config) time.Duration {
	var d time.Duration
	for _, p := range cfg.Pipelines {
		d = max(d, p.ShutdownTimeout)
	}
	return d
}

// handleSignals turns the first SIGINT/SIGTERM into a graceful stop and a
// second one, or the end of the shutdown timeout, into an abort.
func handleSignals(ctx context.Context, log *slog.Logger, stop chan struct{}, abort context.CancelFunc, timeout time.Duration) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	select {
	case <-ctx.Done():
		return
	case s := <-sigs:
		log.Info("stopping: finishing the current transaction and draining the sinks", "signal", s.String(), "timeout", timeout)
		close(stop)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case s := <-sigs:
		log.Error("second signal: aborting the drain", "signal", s.String())
		abort()
	case <-t.C:
		log.Error("shutdown_timeout reached: aborting the drain", "timeout", timeout)
		abort()
	}
}

// runPipelines runs every pipeline; the first failure stops the others
// gracefully and is returned.
func runPipelines(ctx context.Context, cfg *config.Config, store *checkpoint.Store, log *slog.Logger, stop <-chan struct{}) error {
	built := make([]*builtPipeline, 0, len(cfg.Pipelines))
	defer func() {
		for _, b := range built {
			b.close()
		}
	}()
	for i := range cfg.Pipelines {
		b, err := buildPipeline(&cfg.Pipelines[i], store, log)
		if err != nil {
			return err
		}
		built = append(built, b)
		if err := b.resume(ctx); err != nil {
			return err
		}
	}

	failed := make(chan struct{})
	var failOnce sync.Once
	pipelineStop := make(chan struct{})
	go func() {
		select {
		case <-stop:
		case <-failed:
		case <-ctx.Done():
		}
		close(pipelineStop)
	}()

	errs := make([]error, len(built))
	var wg sync.WaitGroup
	for i, b := range built {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := b.pipeline.Run(ctx, b.from, pipelineStop)
			for restartable(ctx, err, pipelineStop) {
				// A sink lost work it cannot redo from memory: read it
				// again from the checkpoint.
				log.Warn("pipeline restarting from its checkpoint", "pipeline", b.pipeline.Name, "reason", err)
				if err = b.resume(ctx); err == nil {
					err = b.pipeline.Run(ctx, b.from, pipelineStop)
				}
			}
			if err != nil {
				errs[i] = err
				log.Error("pipeline failed", "pipeline", b.pipeline.Name, "error", err)
				failOnce.Do(func() { close(failed) })
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return errors.New("aborted before the drain finished; the stored position covers what was applied")
	}
	log.Info("stopped cleanly")
	return nil
}

// restartable reports whether a pipeline's failure asks to run it again
// from its checkpoint, and nothing asked the pipeline to stop.
func restartable(ctx context.Context, err error, stop <-chan struct{}) bool {
	if err == nil || !errors.Is(err, pipeline.ErrRestart) || ctx.Err() != nil {
		return false
	}
	select {
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	case <-time.After(time.Second):
		return true
	}
}

func newLogger(c config.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
