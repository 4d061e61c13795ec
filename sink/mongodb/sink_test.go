package mongodb

import (
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"github.com/siphoncdc/siphon/sink/sqlapply"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func ext(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestToBSON(t *testing.T) {
	decimal := &pipeline.Schema{Type: pipeline.TypeBytes, Name: "org.apache.kafka.connect.data.Decimal", Params: []pipeline.Param{{Key: "scale", Value: "2"}}}
	point := &pipeline.Schema{Type: pipeline.TypeStruct, Fields: []pipeline.Field{
		{Name: "x", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
		{Name: "n", Schema: &pipeline.Schema{Type: pipeline.TypeInt16}},
	}}
	strMap := &pipeline.Schema{Type: pipeline.TypeMap, Keys: &pipeline.Schema{Type: pipeline.TypeString}, Values: &pipeline.Schema{Type: pipeline.TypeInt64}}
	cases := []struct {
		name string
		v    pipeline.Value
		s    *pipeline.Schema
		want string
	}{
		{"null", pipeline.Null, nil, `{"v":null}`},
		{"int32", pipeline.Int(7), &pipeline.Schema{Type: pipeline.TypeInt32}, `{"v":{"$numberInt":"7"}}`},
		{"int64", pipeline.Int(7), &pipeline.Schema{Type: pipeline.TypeInt64}, `{"v":{"$numberLong":"7"}}`},
		{"double", pipeline.Float64(1.5), nil, `{"v":{"$numberDouble":"1.5"}}`},
		{"string", pipeline.String("é"), nil, `{"v":"é"}`},
		{"bytes", pipeline.Bytes([]byte{1, 2}), nil, `{"v":{"$binary":{"base64":"AQI=","subType":"00"}}}`},
		{"decimal", pipeline.Bytes([]byte{0xfe, 0xd4}), decimal, `{"v":{"$numberDecimal":"-3.00"}}`},
		{"struct", pipeline.Struct(pipeline.Float64(2), pipeline.Int(3)), point, `{"v":{"x":{"$numberDouble":"2.0"},"n":{"$numberInt":"3"}}}`},
		{"array", pipeline.Array(pipeline.String("a"), pipeline.Null), &pipeline.Schema{Type: pipeline.TypeArray}, `{"v":["a",null]}`},
		{"map", pipeline.Array(pipeline.Struct(pipeline.String("k"), pipeline.Int(1))), strMap, `{"v":{"k":{"$numberLong":"1"}}}`},
	}
	for _, c := range cases {
		got, err := toBSON(c.v, c.s)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s := ext(t, got); s != c.want {
			t.Errorf("%s: got %s, want %s", c.name, s, c.want)
		}
	}
}

func TestRelationalModels(t *testing.T) {
	i32 := &pipeline.Schema{Type: pipeline.TypeInt32}
	str := &pipeline.Schema{Type: pipeline.TypeString, Optional: true}
	cols := []pipeline.Column{{Name: "a", Schema: i32}, {Name: "b", Schema: str}, {Name: "v", Schema: str}}
	single := pipeline.NewTable(pipeline.TableID{Database: "d", Name: "t"}, "x.d.t", cols, []int{0})
	composite := pipeline.NewTable(pipeline.TableID{Database: "d", Name: "t"}, "x.d.t", cols, []int{1, 0})
	keyless := pipeline.NewTable(pipeline.TableID{Database: "d", Name: "t"}, "x.d.t", cols, nil)
	row := pipeline.Row{pipeline.Int(1), pipeline.String("k"), pipeline.Null}

	m, err := relationalModel(&pipeline.Event{Op: pipeline.OpCreate, Table: single, After: row})
	if err != nil {
		t.Fatal(err)
	}
	r := m.(*mongo.ReplaceOneModel)
	if got := ext(t, r.Replacement); got != `{"v":{"_id":{"$numberInt":"1"},"a":{"$numberInt":"1"},"b":"k","v":null}}` || r.Upsert == nil || !*r.Upsert {
		t.Errorf("replace: %s", got)
	}
	m, err = relationalModel(&pipeline.Event{Op: pipeline.OpDelete, Table: composite, Before: row})
	if err != nil {
		t.Fatal(err)
	}
	if got := ext(t, m.(*mongo.DeleteOneModel).Filter); got != `{"v":{"_id":{"b":"k","a":{"$numberInt":"1"}}}}` {
		t.Errorf("composite delete filter: %s", got)
	}
	toast := pipeline.Row{pipeline.Int(1), pipeline.String(sqlapply.Placeholder), pipeline.String("v")}
	m, err = relationalModel(&pipeline.Event{Op: pipeline.OpUpdate, Table: single, After: toast})
	if err != nil {
		t.Fatal(err)
	}
	if got := ext(t, m.(*mongo.UpdateOneModel).Update); got != `{"v":{"$set":{"a":{"$numberInt":"1"},"v":"v"}}}` {
		t.Errorf("unchanged TOAST value: %s", got)
	}
	if _, err := relationalModel(&pipeline.Event{Op: pipeline.OpCreate, Table: keyless, After: row}); err == nil || !strings.Contains(err.Error(), "no primary key") {
		t.Errorf("keyless: %v", err)
	}
}

func TestMongoModels(t *testing.T) {
	id, _ := bson.Marshal(bson.D{{Key: "_id", Value: 5}})
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 5}, {Key: "a", Value: 1}})
	upd, _ := bson.Marshal(bson.D{{Key: "updatedFields", Value: bson.D{{Key: "a.b", Value: 2}}}, {Key: "removedFields", Value: bson.A{"c"}}})
	table := debezium.MongoTable("d", "c", "x.d.c")
	info := &pipeline.SourceInfo{Connector: debezium.MongoConnector}
	ev := func(op pipeline.Op, before, after pipeline.Row) *pipeline.Event {
		return &pipeline.Event{Op: op, Table: table, Before: before, After: after, Source: pipeline.SourceBlock{Info: info}}
	}
	m, err := mongoModel(ev(pipeline.OpUpdate, nil, debezium.MongoRow(id, doc, upd)))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*mongo.ReplaceOneModel); !ok {
		t.Errorf("looked-up update: %T", m)
	}
	m, err = mongoModel(ev(pipeline.OpUpdate, nil, debezium.MongoRow(id, nil, upd)))
	if err != nil {
		t.Fatal(err)
	}
	if got := ext(t, m.(*mongo.UpdateOneModel).Update); got != `{"v":{"$set":{"a.b":{"$numberInt":"2"}},"$unset":{"c":""}}}` {
		t.Errorf("update without document: %s", got)
	}
	m, err = mongoModel(ev(pipeline.OpDelete, debezium.MongoRow(id, nil, nil), nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.(*mongo.DeleteOneModel); !ok {
		t.Errorf("delete: %T", m)
	}
	if _, err := mongoModel(ev(pipeline.OpUpdate, nil, debezium.MongoRow(id, nil, nil))); err == nil {
		t.Error("update with nothing to apply accepted")
	}
}
