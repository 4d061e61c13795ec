package mysql

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// tableOptions are those of every table the sink creates: binary
// collation, so that keys that differ only in case or accents stay
// distinct as in PostgreSQL (and in a MySQL source with such a collation).
const tableOptions = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"

// Longest key columns InnoDB can index (3072 bytes).
const (
	maxKeyChars = 768
	maxKeyBytes = 3072
)

// ColumnType maps a source column to the MySQL type the sink creates.
func (d *dialect) ColumnType(c *sqlapply.Column) (sqlapply.ColumnDef, error) {
	def := sqlapply.ColumnDef{Name: c.Name}
	n := c.Source.Native
	if c.FromMySQL() && n.Full != "" {
		def.Type = sameEngineType(c)
		return def, nil
	}
	t, lossy, err := mysqlType(c)
	if err != nil {
		return def, err
	}
	def.Type, def.Lossy = t, lossy
	return def, nil
}

// sameEngineType is a MySQL column's declaration for a MySQL target: as
// the source declares it, with its character set, and plain (not
// generated: the values come from the source).
func sameEngineType(c *sqlapply.Column) string {
	n := c.Source.Native
	full := strings.ToLower(n.Full)
	switch n.Name {
	case "json":
		return "json"
	case "text", "tinytext", "mediumtext", "longtext":
		if c.Key {
			return fmt.Sprintf("varchar(%d)", maxKeyChars)
		}
	case "blob", "tinyblob", "mediumblob", "longblob":
		if c.Key {
			return fmt.Sprintf("varbinary(%d)", maxKeyBytes)
		}
		return full
	case "timestamp":
		if !c.Key {
			return full + " NULL"
		}
		return full
	}
	if cs := n.Charset; cs != "" && cs != "binary" && (strings.Contains(n.Name, "char") || strings.Contains(n.Name, "text") ||
		n.Name == "enum" || n.Name == "set") {
		return full + " CHARACTER SET " + cs + " COLLATE " + cs + "_bin"
	}
	return full
}

func mysqlType(c *sqlapply.Column) (typ, lossy string, err error) {
	switch c.Kind {
	case sqlapply.KindBool:
		return "tinyint(1)", "", nil
	case sqlapply.KindInt8:
		return "tinyint", "", nil
	case sqlapply.KindInt16:
		return "smallint", "", nil
	case sqlapply.KindInt32:
		return "int", "", nil
	case sqlapply.KindInt64:
		return "bigint", "", nil
	case sqlapply.KindUint64:
		return "bigint unsigned", "", nil
	case sqlapply.KindFloat32:
		return "float", "", nil
	case sqlapply.KindFloat64:
		return "double", "", nil
	case sqlapply.KindDecimal:
		p, s := c.Precision, c.Scale
		switch {
		case p > 0 && p <= 65 && s >= 0 && s <= 30 && s <= p:
			return fmt.Sprintf("decimal(%d,%d)", p, s), "", nil
		case s >= 0 && s <= 30 && p <= 0:
			return fmt.Sprintf("decimal(65,%d)", s), "", nil
		}
		return fmt.Sprintf("decimal(65,%d)", min(max(s, 0), 30)), "digits beyond MySQL's DECIMAL(65,30)", nil
	case sqlapply.KindVarDecimal:
		return "decimal(65,30)", "digits beyond MySQL's DECIMAL(65,30) (more than 30 after the point are rounded)", nil
	case sqlapply.KindString:
		n := c.Source.Native
		if (n.Name == "varchar" || n.Name == "bpchar") && c.Length > 0 && c.Length <= 16383 {
			if c.Key && c.Length > maxKeyChars {
				return fmt.Sprintf("varchar(%d)", maxKeyChars), fmt.Sprintf("key values longer than %d characters", maxKeyChars), nil
			}
			return fmt.Sprintf("varchar(%d)", c.Length), "", nil
		}
		if c.Key {
			return fmt.Sprintf("varchar(%d)", maxKeyChars), fmt.Sprintf("key values longer than %d characters", maxKeyChars), nil
		}
		return "longtext", "", nil
	case sqlapply.KindEnum, sqlapply.KindSet:
		return "varchar(255)", "the list of allowed values is not enforced", nil
	case sqlapply.KindBytes:
		if c.Key {
			return fmt.Sprintf("varbinary(%d)", maxKeyBytes), fmt.Sprintf("key values longer than %d bytes", maxKeyBytes), nil
		}
		return "longblob", "", nil
	case sqlapply.KindJSON:
		return "json", "", nil
	case sqlapply.KindDate:
		return "date", "dates before 1000-01-01 or after 9999-12-31 (refused)", nil
	case sqlapply.KindYear:
		return "year", "", nil
	case sqlapply.KindTime:
		return fmt.Sprintf("time(%d)", fsp(c.Precision)), "", nil
	case sqlapply.KindTimestamp:
		return fmt.Sprintf("datetime(%d)", fsp(c.Precision)), "timestamps outside 1000..9999 and ±infinity (refused)", nil
	case sqlapply.KindZonedTimestamp:
		return fmt.Sprintf("datetime(%d)", fsp(c.Precision)), "the zone: values are kept in UTC; ±infinity is refused", nil
	case sqlapply.KindZonedTime:
		return "time(6)", "the zone offset", nil
	case sqlapply.KindBits:
		if c.Length > 0 && c.Length <= 64 {
			return fmt.Sprintf("bit(%d)", c.Length), "", nil
		}
		return "varbinary(1024)", "the bit length (kept as Debezium's little-endian bytes)", nil
	case sqlapply.KindGeometry:
		return "geometry", "", nil
	case sqlapply.KindPoint:
		return "point", "", nil
	case sqlapply.KindUUID:
		return "char(36)", "", nil
	case sqlapply.KindDuration:
		return "bigint", "the interval's form: kept as microseconds", nil
	case sqlapply.KindInterval:
		return "varchar(64)", "", nil
	case sqlapply.KindXML:
		return "longtext", "", nil
	case sqlapply.KindArray, sqlapply.KindMap:
		return "json", "the array type: kept as a JSON array", nil
	}
	return "", "", fmt.Errorf("column %s: no MySQL type for %s values", c.Name, c.Kind)
}

func fsp(p int) int {
	if p < 0 || p > 6 {
		return 6
	}
	return p
}

var (
	intWidth   = regexp.MustCompile(`^(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)`)
	charsetSfx = regexp.MustCompile(` character set \S+( collate \S+)?$`)
)

// SameType compares declarations after removing integer display widths
// (MariaDB shows int(11)), character sets and NULL.
func (d *dialect) SameType(have sqlapply.TargetColumn, want sqlapply.ColumnDef) bool {
	return normalizeType(have.Type) == normalizeType(want.Type)
}

func normalizeType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	t = strings.TrimSuffix(t, " null")
	t = charsetSfx.ReplaceAllString(t, "")
	if strings.HasPrefix(t, "tinyint(1)") {
		return t
	}
	t = intWidth.ReplaceAllString(t, "$1")
	t = strings.Replace(t, "integer", "int", 1)
	if t == "json" {
		return "longtext" // MariaDB's JSON is LONGTEXT with a json_valid check
	}
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
	b.WriteString(tableOptions)
	return b.String()
}

func (d *dialect) AddColumn(name sqlapply.Name, col sqlapply.ColumnDef) string {
	return "ALTER TABLE " + quoteName(name) + " ADD COLUMN " + quoteIdent(col.Name) + " " + col.Type
}
