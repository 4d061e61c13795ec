package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/siphoncdc/siphon/capture/mongodb"
	"github.com/siphoncdc/siphon/capture/mysql"
	"github.com/siphoncdc/siphon/capture/postgres"
	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/siphoncdc/siphon/sink/file"
	mongosink "github.com/siphoncdc/siphon/sink/mongodb"
	mysqlsink "github.com/siphoncdc/siphon/sink/mysql"
	pgsink "github.com/siphoncdc/siphon/sink/postgres"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// builtPipeline is a configured pipeline ready to run, with the position it
// resumes from.
type builtPipeline struct {
	pipeline *pipeline.Pipeline
	from     pipeline.Position
	state    *checkpoint.PipelineState
	log      *slog.Logger
}

func (b *builtPipeline) close() {
	for _, s := range b.pipeline.Sinks {
		_ = s.Close()
	}
}

func buildPipeline(pc *config.Pipeline, store *checkpoint.Store, log *slog.Logger) (*builtPipeline, error) {
	state := store.Pipeline(pc.Name)
	log = log.With("pipeline", pc.Name)
	src, err := buildSource(pc, state, filepath.Dir(store.Path()), log)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: source: %w", pc.Name, err)
	}
	b := &builtPipeline{pipeline: &pipeline.Pipeline{
		Name:               pc.Name,
		Source:             src,
		Store:              state,
		Limits:             pipeline.Limits{MaxBatches: pc.Buffer.MaxBatches, MaxBytes: pc.Buffer.MaxBytes, MergeEvents: mergeFactor * pc.Batch.MaxEvents, MergeBytes: mergeFactor * pc.Batch.MaxBytes},
		Log:                log,
		Stats:              &pipeline.Stats{},
		CheckpointInterval: pc.CheckpointInterval,
	}, state: state, log: log}
	for i, sc := range pc.Sinks {
		s, err := buildSink(pc, sc, src, log, b.pipeline.Stats)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("pipeline %s: sinks[%d]: %w", pc.Name, i, err)
		}
		if pc.Source.Type == "mongodb" && (sc.Type == "postgres" || sc.Type == "mysql") {
			s = mongodb.Relational(s) // collections as (_id, document) tables
		}
		b.pipeline.Sinks = append(b.pipeline.Sinks, s)
	}
	off, ok, err := state.LoadOffset()
	if err != nil {
		b.close()
		return nil, fmt.Errorf("pipeline %s: read stored position: %w", pc.Name, err)
	}
	if ok {
		b.from = off.Position
	}
	return b, nil
}

func buildSource(pc *config.Pipeline, state *checkpoint.PipelineState, stateDir string, log *slog.Logger) (pipeline.Source, error) {
	sc := pc.Source
	switch sc.Type {
	case "mysql":
		ep, err := mysql.ParseURL(sc.URL)
		if err != nil {
			return nil, err
		}
		return mysql.New(mysql.Config{
			Endpoint:            ep,
			ServerID:            sc.ServerID,
			Filter:              sc.Filter,
			TopicPrefix:         sc.TopicPrefix,
			PositionMode:        sc.PositionMode,
			Batch:               mysql.BatchLimits{MaxEvents: pc.Batch.MaxEvents, MaxBytes: pc.Batch.MaxBytes, MaxWait: pc.Batch.MaxWait, Linger: pc.Batch.Linger},
			History:             state,
			Snapshot:            sc.Snapshot,
			SnapshotChunkRows:   sc.SnapshotChunkRows,
			SnapshotParallelism: sc.SnapshotParallelism,
			SignalTable:         sc.SignalTable,
			Version:             version,
			Log:                 log,
		}), nil
	case "postgres":
		ep, err := postgres.ParseURL(sc.URL)
		if err != nil {
			return nil, err
		}
		return postgres.New(postgres.Config{
			Endpoint:            ep,
			Slot:                sc.Slot,
			Publication:         sc.Publication,
			Filter:              sc.Filter,
			TopicPrefix:         sc.TopicPrefix,
			Batch:               postgres.BatchLimits{MaxEvents: pc.Batch.MaxEvents, MaxBytes: pc.Batch.MaxBytes, MaxWait: pc.Batch.MaxWait, Linger: pc.Batch.Linger},
			Snapshot:            sc.Snapshot,
			SnapshotChunkRows:   sc.SnapshotChunkRows,
			SnapshotParallelism: sc.SnapshotParallelism,
			SignalTable:         sc.SignalTable,
			EmitTruncates:       sc.EmitTruncates,
			EmitMessages:        sc.EmitMessages,
			SpillDir:            filepath.Join(stateDir, "spill", pc.Name),
			Version:             version,
			Log:                 log,
		}), nil
	case "mongodb":
		var filter mongodb.Filter
		if sc.Filter != nil {
			filter = sc.Filter
		}
		return mongodb.New(mongodb.Config{
			URL:                 sc.URL,
			Filter:              filter,
			TopicPrefix:         sc.TopicPrefix,
			FullDocument:        sc.FullDocument,
			Batch:               mongodb.BatchLimits{MaxEvents: pc.Batch.MaxEvents, MaxBytes: pc.Batch.MaxBytes, MaxWait: pc.Batch.MaxWait},
			Snapshot:            sc.Snapshot,
			SnapshotChunkRows:   sc.SnapshotChunkRows,
			SnapshotParallelism: sc.SnapshotParallelism,
			Version:             version,
			Log:                 log,
		}), nil
	}
	return nil, fmt.Errorf("source type %q is not available in this build", sc.Type)
}

func buildSink(pc *config.Pipeline, sc config.Sink, src pipeline.Source, log *slog.Logger, stats *pipeline.Stats) (pipeline.Sink, error) {
	switch sc.Type {
	case "file":
		return file.Open(file.Config{Path: sc.Path, Schemas: sc.Schemas, Tombstones: pc.Source.TombstonesOnDelete})
	case "postgres":
		return pgsink.New(pgsink.Config{URL: sc.URL, Schema: sc.Schema, CopyMerge: sc.CopyMerge, Options: databaseSinkOptions(pc, sc, src, log, stats)})
	case "mysql":
		return mysqlsink.New(mysqlsink.Config{URL: sc.URL, Database: sc.Database, Options: databaseSinkOptions(pc, sc, src, log, stats)})
	case "mongodb":
		return mongosink.New(mongosink.Config{URL: sc.URL, Database: sc.Database, Log: log})
	}
	return nil, fmt.Errorf("sink type %q is not available in this build", sc.Type)
}

func databaseSinkOptions(pc *config.Pipeline, sc config.Sink, src pipeline.Source, log *slog.Logger, stats *pipeline.Stats) sqlapply.Options {
	o := sqlapply.Options{
		Pipeline:           pc.Name,
		Tables:             sc.Tables,
		Consistency:        sc.Consistency,
		Workers:            sc.Workers,
		CheckpointTable:    sc.CheckpointTable,
		SchemaChanges:      sc.SchemaChanges,
		Truncate:           sc.Truncate,
		DeadLetterPath:     sc.DeadLetter.Path,
		MaxTransactionRows: sc.MaxTransactionRows,
		Log:                log,
		Stats:              stats,
	}
	if c, ok := src.(pipeline.PositionComparer); ok {
		o.Compare = c.ComparePositions
	}
	return o
}

// resume chooses where the pipeline starts: siphon's own checkpoint, or
// the position a database target committed with its data when that is
// later (siphon stopped between the target's commit and its own
// checkpoint), and tells the database sinks.
func (b *builtPipeline) resume(ctx context.Context) error {
	name := b.pipeline.Name
	off, ok, err := b.state.LoadOffset()
	if err != nil {
		return fmt.Errorf("pipeline %s: read stored position: %w", name, err)
	}
	var from pipeline.Position
	if ok {
		from = off.Position
	}
	compare := func(a, c pipeline.Position) (int, error) {
		if cmp, ok := b.pipeline.Source.(pipeline.PositionComparer); ok {
			return cmp.ComparePositions(a, c)
		}
		if string(a) == string(c) {
			return 0, nil
		}
		return 0, fmt.Errorf("source positions cannot be ordered")
	}
	var positioned []pipeline.PositionedSink
	var target pipeline.Position // the earliest position a database target holds
	all, complete := true, true
	for i, s := range b.pipeline.Sinks {
		ps, ok := s.(pipeline.PositionedSink)
		if !ok {
			all = false
			continue
		}
		positioned = append(positioned, ps)
		pos, err := ps.StoredPosition(ctx)
		if err != nil {
			return fmt.Errorf("pipeline %s: sinks[%d]: %w", name, i, err)
		}
		if pos == nil {
			complete = false
			continue
		}
		if target == nil {
			target = pos
		} else if c, err := compare(pos, target); err != nil {
			return fmt.Errorf("pipeline %s: sinks[%d]: %w", name, i, err)
		} else if c < 0 {
			target = pos
		}
	}
	switch {
	case len(positioned) == 0:
	case target == nil || !complete:
		b.log.Info("resuming from siphon's checkpoint: a database target holds no position yet", "position", string(from))
	case from == nil:
		b.log.Info("resuming from the database target's position (siphon has no checkpoint)", "position", string(target))
		from = target
	default:
		c, err := compare(target, from)
		switch {
		case err != nil:
			b.log.Warn("cannot order the database target's position and siphon's checkpoint: resuming from siphon's checkpoint",
				"checkpoint", string(from), "target", string(target), "error", err)
		case c > 0 && all:
			b.log.Info("resuming from the database target's position: it is later than siphon's checkpoint (siphon stopped between the two)",
				"checkpoint", string(from), "target", string(target))
			from = target
		case c > 0:
			b.log.Warn("a database target is ahead of siphon's checkpoint, but other sinks are not: resuming from the checkpoint, so the target sees some events again",
				"checkpoint", string(from), "target", string(target))
		default:
			b.log.Info("resuming from siphon's checkpoint", "checkpoint", string(from), "target", string(target))
		}
	}
	for i, ps := range positioned {
		if err := ps.ResumeFrom(ctx, from); err != nil {
			return fmt.Errorf("pipeline %s: sinks[%d]: %w", name, i, err)
		}
	}
	b.from = from
	return nil
}

// mergeFactor is how many batches' worth of queued complete transactions
// one sink write may take when the sink falls behind: fewer, larger target
// transactions (and fsyncs) catch up faster.
const mergeFactor = 8
