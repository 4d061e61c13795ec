package postgres

import (
	"os"
	"path/filepath"
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
