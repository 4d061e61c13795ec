package mongodb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// snapRun is a snapshot running inside the stream.
type snapRun struct {
	eng     *snapshot.Engine
	reader  *snapReader
	origin  Position // where the snapshot started: source.ord of its r events
	lastLog time.Time
	stop    context.CancelFunc
}

// startSnapshot plans the captured collections and starts the engine's
// workers; state resumes a checkpointed snapshot.
func (st *stream) startSnapshot(ctx context.Context, state *snapshot.State) error {
	cfg := st.src.cfg
	par := max(cfg.SnapshotParallelism, 1)
	reader := newSnapReader(ctx, st.client)
	tables, err := st.plan(ctx)
	if err != nil {
		return err
	}
	run := &snapRun{reader: reader, lastLog: time.Now()}
	if state == nil {
		state = &snapshot.State{Kind: snapshot.Initial}
		state.Origin, _ = json.Marshal(Position{Sec: st.committed.Sec, Ord: st.committed.Ord})
	}
	if len(state.Origin) > 0 {
		_ = json.Unmarshal(state.Origin, &run.origin)
	}
	run.eng = snapshot.New(snapshot.Config{ChunkRows: cfg.SnapshotChunkRows, Parallelism: par, Log: st.src.log}, reader, snapshot.Initial, tables, state)
	ectx, cancel := context.WithCancel(ctx)
	run.stop = cancel
	if err := run.eng.Start(ectx, st.pos); err != nil {
		cancel()
		return err
	}
	st.snap = run
	st.src.snap.Store(run.eng)
	td, t, rows, est := run.eng.State().Summary()
	st.src.log.Info("snapshot started", "collections", t, "collections_done", td, "documents_done", rows, "documents_estimated", est,
		"chunk_rows", cfg.SnapshotChunkRows, "parallelism", par, "position", st.committed.String())
	return nil
}

// plan lists the captured collections with their estimated sizes.
func (st *stream) plan(ctx context.Context) ([]*snapshot.Table, error) {
	dbs, err := st.client.ListDatabaseNames(ctx, map[string]any{})
	if err != nil {
		return nil, fmt.Errorf("list databases: %w", err)
	}
	var tables []*snapshot.Table
	for _, db := range dbs {
		names, err := st.client.Database(db).ListCollectionNames(ctx, map[string]any{"type": "collection"})
		if err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", db, err)
		}
		for _, coll := range names {
			if !st.captured(db, coll) || len(coll) > 7 && coll[:7] == "system." {
				continue
			}
			est, err := st.client.Database(db).Collection(coll).EstimatedDocumentCount(ctx)
			if err != nil {
				est = 0
			}
			tables = append(tables, &snapshot.Table{
				Name:     db + "." + coll,
				Schema:   st.table(nsKey{db, coll}),
				Key:      []int{debezium.MongoID},
				Estimate: est,
			})
		}
	}
	return tables, nil
}

// endSnapshot stops the engine.
func (st *stream) endSnapshot() {
	if st.snap == nil {
		return
	}
	st.snap.stop()
	st.snap.eng.Stop()
	st.src.snap.Store(nil)
	st.snap = nil
}

func (st *stream) snapshotState() *snapshot.State {
	if st.snap == nil || st.snap.eng.Done() {
		return nil
	}
	return st.snap.eng.State()
}

// pollSnapshot registers chunks already read, without waiting.
func (st *stream) pollSnapshot() error {
	for st.snap != nil {
		select {
		case v := <-st.snap.eng.Ready():
			if err := st.snap.eng.Register(v); err != nil {
				return fmt.Errorf("mongodb: snapshot: %w", err)
			}
		default:
			return nil
		}
	}
	return nil
}

// emitDue emits every chunk the stream has passed; it reports whether
// the snapshot finished.
func (st *stream) emitDue(ctx context.Context) (finished bool, err error) {
	if st.snap == nil {
		return false, nil
	}
	run := st.snap
	for {
		em := run.eng.Next(st.pos)
		if em == nil {
			break
		}
		now := time.Now().UnixNano()
		for i, row := range em.Rows {
			st.addSnapshotRow(em, row, em.Markers[i], now)
			if st.out.Full() {
				// A chunk is one unit: hand the batch over without a
				// boundary inside it.
				if err := st.out.Flush(ctx, true); err != nil {
					return false, err
				}
			}
		}
		st.dirty = true
		if err := st.flush(ctx); err != nil {
			return false, err
		}
	}
	if time.Since(run.lastLog) >= 10*time.Second {
		run.lastLog = time.Now()
		p := run.eng.Progress()
		st.src.log.Info("snapshot progress", "collections_done", p.TablesDone, "collections", p.Tables,
			"documents", p.Rows, "documents_estimated", p.Estimate, "documents_per_second", int64(p.RowsPerSecond))
	}
	if !run.eng.Done() {
		return false, nil
	}
	p := run.eng.Progress()
	st.src.log.Info("snapshot finished", "collections", p.Tables, "documents", p.Rows, "documents_per_second", int64(p.RowsPerSecond))
	st.endSnapshot()
	st.dirty = true
	return true, st.flush(ctx)
}

func (st *stream) addSnapshotRow(em *snapshot.Emission, row pipeline.Row, m pipeline.SnapshotMarker, now int64) {
	t := em.Table.Schema
	st.out.Add(pipeline.Event{
		Op:    pipeline.OpRead,
		Table: t,
		After: row,
		Source: pipeline.SourceBlock{Info: st.info, TsUs: em.StartUs, Snapshot: m, DB: t.ID.Database,
			Tail: &debezium.MongoTail{Collection: t.ID.Name, Ord: int32(st.snap.origin.Ord)}},
		TsNs: now,
	})
}

// observe tells a running snapshot that the stream changed a document.
func (st *stream) observe(ns nsKey, ct uint64, images ...pipeline.Row) {
	if st.snap == nil {
		return
	}
	if name := ns.db + "." + ns.coll; st.snap.eng.Tracks(name) {
		st.snap.eng.Observe(name, ct, images...)
	}
}
