package debezium

import (
	"encoding/json"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

func TestAppendSchema(t *testing.T) {
	zero := pipeline.Int(0)
	blank := pipeline.String("")
	rate := pipeline.Float64(1.5)
	tests := []struct {
		name   string
		schema *pipeline.Schema
		want   string
	}{
		{"nil", nil, `null`},
		{"primitive", &pipeline.Schema{Type: pipeline.TypeInt32}, `{"type":"int32","optional":false}`},
		{"float names", &pipeline.Schema{Type: pipeline.TypeFloat32, Optional: true}, `{"type":"float","optional":true}`},
		{"double", &pipeline.Schema{Type: pipeline.TypeFloat64}, `{"type":"double","optional":false}`},
		{"all metadata in order", &pipeline.Schema{
			Type: pipeline.TypeBytes, Optional: true, Name: "org.apache.kafka.connect.data.Decimal", Version: 1, Doc: "a \"doc\"",
			Params: []pipeline.Param{{Key: "scale", Value: "4"}, {Key: "connect.decimal.precision", Value: "10"}},
		}, `{"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"doc":"a \"doc\"","parameters":{"scale":"4","connect.decimal.precision":"10"}}`},
		{"int default", &pipeline.Schema{Type: pipeline.TypeInt32, Default: &zero}, `{"type":"int32","optional":false,"default":0}`},
		{"empty string default", &pipeline.Schema{Type: pipeline.TypeString, Optional: true, Default: &blank}, `{"type":"string","optional":true,"default":""}`},
		{"double default", &pipeline.Schema{Type: pipeline.TypeFloat64, Default: &rate}, `{"type":"double","optional":false,"default":1.5}`},
		{"array", &pipeline.Schema{Type: pipeline.TypeArray, Optional: true, Name: "io.debezium.data.FloatVector", Version: 1,
			Items: &pipeline.Schema{Type: pipeline.TypeFloat32}},
			`{"type":"array","items":{"type":"float","optional":false},"optional":true,"name":"io.debezium.data.FloatVector","version":1}`},
		{"map", &pipeline.Schema{Type: pipeline.TypeMap, Optional: true, Keys: str(false), Values: str(true)},
			`{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"string","optional":true},"optional":true}`},
		{"struct with field last", &pipeline.Schema{Type: pipeline.TypeStruct, Optional: true, Name: "io.debezium.data.VariableScaleDecimal", Version: 1,
			Doc: "Variable scaled decimal",
			Fields: []pipeline.Field{
				{Name: "scale", Schema: i32(false)},
				{Name: "value", Schema: &pipeline.Schema{Type: pipeline.TypeBytes}},
			}},
			`{"type":"struct","fields":[{"type":"int32","optional":false,"field":"scale"},{"type":"bytes","optional":false,"field":"value"}],"optional":true,"name":"io.debezium.data.VariableScaleDecimal","version":1,"doc":"Variable scaled decimal"}`},
		{"member with default and params", &pipeline.Schema{Type: pipeline.TypeStruct, Fields: []pipeline.Field{
			{Name: "snapshot", Schema: commonSourceFields()[4].Schema},
		}}, `{"type":"struct","fields":[{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false","field":"snapshot"}],"optional":false}`},
		{"empty struct", &pipeline.Schema{Type: pipeline.TypeStruct}, `{"type":"struct","fields":[],"optional":false}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendSchema(nil, tt.schema))
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("invalid JSON %s", got)
			}
		})
	}
}
