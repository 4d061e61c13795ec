package debezium

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

func str(optional bool) *pipeline.Schema {
	return &pipeline.Schema{Type: pipeline.TypeString, Optional: optional}
}

func i64(optional bool) *pipeline.Schema {
	return &pipeline.Schema{Type: pipeline.TypeInt64, Optional: optional}
}

func i32(optional bool) *pipeline.Schema {
	return &pipeline.Schema{Type: pipeline.TypeInt32, Optional: optional}
}

// commonSourceFields is the prefix every Debezium source block shares (SPEC §2.1).
func commonSourceFields() []pipeline.Field {
	snapshotDefault := pipeline.String("false")
	return []pipeline.Field{
		{Name: "version", Schema: str(false)},
		{Name: "connector", Schema: str(false)},
		{Name: "name", Schema: str(false)},
		{Name: "ts_ms", Schema: i64(false)},
		{Name: "snapshot", Schema: &pipeline.Schema{
			Type: pipeline.TypeString, Optional: true, Name: "io.debezium.data.Enum", Version: 1,
			Params:  []pipeline.Param{{Key: "allowed", Value: "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"}},
			Default: &snapshotDefault,
		}},
		{Name: "db", Schema: str(false)},
		{Name: "sequence", Schema: str(true)},
		{Name: "ts_us", Schema: i64(true)},
		{Name: "ts_ns", Schema: i64(true)},
	}
}

// mysqlSourceSchema is io.debezium.connector.mysql.Source; version is 1
// from Debezium 3.1 on and unset before.
func mysqlSourceSchema(version int) *pipeline.Schema {
	return &pipeline.Schema{
		Type: pipeline.TypeStruct, Name: "io.debezium.connector.mysql.Source", Version: version,
		Fields: append(commonSourceFields(),
			pipeline.Field{Name: "table", Schema: str(true)},
			pipeline.Field{Name: "server_id", Schema: i64(false)},
			pipeline.Field{Name: "gtid", Schema: str(true)},
			pipeline.Field{Name: "file", Schema: str(false)},
			pipeline.Field{Name: "pos", Schema: i64(false)},
			pipeline.Field{Name: "row", Schema: i32(false)},
			pipeline.Field{Name: "thread", Schema: i64(true)},
			pipeline.Field{Name: "query", Schema: str(true)},
		),
	}
}

func postgresSourceSchema() *pipeline.Schema {
	return &pipeline.Schema{
		Type: pipeline.TypeStruct, Name: "io.debezium.connector.postgresql.Source", Version: 1,
		Fields: append(commonSourceFields(),
			pipeline.Field{Name: "schema", Schema: str(false)},
			pipeline.Field{Name: "table", Schema: str(false)},
			pipeline.Field{Name: "txId", Schema: i64(true)},
			pipeline.Field{Name: "lsn", Schema: i64(true)},
			pipeline.Field{Name: "xmin", Schema: i64(true)},
		),
	}
}

// mysqlTail writes the MySQL fields of the source block as the MySQL
// source will; thread < 0 is null.
type mysqlTail struct {
	table    string
	serverID int64
	file     string
	pos      int64
	row      int64
	thread   int64
}

func (t mysqlTail) AppendSourceJSON(dst []byte) []byte {
	dst = append(dst, `,"table":`...)
	dst = AppendString(dst, t.table)
	dst = append(dst, `,"server_id":`...)
	dst = AppendInt(dst, t.serverID)
	dst = append(dst, `,"gtid":null,"file":`...)
	dst = AppendString(dst, t.file)
	dst = append(dst, `,"pos":`...)
	dst = AppendInt(dst, t.pos)
	dst = append(dst, `,"row":`...)
	dst = AppendInt(dst, t.row)
	dst = append(dst, `,"thread":`...)
	if t.thread < 0 {
		dst = append(dst, "null"...)
	} else {
		dst = AppendInt(dst, t.thread)
	}
	return append(dst, `,"query":null`...)
}

type postgresTail struct {
	schema, table string
	txID, lsn     int64
}

func (t postgresTail) AppendSourceJSON(dst []byte) []byte {
	dst = append(dst, `,"schema":`...)
	dst = AppendString(dst, t.schema)
	dst = append(dst, `,"table":`...)
	dst = AppendString(dst, t.table)
	dst = append(dst, `,"txId":`...)
	dst = AppendInt(dst, t.txID)
	dst = append(dst, `,"lsn":`...)
	dst = AppendInt(dst, t.lsn)
	return append(dst, `,"xmin":null`...)
}

// mysqlInsert is the event of SPEC §1.7 "MySQL, Debezium 3.0.7 … streaming
// insert", with the 3.1+ source schema (version 1).
func mysqlInsert() *pipeline.Event {
	table := pipeline.NewTable(pipeline.TableID{Database: "test", Name: "t_test"}, "test.test.t_test",
		[]pipeline.Column{{Name: "id", Schema: i32(false)}}, []int{0})
	info := &pipeline.SourceInfo{Version: "3.0.7.Final", Connector: "mysql", Name: "test", Schema: mysqlSourceSchema(1)}
	return &pipeline.Event{
		Op:    pipeline.OpCreate,
		Table: table,
		After: pipeline.Row{pipeline.Int(14)},
		Source: pipeline.SourceBlock{
			Info: info, TsUs: 1741000296000000, DB: "test",
			Tail: mysqlTail{table: "t_test", serverID: 1, file: "binlog.000004", pos: 3134, thread: 12},
		},
		TsNs: 1741000296823752600,
	}
}

// golden compares got with testdata/name, reporting where they part.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	want, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(got, []byte("\n")) {
		want = bytes.TrimSuffix(want, []byte("\n"))
	}
	if bytes.Equal(got, want) {
		return
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-80)
	t.Errorf("%s: output differs at byte %d\n got: …%s\nwant: …%s", name, i,
		got[lo:min(len(got), i+80)], want[lo:min(len(want), i+80)])
}
