package verify

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// Source is a captured database read for verification (capture/mysql's
// VerifyReader): rows decoded into the pipeline values the pipeline
// delivered to its sinks.
type Source interface {
	// Connector is the source's Debezium connector name ("mysql",
	// "mariadb", "postgresql").
	Connector() string
	// ReadChunk reads up to limit rows after the cursor (nil: from the
	// start) in primary-key order; the rows stay valid until the next call.
	ReadChunk(ctx context.Context, table string, after []byte, limit int) (rows []pipeline.Row, next []byte, more bool, err error)
	// ReadKeys reads the rows whose primary key is one of keys, one
	// statement argument per key column.
	ReadKeys(ctx context.Context, table string, keys [][]any) ([]pipeline.Row, error)
	// Scan reads every row of a table (one without a primary key).
	Scan(ctx context.Context, table string, fn func(pipeline.Row) error) error
}

// Options tune a comparison.
type Options struct {
	// ChunkRows is how many source rows are compared at a time.
	ChunkRows int
	// Rechecks is how many times a difference is read again on both sides
	// before it is reported; RecheckDelay is the wait before the first
	// re-check, doubled before each next one.
	Rechecks     int
	RecheckDelay time.Duration
	// MaxCandidates bounds the differing keys a table's comparison holds;
	// more are counted as unconfirmed.
	MaxCandidates int
	// Tables is the sink's tables: map from source db.table to target name.
	Tables map[string]string
	Log    *slog.Logger
}

// Defaults.
const (
	DefaultChunkRows     = 10_000
	DefaultRechecks      = 3
	DefaultRecheckDelay  = time.Second
	DefaultMaxCandidates = 10_000
	keyBatch             = 1000 // keys per lookup statement
)

// TableResult is the comparison of one source table with its target.
type TableResult struct {
	Source          string       `json:"source"`
	Target          string       `json:"target"`
	Rows            int64        `json:"rows"`
	TargetRows      int64        `json:"target_rows"`
	Chunks          int          `json:"chunks"`
	ChunksDiffering int          `json:"chunks_differing"`
	Identical       bool         `json:"identical"`
	Differences     int          `json:"differences"`
	Missing         []string     `json:"missing,omitempty"`
	Extra           []string     `json:"extra,omitempty"`
	Different       []Difference `json:"different,omitempty"`
	// Unconfirmed counts differing keys beyond MaxCandidates: found once,
	// neither named nor re-checked.
	Unconfirmed int `json:"unconfirmed,omitempty"`
	// Resolved counts keys that differed at first and matched on a re-check.
	Resolved    int      `json:"resolved_by_recheck"`
	Keyless     bool     `json:"keyless,omitempty"`
	NotCompared []string `json:"not_compared,omitempty"`
	// Problem is a difference that is not a row's: the target table is missing.
	Problem string `json:"problem,omitempty"`
	// Error is a failure to compare (exit 1, but not a difference).
	Error   string  `json:"error,omitempty"`
	Seconds float64 `json:"seconds"`
}

// Difference is a key whose row differs.
type Difference struct {
	Key     string       `json:"key"`
	Columns []ColumnDiff `json:"columns"`
}

// ColumnDiff is one differing column; the values are set when re-checked.
type ColumnDiff struct {
	Column string `json:"column"`
	Source string `json:"source,omitempty"`
	Target string `json:"target,omitempty"`
}

type planColumn struct {
	c sqlapply.Column
	t targetColumn
}

// plan is how one table is compared.
type plan struct {
	tgt         *Target
	src         Source
	srcEngine   string
	name        string // source db.table
	target      sqlapply.Name
	cols        []planColumn // compared columns, source order
	key         []int        // positions in cols of the primary key
	selectList  string
	notCompared []string
	seed        maphash.Seed
	o           Options
}

// record is one row in canonical form.
type record struct {
	key    string
	keyRaw []string // canonical key values
	hashes []uint64 // per compared column
	sum    uint64
	vals   []string // canonical values, kept for re-checks' reports
}

type candidateKind uint8

const (
	candMissing candidateKind = iota + 1
	candExtra
	candDifferent
)

type candidate struct {
	key     []string
	kind    candidateKind
	columns []ColumnDiff
}

// CompareTable compares a source table with its target table.
func (t *Target) CompareTable(ctx context.Context, src Source, table *pipeline.Table, o Options) TableResult {
	start := time.Now()
	if o.ChunkRows <= 0 {
		o.ChunkRows = DefaultChunkRows
	}
	if o.MaxCandidates <= 0 {
		o.MaxCandidates = DefaultMaxCandidates
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	res := TableResult{Source: table.ID.String()}
	p, err := t.plan(ctx, src, table, o)
	if p != nil {
		res.Target = p.target.String()
		res.NotCompared = p.notCompared
	}
	switch {
	case errors.Is(err, errNoTargetTable):
		res.Problem = err.Error()
		res.Differences = 1
	case err != nil:
		res.Error = err.Error()
	case len(p.key) == 0:
		res.Keyless = true
		err = p.compareKeyless(ctx, &res)
	default:
		err = p.compareKeyed(ctx, &res)
	}
	if err != nil && res.Error == "" && res.Problem == "" {
		res.Error = err.Error()
	}
	res.Identical = res.Error == "" && res.Differences == 0 && res.Unconfirmed == 0
	res.Seconds = time.Since(start).Seconds()
	return res
}

var errNoTargetTable = errors.New("the target table does not exist")

func (t *Target) targetName(table *pipeline.Table, o Options) (sqlapply.Name, error) {
	if to, ok := o.Tables[table.ID.String()]; ok {
		return sqlapply.ParseName(to, t.namespace)
	}
	return sqlapply.Name{Namespace: t.namespace, Table: table.ID.Name}, nil
}

func (t *Target) plan(ctx context.Context, src Source, table *pipeline.Table, o Options) (*plan, error) {
	p := &plan{tgt: t, src: src, srcEngine: engineMySQL, name: table.ID.String(), seed: maphash.MakeSeed(), o: o}
	if src.Connector() == "postgresql" {
		p.srcEngine = enginePostgres
	}
	var err error
	if p.target, err = t.targetName(table, o); err != nil {
		return nil, fmt.Errorf("table %s: %w", p.name, err)
	}
	tcols, err := t.d.columns(ctx, p.target)
	if err != nil {
		return p, fmt.Errorf("table %s: target %s: %w", p.name, p.target, err)
	}
	if len(tcols) == 0 {
		return p, fmt.Errorf("table %s: %w: %s", p.name, errNoTargetTable, p.target)
	}
	fold := t.d.engine() == engineMySQL
	isKey := func(i int) bool {
		for _, k := range table.Key {
			if k == i {
				return true
			}
		}
		return false
	}
	var exprs []string
	for i := range table.Columns {
		name := table.Columns[i].Name
		c, err := sqlapply.Classify(table, i, src.Connector())
		var tc *targetColumn
		for j := range tcols {
			if tcols[j].name == name || fold && strings.EqualFold(tcols[j].name, name) {
				tc = &tcols[j]
				break
			}
		}
		reason := ""
		switch {
		case err != nil:
			reason = err.Error()
		case tc == nil:
			reason = "not in the target table"
		case tc.generated:
			reason = "generated by the target"
		case !canCompare(&c):
			reason = c.Kind.String() + " values are not compared"
		}
		if reason != "" {
			if isKey(i) {
				return p, fmt.Errorf("table %s: key column %s cannot be compared: %s", p.name, name, reason)
			}
			p.notCompared = append(p.notCompared, name+": "+reason)
			continue
		}
		if isKey(i) && !keyable(c.Kind) {
			return p, fmt.Errorf("table %s: key column %s: %s keys cannot be looked up by verify", p.name, name, c.Kind)
		}
		p.cols = append(p.cols, planColumn{c: c, t: *tc})
		exprs = append(exprs, tc.expr)
	}
	for _, k := range table.Key {
		for j := range p.cols {
			if p.cols[j].c.Index == k {
				p.key = append(p.key, j)
			}
		}
	}
	p.selectList = strings.Join(exprs, ", ")
	return p, nil
}

func (p *plan) hash(canon string) uint64 { return maphash.String(p.seed, canon) }

func (p *plan) finish(r *record, keep bool) {
	var buf [8]byte
	var h maphash.Hash
	h.SetSeed(p.seed)
	for _, x := range r.hashes {
		binary.LittleEndian.PutUint64(buf[:], x)
		_, _ = h.Write(buf[:])
	}
	r.sum = h.Sum64()
	r.key = joinKey(r.keyRaw)
	if !keep {
		r.vals = nil
	}
}

func joinKey(vals []string) string {
	var b strings.Builder
	for _, v := range vals {
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}

func (p *plan) sourceRecord(row pipeline.Row, keep bool) (record, error) {
	r := record{hashes: make([]uint64, len(p.cols)), vals: make([]string, len(p.cols))}
	for j := range p.cols {
		pc := &p.cols[j]
		canon, err := sourceCanon(&pc.c, row[pc.c.Index])
		if err != nil {
			return r, fmt.Errorf("table %s: column %s: %w", p.name, pc.c.Name, err)
		}
		r.hashes[j] = p.hash(canon)
		r.vals[j] = canon
	}
	for _, k := range p.key {
		r.keyRaw = append(r.keyRaw, r.vals[k])
	}
	p.finish(&r, keep)
	return r, nil
}

func (p *plan) targetRecord(vals [][]byte, keep bool) (record, error) {
	r := record{hashes: make([]uint64, len(p.cols)), vals: make([]string, len(p.cols))}
	for j := range p.cols {
		pc := &p.cols[j]
		canon, err := targetCanon(&pc.c, &pc.t, vals[j])
		if err != nil {
			return r, fmt.Errorf("table %s: target column %s: %w", p.name, pc.t.name, err)
		}
		r.hashes[j] = p.hash(canon)
		r.vals[j] = canon
	}
	for _, k := range p.key {
		r.keyRaw = append(r.keyRaw, r.vals[k])
	}
	p.finish(&r, keep)
	return r, nil
}

// placeholder is the n-th (from 1) statement parameter on the target,
// cast for key column j.
func (p *plan) placeholder(n, j int) string {
	if p.tgt.d.engine() == enginePostgres {
		return "$" + strconv.Itoa(n) + "::" + p.cols[p.key[j]].t.cast
	}
	return "?"
}

func (p *plan) keyColumns() []string {
	out := make([]string, len(p.key))
	for i, k := range p.key {
		out[i] = p.tgt.d.quoteIdent(p.cols[k].t.name)
	}
	return out
}

// targetKeyArgs are the target statement arguments of keys.
func (p *plan) targetKeyArgs(keys [][]string) ([]any, error) {
	args := make([]any, 0, len(keys)*len(p.key))
	for _, key := range keys {
		for j, k := range p.key {
			pc := &p.cols[k]
			a, err := keyParam(&pc.c, key[j], p.tgt.d.engine(), pc.t.family)
			if err != nil {
				return nil, fmt.Errorf("table %s: column %s: %w", p.name, pc.c.Name, err)
			}
			args = append(args, a)
		}
	}
	return args, nil
}

// targetByKeys reads the target rows of keys.
func (p *plan) targetByKeys(ctx context.Context, keys [][]string, keep bool, out map[string]record) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), keyBatch)]
		keys = keys[len(batch):]
		args, err := p.targetKeyArgs(batch)
		if err != nil {
			return err
		}
		cols := p.keyColumns()
		lhs := cols[0]
		if len(cols) > 1 {
			lhs = "(" + strings.Join(cols, ", ") + ")"
		}
		var in strings.Builder
		n := 0
		for i := range batch {
			if i > 0 {
				in.WriteString(", ")
			}
			if len(p.key) > 1 {
				in.WriteByte('(')
			}
			for j := range p.key {
				if j > 0 {
					in.WriteString(", ")
				}
				n++
				in.WriteString(p.placeholder(n, j))
			}
			if len(p.key) > 1 {
				in.WriteByte(')')
			}
		}
		q := "SELECT " + p.selectList + " FROM " + quoteTable(p.tgt.d, p.target) + " WHERE " + lhs + " IN (" + in.String() + ")"
		err = p.tgt.d.query(ctx, q, args, func(vals [][]byte) error {
			r, err := p.targetRecord(vals, keep)
			if err != nil {
				return err
			}
			out[r.key] = r
			return nil
		})
		if err != nil {
			return fmt.Errorf("table %s: read target %s: %w", p.name, p.target, err)
		}
	}
	return nil
}

// sourceByKeys reads the source rows of keys.
func (p *plan) sourceByKeys(ctx context.Context, keys [][]string, keep bool, out map[string]record) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), keyBatch)]
		keys = keys[len(batch):]
		args := make([][]any, len(batch))
		for i, key := range batch {
			args[i] = make([]any, len(p.key))
			for j, k := range p.key {
				pc := &p.cols[k]
				fam := famText
				if p.srcEngine == enginePostgres {
					fam = pgFamily(pc.c.Source.Native.Name)
				}
				a, err := keyParam(&pc.c, key[j], p.srcEngine, fam)
				if err != nil {
					return fmt.Errorf("table %s: column %s: %w", p.name, pc.c.Name, err)
				}
				args[i][j] = a
			}
		}
		rows, err := p.src.ReadKeys(ctx, p.name, args)
		if err != nil {
			return err
		}
		for _, row := range rows {
			r, err := p.sourceRecord(row, keep)
			if err != nil {
				return err
			}
			out[r.key] = r
		}
	}
	return nil
}

// candidates collects differing keys in the order found.
type candidates struct {
	list  []*candidate
	index map[string]*candidate
	max   int
	over  int
	// pruneAt is the list length at which pass 1 re-checks the list.
	pruneAt int
}

// add records a differing key; it returns the new candidate, nil when
// the key is known or there are too many.
func (c *candidates) add(key []string, kind candidateKind) *candidate {
	k := joinKey(key)
	if _, ok := c.index[k]; ok {
		return nil
	}
	if len(c.list) >= c.max {
		c.over++
		return nil
	}
	cand := &candidate{key: key, kind: kind}
	c.list = append(c.list, cand)
	c.index[k] = cand
	return cand
}

func (p *plan) compareKeyed(ctx context.Context, res *TableResult) error {
	cands := &candidates{index: map[string]*candidate{}, max: p.o.MaxCandidates, pruneAt: p.o.MaxCandidates / 2}
	ranged := p.integerKey()
	// Pass 1: every source row, read in primary-key order, against the
	// target rows of the same keys: of the same key range when the key is
	// one integer column (both engines order it alike), else of exactly
	// the chunk's keys.
	var lo string         // the previous chunk's last key (ranged)
	var matched keyDigest // the target keys pass 1 found (not ranged)
	tgt := map[string]record{}
	chunks, stop := p.readSource(ctx)
	defer stop()
	for chunk := range chunks {
		if chunk.err != nil {
			return chunk.err
		}
		recs, more := chunk.recs, chunk.more
		keys := make([][]string, len(recs))
		for i := range recs {
			keys[i] = recs[i].keyRaw
		}
		res.Chunks++
		res.Rows += int64(len(recs))
		differs := false
		note := func(sr, tr *record) {
			switch {
			case tr == nil:
				cands.add(sr.keyRaw, candMissing)
				differs = true
			case sr == nil:
				cands.add(tr.keyRaw, candExtra)
				differs = true
			case tr.sum != sr.sum:
				if c := cands.add(sr.keyRaw, candDifferent); c != nil {
					for j := range p.cols {
						if tr.hashes[j] != sr.hashes[j] {
							c.columns = append(c.columns, ColumnDiff{Column: p.cols[j].c.Name})
						}
					}
				}
				differs = true
			}
		}
		if ranged {
			hi := ""
			if more && len(recs) > 0 {
				hi = recs[len(recs)-1].keyRaw[0]
			}
			src := make(map[string]*record, len(recs))
			for i := range recs {
				src[recs[i].key] = &recs[i]
			}
			n, err := p.targetRange(ctx, lo, hi, func(tr *record) {
				if sr, ok := src[tr.key]; ok {
					note(sr, tr)
					delete(src, tr.key)
					return
				}
				note(nil, tr)
			})
			if err != nil {
				return err
			}
			res.TargetRows += n
			for i := range recs {
				if _, ok := src[recs[i].key]; ok {
					note(&recs[i], nil)
				}
			}
			if len(recs) > 0 {
				lo = recs[len(recs)-1].keyRaw[0]
			}
		} else {
			clear(tgt)
			if err := p.targetByKeys(ctx, keys, false, tgt); err != nil {
				return err
			}
			for i := range recs {
				if tr, ok := tgt[recs[i].key]; ok {
					matched.add(p.hash(tr.key))
					note(&recs[i], &tr)
				} else {
					note(&recs[i], nil)
				}
			}
		}
		if differs {
			res.ChunksDiffering++
		}
		p.o.Log.Debug("verify chunk", "table", p.name, "rows", len(recs), "differs", differs)
		if len(cands.list) >= cands.pruneAt {
			// Many keys differ: a pipeline far behind, or real damage.
			// Re-check them now so that the list stays bounded.
			if err := p.prune(ctx, cands, res); err != nil {
				return err
			}
		}
	}
	stop()
	if !ranged {
		// Pass 2: every target key, read in the target's key order, looked
		// up in the source: the rows the target has and the source has not.
		if err := p.extraKeys(ctx, res, cands, matched); err != nil {
			return err
		}
	}
	found := len(cands.list) + res.Resolved
	for round := 1; round <= p.o.Rechecks && len(cands.list) > 0; round++ {
		wait := p.o.RecheckDelay << (round - 1)
		p.o.Log.Info("re-checking differences", "table", p.name, "keys", len(cands.list), "round", round, "after", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		var err error
		if cands.list, err = p.recheck(ctx, cands.list); err != nil {
			return err
		}
	}
	res.Resolved = found - len(cands.list)
	res.Unconfirmed = cands.over
	for _, c := range cands.list {
		key := p.displayKey(c.key)
		switch c.kind {
		case candMissing:
			res.Missing = append(res.Missing, key)
		case candExtra:
			res.Extra = append(res.Extra, key)
		case candDifferent:
			if c.columns == nil {
				c.columns = []ColumnDiff{}
			}
			res.Different = append(res.Different, Difference{Key: key, Columns: c.columns})
		}
	}
	res.Differences = len(cands.list) + cands.over
	return nil
}

// prune re-checks the differing keys found so far once, after the first
// re-check delay, and forgets those that match now.
func (p *plan) prune(ctx context.Context, cands *candidates, res *TableResult) error {
	if p.o.Rechecks == 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(p.o.RecheckDelay):
	}
	before := len(cands.list)
	list, err := p.recheck(ctx, cands.list)
	if err != nil {
		return err
	}
	cands.list = list
	clear(cands.index)
	for _, c := range list {
		cands.index[joinKey(c.key)] = c
	}
	res.Resolved += before - len(list)
	cands.pruneAt = len(list) + cands.max/4
	p.o.Log.Info("re-checked differences during the comparison", "table", p.name, "keys", before, "still_differing", len(list))
	return nil
}

// sourceChunk is a chunk of source rows in canonical form.
type sourceChunk struct {
	recs []record
	more bool
	err  error
}

// readSource reads the source's chunks ahead, one chunk at most, so that
// the source is read while the target rows of the previous chunk are. stop
// ends the reading and waits for it.
func (p *plan) readSource(ctx context.Context) (<-chan sourceChunk, func()) {
	ctx, cancel := context.WithCancel(ctx)
	out := make(chan sourceChunk, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		var after []byte
		for {
			rows, next, more, err := p.src.ReadChunk(ctx, p.name, after, p.o.ChunkRows)
			c := sourceChunk{recs: make([]record, len(rows)), more: more && next != nil, err: err}
			for i, row := range rows {
				if c.err == nil {
					c.recs[i], c.err = p.sourceRecord(row, false)
				}
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
			if c.err != nil || !c.more {
				return
			}
			after = next
		}
	}()
	return out, func() { cancel(); <-done }
}

// integerKey reports whether the key is one integer column on both
// sides: then both engines order it alike and chunks are key ranges.
func (p *plan) integerKey() bool {
	if len(p.key) != 1 {
		return false
	}
	pc := &p.cols[p.key[0]]
	switch pc.c.Kind {
	case sqlapply.KindInt8, sqlapply.KindInt16, sqlapply.KindInt32, sqlapply.KindInt64, sqlapply.KindUint64:
		return pc.t.family == famNumber
	}
	return false
}

// targetRange reads the target rows whose integer key is above lo and at
// most hi ("" for no bound), a page of ChunkRows at a time, and returns
// how many it read.
func (p *plan) targetRange(ctx context.Context, lo, hi string, fn func(*record)) (int64, error) {
	pc := &p.cols[p.key[0]]
	col := p.tgt.d.quoteIdent(pc.t.name)
	var n int64
	for {
		var conds []string
		var args []any
		for _, b := range []struct {
			v  string
			op string
		}{{lo, " > "}, {hi, " <= "}} {
			if b.v == "" {
				continue
			}
			a, err := keyParam(&pc.c, b.v, p.tgt.d.engine(), pc.t.family)
			if err != nil {
				return n, fmt.Errorf("table %s: column %s: %w", p.name, pc.c.Name, err)
			}
			args = append(args, a)
			ph := "?"
			if p.tgt.d.engine() == enginePostgres {
				ph = "$" + strconv.Itoa(len(args)) + "::" + pc.t.cast
			}
			conds = append(conds, col+b.op+ph)
		}
		q := "SELECT " + p.selectList + " FROM " + quoteTable(p.tgt.d, p.target)
		if len(conds) > 0 {
			q += " WHERE " + strings.Join(conds, " AND ")
		}
		q += " ORDER BY " + col + " LIMIT " + strconv.Itoa(p.o.ChunkRows+1)
		var page int
		var last string
		err := p.tgt.d.query(ctx, q, args, func(vals [][]byte) error {
			r, err := p.targetRecord(vals, false)
			if err != nil {
				return err
			}
			page++
			if page > p.o.ChunkRows {
				return nil // only says that more follow
			}
			last = r.keyRaw[0]
			fn(&r)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("table %s: read target %s: %w", p.name, p.target, err)
		}
		n += int64(min(page, p.o.ChunkRows))
		if page <= p.o.ChunkRows {
			return n, nil
		}
		lo = last
	}
}

// keyDigest is an order-independent digest of a set of keys: their count
// and two sums of their hashes.
type keyDigest struct {
	n        int64
	sum, xor uint64
}

func (d *keyDigest) add(h uint64) { d.n, d.sum, d.xor = d.n+1, d.sum+h, d.xor^bitsMix(h) }

// extraKeys finds the target keys the source lacks. It first reads the
// target's keys alone: when they are exactly the keys pass 1 found in the
// target (matched), there are none, and the source is not asked.
func (p *plan) extraKeys(ctx context.Context, res *TableResult, cands *candidates, matched keyDigest) error {
	var all keyDigest
	n, err := p.scanTargetKeys(ctx, func(keys [][]string) error {
		for _, k := range keys {
			all.add(p.hash(joinKey(k)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	res.TargetRows = n
	if all == matched {
		return nil
	}
	p.o.Log.Debug("the target has keys pass 1 did not see: looking them up in the source", "table", p.name)
	src := map[string]record{}
	_, err = p.scanTargetKeys(ctx, func(keys [][]string) error {
		clear(src)
		if err := p.sourceByKeys(ctx, keys, false, src); err != nil {
			return err
		}
		for _, k := range keys {
			if _, ok := src[joinKey(k)]; !ok {
				cands.add(k, candExtra)
			}
		}
		return nil
	})
	return err
}

// scanTargetKeys reads every target key in the target's key order, a
// chunk at a time, and returns how many it read.
func (p *plan) scanTargetKeys(ctx context.Context, fn func(keys [][]string) error) (int64, error) {
	cols := p.keyColumns()
	exprs := make([]string, len(p.key))
	for i, k := range p.key {
		exprs[i] = p.cols[k].t.expr
	}
	base := "SELECT " + strings.Join(exprs, ", ") + " FROM " + quoteTable(p.tgt.d, p.target)
	order := " ORDER BY " + strings.Join(cols, ", ") + " LIMIT " + strconv.Itoa(p.o.ChunkRows)
	var last []string
	var n int64
	for {
		q := base
		var args []any
		if last != nil {
			var err error
			if args, err = p.targetKeyArgs([][]string{last}); err != nil {
				return n, err
			}
			q += " WHERE " + p.keyAfter(cols)
			if p.tgt.d.engine() == engineMySQL {
				args = mysqlAfterArgs(args)
			}
		}
		var keys [][]string
		err := p.tgt.d.query(ctx, q+order, args, func(vals [][]byte) error {
			key := make([]string, len(p.key))
			for j, k := range p.key {
				c, err := targetCanon(&p.cols[k].c, &p.cols[k].t, vals[j])
				if err != nil {
					return err
				}
				key[j] = c
			}
			keys = append(keys, key)
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("table %s: read target keys of %s: %w", p.name, p.target, err)
		}
		n += int64(len(keys))
		if err := fn(keys); err != nil {
			return n, err
		}
		if len(keys) < p.o.ChunkRows {
			return n, nil
		}
		last = keys[len(keys)-1]
	}
}

// keyAfter is "key > cursor": a row comparison on PostgreSQL, its OR
// expansion on MySQL (which every version serves from the index).
func (p *plan) keyAfter(cols []string) string {
	if p.tgt.d.engine() == enginePostgres {
		ph := make([]string, len(cols))
		for j := range cols {
			ph[j] = p.placeholder(j+1, j)
		}
		return "(" + strings.Join(cols, ", ") + ") > (" + strings.Join(ph, ", ") + ")"
	}
	var ors []string
	for i := range cols {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, cols[j]+" = ?")
		}
		ands = append(ands, cols[i]+" > ?")
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")"
}

// mysqlAfterArgs repeats the cursor values as keyAfter's OR expansion
// uses them: k1; k1, k2; k1, k2, k3…
func mysqlAfterArgs(cursor []any) []any {
	var out []any
	for i := range cursor {
		out = append(out, cursor[:i+1]...)
	}
	return out
}

// recheck reads the candidates' rows again on both sides and keeps those
// that still differ, with their differing columns.
func (p *plan) recheck(ctx context.Context, list []*candidate) ([]*candidate, error) {
	keys := make([][]string, len(list))
	for i, c := range list {
		keys[i] = c.key
	}
	src, tgt := map[string]record{}, map[string]record{}
	if err := p.sourceByKeys(ctx, keys, true, src); err != nil {
		return nil, err
	}
	if err := p.targetByKeys(ctx, keys, true, tgt); err != nil {
		return nil, err
	}
	var out []*candidate
	for _, c := range list {
		k := joinKey(c.key)
		s, inSrc := src[k]
		t, inTgt := tgt[k]
		switch {
		case !inSrc && !inTgt:
			continue
		case !inTgt:
			c.kind, c.columns = candMissing, nil
		case !inSrc:
			c.kind, c.columns = candExtra, nil
		case s.sum == t.sum:
			continue
		default:
			c.kind, c.columns = candDifferent, nil
			for j := range p.cols {
				if s.hashes[j] != t.hashes[j] {
					c.columns = append(c.columns, ColumnDiff{
						Column: p.cols[j].c.Name,
						Source: displayValue(&p.cols[j].c, s.vals[j]),
						Target: displayValue(&p.cols[j].c, t.vals[j]),
					})
				}
			}
		}
		out = append(out, c)
	}
	return out, nil
}

func (p *plan) displayKey(key []string) string {
	parts := make([]string, len(key))
	for j, k := range p.key {
		parts[j] = p.cols[k].c.Name + "=" + displayValue(&p.cols[k].c, key[j])
	}
	return strings.Join(parts, ", ")
}

// compareKeyless compares a table without a primary key as a multiset:
// row count and two order-independent sums of row hashes. Its differences
// cannot be named.
func (p *plan) compareKeyless(ctx context.Context, res *TableResult) error {
	type digest struct {
		n        int64
		sum, xor uint64
	}
	read := func() (digest, digest, error) {
		var s, t digest
		err := p.src.Scan(ctx, p.name, func(row pipeline.Row) error {
			r, err := p.sourceRecord(row, false)
			if err != nil {
				return err
			}
			s.n, s.sum, s.xor = s.n+1, s.sum+r.sum, s.xor^bitsMix(r.sum)
			return nil
		})
		if err != nil {
			return s, t, err
		}
		err = p.tgt.d.query(ctx, "SELECT "+p.selectList+" FROM "+quoteTable(p.tgt.d, p.target), nil, func(vals [][]byte) error {
			r, err := p.targetRecord(vals, false)
			if err != nil {
				return err
			}
			t.n, t.sum, t.xor = t.n+1, t.sum+r.sum, t.xor^bitsMix(r.sum)
			return nil
		})
		if err != nil {
			err = fmt.Errorf("table %s: read target %s: %w", p.name, p.target, err)
		}
		return s, t, err
	}
	s, t, err := read()
	for round := 1; err == nil && s != t && round <= p.o.Rechecks; round++ {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(p.o.RecheckDelay << (round - 1)):
		}
		s, t, err = read()
	}
	if err != nil {
		return err
	}
	res.Chunks, res.Rows, res.TargetRows = 1, s.n, t.n
	if s != t {
		res.ChunksDiffering, res.Differences = 1, 1
		res.Problem = fmt.Sprintf("the table has no primary key: its rows differ (%d in the source, %d in the target) but cannot be named", s.n, t.n)
	}
	return nil
}

// bitsMix spreads a hash for the second, XOR-based sum.
func bitsMix(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}
