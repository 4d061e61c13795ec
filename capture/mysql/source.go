package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
	"github.com/siphoncdc/siphon/capture/mysql/coltype"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// TableFilter selects the captured tables.
type TableFilter interface {
	Match(db, table string) bool
	MatchDatabase(db string) bool
}

// BatchLimits say when the source hands a batch to the pipeline.
type BatchLimits struct {
	MaxEvents int
	MaxBytes  int
	MaxWait   time.Duration // longest an event waits for its batch to fill
	Linger    time.Duration // least time a batch waits for more transactions
}

// Config configures a MySQL/MariaDB source.
type Config struct {
	Endpoint     Endpoint
	ServerID     uint32 // siphon's replica server_id; unique among the server's replicas
	Filter       TableFilter
	TopicPrefix  string
	PositionMode string // auto | gtid | file
	Batch        BatchLimits
	History      HistoryStore
	// Snapshot is never, initial, initial_only or when_needed.
	Snapshot            string
	SnapshotChunkRows   int
	SnapshotParallelism int
	SignalTable         string // db.table of the signalling table, "" for none
	Version             string // siphon's version, written as source.version
	Log                 *slog.Logger
}

// Source streams the binlog of one server. It implements pipeline.Source
// and pipeline.CheckpointListener.
type Source struct {
	cfg  Config
	log  *slog.Logger
	snap atomic.Pointer[snapshot.Engine] // the running snapshot, for Checkpointed
}

// EagerCheckpoints asks for every position to be stored at once while a
// snapshot runs: it reads a range's next chunk only after the previous one
// is checkpointed.
func (s *Source) EagerCheckpoints() bool { return s.snap.Load() != nil }

// Checkpointed tells a running snapshot which of its chunks the sinks have
// applied.
func (s *Source) Checkpointed(pos pipeline.Position) {
	eng := s.snap.Load()
	if eng == nil {
		return
	}
	p, err := DecodePosition(pos)
	if err != nil || p.Snapshot == nil {
		return
	}
	eng.Acked(p.Snapshot)
}

// Written tells a running snapshot which of its chunks the sinks have
// taken while holding their position open (pipeline.WriteListener): the
// range may read on.
func (s *Source) Written(pos pipeline.Position) { s.Checkpointed(pos) }

// New returns a source; nothing connects until Run.
func New(cfg Config) *Source {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Batch.MaxEvents <= 0 {
		cfg.Batch.MaxEvents = 2048
	}
	if cfg.Batch.MaxBytes <= 0 {
		cfg.Batch.MaxBytes = 4 << 20
	}
	if cfg.Batch.MaxWait <= 0 {
		cfg.Batch.MaxWait = 50 * time.Millisecond
	}
	if cfg.PositionMode == "" {
		cfg.PositionMode = "auto"
	}
	if cfg.Snapshot == "" {
		cfg.Snapshot = "never"
	}
	return &Source{cfg: cfg, log: cfg.Log.With("source", "mysql", "server", cfg.Endpoint.Addr())}
}

// Run implements pipeline.Source.
func (s *Source) Run(ctx context.Context, from pipeline.Position, stop <-chan struct{}, emit pipeline.EmitFunc) error {
	ep, err := resolveTLS(ctx, s.cfg.Endpoint)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	s.cfg.Endpoint = ep
	conn, err := dial(ctx, ep)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	defer conn.Close()
	info, err := queryServerInfo(conn)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	if err := requireRowBinlog(conn); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	history, err := loadHistory(s.cfg.History)
	if err != nil {
		return fmt.Errorf("mysql: %w", err)
	}

	st := &stream{
		src:     s,
		info:    info,
		conn:    conn,
		history: history,
		out:     pipeline.NewBatcher(emit, s.cfg.Batch.MaxEvents, s.cfg.Batch.MaxBytes, s.cfg.Batch.MaxWait),
		tables:  map[uint64]*tableState{},
		builder: &tableBuilder{info: info, topicPrefix: s.cfg.TopicPrefix, log: s.log},
		srcInfo: sourceInfo(info.Flavor, s.cfg.Version, s.cfg.TopicPrefix),
	}
	st.out.SetLinger(s.cfg.Batch.Linger)
	var resume *snapshot.State
	if from != nil {
		if st.committed, err = DecodePosition(from); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
		if err := checkAvailable(conn, st.committed); err != nil {
			var purged *PurgedError
			if !errors.As(err, &purged) || s.cfg.Snapshot != "when_needed" {
				return fmt.Errorf("mysql: %w", err)
			}
			s.log.Warn("stored position is gone from the server: taking a new snapshot (snapshot: when_needed)", "position", st.committed.String(), "oldest_binlog", purged.Oldest)
			from = nil
		}
	}
	if from != nil {
		resume = st.committed.Snapshot
		st.committed.Snapshot = nil
		if resume == nil && s.cfg.Snapshot == "initial_only" {
			s.log.Info("snapshot already complete (snapshot: initial_only): nothing to do", "position", st.committed.String())
			return nil
		}
		s.log.Info("resuming binlog", "position", st.committed.String(), "flavor", info.Flavor, "version", info.Version, "snapshot_in_progress", resume != nil)
	} else {
		if st.committed, err = currentPosition(conn, info); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
		if err := st.recordAllSchemas(st.committed); err != nil {
			return fmt.Errorf("mysql: %w", err)
		}
		s.log.Info("starting at the binlog end", "position", st.committed.String(), "snapshot", s.cfg.Snapshot, "flavor", info.Flavor, "version", info.Version)
	}
	if st.useGTID, err = s.resumeByGTID(info, st.committed); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	if st.gtids, err = newGTIDTracker(info.Flavor, st.committed.GTIDs); err != nil {
		return fmt.Errorf("mysql: %w", err)
	}
	st.pos = watermark(st.committed.File, st.committed.Pos)
	st.finishAfterSnapshot = s.cfg.Snapshot == "initial_only"
	if resume != nil || (from == nil && s.cfg.Snapshot != "never") {
		kind := snapshot.Initial
		if resume != nil && resume.Kind == snapshot.Incremental {
			kind = snapshot.Incremental
		}
		if err := st.startSnapshot(ctx, kind, resume, nil); err != nil {
			return fmt.Errorf("mysql: snapshot: %w", err)
		}
		defer st.endSnapshot()
	}
	return st.run(ctx, stop)
}

func (s *Source) resumeByGTID(info *serverInfo, p Position) (bool, error) {
	switch s.cfg.PositionMode {
	case "file":
		return false, nil
	case "gtid":
		if !info.GTIDMode {
			return false, errors.New("position_mode gtid: the server does not have GTIDs enabled (gtid_mode=ON)")
		}
		if p.GTIDs == "" {
			return false, fmt.Errorf("position_mode gtid: the stored position %s has no GTID set", p)
		}
		return true, nil
	default:
		return info.GTIDMode && p.GTIDs != "", nil
	}
}

func requireRowBinlog(c *client.Conn) error {
	for _, want := range []struct{ name, value, fix string }{
		{"log_bin", "ON", "start the server with log_bin (e.g. log-bin=mysql-bin)"},
		{"binlog_format", "ROW", "set binlog_format=ROW"},
		{"binlog_row_image", "FULL", "set binlog_row_image=FULL"},
	} {
		v, err := variable(c, want.name)
		if err != nil {
			return err
		}
		if !equalFold(v, want.value) && !(want.name == "log_bin" && v == "1") {
			return fmt.Errorf("server has %s=%s; siphon needs %s: %s", want.name, v, want.value, want.fix)
		}
	}
	return nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'a' && x <= 'z' {
			x -= 'a' - 'A'
		}
		if y >= 'a' && y <= 'z' {
			y -= 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// stream is the state of one Run: the committed position, the transaction
// being read, the tables seen and the batch being filled.
type stream struct {
	src     *Source
	info    *serverInfo
	conn    *client.Conn
	history *schemaHistory
	builder *tableBuilder
	srcInfo *pipeline.SourceInfo
	useGTID bool

	committed Position // where to resume: after the last complete transaction
	gtids     *gtidTracker
	file      string // binlog file being read

	inTx       bool
	txBegun    bool // a BEGIN was seen: only COMMIT/XID ends the transaction
	txGTID     string
	txMariaGID *gomysql.MariadbGTID
	txMySQLGID *replication.GTIDEvent
	txThread   int64
	txTsUs     int64  // MySQL 8 original_commit_timestamp, when present
	txRowsSeen int    // rows events of the current transaction already handled
	skipRows   int    // after a reconnect: rows events of the transaction already emitted
	progress   uint64 // rows events emitted and commits passed, to tell a cut connection from a refused one

	tables map[uint64]*tableState

	pos     uint64      // watermark of the end of the last event handled
	signals []signalRow // signalling-table inserts of the transaction in progress
	// committedSignals are signals whose transaction committed, acted on
	// after the commit event.
	committedSignals []signalRow
	snap             *snapRun // the running snapshot, nil when none
	// finishAfterSnapshot ends the stream once the snapshot is emitted
	// (snapshot: initial_only).
	finishAfterSnapshot bool

	out *pipeline.Batcher
}

// recordAllSchemas stores the definitions of every captured table at p.
func (st *stream) recordAllSchemas(p Position) error {
	all, err := listTables(st.conn)
	if err != nil {
		return err
	}
	for db, tables := range all {
		var picked []string
		for _, t := range tables {
			if st.src.cfg.Filter == nil || st.src.cfg.Filter.Match(db, t) {
				picked = append(picked, t)
			}
		}
		defs, err := readTableDefs(st.conn, st.info, db, picked)
		if err != nil {
			return err
		}
		if err := st.history.record(p.File, p.Pos, defs); err != nil {
			return err
		}
	}
	return nil
}

// run streams with reconnects: a dropped connection resumes at the start of
// the transaction in progress and skips the rows events already emitted. A
// connection that worked is opened again at once; ten attempts in a row
// that read nothing give up.
func (st *stream) run(ctx context.Context, stop <-chan struct{}) error {
	retry := pipeline.Reconnects{Min: time.Second, Max: 30 * time.Second, Healthy: time.Minute, Limit: 10}
	for {
		began, progress := time.Now(), st.progress
		err := st.streamOnce(ctx, stop)
		if err == nil || ctx.Err() != nil {
			return err
		}
		var fatal *fatalError
		if errors.As(err, &fatal) {
			return fmt.Errorf("mysql: %w", err)
		}
		var myErr *gomysql.MyError
		if errors.As(err, &myErr) {
			return fmt.Errorf("mysql: binlog stream at %s: %w", st.committed, err)
		}
		wait, attempt, ok := retry.Lost(time.Since(began), st.progress != progress)
		if !ok {
			return fmt.Errorf("mysql: binlog stream at %s: %d reconnects in a row failed: %w", st.committed, attempt-1, err)
		}
		st.src.log.Warn("binlog connection lost; reconnecting", "error", err, "position", st.committed.String(), "in_transaction", st.inTx,
			"attempt", attempt, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		st.lostConnection()
	}
}

// lostConnection prepares the stream to read again from the start of the
// transaction in progress. The rows events of it already emitted are those
// this connection read and those it was still to skip: a connection cut
// before it read as far as the one before it leaves the skip as it was.
func (st *stream) lostConnection() {
	if st.inTx {
		st.skipRows += st.txRowsSeen
	}
	st.resetTx()
}

// fatalError is a failure a reconnect cannot cure.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error { return &fatalError{fmt.Errorf(format, args...)} }

type syncHandler struct {
	ctx context.Context
	ch  chan<- *replication.BinlogEvent
}

func (h *syncHandler) HandleEvent(e *replication.BinlogEvent) error {
	select {
	case h.ch <- e:
		return nil
	case <-h.ctx.Done():
		return h.ctx.Err()
	}
}

func (st *stream) streamOnce(ctx context.Context, stop <-chan struct{}) error {
	cfg := st.src.cfg
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events := make(chan *replication.BinlogEvent, 256)
	syncer := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID:                cfg.ServerID,
		Flavor:                  string(st.info.Flavor),
		Host:                    cfg.Endpoint.Host,
		Port:                    cfg.Endpoint.Port,
		User:                    cfg.Endpoint.User,
		Password:                cfg.Endpoint.Password,
		TLSConfig:               cfg.Endpoint.TLS,
		ParseTime:               true,
		UseDecimal:              false,
		RenderJSONAsMySQLText:   coltype.RenderJSONAsMySQLText,
		DisableRetrySync:        true,
		HeartbeatPeriod:         10 * time.Second,
		ReadTimeout:             60 * time.Second,
		FillZeroLogPos:          st.info.Flavor == FlavorMariaDB,
		RowsEventDecodeFunc:     deferRowsDecoding,
		Logger:                  quietLogger(st.src.log),
		SynchronousEventHandler: &syncHandler{ctx: sctx, ch: events},
	})
	defer func() {
		cancel() // unblocks the handler before Close waits for the syncer's goroutine
		syncer.Close()
	}()

	var streamer *replication.BinlogStreamer
	var err error
	if st.useGTID {
		var set gomysql.GTIDSet
		if set, err = st.gtids.set(); err == nil {
			streamer, err = syncer.StartSyncGTID(set)
		}
	} else {
		streamer, err = syncer.StartSync(gomysql.Position{Name: st.committed.File, Pos: st.committed.Pos})
	}
	if err != nil {
		return fmt.Errorf("start binlog stream at %s: %w", st.committed, redact(err, cfg.Endpoint.Password))
	}
	st.file = st.committed.File
	errc := make(chan error, 1)
	go func() {
		// In synchronous mode the streamer only ever reports the error that
		// ended the stream.
		_, err := streamer.GetEvent(sctx)
		errc <- err
	}()

	stopping := false
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if err := st.pollSnapshot(); err != nil {
			return err
		}
		if finished, err := st.emitDue(ctx); err != nil {
			return err
		} else if finished && st.finishAfterSnapshot {
			stopping = true
		}
		var ev *replication.BinlogEvent
		select {
		case ev = <-events:
		default:
			// Nothing is waiting: hand over what we have when it ends at a
			// transaction boundary (while the pipeline is full, it may grow
			// up to batch.max_wait), then block.
			if !st.inTx {
				if stopping {
					return st.flush(ctx, false)
				}
				if err := st.out.Offer(ctx); err != nil {
					return err
				}
			}
			var wait <-chan time.Time
			if st.out.Pending() {
				d := st.out.Wait()
				if timer == nil {
					timer = time.NewTimer(d)
				} else {
					timer.Reset(d)
				}
				wait = timer.C
			}
			select {
			case ev = <-events:
			case v := <-st.snapshotReady():
				if err := st.registerChunk(v); err != nil {
					return err
				}
				continue
			case <-wait:
				// The linger ended (the loop offers the batch) or MaxWait did.
				if !st.out.Overdue() {
					continue
				}
				if err := st.flush(ctx, true); err != nil {
					return err
				}
				continue
			case <-stop:
				stop = nil
				stopping = true
				continue
			case err := <-errc:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return redact(err, cfg.Endpoint.Password)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := st.handle(ev, ev.Header); err != nil {
			return err
		}
		if err := st.afterEvent(ctx, ev); err != nil {
			return err
		}
		if st.out.Full() {
			if err := st.flush(ctx, st.inTx); err != nil {
				return err
			}
		}
		if !stopping {
			select {
			case <-stop:
				stop = nil
				stopping = true
			default:
			}
		}
		if stopping && !st.inTx {
			if err := st.flush(ctx, false); err != nil {
				return err
			}
			return nil
		}
	}
}

// afterEvent moves the stream position past the event just handled and,
// at a transaction boundary, acts on the signals the transaction carried.
func (st *stream) afterEvent(ctx context.Context, ev *replication.BinlogEvent) error {
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		st.pos = max(st.pos, watermark(string(e.NextLogName), uint32(e.Position)))
	default:
		if ev.Header.LogPos > 0 {
			st.pos = max(st.pos, watermark(st.file, ev.Header.LogPos))
		}
	}
	if st.snap != nil {
		st.snap.eng.SetStreamPos(st.pos)
	}
	if !st.inTx && len(st.committedSignals) > 0 {
		sigs := st.committedSignals
		st.committedSignals = nil
		for _, s := range sigs {
			if err := st.handleSignal(ctx, s.table, s.row); err != nil {
				return err
			}
		}
	}
	return nil
}

// flush hands the batch being filled to the pipeline; midTx says it ends
// inside a transaction (see pipeline.Batcher).
func (st *stream) flush(ctx context.Context, midTx bool) error { return st.out.Flush(ctx, midTx) }

func (st *stream) add(e pipeline.Event) { st.out.Add(e) }

func (st *stream) resetTx() {
	st.inTx, st.txBegun = false, false
	st.txGTID, st.txMariaGID, st.txMySQLGID = "", nil, nil
	st.txThread, st.txTsUs, st.txRowsSeen = -1, 0, 0
	st.signals = nil
}

// handle applies one binlog event.
func (st *stream) handle(ev *replication.BinlogEvent, h *replication.EventHeader) error {
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		st.file = string(e.NextLogName)
		// A stream started by GTID begins with a rotate to the start of the
		// file holding the GTID: the position does not go back with it.
		if !st.inTx && (st.file != st.committed.File || e.Position > uint64(st.committed.Pos)) {
			st.committed.File, st.committed.Pos = st.file, uint32(e.Position)
		}
	case *replication.GTIDEvent:
		st.beginTx()
		u, err := uuid.FromBytes(e.SID)
		if err != nil {
			return fatalf("gtid event at %s:%d: %w", st.file, h.LogPos, err)
		}
		st.txGTID = fmt.Sprintf("%s:%d", u, e.GNO)
		st.txMySQLGID = e
		if e.OriginalCommitTimestamp > 0 {
			st.txTsUs = int64(e.OriginalCommitTimestamp)
		}
	case *replication.MariadbGTIDEvent:
		st.beginTx()
		g := e.GTID
		st.txGTID = g.String()
		st.txMariaGID = &g
	case *replication.QueryEvent:
		return st.handleQuery(e, h)
	case *replication.XIDEvent:
		return st.commit(h)
	case *replication.TableMapEvent:
		return st.handleTableMap(e, h)
	case *replication.RowsEvent:
		return st.handleRows(e, h)
	case *replication.TransactionPayloadEvent:
		for _, inner := range e.Events {
			ih := *inner.Header
			ih.LogPos = h.LogPos
			if err := st.handle(inner, &ih); err != nil {
				return err
			}
		}
	}
	return nil
}

func (st *stream) beginTx() {
	st.resetTx()
	st.inTx = true
}

func (st *stream) handleQuery(e *replication.QueryEvent, h *replication.EventHeader) error {
	q := parseQuery(string(e.Query))
	switch q.Kind {
	case queryBegin:
		if !st.inTx {
			st.beginTx()
		}
		st.txBegun = true
		st.txThread = int64(e.SlaveProxyID)
		return nil
	case queryCommit, queryRollback:
		return st.commit(h)
	case queryDML:
		db := string(e.Schema)
		if st.src.cfg.Filter == nil || st.src.cfg.Filter.MatchDatabase(db) {
			return fatalf("statement-based binlog event at %s:%d in database %q (%.80s): siphon decodes row events only; set binlog_format=ROW",
				st.file, h.LogPos, db, string(e.Query))
		}
	case queryTableDDL, queryDropDB:
		if err := st.handleDDL(e, q, h); err != nil {
			return err
		}
	}
	if st.txBegun {
		return nil // a statement inside an explicit transaction
	}
	return st.commit(h) // DDL and other statements are transactions of their own
}

// handleDDL records the new definitions of the tables a DDL changed, at the
// position after it, and forgets the table states built before it.
func (st *stream) handleDDL(e *replication.QueryEvent, q parsedQuery, h *replication.EventHeader) error {
	defaultDB := string(e.Schema)
	byDB := map[string][]string{}
	switch {
	case q.Kind == queryDropDB:
		for _, es := range st.history.entries {
			if len(es) > 0 && es[0].Def.Database == q.Database {
				byDB[q.Database] = append(byDB[q.Database], es[0].Def.Table)
			}
		}
	case q.Unsure:
		for _, es := range st.history.entries {
			if len(es) > 0 && es[0].Def.Database == defaultDB {
				byDB[defaultDB] = append(byDB[defaultDB], es[0].Def.Table)
			}
		}
		fallthrough
	default:
		for _, t := range q.Tables {
			db := t.Database
			if db == "" {
				db = defaultDB
			}
			byDB[db] = append(byDB[db], t.Name)
		}
	}
	for db, tables := range byDB {
		var todo []string
		for _, t := range dedupe(tables) {
			if st.src.cfg.Filter != nil && !st.src.cfg.Filter.Match(db, t) {
				continue
			}
			if _, ok := st.history.exactly(db, t, st.file, h.LogPos); ok {
				continue // recorded when this DDL was first read
			}
			todo = append(todo, t)
		}
		if len(todo) == 0 || st.conn == nil {
			continue
		}
		defs, err := readTableDefs(st.conn, st.info, db, todo)
		if err != nil {
			return fmt.Errorf("after DDL at %s:%d: %w", st.file, h.LogPos, err)
		}
		if err := st.history.record(st.file, h.LogPos, defs); err != nil {
			return fatalf("%w", err)
		}
		st.src.log.Info("schema change", "database", db, "tables", todo, "position", fmt.Sprintf("%s:%d", st.file, h.LogPos), "ddl", truncate(string(e.Query), 200))
	}
	// Table ids change with a table's definition; drop every cached state
	// of the touched tables so the next TABLE_MAP rebuilds them.
	for id, ts := range st.tables {
		for db, tables := range byDB {
			for _, t := range tables {
				if ts.table != nil && ts.table.ID.Database == db && ts.table.ID.Name == t {
					delete(st.tables, id)
				}
			}
		}
	}
	return nil
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	out := s[:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// commit ends the transaction in progress: the position after it becomes
// the resume point and the last event of the transaction is marked.
func (st *stream) commit(h *replication.EventHeader) error {
	if st.txMariaGID != nil {
		st.gtids.addMariaDB(*st.txMariaGID)
	} else if g := st.txMySQLGID; g != nil {
		u, err := uuid.FromBytes(g.SID)
		if err == nil && st.gtids.mysql != nil {
			st.gtids.mysql.AddGTID(u, g.GNO)
		}
	}
	st.committed = Position{File: st.file, Pos: h.LogPos, ServerID: h.ServerID, TsSec: int64(h.Timestamp)}
	if st.info.GTIDMode {
		st.committed.GTIDs = st.gtids.String()
	}
	st.out.Boundary(st.position())
	st.committedSignals = append(st.committedSignals, st.signals...)
	st.resetTx()
	st.skipRows = 0
	st.progress++
	return nil
}

func (st *stream) handleTableMap(tm *replication.TableMapEvent, h *replication.EventHeader) error {
	if ts, ok := st.tables[tm.TableID]; ok && ts.sameMap(tm) {
		return nil
	}
	db, name := string(tm.Schema), string(tm.Table)
	isSignal := st.src.cfg.SignalTable != "" && st.src.cfg.SignalTable == db+"."+name
	captured := st.src.cfg.Filter == nil || st.src.cfg.Filter.Match(db, name)
	if !captured && !isSignal {
		st.tables[tm.TableID] = &tableState{skipped: true, mapSig: mapSignature(tm), source: db + "." + name}
		return nil
	}
	at := Position{File: st.file, Pos: h.LogPos - h.EventSize}
	def := st.history.at(db, name, at.File, at.Pos)
	if def == nil && st.conn != nil {
		// A table siphon has no definition for (created before siphon
		// started tracking it, or newly included): read it now.
		defs, err := readTableDefs(st.conn, st.info, db, []string{name})
		if err != nil {
			return err
		}
		if err := st.history.record(at.File, at.Pos, defs); err != nil {
			return fatalf("%w", err)
		}
		def = &defs[0]
		st.src.log.Info("read table definition", "table", db+"."+name, "position", at.String())
	}
	ts, err := st.builder.build(tm, def, at)
	if err != nil {
		return fatalf("%w", err)
	}
	ts.signals = isSignal
	ts.silent = !captured
	st.tables[tm.TableID] = ts
	return nil
}

func (st *stream) handleRows(re *replication.RowsEvent, h *replication.EventHeader) error {
	ts := st.tables[re.TableID]
	if ts == nil {
		return fatalf("rows event at %s:%d for table id %d without a preceding TABLE_MAP", st.file, h.LogPos, re.TableID)
	}
	if ts.skipped {
		return nil
	}
	st.txRowsSeen++
	if st.skipRows > 0 {
		st.skipRows--
		return nil
	}
	st.progress++
	rows, err := st.decodeRows(re, ts, h)
	if err != nil {
		return err
	}

	eventPos := h.LogPos - h.EventSize
	tsUs := int64(h.Timestamp) * 1_000_000
	if st.txTsUs > 0 {
		tsUs = st.txTsUs
	}
	now := time.Now().UnixNano()
	block := func(tail *binlogTail) pipeline.SourceBlock {
		return pipeline.SourceBlock{Info: st.srcInfo, TsUs: tsUs, DB: ts.table.ID.Database, Tail: tail}
	}
	t := ts.table
	wm := watermark(st.file, eventPos)
	if ts.signals && re.Type() == replication.EnumRowsEventTypeInsert {
		for _, row := range rows {
			st.signals = append(st.signals, signalRow{table: t, row: row})
		}
	}
	if ts.silent {
		return nil
	}
	switch re.Type() {
	case replication.EnumRowsEventTypeInsert, replication.EnumRowsEventTypeDelete:
		insert := re.Type() == replication.EnumRowsEventTypeInsert
		tails := make([]binlogTail, len(rows))
		for i, row := range rows {
			tails[i] = binlogTail{table: t.ID.Name, gtid: st.txGTID, file: st.file, serverID: h.ServerID, pos: eventPos, row: int32(i), thread: st.txThread}
			e := pipeline.Event{Table: t, Source: block(&tails[i]), TsNs: now}
			if insert {
				e.Op, e.After = pipeline.OpCreate, row
			} else {
				e.Op, e.Before = pipeline.OpDelete, row
			}
			st.observe(t, wm, row)
			st.add(e)
		}
	case replication.EnumRowsEventTypeUpdate:
		if len(rows)%2 != 0 {
			return fatalf("table %s at %s:%d: update event with an odd number of row images", ts.source, st.file, h.LogPos)
		}
		tails := make([]binlogTail, len(rows)/2)
		for i := 0; i < len(rows); i += 2 {
			beforeRow, afterRow := rows[i], rows[i+1]
			tails[i/2] = binlogTail{table: t.ID.Name, gtid: st.txGTID, file: st.file, serverID: h.ServerID, pos: eventPos, row: int32(i / 2), thread: st.txThread}
			src := block(&tails[i/2])
			st.observe(t, wm, beforeRow, afterRow)
			if t.KeyChanged(beforeRow, afterRow) {
				// Debezium: a key change is a delete of the old key and a
				// create of the new one (SPEC §1.5).
				st.add(pipeline.Event{Op: pipeline.OpDelete, Table: t, Before: beforeRow, Source: src, TsNs: now, PeerKey: t.KeyOf(afterRow)})
				st.add(pipeline.Event{Op: pipeline.OpCreate, Table: t, After: afterRow, Source: src, TsNs: now, PeerKey: t.KeyOf(beforeRow)})
				continue
			}
			st.add(pipeline.Event{Op: pipeline.OpUpdate, Table: t, Before: beforeRow, After: afterRow, Source: src, TsNs: now})
		}
	default:
		return fatalf("table %s at %s:%d: unknown rows event type %v", ts.source, st.file, h.LogPos, h.EventType)
	}
	return nil
}

// rawRows is a ROWS event body whose decoding deferRowsDecoding left to
// the stream goroutine; it travels in the event's Rows.
type rawRows struct {
	data []byte
	pos  int
}

// deferRowsDecoding is go-mysql's RowsEventDecodeFunc: it decodes only the
// header, in go-mysql's goroutine, and leaves the rows for decodeRows,
// which decodes them straight into pipeline values with the table's raw
// decoders. Tables with MySQL binary JSON keep go-mysql's decoding.
func deferRowsDecoding(re *replication.RowsEvent, data []byte) error {
	pos, err := re.DecodeHeader(data)
	if err != nil {
		return err
	}
	if re.Table.JsonColumnCount() > 0 {
		return re.DecodeData(pos, data)
	}
	re.Rows = [][]any{{rawRows{data: data, pos: pos}}}
	return nil
}

// decodeRows returns every row image of a ROWS event in order (for
// updates: before, after, …), refusing partial images.
func (st *stream) decodeRows(re *replication.RowsEvent, ts *tableState, h *replication.EventHeader) ([]pipeline.Row, error) {
	var rows []pipeline.Row
	var skipped [][]int
	if len(re.Rows) == 1 && len(re.Rows[0]) == 1 {
		if rr, ok := re.Rows[0][0].(rawRows); ok {
			re.Rows = nil
			var err error
			if ts.raw != nil {
				rows, skipped, err = decodeRowsRaw(re, rr.data, rr.pos, ts.raw)
				if errors.Is(err, errNotRaw) {
					rows, err = nil, re.DecodeData(rr.pos, rr.data)
				}
			} else {
				err = re.DecodeData(rr.pos, rr.data)
			}
			if err != nil {
				return nil, fatalf("table %s at %s:%d: %w", ts.source, st.file, h.LogPos-h.EventSize, err)
			}
		}
	}
	if rows == nil {
		skipped = re.SkippedColumns
		slab := make([]pipeline.Value, len(re.Rows)*len(ts.decode))
		rows = make([]pipeline.Row, len(re.Rows))
		for i, raw := range re.Rows {
			row, err := st.decodeRow(ts, raw, h, &slab)
			if err != nil {
				return nil, err
			}
			rows[i] = row
		}
	}
	for i, cols := range skipped {
		if len(cols) > 0 {
			return nil, fatalf("table %s at %s:%d: row image %d lacks column %s: the server logs partial row images; set binlog_row_image=FULL",
				ts.source, st.file, h.LogPos, i, ts.table.Columns[cols[0]].Name)
		}
	}
	return rows, nil
}

// decodeRow converts one row image. Rows are cut from slab, one
// allocation per rows event rather than one per row.
func (st *stream) decodeRow(ts *tableState, raw []any, h *replication.EventHeader, slab *[]pipeline.Value) (pipeline.Row, error) {
	if len(raw) != len(ts.decode) {
		return nil, fatalf("table %s at %s:%d: row has %d columns, table map %d", ts.source, st.file, h.LogPos, len(raw), len(ts.decode))
	}
	row := pipeline.Row((*slab)[:len(raw):len(raw)])
	*slab = (*slab)[len(raw):]
	for i, v := range raw {
		if v == nil {
			continue
		}
		val, err := ts.decode[i](v)
		if err != nil {
			return nil, fatalf("table %s column %s at %s:%d: %w", ts.source, ts.table.Columns[i].Name, st.file, h.LogPos-h.EventSize, err)
		}
		row[i] = val
	}
	return row, nil
}

// quietLogger keeps go-mysql's per-connection chatter at debug level.
func quietLogger(l *slog.Logger) *slog.Logger {
	return slog.New(levelShift{l.Handler()})
}

type levelShift struct{ slog.Handler }

func (h levelShift) Enabled(ctx context.Context, lvl slog.Level) bool {
	return h.Handler.Enabled(ctx, shift(lvl))
}

func (h levelShift) Handle(ctx context.Context, r slog.Record) error {
	r.Level = shift(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h levelShift) WithAttrs(a []slog.Attr) slog.Handler { return levelShift{h.Handler.WithAttrs(a)} }
func (h levelShift) WithGroup(n string) slog.Handler      { return levelShift{h.Handler.WithGroup(n)} }

// shift lowers the binlog library's messages: its errors are returned to
// siphon too, which reports them (a lost connection as a warning).
func shift(l slog.Level) slog.Level {
	if l < slog.LevelError {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
