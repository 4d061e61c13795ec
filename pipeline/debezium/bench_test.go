package debezium

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

// benchEvent is a 10-column MySQL insert: int64 id, varchar, int32,
// decimal, int64 timestamp, double, ~200-char text, int8, ZonedTimestamp,
// and a null.
func benchEvent() *pipeline.Event {
	cols := []pipeline.Column{
		{Name: "id", Schema: i64(false)},
		{Name: "name", Schema: str(true)},
		{Name: "qty", Schema: i32(true)},
		{Name: "price", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true, Name: "org.apache.kafka.connect.data.Decimal", Version: 1,
			Params: []pipeline.Param{{Key: "scale", Value: "2"}, {Key: "connect.decimal.precision", Value: "12"}}}},
		{Name: "created_at", Schema: &pipeline.Schema{Type: pipeline.TypeInt64, Optional: true, Name: "io.debezium.time.Timestamp", Version: 1}},
		{Name: "ratio", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64, Optional: true}},
		{Name: "body", Schema: str(true)},
		{Name: "flag", Schema: &pipeline.Schema{Type: pipeline.TypeInt8, Optional: true}},
		{Name: "updated_at", Schema: &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.time.ZonedTimestamp", Version: 1}},
		{Name: "note", Schema: str(true)},
	}
	table := pipeline.NewTable(pipeline.TableID{Database: "shop", Name: "orders"}, "bench.shop.orders", cols, []int{0})
	info := &pipeline.SourceInfo{Version: "0.1.0", Connector: "mysql", Name: "bench", Schema: mysqlSourceSchema(1)}
	body := strings.Repeat("Lorem ipsum dolor sit amet, \"quoted\" ", 5) + "ünïcödé tail\twith tab"
	return &pipeline.Event{
		Op:    pipeline.OpCreate,
		Table: table,
		After: pipeline.Row{
			pipeline.Int(1234567), pipeline.String("Coffee Maker Deluxe"), pipeline.Int(3),
			pipeline.Bytes(DecimalBytesInt64(1999999)), pipeline.Int(1741000296000),
			pipeline.Float64(0.8734), pipeline.String(body), pipeline.Int(1),
			pipeline.String("2025-02-12T10:10:04.123456Z"), pipeline.Null,
		},
		Source: pipeline.SourceBlock{
			Info: info, TsUs: 1741000296000000, DB: "shop",
			Tail: mysqlTail{table: "orders", serverID: 1, file: "binlog.000004", pos: 3134, thread: 12},
		},
		TsNs: 1741000296823752600,
	}
}

func BenchmarkEncode10Col(b *testing.B) {
	e := benchEvent()
	for _, bc := range []struct {
		name string
		opts Options
	}{
		{"schemas=true", Options{Schemas: true}},
		{"schemas=false", Options{Schemas: false}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			enc := NewEncoder(bc.opts)
			buf := enc.AppendKey(nil, e)
			buf = enc.AppendValue(buf, e)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = enc.AppendKey(buf[:0], e)
				buf = enc.AppendValue(buf, e)
			}
		})
	}
	// The reference: the same key and envelope built as Go values and
	// marshalled with encoding/json every time, as a naive encoder would.
	// (Its member order and float text differ from Debezium's; it is here
	// only to measure cost.)
	b.Run("encoding/json-reference", func(b *testing.B) {
		b.ReportAllocs()
		var n int
		for b.Loop() {
			k, err := json.Marshal(naiveRecord(e.Table.KeySchema, naiveKey(e)))
			if err != nil {
				b.Fatal(err)
			}
			v, err := json.Marshal(naiveRecord(naiveEnvelopeSchema(e), naiveEnvelope(e)))
			if err != nil {
				b.Fatal(err)
			}
			n = len(k) + len(v)
		}
		b.SetBytes(int64(n))
	})
}

type naiveSchema struct {
	Type       string            `json:"type"`
	Items      *naiveSchema      `json:"items,omitempty"`
	Fields     []naiveSchema     `json:"fields,omitempty"`
	Optional   bool              `json:"optional"`
	Name       string            `json:"name,omitempty"`
	Version    int               `json:"version,omitempty"`
	Parameters map[string]string `json:"parameters,omitempty"`
	Default    any               `json:"default,omitempty"`
	Field      string            `json:"field,omitempty"`
}

func toNaiveSchema(s *pipeline.Schema, field string) naiveSchema {
	n := naiveSchema{Type: s.Type.String(), Optional: s.Optional, Name: s.Name, Version: s.Version, Field: field}
	for _, f := range s.Fields {
		n.Fields = append(n.Fields, toNaiveSchema(f.Schema, f.Name))
	}
	if len(s.Params) > 0 {
		n.Parameters = map[string]string{}
		for _, p := range s.Params {
			n.Parameters[p.Key] = p.Value
		}
	}
	if s.Default != nil {
		n.Default = naiveValue(*s.Default)
	}
	return n
}

func naiveRecord(s *pipeline.Schema, payload any) map[string]any {
	return map[string]any{"schema": toNaiveSchema(s, ""), "payload": payload}
}

func naiveValue(v pipeline.Value) any {
	switch v.Kind() {
	case pipeline.KindBool:
		return v.AsBool()
	case pipeline.KindInt:
		return v.AsInt()
	case pipeline.KindFloat32, pipeline.KindFloat64:
		return v.AsFloat64()
	case pipeline.KindString:
		return v.AsString()
	case pipeline.KindBytes:
		return v.AsBytes()
	}
	return nil
}

func naiveRow(t *pipeline.Table, row pipeline.Row) map[string]any {
	if row == nil {
		return nil
	}
	m := make(map[string]any, len(row))
	for i, c := range t.Columns {
		m[c.Name] = naiveValue(row[i])
	}
	return m
}

func naiveKey(e *pipeline.Event) map[string]any {
	m := map[string]any{}
	for _, c := range e.Table.Key {
		m[e.Table.Columns[c].Name] = naiveValue(e.After[c])
	}
	return m
}

type naiveSource struct {
	Version   string  `json:"version"`
	Connector string  `json:"connector"`
	Name      string  `json:"name"`
	TsMs      int64   `json:"ts_ms"`
	Snapshot  string  `json:"snapshot"`
	DB        string  `json:"db"`
	Sequence  *string `json:"sequence"`
	TsUs      int64   `json:"ts_us"`
	TsNs      int64   `json:"ts_ns"`
	Table     string  `json:"table"`
	ServerID  int64   `json:"server_id"`
	GTID      *string `json:"gtid"`
	File      string  `json:"file"`
	Pos       int64   `json:"pos"`
	Row       int32   `json:"row"`
	Thread    int64   `json:"thread"`
	Query     *string `json:"query"`
}

type naiveEnvelopeValue struct {
	Before      map[string]any `json:"before"`
	After       map[string]any `json:"after"`
	Source      naiveSource    `json:"source"`
	Transaction any            `json:"transaction"`
	Op          string         `json:"op"`
	TsMs        int64          `json:"ts_ms"`
	TsUs        int64          `json:"ts_us"`
	TsNs        int64          `json:"ts_ns"`
}

func naiveEnvelope(e *pipeline.Event) naiveEnvelopeValue {
	s := e.Source
	tail := s.Tail.(mysqlTail)
	return naiveEnvelopeValue{
		Before: naiveRow(e.Table, e.Before),
		After:  naiveRow(e.Table, e.After),
		Source: naiveSource{
			Version: s.Info.Version, Connector: s.Info.Connector, Name: s.Info.Name,
			TsMs: s.TsUs / 1000, Snapshot: s.Snapshot.String(), DB: s.DB, TsUs: s.TsUs, TsNs: s.TsUs * 1000,
			Table: tail.table, ServerID: tail.serverID, File: tail.file, Pos: tail.pos, Row: int32(tail.row), Thread: tail.thread,
		},
		Op:   string(rune(e.Op)),
		TsMs: e.TsNs / 1e6, TsUs: e.TsNs / 1e3, TsNs: e.TsNs,
	}
}

func naiveEnvelopeSchema(e *pipeline.Event) *pipeline.Schema {
	return envelopeSchema(e.Table.Topic, e.Table.ValueSchema, e.Source.Info)
}
