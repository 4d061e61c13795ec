package sqlapply

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// ApplyError is an event the target refused.
type ApplyError struct {
	Target    string // the sink, e.g. "postgres sink 127.0.0.1:5432/db"
	Table     pipeline.TableID
	TargetTab Name
	Key       string // "id=5", or the row for a table without a key
	Source    string // the event's source position (its source block)
	Statement string
	Err       error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("%s: table %s (target %s): key %s: at source %s: %v",
		e.Target, e.Table, e.TargetTab, e.Key, e.Source, e.Err)
}

func (e *ApplyError) Unwrap() error { return e.Err }

// describeKey renders an event's key (or, without one, its row) as
// name=value pairs.
func describeKey(e *pipeline.Event, m *Mapping) string {
	row := e.After
	if row == nil {
		row = e.Before
	}
	var b strings.Builder
	idx := m.Key
	if len(idx) == 0 {
		idx = make([]int, len(m.Columns))
		for i := range idx {
			idx[i] = i
		}
	}
	for n, k := range idx {
		c := m.Columns[k]
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		if c.Index < len(row) {
			b.WriteString(shortValue(row[c.Index]))
		}
	}
	return b.String()
}

func shortValue(v pipeline.Value) string {
	var s string
	switch v.Kind() {
	case pipeline.KindNull:
		return "NULL"
	case pipeline.KindBool:
		s = strconv.FormatBool(v.AsBool())
	case pipeline.KindInt:
		s = strconv.FormatInt(v.AsInt(), 10)
	case pipeline.KindFloat32, pipeline.KindFloat64:
		s = strconv.FormatFloat(v.AsFloat64(), 'g', -1, 64)
	case pipeline.KindString:
		s = strconv.Quote(v.AsString())
	case pipeline.KindBytes:
		s = fmt.Sprintf("0x%x", v.AsBytes())
	default:
		s = fmt.Sprintf("%d values", len(v.Elems()))
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// sourcePosition renders the connector-specific fields of an event's
// source block (file, pos, row, gtid for MySQL; lsn, txId for PostgreSQL).
func sourcePosition(e *pipeline.Event) string {
	if e.Source.Tail == nil {
		return "{}"
	}
	tail := e.Source.Tail.AppendSourceJSON(nil)
	if len(tail) > 0 && tail[0] == ',' {
		tail = tail[1:]
	}
	return "{" + string(tail) + "}"
}

// poison handles an event the target refused: into the dead-letter file
// when there is one, else an error that stops the pipeline.
func (s *Sink) poison(e *pipeline.Event, m *Mapping, stmt string, err error) error {
	ae := &ApplyError{Target: s.d.Target(), Table: e.Table.ID, TargetTab: m.Target, Key: describeKey(e, m),
		Source: sourcePosition(e), Statement: stmt, Err: err}
	if s.dead == nil {
		return ae
	}
	if werr := s.dead.write(s.o.Pipeline, e, ae); werr != nil {
		return fmt.Errorf("%w (and the dead-letter file failed: %w)", ae, werr)
	}
	s.o.Stats.AddDeadLettered(1)
	s.log.Warn("event dead-lettered", "table", e.Table.ID.String(), "target", m.Target.String(), "key", ae.Key,
		"source", ae.Source, "error", err.Error(), "dead_lettered", s.o.Stats.DeadLettered(), "file", s.dead.path)
	return nil
}

// deadLetter appends refused events to a JSON-lines file, fsynced before
// the transaction that skips them commits.
type deadLetter struct {
	mu   sync.Mutex
	path string
	f    *os.File
	enc  *debezium.Encoder
	buf  []byte
}

func openDeadLetter(path string) (*deadLetter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	return &deadLetter{path: path, f: f, enc: debezium.NewEncoder(debezium.Options{Schemas: true})}, nil
}

// deadLetterRecord is one line of the file: what failed, where, and the
// event itself as a Debezium record (key and value with schemas), enough
// to apply it again.
type deadLetterRecord struct {
	Time        string          `json:"time"`
	Pipeline    string          `json:"pipeline"`
	Target      string          `json:"target"`
	Table       string          `json:"table"`
	TargetTable string          `json:"target_table"`
	Op          string          `json:"op"`
	Key         string          `json:"key"`
	Source      json.RawMessage `json:"source"`
	Statement   string          `json:"statement"`
	Error       string          `json:"error"`
	Topic       string          `json:"topic"`
	EventKey    json.RawMessage `json:"event_key"`
	EventValue  json.RawMessage `json:"event_value"`
}

func (d *deadLetter) write(pipelineName string, e *pipeline.Event, ae *ApplyError) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := d.enc.AppendKey(nil, e)
	value := d.enc.AppendValue(nil, e)
	rec := deadLetterRecord{
		Time: time.Now().UTC().Format(time.RFC3339Nano), Pipeline: pipelineName, Target: ae.Target,
		Table: ae.Table.String(), TargetTable: ae.TargetTab.String(), Op: string(e.Op), Key: ae.Key,
		Source: json.RawMessage(ae.Source), Statement: ae.Statement, Error: ae.Err.Error(),
		Topic: e.Table.Topic, EventKey: key, EventValue: value,
	}
	if !json.Valid(rec.Source) {
		rec.Source = json.RawMessage("null")
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	d.buf = append(append(d.buf[:0], line...), '\n')
	if _, err := d.f.Write(d.buf); err != nil {
		return err
	}
	return d.f.Sync()
}

func (d *deadLetter) close() error { return d.f.Close() }
