package mysql

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/siphoncdc/siphon/capture/mysql/coltype"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// watermark packs a binlog coordinate into the engine's ordered uint64:
// file number in the high 32 bits, offset in the low.
func watermark(file string, pos uint32) uint64 { return fileSeq(file)<<32 | uint64(pos) }

// sqlDecodeFunc turns a column value as the client returns it into a Value.
type sqlDecodeFunc = func(gomysql.FieldValue, *coltype.Arena) (pipeline.Value, error)

// snapTable is a table as the snapshot reads it.
type snapTable struct {
	t        *snapshot.Table
	db, name string
	cols     []coltype.Column
	decode   []sqlDecodeFunc
	key      []int  // chunking key columns
	selects  string // the column list
	from     string // `db`.`table`
	orderBy  string
	intSplit bool // the chunking key is one integer column: ranges by value
	// Chunk reads select DATE, DATETIME and TIMESTAMP columns as
	// themselves and decode their binary-protocol bytes (see
	// rawTemporals); other reads select them as text.
	chunkSelects string
	chunkDecode  []sqlDecodeFunc
	rawTemporal  []int // their positions
}

// snapReader reads chunks of MySQL/MariaDB tables. It implements
// snapshot.Reader; each read takes a connection from its pool.
type snapReader struct {
	ep     Endpoint
	info   *serverInfo
	pool   chan *readConn
	tables map[string]*snapTable
}

type readConn struct {
	c     *client.Conn
	stmts map[string]*client.Stmt
}

func newSnapReader(ctx context.Context, ep Endpoint, info *serverInfo, conns int) (*snapReader, error) {
	r := &snapReader{ep: ep, info: info, pool: make(chan *readConn, conns), tables: map[string]*snapTable{}}
	// At once: each dial is a few round trips, and the snapshot's start
	// waits for them.
	dialed := make([]*client.Conn, conns)
	errs := make([]error, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { dialed[i], errs[i] = dial(ctx, ep) })
	}
	wg.Wait()
	for _, c := range dialed {
		if c != nil {
			r.pool <- &readConn{c: c, stmts: map[string]*client.Stmt{}}
		}
	}
	for _, err := range errs {
		if err != nil {
			r.Close()
			return nil, err
		}
	}
	return r, nil
}

func (r *snapReader) Close() {
	for {
		select {
		case rc := <-r.pool:
			rc.close()
		default:
			return
		}
	}
}

func (rc *readConn) close() {
	for _, s := range rc.stmts {
		_ = s.Close()
	}
	_ = rc.c.Close()
}

// with runs f on a pooled connection; a connection that failed is
// replaced rather than returned to the pool.
func (r *snapReader) with(ctx context.Context, f func(*readConn) error) error {
	var rc *readConn
	select {
	case rc = <-r.pool:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := f(rc)
	if err != nil {
		rc.close()
		c, derr := dial(context.WithoutCancel(ctx), r.ep)
		if derr != nil {
			// Keep the pool's size: the next use dials again.
			r.pool <- &readConn{c: nil, stmts: map[string]*client.Stmt{}}
			return err
		}
		rc = &readConn{c: c, stmts: map[string]*client.Stmt{}}
	}
	r.pool <- rc
	return err
}

func (rc *readConn) ensure(ctx context.Context, ep Endpoint) error {
	if rc.c != nil {
		return nil
	}
	c, err := dial(ctx, ep)
	if err != nil {
		return err
	}
	rc.c = c
	return nil
}

func (rc *readConn) stmt(q string) (*client.Stmt, error) {
	if s, ok := rc.stmts[q]; ok {
		return s, nil
	}
	s, err := rc.c.Prepare(q)
	if err != nil {
		return nil, err
	}
	rc.stmts[q] = s
	return s, nil
}

// plan describes the captured tables for a snapshot: schema from
// information_schema, chunking key (primary key, else a unique key whose
// columns are all NOT NULL, else none), estimated rows.
func (r *snapReader) plan(c *client.Conn, filter TableFilter, topicPrefix string, only func(db, table string) bool) ([]*snapshot.Table, error) {
	all, err := listTables(c)
	if err != nil {
		return nil, err
	}
	var out []*snapshot.Table
	for db, names := range all {
		var picked []string
		for _, n := range names {
			if (filter == nil || filter.Match(db, n)) && (only == nil || only(db, n)) {
				picked = append(picked, n)
			}
		}
		if len(picked) == 0 {
			continue
		}
		defs, err := readTableDefs(c, r.info, db, picked)
		if err != nil {
			return nil, err
		}
		uniques, err := uniqueKeys(c, db, defs)
		if err != nil {
			return nil, err
		}
		estimates, err := rowEstimates(c, db)
		if err != nil {
			return nil, err
		}
		for _, d := range defs {
			if d.Dropped {
				continue
			}
			st, err := r.describe(d, uniques[d.Table], topicPrefix)
			if err != nil {
				return nil, err
			}
			st.t.Estimate = estimates[d.Table]
			r.tables[st.t.Name] = st
			out = append(out, st.t)
		}
	}
	return out, nil
}

func (r *snapReader) describe(d tableDef, unique []string, topicPrefix string) (*snapTable, error) {
	st := &snapTable{db: d.Database, name: d.Table, from: quoteIdent(d.Database) + "." + quoteIdent(d.Table)}
	where := "table " + d.Database + "." + d.Table
	cols := make([]pipeline.Column, len(d.Columns))
	var sel, chunkSels []string
	for i, ic := range d.Columns {
		c, err := coltype.FromInformationSchema(ic, string(r.info.Flavor))
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", where, ic.Name, err)
		}
		schema, err := c.Schema()
		if err != nil {
			return nil, fmt.Errorf("%s: column %s: %w", where, c.Name, err)
		}
		dec, chunkDec, err := sqlDecoders(c)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		cols[i] = pipeline.Column{Name: c.Name, Schema: schema, Native: c.Native()}
		st.cols = append(st.cols, c)
		st.decode = append(st.decode, dec)
		st.chunkDecode = append(st.chunkDecode, chunkDec)
		if c.IsBinaryTemporal() {
			st.rawTemporal = append(st.rawTemporal, i)
		}
		text, chunk := selectExprs(c)
		sel, chunkSels = append(sel, text), append(chunkSels, chunk)
	}
	st.selects = strings.Join(sel, ", ")
	st.chunkSelects = strings.Join(chunkSels, ", ")
	index := func(names []string) []int {
		var out []int
		for _, n := range names {
			for i, c := range st.cols {
				if c.Name == n {
					out = append(out, i)
				}
			}
		}
		return out
	}
	pk := index(d.PrimaryKey)
	st.key = pk
	if len(st.key) == 0 {
		st.key = index(unique)
	}
	var order []string
	for _, k := range st.key {
		order = append(order, quoteIdent(st.cols[k].Name))
	}
	st.orderBy = strings.Join(order, ", ")
	if len(st.key) == 1 {
		switch st.cols[st.key[0]].Type {
		case coltype.TypeTiny, coltype.TypeShort, coltype.TypeInt24, coltype.TypeLong, coltype.TypeLongLong:
			st.intSplit = true
		}
	}
	name := d.Database + "." + d.Table
	st.t = &snapshot.Table{
		Name:   name,
		Schema: pipeline.NewTable(pipeline.TableID{Database: d.Database, Name: d.Table}, topicName(topicPrefix, d.Database, d.Table), cols, pk),
		Key:    st.key,
	}
	return st, nil
}

// uniqueKeys finds, per table, the first unique index (by name) whose
// columns are all NOT NULL. Nullability comes from the column definitions:
// joining information_schema.COLUMNS here would make the server open every
// table of every database (tens of milliseconds at each start).
// sqlDecoders are a column's decoders for reads of st.selects and of
// st.chunkSelects.
func sqlDecoders(c coltype.Column) (text, chunk sqlDecodeFunc, err error) {
	if text, err = c.SQLDecoder(); err != nil || !c.IsBinaryTemporal() {
		return text, text, err
	}
	chunk, err = c.SQLBinaryTemporalDecoder()
	return text, chunk, err
}

// selectExprs is how a column is selected: text for st.selects, chunk for
// st.chunkSelects.
func selectExprs(c coltype.Column) (text, chunk string) {
	col := quoteIdent(c.Name)
	switch c.Type {
	case coltype.TypeDate, coltype.TypeDateTime, coltype.TypeTimestamp, coltype.TypeTime:
		// As text: go-mysql formats binary-protocol temporals with fmt,
		// several times slower than parsing the server's text. Chunk reads
		// take DATE, DATETIME and TIMESTAMP as binary bytes instead.
		text = "CAST(" + col + " AS CHAR)"
	case coltype.TypeFloat:
		// The text protocol prints a FLOAT with six digits; as a DOUBLE it
		// keeps every bit of the float32.
		text = "CAST(" + col + " AS DOUBLE)"
	default:
		text = col
	}
	if c.IsBinaryTemporal() {
		return text, col
	}
	return text, text
}

func uniqueKeys(c *client.Conn, db string, defs []tableDef) (map[string][]string, error) {
	nullable := map[string]map[string]bool{} // table → column → nullable
	var quoted []string
	for _, d := range defs {
		if d.Dropped {
			continue
		}
		cols := map[string]bool{}
		for _, ic := range d.Columns {
			cols[ic.Name] = ic.IsNullable
		}
		nullable[d.Table] = cols
		quoted = append(quoted, sqlString(d.Table))
	}
	if len(quoted) == 0 {
		return nil, nil
	}
	r, err := c.Execute(`SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
		WHERE TABLE_SCHEMA = ` + sqlString(db) + ` AND TABLE_NAME IN (` + strings.Join(quoted, ",") + `)
		  AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY'
		ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`)
	if err != nil {
		return nil, fmt.Errorf("read unique keys of %s: %w", db, err)
	}
	type idx struct {
		cols   []string
		usable bool
	}
	found := map[string]map[string]*idx{}
	var order []string
	for i := range r.RowNumber() {
		t, name := str(r, i, 0), str(r, i, 1)
		if found[t] == nil {
			found[t] = map[string]*idx{}
		}
		x := found[t][name]
		if x == nil {
			x = &idx{usable: true}
			found[t][name] = x
			order = append(order, t+"\x00"+name)
		}
		col := str(r, i, 2)
		// An expression key part has no column name.
		isNullable, known := nullable[t][col]
		x.cols = append(x.cols, col)
		x.usable = x.usable && known && !isNullable
	}
	out := map[string][]string{}
	for _, tn := range order {
		t, name, _ := strings.Cut(tn, "\x00")
		if x := found[t][name]; x.usable && out[t] == nil {
			out[t] = x.cols
		}
	}
	return out, nil
}

func rowEstimates(c *client.Conn, db string) (map[string]int64, error) {
	r, err := c.Execute(`SELECT TABLE_NAME, COALESCE(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ` + sqlString(db))
	if err != nil {
		return nil, fmt.Errorf("read row estimates of %s: %w", db, err)
	}
	out := map[string]int64{}
	for i := range r.RowNumber() {
		n, _ := r.GetInt(i, 1)
		out[str(r, i, 0)] = n
	}
	return out, nil
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// Split divides a table whose key is one integer column into n ranges of
// equal width between its smallest and largest key; other tables are one
// range.
func (r *snapReader) Split(ctx context.Context, t *snapshot.Table, n int) ([]snapshot.Range, error) {
	st := r.tables[t.Name]
	if !st.intSplit || n < 2 {
		return []snapshot.Range{{}}, nil
	}
	col := quoteIdent(st.cols[st.key[0]].Name)
	var lo, hi int64
	var empty bool
	err := r.with(ctx, func(rc *readConn) error {
		if err := rc.ensure(ctx, r.ep); err != nil {
			return err
		}
		res, err := rc.c.Execute("SELECT MIN(" + col + "), MAX(" + col + ") FROM " + st.from)
		if err != nil {
			return err
		}
		if v, _ := res.GetValue(0, 0); v == nil {
			empty = true
			return nil
		}
		lo, _ = res.GetInt(0, 0)
		hi, _ = res.GetInt(0, 1)
		return nil
	})
	if err != nil || empty || hi-lo < int64(n) {
		return []snapshot.Range{{}}, err
	}
	width := (hi - lo) / int64(n)
	ranges := make([]snapshot.Range, n)
	for i := range n {
		if i > 0 {
			ranges[i].From = encodeCursor([]gomysql.FieldValue{signedValue(lo + int64(i)*width)})
		}
		if i < n-1 {
			ranges[i].To = encodeCursor([]gomysql.FieldValue{signedValue(lo + int64(i+1)*width)})
		}
	}
	return ranges, nil
}

func signedValue(v int64) gomysql.FieldValue {
	return gomysql.NewFieldValue(gomysql.FieldValueTypeSigned, uint64(v), nil)
}

// ReadChunk reads up to limit rows after the cursor, in key order, in one
// consistent read.
func (r *snapReader) ReadChunk(ctx context.Context, t *snapshot.Table, rg snapshot.Range, after []byte, limit int, floor uint64) (*snapshot.Chunk, error) {
	st := r.tables[t.Name]
	var conds []string
	var args []any
	from := after
	if from == nil {
		from = rg.From
	}
	if from != nil {
		cond, a, err := st.keyAfter(from)
		if err != nil {
			return nil, err
		}
		conds, args = append(conds, cond), append(args, a...)
	}
	if rg.To != nil {
		vals, err := decodeCursor(rg.To)
		if err != nil {
			return nil, err
		}
		conds = append(conds, quoteIdent(st.cols[st.key[0]].Name)+" <= ?")
		args = append(args, vals[0])
	}
	q := "SELECT " + st.chunkSelects + " FROM " + st.from
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	q += " ORDER BY " + st.orderBy + " LIMIT " + strconv.Itoa(limit+1)

	ch := &snapshot.Chunk{}
	err := r.with(ctx, func(rc *readConn) error {
		if err := rc.ensure(ctx, r.ep); err != nil {
			return err
		}
		ncols := len(st.cols)
		var slab []pipeline.Value
		ch.Rows = make([]pipeline.Row, 0, min(limit, 1024))
		var last []gomysql.FieldValue
		var keyBuf []byte
		var arena coltype.Arena // the chunk's text and bytes
		low, high, err := r.consistentRead(rc, q, args, floor, st.rawTemporals, func(vals []gomysql.FieldValue) error {
			if len(ch.Rows) == limit {
				ch.More = true // the extra row only says that more follow
				return nil
			}
			if len(slab) < ncols {
				slab = make([]pipeline.Value, slabRows(ncols, limit-len(ch.Rows))*ncols)
			}
			row, err := st.decodeRow(st.chunkDecode, vals, slab[:ncols:ncols], &arena)
			if err != nil {
				return err
			}
			slab = slab[ncols:]
			ch.Rows = append(ch.Rows, row)
			// The row buffer is reused: keep a copy of the key values.
			last, keyBuf = copyKey(last[:0], keyBuf[:0], vals, st.key)
			return nil
		})
		if err != nil {
			return err
		}
		ch.Low, ch.High = low, high
		if len(ch.Rows) > 0 {
			if ch.Last, err = st.cursor(last); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", t.Name, redact(err, r.ep.Password))
	}
	return ch, nil
}

// cursor encodes the key values of a chunk's last row. A DATE, DATETIME
// or TIMESTAMP key value, read as binary-protocol bytes, goes into the
// cursor as the server's text of it, as other reads select it: the server
// reads the text back as the same value, and cursors stay as they were
// stored by earlier versions.
func (st *snapTable) cursor(key []gomysql.FieldValue) ([]byte, error) {
	for j, k := range st.key {
		c := st.cols[k]
		if !c.IsBinaryTemporal() || key[j].Type != gomysql.FieldValueTypeString {
			continue
		}
		text, err := c.AppendBinaryTemporalText(nil, key[j].AsString())
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", st.t.Name, err)
		}
		key[j] = gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, text)
	}
	return encodeCursor(key), nil
}

// slabBytes is about how much of a chunk's values is allocated at once.
// The allocation zeroes its memory, which brings it into the cache just
// before the rows are decoded into it; one allocation for a whole chunk
// (megabytes) would be out of the cache again by then, and decoding would
// wait on memory for every row.
const slabBytes = 16 << 10

// slabRows is how many rows of ncols values the next slab holds, at most
// left.
func slabRows(ncols, left int) int {
	return max(1, min(left, slabBytes/(ncols*int(unsafe.Sizeof(pipeline.Value{})))))
}

// copyKey copies the key columns of a row, bytes included, into dst/buf.
func copyKey(dst []gomysql.FieldValue, buf []byte, vals []gomysql.FieldValue, key []int) ([]gomysql.FieldValue, []byte) {
	for _, k := range key {
		fv := vals[k]
		if fv.Type == gomysql.FieldValueTypeString {
			start := len(buf)
			buf = append(buf, fv.AsString()...)
			fv = gomysql.NewFieldValue(gomysql.FieldValueTypeString, 0, buf[start:len(buf):len(buf)])
		}
		dst = append(dst, fv)
	}
	return dst, buf
}

// consistentRead runs the chunk query and returns its watermarks. On
// MariaDB the read runs in a consistent-snapshot transaction whose exact
// binlog position MariaDB reports (binlog_snapshot_file/position): low =
// high = that position. On MySQL, which reports no such position, low is
// the stream position when the read started and high the binlog end after
// it.
func (r *snapReader) consistentRead(rc *readConn, q string, args []any, floor uint64, fields func(*gomysql.Result) error, row func([]gomysql.FieldValue) error) (uint64, uint64, error) {
	s, err := rc.stmt(q)
	if err != nil {
		return 0, 0, err
	}
	var res gomysql.Result
	if r.info.Flavor == FlavorMariaDB {
		if _, err := rc.c.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); err != nil {
			return 0, 0, err
		}
		defer func() { _, _ = rc.c.Execute("COMMIT") }()
		wm, err := snapshotPosition(rc.c)
		if err != nil {
			return 0, 0, err
		}
		if err := s.ExecuteSelectStreaming(&res, row, fields, args...); err != nil {
			return 0, 0, err
		}
		return wm, wm, nil
	}
	if err := s.ExecuteSelectStreaming(&res, row, fields, args...); err != nil {
		return 0, 0, err
	}
	end, _, err := masterStatus(rc.c)
	if err != nil {
		return 0, 0, err
	}
	return floor, watermark(end.File, end.Pos), nil
}

// snapshotPosition is MariaDB's binlog position of the transaction's
// consistent snapshot.
func snapshotPosition(c *client.Conn) (uint64, error) {
	res, err := c.Execute("SHOW STATUS LIKE 'binlog_snapshot_%'")
	if err != nil {
		return 0, err
	}
	var file string
	var pos uint64
	for i := range res.RowNumber() {
		switch str(res, i, 0) {
		case "Binlog_snapshot_file":
			file = str(res, i, 1)
		case "Binlog_snapshot_position":
			pos, _ = strconv.ParseUint(str(res, i, 1), 10, 32)
		}
	}
	if file == "" {
		return 0, errors.New("the server reports no binlog_snapshot_file: is the binary log enabled?")
	}
	return watermark(file, uint32(pos)), nil
}

// keyAfter is the condition "key > cursor" for a possibly composite key:
// (k1 > ?) OR (k1 = ? AND k2 > ?) OR …, which every MySQL version can
// serve from the key's index.
func (st *snapTable) keyAfter(cursor []byte) (string, []any, error) {
	vals, err := decodeCursor(cursor)
	if err != nil {
		return "", nil, err
	}
	if len(vals) != len(st.key) {
		// A range bound on the first key column only.
		return quoteIdent(st.cols[st.key[0]].Name) + " > ?", vals[:1], nil
	}
	var ors []string
	var args []any
	for i := range st.key {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, quoteIdent(st.cols[st.key[j]].Name)+" = ?")
			args = append(args, vals[j])
		}
		ands = append(ands, quoteIdent(st.cols[st.key[i]].Name)+" > ?")
		args = append(args, vals[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, nil
}

// row decodes one result row of st.selects into row (len(st.cols)
// values); what the values own is copied into arena.
func (st *snapTable) row(vals []gomysql.FieldValue, row pipeline.Row, arena *coltype.Arena) (pipeline.Row, error) {
	return st.decodeRow(st.decode, vals, row, arena)
}

func (st *snapTable) decodeRow(decode []sqlDecodeFunc, vals []gomysql.FieldValue, row pipeline.Row, arena *coltype.Arena) (pipeline.Row, error) {
	for i, fv := range vals {
		var err error
		if row[i], err = decode[i](fv, arena); err != nil {
			return nil, fmt.Errorf("table %s: %w", st.t.Name, err)
		}
	}
	return row, nil
}

// rawTemporals makes go-mysql hand over the binary-protocol bytes of the
// chunk's DATE, DATETIME and TIMESTAMP columns instead of formatting them
// with fmt: declared as strings, their values (a length byte, then at most
// 11 bytes) read as length-encoded strings of those bytes, which
// coltype.SQLBinaryTemporalDecoder decodes. It runs once the result's
// column definitions are read, before its rows.
func (st *snapTable) rawTemporals(res *gomysql.Result) error {
	if len(res.Fields) != len(st.cols) {
		return fmt.Errorf("table %s: the server returned %d columns for %d", st.t.Name, len(res.Fields), len(st.cols))
	}
	for _, i := range st.rawTemporal {
		f := res.Fields[i]
		switch f.Type {
		case gomysql.MYSQL_TYPE_DATE, gomysql.MYSQL_TYPE_NEWDATE, gomysql.MYSQL_TYPE_DATETIME, gomysql.MYSQL_TYPE_TIMESTAMP:
			f.Type = gomysql.MYSQL_TYPE_VAR_STRING
		default:
			return fmt.Errorf("table %s: column %s: the server returned type %d, not a date or time", st.t.Name, st.cols[i].Name, f.Type)
		}
	}
	return nil
}

// A cursor is the key values of a row as the server returned them,
// serialised so that they go back as statement arguments unchanged.
type cursorValue struct {
	I *int64   `json:"i,omitempty"`
	U *uint64  `json:"u,omitempty"`
	F *float64 `json:"f,omitempty"`
	B *string  `json:"b,omitempty"` // base64 bytes
	S *string  `json:"s,omitempty"` // text
}

func encodeCursor(vals []gomysql.FieldValue) []byte {
	out := make([]cursorValue, len(vals))
	for i, v := range vals {
		switch v.Type {
		case gomysql.FieldValueTypeSigned:
			n := v.AsInt64()
			out[i].I = &n
		case gomysql.FieldValueTypeUnsigned:
			n := v.AsUint64()
			out[i].U = &n
		case gomysql.FieldValueTypeFloat:
			f := v.AsFloat64()
			out[i].F = &f
		default:
			b := v.AsString()
			if isPrintableUTF8(b) {
				s := string(b)
				out[i].S = &s
			} else {
				s := base64.StdEncoding.EncodeToString(b)
				out[i].B = &s
			}
		}
	}
	b, _ := json.Marshal(out)
	return b
}

func decodeCursor(b []byte) ([]any, error) {
	var vals []cursorValue
	if err := json.Unmarshal(b, &vals); err != nil {
		return nil, fmt.Errorf("snapshot cursor %q: %w", b, err)
	}
	out := make([]any, len(vals))
	for i, v := range vals {
		switch {
		case v.I != nil:
			out[i] = *v.I
		case v.U != nil:
			out[i] = *v.U
		case v.F != nil:
			out[i] = *v.F
		case v.S != nil:
			out[i] = *v.S
		case v.B != nil:
			raw, err := base64.StdEncoding.DecodeString(*v.B)
			if err != nil {
				return nil, fmt.Errorf("snapshot cursor %q: %w", b, err)
			}
			out[i] = raw
		default:
			return nil, fmt.Errorf("snapshot cursor %q: empty value", b)
		}
	}
	return out, nil
}

func isPrintableUTF8(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD") == string(b)
}

// OpenScan starts the one-pass read of a table without a usable key.
func (r *snapReader) OpenScan(ctx context.Context, t *snapshot.Table, floor uint64) (snapshot.Scan, error) {
	st := r.tables[t.Name]
	c, err := dial(ctx, r.ep)
	if err != nil {
		return nil, err
	}
	if _, err := c.Execute("START TRANSACTION WITH CONSISTENT SNAPSHOT"); err != nil {
		c.Close()
		return nil, err
	}
	sc := &scan{c: c, st: st, low: floor}
	if r.info.Flavor == FlavorMariaDB {
		if sc.low, err = snapshotPosition(c); err != nil {
			c.Close()
			return nil, err
		}
		sc.high = sc.low
	} else {
		end, _, err := masterStatus(c)
		if err != nil {
			c.Close()
			return nil, err
		}
		sc.high = watermark(end.File, end.Pos)
	}
	return sc, nil
}

type scan struct {
	c         *client.Conn
	st        *snapTable
	low, high uint64
	once      sync.Once
}

func (s *scan) Watermarks() (uint64, uint64) { return s.low, s.high }

func (s *scan) Rows(ctx context.Context, fn func(pipeline.Row) error) error {
	var res gomysql.Result
	var fnErr error
	var arena coltype.Arena
	err := s.c.ExecuteSelectStreaming("SELECT "+s.st.selects+" FROM "+s.st.from, &res, func(vals []gomysql.FieldValue) error {
		if err := ctx.Err(); err != nil {
			fnErr = err
			return err
		}
		row, err := s.st.row(vals, make(pipeline.Row, len(vals)), &arena)
		if err == nil {
			err = fn(row)
		}
		if err != nil {
			fnErr = err
		}
		return err
	}, nil)
	if fnErr != nil {
		return fnErr
	}
	return err
}

func (s *scan) Close() error {
	var err error
	s.once.Do(func() {
		_, _ = s.c.Execute("COMMIT")
		err = s.c.Close()
	})
	return err
}
