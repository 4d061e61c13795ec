package mysql

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// conn is one go-mysql connection with its prepared statements.
type conn struct {
	c        *client.Conn
	stmts    map[stmtKey]*client.Stmt
	sql      map[stmtKey]string
	encoders map[*sqlapply.Mapping][]encoder
	args     []any
	broken   bool // ctx ended during a call and closed the connection
}

type stmtKey struct {
	mapping int
	kind    sqlapply.RunKind
	rows    int
	present string
	insert  bool // the INSERT half of a keyless update
}

func (c *conn) Close() error {
	for _, s := range c.stmts {
		_ = s.Close()
	}
	c.stmts = nil
	return c.c.Close()
}

// watch closes the connection when ctx ends during a blocking call:
// go-mysql calls take no context.
func (c *conn) watch(ctx context.Context) func() {
	if ctx.Done() == nil {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			c.broken = true
			_ = c.c.Close()
		case <-stop:
		}
	}()
	return func() { close(stop); <-done }
}

func (c *conn) execute(ctx context.Context, sql string, args ...any) (*gomysql.Result, error) {
	defer c.watch(ctx)()
	r, err := c.c.Execute(sql, args...)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return r, err
}

func (c *conn) Exec(ctx context.Context, sql string) error {
	r, err := c.execute(ctx, sql)
	if r != nil {
		r.Close()
	}
	return err
}

func (c *conn) Begin(ctx context.Context) error { return c.Exec(ctx, "BEGIN") }

func (c *conn) Rollback(ctx context.Context) error { return c.Exec(ctx, "ROLLBACK") }

func (c *conn) Savepoint(ctx context.Context) error { return c.Exec(ctx, "SAVEPOINT siphon") }

func (c *conn) RollbackToSavepoint(ctx context.Context) error {
	return c.Exec(ctx, "ROLLBACK TO SAVEPOINT siphon")
}

func (c *conn) ReleaseSavepoint(ctx context.Context) error {
	return c.Exec(ctx, "RELEASE SAVEPOINT siphon")
}

const checkpointColumns = "pipeline, worker, position, applied, seq, prev_position, prev_applied, updated_at"

func (c *conn) EnsureCheckpointTable(ctx context.Context, name sqlapply.Name) error {
	if err := c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(name.Namespace)); err != nil {
		return err
	}
	return c.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+quoteName(name)+` (
  pipeline VARCHAR(64) NOT NULL,
  worker INT NOT NULL,
  position LONGTEXT NULL,
  applied BIGINT NOT NULL DEFAULT 0,
  seq BIGINT NOT NULL DEFAULT 0,
  prev_position LONGTEXT NULL,
  prev_applied BIGINT NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (pipeline, worker))`+tableOptions)
}

func (c *conn) ReadCheckpoints(ctx context.Context, name sqlapply.Name, pipelineName string) ([]sqlapply.CheckpointRow, error) {
	r, err := c.execute(ctx, "SELECT "+checkpointColumns+" FROM "+quoteName(name)+" WHERE pipeline = ? ORDER BY worker", pipelineName)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := make([]sqlapply.CheckpointRow, 0, r.RowNumber())
	for i := range r.RowNumber() {
		var row sqlapply.CheckpointRow
		row.Pipeline = cell(r, i, 0)
		w, _ := r.GetInt(i, 1)
		row.Worker = int(w)
		if null, _ := r.IsNull(i, 2); !null {
			row.Position = pipeline.Position(cell(r, i, 2))
		}
		row.Applied, _ = r.GetInt(i, 3)
		row.Seq, _ = r.GetInt(i, 4)
		if null, _ := r.IsNull(i, 5); !null {
			row.PrevPosition = pipeline.Position(cell(r, i, 5))
		}
		row.PrevApplied, _ = r.GetInt(i, 6)
		row.Updated, _ = time.Parse("2006-01-02 15:04:05.999999", cell(r, i, 7))
		out = append(out, row)
	}
	return out, nil
}

func (c *conn) DeleteCheckpoints(ctx context.Context, name sqlapply.Name, pipelineName string, fromWorker int) error {
	r, err := c.execute(ctx, "DELETE FROM "+quoteName(name)+" WHERE pipeline = ? AND worker >= ?", pipelineName, int64(fromWorker))
	if r != nil {
		r.Close()
	}
	return err
}

func nullString(p pipeline.Position) any {
	if p == nil {
		return nil
	}
	return string(p)
}

func (c *conn) Commit(ctx context.Context, name sqlapply.Name, row sqlapply.CheckpointRow) error {
	r, err := c.execute(ctx, "INSERT INTO "+quoteName(name)+" ("+checkpointColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?) "+
		"ON DUPLICATE KEY UPDATE position = VALUES(position), applied = VALUES(applied), seq = VALUES(seq), "+
		"prev_position = VALUES(prev_position), prev_applied = VALUES(prev_applied), updated_at = VALUES(updated_at)",
		row.Pipeline, int64(row.Worker), nullString(row.Position), row.Applied, row.Seq, nullString(row.PrevPosition), row.PrevApplied,
		row.Updated.Format("2006-01-02 15:04:05.999999"))
	if r != nil {
		r.Close()
	}
	if err != nil {
		return err
	}
	return c.Exec(ctx, "COMMIT")
}

// Describe reads a table from information_schema.
func (c *conn) Describe(ctx context.Context, name sqlapply.Name) (*sqlapply.TableInfo, error) {
	r, err := c.execute(ctx, `SELECT COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT IS NOT NULL, EXTRA
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, name.Namespace, name.Table)
	if err != nil {
		return nil, err
	}
	info := &sqlapply.TableInfo{}
	for i := range r.RowNumber() {
		var tc sqlapply.TargetColumn
		tc.Name = cell(r, i, 0)
		tc.Type = cell(r, i, 1)
		tc.Cast = cell(r, i, 2)
		nullable := cell(r, i, 3)
		tc.Nullable = nullable == "YES"
		def, _ := r.GetInt(i, 4)
		extra := cell(r, i, 5)
		extra = strings.ToUpper(extra)
		tc.Generated = strings.Contains(extra, "GENERATED") && !strings.Contains(extra, "DEFAULT_GENERATED")
		tc.Default = def != 0 || strings.Contains(extra, "AUTO_INCREMENT") || tc.Generated
		info.Columns = append(info.Columns, tc)
	}
	r.Close()
	if len(info.Columns) == 0 {
		return nil, nil
	}
	r, err = c.execute(ctx, `SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS
  WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME, SEQ_IN_INDEX`, name.Namespace, name.Table)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	last := ""
	for i := range r.RowNumber() {
		idx, col := cell(r, i, 0), cell(r, i, 1)
		if idx != last || len(info.Unique) == 0 {
			info.Unique = append(info.Unique, nil)
			last = idx
		}
		info.Unique[len(info.Unique)-1] = append(info.Unique[len(info.Unique)-1], col)
	}
	return info, nil
}

func (c *conn) Statement(r sqlapply.Run) string {
	return c.sqlFor(r, len(r.Events), false)
}

func presentKey(p []bool) string {
	if p == nil {
		return ""
	}
	b := make([]byte, len(p))
	for i, x := range p {
		b[i] = '0'
		if x {
			b[i] = '1'
		}
	}
	return string(b)
}

func (c *conn) sqlFor(r sqlapply.Run, rows int, insert bool) string {
	k := stmtKey{mapping: r.Mapping.ID, kind: r.Kind, rows: rows, present: presentKey(r.Present), insert: insert}
	if s, ok := c.sql[k]; ok {
		return s
	}
	s := buildStatement(r, rows, insert)
	c.sql[k] = s
	return s
}

func (c *conn) prepared(ctx context.Context, r sqlapply.Run, rows int, insert bool) (*client.Stmt, error) {
	k := stmtKey{mapping: r.Mapping.ID, kind: r.Kind, rows: rows, present: presentKey(r.Present), insert: insert}
	if s, ok := c.stmts[k]; ok {
		return s, nil
	}
	sql := c.sqlFor(r, rows, insert)
	defer c.watch(ctx)()
	s, err := c.c.Prepare(sql)
	if err != nil {
		return nil, err
	}
	c.stmts[k] = s
	return s, nil
}

func (c *conn) run(ctx context.Context, s *client.Stmt, args []any) (uint64, error) {
	defer c.watch(ctx)()
	r, err := s.Execute(args...)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, err
	}
	n := r.AffectedRows
	r.Close()
	return n, nil
}

// Apply runs each run as one prepared statement.
func (c *conn) Apply(ctx context.Context, runs []sqlapply.Run) (int, error) {
	for i, r := range runs {
		if err := c.apply(ctx, r); err != nil {
			return i, err
		}
	}
	return len(runs), nil
}

func (c *conn) apply(ctx context.Context, r sqlapply.Run) error {
	encs, err := c.encodersOf(r.Mapping)
	if err != nil {
		return err
	}
	args, err := c.buildArgs(r, encs)
	if err != nil {
		return err
	}
	s, err := c.prepared(ctx, r, len(r.Events), false)
	if err != nil {
		return err
	}
	n, err := c.run(ctx, s, args)
	if err != nil || r.Kind != sqlapply.RunUpdateRow || n > 0 {
		return err
	}
	// No row had the before image: the row takes the after image.
	ins, err := c.prepared(ctx, r, 1, true)
	if err != nil {
		return err
	}
	_, err = c.run(ctx, ins, args[:rowParams(r.Mapping, nil)])
	return err
}

func (c *conn) encodersOf(m *sqlapply.Mapping) ([]encoder, error) {
	if e, ok := c.encoders[m]; ok {
		return e, nil
	}
	if c.encoders == nil {
		c.encoders = map[*sqlapply.Mapping][]encoder{}
	}
	encs := make([]encoder, len(m.Columns))
	for i := range m.Columns {
		var err error
		if encs[i], err = encoderFor(&m.Columns[i].Column, m.Columns[i].Target); err != nil {
			return nil, err
		}
	}
	c.encoders[m] = encs
	return encs, nil
}

// buildArgs flattens a run's values into statement parameters.
func (c *conn) buildArgs(r sqlapply.Run, encs []encoder) ([]any, error) {
	m := r.Mapping
	args := c.args[:0]
	var err error
	add := func(ci int, row pipeline.Row) error {
		col := &m.Columns[ci]
		if row == nil {
			return errors.New("the event has no row image")
		}
		args, err = encs[ci](args, row[col.Index])
		if err != nil {
			return &sqlapply.ValueError{Column: col.Name, Err: err}
		}
		return nil
	}
	switch r.Kind {
	case sqlapply.RunUpsert, sqlapply.RunInsert:
		for ei := range r.Events {
			for ci := range m.Columns {
				if err := add(ci, r.Events[ei].After); err != nil {
					return nil, err
				}
			}
		}
	case sqlapply.RunDelete:
		for ei := range r.Events {
			for _, ci := range m.Key {
				if err := add(ci, r.Events[ei].Before); err != nil {
					return nil, err
				}
			}
		}
	case sqlapply.RunUpdateRow:
		e := &r.Events[0]
		for ci := range m.Columns {
			if err := add(ci, e.After); err != nil {
				return nil, err
			}
		}
		for ci := range m.Columns {
			if err := add(ci, e.Before); err != nil {
				return nil, err
			}
		}
	case sqlapply.RunDeleteRow:
		for ci := range m.Columns {
			if err := add(ci, r.Events[0].Before); err != nil {
				return nil, err
			}
		}
	case sqlapply.RunUpdateSome:
		e := &r.Events[0]
		for ci, col := range m.Columns {
			if !col.Key && r.Present[ci] {
				if err := add(ci, e.After); err != nil {
					return nil, err
				}
			}
		}
		for _, ci := range m.Key {
			if err := add(ci, e.After); err != nil {
				return nil, err
			}
		}
	case sqlapply.RunTruncate:
	default:
		return nil, fmt.Errorf("unknown run kind %d", r.Kind)
	}
	c.args = args[:0]
	return args, nil
}

// cell copies a text cell: go-mysql's strings point into buffers that are
// reused once the result is closed.
func cell(r *gomysql.Result, row, col int) string {
	s, _ := r.GetString(row, col)
	return strings.Clone(s)
}
