package mysql

import (
	"strconv"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// sourceInfo declares the source block of Debezium's MySQL or MariaDB
// connector (SPEC §2.1, §2.3; struct version 1 as in Debezium 3.1+).
func sourceInfo(flavor Flavor, version, topicPrefix string) *pipeline.SourceInfo {
	connector := "mysql"
	if flavor == FlavorMariaDB {
		connector = "mariadb"
	}
	str := func(optional bool) *pipeline.Schema {
		return &pipeline.Schema{Type: pipeline.TypeString, Optional: optional}
	}
	i64 := func(optional bool) *pipeline.Schema {
		return &pipeline.Schema{Type: pipeline.TypeInt64, Optional: optional}
	}
	def := pipeline.String("false")
	schema := &pipeline.Schema{
		Type:    pipeline.TypeStruct,
		Name:    "io.debezium.connector." + connector + ".Source",
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
			{Name: "table", Schema: str(true)},
			{Name: "server_id", Schema: i64(false)},
			{Name: "gtid", Schema: str(true)},
			{Name: "file", Schema: str(false)},
			{Name: "pos", Schema: i64(false)},
			{Name: "row", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
			{Name: "thread", Schema: i64(true)},
			{Name: "query", Schema: str(true)},
		},
	}
	return &pipeline.SourceInfo{Version: version, Connector: connector, Name: topicPrefix, Schema: schema}
}

// binlogTail holds the MySQL-specific source fields of one event.
type binlogTail struct {
	table    string
	gtid     string // "" → null
	file     string
	serverID uint32
	pos      uint32
	row      int32
	thread   int64 // < 0 → null
}

// AppendSourceJSON writes table … query.
func (t *binlogTail) AppendSourceJSON(dst []byte) []byte {
	dst = append(dst, `,"table":`...)
	dst = debezium.AppendString(dst, t.table)
	dst = append(dst, `,"server_id":`...)
	dst = strconv.AppendUint(dst, uint64(t.serverID), 10)
	dst = append(dst, `,"gtid":`...)
	if t.gtid == "" {
		dst = append(dst, "null"...)
	} else {
		dst = debezium.AppendString(dst, t.gtid)
	}
	dst = append(dst, `,"file":`...)
	dst = debezium.AppendString(dst, t.file)
	dst = append(dst, `,"pos":`...)
	dst = strconv.AppendUint(dst, uint64(t.pos), 10)
	dst = append(dst, `,"row":`...)
	dst = strconv.AppendInt(dst, int64(t.row), 10)
	dst = append(dst, `,"thread":`...)
	if t.thread < 0 {
		dst = append(dst, "null"...)
	} else {
		dst = strconv.AppendInt(dst, t.thread, 10)
	}
	return append(dst, `,"query":null`...)
}
