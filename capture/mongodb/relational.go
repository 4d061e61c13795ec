package mongodb

import (
	"context"
	"fmt"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// Relational wraps a database sink (postgres, mysql) so that it can apply
// MongoDB events: each collection becomes a table of two columns, `_id`
// (text: the _id as relaxed Extended JSON, the Debezium key's id — the
// primary key) and `document` (io.debezium.data.Json: the whole document
// as relaxed Extended JSON, which is valid JSON). Inserts, replaces,
// looked-up updates and snapshot reads write the row, deletes remove it.
// An update whose document the server could no longer look up is left
// out: the document was deleted before the event was read, and that
// delete follows in the stream. The wrapped sink keeps its own position
// handling (pipeline.PositionedSink), so the exactly-once effect of SQL
// targets is kept.
func Relational(s pipeline.Sink) pipeline.Sink {
	r := &relational{sink: s, tables: map[*pipeline.Table]*pipeline.Table{}}
	if ps, ok := s.(pipeline.PositionedSink); ok {
		p := &positionedRelational{relational: r, ps: ps}
		if hs, ok := s.(pipeline.HoldingSink); ok {
			return &holdingRelational{positionedRelational: p, hs: hs}
		}
		return p
	}
	return r
}

// holdingRelational passes holding on to a sink that holds (see
// pipeline.HoldingSink).
type holdingRelational struct {
	*positionedRelational
	hs pipeline.HoldingSink
}

func (h *holdingRelational) AllowHolding()                   { h.hs.AllowHolding() }
func (h *holdingRelational) Holding() bool                   { return h.hs.Holding() }
func (h *holdingRelational) Flush(ctx context.Context) error { return h.hs.Flush(ctx) }

type relational struct {
	sink   pipeline.Sink
	tables map[*pipeline.Table]*pipeline.Table // MongoDB table → its relational view
	buf    []byte
}

type positionedRelational struct {
	*relational
	ps pipeline.PositionedSink
}

func (p *positionedRelational) StoredPosition(ctx context.Context) (pipeline.Position, error) {
	return p.ps.StoredPosition(ctx)
}

func (p *positionedRelational) ResumeFrom(ctx context.Context, from pipeline.Position) error {
	return p.ps.ResumeFrom(ctx, from)
}

func (r *relational) Close() error { return r.sink.Close() }

// Write converts the batch's MongoDB events into rows and hands a copy of
// the batch to the wrapped sink (the batch itself is shared by every sink).
func (r *relational) Write(ctx context.Context, b *pipeline.Batch) error {
	out := &pipeline.Batch{Events: make([]pipeline.Event, 0, len(b.Events)), Position: b.Position, Bytes: b.Bytes}
	for i := range b.Events {
		e := b.Events[i]
		if !debezium.IsMongo(&e) {
			out.Events = append(out.Events, e)
			continue
		}
		converted, ok, err := r.convert(&e)
		if err != nil {
			return fmt.Errorf("mongodb to %s.%s: %w", e.Table.ID.Database, e.Table.ID.Name, err)
		}
		if ok {
			out.Events = append(out.Events, converted)
		} else if e.TxEnd && len(out.Events) > 0 {
			out.Events[len(out.Events)-1].TxEnd = true
		}
	}
	return r.sink.Write(ctx, out)
}

func (r *relational) table(t *pipeline.Table) *pipeline.Table {
	v := r.tables[t]
	if v == nil {
		text := &pipeline.Schema{Type: pipeline.TypeString}
		json := &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Json", Version: 1}
		v = pipeline.NewTable(t.ID, t.Topic, []pipeline.Column{
			{Name: "_id", Schema: text, Native: pipeline.NativeType{Name: "text", Full: "text"}},
			{Name: "document", Schema: json, Native: pipeline.NativeType{Name: "json", Full: "json"}},
		}, []int{0})
		r.tables[t] = v
	}
	return v
}

func (r *relational) convert(e *pipeline.Event) (pipeline.Event, bool, error) {
	row := e.After
	if row == nil {
		row = e.Before
	}
	id, ok := rawMember(row, debezium.MongoID)
	if !ok {
		return pipeline.Event{}, false, fmt.Errorf("event without _id")
	}
	r.buf = r.buf[:0]
	idText, ok := debezium.AppendExtJSON(r.buf, id, debezium.ExtJSONRelaxed)
	if !ok {
		return pipeline.Event{}, false, fmt.Errorf("malformed _id")
	}
	key := string(idText[len(`{"_id": `) : len(idText)-1])
	out := *e
	out.Table = r.table(e.Table)
	out.PeerKey = nil
	keyRow := pipeline.Row{pipeline.String(key), pipeline.Null}
	switch e.Op {
	case pipeline.OpDelete:
		out.Before, out.After = keyRow, nil
		return out, true, nil
	case pipeline.OpCreate, pipeline.OpUpdate, pipeline.OpRead:
		doc, ok := rawMember(e.After, debezium.MongoDocument)
		if !ok {
			return pipeline.Event{}, false, nil
		}
		text, ok := debezium.AppendExtJSON(nil, doc, debezium.ExtJSONRelaxed)
		if !ok {
			return pipeline.Event{}, false, fmt.Errorf("malformed document with _id %s", key)
		}
		out.After = pipeline.Row{pipeline.String(key), pipeline.String(string(text))}
		out.Before = nil
		if e.Op == pipeline.OpUpdate {
			out.Before = keyRow
		}
		return out, true, nil
	}
	return pipeline.Event{}, false, fmt.Errorf("operation %c", e.Op)
}

func rawMember(row pipeline.Row, i int) ([]byte, bool) {
	if len(row) <= i || row[i].Kind() != pipeline.KindBytes {
		return nil, false
	}
	return row[i].AsBytes(), true
}
