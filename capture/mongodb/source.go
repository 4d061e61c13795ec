package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BatchLimits bound the batches the source hands to the pipeline.
type BatchLimits struct {
	MaxEvents int
	MaxBytes  int
	MaxWait   time.Duration // longest an event waits for its batch to fill
}

// Filter selects the captured collections.
type Filter interface {
	Match(db, collection string) bool
}

// Full-document modes (source key full_document).
const (
	FullDocumentUpdateLookup  = "update_lookup"
	FullDocumentPrePostImages = "pre_post_images"
)

// Config configures a MongoDB source.
type Config struct {
	URL         string // mongodb://host:port/?replicaSet=rs0
	Filter      Filter // nil captures every collection outside admin, config and local
	TopicPrefix string
	// FullDocument is update_lookup (updates carry the document looked up
	// when the event is read) or pre_post_images (also the pre-image as
	// before, for collections with changeStreamPreAndPostImages).
	FullDocument string
	Batch        BatchLimits
	// Snapshot is never, initial, initial_only or when_needed.
	Snapshot            string
	SnapshotChunkRows   int
	SnapshotParallelism int
	Version             string // siphon's version, written as source.version
	Log                 *slog.Logger
}

// Source streams a replica set's change stream. It implements
// pipeline.Source, pipeline.CheckpointListener and
// pipeline.PositionComparer.
type Source struct {
	cfg  Config
	log  *slog.Logger
	snap atomic.Pointer[snapshot.Engine]
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
	if cfg.FullDocument == "" {
		cfg.FullDocument = FullDocumentUpdateLookup
	}
	return &Source{cfg: cfg, log: cfg.Log.With("source", "mongodb")}
}

// EagerCheckpoints asks for every position to be stored at once while a
// snapshot runs: it reads a range's next chunk only after the previous one
// is checkpointed.
func (s *Source) EagerCheckpoints() bool { return s.snap.Load() != nil }

// Checkpointed tells a running snapshot which chunks the sinks applied.
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

// codeHistoryLost is ChangeStreamHistoryLost: the resume point is older
// than the oldest oplog entry.
const codeHistoryLost = 286

// HistoryLostError reports that the stored resume token is gone from the
// oplog.
type HistoryLostError struct {
	Position Position
	Err      error
}

func (e *HistoryLostError) Error() string {
	return fmt.Sprintf("stored position %s is no longer in the oplog (ChangeStreamHistoryLost): "+
		"set snapshot: when_needed to take a new snapshot, or reset the pipeline's position: %v", e.Position, e.Err)
}

func (e *HistoryLostError) Unwrap() error { return e.Err }

func isHistoryLost(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(codeHistoryLost)
}

// Run implements pipeline.Source.
func (s *Source) Run(ctx context.Context, from pipeline.Position, stop <-chan struct{}, emit pipeline.EmitFunc) error {
	client, err := connect(ctx, s.cfg.URL)
	if err != nil {
		return fmt.Errorf("mongodb: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	st := &stream{
		src:    s,
		client: client,
		out:    pipeline.NewBatcher(emit, s.cfg.Batch.MaxEvents, s.cfg.Batch.MaxBytes, s.cfg.Batch.MaxWait),
		info:   &pipeline.SourceInfo{Version: s.cfg.Version, Connector: debezium.MongoConnector, Name: s.cfg.TopicPrefix, Schema: debezium.MongoSourceSchema()},
		tables: map[nsKey]*pipeline.Table{},
	}
	var resume *snapshot.State
	if from != nil {
		p, err := DecodePosition(from)
		if err != nil {
			return fmt.Errorf("mongodb: %w", err)
		}
		resume, p.Snapshot = p.Snapshot, nil
		st.committed = p
		if resume == nil && s.cfg.Snapshot == "initial_only" {
			s.log.Info("snapshot already complete (snapshot: initial_only): nothing to do", "position", p.String())
			return nil
		}
		var se mongo.ServerError
		switch err := st.open(ctx, &p); {
		case err == nil:
		case s.cfg.Snapshot == "initial_only" && !isHistoryLost(err) && errors.As(err, &se):
			s.log.Warn("the server has no change streams: copying the collections only (snapshot: initial_only)", "error", err)
			st.cs = nil
		case !isHistoryLost(err):
			return fmt.Errorf("mongodb: open change stream: %w", err)
		default:
			if s.cfg.Snapshot != "when_needed" {
				return fmt.Errorf("mongodb: %w", &HistoryLostError{Position: p, Err: err})
			}
			s.log.Warn("stored position is gone from the oplog: taking a new snapshot (snapshot: when_needed)", "position", p.String())
			from, resume = nil, nil
		}
	}
	if from != nil {
		s.log.Info("resuming change stream", "position", st.committed.String(), "snapshot_in_progress", resume != nil)
	} else {
		err := st.open(ctx, nil)
		var se mongo.ServerError
		switch {
		case err != nil && s.cfg.Snapshot == "initial_only" && errors.As(err, &se):
			// A copy needs no stream: servers without change streams
			// (FerretDB) can still be snapshotted.
			s.log.Warn("the server has no change streams: copying the collections only (snapshot: initial_only)", "error", err)
			st.cs = nil
		case err != nil:
			return fmt.Errorf("mongodb: open change stream: %w", err)
		default:
			tok := st.cs.ResumeToken()
			if tok == nil {
				return fmt.Errorf("mongodb: the server sent no postBatchResumeToken: change streams need MongoDB 4.0.7 or later")
			}
			st.committed = positionAt(tok)
			s.log.Info("starting at the change stream's end", "position", st.committed.String(), "snapshot", s.cfg.Snapshot)
		}
	}
	st.pos = st.committed.ClusterTime()
	if st.cs == nil {
		st.pos = math.MaxUint64 // nothing changes behind a plain copy's back that siphon could see
	} else {
		defer func() { _ = st.cs.Close(context.Background()) }()
	}
	st.finishAfterSnapshot = s.cfg.Snapshot == "initial_only"
	if resume != nil || (from == nil && s.cfg.Snapshot != "never") {
		if err := st.startSnapshot(ctx, resume); err != nil {
			return fmt.Errorf("mongodb: snapshot: %w", err)
		}
		defer st.endSnapshot()
	}
	// The first checkpoint holds the position even before any event.
	st.dirty = true
	if st.cs == nil {
		return st.runCopy(ctx, stop)
	}
	return st.run(ctx, stop)
}

func connect(ctx context.Context, url string) (*mongo.Client, error) {
	opts := options.Client().ApplyURI(url)
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("url: %w", err)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := client.Ping(pctx, nil); err != nil {
		_ = client.Disconnect(context.Background())
		return nil, fmt.Errorf("connect: %w", err)
	}
	return client, nil
}

type nsKey struct{ db, coll string }

// stream is one run of the change stream.
type stream struct {
	src       *Source
	client    *mongo.Client
	cs        *mongo.ChangeStream
	out       *pipeline.Batcher
	info      *pipeline.SourceInfo
	tables    map[nsKey]*pipeline.Table
	committed Position // where a restart resumes: after the last event processed
	pos       uint64   // cluster time the stream has processed
	snap      *snapRun
	dirty     bool // committed moved since the last boundary
	failures  int  // consecutive change stream failures

	finishAfterSnapshot bool
}

// open starts the deployment-scope change stream after p (nil: now).
func (st *stream) open(ctx context.Context, p *Position) error {
	opts := options.ChangeStream().SetMaxAwaitTime(100 * time.Millisecond).SetFullDocument(options.UpdateLookup)
	if st.src.cfg.FullDocument == FullDocumentPrePostImages {
		opts.SetFullDocumentBeforeChange(options.WhenAvailable)
	}
	if p != nil {
		tok, err := p.Token()
		if err != nil {
			return err
		}
		if tok != nil {
			opts.SetResumeAfter(tok)
		} else {
			opts.SetStartAtOperationTime(&bson.Timestamp{T: p.Sec, I: p.Ord})
		}
	}
	cs, err := st.client.Watch(ctx, mongo.Pipeline{}, opts)
	if err != nil {
		return err
	}
	st.cs = cs
	return nil
}

// maxReopens bounds the consecutive failures of the change stream that
// siphon answers by reopening it.
const maxReopens = 5

// recover answers a failed change stream: history lost ends the run
// (restarting it from the checkpoint under when_needed, which snapshots);
// anything else reopens the stream after the last event handled, a few
// times with growing pauses — the driver resumes only once by itself, and
// a restarting server or a cleared connection pool needs more patience.
func (st *stream) recover(ctx context.Context, err error) error {
	for {
		if isHistoryLost(err) {
			lost := &HistoryLostError{Position: st.committed, Err: err}
			if st.src.cfg.Snapshot == "when_needed" {
				// Run again from the checkpoint: opening the stream there
				// fails the same way and takes a new snapshot.
				return fmt.Errorf("mongodb: %w: %w", pipeline.ErrRestart, lost)
			}
			return fmt.Errorf("mongodb: %w", lost)
		}
		st.failures++
		if st.failures > maxReopens {
			return fmt.Errorf("mongodb: change stream after %s (%d attempts): %w", st.committed, st.failures, err)
		}
		st.src.log.Warn("change stream failed: reopening it after the last event read", "attempt", st.failures, "position", st.committed.String(), "error", err)
		_ = st.cs.Close(ctx)
		t := time.NewTimer(time.Duration(st.failures) * 200 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		p := st.committed
		if err = st.open(ctx, &p); err == nil {
			return nil
		}
	}
}

// reopenAfter restarts the stream after an invalidate event.
func (st *stream) reopenAfter(ctx context.Context, token bson.Raw) error {
	_ = st.cs.Close(ctx)
	opts := options.ChangeStream().SetMaxAwaitTime(100 * time.Millisecond).SetFullDocument(options.UpdateLookup).SetStartAfter(token)
	if st.src.cfg.FullDocument == FullDocumentPrePostImages {
		opts.SetFullDocumentBeforeChange(options.WhenAvailable)
	}
	cs, err := st.client.Watch(ctx, mongo.Pipeline{}, opts)
	if err != nil {
		return err
	}
	st.cs = cs
	return nil
}

// position is where a restart resumes, with the snapshot's progress.
func (st *stream) position() pipeline.Position {
	p := st.committed
	p.Snapshot = st.snapshotState()
	return p.Encode()
}

func (st *stream) run(ctx context.Context, stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			st.dirty = true
			return st.flush(ctx)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if err := st.pollSnapshot(); err != nil {
			return err
		}
		if st.cs.TryNext(ctx) {
			st.failures = 0
			if err := st.handle(ctx, st.cs.Current); err != nil {
				return err
			}
			if st.out.Full() {
				if err := st.flush(ctx); err != nil {
					return err
				}
			}
		} else {
			if err := st.cs.Err(); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if err := st.recover(ctx, err); err != nil {
					return err
				}
				continue
			}
			st.failures = 0
			if st.cs.ID() == 0 {
				return fmt.Errorf("mongodb: the server closed the change stream after %s", st.committed)
			}
			st.idle()
		}
		finished, err := st.emitDue(ctx)
		if err != nil {
			return err
		}
		if finished && st.finishAfterSnapshot {
			st.src.log.Info("snapshot complete (snapshot: initial_only): stopping")
			return st.flush(ctx)
		}
		if (st.out.Pending() || st.dirty) && st.cs.RemainingBatchLength() == 0 {
			if err := st.flush(ctx); err != nil {
				return err
			}
		}
	}
}

// runCopy runs a snapshot without a change stream (snapshot:
// initial_only on a server without change streams).
func (st *stream) runCopy(ctx context.Context, stop <-chan struct{}) error {
	for {
		if _, err := st.emitDue(ctx); err != nil {
			return err
		}
		if st.snap == nil {
			break
		}
		select {
		case <-stop:
			st.dirty = true
			return st.flush(ctx)
		case <-ctx.Done():
			return ctx.Err()
		case v := <-st.snap.eng.Ready():
			if err := st.snap.eng.Register(v); err != nil {
				return fmt.Errorf("mongodb: snapshot: %w", err)
			}
		}
	}
	st.src.log.Info("snapshot complete (snapshot: initial_only): stopping")
	st.dirty = true
	return st.flush(ctx)
}

// idle records the postBatchResumeToken of an empty batch: the stream has
// seen everything up to it, so a restart may resume there and a snapshot
// chunk read before it may be emitted.
func (st *stream) idle() {
	tok := st.cs.ResumeToken()
	if tok == nil {
		return
	}
	p := positionAt(tok)
	if p.ClusterTime() < st.committed.ClusterTime() || p.ResumeToken == st.committed.ResumeToken {
		return
	}
	st.advance(p, p.ClusterTime())
}

// handle turns one change event into a pipeline event.
func (st *stream) handle(ctx context.Context, raw bson.Raw) error {
	ev := append([]byte(nil), raw...) // the driver reuses its batch
	c, err := parseChange(ev)
	if err != nil {
		return fmt.Errorf("mongodb: after %s: %w", st.committed, err)
	}
	p := Position{Sec: c.sec, Ord: c.inc}
	p.ResumeToken = encodeToken(c.token)
	ct := p.ClusterTime()
	ns := nsKey{c.db, c.coll}
	switch c.op {
	case "insert", "update", "replace", "delete":
	case "drop", "rename", "dropDatabase":
		st.src.log.Info("collection event: capture of other collections goes on", "operation", c.op, "db", c.db, "collection", c.coll,
			"to", c.toDB+"."+c.toColl, "position", p.String())
		delete(st.tables, ns)
		st.advance(p, ct)
		return nil
	case "invalidate":
		st.src.log.Warn("change stream invalidated: reopening it after the invalidate event", "position", p.String())
		if err := st.reopenAfter(ctx, c.token); err != nil {
			return fmt.Errorf("mongodb: reopen change stream after invalidate at %s: %w", p, err)
		}
		st.advance(p, ct)
		return nil
	default:
		st.advance(p, ct)
		return nil
	}
	if !st.captured(c.db, c.coll) {
		st.advance(p, ct)
		return nil
	}
	op, _ := opOf(c.op)
	before, after, err := c.rows(op)
	if err != nil {
		return fmt.Errorf("mongodb: collection %s.%s at %s: %w", c.db, c.coll, p, err)
	}
	t := st.table(ns)
	tail := &debezium.MongoTail{Collection: c.coll, Ord: int32(c.inc), WallTime: c.wallTime}
	if c.lsid != nil {
		tail.LSID, tail.TxnNumber = c.lsid, c.txnNumber
	}
	tsMs := c.wallTime
	if tsMs == 0 {
		tsMs = int64(c.sec) * 1000
	}
	st.observe(ns, ct, before, after)
	st.out.Add(pipeline.Event{
		Op:     op,
		Table:  t,
		Before: before,
		After:  after,
		Source: pipeline.SourceBlock{Info: st.info, TsUs: tsMs * 1000, DB: c.db, Tail: tail},
		TsNs:   time.Now().UnixNano(),
	})
	st.advance(p, ct)
	return nil
}

// advance moves the resume point past an event: every event is a place a
// restart may resume after.
func (st *stream) advance(p Position, ct uint64) {
	st.committed = p
	st.pos = max(st.pos, ct)
	if st.snap != nil {
		st.snap.eng.SetStreamPos(st.pos)
	}
	st.dirty = true
}

// flush hands the batch over, ending it at the last resume point.
// Every event is a place to resume after, so the boundary is only
// recorded when a batch is handed over.
func (st *stream) flush(ctx context.Context) error {
	if st.dirty {
		st.out.Boundary(st.position())
		st.dirty = false
	}
	return st.out.Flush(ctx, false)
}

func (st *stream) captured(db, coll string) bool {
	switch db {
	case "admin", "config", "local":
		return false
	}
	return st.src.cfg.Filter == nil || st.src.cfg.Filter.Match(db, coll)
}

func (st *stream) table(ns nsKey) *pipeline.Table {
	t := st.tables[ns]
	if t == nil {
		t = debezium.MongoTable(ns.db, ns.coll, st.src.cfg.TopicPrefix+"."+ns.db+"."+ns.coll)
		st.tables[ns] = t
	}
	return t
}
