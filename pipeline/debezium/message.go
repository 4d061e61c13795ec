package debezium

import "github.com/siphoncdc/siphon/pipeline"

// PostgresMessageSchema names the value schema of the pseudo-table a
// PostgreSQL source emits logical decoding messages with (columns prefix,
// content). The encoder writes such events in Debezium's message envelope
// (SPEC §5.5, LogicalDecodingMessageMonitor): op, ts_ms, source, message —
// no before/after, no envelope version.
const PostgresMessageSchema = "io.debezium.connector.postgresql.Message"

// renderMessage fills the static JSON of the logical decoding message
// pseudo-table.
func (enc *Encoder) renderMessage(f *tableFormat, value *pipeline.Schema, info *pipeline.SourceInfo) {
	f.message = true
	f.valueOpen = f.valueOpen[:0]
	if enc.opts.Schemas {
		source := &pipeline.Schema{Type: pipeline.TypeStruct}
		if info != nil && info.Schema != nil {
			source = info.Schema
		}
		envelope := &pipeline.Schema{
			Type: pipeline.TypeStruct,
			Name: "io.debezium.connector.postgresql.MessageValue",
			Fields: []pipeline.Field{
				{Name: "op", Schema: &pipeline.Schema{Type: pipeline.TypeString}},
				{Name: "ts_ms", Schema: &pipeline.Schema{Type: pipeline.TypeInt64, Optional: true}},
				{Name: "source", Schema: source},
				{Name: "message", Schema: value},
			},
		}
		f.valueOpen = append(f.valueOpen, `{"schema":`...)
		f.valueOpen = AppendSchema(f.valueOpen, envelope)
		f.valueOpen = append(f.valueOpen, `,"payload":`...)
	}
	f.valueOpen = append(f.valueOpen, `{"op":"m","ts_ms":`...)
}

func (enc *Encoder) appendMessageValue(dst []byte, e *pipeline.Event, f *tableFormat) []byte {
	dst = append(dst, f.valueOpen...)
	dst = AppendInt(dst, floorDiv(e.TsNs, 1_000_000))
	dst = enc.appendSourceBlock(dst, e, f)
	dst = append(dst, `,"message":`...)
	dst = appendRow(dst, e.After, f)
	dst = append(dst, '}')
	if enc.opts.Schemas {
		dst = append(dst, '}')
	}
	return dst
}
