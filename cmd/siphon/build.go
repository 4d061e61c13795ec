package main

import (
	"fmt"
	"log/slog"

	"github.com/siphoncdc/siphon/capture/mysql"
	"github.com/siphoncdc/siphon/checkpoint"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/siphoncdc/siphon/sink/file"
)

// builtPipeline is a configured pipeline ready to run, with the position it
// resumes from.
type builtPipeline struct {
	pipeline *pipeline.Pipeline
	from     pipeline.Position
}

func (b *builtPipeline) close() {
	for _, s := range b.pipeline.Sinks {
		_ = s.Close()
	}
}

func buildPipeline(pc *config.Pipeline, store *checkpoint.Store, log *slog.Logger) (*builtPipeline, error) {
	state := store.Pipeline(pc.Name)
	log = log.With("pipeline", pc.Name)
	src, err := buildSource(pc, state, log)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: source: %w", pc.Name, err)
	}
	b := &builtPipeline{pipeline: &pipeline.Pipeline{
		Name:   pc.Name,
		Source: src,
		Store:  state,
		Limits: pipeline.Limits{MaxBatches: pc.Buffer.MaxBatches, MaxBytes: pc.Buffer.MaxBytes},
		Log:    log,
		Stats:  &pipeline.Stats{},
	}}
	for i, sc := range pc.Sinks {
		s, err := buildSink(pc, sc)
		if err != nil {
			b.close()
			return nil, fmt.Errorf("pipeline %s: sinks[%d]: %w", pc.Name, i, err)
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

func buildSource(pc *config.Pipeline, state *checkpoint.PipelineState, log *slog.Logger) (pipeline.Source, error) {
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
			Batch:               mysql.BatchLimits{MaxEvents: pc.Batch.MaxEvents, MaxBytes: pc.Batch.MaxBytes, MaxWait: pc.Batch.MaxWait},
			History:             state,
			Snapshot:            sc.Snapshot,
			SnapshotChunkRows:   sc.SnapshotChunkRows,
			SnapshotParallelism: sc.SnapshotParallelism,
			SignalTable:         sc.SignalTable,
			Version:             version,
			Log:                 log,
		}), nil
	}
	return nil, fmt.Errorf("source type %q is not available in this build", sc.Type)
}

func buildSink(pc *config.Pipeline, sc config.Sink) (pipeline.Sink, error) {
	switch sc.Type {
	case "file":
		return file.Open(file.Config{Path: sc.Path, Schemas: sc.Schemas, Tombstones: pc.Source.TombstonesOnDelete})
	}
	return nil, fmt.Errorf("sink type %q is not available in this build", sc.Type)
}
