package debezium

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

func TestGoldenMySQLInsert(t *testing.T) {
	e := mysqlInsert()
	enc := NewEncoder(Options{Schemas: true, Tombstones: true})
	golden(t, "mysql_insert_value.json", enc.AppendValue(nil, e))
	golden(t, "mysql_insert_key.json", enc.AppendKey(nil, e))
	// A second encoding comes from the cached schema and must not differ.
	golden(t, "mysql_insert_value.json", enc.AppendValue(nil, e))

	bare := NewEncoder(Options{Schemas: false})
	golden(t, "mysql_insert_value_noschemas.json", bare.AppendValue(nil, e))
	if got := string(bare.AppendKey(nil, e)); got != `{"id":14}` {
		t.Errorf("bare key = %s, want {\"id\":14}", got)
	}
}

// TestGoldenMySQLSnapshot273 reproduces a real Debezium 2.7.3 snapshot
// record (SPEC §1.7): FLOAT as "float" printed by Float.toString,
// ZonedTimestamp strings, snapshot "true", a null thread.
func TestGoldenMySQLSnapshot273(t *testing.T) {
	zoned := &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Name: "io.debezium.time.ZonedTimestamp", Version: 1}
	cols := []pipeline.Column{
		{Name: "id", Schema: i64(false)},
		{Name: "name", Schema: str(true)},
		{Name: "description", Schema: str(true)},
		{Name: "category", Schema: str(true)},
		{Name: "price", Schema: &pipeline.Schema{Type: pipeline.TypeFloat32, Optional: true}},
		{Name: "image", Schema: str(true)},
		{Name: "created_at", Schema: zoned},
		{Name: "updated_at", Schema: zoned},
	}
	table := pipeline.NewTable(pipeline.TableID{Database: "demosrc", Name: "products"}, "simply.demosrc.products", cols, []int{0})
	info := &pipeline.SourceInfo{Version: "2.7.3.Final", Connector: "mysql", Name: "simply", Schema: mysqlSourceSchema(0)}
	e := &pipeline.Event{
		Op:    pipeline.OpRead,
		Table: table,
		After: pipeline.Row{
			pipeline.Int(8), pipeline.String("Coffee Maker"), pipeline.String("Brew the perfect cup of coffee every time"),
			pipeline.String("Home Appliances"), pipeline.Float32(99.99), pipeline.String("https://example.com/images/coffeemaker.jpg"),
			pipeline.String("2025-02-12T10:10:04Z"), pipeline.String("2025-02-12T10:10:04Z"),
		},
		Source: pipeline.SourceBlock{
			Info: info, TsUs: 1739381500000000, Snapshot: pipeline.SnapshotTrue, DB: "demosrc",
			Tail: mysqlTail{table: "products", serverID: 0, file: "binlog.000002", pos: 157, thread: -1},
		},
		TsNs: 1739381500972608564,
	}
	golden(t, "mysql_snapshot_273_value.json", NewEncoder(Options{Schemas: true}).AppendValue(nil, e))
}

// TestGoldenPostgresUpdate313 reproduces a real Debezium 3.1.3 pgoutput
// update (SPEC §1.7): a schema default on a field, a non-null sequence.
func TestGoldenPostgresUpdate313(t *testing.T) {
	zero := pipeline.Int(0)
	cols := []pipeline.Column{
		{Name: "id", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Default: &zero}},
		{Name: "first_name", Schema: str(false)},
		{Name: "last_name", Schema: str(false)},
		{Name: "email", Schema: str(false)},
	}
	table := pipeline.NewTable(pipeline.TableID{Schema: "inventory", Name: "customers"}, "dbserver1.inventory.customers", cols, []int{0})
	info := &pipeline.SourceInfo{Version: "3.1.3.Final", Connector: "postgresql", Name: "dbserver1", Schema: postgresSourceSchema()}
	row := func(email string) pipeline.Row {
		return pipeline.Row{pipeline.Int(1006), pipeline.String("Liam"), pipeline.String("Han"), pipeline.String(email)}
	}
	e := &pipeline.Event{
		Op:     pipeline.OpUpdate,
		Table:  table,
		Before: row("liam2@example.com"),
		After:  row("liam3@example.com"),
		Source: pipeline.SourceBlock{
			Info: info, TsUs: 1766925059528750, DB: "postgres", Sequence: `["34389280","34389336"]`,
			Tail: postgresTail{schema: "inventory", table: "customers", txID: 779, lsn: 34389336},
		},
		TsNs: 1766925059873428925,
	}
	enc := NewEncoder(Options{Schemas: true})
	golden(t, "postgres_update_313_value.json", enc.AppendValue(nil, e))
	wantKey := `{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"default":0,"field":"id"}],"optional":false,"name":"dbserver1.inventory.customers.Key"},"payload":{"id":1006}}`
	if got := string(enc.AppendKey(nil, e)); got != wantKey {
		t.Errorf("key\n got %s\nwant %s", got, wantKey)
	}
}

func TestGoldenDeleteTombstoneLines(t *testing.T) {
	e := mysqlInsert()
	e.Op = pipeline.OpDelete
	e.Before, e.After = e.After, nil
	got := NewEncoder(Options{Schemas: true, Tombstones: true}).AppendLines(nil, e)
	golden(t, "delete_tombstone_lines.jsonl", got)
	checkLines(t, got, 2)

	without := NewEncoder(Options{Schemas: true}).AppendLines(nil, e)
	if n := bytes.Count(without, []byte("\n")); n != 1 {
		t.Errorf("Tombstones off: %d lines, want 1", n)
	}
}

func nullKeyTable() *pipeline.Table {
	return pipeline.NewTable(pipeline.TableID{Database: "test", Name: "audit_log"}, "test.test.audit_log",
		[]pipeline.Column{{Name: "msg", Schema: str(true)}, {Name: "n", Schema: i64(true)}}, nil)
}

func TestGoldenNullKeyLines(t *testing.T) {
	e := mysqlInsert()
	e.Table = nullKeyTable()
	e.After = pipeline.Row{pipeline.String("hello <b>&</b> \"wörld\"\n"), pipeline.Null}
	e.Source.Tail = mysqlTail{table: "audit_log", serverID: 1, file: "binlog.000004", pos: 3300, thread: 12}
	del := *e
	del.Op = pipeline.OpDelete
	del.Before, del.After = e.After, nil

	enc := NewEncoder(Options{Schemas: true, Tombstones: true})
	if got := string(enc.AppendKey(nil, e)); got != "null" {
		t.Errorf("key = %s, want null", got)
	}
	got := enc.AppendLines(nil, e)
	got = enc.AppendLines(got, &del)
	golden(t, "null_key_lines.jsonl", got)
	checkLines(t, got, 3)
}

// checkLines asserts the file-sink line shape: n JSON objects with exactly
// topic, key and value.
func checkLines(t *testing.T, out []byte, n int) {
	t.Helper()
	lines := bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n"))
	if len(lines) != n {
		t.Fatalf("%d lines, want %d", len(lines), n)
	}
	for i, l := range lines {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if len(m) != 3 || m["topic"] == nil || m["key"] == nil || m["value"] == nil {
			t.Errorf("line %d has members %v, want topic, key, value", i, keys(m))
		}
	}
}

func keys(m map[string]json.RawMessage) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestPayloadKinds(t *testing.T) {
	f64 := &pipeline.Schema{Type: pipeline.TypeFloat64}
	point := &pipeline.Schema{Type: pipeline.TypeStruct, Optional: true, Name: "io.debezium.data.geometry.Point", Version: 1,
		Fields: []pipeline.Field{
			{Name: "x", Schema: f64}, {Name: "y", Schema: f64},
			{Name: "wkb", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true}},
			{Name: "srid", Schema: i32(true)},
		}}
	vector := &pipeline.Schema{Type: pipeline.TypeArray, Optional: true, Items: &pipeline.Schema{Type: pipeline.TypeFloat32}}
	hstore := &pipeline.Schema{Type: pipeline.TypeMap, Optional: true, Keys: str(false), Values: str(true)}
	intMap := &pipeline.Schema{Type: pipeline.TypeMap, Optional: true, Keys: i32(false), Values: str(true)}
	decimal := &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true, Name: "org.apache.kafka.connect.data.Decimal", Version: 1,
		Params: []pipeline.Param{{Key: "scale", Value: "4"}, {Key: "connect.decimal.precision", Value: "10"}}}
	cols := []pipeline.Column{
		{Name: "b", Schema: &pipeline.Schema{Type: pipeline.TypeBoolean, Optional: true}},
		{Name: "f", Schema: &pipeline.Schema{Type: pipeline.TypeFloat32, Optional: true}},
		{Name: "d", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64, Optional: true}},
		{Name: "nan", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64, Optional: true}},
		{Name: "dec", Schema: decimal},
		{Name: "empty", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true}},
		{Name: "pt", Schema: point},
		{Name: "vec", Schema: vector},
		{Name: "hs", Schema: hstore},
		{Name: "im", Schema: intMap},
		{Name: "short", Schema: point},
		{Name: "missing", Schema: str(true)},
	}
	table := pipeline.NewTable(pipeline.TableID{Database: "db", Name: "k"}, "p.db.k", cols, nil)
	e := &pipeline.Event{Op: pipeline.OpCreate, Table: table, After: pipeline.Row{
		pipeline.Bool(true), pipeline.Float32(0.1), pipeline.Float64(1e7), pipeline.Float64(math.NaN()),
		pipeline.Bytes(DecimalBytesInt64(-1880)), pipeline.Bytes(nil),
		pipeline.Struct(pipeline.Float64(1), pipeline.Float64(-2.5), pipeline.Bytes([]byte{1, 2, 3}), pipeline.Null),
		pipeline.Array(pipeline.Float32(1), pipeline.Float32(3.4028235e38)),
		pipeline.Array(pipeline.Struct(pipeline.String("a"), pipeline.String("1")), pipeline.Struct(pipeline.String("b"), pipeline.Null)),
		pipeline.Array(pipeline.Struct(pipeline.Int(7), pipeline.String("x"))),
		pipeline.Struct(pipeline.Float64(0.001)),
		// "missing" has no value in the row at all.
	}}
	got := string(NewEncoder(Options{}).AppendValue(nil, e))
	wantAfter := `"after":{"b":true,"f":0.1,"d":1.0E7,"nan":"NaN","dec":"+Kg=","empty":"",` +
		`"pt":{"x":1.0,"y":-2.5,"wkb":"AQID","srid":null},"vec":[1.0,3.4028235E38],` +
		`"hs":{"a":"1","b":null},"im":[[7,"x"]],"short":{"x":0.001,"y":null,"wkb":null,"srid":null},"missing":null}`
	if !bytes.Contains([]byte(got), []byte(wantAfter)) {
		t.Errorf("value\n got %s\nwant …%s…", got, wantAfter)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("invalid JSON: %s", got)
	}
}

func TestEnvelopeWithoutSource(t *testing.T) {
	e := mysqlInsert()
	e.Source = pipeline.SourceBlock{}
	got := string(NewEncoder(Options{}).AppendValue(nil, e))
	want := `{"before":null,"after":{"id":14},"source":null,"transaction":null,"op":"c","ts_ms":1741000296823,"ts_us":1741000296823752,"ts_ns":1741000296823752600}`
	if got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestSourceBlockFields(t *testing.T) {
	tests := []struct {
		name  string
		block pipeline.SourceBlock
		want  string
	}{
		{"streaming", pipeline.SourceBlock{TsUs: 1_500_123, DB: "d"},
			`"source":{"version":"v","connector":"c","name":"n","ts_ms":1500,"snapshot":"false","db":"d","sequence":null,"ts_us":1500123,"ts_ns":1500123000}`},
		{"last snapshot row", pipeline.SourceBlock{TsUs: 2000, Snapshot: pipeline.SnapshotLast, DB: ""},
			`"source":{"version":"v","connector":"c","name":"n","ts_ms":2,"snapshot":"last","db":"","sequence":null,"ts_us":2000,"ts_ns":2000000}`},
		{"incremental with sequence", pipeline.SourceBlock{Snapshot: pipeline.SnapshotIncremental, Sequence: `["1",null]`},
			`"source":{"version":"v","connector":"c","name":"n","ts_ms":0,"snapshot":"incremental","db":"","sequence":"[\"1\",null]","ts_us":0,"ts_ns":0}`},
		{"before the epoch", pipeline.SourceBlock{TsUs: -1500},
			`"source":{"version":"v","connector":"c","name":"n","ts_ms":-2,"snapshot":"false","db":"","sequence":null,"ts_us":-1500,"ts_ns":-1500000}`},
	}
	info := &pipeline.SourceInfo{Version: "v", Connector: "c", Name: "n", Schema: mysqlSourceSchema(1)}
	enc := NewEncoder(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mysqlInsert()
			e.Source = tt.block
			e.Source.Info = info
			got := string(enc.AppendValue(nil, e))
			if !bytes.Contains([]byte(got), []byte(tt.want+`,"transaction":null`)) {
				t.Errorf("got %s\nwant …%s…", got, tt.want)
			}
		})
	}
}

func TestTruncateHasNullKey(t *testing.T) {
	e := mysqlInsert()
	e.Op, e.After = pipeline.OpTruncate, nil
	enc := NewEncoder(Options{Schemas: true})
	if got := string(enc.AppendKey(nil, e)); got != "null" {
		t.Errorf("key = %s, want null", got)
	}
}

func TestFormatCacheIsBounded(t *testing.T) {
	enc := NewEncoder(Options{Schemas: true})
	base := mysqlInsert()
	for i := range maxCachedFormats + 50 {
		e := *base
		topic := "p.db.t" + strconv.Itoa(i)
		e.Table = pipeline.NewTable(pipeline.TableID{Database: "db", Name: "t"}, topic, base.Table.Columns, []int{0})
		out := enc.AppendValue(nil, &e)
		if !bytes.Contains(out, []byte(`"name":"`+topic+`.Envelope"`)) {
			t.Fatalf("event %d rendered with another table's schema", i)
		}
	}
	if n := len(enc.formats); n > maxCachedFormats {
		t.Errorf("cache holds %d formats, want at most %d", n, maxCachedFormats)
	}
}

func TestSteadyStateDoesNotAllocate(t *testing.T) {
	e := benchEvent()
	for _, schemas := range []bool{true, false} {
		enc := NewEncoder(Options{Schemas: schemas, Tombstones: true})
		buf := enc.AppendLines(nil, e)
		allocs := testing.AllocsPerRun(100, func() {
			buf = enc.AppendLines(buf[:0], e)
		})
		if allocs != 0 {
			t.Errorf("schemas=%v: %v allocations per event, want 0", schemas, allocs)
		}
	}
}

// The encoder remembers the text of the last event's times: an event with
// other times must not get them.
func TestTimesFollowEachEvent(t *testing.T) {
	enc := NewEncoder(Options{})
	for _, ts := range []struct{ ns, us int64 }{{1_500_123_456_789, 7}, {1_500_123_456_789, 7}, {-1, 8}, {42, -1500}, {1_500_123_456_789, 7}} {
		e := mysqlInsert()
		e.TsNs, e.Source.TsUs = ts.ns, ts.us
		got := enc.AppendValue(nil, e)
		if want := NewEncoder(Options{}).AppendValue(nil, e); !bytes.Equal(got, want) {
			t.Errorf("times %+v: got\n%s\nwant\n%s", ts, got, want)
		}
	}
}
