package sqlapply

import (
	"fmt"
	"strconv"

	"github.com/siphoncdc/siphon/pipeline"
)

// Kind is the logical type of a column: what its Connect value means,
// whatever engine produced it. Dialects map kinds to target types and
// encode values by kind.
type Kind uint8

// Kinds.
const (
	KindUnknown Kind = iota
	KindBool
	KindInt8
	KindInt16
	KindInt32
	KindInt64
	KindUint64 // MySQL BIGINT UNSIGNED, carried as a wrapped int64 (Debezium's long mode)
	KindFloat32
	KindFloat64
	KindDecimal    // Decimal: unscaled two's-complement bytes, Scale
	KindVarDecimal // VariableScaleDecimal struct {scale, value}
	KindString
	KindBytes
	KindJSON
	KindEnum
	KindSet
	KindDate           // days since the epoch
	KindYear           // a year number
	KindTime           // time of day or MySQL TIME duration, in Unit
	KindTimestamp      // wall-clock timestamp without zone, in Unit since the epoch
	KindZonedTimestamp // ISO-8601 string in UTC (or infinity)
	KindZonedTime      // ISO time string with zone
	KindBits           // little-endian bytes, Length bits
	KindGeometry       // struct {wkb, srid}
	KindPoint          // struct {x, y, wkb, srid}
	KindUUID
	KindDuration // MicroDuration: microseconds
	KindInterval // ISO-8601 duration string
	KindXML
	KindArray
	KindMap
)

var kindNames = [...]string{
	KindUnknown: "unknown", KindBool: "boolean", KindInt8: "int8", KindInt16: "int16", KindInt32: "int32",
	KindInt64: "int64", KindUint64: "uint64", KindFloat32: "float32", KindFloat64: "float64",
	KindDecimal: "decimal", KindVarDecimal: "variable-scale decimal", KindString: "string", KindBytes: "bytes",
	KindJSON: "json", KindEnum: "enum", KindSet: "set", KindDate: "date", KindYear: "year", KindTime: "time",
	KindTimestamp: "timestamp", KindZonedTimestamp: "zoned timestamp", KindZonedTime: "zoned time",
	KindBits: "bits", KindGeometry: "geometry", KindPoint: "point", KindUUID: "uuid", KindDuration: "duration",
	KindInterval: "interval", KindXML: "xml", KindArray: "array", KindMap: "map",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind" + strconv.Itoa(int(k))
}

// Unit is the resolution of a temporal integer.
type Unit uint8

// Units.
const (
	Millis Unit = iota + 1
	Micros
	Nanos
)

// Column is a source column classified for a target.
type Column struct {
	Index  int // position in the source row
	Name   string
	Kind   Kind
	Unit   Unit // KindTime, KindTimestamp
	Length int64
	// Precision is a decimal's precision (0: unknown) or a temporal
	// column's fractional-second digits (-1: unknown).
	Precision int
	Scale     int // decimal scale
	Allowed   string
	Nullable  bool
	Key       bool
	Elem      *Column // KindArray: the element
	Source    pipeline.Column
	// Connector is the source connector ("mysql", "mariadb",
	// "postgresql"): whether Source.Native is a MySQL or a PostgreSQL type.
	Connector string
}

// FromMySQL reports whether the column's native type is a MySQL/MariaDB one.
func (c *Column) FromMySQL() bool { return c.Connector == "mysql" || c.Connector == "mariadb" }

// FromPostgres reports whether the column's native type is a PostgreSQL one.
func (c *Column) FromPostgres() bool { return c.Connector == "postgresql" }

// Classify describes column i of a table for a target.
func Classify(t *pipeline.Table, i int, connector string) (Column, error) {
	src := t.Columns[i]
	c := Column{Index: i, Name: src.Name, Source: src, Connector: connector, Precision: -1}
	if src.Schema == nil {
		return c, fmt.Errorf("column %s has no schema", src.Name)
	}
	c.Nullable = src.Schema.Optional
	for _, k := range t.Key {
		if k == i {
			c.Key = true
		}
	}
	if err := classifySchema(&c, src.Schema, src.Native); err != nil {
		return c, fmt.Errorf("column %s: %w", src.Name, err)
	}
	return c, nil
}

func classifySchema(c *Column, s *pipeline.Schema, native pipeline.NativeType) error {
	if native.Scale > 0 || native.Name == "time" || native.Name == "datetime" || native.Name == "timestamp" {
		c.Precision = native.Scale
	}
	switch s.Name {
	case "org.apache.kafka.connect.data.Decimal":
		c.Kind = KindDecimal
		sc, _ := s.Param("scale")
		c.Scale, _ = strconv.Atoi(sc)
		c.Precision = 0
		if p, ok := s.Param("connect.decimal.precision"); ok {
			c.Precision, _ = strconv.Atoi(p)
		}
		return nil
	case "io.debezium.data.VariableScaleDecimal":
		c.Kind = KindVarDecimal
		return nil
	case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date":
		c.Kind = KindDate
		return nil
	case "io.debezium.time.Year":
		c.Kind = KindYear
		return nil
	case "io.debezium.time.Time", "org.apache.kafka.connect.data.Time":
		c.Kind, c.Unit = KindTime, Millis
		return nil
	case "io.debezium.time.MicroTime":
		c.Kind, c.Unit = KindTime, Micros
		return nil
	case "io.debezium.time.NanoTime":
		c.Kind, c.Unit = KindTime, Nanos
		return nil
	case "io.debezium.time.Timestamp", "org.apache.kafka.connect.data.Timestamp":
		c.Kind, c.Unit = KindTimestamp, Millis
		return nil
	case "io.debezium.time.MicroTimestamp":
		c.Kind, c.Unit = KindTimestamp, Micros
		return nil
	case "io.debezium.time.NanoTimestamp":
		c.Kind, c.Unit = KindTimestamp, Nanos
		return nil
	case "io.debezium.time.ZonedTimestamp":
		c.Kind = KindZonedTimestamp
		return nil
	case "io.debezium.time.ZonedTime":
		c.Kind = KindZonedTime
		return nil
	case "io.debezium.time.MicroDuration":
		c.Kind = KindDuration
		return nil
	case "io.debezium.time.Interval":
		c.Kind = KindInterval
		return nil
	case "io.debezium.data.Json":
		c.Kind = KindJSON
		return nil
	case "io.debezium.data.Enum":
		c.Kind = KindEnum
		c.Allowed, _ = s.Param("allowed")
		return nil
	case "io.debezium.data.EnumSet":
		c.Kind = KindSet
		c.Allowed, _ = s.Param("allowed")
		return nil
	case "io.debezium.data.Bits":
		c.Kind = KindBits
		l, _ := s.Param("length")
		c.Length, _ = strconv.ParseInt(l, 10, 64)
		return nil
	case "io.debezium.data.geometry.Geometry", "io.debezium.data.geometry.Geography":
		c.Kind = KindGeometry
		return nil
	case "io.debezium.data.geometry.Point":
		c.Kind = KindPoint
		return nil
	case "io.debezium.data.Uuid":
		c.Kind = KindUUID
		return nil
	case "io.debezium.data.Xml":
		c.Kind = KindXML
		return nil
	}
	switch s.Type {
	case pipeline.TypeBoolean:
		c.Kind = KindBool
	case pipeline.TypeInt8:
		c.Kind = KindInt8
	case pipeline.TypeInt16:
		c.Kind = KindInt16
	case pipeline.TypeInt32:
		c.Kind = KindInt32
	case pipeline.TypeInt64:
		c.Kind = KindInt64
		if native.Unsigned && native.Name == "bigint" {
			c.Kind = KindUint64
		}
	case pipeline.TypeFloat32:
		c.Kind = KindFloat32
	case pipeline.TypeFloat64:
		c.Kind = KindFloat64
	case pipeline.TypeString:
		c.Kind = KindString
		c.Length = native.Length
	case pipeline.TypeBytes:
		c.Kind = KindBytes
		c.Length = native.Length
	case pipeline.TypeArray:
		c.Kind = KindArray
		if s.Items == nil {
			return fmt.Errorf("array schema without items")
		}
		elem := &Column{Name: c.Name, Connector: c.Connector, Precision: -1, Nullable: s.Items.Optional}
		elemNative := pipeline.NativeType{}
		if err := classifySchema(elem, s.Items, elemNative); err != nil {
			return err
		}
		c.Elem = elem
	case pipeline.TypeMap:
		c.Kind = KindMap
	default:
		return fmt.Errorf("no target mapping for Connect type %s (%s)", s.Type, s.Name)
	}
	return nil
}
