package postgres

import (
	"strconv"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// sourceInfo declares the source block of Debezium's PostgreSQL connector
// (SPEC §2.4; struct version 1 as in 3.1+, origin fields as in 3.5+).
func sourceInfo(version, topicPrefix string) *pipeline.SourceInfo {
	str := func(optional bool) *pipeline.Schema {
		return &pipeline.Schema{Type: pipeline.TypeString, Optional: optional}
	}
	i64 := func(optional bool) *pipeline.Schema {
		return &pipeline.Schema{Type: pipeline.TypeInt64, Optional: optional}
	}
	def := pipeline.String("false")
	schema := &pipeline.Schema{
		Type:    pipeline.TypeStruct,
		Name:    "io.debezium.connector.postgresql.Source",
		Version: 1,
		Fields: []pipeline.Field{
			{Name: "version", Schema: str(false)},
			{Name: "connector", Schema: str(false)},
			{Name: "name", Schema: str(false)},
			{Name: "ts_ms", Schema: i64(false)},
			{Name: "snapshot", Schema: &pipeline.Schema{
				Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Enum", Version: 1,
				Params:  []pipeline.Param{{Key: "allowed", Value: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}},
				Default: &def,
			}},
			{Name: "db", Schema: str(false)},
			{Name: "sequence", Schema: str(true)},
			{Name: "ts_us", Schema: i64(true)},
			{Name: "ts_ns", Schema: i64(true)},
			{Name: "schema", Schema: str(false)},
			{Name: "table", Schema: str(false)},
			{Name: "txId", Schema: i64(true)},
			{Name: "lsn", Schema: i64(true)},
			{Name: "xmin", Schema: i64(true)},
			{Name: "origin", Schema: str(true)},
			{Name: "origin_lsn", Schema: i64(true)},
		},
	}
	return &pipeline.SourceInfo{Version: version, Connector: "postgresql", Name: topicPrefix, Schema: schema}
}

// pgTail holds the PostgreSQL-specific source fields of one event.
type pgTail struct {
	schema, table string
	txID          int64 // < 0 → null
	lsn           int64 // < 0 → null
	origin        string
	originLSN     uint64 // origin set → origin_lsn written
}

// AppendSourceJSON writes schema … origin_lsn; xmin is always null
// (Debezium fills it only with xmin.fetch.interval.ms > 0).
func (t *pgTail) AppendSourceJSON(dst []byte) []byte {
	dst = append(dst, `,"schema":`...)
	dst = debezium.AppendString(dst, t.schema)
	dst = append(dst, `,"table":`...)
	dst = debezium.AppendString(dst, t.table)
	dst = append(dst, `,"txId":`...)
	if t.txID < 0 {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, t.txID, 10)
	}
	dst = append(dst, `,"lsn":`...)
	if t.lsn < 0 {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, t.lsn, 10)
	}
	dst = append(dst, `,"xmin":null,"origin":`...)
	if t.origin == "" {
		return append(dst, `null,"origin_lsn":null`...)
	}
	dst = debezium.AppendString(dst, t.origin)
	dst = append(dst, `,"origin_lsn":`...)
	return strconv.AppendUint(dst, t.originLSN, 10)
}

// sequence is Debezium's source.sequence: ["<last commit lsn>","<lsn>"],
// each element null when unknown.
func sequence(lastCommit, lsn uint64) string {
	b := make([]byte, 0, 48)
	b = append(b, '[')
	if lastCommit == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = strconv.AppendUint(b, lastCommit, 10)
		b = append(b, '"')
	}
	b = append(b, ',')
	if lsn == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = strconv.AppendUint(b, lsn, 10)
		b = append(b, '"')
	}
	return string(append(b, ']'))
}
