package pgtype

import (
	"math"
	"strconv"
	"strings"

	"github.com/siphoncdc/siphon/pipeline"
)

// Connect semantic type names (all version 1).
const (
	nameDecimal         = "org.apache.kafka.connect.data.Decimal"
	nameVariableDecimal = "io.debezium.data.VariableScaleDecimal"
	nameBits            = "io.debezium.data.Bits"
	nameJSON            = "io.debezium.data.Json"
	nameXML             = "io.debezium.data.Xml"
	nameUUID            = "io.debezium.data.Uuid"
	nameTsvector        = "io.debezium.data.Tsvector"
	nameLtree           = "io.debezium.data.Ltree"
	nameEnum            = "io.debezium.data.Enum"
	namePoint           = "io.debezium.data.geometry.Point"
	nameDate            = "io.debezium.time.Date"
	nameTime            = "io.debezium.time.Time"
	nameMicroTime       = "io.debezium.time.MicroTime"
	nameZonedTime       = "io.debezium.time.ZonedTime"
	nameTimestamp       = "io.debezium.time.Timestamp"
	nameMicroTimestamp  = "io.debezium.time.MicroTimestamp"
	nameZonedTimestamp  = "io.debezium.time.ZonedTimestamp"
	nameMicroDuration   = "io.debezium.time.MicroDuration"
)

// Schema returns the column's Connect field schema as Debezium's
// PostgresValueConverter builds it: optional when the column is nullable,
// with the column default converted as PostgresDefaultValueConverter does.
func (c Column) Schema(o Options) (*pipeline.Schema, error) {
	if err := o.validate(); err != nil {
		return nil, c.columnError(err)
	}
	r, err := c.resolve()
	if err != nil {
		return nil, err
	}
	s := r.schema(o)
	s.Optional = c.Nullable
	if v, ok := c.defaultValue(r); ok {
		s.Default = &v
	}
	return s, nil
}

// schema builds the value schema of r; Optional is left false.
func (r *resolved) schema(o Options) *pipeline.Schema {
	s := &pipeline.Schema{}
	switch r.kind {
	case kindBool:
		s.Type = pipeline.TypeBoolean
	case kindInt2:
		s.Type = pipeline.TypeInt16
	case kindInt4:
		s.Type = pipeline.TypeInt32
	case kindInt8, kindOID:
		s.Type = pipeline.TypeInt64
	case kindFloat4:
		s.Type = pipeline.TypeFloat32
	case kindFloat8:
		s.Type = pipeline.TypeFloat64
	case kindNumeric:
		p, sc, ok := numericTypmod(r.typmod)
		if !ok {
			s.Type, s.Name, s.Version, s.Doc = pipeline.TypeStruct, nameVariableDecimal, 1, "Variable scaled decimal"
			s.Fields = []pipeline.Field{
				{Name: "scale", Schema: &pipeline.Schema{Type: pipeline.TypeInt32}},
				{Name: "value", Schema: &pipeline.Schema{Type: pipeline.TypeBytes}},
			}
			break
		}
		s.Type, s.Name, s.Version = pipeline.TypeBytes, nameDecimal, 1
		s.Params = []pipeline.Param{
			{Key: "scale", Value: strconv.Itoa(sc)},
			{Key: "connect.decimal.precision", Value: strconv.Itoa(p)},
		}
	case kindMoney:
		s.Type, s.Name, s.Version = pipeline.TypeBytes, nameDecimal, 1
		s.Params = []pipeline.Param{{Key: "scale", Value: strconv.Itoa(o.moneyScale())}}
	case kindText:
		s.Type = pipeline.TypeString
	case kindJSON, kindHstore:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameJSON, 1
	case kindXML:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameXML, 1
	case kindUUID:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameUUID, 1
	case kindTsvector:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameTsvector, 1
	case kindLtree:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameLtree, 1
	case kindEnum:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameEnum, 1
		s.Params = []pipeline.Param{{Key: "allowed", Value: strings.Join(r.labels, ",")}}
	case kindDate:
		s.Type, s.Name, s.Version = pipeline.TypeInt32, nameDate, 1
	case kindTime:
		s.Type, s.Name, s.Version = pipeline.TypeInt64, nameMicroTime, 1
		if timePrecision(r.typmod) <= 3 {
			s.Type, s.Name = pipeline.TypeInt32, nameTime
		}
	case kindTimetz:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameZonedTime, 1
	case kindTimestamp:
		s.Type, s.Name, s.Version = pipeline.TypeInt64, nameMicroTimestamp, 1
		if timePrecision(r.typmod) <= 3 {
			s.Name = nameTimestamp
		}
	case kindTimestamptz:
		s.Type, s.Name, s.Version = pipeline.TypeString, nameZonedTimestamp, 1
	case kindInterval:
		s.Type, s.Name, s.Version = pipeline.TypeInt64, nameMicroDuration, 1
	case kindBytea:
		s.Type = pipeline.TypeBytes
	case kindBit:
		n := bitLength(r)
		if n <= 1 {
			s.Type = pipeline.TypeBoolean
			break
		}
		s.Type, s.Name, s.Version = pipeline.TypeBytes, nameBits, 1
		s.Params = []pipeline.Param{{Key: "length", Value: strconv.FormatInt(n, 10)}}
	case kindPoint:
		s.Type, s.Name, s.Version, s.Doc = pipeline.TypeStruct, namePoint, 1, "Geometry (POINT)"
		s.Fields = []pipeline.Field{
			{Name: "x", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
			{Name: "y", Schema: &pipeline.Schema{Type: pipeline.TypeFloat64}},
			{Name: "wkb", Schema: &pipeline.Schema{Type: pipeline.TypeBytes, Optional: true}},
			{Name: "srid", Schema: &pipeline.Schema{Type: pipeline.TypeInt32, Optional: true}},
		}
	case kindArray:
		items := r.elem.schema(o)
		// Debezium builds enum element schemas without .optional().
		items.Optional = r.elem.kind != kindEnum
		s.Type, s.Items = pipeline.TypeArray, items
	}
	return s
}

// numericTypmod decodes NUMERIC(p,s)'s atttypmod; ok is false for an
// unconstrained NUMERIC. The scale is sign-extended from 11 bits as
// PostgreSQL 15 stores it (negative scales).
func numericTypmod(typmod int32) (precision, scale int, ok bool) {
	if typmod < 4 {
		return 0, 0, false
	}
	t := typmod - 4
	return int(t>>16) & 0xFFFF, int((t&0x7FF)^1024) - 1024, true
}

// timePrecision is the fractional-second precision of a time or timestamp
// typmod; PostgreSQL's (and pgjdbc's) default is 6.
func timePrecision(typmod int32) int {
	if typmod < 0 {
		return 6
	}
	return int(typmod)
}

// bitLength is pgjdbc's precision of BIT(n) and BIT VARYING(n): the
// declared length, 2^31-1 for an unbounded BIT VARYING.
func bitLength(r *resolved) int64 {
	if r.typmod >= 0 {
		return int64(r.typmod)
	}
	if r.name == "varbit" {
		return math.MaxInt32
	}
	return 1
}

// sqlNames are format_type()'s names of the built-in types.
var sqlNames = map[string]string{
	"bool": "boolean", "int2": "smallint", "int4": "integer", "int8": "bigint", "float4": "real",
	"float8": "double precision", "varchar": "character varying", "bpchar": "character", "varbit": "bit varying",
	"timestamp": "timestamp without time zone", "timestamptz": "timestamp with time zone",
	"time": "time without time zone", "timetz": "time with time zone", "char": `"char"`,
}

// Native returns the column's declared type: Name is the PostgreSQL type
// name ("numeric", "varchar", "_int4", an enum's name), Full what
// format_type() prints ("numeric(10,2)", "character varying(20)",
// "integer[]"), Length the declared length or precision, Scale the
// declared scale or fractional-second precision.
func (c Column) Native() pipeline.NativeType {
	n := pipeline.NativeType{}
	if c.Type == nil {
		return n
	}
	n.Name = c.Type.Name
	t, typmod, suffix := c.Type, c.TypMod, ""
	if t.Elem != nil {
		t, suffix = t.Elem, "[]"
	}
	// Qualified as format_type qualifies with the default search_path.
	base := t.Name
	switch t.Namespace {
	case "pg_catalog", "":
		if s, ok := sqlNames[t.Name]; ok {
			base = s
		}
	case "public":
	default:
		base = t.Namespace + "." + t.Name
	}
	mods := ""
	switch t.Name {
	case "numeric":
		if p, s, ok := numericTypmod(typmod); ok {
			mods = "(" + strconv.Itoa(p) + "," + strconv.Itoa(s) + ")"
			n.Length, n.Scale = int64(p), s
		}
	case "varchar", "bpchar":
		if typmod >= 4 {
			mods = "(" + strconv.Itoa(int(typmod-4)) + ")"
			n.Length = int64(typmod - 4)
		}
	case "bit", "varbit":
		if typmod >= 0 {
			mods = "(" + strconv.Itoa(int(typmod)) + ")"
			n.Length = int64(typmod)
		}
	case "time", "timetz", "timestamp", "timestamptz":
		n.Scale = timePrecision(typmod)
		if typmod >= 0 {
			// format_type puts the precision after the bare name:
			// "timestamp(3) with time zone".
			word, rest, _ := strings.Cut(base, " ")
			mods, base = "("+strconv.Itoa(int(typmod))+")", word
			if rest != "" {
				suffix = " " + rest + suffix
			}
		}
	case "interval":
		mods = intervalModifiers(typmod)
		if typmod >= 0 && typmod&0xFFFF != 0xFFFF {
			n.Scale = int(typmod & 0xFFFF)
		}
	}
	n.Full = base + mods + suffix
	return n
}

// intervalModifiers renders an interval typmod's fields and precision as
// format_type does: " year to month", "(3)", " day to second(3)".
func intervalModifiers(typmod int32) string {
	if typmod < 0 {
		return ""
	}
	const (
		month, year, day, hour, minute, second = 1 << 1, 1 << 2, 1 << 3, 1 << 10, 1 << 11, 1 << 12
	)
	fields := map[int32]string{
		year: " year", month: " month", day: " day", hour: " hour", minute: " minute", second: " second",
		year | month: " year to month", day | hour: " day to hour", day | hour | minute: " day to minute",
		day | hour | minute | second: " day to second", hour | minute: " hour to minute",
		hour | minute | second: " hour to second", minute | second: " minute to second",
	}
	out := fields[(typmod>>16)&0x7FFF]
	if p := typmod & 0xFFFF; p != 0xFFFF {
		out += "(" + strconv.Itoa(int(p)) + ")"
	}
	return out
}
