package postgres

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
	origin  uint64 // initial snapshots: the stream position when it started (source.lsn of r events)
	tails   map[string]*pgTail
	lastLog time.Time
	stop    context.CancelFunc
}

// snapshotOrigin is what an initial snapshot records of where it started.
type snapshotOrigin struct {
	LSN uint64 `json:"lsn"`
}

// startSnapshot plans the tables (all captured ones, or those only picks)
// and starts the engine's workers. state resumes a checkpointed snapshot.
func (st *stream) startSnapshot(ctx context.Context, kind snapshot.Kind, state *snapshot.State, only func(schema, table string) bool) error {
	cfg := st.src.cfg
	par := max(cfg.SnapshotParallelism, 1)
	reader, err := newSnapReader(ctx, cfg.Endpoint, st.info, par)
	if err != nil {
		return err
	}
	tables, err := reader.plan(ctx, st.cat, cfg.Filter, cfg.Publication, cfg.TopicPrefix, only)
	if err != nil {
		reader.Close()
		return err
	}
	run := &snapRun{reader: reader, kind: kind, tails: map[string]*pgTail{}, lastLog: time.Now()}
	if state == nil {
		state = &snapshot.State{Kind: kind}
		if kind == snapshot.Initial {
			state.Origin, _ = json.Marshal(snapshotOrigin{LSN: st.committed.LSNCommit})
		}
	}
	if kind == snapshot.Initial && len(state.Origin) > 0 {
		var o snapshotOrigin
		if err := json.Unmarshal(state.Origin, &o); err == nil {
			run.origin = o.LSN
		}
	}
	run.eng = snapshot.New(snapshot.Config{ChunkRows: cfg.SnapshotChunkRows, Parallelism: par, Log: st.src.log}, reader, kind, tables, state)
	ectx, cancel := context.WithCancel(ctx)
	run.stop = cancel
	if err := run.eng.Start(ectx, st.walPos); err != nil {
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

// snapshotReady is the engine's chunk channel, nil without a snapshot.
func (st *stream) snapshotReady() <-chan any {
	if st.snap == nil {
		return nil
	}
	return st.snap.eng.Ready()
}

func (st *stream) registerChunk(v any) error {
	if err := st.snap.eng.Register(v); err != nil {
		return fatalf("%w", err)
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
		em := run.eng.Next(st.walPos)
		if em == nil {
			break
		}
		if em.IsScan() {
			err = run.eng.ScanRows(ctx, em, func(row pipeline.Row, m pipeline.SnapshotMarker) error {
				return st.addSnapshotRow(ctx, em, row, m)
			})
		} else {
			for i, row := range em.Rows {
				if err = st.addSnapshotRow(ctx, em, row, em.Markers[i]); err != nil {
					break
				}
			}
		}
		if err != nil {
			return false, err
		}
		// A chunk is a consistent unit, like a transaction.
		st.out.Boundary(st.position())
		st.emitted = st.committed.LSNCommit
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

// addSnapshotRow appends one snapshot row as an `r` event. Initial
// snapshot rows carry the LSN where the snapshot started and no txId;
// incremental ones neither (SPEC §2.4).
func (st *stream) addSnapshotRow(ctx context.Context, em *snapshot.Emission, row pipeline.Row, m pipeline.SnapshotMarker) error {
	t := em.Table.Schema
	tail := st.snap.tails[em.Table.Name]
	if tail == nil {
		tail = &pgTail{schema: t.ID.Schema, table: t.ID.Name, txID: -1, lsn: -1}
		if st.snap.kind == snapshot.Initial && st.snap.origin != 0 {
			tail.lsn = int64(st.snap.origin)
		}
		st.snap.tails[em.Table.Name] = tail
	}
	var seq string
	if tail.lsn >= 0 {
		seq = sequence(0, uint64(tail.lsn))
	}
	st.out.Add(pipeline.Event{
		Op:     pipeline.OpRead,
		Table:  t,
		After:  row,
		Source: pipeline.SourceBlock{Info: st.srcInfo, TsUs: em.StartUs, Snapshot: m, DB: st.info.Database, Sequence: seq, Tail: tail},
		TsNs:   time.Now().UnixNano(),
	})
	if st.out.Full() {
		return st.out.Flush(ctx, false)
	}
	return nil
}

// observe tells a running snapshot that the stream emits a change to rows
// of a table. The position passed is the transaction's commit LSN, not
// the change's: the engine forgets changes at or before the oldest read's
// floor (a commit position), and a change of a transaction that commits
// after a read started must be remembered for it whatever its own LSN.
func (st *stream) observe(rs *relState, images ...pipeline.Row) {
	if st.snap == nil {
		return
	}
	if st.snap.eng.Tracks(rs.name) {
		st.snap.eng.ObserveTx(rs.name, st.txFinal, uint64(st.txXid), images...)
	}
}

// signalRow is an insert into the signalling table.
type signalRow struct {
	table *pipeline.Table
	row   pipeline.Row
}

// actOnSignals acts on the signals of the transactions committed so far.
func (st *stream) actOnSignals(ctx context.Context) error {
	sigs := st.committedSignals
	st.committedSignals = nil
	for _, s := range sigs {
		if err := st.handleSignal(ctx, s.table, s.row); err != nil {
			return err
		}
	}
	return nil
}

// handleSignal acts on an insert into the signalling table (Debezium's
// id, type, data columns): execute-snapshot starts an incremental
// snapshot of the tables its data-collections match (regular expressions
// over schema.table), log logs.
//
// This mirrors capture/mysql's signal handling; the parsing belongs in a
// shared place once a third source needs it.
func (st *stream) handleSignal(ctx context.Context, t *pipeline.Table, row pipeline.Row) error {
	var id, typ, data string
	for i, c := range t.Columns {
		if i >= len(row) || row[i].IsNull() {
			continue
		}
		switch strings.ToLower(c.Name) {
		case "id":
			id = row[i].AsString()
		case "type":
			typ = row[i].AsString()
		case "data":
			data = row[i].AsString()
		}
	}
	log := st.src.log.With("signal_id", id, "signal_type", typ)
	switch typ {
	case "execute-snapshot":
	case "log":
		log.Info("signal", "data", data)
		return nil
	default:
		log.Warn("signal ignored: siphon acts on execute-snapshot and log signals", "data", data)
		return nil
	}
	var req struct {
		DataCollections []string `json:"data-collections"`
		Type            string   `json:"type"`
	}
	if err := json.Unmarshal([]byte(data), &req); err != nil {
		log.Warn("signal ignored: data is not valid JSON", "data", data, "error", err)
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
	only := func(schema, table string) bool {
		for _, re := range res {
			if re.MatchString(schema + "." + table) {
				return true
			}
		}
		return false
	}
	if err := st.startSnapshot(ctx, snapshot.Incremental, &snapshot.State{Kind: snapshot.Incremental, ID: id}, only); err != nil {
		return fmt.Errorf("start incremental snapshot for signal %s: %w", id, err)
	}
	return nil
}
