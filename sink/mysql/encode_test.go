package mysql

import (
	"fmt"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

func TestEncoders(t *testing.T) {
	tc := func(dataType string) sqlapply.TargetColumn { return sqlapply.TargetColumn{Cast: dataType} }
	tests := []struct {
		name   string
		col    sqlapply.Column
		target sqlapply.TargetColumn
		v      pipeline.Value
		want   string // fmt.Sprint of the parameters
		err    bool
	}{
		{"bool", sqlapply.Column{Kind: sqlapply.KindBool}, tc("tinyint"), pipeline.Bool(true), "[1]", false},
		{"null geometry takes two parameters", sqlapply.Column{Kind: sqlapply.KindGeometry}, tc("geometry"), pipeline.Null, "[<nil> <nil>]", false},
		{"uint64", sqlapply.Column{Kind: sqlapply.KindUint64}, tc("bigint"), pipeline.Int(-1), "[18446744073709551615]", false},
		{"NaN refused", sqlapply.Column{Kind: sqlapply.KindFloat64}, tc("double"), pipeline.Float64(nan()), "", true},
		{"decimal", sqlapply.Column{Kind: sqlapply.KindDecimal, Scale: 2}, tc("decimal"), pipeline.Bytes([]byte{0xcf, 0xc7}), "[-123.45]", false},
		{"date", sqlapply.Column{Kind: sqlapply.KindDate}, tc("date"), pipeline.Int(11016), "[2000-02-29]", false},
		{"date before year 1", sqlapply.Column{Kind: sqlapply.KindDate}, tc("date"), pipeline.Int(-719163), "", true},
		{"time", sqlapply.Column{Kind: sqlapply.KindTime, Unit: sqlapply.Micros}, tc("time"), pipeline.Int(-3020399000000), "[-838:59:59]", false},
		{"datetime", sqlapply.Column{Kind: sqlapply.KindTimestamp, Unit: sqlapply.Millis}, tc("datetime"), pipeline.Int(1529476623945), "[2018-06-20 06:37:03.945000]", false},
		{"zoned to UTC", sqlapply.Column{Kind: sqlapply.KindZonedTimestamp}, tc("datetime"), pipeline.String("2016-11-04T11:51:30.123456Z"), "[2016-11-04 11:51:30.123456]", false},
		{"zoned infinity refused", sqlapply.Column{Kind: sqlapply.KindZonedTimestamp}, tc("datetime"), pipeline.String("infinity"), "", true},
		{"zoned time drops the offset", sqlapply.Column{Kind: sqlapply.KindZonedTime}, tc("time"), pipeline.String("10:00:00.5-08:30"), "[10:00:00.5]", false},
		{"bits to bit", sqlapply.Column{Kind: sqlapply.KindBits}, tc("bit"), pipeline.Bytes([]byte{0x01, 0x02}), "[513]", false},
		{"int array to JSON", sqlapply.Column{Kind: sqlapply.KindArray, Elem: &sqlapply.Column{Kind: sqlapply.KindInt32}}, tc("json"),
			pipeline.Array(pipeline.Int(1), pipeline.Null), "[[1,null]]", false},
		{"text array to JSON", sqlapply.Column{Kind: sqlapply.KindArray, Elem: &sqlapply.Column{Kind: sqlapply.KindString}}, tc("json"),
			pipeline.Array(pipeline.String("a\"\n")), `[["a\"\u000a"]]`, false},
		{"point", sqlapply.Column{Kind: sqlapply.KindPoint}, tc("point"),
			pipeline.Struct(pipeline.Float64(1), pipeline.Float64(2), pipeline.Null, pipeline.Int(4326)), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := encoderFor(&tt.col, tt.target)
			var args []any
			if err == nil {
				args, err = enc(nil, tt.v)
			}
			if (err != nil) != tt.err {
				t.Fatalf("error %v, want error: %v", err, tt.err)
			}
			if err != nil || tt.want == "" {
				return
			}
			if got := fmt.Sprint(args); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

func TestColumnTypes(t *testing.T) {
	native := func(name, full, charset string) pipeline.Column {
		return pipeline.Column{Native: pipeline.NativeType{Name: name, Full: full, Charset: charset}}
	}
	tests := []struct {
		col  sqlapply.Column
		want string
	}{
		{sqlapply.Column{Kind: sqlapply.KindString, Connector: "mariadb", Source: native("varchar", "varchar(20)", "latin1")}, "varchar(20) CHARACTER SET latin1 COLLATE latin1_bin"},
		{sqlapply.Column{Kind: sqlapply.KindString, Key: true, Connector: "mysql", Source: native("text", "text", "utf8mb4")}, "varchar(768)"},
		{sqlapply.Column{Kind: sqlapply.KindZonedTimestamp, Connector: "mysql", Source: native("timestamp", "timestamp(3)", "")}, "timestamp(3) NULL"},
		{sqlapply.Column{Kind: sqlapply.KindBool, Connector: "postgresql"}, "tinyint(1)"},
		{sqlapply.Column{Kind: sqlapply.KindVarDecimal, Connector: "postgresql"}, "decimal(65,30)"},
		{sqlapply.Column{Kind: sqlapply.KindString, Length: 20, Connector: "postgresql", Source: native("varchar", "character varying(20)", "")}, "varchar(20)"},
		{sqlapply.Column{Kind: sqlapply.KindString, Connector: "postgresql", Source: native("text", "text", "")}, "longtext"},
		{sqlapply.Column{Kind: sqlapply.KindTimestamp, Precision: 3, Connector: "postgresql"}, "datetime(3)"},
		{sqlapply.Column{Kind: sqlapply.KindUUID, Connector: "postgresql"}, "char(36)"},
		{sqlapply.Column{Kind: sqlapply.KindArray, Connector: "postgresql"}, "json"},
	}
	d := &dialect{}
	for _, tt := range tests {
		def, err := d.ColumnType(&tt.col)
		if err != nil || def.Type != tt.want {
			t.Errorf("%s from %s: %q, %v; want %q", tt.col.Kind, tt.col.Connector, def.Type, err, tt.want)
		}
	}
	same := [][2]string{{"int(11)", "int"}, {"varchar(20) character set latin1 collate latin1_bin", "varchar(20)"}, {"longtext", "json"}, {"timestamp(3) NULL", "timestamp(3)"}}
	for _, p := range same {
		if !d.SameType(sqlapply.TargetColumn{Type: p[0]}, sqlapply.ColumnDef{Type: p[1]}) {
			t.Errorf("%s and %s should be the same type", p[0], p[1])
		}
	}
}

func TestStatements(t *testing.T) {
	col := func(name string, key bool, dataType string) sqlapply.MappedColumn {
		return sqlapply.MappedColumn{Column: sqlapply.Column{Name: name, Key: key}, Target: sqlapply.TargetColumn{Name: name, Cast: dataType}}
	}
	m := &sqlapply.Mapping{Target: sqlapply.Name{Namespace: "db", Table: "t"},
		Columns: []sqlapply.MappedColumn{col("id", true, "int"), col("g", false, "geometry")}, Key: []int{0}}
	tests := []struct {
		run  sqlapply.Run
		rows int
		want string
	}{
		{sqlapply.Run{Kind: sqlapply.RunUpsert, Mapping: m}, 2,
			"INSERT INTO `db`.`t` (`id`, `g`) VALUES (?, ST_GeomFromWKB(CAST(? AS BINARY), ?)), (?, ST_GeomFromWKB(CAST(? AS BINARY), ?)) ON DUPLICATE KEY UPDATE `g` = VALUES(`g`)"},
		{sqlapply.Run{Kind: sqlapply.RunDelete, Mapping: m}, 3, "DELETE FROM `db`.`t` WHERE `id` IN (?, ?, ?)"},
		{sqlapply.Run{Kind: sqlapply.RunDeleteRow, Mapping: m}, 1, "DELETE FROM `db`.`t` WHERE `id` <=> ? AND `g` <=> ST_GeomFromWKB(CAST(? AS BINARY), ?) LIMIT 1"},
		{sqlapply.Run{Kind: sqlapply.RunTruncate, Mapping: m}, 1, "DELETE FROM `db`.`t`"},
	}
	for _, tt := range tests {
		if got := buildStatement(tt.run, tt.rows, false); got != tt.want {
			t.Errorf("kind %d:\n got %s\nwant %s", tt.run.Kind, got, tt.want)
		}
	}
	if got := rowParams(m, nil); got != 3 {
		t.Errorf("rowParams = %d, want 3", got)
	}
	if !strings.HasPrefix(buildStatement(sqlapply.Run{Kind: sqlapply.RunUpdateRow, Mapping: m}, 1, true), "INSERT INTO `db`.`t`") {
		t.Error("the insert half of a keyless update")
	}
}
