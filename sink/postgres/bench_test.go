package postgres

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/siphoncdc/siphon/integration/harness"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// benchTable is the benchmark harness's 10-column mixed table as the
// MySQL source describes it.
func benchTable() *pipeline.Table {
	s := func(t pipeline.Type, name string, params ...pipeline.Param) *pipeline.Schema {
		return &pipeline.Schema{Type: t, Name: name, Params: params, Optional: true}
	}
	cols := []pipeline.Column{
		{Name: "id", Schema: &pipeline.Schema{Type: pipeline.TypeInt64}},
		{Name: "a", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
		{Name: "b", Schema: s(pipeline.TypeInt64, "")},
		{Name: "c", Schema: s(pipeline.TypeString, ""), Native: pipeline.NativeType{Name: "varchar", Length: 64}},
		{Name: "d", Schema: s(pipeline.TypeBytes, "org.apache.kafka.connect.data.Decimal", pipeline.Param{Key: "scale", Value: "2"},
			pipeline.Param{Key: "connect.decimal.precision", Value: "12"})},
		{Name: "e", Schema: s(pipeline.TypeInt64, "io.debezium.time.Timestamp"), Native: pipeline.NativeType{Name: "datetime", Scale: 3}},
		{Name: "f", Schema: s(pipeline.TypeFloat64, "")},
		{Name: "g", Schema: s(pipeline.TypeString, ""), Native: pipeline.NativeType{Name: "text"}},
		{Name: "h", Schema: s(pipeline.TypeInt16, "")},
		{Name: "i", Schema: s(pipeline.TypeString, "io.debezium.time.ZonedTimestamp"), Native: pipeline.NativeType{Name: "timestamp"}},
	}
	return pipeline.NewTable(pipeline.TableID{Database: "bench", Name: "t10"}, "b.bench.t10", cols, []int{0})
}

func benchRow(n int64) pipeline.Row {
	ts := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
	return pipeline.Row{pipeline.Int(n), pipeline.Int(n % 100000), pipeline.Int(n * 7), pipeline.String(fmt.Sprintf("customer-%d", n)),
		pipeline.Bytes([]byte{byte(n >> 16), byte(n >> 8), byte(n)}), pipeline.Int(ts.UnixMilli()), pipeline.Float64(float64(n) * 1.5),
		pipeline.String("lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum lorem ipsum "),
		pipeline.Int(n % 100), pipeline.String(ts.Format(time.RFC3339))}
}

// BenchmarkUpsert applies batches of 2048 snapshot rows of the 10-column
// table to a private PostgreSQL: the sink alone, without a source.
// SIPHON_BENCH_PG=1 enables it (it starts a server).
func BenchmarkUpsert(b *testing.B) { benchWrite(b, pipeline.OpRead, 2048) }

// BenchmarkCatchUp applies inserts of 1000-row source transactions in
// batches of 2048 events, as a binlog backlog arrives.
func BenchmarkCatchUp(b *testing.B) { benchWrite(b, pipeline.OpCreate, 1000) }

func benchWrite(b *testing.B, op pipeline.Op, txRows int) {
	if os.Getenv("SIPHON_BENCH_PG") == "" {
		b.Skip("set SIPHON_BENCH_PG=1: starts a PostgreSQL server")
	}
	ctx := context.Background()
	pg, err := harness.StartPostgres(ctx, harness.PostgresOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = pg.Stop() }()
	db, err := pg.NewDatabase(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(Config{URL: pg.SuperuserURL(db), Options: sqlapply.Options{Pipeline: "bench"}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.ResumeFrom(ctx, nil); err != nil {
		b.Fatal(err)
	}
	t := benchTable()
	info := &pipeline.SourceInfo{Connector: "mariadb"}
	const batch = 2048
	var n int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bt := &pipeline.Batch{Position: pipeline.Position(fmt.Sprintf(`{"n":%d}`, i))}
		for range batch {
			n++
			bt.Events = append(bt.Events, pipeline.Event{Op: op, Table: t, After: benchRow(n), Source: pipeline.SourceBlock{Info: info},
				TxEnd: n%int64(txRows) == 0})
		}
		if err := s.Write(ctx, bt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
