package debezium

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

var updateMongoGolden = flag.Bool("update-mongo", false, "rewrite testdata/mongo_*.golden from the encoder's output")

func mongoInfo() *pipeline.SourceInfo {
	return &pipeline.SourceInfo{Version: "3.6.1.Final", Connector: MongoConnector, Name: "fulfillment", Schema: MongoSourceSchema()}
}

func mongoDoc(build func(dst []byte) []byte) []byte {
	idx, dst := bsoncore.AppendDocumentStart(nil)
	dst = build(dst)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func idDoc(id int64) []byte {
	return mongoDoc(func(d []byte) []byte { return bsoncore.AppendInt64Element(d, "_id", id) })
}

// The three payloads SPEC §3.3 gives for the current format.
func TestMongoEnvelopeSpecExamples(t *testing.T) {
	table := MongoTable("inventory", "customers", "fulfillment.inventory.customers")
	anne := func(first string) []byte {
		return mongoDoc(func(d []byte) []byte {
			d = bsoncore.AppendInt64Element(d, "_id", 1004)
			d = bsoncore.AppendStringElement(d, "first_name", first)
			d = bsoncore.AppendStringElement(d, "last_name", "Kretchmar")
			return bsoncore.AppendStringElement(d, "email", "annek@noanswer.org")
		})
	}
	update := mongoDoc(func(d []byte) []byte {
		d = bsoncore.AppendDocumentElement(d, "updatedFields", mongoDoc(func(d []byte) []byte {
			return bsoncore.AppendStringElement(d, "first_name", "Anne Marie")
		}))
		d = bsoncore.AppendArrayElement(d, "removedFields", mongoDoc(func(d []byte) []byte { return d }))
		return bsoncore.AppendArrayElement(d, "truncatedArrays", mongoDoc(func(d []byte) []byte { return d }))
	})
	src := func(tsMs int64, ord int32) pipeline.SourceBlock {
		return pipeline.SourceBlock{Info: mongoInfo(), TsUs: tsMs * 1000, DB: "inventory",
			Tail: &MongoTail{Collection: "customers", Ord: ord, WallTime: tsMs}}
	}
	cases := []struct {
		name string
		ev   pipeline.Event
		want string
	}{
		{"insert", pipeline.Event{Op: pipeline.OpCreate, Table: table, After: MongoRow(idDoc(1004), anne("Anne"), nil), Source: src(1558965508123, 31), TsNs: 1558965515240_000000},
			`{"before":null,"after":"{\"_id\": {\"$numberLong\": \"1004\"},\"first_name\": \"Anne\",\"last_name\": \"Kretchmar\",\"email\": \"annek@noanswer.org\"}","updateDescription":null,"source":{"version":"3.6.1.Final","connector":"mongodb","name":"fulfillment","ts_ms":1558965508123,"snapshot":"false","db":"inventory","sequence":null,"ts_us":1558965508123000,"ts_ns":1558965508123000000,"collection":"customers","ord":31,"lsid":null,"txnNumber":null,"wallTime":1558965508123},"op":"c","ts_ms":1558965515240,"transaction":null}`},
		{"update", pipeline.Event{Op: pipeline.OpUpdate, Table: table, After: MongoRow(idDoc(1004), anne("Anne Marie"), update), Source: src(1558965609456, 1), TsNs: 1558965609500_000000},
			`{"before":null,"after":"{\"_id\": {\"$numberLong\": \"1004\"},\"first_name\": \"Anne Marie\",\"last_name\": \"Kretchmar\",\"email\": \"annek@noanswer.org\"}","updateDescription":{"removedFields":null,"updatedFields":"{\"first_name\": \"Anne Marie\"}","truncatedArrays":null},"source":{"version":"3.6.1.Final","connector":"mongodb","name":"fulfillment","ts_ms":1558965609456,"snapshot":"false","db":"inventory","sequence":null,"ts_us":1558965609456000,"ts_ns":1558965609456000000,"collection":"customers","ord":1,"lsid":null,"txnNumber":null,"wallTime":1558965609456},"op":"u","ts_ms":1558965609500,"transaction":null}`},
		{"delete", pipeline.Event{Op: pipeline.OpDelete, Table: table, Before: MongoRow(idDoc(1004), nil, nil), Source: src(1558965700789, 2), TsNs: 1558965700801_000000},
			`{"before":null,"after":null,"updateDescription":null,"source":{"version":"3.6.1.Final","connector":"mongodb","name":"fulfillment","ts_ms":1558965700789,"snapshot":"false","db":"inventory","sequence":null,"ts_us":1558965700789000,"ts_ns":1558965700789000000,"collection":"customers","ord":2,"lsid":null,"txnNumber":null,"wallTime":1558965700789},"op":"d","ts_ms":1558965700801,"transaction":null}`},
	}
	enc := NewEncoder(Options{})
	for _, c := range cases {
		if got := string(enc.AppendValue(nil, &c.ev)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		if got := string(enc.AppendKey(nil, &c.ev)); got != `{"id":"1004"}` {
			t.Errorf("%s key: got %s", c.name, got)
		}
	}

	// The value schema is SPEC §3.3's, verbatim.
	specSchema := `{"type":"struct","fields":[
 {"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"field":"before"},
 {"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"field":"after"},
 {"type":"struct","fields":[{"type":"array","items":{"type":"string","optional":false},"optional":true,"field":"removedFields"},{"type":"string","optional":true,"name":"io.debezium.data.Json","version":1,"field":"updatedFields"},{"type":"array","items":{"type":"struct","fields":[{"type":"string","optional":false,"field":"field"},{"type":"int32","optional":false,"field":"size"}],"optional":false,"name":"io.debezium.connector.mongodb.changestream.truncatedarray","version":1},"optional":true,"field":"truncatedArrays"}],"optional":true,"name":"io.debezium.connector.mongodb.changestream.updatedescription","version":1,"field":"updateDescription"},
 {"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},{"type":"string","optional":false,"field":"collection"},{"type":"int32","optional":false,"field":"ord"},{"type":"string","optional":true,"field":"lsid"},{"type":"int64","optional":true,"field":"txnNumber"},{"type":"int64","optional":true,"field":"wallTime"}],"optional":false,"name":"io.debezium.connector.mongo.Source","version":1,"field":"source"},
 {"type":"string","optional":true,"field":"op"},
 {"type":"int64","optional":true,"field":"ts_ms"},
 {"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"}
],"optional":false,"name":"fulfillment.inventory.customers.Envelope"}`
	specSchema = strings.ReplaceAll(strings.ReplaceAll(specSchema, "\n ", ""), "\n", "")
	withSchema := NewEncoder(Options{Schemas: true})
	got := string(withSchema.AppendValue(nil, &cases[0].ev))
	if want := `{"schema":` + specSchema + `,"payload":` + cases[0].want + `}`; got != want {
		t.Errorf("schema:\n got %s\nwant %s", got, want)
	}
	key := string(withSchema.AppendKey(nil, &cases[0].ev))
	if want := `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"}],"optional":false,"name":"fulfillment.inventory.customers.Key"},"payload":{"id":"1004"}}`; key != want {
		t.Errorf("key with schema:\n got %s\nwant %s", key, want)
	}
}

// allTypesDoc holds every BSON type, with the edge values that differ
// between Extended JSON modes.
func allTypesDoc() []byte {
	oid, _ := bson.ObjectIDFromHex("596e275826f08b2730779e1f")
	dec, _ := bson.ParseDecimal128("-1234567890.123456789E-3")
	return mongoDoc(func(d []byte) []byte {
		d = bsoncore.AppendObjectIDElement(d, "_id", oid)
		d = bsoncore.AppendDoubleElement(d, "double", 1.5)
		d = bsoncore.AppendDoubleElement(d, "double_whole", 10)
		d = bsoncore.AppendDoubleElement(d, "double_big", 1e21)
		d = bsoncore.AppendDoubleElement(d, "double_small", 0.0001)
		d = bsoncore.AppendDoubleElement(d, "nan", math.NaN())
		d = bsoncore.AppendDoubleElement(d, "inf", math.Inf(1))
		d = bsoncore.AppendDoubleElement(d, "neg_inf", math.Inf(-1))
		d = bsoncore.AppendDoubleElement(d, "neg_zero", math.Copysign(0, -1))
		d = bsoncore.AppendStringElement(d, "string", "tab\t\"quote\" back\\slash é 日本 😀 \u0001 \u200b \u00ad <&>")
		d = bsoncore.AppendDocumentElement(d, "doc", mongoDoc(func(d []byte) []byte {
			d = bsoncore.AppendInt32Element(d, "a", 1)
			return bsoncore.AppendDocumentElement(d, "empty", mongoDoc(func(d []byte) []byte { return d }))
		}))
		d = bsoncore.AppendArrayElement(d, "array", mongoDoc(func(d []byte) []byte {
			d = bsoncore.AppendInt32Element(d, "0", 1)
			d = bsoncore.AppendStringElement(d, "1", "two")
			return bsoncore.AppendArrayElement(d, "2", mongoDoc(func(d []byte) []byte { return d }))
		}))
		d = bsoncore.AppendBinaryElement(d, "bin_generic", 0, []byte{0, 1, 2, 0xff})
		d = bsoncore.AppendBinaryElement(d, "bin_function", 1, []byte("f"))
		d = bsoncore.AppendBinaryElement(d, "bin_old", 2, []byte("old"))
		d = bsoncore.AppendBinaryElement(d, "bin_uuid_old", 3, bytes.Repeat([]byte{0x11}, 16))
		d = bsoncore.AppendBinaryElement(d, "bin_uuid", 4, []byte{0x14, 0x0e, 0xd8, 0x13, 0x35, 0xe0, 0x41, 0x74, 0x97, 0xf4, 0xec, 0x66, 0xce, 0x59, 0x47, 0xdb})
		d = bsoncore.AppendBinaryElement(d, "bin_md5", 5, bytes.Repeat([]byte{0xab}, 16))
		d = bsoncore.AppendBinaryElement(d, "bin_encrypted", 6, []byte{1})
		d = bsoncore.AppendBinaryElement(d, "bin_column", 7, []byte{2})
		d = bsoncore.AppendBinaryElement(d, "bin_sensitive", 8, []byte{3})
		d = bsoncore.AppendBinaryElement(d, "bin_vector", 9, []byte{0x03, 0x00, 1, 2})
		d = bsoncore.AppendBinaryElement(d, "bin_user", 0x80, []byte("user"))
		d = bsoncore.AppendBinaryElement(d, "bin_empty", 0, nil)
		d = bsoncore.AppendUndefinedElement(d, "undefined")
		d = bsoncore.AppendBooleanElement(d, "true", true)
		d = bsoncore.AppendBooleanElement(d, "false", false)
		d = bsoncore.AppendDateTimeElement(d, "date", 1783101585729)
		d = bsoncore.AppendDateTimeElement(d, "date_whole_second", 1783101585000)
		d = bsoncore.AppendDateTimeElement(d, "date_tenth", 1783101585500)
		d = bsoncore.AppendDateTimeElement(d, "date_before_1970", -1234567)
		d = bsoncore.AppendDateTimeElement(d, "date_epoch", 0)
		d = bsoncore.AppendDateTimeElement(d, "date_after_9999", 253402300800000)
		d = bsoncore.AppendNullElement(d, "null")
		d = bsoncore.AppendRegexElement(d, "regex", `^a"b\d+$`, "imsx")
		d = bsoncore.AppendDBPointerElement(d, "dbpointer", "db.coll", oid)
		d = bsoncore.AppendJavaScriptElement(d, "code", "function() { return 1; }")
		d = bsoncore.AppendSymbolElement(d, "symbol", "sym")
		d = bsoncore.AppendCodeWithScopeElement(d, "code_scope", "x + y", mongoDoc(func(d []byte) []byte {
			d = bsoncore.AppendInt32Element(d, "x", 1)
			return bsoncore.AppendInt64Element(d, "y", 2)
		}))
		d = bsoncore.AppendInt32Element(d, "int32", -2147483648)
		d = bsoncore.AppendTimestampElement(d, "timestamp", 4294967295, 7)
		d = bsoncore.AppendInt64Element(d, "int64", -9223372036854775808)
		h, l := dec.GetBytes()
		d = bsoncore.AppendDecimal128Element(d, "decimal", h, l)
		d = bsoncore.AppendDecimal128Element(d, "decimal_nan", 0x7c00000000000000, 0)
		d = bsoncore.AppendDecimal128Element(d, "decimal_neg_zero", 0xb040000000000000, 0)
		d = bsoncore.AppendMaxKeyElement(d, "maxkey")
		return bsoncore.AppendMinKeyElement(d, "minkey")
	})
}

// TestMongoAllTypesGolden writes a document holding every BSON type as
// Debezium's after (strict), updatedFields (relaxed) and key (relaxed).
func TestMongoAllTypesGolden(t *testing.T) {
	doc := allTypesDoc()
	update := mongoDoc(func(d []byte) []byte { return bsoncore.AppendDocumentElement(d, "updatedFields", doc) })
	table := MongoTable("shop", "types", "srv.shop.types")
	enc := NewEncoder(Options{})
	var out []byte
	var id bsoncore.Document = doc
	for _, elem := range mustElements(t, id) {
		single := mongoDoc(func(d []byte) []byte { return bsoncore.AppendValueElement(d, "_id", elem.Value()) })
		e := pipeline.Event{Op: pipeline.OpCreate, Table: table, After: MongoRow(single, single, nil),
			Source: pipeline.SourceBlock{Info: mongoInfo(), DB: "shop", Tail: &MongoTail{Collection: "types", Ord: -1}}}
		out = append(out, elem.Key()...)
		out = append(out, " key: "...)
		out = enc.AppendKey(out, &e)
		out = append(out, '\n')
	}
	e := pipeline.Event{Op: pipeline.OpUpdate, Table: table, After: MongoRow(idDoc(1), doc, update),
		Source: pipeline.SourceBlock{Info: mongoInfo(), TsUs: 1_000_000, DB: "shop", Tail: &MongoTail{Collection: "types", Ord: 3}}, TsNs: 2_000_000_000}
	out = enc.AppendLines(out, &e)
	path := filepath.Join("testdata", "mongo_all_types.golden")
	if *updateMongoGolden {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	golden(t, "mongo_all_types.golden", out)
}

func mustElements(t *testing.T, d bsoncore.Document) []bsoncore.Element {
	t.Helper()
	els, err := d.Elements()
	if err != nil {
		t.Fatal(err)
	}
	return els
}

func TestExtJSONValues(t *testing.T) {
	cases := []struct {
		name            string
		build           func([]byte) []byte
		strict, relaxed string
	}{
		{"int64", func(d []byte) []byte { return bsoncore.AppendInt64Element(d, "v", 123) }, `{"v": {"$numberLong": "123"}}`, `{"v": 123}`},
		{"date", func(d []byte) []byte { return bsoncore.AppendDateTimeElement(d, "v", 1783101585729) }, `{"v": {"$date": 1783101585729}}`, `{"v": {"$date": "2026-07-03T17:59:45.729Z"}}`},
		{"date before 1970", func(d []byte) []byte { return bsoncore.AppendDateTimeElement(d, "v", -1) }, `{"v": {"$date": -1}}`, `{"v": {"$date": {"$numberLong": "-1"}}}`},
		{"nan", func(d []byte) []byte { return bsoncore.AppendDoubleElement(d, "v", math.NaN()) }, `{"v": NaN}`, `{"v": {"$numberDouble": "NaN"}}`},
		{"neg zero", func(d []byte) []byte { return bsoncore.AppendDoubleElement(d, "v", math.Copysign(0, -1)) }, `{"v": -0.0}`, `{"v": -0.0}`},
		{"two members", func(d []byte) []byte {
			d = bsoncore.AppendStringElement(d, "name", "Mary")
			return bsoncore.AppendStringElement(d, "zipcode", "11111")
		}, `{"name": "Mary","zipcode": "11111"}`, `{"name": "Mary", "zipcode": "11111"}`},
		{"lsid", func(d []byte) []byte {
			return bsoncore.AppendBinaryElement(d, "id", 4, []byte{0x14, 0x0e, 0xd8, 0x13, 0x35, 0xe0, 0x41, 0x74, 0x97, 0xf4, 0xec, 0x66, 0xce, 0x59, 0x47, 0xdb})
		}, `{"id": {"$binary": "FA7YEzXgQXSX9OxmzllH2w==","$type": "04"}}`, `{"id": {"$binary": {"base64": "FA7YEzXgQXSX9OxmzllH2w==", "subType": "04"}}}`},
		{"emoji", func(d []byte) []byte { return bsoncore.AppendStringElement(d, "v", "😀") }, `{"v": "\ud83d\ude00"}`, `{"v": "\ud83d\ude00"}`},
	}
	for _, c := range cases {
		doc := mongoDoc(c.build)
		if got, ok := AppendExtJSON(nil, doc, ExtJSONStrict); !ok || string(got) != c.strict {
			t.Errorf("%s strict: got %s (ok %v), want %s", c.name, got, ok, c.strict)
		}
		if got, ok := AppendExtJSON(nil, doc, ExtJSONRelaxed); !ok || string(got) != c.relaxed {
			t.Errorf("%s relaxed: got %s (ok %v), want %s", c.name, got, ok, c.relaxed)
		}
	}
	if _, ok := AppendExtJSON(nil, []byte{9, 0, 0, 0, 0x10, 'a', 0, 1, 0}, ExtJSONStrict); ok {
		t.Error("truncated BSON accepted")
	}
}

func FuzzExtJSON(f *testing.F) {
	f.Add(allTypesDoc())
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, _ = AppendExtJSON(nil, doc, ExtJSONStrict)
		// Relaxed mode writes NaN and infinities as $numberDouble: its
		// output is always valid JSON (the updatedFields string).
		if out, ok := AppendExtJSON(nil, doc, ExtJSONRelaxed); ok && !json.Valid(out) {
			t.Fatalf("relaxed output is not JSON: %s", out)
		}
	})
}
