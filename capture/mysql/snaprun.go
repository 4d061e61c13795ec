package mysql

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// snapRun is a snapshot running inside the stream: the engine, its reader
// and what the stream needs to emit its rows.
type snapRun struct {
	eng     *snapshot.Engine
	reader  *snapReader
	kind    snapshot.Kind
	origin  *Position // initial snapshots: where it started (the r events' file and pos)
	tails   map[string]*binlogTail
	lastLog time.Time
	stop    context.CancelFunc
}

// startSnapshot plans the tables (all captured ones, or those only picks)
// and starts the engine's workers. state resumes a checkpointed snapshot.
func (st *stream) startSnapshot(ctx context.Context, kind snapshot.Kind, state *snapshot.State, only func(db, table string) bool) error {
	cfg := st.src.cfg
	par := max(cfg.SnapshotParallelism, 1)
	reader, err := newSnapReader(ctx, cfg.Endpoint, st.info, par)
	if err != nil {
		return err
	}
	tables, err := reader.plan(st.conn, cfg.Filter, cfg.TopicPrefix, only)
	if err != nil {
		reader.Close()
		return err
	}
	run := &snapRun{reader: reader, kind: kind, tails: map[string]*binlogTail{}, lastLog: time.Now()}
	if state == nil {
		state = &snapshot.State{Kind: kind}
		if kind == snapshot.Initial {
			origin := st.committed
			state.Origin, _ = json.Marshal(Position{File: origin.File, Pos: origin.Pos})
		}
	}
	if kind == snapshot.Initial && len(state.Origin) > 0 {
		var o Position
		if err := json.Unmarshal(state.Origin, &o); err == nil {
			run.origin = &o
		}
	}
	run.eng = snapshot.New(snapshot.Config{ChunkRows: cfg.SnapshotChunkRows, Parallelism: par, Log: st.src.log}, reader, kind, tables, state)
	ectx, cancel := context.WithCancel(ctx)
	run.stop = cancel
	if err := run.eng.Start(ectx, st.pos); err != nil {
		cancel()
		reader.Close()
		return err
	}
	st.snap = run
	st.src.snap.Store(run.eng)
	td, t, rows, est := run.eng.State().Summary()
	st.src.log.Info("snapshot started", "kind", kind, "tables", t, "tables_done", td, "rows_done", rows, "rows_estimated", est,
		"chunk_rows", cfg.SnapshotChunkRows, "parallelism", par, "position", st.committed.String())
	return nil
}

// endSnapshot stops the engine and releases its connections.
func (st *stream) endSnapshot() {
	if st.snap == nil {
		return
	}
	st.snap.stop()
	st.snap.eng.Stop()
	st.snap.reader.Close()
	st.src.snap.Store(nil)
	st.snap = nil
}

// snapshotState is the progress to store with the position, nil when no
// snapshot is running.
func (st *stream) snapshotState() *snapshot.State {
	if st.snap == nil || st.snap.eng.Done() {
		return nil
	}
	return st.snap.eng.State()
}

// position is where a restart resumes, with the snapshot's progress.
func (st *stream) position() pipeline.Position {
	p := st.committed
	p.Snapshot = st.snapshotState()
	return p.Encode()
}

// snapshotReady is the engine's chunk channel, nil without a snapshot.
func (st *stream) snapshotReady() <-chan any {
	if st.snap == nil {
		return nil
	}
	return st.snap.eng.Ready()
}

// registerChunk takes a chunk the workers read.
func (st *stream) registerChunk(v any) error {
	if err := st.snap.eng.Register(v); err != nil {
		return fatalf("mysql: %w", err)
	}
	return nil
}

// pollSnapshot registers chunks already read, without waiting.
func (st *stream) pollSnapshot() error {
	for st.snap != nil {
		select {
		case v := <-st.snap.eng.Ready():
			if err := st.registerChunk(v); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// emitDue emits, between transactions, every chunk the stream has passed.
// It reports whether the snapshot finished.
func (st *stream) emitDue(ctx context.Context) (finished bool, err error) {
	if st.snap == nil || st.inTx {
		return false, nil
	}
	run := st.snap
	for {
		em := run.eng.Next(st.pos)
		if em == nil {
			break
		}
		now := time.Now().UnixNano() // one processing time per chunk
		if em.IsScan() {
			err = run.eng.ScanRows(ctx, em, func(row pipeline.Row, m pipeline.SnapshotMarker) error {
				return st.addSnapshotRow(ctx, em, row, m, time.Now().UnixNano())
			})
		} else {
			for i, row := range em.Rows {
				if err = st.addSnapshotRow(ctx, em, row, em.Markers[i], now); err != nil {
					break
				}
			}
		}
		if err != nil {
			return false, err
		}
		// A chunk is a consistent unit, like a transaction: its last row
		// ends it, and the position after it is where a restart resumes.
		st.out.Boundary(st.position())
	}
	if time.Since(run.lastLog) >= 10*time.Second {
		run.lastLog = time.Now()
		p := run.eng.Progress()
		st.src.log.Info("snapshot progress", "kind", run.kind, "tables_done", p.TablesDone, "tables", p.Tables,
			"rows", p.Rows, "rows_estimated", p.Estimate, "rows_per_second", int64(p.RowsPerSecond))
	}
	if !run.eng.Done() {
		return false, nil
	}
	p := run.eng.Progress()
	st.src.log.Info("snapshot finished", "kind", run.kind, "tables", p.Tables, "rows", p.Rows, "rows_per_second", int64(p.RowsPerSecond))
	st.endSnapshot()
	st.out.Boundary(st.position())
	return true, nil
}

// addSnapshotRow appends one snapshot row as an `r` event.
func (st *stream) addSnapshotRow(ctx context.Context, em *snapshot.Emission, row pipeline.Row, m pipeline.SnapshotMarker, now int64) error {
	t := em.Table.Schema
	tail := st.snap.tails[em.Table.Name]
	if tail == nil {
		tail = &binlogTail{table: t.ID.Name, thread: -1}
		st.snap.tails[em.Table.Name] = tail
	}
	if o := st.snap.origin; o != nil {
		tail.file, tail.pos = o.File, o.Pos
	} else if tail.file != st.committed.File || tail.pos != st.committed.Pos {
		tail = &binlogTail{table: t.ID.Name, thread: -1, file: st.committed.File, pos: st.committed.Pos}
		st.snap.tails[em.Table.Name] = tail
	}
	st.add(pipeline.Event{
		Op:     pipeline.OpRead,
		Table:  t,
		After:  row,
		Source: pipeline.SourceBlock{Info: st.srcInfo, TsUs: em.StartUs, Snapshot: m, DB: t.ID.Database, Tail: tail},
		TsNs:   now,
	})
	if st.out.Full() {
		// Inside the chunk: the row just added stays for the next batch,
		// so that the chunk's last row goes out with the position that
		// ends it rather than leaving that position a batch of its own.
		return st.flush(ctx, true)
	}
	return nil
}

// observe tells a running snapshot that the stream emits a change to rows
// of a table at pos.
func (st *stream) observe(t *pipeline.Table, pos uint64, images ...pipeline.Row) {
	if st.snap == nil {
		return
	}
	if name := t.ID.Database + "." + t.ID.Name; st.snap.eng.Tracks(name) {
		st.snap.eng.Observe(name, pos, images...)
	}
}

// signalRow is an insert into the signalling table.
type signalRow struct {
	table *pipeline.Table
	row   pipeline.Row
}

// signal is a row of the signalling table (Debezium's id, type, data).
type signal struct {
	ID, Type, Data string
}

// executeSnapshot is the data of an execute-snapshot signal.
type executeSnapshot struct {
	DataCollections []string `json:"data-collections"`
	Type            string   `json:"type"`
}

// handleSignal acts on an insert into the signalling table.
func (st *stream) handleSignal(ctx context.Context, t *pipeline.Table, row pipeline.Row) error {
	var sig signal
	for i, c := range t.Columns {
		if row[i].IsNull() {
			continue
		}
		switch strings.ToLower(c.Name) {
		case "id":
			sig.ID = row[i].AsString()
		case "type":
			sig.Type = row[i].AsString()
		case "data":
			sig.Data = row[i].AsString()
		}
	}
	log := st.src.log.With("signal_id", sig.ID, "signal_type", sig.Type)
	switch sig.Type {
	case "execute-snapshot":
	case "log":
		log.Info("signal", "data", sig.Data)
		return nil
	default:
		log.Warn("signal ignored: siphon acts on execute-snapshot and log signals", "data", sig.Data)
		return nil
	}
	var req executeSnapshot
	if err := json.Unmarshal([]byte(sig.Data), &req); err != nil {
		log.Warn("signal ignored: data is not valid JSON", "data", sig.Data, "error", err)
		return nil
	}
	if req.Type != "" && !strings.EqualFold(req.Type, "incremental") {
		log.Warn("signal ignored: only incremental snapshots can be requested", "type", req.Type)
		return nil
	}
	if st.snap != nil {
		log.Warn("signal ignored: a snapshot is already running; send it again when it has finished", "running", st.snap.kind)
		return nil
	}
	var res []*regexp.Regexp
	for _, p := range req.DataCollections {
		re, err := regexp.Compile("^(?:" + p + ")$")
		if err != nil {
			log.Warn("signal ignored: data-collections holds an invalid pattern", "pattern", p, "error", err)
			return nil
		}
		res = append(res, re)
	}
	if len(res) == 0 {
		log.Warn("signal ignored: data-collections is empty")
		return nil
	}
	only := func(db, table string) bool {
		for _, re := range res {
			if re.MatchString(db + "." + table) {
				return true
			}
		}
		return false
	}
	if err := st.startSnapshot(ctx, snapshot.Incremental, &snapshot.State{Kind: snapshot.Incremental, ID: sig.ID}, only); err != nil {
		return fmt.Errorf("start incremental snapshot for signal %s: %w", sig.ID, err)
	}
	return nil
}
