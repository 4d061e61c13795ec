package postgres

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
)

// TestSourceBlockMatchesDebezium encodes the update of SPEC §1.7
// (Debezium 3.1.3, pgoutput, REPLICA IDENTITY FULL) with siphon's source
// block and compares it with testdata/update_value.json: the 3.1.3
// capture with the 3.5+ origin fields added.
func TestSourceBlockMatchesDebezium(t *testing.T) {
	str := func(opt bool) *pipeline.Schema { return &pipeline.Schema{Type: pipeline.TypeString, Optional: opt} }
	def := pipeline.Int(0)
	id := &pipeline.Schema{Type: pipeline.TypeInt32, Default: &def}
	table := pipeline.NewTable(pipeline.TableID{Schema: "inventory", Name: "customers"}, "dbserver1.inventory.customers",
		[]pipeline.Column{{Name: "id", Schema: id}, {Name: "first_name", Schema: str(false)}, {Name: "last_name", Schema: str(false)}, {Name: "email", Schema: str(false)}},
		[]int{0})
	row := func(email string) pipeline.Row {
		return pipeline.Row{pipeline.Int(1006), pipeline.String("Liam"), pipeline.String("Han"), pipeline.String(email)}
	}
	e := &pipeline.Event{
		Op: pipeline.OpUpdate, Table: table, Before: row("liam2@example.com"), After: row("liam3@example.com"),
		Source: pipeline.SourceBlock{
			Info: sourceInfo("3.1.3.Final", "dbserver1"), TsUs: 1766925059528750, DB: "postgres",
			Sequence: sequence(34389280, 34389336),
			Tail:     &pgTail{schema: "inventory", table: "customers", txID: 779, lsn: 34389336},
		},
		TsNs: 1766925059873428925,
	}
	got := debezium.NewEncoder(debezium.Options{Schemas: true}).AppendValue(nil, e)
	want, err := os.ReadFile(filepath.Join("testdata", "update_value.json"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want[:len(want)-1]) {
		t.Fatalf("value differs\n got: %s\nwant: %s", got, want)
	}
}

func TestTailNullsAndOrigin(t *testing.T) {
	tests := []struct {
		tail pgTail
		want string
	}{
		{pgTail{schema: "s", table: "t", txID: -1, lsn: -1}, `,"schema":"s","table":"t","txId":null,"lsn":null,"xmin":null,"origin":null,"origin_lsn":null`},
		{pgTail{txID: 5, lsn: 6, origin: "up", originLSN: 9}, `,"schema":"","table":"","txId":5,"lsn":6,"xmin":null,"origin":"up","origin_lsn":9`},
	}
	for _, tc := range tests {
		if got := string(tc.tail.AppendSourceJSON(nil)); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
	if s := sequence(0, 7); s != `[null,"7"]` {
		t.Errorf("sequence %s", s)
	}
}

// TestLogicalMessageEnvelope checks a logical decoding message against the
// shape of Debezium's LogicalDecodingMessageMonitor (SPEC §5.5): key
// {prefix} named MessageKey; value op, ts_ms, source, message{prefix,
// content} — no before/after, no envelope version.
func TestLogicalMessageEnvelope(t *testing.T) {
	e := &pipeline.Event{
		Op: pipeline.OpMessage, Table: messageTable("dbserver1"),
		After: pipeline.Row{pipeline.String("audit"), pipeline.Bytes([]byte("hi"))},
		Source: pipeline.SourceBlock{
			Info: sourceInfo("3.1.3.Final", "dbserver1"), TsUs: 1766925059528750, DB: "postgres",
			Sequence: sequence(34389280, 34389336),
			Tail:     &pgTail{txID: 779, lsn: 34389336},
		},
		TsNs: 1766925059873428925,
	}
	const source = `"source":{"version":"3.1.3.Final","connector":"postgresql","name":"dbserver1","ts_ms":1766925059528,"snapshot":"false","db":"postgres","sequence":"[\"34389280\",\"34389336\"]","ts_us":1766925059528750,"ts_ns":1766925059528750000,"schema":"","table":"","txId":779,"lsn":34389336,"xmin":null,"origin":null,"origin_lsn":null}`
	bare := debezium.NewEncoder(debezium.Options{})
	if got, want := string(bare.AppendValue(nil, e)), `{"op":"m","ts_ms":1766925059873,`+source+`,"message":{"prefix":"audit","content":"aGk="}}`; got != want {
		t.Errorf("value\n got: %s\nwant: %s", got, want)
	}
	if got, want := string(bare.AppendKey(nil, e)), `{"prefix":"audit"}`; got != want {
		t.Errorf("key %s, want %s", got, want)
	}
	withSchemas := debezium.NewEncoder(debezium.Options{Schemas: true})
	key := string(withSchemas.AppendKey(nil, e))
	if want := `{"schema":{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey"},"payload":{"prefix":"audit"}}`; key != want {
		t.Errorf("key with schema\n got: %s\nwant: %s", key, want)
	}
	value := string(withSchemas.AppendValue(nil, e))
	for _, part := range []string{
		`{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"struct","fields":[`,
		`"name":"io.debezium.connector.postgresql.Source","version":1,"field":"source"},{"type":"struct","fields":[{"type":"string","optional":true,"field":"prefix"},{"type":"bytes","optional":true,"field":"content"}],"optional":false,"name":"io.debezium.connector.postgresql.Message","field":"message"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue"},"payload":{"op":"m","ts_ms":1766925059873,` + source + `,"message":{"prefix":"audit","content":"aGk="}}}`,
	} {
		if !strings.Contains(value, part) {
			t.Errorf("value with schema lacks\n%s\nin\n%s", part, value)
		}
	}
}
