package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// conn is one pgx connection. BEGIN is sent with the first statements of
// a transaction rather than on its own, and the release of a COPY's
// savepoint with the statements after it, to save round trips.
type conn struct {
	c         *pgx.Conn
	needBegin bool
	// copyHeld: the savepoint of the last COPY is still to be released.
	copyHeld bool
	// commitRow, while set, makes Apply's last send also commit with it.
	commitRow *sqlapply.CheckpointRow
	commitTo  sqlapply.Name
	stmts     map[stmtKey]string
	encoders  map[*sqlapply.Mapping][]encoder
	buf       []byte
	batch     pgx.Batch
	// COPY of large runs: per mapping ID, the statement and how many runs
	// still skip it after a conflict.
	copies map[copyKey]string
	// binary holds each mapping's binary COPY encoders, nil when a
	// column has none or a value had no binary form (text COPY then).
	binary   map[*sqlapply.Mapping][]binEncoder
	copyOff  map[int]int
	copyData []byte
	scratch  []byte
	// streaming lets a COPY stay open across Apply calls (stream.go);
	// stream is the open one, readyChunks its chunks being handed over.
	streaming   bool
	stream      *streamCopy
	readyChunks [][]byte
	// mergeFor is how long a COPY may hold a transaction open past commit points.
	mergeFor time.Duration
	// hold and held: ApplyCommit's leave to keep the transaction open, and
	// whether Apply did.
	hold, held bool
}

type stmtKey struct {
	mapping int
	kind    sqlapply.RunKind
	present string
}

func (c *conn) Close() error {
	if c.stream != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = c.endCopy(ctx)
		cancel()
	}
	return c.c.Close(context.Background())
}

func (c *conn) exec(ctx context.Context, sql string) error {
	if err := c.endCopy(ctx); err != nil {
		return err
	}
	_, err := c.c.PgConn().Exec(ctx, sql).ReadAll()
	return err
}

func (c *conn) Exec(ctx context.Context, sql string) error { return c.exec(ctx, sql) }

func (c *conn) Begin(ctx context.Context) error {
	c.needBegin = true
	return nil
}

// lead returns the statements owed before the next ones (BEGIN, the
// release of a COPY's savepoint), as one string ending in "; ", and
// forgets them.
func (c *conn) lead() string {
	s := ""
	if c.needBegin {
		s += "BEGIN; "
	}
	if c.copyHeld {
		s += "RELEASE SAVEPOINT siphon_copy; "
	}
	c.needBegin, c.copyHeld = false, false
	return s
}

// queueLead queues the statements lead returns; it returns their number.
func (c *conn) queueLead(b *pgx.Batch) int {
	n := 0
	if c.needBegin {
		b.Queue("BEGIN")
		n++
	}
	if c.copyHeld {
		b.Queue("RELEASE SAVEPOINT siphon_copy")
		n++
	}
	c.needBegin, c.copyHeld = false, false
	return n
}

func (c *conn) Rollback(ctx context.Context) error {
	c.copyHeld = false
	_ = c.endCopy(ctx) // its outcome no longer matters
	if c.needBegin {
		c.needBegin = false
		return nil
	}
	return c.exec(ctx, "ROLLBACK")
}

func (c *conn) Savepoint(ctx context.Context) error {
	return c.exec(ctx, c.lead()+"SAVEPOINT siphon")
}

// RollbackToSavepoint and ReleaseSavepoint also end a COPY's savepoint
// made since: it is nested in this one.
func (c *conn) RollbackToSavepoint(ctx context.Context) error {
	c.copyHeld = false
	return c.exec(ctx, "ROLLBACK TO SAVEPOINT siphon")
}

func (c *conn) ReleaseSavepoint(ctx context.Context) error {
	c.copyHeld = false
	return c.exec(ctx, "RELEASE SAVEPOINT siphon")
}

const checkpointColumns = "pipeline, worker, position, applied, seq, prev_position, prev_applied, updated_at"

func (c *conn) EnsureCheckpointTable(ctx context.Context, name sqlapply.Name) error {
	return c.exec(ctx, "CREATE TABLE IF NOT EXISTS "+quoteName(name)+` (
  pipeline text NOT NULL,
  worker integer NOT NULL,
  position text,
  applied bigint NOT NULL DEFAULT 0,
  seq bigint NOT NULL DEFAULT 0,
  prev_position text,
  prev_applied bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, worker))`)
}

func (c *conn) ReadCheckpoints(ctx context.Context, name sqlapply.Name, pipelineName string) ([]sqlapply.CheckpointRow, error) {
	if err := c.endCopy(ctx); err != nil {
		return nil, err
	}
	rows, err := c.c.Query(ctx, "SELECT "+checkpointColumns+" FROM "+quoteName(name)+" WHERE pipeline = $1 ORDER BY worker", pipelineName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []sqlapply.CheckpointRow
	for rows.Next() {
		var r sqlapply.CheckpointRow
		var pos, prev *string
		if err := rows.Scan(&r.Pipeline, &r.Worker, &pos, &r.Applied, &r.Seq, &prev, &r.PrevApplied, &r.Updated); err != nil {
			return nil, err
		}
		if pos != nil {
			r.Position = pipeline.Position(*pos)
		}
		if prev != nil {
			r.PrevPosition = pipeline.Position(*prev)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (c *conn) DeleteCheckpoints(ctx context.Context, name sqlapply.Name, pipelineName string, fromWorker int) error {
	if err := c.endCopy(ctx); err != nil {
		return err
	}
	_, err := c.c.Exec(ctx, "DELETE FROM "+quoteName(name)+" WHERE pipeline = $1 AND worker >= $2", pipelineName, fromWorker)
	return err
}

func nullText(p pipeline.Position) pgtype.Text {
	if p == nil {
		return pgtype.Text{}
	}
	return pgtype.Text{String: string(p), Valid: true}
}

// Commit writes the checkpoint row and commits in one round trip.
func (c *conn) Commit(ctx context.Context, name sqlapply.Name, row sqlapply.CheckpointRow) error {
	if err := c.endCopy(ctx); err != nil {
		return err
	}
	b := &c.batch
	*b = pgx.Batch{}
	c.copyHeld = false // COMMIT releases it
	c.queueLead(b)
	queueCommit(b, name, row)
	err := c.c.SendBatch(ctx, b).Close()
	*b = pgx.Batch{}
	return err
}

// queueCommit queues the checkpoint row's upsert and COMMIT.
func queueCommit(b *pgx.Batch, name sqlapply.Name, row sqlapply.CheckpointRow) {
	b.Queue("INSERT INTO "+quoteName(name)+" ("+checkpointColumns+") VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "+
		"ON CONFLICT (pipeline, worker) DO UPDATE SET position = EXCLUDED.position, applied = EXCLUDED.applied, seq = EXCLUDED.seq, "+
		"prev_position = EXCLUDED.prev_position, prev_applied = EXCLUDED.prev_applied, updated_at = EXCLUDED.updated_at",
		row.Pipeline, row.Worker, nullText(row.Position), row.Applied, row.Seq, nullText(row.PrevPosition), row.PrevApplied, row.Updated)
	b.Queue("COMMIT")
}

// ApplyCommit is Apply then Commit with one round trip for both when the
// runs end in statements: the checkpoint row and COMMIT are queued behind
// them. When the runs succeed and the commit fails it returns len(runs).
// With hold, when the runs end in an open COPY young enough to go on
// (stream.go), it does not commit and reports held.
func (c *conn) ApplyCommit(ctx context.Context, runs []sqlapply.Run, name sqlapply.Name, row sqlapply.CheckpointRow, hold bool) (int, bool, error) {
	c.commitRow, c.commitTo, c.hold, c.held = &row, name, hold, false
	defer func() { c.commitRow, c.hold = nil, false }()
	n, err := c.Apply(ctx, runs) // its last send commits
	return n, c.held, err
}

// Describe reads a table's columns and unique keys from the catalogue.
func (c *conn) Describe(ctx context.Context, name sqlapply.Name) (*sqlapply.TableInfo, error) {
	if err := c.endCopy(ctx); err != nil {
		return nil, err
	}
	rows, err := c.c.Query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname,
       NOT a.attnotnull, a.atthasdef OR a.attidentity <> '', a.attgenerated <> ''
  FROM pg_attribute a
  JOIN pg_class cl ON cl.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = cl.relnamespace
  JOIN pg_type t ON t.oid = a.atttypid
 WHERE n.nspname = $1 AND cl.relname = $2 AND cl.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
 ORDER BY a.attnum`, name.Namespace, name.Table)
	if err != nil {
		return nil, err
	}
	info := &sqlapply.TableInfo{}
	for rows.Next() {
		var tc sqlapply.TargetColumn
		var typname string
		if err := rows.Scan(&tc.Name, &tc.Type, &typname, &tc.Nullable, &tc.Default, &tc.Generated); err != nil {
			rows.Close()
			return nil, err
		}
		tc.Cast = castType(typname, tc.Type)
		info.Columns = append(info.Columns, tc)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(info.Columns) == 0 {
		return nil, nil
	}
	keys, err := c.c.Query(ctx, `SELECT array_agg(a.attname::text ORDER BY k.ord)
  FROM pg_index i
  JOIN pg_class cl ON cl.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = cl.relnamespace
  CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum = k.attnum
 WHERE n.nspname = $1 AND cl.relname = $2 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
 GROUP BY i.indexrelid`, name.Namespace, name.Table)
	if err != nil {
		return nil, err
	}
	defer keys.Close()
	for keys.Next() {
		var cols []string
		if err := keys.Scan(&cols); err != nil {
			return nil, err
		}
		info.Unique = append(info.Unique, cols)
	}
	return info, keys.Err()
}

// Statement is a run's SQL.
func (c *conn) Statement(r sqlapply.Run) string { return c.statement(r) }

func (c *conn) statement(r sqlapply.Run) string {
	k := stmtKey{mapping: r.Mapping.ID, kind: r.Kind}
	if r.Present != nil {
		var b strings.Builder
		for _, p := range r.Present {
			if p {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		k.present = b.String()
	}
	if s, ok := c.stmts[k]; ok {
		return s
	}
	s := buildStatement(r)
	c.stmts[k] = s
	return s
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
		if encs[i], err = encoderFor(&m.Columns[i].Column, m.Columns[i].Target.Type); err != nil {
			return nil, err
		}
	}
	c.encoders[m] = encs
	return encs, nil
}

// Apply pipelines the runs' statements in one round trip; a large insert
// or upsert run is tried as a COPY first (see tryCopy).
func (c *conn) Apply(ctx context.Context, runs []sqlapply.Run) (int, error) {
	c.buf = c.buf[:0]
	b := &c.batch
	*b = pgx.Batch{}
	needBegin, copyHeld := c.needBegin, c.copyHeld
	lead := c.queueLead(b)
	first := 0 // the first run in the queued batch
	for i := 0; i < len(runs); i++ {
		r := runs[i]
		if k := c.copyPrefix(r); k > 0 {
			if i == first && lead > 0 {
				// Nothing queued but the lead: it goes in the COPY's query.
				*b = pgx.Batch{}
				c.needBegin, c.copyHeld, lead = needBegin, copyHeld, 0
			}
			// Send what came before, so that done counts are exact.
			done, err := c.send(ctx, lead, i-first)
			if err != nil {
				return first + done, err
			}
			lead, first = 0, i
			c.buf = c.buf[:0]
			// The runs after it that only create rows of the table join
			// the COPY: one statement, however many runs the key checks cut.
			parts := [][]pipeline.Event{r.Events[:k]}
			next := i + 1
			for k == len(r.Events) && next < len(runs) && createsOnly(runs[next], r.Mapping) {
				parts = append(parts, runs[next].Events)
				next++
			}
			copied, err := c.tryCopy(ctx, r.Mapping, parts)
			if err != nil {
				return i, err
			}
			if copied && k == len(r.Events) {
				first, i = next, next-1
				continue
			}
			if copied {
				// The rest of the run (updates) by its statement. Should
				// that fail, the transaction is rolled back, COPY included.
				r.Events = r.Events[k:]
			}
		}
		args, err := c.args(r)
		if err != nil {
			done, sendErr := c.send(ctx, lead, i-first)
			if sendErr != nil {
				return first + done, sendErr
			}
			return i, err
		}
		b.Queue(c.statement(r), args...)
	}
	done, err := c.sendLast(ctx, lead, len(runs)-first)
	return first + done, err
}

// sendLast sends Apply's last statements, and with them the checkpoint row
// and COMMIT when ApplyCommit asked for it.
func (c *conn) sendLast(ctx context.Context, lead, n int) (int, error) {
	commits := 0
	if c.hold && c.batch.Len() == 0 && c.holdable() {
		c.held = true
		return n, nil
	}
	if row := c.commitRow; row != nil {
		c.commitRow = nil
		c.copyHeld = false // COMMIT releases it
		queueCommit(&c.batch, c.commitTo, *row)
		commits = 2
	}
	return c.sendWith(ctx, lead, n, commits)
}

// createsOnly reports whether a run of table m only creates rows.
func createsOnly(r sqlapply.Run, m *sqlapply.Mapping) bool {
	if r.Mapping != m || (r.Kind != sqlapply.RunUpsert && r.Kind != sqlapply.RunInsert) {
		return false
	}
	for i := range r.Events {
		if op := r.Events[i].Op; op != pipeline.OpCreate && op != pipeline.OpRead {
			return false
		}
	}
	return true
}

// copyMinRows is the smallest run tried as a COPY: below it the savepoint
// round trips cost more than COPY saves.
const copyMinRows = 256

// copyBackoff is how many large runs of a table skip COPY after one met
// an existing key: a table being updated rather than filled.
const copyBackoff = 16

// copyPrefix is how many leading events of a run a COPY may write: those
// that create rows (c, r) of an insert or upsert run, when there are
// enough of them; 0 otherwise.
func (c *conn) copyPrefix(r sqlapply.Run) int {
	if (r.Kind != sqlapply.RunUpsert && r.Kind != sqlapply.RunInsert) || len(r.Events) < copyMinRows {
		return 0
	}
	k := 0
	for k < len(r.Events) && (r.Events[k].Op == pipeline.OpCreate || r.Events[k].Op == pipeline.OpRead) {
		k++
	}
	if k < copyMinRows {
		return 0
	}
	if n := c.copyOff[r.Mapping.ID]; n > 0 {
		c.copyOff[r.Mapping.ID] = n - 1
		return 0
	}
	return k
}

// tryCopy writes the rows of an insert or upsert run with COPY, under a savepoint: a
// COPY into the target table parses values as fast as PostgreSQL can, and
// when no row of the run exists yet (a snapshot into an empty table, a
// backlog of inserts) it has exactly the upsert's effect, triggers
// included. When it fails — a key that exists, a value the table refuses —
// the savepoint undoes it and it returns false: the run is then applied
// by its statement, which upserts or reports the failing event.
func (c *conn) tryCopy(ctx context.Context, m *sqlapply.Mapping, parts [][]pipeline.Event) (bool, error) {
	encs, err := c.encodersOf(m)
	if err != nil {
		return false, nil
	}
	if c.streaming {
		bins := c.binaryOf(m)
		if s := c.stream; s != nil && (s.m != m || s.binary != (bins != nil)) {
			if err := c.endCopy(ctx); err != nil {
				return false, err
			}
		}
		s := c.stream
		if s == nil {
			s = c.openCopy(ctx, m, bins != nil)
		}
		return c.feedCopy(ctx, s, encs, bins, parts)
	}
	// Rows are encoded as the connection asks for them, so PostgreSQL
	// parses the first ones while the next are being encoded. The
	// savepoint goes in the same query, its release with the next
	// statements (or the commit).
	r := &copyReader{c: c, m: m, encs: encs, bins: c.binaryOf(m), parts: parts, buf: c.copyData[:0]}
	if err := c.endCopy(ctx); err != nil {
		return false, err
	}
	_, err = c.c.PgConn().CopyFrom(ctx, r, c.lead()+"SAVEPOINT siphon_copy; "+c.copyStatement(m, r.bins != nil))
	c.copyData = r.buf[:0]
	if err == nil {
		c.copyHeld = true
		return true, nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) && !errors.Is(err, errCopyEncode) {
		return false, err // the connection: retried by the caller
	}
	if r.bins != nil && errors.Is(err, errBinaryValue) {
		c.binary[m] = nil // a value without a binary form: text from now on
	}
	if err := c.exec(ctx, "ROLLBACK TO SAVEPOINT siphon_copy; RELEASE SAVEPOINT siphon_copy"); err != nil {
		return false, err
	}
	if pe != nil && pe.Code == "23505" {
		if c.copyOff == nil {
			c.copyOff = map[int]int{}
		}
		c.copyOff[m.ID] = copyBackoff
	}
	return false, nil
}

// errCopyEncode ends a COPY whose rows hold a value the column's encoder
// refuses: the run's statement then reports the event.
var errCopyEncode = errors.New("value cannot be encoded for COPY")

// binaryOf returns a mapping's binary COPY encoders, nil when the table
// is copied in text format.
func (c *conn) binaryOf(m *sqlapply.Mapping) []binEncoder {
	if bins, ok := c.binary[m]; ok {
		return bins
	}
	if c.binary == nil {
		c.binary = map[*sqlapply.Mapping][]binEncoder{}
	}
	bins := make([]binEncoder, len(m.Columns))
	for i := range m.Columns {
		if bins[i] = binaryEncoderFor(&m.Columns[i].Column, m.Columns[i].Target.Type); bins[i] == nil {
			bins = nil
			break
		}
	}
	c.binary[m] = bins
	return bins
}

// copyReader encodes events' after images as COPY rows, on demand: in
// binary format with bins, else in text format.
type copyReader struct {
	c       *conn
	m       *sqlapply.Mapping
	encs    []encoder
	bins    []binEncoder
	parts   [][]pipeline.Event // parts[0][next] is the next event to encode
	next    int
	buf     []byte // encoded, not yet read: buf[off:]
	off     int
	started bool
	ended   bool
}

func (r *copyReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		r.buf, r.off = r.buf[:0], 0
		if !r.started && r.bins != nil {
			r.buf = append(r.buf, copyBinaryHeader...)
		}
		r.started = true
		for len(r.buf) < len(p) {
			if r.next == len(r.parts[0]) {
				if len(r.parts) == 1 {
					break
				}
				r.parts, r.next = r.parts[1:], 0
				continue
			}
			var err error
			if r.buf, err = r.c.appendRow(r.buf, r.m, r.encs, r.bins, r.parts[0][r.next].After); err != nil {
				return 0, err
			}
			r.next++
		}
		if len(r.buf) < len(p) && r.bins != nil && !r.ended {
			r.buf = append(r.buf, copyBinaryTrailer...)
			r.ended = true
		}
		if len(r.buf) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}

// appendRow appends one row in COPY's binary format with bins, else in
// its text format.
func (c *conn) appendRow(data []byte, m *sqlapply.Mapping, encs []encoder, bins []binEncoder, row pipeline.Row) ([]byte, error) {
	if bins != nil {
		return appendBinaryRow(data, m, bins, row)
	}
	return c.appendCopyRow(data, m, encs, row)
}

// appendBinaryRow appends one row in COPY's binary format.
func appendBinaryRow(data []byte, m *sqlapply.Mapping, bins []binEncoder, row pipeline.Row) ([]byte, error) {
	data = binary.BigEndian.AppendUint16(data, uint16(len(m.Columns)))
	for ci := range m.Columns {
		v := row[m.Columns[ci].Index]
		if v.IsNull() {
			data = append(data, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		at := len(data)
		data = append(data, 0, 0, 0, 0)
		var err error
		if data, err = bins[ci](data, v); err != nil {
			if errors.Is(err, errBinaryValue) {
				return data[:at], fmt.Errorf("%w: %w", errCopyEncode, errBinaryValue)
			}
			return data[:at], errCopyEncode
		}
		binary.BigEndian.PutUint32(data[at:], uint32(len(data)-at-4))
	}
	return data, nil
}

// appendCopyRow appends one row in COPY's text format.
func (c *conn) appendCopyRow(data []byte, m *sqlapply.Mapping, encs []encoder, row pipeline.Row) ([]byte, error) {
	for ci := range m.Columns {
		if ci > 0 {
			data = append(data, '\t')
		}
		v := row[m.Columns[ci].Index]
		if v.IsNull() {
			data = append(data, '\\', 'N')
			continue
		}
		var err error
		if c.scratch, err = encs[ci](c.scratch[:0], v); err != nil {
			return data, errCopyEncode
		}
		data = appendCopyText(data, c.scratch)
	}
	return append(data, '\n'), nil
}

// copyKey names a cached COPY statement: a mapping, in one format.
type copyKey struct {
	mapping int
	binary  bool
}

func (c *conn) copyStatement(m *sqlapply.Mapping, binary bool) string {
	k := copyKey{m.ID, binary}
	if s, ok := c.copies[k]; ok {
		return s
	}
	var b strings.Builder
	b.WriteString("COPY " + quoteName(m.Target) + " (")
	for i, col := range m.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(col.Target.Name))
	}
	b.WriteString(") FROM STDIN")
	if binary {
		b.WriteString(" (FORMAT binary)")
	}
	if c.copies == nil {
		c.copies = map[copyKey]string{}
	}
	c.copies[k] = b.String()
	return c.copies[k]
}

// appendCopyText escapes a value's text for COPY's text format.
func appendCopyText(dst, text []byte) []byte {
	for _, ch := range text {
		switch ch {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, ch)
		}
	}
	return dst
}

// send runs the queued batch: lead statements, then n runs.
func (c *conn) send(ctx context.Context, lead, n int) (int, error) {
	return c.sendWith(ctx, lead, n, 0)
}

// sendWith runs the queued batch: lead statements, n runs, then trailing
// statements (the commit). It returns how many runs succeeded; n when a
// trailing statement failed.
func (c *conn) sendWith(ctx context.Context, lead, n, trailing int) (int, error) {
	b := &c.batch
	defer func() { *b = pgx.Batch{} }()
	if b.Len() == 0 {
		return 0, nil
	}
	if err := c.endCopy(ctx); err != nil {
		return 0, err
	}
	br := c.c.SendBatch(ctx, b)
	for range lead {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return 0, err
		}
	}
	for i := range n {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return i, err
		}
	}
	for range trailing {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return n, err
		}
	}
	return n, br.Close()
}

// str makes a string of buf[from:] without copying; buf is append-only
// until the batch is sent, and an outgrown array stays alive through the
// strings that point into it.
func (c *conn) str(from int) string {
	if from == len(c.buf) {
		return ""
	}
	return unsafe.String(&c.buf[from], len(c.buf)-from)
}

func (c *conn) text(enc encoder, col *sqlapply.MappedColumn, v pipeline.Value) (pgtype.Text, error) {
	if v.IsNull() {
		return pgtype.Text{}, nil
	}
	start := len(c.buf)
	var err error
	c.buf, err = enc(c.buf, v)
	if err != nil {
		return pgtype.Text{}, &sqlapply.ValueError{Column: col.Name, Err: err}
	}
	return pgtype.Text{String: c.str(start), Valid: true}, nil
}

// args encodes a run's values: one text array per column for set-based
// statements, one text per value for single-row ones.
func (c *conn) args(r sqlapply.Run) ([]any, error) {
	m := r.Mapping
	encs, err := c.encodersOf(m)
	if err != nil {
		return nil, err
	}
	switch r.Kind {
	case sqlapply.RunUpsert, sqlapply.RunInsert:
		args := make([]any, len(m.Columns))
		for ci := range m.Columns {
			col := &m.Columns[ci]
			arr := make([]pgtype.Text, len(r.Events))
			for ei := range r.Events {
				if arr[ei], err = c.text(encs[ci], col, r.Events[ei].After[col.Index]); err != nil {
					return nil, err
				}
			}
			args[ci] = arr
		}
		return args, nil
	case sqlapply.RunDelete:
		args := make([]any, len(m.Key))
		for ki, ci := range m.Key {
			col := &m.Columns[ci]
			arr := make([]pgtype.Text, len(r.Events))
			for ei := range r.Events {
				if arr[ei], err = c.text(encs[ci], col, r.Events[ei].Before[col.Index]); err != nil {
					return nil, err
				}
			}
			args[ki] = arr
		}
		return args, nil
	case sqlapply.RunUpdateRow, sqlapply.RunDeleteRow:
		e := &r.Events[0]
		var args []any
		for ci := range m.Columns {
			col := &m.Columns[ci]
			t, err := c.text(encs[ci], col, e.Before[col.Index])
			if err != nil {
				return nil, err
			}
			args = append(args, t)
		}
		if r.Kind == sqlapply.RunUpdateRow {
			for ci := range m.Columns {
				col := &m.Columns[ci]
				t, err := c.text(encs[ci], col, e.After[col.Index])
				if err != nil {
					return nil, err
				}
				args = append(args, t)
			}
		}
		return args, nil
	case sqlapply.RunUpdateSome:
		e := &r.Events[0]
		var args []any
		for ci := range m.Columns {
			col := &m.Columns[ci]
			if col.Key || !r.Present[ci] {
				continue
			}
			t, err := c.text(encs[ci], col, e.After[col.Index])
			if err != nil {
				return nil, err
			}
			args = append(args, t)
		}
		for _, ci := range m.Key {
			col := &m.Columns[ci]
			t, err := c.text(encs[ci], col, e.After[col.Index])
			if err != nil {
				return nil, err
			}
			args = append(args, t)
		}
		return args, nil
	case sqlapply.RunTruncate:
		return nil, nil
	}
	return nil, errors.New("unknown run kind")
}

// noEquality lists types without an equality operator: a table without a
// key matches them by their text.
var noEquality = map[string]bool{"json": true, "xml": true, "point": true, "line": true, "lseg": true,
	"box": true, "path": true, "polygon": true, "circle": true}

func buildStatement(r sqlapply.Run) string {
	m := r.Mapping
	t := quoteName(m.Target)
	var b strings.Builder
	cols := func() {
		for i, c := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(c.Target.Name))
		}
	}
	switch r.Kind {
	case sqlapply.RunUpsert, sqlapply.RunInsert:
		b.WriteString("INSERT INTO " + t + " (")
		cols()
		b.WriteString(") OVERRIDING SYSTEM VALUE SELECT ")
		for i, c := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "u.c%d::%s", i+1, c.Target.Cast)
		}
		b.WriteString(" FROM unnest(")
		for i := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d::text[]", i+1)
		}
		b.WriteString(") AS u(")
		for i := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "c%d", i+1)
		}
		b.WriteString(")")
		if r.Kind == sqlapply.RunUpsert {
			b.WriteString(" ON CONFLICT (")
			for i, k := range m.Key {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(quoteIdent(m.Columns[k].Target.Name))
			}
			b.WriteString(") DO ")
			set := 0
			for _, c := range m.Columns {
				if c.Key {
					continue
				}
				if set == 0 {
					b.WriteString("UPDATE SET ")
				} else {
					b.WriteString(", ")
				}
				set++
				b.WriteString(quoteIdent(c.Target.Name) + " = EXCLUDED." + quoteIdent(c.Target.Name))
			}
			if set == 0 {
				b.WriteString("NOTHING")
			}
		}
	case sqlapply.RunDelete:
		b.WriteString("DELETE FROM " + t + " AS t USING unnest(")
		for i := range m.Key {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d::text[]", i+1)
		}
		b.WriteString(") AS u(")
		for i := range m.Key {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "c%d", i+1)
		}
		b.WriteString(") WHERE ")
		for i, k := range m.Key {
			if i > 0 {
				b.WriteString(" AND ")
			}
			c := m.Columns[k]
			fmt.Fprintf(&b, "t.%s = u.c%d::%s", quoteIdent(c.Target.Name), i+1, c.Target.Cast)
		}
	case sqlapply.RunUpdateRow, sqlapply.RunDeleteRow:
		match := func() {
			for i, c := range m.Columns {
				if i > 0 {
					b.WriteString(" AND ")
				}
				if noEquality[strings.TrimSuffix(strings.ToLower(c.Target.Type), "[]")] {
					fmt.Fprintf(&b, "%s::text IS NOT DISTINCT FROM $%d::%s::text", quoteIdent(c.Target.Name), i+1, c.Target.Cast)
				} else {
					fmt.Fprintf(&b, "%s IS NOT DISTINCT FROM $%d::%s", quoteIdent(c.Target.Name), i+1, c.Target.Cast)
				}
			}
		}
		n := len(m.Columns)
		if r.Kind == sqlapply.RunDeleteRow {
			b.WriteString("DELETE FROM " + t + " WHERE ctid = (SELECT ctid FROM " + t + " WHERE ")
			match()
			b.WriteString(" LIMIT 1)")
			break
		}
		b.WriteString("WITH u AS (UPDATE " + t + " SET ")
		for i, c := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = $%d::%s", quoteIdent(c.Target.Name), n+i+1, c.Target.Cast)
		}
		b.WriteString(" WHERE ctid = (SELECT ctid FROM " + t + " WHERE ")
		match()
		b.WriteString(" LIMIT 1) RETURNING 1) INSERT INTO " + t + " (")
		cols()
		b.WriteString(") OVERRIDING SYSTEM VALUE SELECT ")
		for i, c := range m.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d::%s", n+i+1, c.Target.Cast)
		}
		b.WriteString(" WHERE NOT EXISTS (SELECT 1 FROM u)")
	case sqlapply.RunUpdateSome:
		b.WriteString("UPDATE " + t + " SET ")
		p := 0
		for i, c := range m.Columns {
			if c.Key || !r.Present[i] {
				continue
			}
			if p > 0 {
				b.WriteString(", ")
			}
			p++
			fmt.Fprintf(&b, "%s = $%d::%s", quoteIdent(c.Target.Name), p, c.Target.Cast)
		}
		if p == 0 {
			k := quoteIdent(m.Columns[m.Key[0]].Target.Name)
			b.WriteString(k + " = " + k)
		}
		b.WriteString(" WHERE ")
		for i, k := range m.Key {
			if i > 0 {
				b.WriteString(" AND ")
			}
			p++
			c := m.Columns[k]
			fmt.Fprintf(&b, "%s = $%d::%s", quoteIdent(c.Target.Name), p, c.Target.Cast)
		}
	case sqlapply.RunTruncate:
		b.WriteString("TRUNCATE " + t)
	}
	return b.String()
}
