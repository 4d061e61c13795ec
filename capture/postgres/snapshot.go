package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/capture/postgres/pgtype"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// Every chunk is read in its own REPEATABLE READ, READ ONLY transaction:
// pg_current_snapshot() (the transaction's snapshot: xmin, xmax and the
// transactions in progress), the keyset SELECT with every value as text
// (decoded by the same pgtype decoders as the stream, so a snapshot row
// equals the streamed row), then pg_current_wal_insert_lsn() as the high
// watermark. A streamed change belongs after the chunk exactly when its
// transaction is not visible in that snapshot (Chunk.Newer); the chunk is
// emitted once the stream has processed everything up to the high
// watermark, which lies after the commit record of every transaction the
// snapshot sees. The insert position is used rather than
// pg_current_wal_lsn() (the write position), which can lag the commit
// records of visible asynchronously committed transactions.

// pgSnapshot is a transaction snapshot reduced to the 32-bit xids
// pgoutput carries.
type pgSnapshot struct {
	xmin, xmax uint32
	xip        map[uint32]bool
}

// parseSnapshot reads pg_current_snapshot()'s text, xmin:xmax:xip,…
// (64-bit xids with epoch; txid_current_snapshot() prints the same).
func parseSnapshot(s string) (pgSnapshot, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: want xmin:xmax:xip", s)
	}
	xmin, err1 := strconv.ParseUint(parts[0], 10, 64)
	xmax, err2 := strconv.ParseUint(parts[1], 10, 64)
	if err1 != nil || err2 != nil {
		return pgSnapshot{}, fmt.Errorf("snapshot %q: bad xmin or xmax", s)
	}
	snap := pgSnapshot{xmin: uint32(xmin), xmax: uint32(xmax), xip: map[uint32]bool{}}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			v, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return pgSnapshot{}, fmt.Errorf("snapshot %q: bad xip %q", s, x)
			}
			snap.xip[uint32(v)] = true
		}
	}
	return snap, nil
}

// precedes compares 32-bit xids modulo 2^32, as TransactionIdPrecedes.
func precedes(a, b uint32) bool { return int32(a-b) < 0 }

// invisible reports whether transaction xid's changes are missing from
// the snapshot: it had not committed when the snapshot was taken.
func (s pgSnapshot) invisible(xid uint32) bool {
	if precedes(xid, s.xmin) {
		return false
	}
	return !precedes(xid, s.xmax) || s.xip[xid]
}

// snapTable is a table as the snapshot reads it.
type snapTable struct {
	t        *snapshot.Table
	name     string
	shape    *tableShape
	selects  string
	from     string
	key      []int    // chunking key columns
	keyCasts []string // their types, for the cursor parameters
	orderBy  string
	intSplit bool // one integer key column: ranges by value
}

// snapReader reads chunks of PostgreSQL tables. It implements
// snapshot.Reader; each read takes a connection from its pool.
type snapReader struct {
	ep          Endpoint
	info        *serverInfo
	pool        chan *pgconn.PgConn
	tables      map[string]*snapTable
	snapshotSQL string
}

func newSnapReader(ctx context.Context, ep Endpoint, info *serverInfo, conns int) (*snapReader, error) {
	r := &snapReader{ep: ep, info: info, pool: make(chan *pgconn.PgConn, conns), tables: map[string]*snapTable{},
		snapshotSQL: "SELECT pg_current_snapshot()::text"}
	if info.VersionNum < 130000 {
		r.snapshotSQL = "SELECT txid_current_snapshot()::text"
	}
	for range conns {
		c, err := ep.connect(ctx, false)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.pool <- c
	}
	return r, nil
}

// Close closes the pooled connections.
func (r *snapReader) Close() {
	for {
		select {
		case c := <-r.pool:
			if c != nil {
				c.Close(context.Background())
			}
		default:
			return
		}
	}
}

// with runs f on a pooled connection; a connection that failed is
// replaced.
func (r *snapReader) with(ctx context.Context, f func(*pgconn.PgConn) error) error {
	var c *pgconn.PgConn
	select {
	case c = <-r.pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c == nil || c.IsClosed() {
		var err error
		if c, err = r.ep.connect(ctx, false); err != nil {
			r.pool <- nil
			return err
		}
	}
	err := f(c)
	if err != nil {
		c.Close(context.Background())
		c = nil
	}
	r.pool <- c
	return err
}

// plan describes the captured tables for a snapshot: those the filter
// (and only, for a signal) selects and the publication covers.
func (r *snapReader) plan(ctx context.Context, cat *catalog, filter TableFilter, publication, topicPrefix string, only func(schema, table string) bool) ([]*snapshot.Table, error) {
	pub, err := readPublication(ctx, cat.conn, publication)
	if err != nil {
		return nil, err
	}
	all, err := listTables(ctx, cat.conn)
	if err != nil {
		return nil, err
	}
	var out []*snapshot.Table
	for _, tb := range all {
		schema, name := tb[1], tb[2]
		if (filter != nil && !filter.Match(schema, name)) || (only != nil && !only(schema, name)) {
			continue
		}
		if !pub.allTables && !pub.tables[schema+"."+name] {
			continue // its changes are not streamed either
		}
		oid, _ := strconv.ParseUint(tb[0], 10, 32)
		ri, ok, err := cat.relation(ctx, uint32(oid))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		st, err := r.describe(ctx, cat, ri, topicPrefix)
		if err != nil {
			return nil, err
		}
		r.tables[st.name] = st
		out = append(out, st.t)
	}
	return out, nil
}

func (r *snapReader) describe(ctx context.Context, cat *catalog, ri *relInfo, topicPrefix string) (*snapTable, error) {
	st := &snapTable{name: ri.schema + "." + ri.name, from: quoteIdent(ri.schema) + "." + quoteIdent(ri.name)}
	cols := make([]pgtype.Column, len(ri.attrs))
	sel := make([]string, len(ri.attrs))
	for i, a := range ri.attrs {
		c, err := cat.column(ctx, a)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", st.name, err)
		}
		cols[i] = c
		sel[i] = quoteIdent(a.name)
	}
	st.selects = strings.Join(sel, ", ")
	id := pipeline.TableID{Database: r.info.Database, Schema: ri.schema, Name: ri.name}
	sh, err := buildShape(id, topicName(topicPrefix, ri.schema, ri.name), cols, ri.key)
	if err != nil {
		return nil, err
	}
	st.shape = sh
	var order []string
	for _, k := range ri.chunkKey {
		for i, a := range ri.attrs {
			if a.name == k {
				st.key = append(st.key, i)
				st.keyCasts = append(st.keyCasts, a.typeName)
				order = append(order, quoteIdent(a.name))
			}
		}
	}
	if len(st.key) != len(ri.chunkKey) {
		st.key, st.keyCasts, order = nil, nil, nil // a key over a generated column: scan
	}
	st.orderBy = strings.Join(order, ", ")
	if len(st.key) == 1 {
		switch cols[st.key[0]].Type.Name {
		case "int2", "int4", "int8":
			st.intSplit = true
		}
	}
	st.t = &snapshot.Table{Name: st.name, Schema: sh.table, Key: st.key, Estimate: ri.estimate}
	return st, nil
}

// A cursor is the text of a row's key columns, as PostgreSQL printed them:
// they go back as parameters cast to the columns' types, so the database
// compares them in its own order (collations included).
func encodeCursor(vals []string) []byte {
	b, _ := json.Marshal(vals)
	return b
}

func decodeCursor(b []byte) ([]string, error) {
	var vals []string
	if err := json.Unmarshal(b, &vals); err != nil {
		return nil, fmt.Errorf("snapshot cursor %q: %w", b, err)
	}
	return vals, nil
}

// Split divides a table whose key is one integer column into n ranges of
// equal width between its smallest and largest key.
func (r *snapReader) Split(ctx context.Context, t *snapshot.Table, n int) ([]snapshot.Range, error) {
	st := r.tables[t.Name]
	if !st.intSplit || n < 2 {
		return []snapshot.Range{{}}, nil
	}
	col := quoteIdent(st.shape.cols[st.key[0]].Name)
	var lo, hi int64
	var empty bool
	err := r.with(ctx, func(c *pgconn.PgConn) error {
		rows, err := queryRows(ctx, c, "SELECT min("+col+")::text, max("+col+")::text FROM "+st.from)
		if err != nil {
			return err
		}
		if len(rows) == 0 || rows[0][0] == nil {
			empty = true
			return nil
		}
		lo, _ = strconv.ParseInt(*rows[0][0], 10, 64)
		hi, _ = strconv.ParseInt(*rows[0][1], 10, 64)
		return nil
	})
	if err != nil || empty || hi-lo < int64(n) {
		return []snapshot.Range{{}}, err
	}
	width := (hi - lo) / int64(n)
	ranges := make([]snapshot.Range, n)
	for i := range n {
		if i > 0 {
			ranges[i].From = encodeCursor([]string{strconv.FormatInt(lo+int64(i)*width, 10)})
		}
		if i < n-1 {
			ranges[i].To = encodeCursor([]string{strconv.FormatInt(lo+int64(i+1)*width, 10)})
		}
	}
	return ranges, nil
}

// chunkQuery builds the keyset SELECT of a chunk.
func (st *snapTable) chunkQuery(rg snapshot.Range, after []byte, limit int) (string, []string, error) {
	var conds, args []string
	param := func(v, cast string) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args)) + "::" + cast
	}
	from := after
	if from == nil {
		from = rg.From
	}
	if from != nil {
		vals, err := decodeCursor(from)
		if err != nil {
			return "", nil, err
		}
		if len(vals) == len(st.key) {
			var l, rr []string
			for i, k := range st.key {
				l = append(l, quoteIdent(st.shape.cols[k].Name))
				rr = append(rr, param(vals[i], st.keyCasts[i]))
			}
			conds = append(conds, "("+strings.Join(l, ", ")+") > ("+strings.Join(rr, ", ")+")")
		} else if len(vals) == 1 {
			conds = append(conds, quoteIdent(st.shape.cols[st.key[0]].Name)+" > "+param(vals[0], st.keyCasts[0]))
		} else {
			return "", nil, fmt.Errorf("snapshot cursor %s does not fit the key of %s", from, st.name)
		}
	}
	if rg.To != nil {
		vals, err := decodeCursor(rg.To)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, quoteIdent(st.shape.cols[st.key[0]].Name)+" <= "+param(vals[0], st.keyCasts[0]))
	}
	q := "SELECT " + st.selects + " FROM " + st.from
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY " + st.orderBy + " LIMIT " + strconv.Itoa(limit+1)
	return q, args, nil
}

// ReadChunk reads up to limit rows after the cursor, in key order, in one
// consistent read.
func (r *snapReader) ReadChunk(ctx context.Context, t *snapshot.Table, rg snapshot.Range, after []byte, limit int, floor uint64) (*snapshot.Chunk, error) {
	st := r.tables[t.Name]
	q, args, err := st.chunkQuery(rg, after, limit)
	if err != nil {
		return nil, err
	}
	ch := &snapshot.Chunk{Low: floor}
	err = r.with(ctx, func(c *pgconn.PgConn) error {
		snap, high, err := r.consistent(ctx, c, func() error {
			params := make([][]byte, len(args))
			for i, a := range args {
				params[i] = []byte(a)
			}
			rr := c.ExecParams(ctx, q, params, nil, nil, nil)
			ncols := len(st.shape.cols)
			slab := make([]pipeline.Value, 0, min(limit, 1024)*ncols)
			var last []string
			for rr.NextRow() {
				if len(ch.Rows) == limit {
					ch.More = true // the extra row only says that more follow
					continue
				}
				vals := rr.Values()
				if len(slab)+ncols > cap(slab) {
					slab = make([]pipeline.Value, 0, min(limit, 1024)*ncols)
				}
				row := pipeline.Row(slab[len(slab) : len(slab)+ncols : len(slab)+ncols])
				slab = slab[:len(slab)+ncols]
				if err := st.decodeRow(vals, row); err != nil {
					_, _ = rr.Close()
					return err
				}
				ch.Rows = append(ch.Rows, row)
				last = last[:0]
				for _, k := range st.key {
					last = append(last, string(vals[k]))
				}
			}
			if _, err := rr.Close(); err != nil {
				return err
			}
			if len(ch.Rows) > 0 {
				ch.Last = encodeCursor(last)
			}
			return nil
		})
		if err != nil {
			return err
		}
		ch.High = high
		ch.Newer = func(_, tx uint64) bool { return snap.invisible(uint32(tx)) }
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Name, err)
	}
	return ch, nil
}

// consistent runs read in a REPEATABLE READ, READ ONLY transaction and
// returns the transaction's snapshot and the WAL insert position after
// the read.
func (r *snapReader) consistent(ctx context.Context, c *pgconn.PgConn, read func() error) (pgSnapshot, uint64, error) {
	if err := exec(ctx, c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
		return pgSnapshot{}, 0, err
	}
	fail := func(err error) (pgSnapshot, uint64, error) {
		_ = exec(context.WithoutCancel(ctx), c, "ROLLBACK")
		return pgSnapshot{}, 0, err
	}
	text, err := queryValue(ctx, c, r.snapshotSQL)
	if err != nil {
		return fail(err)
	}
	snap, err := parseSnapshot(text)
	if err != nil {
		return fail(err)
	}
	if err := read(); err != nil {
		return fail(err)
	}
	highText, err := queryValue(ctx, c, "SELECT pg_current_wal_insert_lsn()::text")
	if err != nil {
		return fail(err)
	}
	high, err := parseLSN(highText)
	if err != nil {
		return fail(err)
	}
	if err := exec(ctx, c, "COMMIT"); err != nil {
		return pgSnapshot{}, 0, err
	}
	return snap, high, nil
}

// decodeRow decodes one text result row into row.
func (st *snapTable) decodeRow(vals [][]byte, row pipeline.Row) error {
	if len(vals) != len(row) {
		return fmt.Errorf("table %s: %d values for %d columns", st.name, len(vals), len(row))
	}
	for i, v := range vals {
		if v == nil {
			row[i] = pipeline.Null
			continue
		}
		val, err := st.shape.decode[i](v)
		if err != nil {
			return fmt.Errorf("table %s: %w", st.name, err)
		}
		row[i] = val
	}
	return nil
}

// OpenScan starts the one-pass read of a table without a usable key.
func (r *snapReader) OpenScan(ctx context.Context, t *snapshot.Table, floor uint64) (snapshot.Scan, error) {
	st := r.tables[t.Name]
	c, err := r.ep.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	sc := &scan{c: c, st: st, low: floor}
	if err := exec(ctx, c, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	// The first statement takes the transaction's snapshot.
	if _, err := queryValue(ctx, c, r.snapshotSQL); err != nil {
		c.Close(context.Background())
		return nil, err
	}
	highText, err := queryValue(ctx, c, "SELECT pg_current_wal_insert_lsn()::text")
	if err == nil {
		sc.high, err = parseLSN(highText)
	}
	if err != nil {
		c.Close(context.Background())
		return nil, err
	}
	return sc, nil
}

type scan struct {
	c         *pgconn.PgConn
	st        *snapTable
	low, high uint64
	once      sync.Once
}

func (s *scan) Watermarks() (uint64, uint64) { return s.low, s.high }

func (s *scan) Rows(ctx context.Context, fn func(pipeline.Row) error) error {
	rr := s.c.ExecParams(ctx, "SELECT "+s.st.selects+" FROM "+s.st.from, nil, nil, nil, nil)
	var fnErr error
	for rr.NextRow() {
		row := make(pipeline.Row, len(s.st.shape.cols))
		if err := s.st.decodeRow(rr.Values(), row); err != nil {
			fnErr = err
			break
		}
		if err := fn(row); err != nil {
			fnErr = err
			break
		}
	}
	_, err := rr.Close()
	if fnErr != nil {
		return fnErr
	}
	return err
}

func (s *scan) Close() error {
	var err error
	s.once.Do(func() {
		if !s.c.IsClosed() {
			_ = exec(context.Background(), s.c, "COMMIT")
		}
		err = s.c.Close(context.Background())
	})
	return err
}
