package postgres

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// builtin lists PostgreSQL type names (pg_type.typname) whose declaration
// a PostgreSQL target can take over as the source declares it.
var builtin = map[string]bool{
	"bool": true, "int2": true, "int4": true, "int8": true, "float4": true, "float8": true, "numeric": true,
	"money": true, "text": true, "varchar": true, "bpchar": true, "char": true, "name": true, "bytea": true,
	"date": true, "time": true, "timetz": true, "timestamp": true, "timestamptz": true, "interval": true,
	"json": true, "jsonb": true, "uuid": true, "xml": true, "bit": true, "varbit": true, "inet": true,
	"cidr": true, "macaddr": true, "macaddr8": true, "oid": true, "tsvector": true, "point": true,
	"int4range": true, "int8range": true, "numrange": true, "tsrange": true, "tstzrange": true, "daterange": true,
}

// ColumnType maps a source column to the PostgreSQL type the sink creates
// (as format_type spells it, so that SameType can compare).
func (d *dialect) ColumnType(c *sqlapply.Column) (sqlapply.ColumnDef, error) {
	def := sqlapply.ColumnDef{Name: c.Name}
	n := c.Source.Native
	if c.FromPostgres() && n.Full != "" {
		base := strings.TrimPrefix(n.Name, "_")
		if builtin[base] {
			def.Type = n.Full
			return def, nil
		}
	}
	t, lossy, err := pgType(c)
	if err != nil {
		return def, err
	}
	def.Type, def.Lossy = t, lossy
	return def, nil
}

func precision(p int, name string) string {
	if p < 0 || p > 6 {
		return name
	}
	word, rest, _ := strings.Cut(name, " ")
	s := word + "(" + strconv.Itoa(p) + ")"
	if rest != "" {
		s += " " + rest
	}
	return s
}

func pgType(c *sqlapply.Column) (typ, lossy string, err error) {
	mysql := c.FromMySQL()
	switch c.Kind {
	case sqlapply.KindBool:
		return "boolean", "", nil
	case sqlapply.KindInt8, sqlapply.KindInt16:
		return "smallint", "", nil
	case sqlapply.KindInt32:
		return "integer", "", nil
	case sqlapply.KindInt64:
		return "bigint", "", nil
	case sqlapply.KindUint64:
		return "numeric(20,0)", "", nil
	case sqlapply.KindFloat32:
		return "real", "", nil
	case sqlapply.KindFloat64:
		return "double precision", "", nil
	case sqlapply.KindDecimal:
		if c.Precision > 0 && c.Precision <= 1000 && c.Scale >= 0 && c.Scale <= c.Precision {
			return fmt.Sprintf("numeric(%d,%d)", c.Precision, c.Scale), "", nil
		}
		return "numeric", "", nil
	case sqlapply.KindVarDecimal:
		return "numeric", "", nil
	case sqlapply.KindString:
		if mysql {
			switch c.Source.Native.Name {
			case "varchar", "char":
				if c.Length > 0 && c.Length <= 10485760 {
					return fmt.Sprintf("character varying(%d)", c.Length), "", nil
				}
			}
		}
		return "text", "", nil
	case sqlapply.KindEnum, sqlapply.KindSet:
		return "text", "the list of allowed values is not enforced", nil
	case sqlapply.KindBytes:
		return "bytea", "", nil
	case sqlapply.KindJSON:
		return "jsonb", "whitespace, key order and duplicate keys of the JSON text", nil
	case sqlapply.KindDate:
		return "date", "", nil
	case sqlapply.KindYear:
		return "smallint", "", nil
	case sqlapply.KindTime:
		if mysql || !c.FromPostgres() {
			// MySQL TIME is a duration from -838:59:59 to 838:59:59.
			return "interval", "", nil
		}
		return precision(c.Precision, "time without time zone"), "", nil
	case sqlapply.KindTimestamp:
		lossy := ""
		if c.Unit == sqlapply.Nanos {
			lossy = "nanoseconds (PostgreSQL keeps microseconds)"
		}
		return precision(c.Precision, "timestamp without time zone"), lossy, nil
	case sqlapply.KindZonedTimestamp:
		return precision(c.Precision, "timestamp with time zone"), "", nil
	case sqlapply.KindZonedTime:
		return "time with time zone", "", nil
	case sqlapply.KindBits:
		if c.Length > 0 && c.Length <= 83886080 {
			return fmt.Sprintf("bit(%d)", c.Length), "", nil
		}
		return "bit varying", "", nil
	case sqlapply.KindGeometry, sqlapply.KindPoint:
		return "bytea", "the SRID (the geometry is kept as WKB)", nil
	case sqlapply.KindUUID:
		return "uuid", "", nil
	case sqlapply.KindDuration, sqlapply.KindInterval:
		return "interval", "", nil
	case sqlapply.KindXML:
		return "xml", "", nil
	case sqlapply.KindArray:
		elem, lossy, err := pgType(c.Elem)
		if err != nil {
			return "", "", err
		}
		return elem + "[]", lossy, nil
	}
	return "", "", fmt.Errorf("column %s: no PostgreSQL type for %s values", c.Name, c.Kind)
}

// SameType compares an existing column with the type the sink would create.
func (d *dialect) SameType(have sqlapply.TargetColumn, want sqlapply.ColumnDef) bool {
	return strings.EqualFold(normalizeType(have.Type), normalizeType(want.Type))
}

func normalizeType(t string) string {
	t = strings.TrimSpace(strings.ToLower(t))
	t = strings.TrimPrefix(t, "pg_catalog.")
	return t
}

func (d *dialect) CreateTable(name sqlapply.Name, cols []sqlapply.ColumnDef, key []string) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS ")
	b.WriteString(quoteName(name))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.Name))
		b.WriteByte(' ')
		b.WriteString(c.Type)
	}
	if len(key) > 0 {
		b.WriteString(", PRIMARY KEY (")
		for i, k := range key {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(k))
		}
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String()
}

func (d *dialect) AddColumn(name sqlapply.Name, col sqlapply.ColumnDef) string {
	return "ALTER TABLE " + quoteName(name) + " ADD COLUMN IF NOT EXISTS " + quoteIdent(col.Name) + " " + col.Type
}

// castType is what a text value is cast to for a column: its type without
// the length modifiers that an explicit cast would truncate to silently
// (the assignment to the column then checks the length).
func castType(typname, full string) string {
	array := strings.HasPrefix(typname, "_")
	base := strings.TrimPrefix(typname, "_")
	suffix := ""
	if array {
		suffix = "[]"
	}
	switch base {
	case "varchar", "bpchar":
		return base + suffix
	case "bit", "varbit":
		return "varbit" + suffix
	}
	return full
}
