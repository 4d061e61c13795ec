package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
)

// VerifyReader reads captured tables for `siphon verify` with the
// snapshot's queries and decoders, so that rows come out as the same
// pipeline values the pipeline wrote to its targets.
type VerifyReader struct {
	r      *snapReader
	tables []*snapshot.Table
}

// OpenVerifyReader connects and describes the tables the filter selects
// and the publication covers.
func OpenVerifyReader(ctx context.Context, ep Endpoint, filter TableFilter, publication string) (*VerifyReader, error) {
	c, err := ep.connect(ctx, false)
	if err != nil {
		return nil, err
	}
	defer c.Close(context.Background())
	info, err := queryServerInfo(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	r, err := newSnapReader(ctx, ep, info, 1)
	if err != nil {
		return nil, err
	}
	tables, err := r.plan(ctx, newCatalog(c), filter, publication, "verify", nil)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	return &VerifyReader{r: r, tables: tables}, nil
}

// Close closes the connections.
func (v *VerifyReader) Close() { v.r.Close() }

// Connector names the source as Debezium does.
func (v *VerifyReader) Connector() string { return "postgresql" }

// Tables are the selected tables ("schema.table") with their schema; a
// table's Key lists its key columns.
func (v *VerifyReader) Tables() []*pipeline.Table {
	out := make([]*pipeline.Table, len(v.tables))
	for i, t := range v.tables {
		out[i] = t.Schema
	}
	return out
}

func (v *VerifyReader) table(name string) (*snapshot.Table, *snapTable, error) {
	st, ok := v.r.tables[name]
	if !ok {
		return nil, nil, fmt.Errorf("table %s is not among the captured tables", name)
	}
	return st.t, st, nil
}

// verifyKeyCasts are the types of the table's key columns, in key order; false
// when the chunking key is not the table's key.
func (st *snapTable) verifyKeyCasts() ([]string, bool) {
	key := st.t.Schema.Key
	if len(key) == 0 || len(key) != len(st.key) {
		return nil, false
	}
	casts := make([]string, len(key))
	for i, k := range key {
		found := false
		for j, sk := range st.key {
			if sk == k {
				casts[i], found = unboundedCast(st.keyCasts[j]), true
			}
		}
		if !found {
			return nil, false
		}
	}
	return casts, true
}

// ReadChunk reads up to limit rows after the cursor (nil: from the start)
// in key order. The rows stay valid until the next call.
func (v *VerifyReader) ReadChunk(ctx context.Context, name string, after []byte, limit int) (rows []pipeline.Row, next []byte, more bool, err error) {
	t, st, err := v.table(name)
	if err != nil {
		return nil, nil, false, err
	}
	if _, ok := st.verifyKeyCasts(); !ok {
		return nil, nil, false, fmt.Errorf("table %s has no key to read it in chunks", name)
	}
	ch, err := v.r.ReadChunk(ctx, t, snapshot.Range{}, after, limit, 0)
	if err != nil {
		return nil, nil, false, err
	}
	return ch.Rows, ch.Last, ch.More, nil
}

// ReadKeys reads the rows whose key is one of keys; each key holds one
// value per key column as the column's text input.
func (v *VerifyReader) ReadKeys(ctx context.Context, name string, keys [][]any) ([]pipeline.Row, error) {
	_, st, err := v.table(name)
	if err != nil {
		return nil, err
	}
	casts, ok := st.verifyKeyCasts()
	if !ok {
		return nil, fmt.Errorf("table %s has no key to look rows up by", name)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	key := st.t.Schema.Key
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = quoteIdent(st.shape.cols[k].Name)
	}
	var in strings.Builder
	params := make([][]byte, 0, len(keys)*len(key))
	for i, k := range keys {
		if len(k) != len(key) {
			return nil, fmt.Errorf("table %s: a key of %d values for %d key columns", name, len(k), len(key))
		}
		if i > 0 {
			in.WriteString(", ")
		}
		in.WriteByte('(')
		for j, a := range k {
			if j > 0 {
				in.WriteString(", ")
			}
			params = append(params, append([]byte{}, fmt.Sprint(a)...)) // never nil: nil is NULL
			in.WriteString("$" + strconv.Itoa(len(params)) + "::" + casts[j])
		}
		in.WriteByte(')')
	}
	q := "SELECT " + st.selects + " FROM " + st.from + " WHERE (" + strings.Join(cols, ", ") + ") IN (" + in.String() + ")"
	var rows []pipeline.Row
	err = v.r.with(ctx, func(c *pgconn.PgConn) error {
		rows = rows[:0]
		rr := c.ExecParams(ctx, q, params, nil, nil, nil)
		var decErr error
		for rr.NextRow() {
			row := make(pipeline.Row, len(st.shape.cols))
			if decErr == nil {
				decErr = st.decodeRow(rr.Values(), row)
			}
			rows = append(rows, row)
		}
		if _, err := rr.Close(); err != nil {
			return err
		}
		return decErr
	})
	if err != nil {
		return nil, fmt.Errorf("read %s by key: %w", name, err)
	}
	return rows, nil
}

// Scan reads every row of a table in one consistent read.
func (v *VerifyReader) Scan(ctx context.Context, name string, fn func(pipeline.Row) error) error {
	t, _, err := v.table(name)
	if err != nil {
		return err
	}
	sc, err := v.r.OpenScan(ctx, t, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	defer sc.Close()
	if err := sc.Rows(ctx, fn); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// unboundedCast is a type to cast a key's text to without truncating it:
// a bare "character" or "bit" means a length of one.
func unboundedCast(t string) string {
	switch t {
	case "character":
		return "bpchar"
	case "bit":
		return "varbit"
	}
	return t
}
