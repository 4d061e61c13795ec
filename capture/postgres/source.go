package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/capture/postgres/pgtype"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// TableFilter selects the captured tables by schema and name.
type TableFilter interface {
	Match(schema, table string) bool
}

// BatchLimits say when the source hands a batch to the pipeline.
type BatchLimits struct {
	MaxEvents int
	MaxBytes  int
	MaxWait   time.Duration // longest an event waits for its batch to fill
	Linger    time.Duration // least time a batch waits for more transactions
}

// Config configures a PostgreSQL source.
type Config struct {
	Endpoint    Endpoint
	Slot        string // logical replication slot
	Publication string
	Filter      TableFilter
	TopicPrefix string
	Batch       BatchLimits
	// Snapshot is never, initial, initial_only or when_needed.
	Snapshot            string
	SnapshotChunkRows   int
	SnapshotParallelism int
	SignalTable         string // schema.table of the signalling table, "" for none
	EmitTruncates       bool   // op t events (SPEC §5.4)
	EmitMessages        bool   // op m events for logical decoding messages (SPEC §5.5)
	// SpillDir holds the spill files of streamed transactions in progress.
	SpillDir string
	// StatusInterval is the longest time between two standby status
	// updates; 10 s when zero.
	StatusInterval time.Duration
	Version        string // siphon's version, written as source.version
	Log            *slog.Logger
}

// Source streams a logical replication slot of one database. It
// implements pipeline.Source and pipeline.CheckpointListener.
type Source struct {
	cfg Config
	log *slog.Logger
	// checkpointed is the lsn_commit of the last checkpointed position:
	// the only position the server is ever told.
	checkpointed atomic.Uint64
	snap         atomic.Pointer[snapshot.Engine]
}

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
	if cfg.Snapshot == "" {
		cfg.Snapshot = "never"
	}
	if cfg.StatusInterval <= 0 {
		cfg.StatusInterval = 10 * time.Second
	}
	return &Source{cfg: cfg, log: cfg.Log.With("source", "postgres", "server", cfg.Endpoint.String(), "slot", cfg.Slot)}
}

// EagerCheckpoints asks for every position to be stored at once while a
// snapshot runs: it reads a range's next chunk only after the previous one
// is checkpointed.
func (s *Source) EagerCheckpoints() bool { return s.snap.Load() != nil }

// Checkpointed lets the slot confirm the checkpointed position and tells a
// running snapshot which of its chunks the sinks have applied.
func (s *Source) Checkpointed(pos pipeline.Position) {
	p, err := DecodePosition(pos)
	if err != nil {
		return
	}
	for {
		cur := s.checkpointed.Load()
		if p.LSNCommit <= cur || s.checkpointed.CompareAndSwap(cur, p.LSNCommit) {
			break
		}
	}
	if eng := s.snap.Load(); eng != nil && p.Snapshot != nil {
		eng.Acked(p.Snapshot)
	}
}

// Written tells a running snapshot which of its chunks the sinks have
// taken while holding their position open (pipeline.WriteListener): the
// range may read on.
func (s *Source) Written(pos pipeline.Position) {
	eng := s.snap.Load()
	if eng == nil {
		return
	}
	if p, err := DecodePosition(pos); err == nil && p.Snapshot != nil {
		eng.Acked(p.Snapshot)
	}
}

// Run implements pipeline.Source.
func (s *Source) Run(ctx context.Context, from pipeline.Position, stop <-chan struct{}, emit pipeline.EmitFunc) error {
	cfg := s.cfg
	qconn, err := cfg.Endpoint.connect(ctx, false)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer qconn.Close(context.Background())
	info, err := queryServerInfo(ctx, qconn)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if info.VersionNum < 100000 {
		return fmt.Errorf("postgres: server version %s: siphon needs PostgreSQL 10 or later (pgoutput)", info.Version)
	}
	if wl, err := queryValue(ctx, qconn, "SELECT current_setting('wal_level')"); err != nil {
		return fmt.Errorf("postgres: %w", err)
	} else if wl != "logical" {
		return fmt.Errorf("postgres: server has wal_level=%s; siphon needs logical: set wal_level = logical in postgresql.conf and restart the server", wl)
	}
	spill, err := newSpiller(cfg.SpillDir)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer spill.closeAll()

	created, missing, err := ensurePublication(ctx, qconn, cfg.Publication, cfg.Filter, cfg.SignalTable, cfg.EmitTruncates)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if created {
		s.log.Info("created publication", "publication", cfg.Publication)
	} else if len(missing) > 0 {
		s.log.Warn("the publication does not cover some selected tables: their changes are not streamed", "publication", cfg.Publication, "tables", missing,
			"fix", "ALTER PUBLICATION "+quoteIdent(cfg.Publication)+" ADD TABLE …")
	}

	st := &stream{
		src:     s,
		info:    info,
		qconn:   qconn,
		cat:     newCatalog(qconn),
		rels:    map[uint32]*relState{},
		out:     pipeline.NewBatcher(emit, cfg.Batch.MaxEvents, cfg.Batch.MaxBytes, cfg.Batch.MaxWait),
		srcInfo: sourceInfo(cfg.Version, cfg.TopicPrefix),
		spill:   spill,
	}
	st.out.SetLinger(cfg.Batch.Linger)
	var resume *snapshot.State
	fresh := from == nil
	if !fresh {
		if st.committed, err = DecodePosition(from); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		slot, err := readSlot(ctx, qconn, info, cfg.Slot)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		if err := validateSlot(cfg.Slot, slot, st.committed.LSNCommit); err != nil {
			if cfg.Snapshot != "when_needed" {
				return fmt.Errorf("postgres: %w", err)
			}
			s.log.Warn("stored position cannot be resumed: taking a new snapshot (snapshot: when_needed)", "error", err.Error())
			if slot.exists && slot.walStatus == "lost" {
				if err := dropSlot(ctx, qconn, cfg.Slot); err != nil {
					return fmt.Errorf("postgres: %w", err)
				}
			}
			fresh = true
		}
	}
	if !fresh {
		resume = st.committed.Snapshot
		st.committed.Snapshot = nil
		if resume == nil && cfg.Snapshot == "initial_only" {
			s.log.Info("snapshot already complete (snapshot: initial_only): nothing to do", "position", st.committed.String())
			return nil
		}
		s.log.Info("resuming replication", "position", st.committed.String(), "version", info.Version, "snapshot_in_progress", resume != nil)
	} else {
		start, err := s.freshStart(ctx, qconn, info)
		if err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
		st.committed = Position{LSNCommit: start, LSNProc: start}
		s.log.Info("starting at the slot's position", "lsn", formatLSN(start), "snapshot", cfg.Snapshot, "version", info.Version)
	}
	st.lastCommit = st.committed.LSNCommit
	st.walPos = st.committed.LSNCommit
	st.emitted = st.committed.LSNCommit
	s.checkpointed.Store(st.committed.LSNCommit)
	st.finishAfterSnapshot = cfg.Snapshot == "initial_only"
	if resume != nil || (fresh && cfg.Snapshot != "never") {
		kind := snapshot.Initial
		if resume != nil && resume.Kind == snapshot.Incremental {
			kind = snapshot.Incremental
		}
		if err := st.startSnapshot(ctx, kind, resume, nil); err != nil {
			return fmt.Errorf("postgres: snapshot: %w", err)
		}
		defer st.endSnapshot()
	}
	return st.run(ctx, stop)
}

// freshStart returns where a pipeline without a stored position starts:
// the consistent point of a slot it creates, or an existing slot's
// confirmed position.
func (s *Source) freshStart(ctx context.Context, qconn *pgconn.PgConn, info *serverInfo) (uint64, error) {
	cfg := s.cfg
	slot, err := readSlot(ctx, qconn, info, cfg.Slot)
	if err != nil {
		return 0, err
	}
	if slot.exists && slot.walStatus == "lost" {
		s.log.Warn("dropping the invalidated replication slot to create it again", "slot", cfg.Slot)
		if err := dropSlot(ctx, qconn, cfg.Slot); err != nil {
			return 0, err
		}
		slot.exists = false
	}
	if slot.exists {
		if slot.plugin != "pgoutput" {
			return 0, fmt.Errorf("replication slot %s uses plugin %s; siphon needs pgoutput: drop it or configure another slot", cfg.Slot, slot.plugin)
		}
		if slot.database != info.Database {
			return 0, fmt.Errorf("replication slot %s belongs to database %s, not %s: configure another slot", cfg.Slot, slot.database, info.Database)
		}
		s.log.Info("using the existing replication slot", "slot", cfg.Slot, "confirmed_flush_lsn", formatLSN(slot.confirmed))
		return slot.confirmed, nil
	}
	repl, err := cfg.Endpoint.connect(ctx, true)
	if err != nil {
		return 0, err
	}
	defer repl.Close(context.Background())
	lsn, err := createSlot(ctx, repl, cfg.Slot)
	if err != nil {
		return 0, err
	}
	s.log.Info("created replication slot", "slot", cfg.Slot, "consistent_point", formatLSN(lsn))
	return lsn, nil
}

// relState is what the stream knows of one relation (table OID).
type relState struct {
	skipped bool // neither captured nor the signal table
	signal  bool
	silent  bool // the signal table when it is not captured: read, not emitted
	name    string
	shape   *tableShape
}

// stream is the state of one Run.
type stream struct {
	src     *Source
	info    *serverInfo
	qconn   *pgconn.PgConn
	cat     *catalog
	rels    map[uint32]*relState
	out     *pipeline.Batcher
	srcInfo *pipeline.SourceInfo
	spill   *spiller

	committed  Position // where a restart resumes
	lastCommit uint64   // end LSN of the last commit seen, for source.sequence
	walPos     uint64   // everything up to it is processed (between transactions)
	emitted    uint64   // lsn_commit of the last position handed to the batcher
	lastIdle   time.Time

	// the transaction being decoded
	inTx        bool
	skipTx      bool
	txXid       uint32
	txFinal     uint64 // LSN of the commit record
	txTsUs      int64
	txOrigin    string
	txOriginLSN uint64
	txLastLSN   uint64
	txChanges   int // changes decoded, for a reconnect
	skipXid     uint32
	skipChanges int    // after a reconnect: changes of transaction skipXid already emitted
	progress    uint64 // changes emitted and commits passed, to tell a cut connection from a refused one

	signals          []signalRow
	committedSignals []signalRow
	snap             *snapRun
	// finishAfterSnapshot ends the stream once the snapshot is emitted
	// (snapshot: initial_only).
	finishAfterSnapshot bool

	msg      message
	msgTable *pipeline.Table // logical decoding messages' pseudo-table
}

// run streams with reconnects: a dropped connection resumes at the last
// commit and skips the changes of the transaction in progress already
// handled. A connection that worked is opened again at once; ten attempts
// in a row that read nothing give up.
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
			return fmt.Errorf("postgres: %w", err)
		}
		wait, attempt, ok := retry.Lost(time.Since(began), st.progress != progress)
		if !ok {
			return fmt.Errorf("postgres: replication at %s: %d reconnects in a row failed: %w", st.committed, attempt-1, err)
		}
		st.src.log.Warn("replication connection lost; reconnecting", "error", err, "position", st.committed.String(), "in_transaction", st.inTx,
			"attempt", attempt, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		st.lostConnection()
	}
}

// lostConnection prepares the stream to read again from the last commit.
// The changes of the transaction in progress already emitted are those
// this connection read and those it was still to skip: a connection cut
// before it read as far as the one before it leaves the skip as it was.
func (st *stream) lostConnection() {
	if st.inTx && !st.skipTx && st.txChanges > 0 {
		emitted := st.txChanges
		if st.txXid == st.skipXid {
			emitted += st.skipChanges
		}
		st.skipXid, st.skipChanges = st.txXid, emitted
	}
	st.resetTx()
	st.spill.closeAll()
}

// fatalError is a failure a reconnect cannot cure.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

func fatalf(format string, args ...any) error { return &fatalError{fmt.Errorf(format, args...)} }

// startReplication opens a replication connection and starts streaming
// the slot at the committed position.
func (st *stream) startReplication(ctx context.Context) (*pgconn.PgConn, error) {
	cfg := st.src.cfg
	var conn *pgconn.PgConn
	var err error
	// A walsender of a killed predecessor may hold the slot for a moment.
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err = cfg.Endpoint.connect(ctx, true)
		if err != nil {
			return nil, err
		}
		args := []string{"proto_version '1'", "publication_names " + quoteLiteral(cfg.Publication)}
		if st.info.VersionNum >= 140000 {
			args[0] = "proto_version '2'"
			args = append(args, "streaming 'on'")
			if cfg.EmitMessages {
				args = append(args, "messages 'true'")
			}
		}
		err = pglogrepl.StartReplication(ctx, conn, cfg.Slot, pglogrepl.LSN(st.committed.LSNCommit), pglogrepl.StartReplicationOptions{
			Mode: pglogrepl.LogicalReplication, PluginArgs: args,
		})
		if err == nil {
			return conn, nil
		}
		conn.Close(context.Background())
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55006" && time.Now().Before(deadline) {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(500 * time.Millisecond):
				continue // object_in_use: the slot is still active
			}
		}
		if errors.As(err, &pgErr) {
			return nil, fatalf("start replication of slot %s at %s: %w", cfg.Slot, formatLSN(st.committed.LSNCommit), err)
		}
		return nil, fmt.Errorf("start replication of slot %s at %s: %w", cfg.Slot, formatLSN(st.committed.LSNCommit), err)
	}
}

func (st *stream) streamOnce(ctx context.Context, stop <-chan struct{}) error {
	conn, err := st.startReplication(ctx)
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	reader := newReplReader(conn, st.spill, &st.src.checkpointed, st.src.cfg.StatusInterval)
	errc := make(chan error, 1)
	go func() { errc <- reader.run(rctx) }()
	// The reader's error is read once: when its output ends (a lost
	// connection), and in any case on the way out.
	readerErr := sync.OnceValue(func() error { return <-errc })
	defer func() {
		cancel()
		for range reader.out {
		}
		if err := readerErr(); err != nil && !errors.Is(err, context.Canceled) {
			st.src.log.Debug("replication reader stopped", "error", err)
		}
		conn.Close(context.Background())
	}()

	stopping := false
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	poke := time.NewTicker(200 * time.Millisecond)
	defer poke.Stop()
	for {
		if err := st.pollSnapshot(); err != nil {
			return err
		}
		if finished, err := st.emitDue(ctx); err != nil {
			return err
		} else if finished && st.finishAfterSnapshot {
			stopping = true
		}
		var batch []walMsg
		var ok bool
		select {
		case batch, ok = <-reader.out:
		default:
			// Nothing is waiting: hand over what we have when it ends at a
			// transaction boundary (while the pipeline is full, it may grow
			// up to batch.max_wait), then block.
			if !st.inTx {
				if stopping {
					return st.out.Flush(ctx, false)
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
			var pokeC <-chan time.Time
			if st.snap != nil || (!st.inTx && st.walPos > st.committed.LSNCommit) {
				pokeC = poke.C
			}
			select {
			case batch, ok = <-reader.out:
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
				if err := st.out.Flush(ctx, true); err != nil {
					return err
				}
				continue
			case <-pokeC:
				// A chunk waits for the stream to pass its high watermark,
				// or an idle position waits to be confirmed: ask the server
				// for a keepalive with its WAL end.
				select {
				case reader.poke <- struct{}{}:
				default:
				}
				continue
			case <-stop:
				stop = nil
				stopping = true
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if !ok {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return readerErr()
		}
		for i := range batch {
			if err := st.handle(ctx, &batch[i]); err != nil {
				return err
			}
			if st.out.Full() {
				if err := st.out.Flush(ctx, st.inTx); err != nil {
					return err
				}
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
			return st.out.Flush(ctx, false)
		}
	}
}

// handle processes one message of the replication stream.
func (st *stream) handle(ctx context.Context, w *walMsg) error {
	if w.keepalive {
		return st.keepalive(ctx, w.walEnd)
	}
	m := &st.msg
	if err := parseMessage(w.data, false, m); err != nil {
		return fatalf("at %s: %w", formatLSN(w.walStart), err)
	}
	// The reader spilled the blocks of streamed transactions and handled
	// their aborts; only their commits come here.
	switch m.typ {
	case msgBegin:
		st.begin(m.xid, m.finalLSN, m.commitTime)
	case msgCommit:
		return st.commit(ctx, m.commitLSN, m.endLSN)
	case msgStreamCommit:
		return st.streamCommit(ctx, m.xid, m.commitLSN, m.endLSN, m.commitTime)
	case msgStreamStart, msgStreamStop, msgStreamAbort:
		return fatalf("at %s: streaming message %q reached the decoder", formatLSN(w.walStart), m.typ)
	default:
		return st.change(ctx, m, w.walStart)
	}
	return nil
}

// change handles the messages that occur inside a transaction (or, for a
// non-transactional logical decoding message, outside one).
func (st *stream) change(ctx context.Context, m *message, lsn uint64) error {
	switch m.typ {
	case msgRelation:
		return st.relation(ctx, m)
	case msgType:
		st.cat.forgetTypes()
	case msgOrigin:
		st.txOrigin, st.txOriginLSN = m.originName, m.originLSN
	case msgInsert, msgUpdate, msgDelete:
		return st.row(m, lsn)
	case msgTruncate:
		return st.truncate(m, lsn)
	case msgMessage:
		return st.logicalMessage(m, lsn)
	default:
		return fatalf("at %s: unexpected message %q", formatLSN(lsn), m.typ)
	}
	return nil
}

func (st *stream) begin(xid uint32, final uint64, tsUs int64) {
	st.resetTx()
	st.inTx = true
	st.txXid, st.txFinal, st.txTsUs = xid, final, tsUs
	// Transactions whose commit lies before the resume point were
	// delivered before a restart.
	st.skipTx = final < st.committed.LSNCommit
}

func (st *stream) resetTx() {
	st.inTx, st.skipTx = false, false
	st.txXid, st.txFinal, st.txTsUs = 0, 0, 0
	st.txOrigin, st.txOriginLSN, st.txLastLSN, st.txChanges = "", 0, 0, 0
	st.signals = nil
}

// commit ends the transaction: the position after it becomes the resume
// point and the batch records it.
func (st *stream) commit(ctx context.Context, commitLSN, endLSN uint64) error {
	if !st.inTx {
		return fatalf("commit at %s without a transaction", formatLSN(commitLSN))
	}
	if st.skipTx {
		st.resetTx()
		return nil
	}
	last := st.txLastLSN
	if last == 0 {
		last = commitLSN
	}
	st.committed = Position{LSN: last, TxID: st.txXid, TsUsec: st.txTsUs, LSNProc: endLSN, LSNCommit: endLSN}
	st.lastCommit = endLSN
	st.out.Boundary(st.position())
	st.emitted = endLSN
	st.committedSignals = append(st.committedSignals, st.signals...)
	if st.txXid == st.skipXid {
		st.skipXid, st.skipChanges = 0, 0
	}
	st.resetTx()
	st.progress++
	st.advance(endLSN)
	return st.actOnSignals(ctx)
}

// advance moves the processed position (between transactions).
func (st *stream) advance(lsn uint64) {
	if lsn > st.walPos {
		st.walPos = lsn
	}
	if st.snap != nil {
		st.snap.eng.SetStreamPos(st.walPos)
	}
}

// keepalive: the server has sent everything up to walEnd. When nothing is
// in flight — no transaction open, no streamed one pending, everything
// emitted checkpointed — a position-only batch carries walEnd through the
// pipeline, and once it is checkpointed the slot confirms it: an idle or
// fully filtered database still lets the server recycle WAL.
func (st *stream) keepalive(ctx context.Context, walEnd uint64) error {
	if st.inTx {
		return nil
	}
	st.advance(walEnd)
	if walEnd <= st.committed.LSNCommit || st.spill.Len() > 0 || st.out.Pending() ||
		st.src.checkpointed.Load() < st.emitted || time.Since(st.lastIdle) < time.Second {
		return nil
	}
	st.lastIdle = time.Now()
	st.committed.LSNCommit, st.committed.LSNProc = walEnd, walEnd
	st.out.Boundary(st.position())
	st.emitted = walEnd
	return st.out.Flush(ctx, false)
}

// streamCommit replays a streamed transaction from its spill file.
func (st *stream) streamCommit(ctx context.Context, xid uint32, commitLSN, endLSN uint64, tsUs int64) error {
	sf, ok := st.spill.take(xid)
	st.begin(xid, commitLSN, tsUs)
	if ok {
		start := time.Now()
		m := &st.msg
		err := sf.replay(func(lsn uint64, data []byte) error {
			if err := parseMessage(data, true, m); err != nil {
				return fatalf("streamed transaction %d at %s: %w", xid, formatLSN(lsn), err)
			}
			if err := st.change(ctx, m, lsn); err != nil {
				return err
			}
			if st.out.Full() {
				return st.out.Flush(ctx, true)
			}
			return nil
		})
		if rerr := sf.remove(); err == nil && rerr != nil {
			err = fatalf("remove spill file: %w", rerr)
		}
		if err != nil {
			return err
		}
		st.src.log.Debug("replayed streamed transaction", "xid", xid, "messages", sf.records, "bytes", sf.bytes, "took", time.Since(start).Round(time.Millisecond))
	}
	return st.commit(ctx, commitLSN, endLSN)
}

// position is where a restart resumes, with the snapshot's progress.
func (st *stream) position() pipeline.Position {
	p := st.committed
	p.Snapshot = st.snapshotState()
	return p.Encode()
}

// relation handles a RELATION message: the table version that the
// following changes of that relation are decoded with.
func (st *stream) relation(ctx context.Context, m *message) error {
	cfg := st.src.cfg
	name := m.namespace + "." + m.relName
	isSignal := cfg.SignalTable != "" && cfg.SignalTable == name
	captured := cfg.Filter == nil || cfg.Filter.Match(m.namespace, m.relName)
	if !captured && !isSignal {
		st.rels[m.relID] = &relState{skipped: true, name: name}
		return nil
	}
	ri, found, err := st.cat.relation(ctx, m.relID)
	if err != nil {
		return err
	}
	attrs := map[string]attrInfo{}
	var key []string
	if found {
		for _, a := range ri.attrs {
			attrs[a.name] = a
		}
		key = ri.key
	}
	cols := make([]pgtype.Column, len(m.columns))
	for i, rc := range m.columns {
		t, err := st.cat.typ(ctx, rc.typOID)
		if err != nil {
			return fatalf("table %s column %s: %w", name, rc.name, err)
		}
		c := pgtype.Column{Name: rc.name, Type: t, TypMod: rc.typmod, Nullable: true}
		if a, ok := attrs[rc.name]; ok {
			c.Nullable, c.Default = a.nullable, a.def
		}
		cols[i] = c
	}
	id := pipeline.TableID{Database: st.info.Database, Schema: m.namespace, Name: m.relName}
	sh, err := buildShape(id, topicName(cfg.TopicPrefix, m.namespace, m.relName), cols, key)
	if err != nil {
		return fatalf("%w", err)
	}
	prev := st.rels[m.relID]
	st.rels[m.relID] = &relState{name: name, signal: isSignal, silent: !captured, shape: sh}
	if prev != nil && prev.shape != nil && !sameColumns(prev.shape, sh) {
		st.src.log.Info("schema change", "table", name, "columns", len(sh.cols))
	}
	return nil
}

func sameColumns(a, b *tableShape) bool {
	if len(a.cols) != len(b.cols) {
		return false
	}
	for i := range a.cols {
		if a.cols[i].Name != b.cols[i].Name || a.cols[i].Type.OID != b.cols[i].Type.OID || a.cols[i].TypMod != b.cols[i].TypMod {
			return false
		}
	}
	return true
}

// decodeTuple turns a tuple into a row. An unchanged TOASTed value takes
// the old row's value when there is one (REPLICA IDENTITY FULL), else the
// placeholder.
func (st *stream) decodeTuple(rs *relState, tup []tupleCol, old pipeline.Row, lsn uint64) (pipeline.Row, error) {
	sh := rs.shape
	if len(tup) != len(sh.cols) {
		return nil, fatalf("table %s at %s: tuple has %d columns, the relation %d", rs.name, formatLSN(lsn), len(tup), len(sh.cols))
	}
	row := make(pipeline.Row, len(tup))
	for i, c := range tup {
		switch c.kind {
		case colNull:
		case colText:
			v, err := sh.decode[i](c.data)
			if err != nil {
				return nil, fatalf("table %s at %s: %w", rs.name, formatLSN(lsn), err)
			}
			row[i] = v
		case colUnchanged:
			if old != nil {
				row[i] = old[i]
				continue
			}
			v, err := sh.placeholder(i)
			if err != nil {
				return nil, fatalf("table %s at %s: unchanged TOASTed value: %w", rs.name, formatLSN(lsn), err)
			}
			row[i] = v
		default:
			return nil, fatalf("table %s at %s: column %s in binary format", rs.name, formatLSN(lsn), sh.cols[i].Name)
		}
	}
	return row, nil
}

// row handles an insert, update or delete.
func (st *stream) row(m *message, lsn uint64) error {
	rs := st.rels[m.relID]
	if rs == nil {
		return fatalf("change at %s for relation %d without a preceding RELATION message", formatLSN(lsn), m.relID)
	}
	if rs.skipped || st.skipTx {
		return nil
	}
	if !st.inTx {
		return fatalf("change at %s outside a transaction", formatLSN(lsn))
	}
	st.txChanges++
	if st.skipChanges > 0 && st.txXid == st.skipXid {
		st.skipChanges--
		return nil
	}
	st.progress++
	t := rs.shape.table
	var before, after pipeline.Row
	var err error
	if m.oldKind != 0 {
		if before, err = st.decodeTuple(rs, m.oldTuple, nil, lsn); err != nil {
			return err
		}
	}
	if m.typ != msgDelete {
		var old pipeline.Row
		if m.oldKind == 'O' {
			old = before
		}
		if after, err = st.decodeTuple(rs, m.newTuple, old, lsn); err != nil {
			return err
		}
	}
	if rs.signal && m.typ == msgInsert {
		st.signals = append(st.signals, signalRow{table: t, row: after})
	}
	if rs.silent {
		return nil
	}
	st.txLastLSN = lsn
	src := st.block(rs, lsn)
	now := time.Now().UnixNano()
	switch m.typ {
	case msgInsert:
		st.observe(rs, after)
		st.out.Add(pipeline.Event{Op: pipeline.OpCreate, Table: t, After: after, Source: src, TsNs: now})
	case msgDelete:
		st.observe(rs, before)
		st.out.Add(pipeline.Event{Op: pipeline.OpDelete, Table: t, Before: before, Source: src, TsNs: now})
	case msgUpdate:
		if before == nil && len(t.Key) > 0 {
			// REPLICA IDENTITY DEFAULT/USING INDEX, key unchanged: no old
			// tuple is sent; before carries the key, other columns null.
			before = make(pipeline.Row, len(after))
			for _, k := range t.Key {
				before[k] = after[k]
			}
		}
		st.observe(rs, before, after)
		if t.KeyChanged(before, after) {
			st.out.Add(pipeline.Event{Op: pipeline.OpDelete, Table: t, Before: before, Source: src, TsNs: now, PeerKey: t.KeyOf(after)})
			st.out.Add(pipeline.Event{Op: pipeline.OpCreate, Table: t, After: after, Source: src, TsNs: now, PeerKey: t.KeyOf(before)})
			return nil
		}
		st.out.Add(pipeline.Event{Op: pipeline.OpUpdate, Table: t, Before: before, After: after, Source: src, TsNs: now})
	}
	return nil
}

// block is the source block of a streamed change.
func (st *stream) block(rs *relState, lsn uint64) pipeline.SourceBlock {
	t := rs.shape.table
	tail := &pgTail{schema: t.ID.Schema, table: t.ID.Name, txID: int64(st.txXid), lsn: int64(lsn), origin: st.txOrigin, originLSN: st.txOriginLSN}
	return pipeline.SourceBlock{Info: st.srcInfo, TsUs: st.txTsUs, DB: st.info.Database, Sequence: sequence(st.lastCommit, lsn), Tail: tail}
}

// truncate emits one op t event per captured table (emit_truncates).
func (st *stream) truncate(m *message, lsn uint64) error {
	if !st.src.cfg.EmitTruncates || st.skipTx {
		return nil
	}
	now := time.Now().UnixNano()
	for _, id := range m.relIDs {
		rs := st.rels[id]
		if rs == nil || rs.skipped || rs.silent {
			continue
		}
		st.txLastLSN = lsn
		st.out.Add(pipeline.Event{Op: pipeline.OpTruncate, Table: rs.shape.table, Source: st.block(rs, lsn), TsNs: now})
	}
	return nil
}

// logicalMessage emits a logical decoding message (emit_messages) on the
// <prefix>.message topic.
func (st *stream) logicalMessage(m *message, lsn uint64) error {
	if !st.src.cfg.EmitMessages || (m.transactional && st.skipTx) {
		return nil
	}
	if st.msgTable == nil {
		st.msgTable = messageTable(st.src.cfg.TopicPrefix)
	}
	t := st.msgTable
	tail := &pgTail{txID: -1, lsn: int64(lsn)}
	tsUs := time.Now().UnixMicro()
	if m.transactional && st.inTx {
		tail.txID = int64(st.txXid)
		tsUs = st.txTsUs
		tail.origin, tail.originLSN = st.txOrigin, st.txOriginLSN
		st.txLastLSN = lsn
	}
	content := append([]byte(nil), m.content...)
	st.out.Add(pipeline.Event{
		Op: pipeline.OpMessage, Table: t,
		After:  pipeline.Row{pipeline.String(m.prefix), pipeline.Bytes(content)},
		Source: pipeline.SourceBlock{Info: st.srcInfo, TsUs: tsUs, DB: st.info.Database, Sequence: sequence(st.lastCommit, lsn), Tail: tail},
		TsNs:   time.Now().UnixNano(),
	})
	return nil
}

// messageTable is the pseudo-table logical decoding messages are emitted
// with: key {prefix}, value {prefix, content}.
func messageTable(prefix string) *pipeline.Table {
	topic := sanitizeTopic(prefix + ".message")
	str := &pipeline.Schema{Type: pipeline.TypeString, Optional: true}
	cols := []pipeline.Column{
		{Name: "prefix", Schema: str, Native: pipeline.NativeType{Name: "text"}},
		{Name: "content", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true}, Native: pipeline.NativeType{Name: "bytea"}},
	}
	t := pipeline.NewTable(pipeline.TableID{Name: "message"}, topic, cols, []int{0})
	// As LogicalDecodingMessageMonitor builds them: named, unversioned; the
	// message block is a required member of the value.
	t.KeySchema.Name, t.KeySchema.Version = "io.debezium.connector.postgresql.MessageKey", 0
	t.KeySchema.Fields[0].Schema = str
	t.ValueSchema.Name, t.ValueSchema.Version, t.ValueSchema.Optional = debezium.PostgresMessageSchema, 0, false
	return t
}
