package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
)

// Table is one table to snapshot, as its source describes it.
type Table struct {
	Name     string          // as the user names it: db.table, schema.table, db.collection
	Schema   *pipeline.Table // the table version snapshot events carry
	Key      []int           // chunking key columns in Schema.Columns; empty: keyless, read in one pass
	Estimate int64           // estimated rows, for progress
}

// Range is a key range of a table, bounds as source cursors: rows with
// From < key <= To (a nil bound is open).
type Range struct{ From, To []byte }

// Chunk is a consistent read of up to limit rows of a range.
type Chunk struct {
	Rows []pipeline.Row // in key order
	Last []byte         // cursor of the last row; nil when Rows is empty
	More bool           // the range may hold rows after Last
	// Low and High are the chunk's watermarks: the rows reflect every
	// change logged at or before Low and none logged after High. Changes
	// after Low that the stream emits before the chunk replace chunk rows;
	// the chunk is emitted once the stream has passed High. A source whose
	// reads come with their exact log position sets Low = High.
	Low, High uint64
	// Newer, when set, decides instead of Low which changes the rows do
	// not reflect: a change at pos by transaction tx that Newer reports is
	// replaced in the chunk by the stream's version. PostgreSQL uses the
	// read's snapshot (xmin, xmax, in-progress xids) for an exact answer.
	Newer func(pos, tx uint64) bool
}

// Scan is an open consistent read of a whole table, for tables without a
// usable key: its rows are emitted in one pass when the stream reaches
// High, while the stream waits.
type Scan interface {
	Watermarks() (low, high uint64)
	Rows(ctx context.Context, fn func(pipeline.Row) error) error
	Close() error
}

// Reader reads a source's tables. Its methods are called from several
// goroutines at once.
type Reader interface {
	// Split divides a table into at most n key ranges of similar size
	// (one range when the source cannot tell).
	Split(ctx context.Context, t *Table, n int) ([]Range, error)
	// ReadChunk reads up to limit rows of r after cursor after (nil: from
	// r.From) in key order, in one consistent read. floor is the stream
	// position when the read started; the chunk's Low is not below it.
	ReadChunk(ctx context.Context, t *Table, r Range, after []byte, limit int, floor uint64) (*Chunk, error)
	// OpenScan starts a consistent read of a whole table.
	OpenScan(ctx context.Context, t *Table, floor uint64) (Scan, error)
}

// TransientReader is a Reader that tells a lost connection or a source
// restarting (a read worth trying again) from an error that would recur,
// which stops the snapshot at once. A Reader without it has every failed
// read tried again.
type TransientReader interface {
	Transient(err error) bool
}

// Config tunes the engine.
type Config struct {
	ChunkRows      int // rows per chunk
	Parallelism    int // reads at once
	MaxTrackedKeys int // keys remembered for chunks in flight
	Log            *slog.Logger
}

// Defaults.
const (
	DefaultChunkRows      = 8192
	DefaultParallelism    = 2
	DefaultMaxTrackedKeys = 1_000_000
)

// Emission is a chunk's rows, ready to be emitted by the stream at the
// current point, with their snapshot markers.
type Emission struct {
	Table   *Table
	Rows    []pipeline.Row
	Markers []pipeline.SnapshotMarker
	StartUs int64 // when the table's snapshot started
	// scan is set for a keyless table: its rows are read by Emit.
	scan Scan
}

// Engine runs one snapshot. Workers read chunks concurrently; everything
// else — Observe, Register, Next, State — is called from the source's one
// stream goroutine.
type Engine struct {
	cfg    Config
	reader Reader
	kind   Kind
	state  *State // live: what has been emitted
	tables map[string]*Table
	now    func() time.Time

	mu       sync.Mutex // guards the cursors' scheduling fields, inflight and wake
	cursors  []*cursor
	inflight map[*cursor]uint64 // cursor → floor of its read
	wake     chan struct{}      // closed and replaced when a cursor may have become free

	ready     chan any // *arrival or error, from workers
	streamPos atomic.Uint64

	// stream goroutine only
	pending   []*arrival
	recent    []change
	forgotten uint64 // changes at or before it may be missing from recent
	scanning  *arrival

	started  time.Time
	rowsDone atomic.Int64
	cancel   context.CancelFunc
	workers  sync.WaitGroup
}

// cursor reads one range. Its scheduling fields are guarded by Engine.mu;
// ts and rs belong to the stream goroutine.
type cursor struct {
	table   *Table
	ts      *TableState
	rs      *RangeState
	reading bool  // a read is in flight or its chunk awaits emission
	done    bool  // the range is finished
	emitted int64 // chunks emitted
	acked   int64 // chunks the sinks have applied (checkpointed)
	started *bool // the table has emitted rows (shared by its cursors)
}

type arrival struct {
	cur   *cursor
	chunk *Chunk
	scan  Scan
	index map[string]int // key → row, built on the first eviction check
	low   uint64
	high  uint64
}

type change struct {
	pos   uint64
	tx    uint64
	table *Table
	key   string
}

// New prepares an engine for the tables. state is the checkpointed
// progress of this snapshot, or nil for a new one.
func New(cfg Config, reader Reader, kind Kind, tables []*Table, state *State) *Engine {
	if cfg.ChunkRows <= 0 {
		cfg.ChunkRows = DefaultChunkRows
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = DefaultParallelism
	}
	if cfg.MaxTrackedKeys <= 0 {
		cfg.MaxTrackedKeys = DefaultMaxTrackedKeys
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if state == nil {
		state = &State{Kind: kind}
	}
	e := &Engine{
		cfg: cfg, reader: reader, kind: kind, state: state.Clone(), tables: map[string]*Table{},
		now: time.Now, inflight: map[*cursor]uint64{}, wake: make(chan struct{}),
		ready: make(chan any, cfg.Parallelism),
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].Name < tables[j].Name })
	have := map[string]*TableState{}
	for _, ts := range e.state.Tables {
		have[ts.Table] = ts
	}
	var list []*TableState
	for _, t := range tables {
		e.tables[t.Name] = t
		ts := have[t.Name]
		if ts == nil {
			ts = &TableState{Table: t.Name, Keyless: len(t.Key) == 0}
		}
		ts.Est = t.Estimate
		list = append(list, ts)
	}
	// Tables in the state but no longer selected are dropped from it.
	e.state.Tables = list
	return e
}

// Start plans the ranges of unfinished tables and starts the workers.
func (e *Engine) Start(ctx context.Context, streamPos uint64) error {
	e.streamPos.Store(streamPos)
	e.started = e.now()
	for _, ts := range e.state.Tables {
		if ts.Done {
			continue
		}
		t := e.tables[ts.Table]
		if len(ts.Ranges) == 0 {
			ranges := []Range{{}}
			if !ts.Keyless && e.cfg.Parallelism > 1 && t.Estimate > int64(4*e.cfg.ChunkRows) {
				var err error
				if ranges, err = e.reader.Split(ctx, t, e.cfg.Parallelism); err != nil {
					return fmt.Errorf("snapshot: split %s: %w", t.Name, err)
				}
			}
			for _, r := range ranges {
				ts.Ranges = append(ts.Ranges, &RangeState{From: r.From, To: r.To})
			}
		}
		if ts.Keyless {
			e.cfg.Log.Warn("snapshot: table has no primary key and no unique NOT NULL key: it is read in one pass that cannot resume mid-table, and the stream waits while it is emitted",
				"table", t.Name, "estimated_rows", t.Estimate)
		}
		started := ts.Started
		for _, rs := range ts.Ranges {
			if !rs.Done {
				e.cursors = append(e.cursors, &cursor{table: t, ts: ts, rs: rs, emitted: rs.Chunks, acked: rs.Chunks, started: &started})
			}
		}
	}
	ctx, e.cancel = context.WithCancel(ctx)
	for range e.cfg.Parallelism {
		e.workers.Add(1)
		go e.work(ctx)
	}
	return nil
}

// Stop stops the workers and releases open scans.
func (e *Engine) Stop() {
	if e.cancel != nil {
		e.cancel()
	}
	e.workers.Wait()
	for _, a := range e.pending {
		if a.scan != nil {
			_ = a.scan.Close()
		}
	}
	if e.scanning != nil && e.scanning.scan != nil {
		_ = e.scanning.scan.Close()
	}
}

// work reads chunks for free cursors until there are none left.
func (e *Engine) work(ctx context.Context) {
	defer e.workers.Done()
	for {
		c, floor, wait := e.next()
		if c == nil {
			if wait == nil {
				return // every range is done
			}
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return
			}
		}
		a, err := e.read(ctx, c, floor)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			select {
			case e.ready <- fmt.Errorf("snapshot: table %s: %w", c.table.Name, err):
			case <-ctx.Done():
			}
			return
		}
		select {
		case e.ready <- a:
		case <-ctx.Done():
			if a.scan != nil {
				_ = a.scan.Close()
			}
			return
		}
	}
}

// chunksAhead is how many emitted chunks of a range may await the sinks
// while the range reads its next one: 1 would leave the target idle while
// each chunk is read, and the source idle while each is applied. A crash
// re-reads at most that many chunks per range (the ones not yet
// checkpointed).
const chunksAhead = 1

// next picks a cursor to read: not done, no read in flight, and at most
// chunksAhead of its emitted chunks not yet applied by the sinks, so that a
// crash re-reads at most chunksAhead+1 chunks per range (those emitted and
// not checkpointed, and the one being read). Tables already started come
// first. With nothing to pick it
// returns the channel that signals a change, or nil when all is done.
func (e *Engine) next() (*cursor, uint64, <-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	all := true
	var pick *cursor
	for _, c := range e.cursors {
		if c.done {
			continue
		}
		all = false
		if c.reading || c.emitted-c.acked > chunksAhead {
			continue
		}
		if pick == nil || (*c.started && !*pick.started) {
			pick = c
		}
	}
	if pick == nil {
		if all {
			return nil, 0, nil
		}
		return nil, 0, e.wake
	}
	pick.reading = true
	floor := e.streamPos.Load()
	e.inflight[pick] = floor
	return pick, floor, nil
}

// signal wakes every waiting worker.
func (e *Engine) signal() {
	e.mu.Lock()
	close(e.wake)
	e.wake = make(chan struct{})
	e.mu.Unlock()
}

func (e *Engine) read(ctx context.Context, c *cursor, floor uint64) (*arrival, error) {
	if c.ts.Keyless {
		scan, err := retry(ctx, time.Second, e.transient, e.warnRead(c), func() (Scan, error) { return e.reader.OpenScan(ctx, c.table, floor) })
		if err != nil {
			return nil, err
		}
		low, high := scan.Watermarks()
		return &arrival{cur: c, scan: scan, low: low, high: high}, nil
	}
	r := Range{From: c.rs.From, To: c.rs.To}
	ch, err := retry(ctx, time.Second, e.transient, e.warnRead(c), func() (*Chunk, error) {
		return e.reader.ReadChunk(ctx, c.table, r, c.rs.After, e.cfg.ChunkRows, floor)
	})
	if err != nil {
		return nil, err
	}
	a := &arrival{cur: c, chunk: ch, low: ch.Low, high: ch.High}
	return a, nil
}

// retry runs a read until it succeeds or fails other than transiently, ten
// times at most, waiting unit (1 s) and then twice as long each time up to
// 30 units (about two minutes in all): a dropped connection or a source
// restarting during a long snapshot should not fail it. warn is told of
// each failure that is tried again.
func retry[T any](ctx context.Context, unit time.Duration, transient func(error) bool,
	warn func(attempt int, wait time.Duration, err error), f func() (T, error)) (T, error) {
	r := pipeline.Reconnects{Min: unit, Max: 30 * unit, Limit: 9}
	for {
		v, err := f()
		if err == nil || ctx.Err() != nil || !transient(err) {
			return v, err
		}
		wait, attempt, ok := r.Lost(0, false)
		if !ok {
			return v, fmt.Errorf("%w (tried %d times)", err, attempt)
		}
		wait = max(wait, unit)
		warn(attempt, wait, err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}
}

// transient reports whether a failed read is worth trying again.
func (e *Engine) transient(err error) bool {
	tr, ok := e.reader.(TransientReader)
	return !ok || tr.Transient(err)
}

// warnRead logs a failed read of c's table that is tried again.
func (e *Engine) warnRead(c *cursor) func(int, time.Duration, error) {
	return func(attempt int, wait time.Duration, err error) {
		e.cfg.Log.Warn("snapshot: a read failed: trying it again", "table", c.table.Name, "attempt", attempt, "retry_in", wait, "error", err)
	}
}

// Ready delivers chunks read by the workers (or their failure); the stream
// goroutine passes each to Register.
func (e *Engine) Ready() <-chan any { return e.ready }

// SetStreamPos publishes the position up to which the stream has
// processed every event.
func (e *Engine) SetStreamPos(pos uint64) { e.streamPos.Store(pos) }

// Tracks reports whether changes to the table matter to this snapshot.
func (e *Engine) Tracks(name string) bool {
	t, ok := e.tables[name]
	if !ok {
		return false
	}
	ts := e.state.table(t.Name)
	return ts != nil && !ts.Done
}

// Observe records that the stream emitted a change at pos to a row, given
// its images (before and after; nil ones are skipped). Pending chunks drop
// that row if the change comes after their low watermark; reads in flight
// check the memory of recent changes when they arrive.
func (e *Engine) Observe(name string, pos uint64, images ...pipeline.Row) {
	e.ObserveTx(name, pos, 0, images...)
}

// ObserveTx is Observe for sources whose chunks decide by transaction
// (Chunk.Newer): tx identifies the change's transaction.
func (e *Engine) ObserveTx(name string, pos, tx uint64, images ...pipeline.Row) {
	t, ok := e.tables[name]
	if !ok || len(t.Key) == 0 {
		return
	}
	for _, img := range images {
		if img == nil {
			continue
		}
		ks := KeyString(img, t.Key)
		for _, a := range e.pending {
			if a.cur.table == t && a.chunk != nil && a.newer(pos, tx) {
				a.evict(ks)
			}
		}
		e.recent = append(e.recent, change{pos: pos, tx: tx, table: t, key: ks})
	}
	if len(e.recent) > e.cfg.MaxTrackedKeys {
		drop := len(e.recent) / 2
		e.forgotten = max(e.forgotten, e.recent[drop-1].pos)
		e.recent = append(e.recent[:0], e.recent[drop:]...)
	}
}

// newer reports whether a change is missing from the chunk's rows.
func (a *arrival) newer(pos, tx uint64) bool {
	if a.chunk.Newer != nil {
		return a.chunk.Newer(pos, tx)
	}
	return pos > a.low
}

func (a *arrival) evict(key string) {
	if a.index == nil {
		// Most chunks of a quiet table are never checked: index on demand.
		a.index = make(map[string]int, len(a.chunk.Rows))
		for i, row := range a.chunk.Rows {
			if row != nil {
				a.index[KeyString(row, a.cur.table.Key)] = i
			}
		}
	}
	if i, ok := a.index[key]; ok {
		a.chunk.Rows[i] = nil
		delete(a.index, key)
	}
}

// Register takes a chunk from Ready: it drops the rows that changes already
// emitted after its low watermark replaced, and queues it for emission. An
// error from Ready is returned.
func (e *Engine) Register(v any) error {
	if err, ok := v.(error); ok {
		return err
	}
	a := v.(*arrival)
	e.mu.Lock()
	delete(e.inflight, a.cur)
	e.mu.Unlock()
	if a.chunk != nil && e.forgotten > a.low {
		// Changes the chunk must be checked against were forgotten: read it again.
		e.mu.Lock()
		a.cur.reading = false
		e.mu.Unlock()
		e.signal()
		return nil
	}
	if a.chunk != nil {
		for _, c := range e.recent {
			if c.table == a.cur.table && a.newer(c.pos, c.tx) {
				a.evict(c.key)
			}
		}
	}
	e.pending = append(e.pending, a)
	sort.SliceStable(e.pending, func(i, j int) bool { return e.pending[i].high < e.pending[j].high })
	e.prune()
	return nil
}

// prune forgets changes no chunk in flight or pending can need.
func (e *Engine) prune() {
	e.mu.Lock()
	floor := e.streamPos.Load()
	for _, f := range e.inflight {
		floor = min(floor, f)
	}
	e.mu.Unlock()
	for _, a := range e.pending {
		floor = min(floor, a.low)
	}
	i := 0
	for i < len(e.recent) && e.recent[i].pos <= floor {
		i++
	}
	if i > 0 {
		e.recent = append(e.recent[:0], e.recent[i:]...)
	}
}

// Next returns the next chunk to emit now that the stream has processed
// everything up to pos, at a transaction boundary; nil when none is due.
// The progress it reports is part of State from this call on: the caller
// must emit the rows before the position it next checkpoints.
func (e *Engine) Next(pos uint64) *Emission {
	if len(e.pending) == 0 || e.pending[0].high > pos {
		return nil
	}
	a := e.pending[0]
	e.pending = e.pending[1:]
	c, ts := a.cur, a.cur.ts
	if !ts.Started {
		ts.StartUs = e.now().UnixMicro()
	}
	em := &Emission{Table: c.table, StartUs: ts.StartUs}
	if a.scan != nil {
		em.scan = a.scan
		e.scanning = a
		return em
	}
	ch := a.chunk
	for _, r := range ch.Rows {
		if r != nil {
			em.Rows = append(em.Rows, r)
		}
	}
	if len(ch.Rows) > 0 {
		c.rs.After = ch.Last
	}
	c.rs.Chunks++
	if !ch.More {
		c.rs.Done = true
	}
	e.finish(em, c)
	e.release(c)
	e.prune()
	return em
}

// finish updates the table's progress after a chunk or scan and sets the
// rows' snapshot markers.
func (e *Engine) finish(em *Emission, c *cursor) {
	ts := c.ts
	tableDone := true
	for _, r := range ts.Ranges {
		if !r.Done {
			tableDone = false
		}
	}
	ts.Done = tableDone
	n := len(em.Rows)
	ts.Rows += int64(n)
	e.rowsDone.Add(int64(n))
	if d := e.now().Sub(e.started).Seconds(); d > 0 {
		e.state.RowsPerSecond = float64(int64(float64(e.rowsDone.Load()) / d))
	}
	em.Markers = make([]pipeline.SnapshotMarker, n)
	if n == 0 {
		return
	}
	mark := pipeline.SnapshotTrue
	if e.kind == Incremental {
		mark = pipeline.SnapshotIncremental
	}
	for i := range em.Markers {
		em.Markers[i] = mark
	}
	if e.kind == Incremental {
		ts.Started = true
		e.state.Started = true
		return
	}
	// Resolution order of Debezium's SnapshotMarkerResolver: last > first >
	// last_in_data_collection > first_in_data_collection > true.
	if !ts.Started {
		em.Markers[0] = pipeline.SnapshotFirstInDataCollection
	}
	if tableDone {
		em.Markers[n-1] = pipeline.SnapshotLastInDataCollection
	}
	if !e.state.Started {
		em.Markers[0] = pipeline.SnapshotFirst
	}
	if tableDone && e.state.Done() {
		em.Markers[n-1] = pipeline.SnapshotLast
	}
	ts.Started = true
	e.state.Started = true
}

// ScanRows emits the rows of a keyless table's scan through fn, then
// records the table done. The stream waits meanwhile.
func (e *Engine) ScanRows(ctx context.Context, em *Emission, fn func(pipeline.Row, pipeline.SnapshotMarker) error) error {
	a := e.scanning
	e.scanning = nil
	defer a.scan.Close()
	c := a.cur
	mark := pipeline.SnapshotTrue
	if e.kind == Incremental {
		mark = pipeline.SnapshotIncremental
	}
	first := !c.ts.Started && e.kind == Initial
	var held pipeline.Row // one row is held back to mark the last one
	n := int64(0)
	err := em.scan.Rows(ctx, func(r pipeline.Row) error {
		if held != nil {
			m := mark
			if first {
				m, first = pipeline.SnapshotFirstInDataCollection, false
				if !e.state.Started {
					m = pipeline.SnapshotFirst
				}
				e.state.Started = true
			}
			if err := fn(held, m); err != nil {
				return err
			}
			n++
		}
		held = r
		return nil
	})
	if err != nil {
		return fmt.Errorf("snapshot: scan %s: %w", c.table.Name, err)
	}
	c.rs.Done = true
	c.rs.Chunks++
	c.ts.Done = true
	if held != nil {
		m := mark
		if e.kind == Initial {
			m = pipeline.SnapshotLastInDataCollection
			if first && !e.state.Started {
				m = pipeline.SnapshotFirst
			}
			if e.state.Done() {
				m = pipeline.SnapshotLast
			}
		}
		if err := fn(held, m); err != nil {
			return err
		}
		n++
	}
	c.ts.Rows += n
	c.ts.Started = true
	e.state.Started = true
	e.rowsDone.Add(n)
	e.release(c)
	return nil
}

// release records an emission in the cursor's scheduling fields.
func (e *Engine) release(c *cursor) {
	e.mu.Lock()
	c.reading = false
	c.done = c.rs.Done
	c.emitted = c.rs.Chunks
	*c.started = c.ts.Started
	e.mu.Unlock()
	e.signal()
}

// IsScan reports whether an emission is a keyless table's scan.
func (em *Emission) IsScan() bool { return em.scan != nil }

// Acked tells the engine which progress the sinks have applied: the State
// embedded in the position just checkpointed. Ranges whose chunks are all
// applied may read their next chunk.
func (e *Engine) Acked(s *State) {
	if s == nil {
		return
	}
	e.mu.Lock()
	for _, c := range e.cursors {
		ts := s.table(c.ts.Table)
		if ts == nil {
			continue
		}
		for _, rs := range ts.Ranges {
			if string(rs.From) == string(c.rs.From) && string(rs.To) == string(c.rs.To) {
				c.acked = max(c.acked, rs.Chunks)
			}
		}
	}
	e.mu.Unlock()
	e.signal()
}

// State returns a copy of the progress emitted so far.
func (e *Engine) State() *State { return e.state.Clone() }

// Done reports whether every table has been emitted in full.
func (e *Engine) Done() bool { return e.state.Done() && len(e.pending) == 0 && e.scanning == nil }

// Progress is a snapshot's progress for logs and status.
type Progress struct {
	TablesDone, Tables int
	Rows, Estimate     int64
	RowsPerSecond      float64
}

// Progress reports how far the snapshot is.
func (e *Engine) Progress() Progress {
	td, t, rows, est := e.state.Summary()
	p := Progress{TablesDone: td, Tables: t, Rows: rows, Estimate: est}
	if d := e.now().Sub(e.started).Seconds(); d > 0 {
		p.RowsPerSecond = float64(e.rowsDone.Load()) / d
	}
	return p
}

// ErrStopped is returned by sources when a snapshot stops before it ends.
var ErrStopped = errors.New("snapshot stopped")
