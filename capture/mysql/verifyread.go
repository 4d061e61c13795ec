package mysql

import (
	"context"
	"fmt"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/siphoncdc/siphon/capture/mysql/coltype"
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

// OpenVerifyReader connects and describes the tables the filter selects.
func OpenVerifyReader(ctx context.Context, ep Endpoint, filter TableFilter) (*VerifyReader, error) {
	ep, err := resolveTLS(ctx, ep)
	if err != nil {
		return nil, err
	}
	c, err := dial(ctx, ep)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	info, err := queryServerInfo(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	r, err := newSnapReader(ctx, ep, info, 1)
	if err != nil {
		return nil, err
	}
	tables, err := r.plan(c, filter, "verify", nil)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	return &VerifyReader{r: r, tables: tables}, nil
}

// Close closes the connections.
func (v *VerifyReader) Close() { v.r.Close() }

// Connector names the source as Debezium does: "mysql" or "mariadb".
func (v *VerifyReader) Connector() string {
	if v.r.info.Flavor == FlavorMariaDB {
		return "mariadb"
	}
	return "mysql"
}

// Tables are the selected tables ("db.table") with their schema; a table's
// Key lists its primary key columns (empty without a primary key).
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

// ReadChunk reads up to limit rows after the cursor (nil: from the start)
// in primary-key order. The rows stay valid until the next call.
func (v *VerifyReader) ReadChunk(ctx context.Context, name string, after []byte, limit int) (rows []pipeline.Row, next []byte, more bool, err error) {
	t, st, err := v.table(name)
	if err != nil {
		return nil, nil, false, err
	}
	if len(st.t.Schema.Key) == 0 || len(st.key) != len(st.t.Schema.Key) {
		return nil, nil, false, fmt.Errorf("table %s has no primary key to read it in chunks", name)
	}
	ch, err := v.r.ReadChunk(ctx, t, snapshot.Range{}, after, limit, 0)
	if err != nil {
		return nil, nil, false, err
	}
	return ch.Rows, ch.Last, ch.More, nil
}

// ReadKeys reads the rows whose primary key is one of keys; each key holds
// one statement argument per key column (int64, uint64, string, []byte).
func (v *VerifyReader) ReadKeys(ctx context.Context, name string, keys [][]any) ([]pipeline.Row, error) {
	_, st, err := v.table(name)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, nil
	}
	key := st.t.Schema.Key
	cols := make([]string, len(key))
	for i, k := range key {
		cols[i] = quoteIdent(st.cols[k].Name)
	}
	tuple := "?"
	lhs := cols[0]
	if len(key) > 1 {
		tuple = "(" + strings.TrimSuffix(strings.Repeat("?,", len(key)), ",") + ")"
		lhs = "(" + strings.Join(cols, ", ") + ")"
	}
	args := make([]any, 0, len(keys)*len(key))
	for _, k := range keys {
		if len(k) != len(key) {
			return nil, fmt.Errorf("table %s: a key of %d values for %d key columns", name, len(k), len(key))
		}
		args = append(args, k...)
	}
	q := "SELECT " + st.selects + " FROM " + st.from + " WHERE " + lhs + " IN (" +
		strings.TrimSuffix(strings.Repeat(tuple+",", len(keys)), ",") + ")"
	var rows []pipeline.Row
	err = v.r.with(ctx, func(rc *readConn) error {
		if err := rc.ensure(ctx, v.r.ep); err != nil {
			return err
		}
		s, err := rc.c.Prepare(q)
		if err != nil {
			return err
		}
		defer s.Close()
		var res gomysql.Result
		var arena coltype.Arena
		return s.ExecuteSelectStreaming(&res, func(vals []gomysql.FieldValue) error {
			row, err := st.row(vals, make(pipeline.Row, len(vals)), &arena)
			if err != nil {
				return err
			}
			rows = append(rows, row)
			return nil
		}, nil, args...)
	})
	if err != nil {
		return nil, fmt.Errorf("read %s by key: %w", name, redact(err, v.r.ep.Password))
	}
	return rows, nil
}

// Scan reads every row of a table, in no particular order, in one
// consistent read.
func (v *VerifyReader) Scan(ctx context.Context, name string, fn func(pipeline.Row) error) error {
	t, _, err := v.table(name)
	if err != nil {
		return err
	}
	sc, err := v.r.OpenScan(ctx, t, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, redact(err, v.r.ep.Password))
	}
	defer sc.Close()
	if err := sc.Rows(ctx, fn); err != nil {
		return fmt.Errorf("read %s: %w", name, redact(err, v.r.ep.Password))
	}
	return nil
}
