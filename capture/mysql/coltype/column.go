package coltype

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/siphoncdc/siphon/pipeline"
)

// Type is a column's MySQL type, normalised: the same whether it was learnt
// from a binlog TABLE_MAP or from information_schema. BINARY, VARBINARY and
// BLOB are TypeChar, TypeVarChar and TypeBlob with Charset "binary"; TEXT is
// TypeBlob with a character set; BOOLEAN is TypeTiny.
type Type uint8

// Column types.
const (
	TypeTiny Type = iota + 1
	TypeShort
	TypeInt24
	TypeLong
	TypeLongLong
	TypeDecimal
	TypeFloat
	TypeDouble
	TypeBit
	TypeYear
	TypeDate
	TypeTime
	TypeDateTime
	TypeTimestamp
	TypeChar
	TypeVarChar
	TypeBlob
	TypeEnum
	TypeSet
	TypeJSON
	TypeGeometry
	TypeVector
)

var typeNames = [...]string{
	TypeTiny:      "TINYINT",
	TypeShort:     "SMALLINT",
	TypeInt24:     "MEDIUMINT",
	TypeLong:      "INT",
	TypeLongLong:  "BIGINT",
	TypeDecimal:   "DECIMAL",
	TypeFloat:     "FLOAT",
	TypeDouble:    "DOUBLE",
	TypeBit:       "BIT",
	TypeYear:      "YEAR",
	TypeDate:      "DATE",
	TypeTime:      "TIME",
	TypeDateTime:  "DATETIME",
	TypeTimestamp: "TIMESTAMP",
	TypeChar:      "CHAR",
	TypeVarChar:   "VARCHAR",
	TypeBlob:      "BLOB",
	TypeEnum:      "ENUM",
	TypeSet:       "SET",
	TypeJSON:      "JSON",
	TypeGeometry:  "GEOMETRY",
	TypeVector:    "VECTOR",
}

// String returns the type's SQL name, e.g. "MEDIUMINT".
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "UNKNOWN(" + strconv.Itoa(int(t)) + ")"
}

func (t Type) isInteger() bool { return t >= TypeTiny && t <= TypeLongLong }
func (t Type) isText() bool    { return t == TypeChar || t == TypeVarChar || t == TypeBlob }
func (t Type) hasFSP() bool    { return t == TypeTime || t == TypeDateTime || t == TypeTimestamp }

// Flavors, as Column.Flavor and FromInformationSchema spell them.
const (
	FlavorMySQL   = "mysql"
	FlavorMariaDB = "mariadb"
)

// RenderJSONAsMySQLText is the go-mysql BinlogSyncerConfig setting the
// source must use. With it go-mysql keeps the key order of MySQL's binary
// JSON (the order Debezium prints), writes DECIMAL members unquoted and
// doubles with their ".0"; BinlogDecoder rewrites the rest (number forms,
// string escapes) into what Debezium's JsonStringFormatter prints.
const RenderJSONAsMySQLText = true

// Column describes one column of a captured table.
type Column struct {
	Name      string
	Type      Type
	Unsigned  bool
	Nullable  bool
	Precision int // DECIMAL precision (M)
	Scale     int // DECIMAL scale (D); FLOAT(M,D): D
	FSP       int // TIME/DATETIME/TIMESTAMP fractional seconds precision 0..6
	// Length is BIT's n; the declared length of CHAR/VARCHAR/BINARY/VARBINARY
	// when known (characters from information_schema, bytes from a binlog
	// TABLE_MAP — BINARY(n) is n either way); the maximum byte length of a
	// BLOB/TEXT; for an ENUM or SET learnt from a binlog TABLE_MAP, the
	// number of bytes a value takes.
	Length int
	// Charset of a character column, ENUM or SET ("utf8mb4", "latin1", …);
	// "binary" for BINARY/VARBINARY/BLOB; "" when unknown or not applicable.
	// "utf8" is read as "utf8mb3".
	Charset string
	// Members of an ENUM or SET in declaration order, as UTF-8 (a binlog
	// TABLE_MAP carries them in the column's charset: see DecodeString).
	Members []string
	// Geometry of a TypeGeometry column: "geometry", "point", "linestring",
	// "polygon", "multipoint", "multilinestring", "multipolygon",
	// "geometrycollection"; "" when unknown (a generic geometry).
	Geometry string
	// Default is information_schema.COLUMNS.COLUMN_DEFAULT exactly as the
	// server reports it (MariaDB quotes literals and writes NULL as the word
	// NULL; MySQL does neither); nil when no default is known.
	Default *string
	// DefaultGenerated is MySQL's EXTRA "DEFAULT_GENERATED": Default is an
	// expression (CURRENT_TIMESTAMP, rand(), …), not a literal. MariaDB
	// needs no flag: its unquoted non-numeric defaults are the expressions.
	DefaultGenerated bool
	Generated        bool   // a VIRTUAL or STORED generated column
	ColumnType       string // information_schema COLUMN_TYPE, e.g. "int(10) unsigned"; "" when unknown
	Flavor           string // FlavorMySQL or FlavorMariaDB
}

func (c Column) isBinary() bool { return normCharset(c.Charset) == "binary" }

// sqlName names the column's type the way a user declares it, for messages.
func (c Column) sqlName() string {
	name := c.Type.String()
	switch c.Type {
	case TypeChar:
		if c.isBinary() {
			name = "BINARY"
		}
	case TypeVarChar:
		if c.isBinary() {
			name = "VARBINARY"
		}
	case TypeBlob:
		if c.Charset != "" && !c.isBinary() {
			name = "TEXT"
		}
	case TypeGeometry:
		if c.Geometry != "" {
			name = strings.ToUpper(c.Geometry)
		}
	}
	if c.Unsigned && c.Type.isInteger() {
		name += " UNSIGNED"
	}
	return name
}

// FromBinlog describes a column from its TABLE_MAP type code and metadata
// (TableMapEvent.ColumnType[i] and ColumnMeta[i] as go-mysql decodes them).
// Name, signedness and nullability come from the caller; character set,
// ENUM/SET members and geometry type are the caller's to fill in from the
// optional metadata when the server logs it.
func FromBinlog(name string, binlogType byte, meta uint16, unsigned, nullable bool) (Column, error) {
	c := Column{Name: name, Nullable: nullable}
	switch binlogType {
	case mysql.MYSQL_TYPE_TINY:
		c.Type = TypeTiny
	case mysql.MYSQL_TYPE_SHORT:
		c.Type = TypeShort
	case mysql.MYSQL_TYPE_INT24:
		c.Type = TypeInt24
	case mysql.MYSQL_TYPE_LONG:
		c.Type = TypeLong
	case mysql.MYSQL_TYPE_LONGLONG:
		c.Type = TypeLongLong
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		c.Type = TypeDecimal
		c.Precision, c.Scale = int(meta>>8), int(meta&0xff)
		if c.Precision < 1 || c.Precision > 65 || c.Scale > 30 || c.Scale > c.Precision {
			return Column{}, fmt.Errorf("column %s: DECIMAL(%d,%d) in TABLE_MAP is impossible", name, c.Precision, c.Scale)
		}
	case mysql.MYSQL_TYPE_FLOAT:
		c.Type = TypeFloat
	case mysql.MYSQL_TYPE_DOUBLE:
		c.Type = TypeDouble
	case mysql.MYSQL_TYPE_BIT:
		c.Type = TypeBit
		c.Length = int(meta>>8)*8 + int(meta&0xff)
		if c.Length < 1 || c.Length > 64 {
			return Column{}, fmt.Errorf("column %s: BIT(%d) in TABLE_MAP is impossible", name, c.Length)
		}
	case mysql.MYSQL_TYPE_YEAR:
		c.Type = TypeYear
	case mysql.MYSQL_TYPE_DATE:
		c.Type = TypeDate
	case mysql.MYSQL_TYPE_TIME:
		c.Type = TypeTime
	case mysql.MYSQL_TYPE_TIME2:
		c.Type, c.FSP = TypeTime, int(meta)
	case mysql.MYSQL_TYPE_DATETIME:
		c.Type = TypeDateTime
	case mysql.MYSQL_TYPE_DATETIME2:
		c.Type, c.FSP = TypeDateTime, int(meta)
	case mysql.MYSQL_TYPE_TIMESTAMP:
		c.Type = TypeTimestamp
	case mysql.MYSQL_TYPE_TIMESTAMP2:
		c.Type, c.FSP = TypeTimestamp, int(meta)
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		c.Type, c.Length = TypeVarChar, int(meta)
	case mysql.MYSQL_TYPE_STRING:
		realType, length := stringRealType(meta)
		switch realType {
		case mysql.MYSQL_TYPE_STRING:
			c.Type, c.Length = TypeChar, length
		case mysql.MYSQL_TYPE_ENUM:
			c.Type, c.Length = TypeEnum, int(meta&0xff)
			if c.Length != 1 && c.Length != 2 {
				return Column{}, fmt.Errorf("column %s: ENUM stored in %d bytes is impossible", name, c.Length)
			}
		case mysql.MYSQL_TYPE_SET:
			c.Type, c.Length = TypeSet, int(meta&0xff)
			if c.Length < 1 || c.Length > 8 {
				return Column{}, fmt.Errorf("column %s: SET stored in %d bytes is impossible", name, c.Length)
			}
		default:
			return Column{}, fmt.Errorf("column %s: unsupported real type %#x of a MYSQL_TYPE_STRING column", name, realType)
		}
	case mysql.MYSQL_TYPE_BLOB:
		c.Type = TypeBlob
		switch meta {
		case 1, 2, 3, 4:
			c.Length = 1<<(8*meta) - 1
		default:
			return Column{}, fmt.Errorf("column %s: BLOB with a %d-byte length prefix is impossible", name, meta)
		}
	case mysql.MYSQL_TYPE_JSON:
		c.Type = TypeJSON
	case mysql.MYSQL_TYPE_GEOMETRY:
		c.Type = TypeGeometry // which geometry comes from the optional metadata, if at all
	case mysql.MYSQL_TYPE_VECTOR:
		c.Type = TypeVector
	default:
		return Column{}, fmt.Errorf("column %s: unsupported binlog column type %#x", name, binlogType)
	}
	c.Unsigned = unsigned && c.Type.isInteger()
	if c.FSP < 0 || c.FSP > 6 {
		return Column{}, fmt.Errorf("column %s: %s(%d) in TABLE_MAP is impossible", name, c.Type, c.FSP)
	}
	return c, nil
}

// stringRealType splits a MYSQL_TYPE_STRING column's metadata into its real
// type (CHAR/BINARY, ENUM or SET) and, for CHAR/BINARY, its byte length,
// whose two high bits MySQL hides in the type byte (sql/field.cc,
// Field_string::save_field_metadata).
func stringRealType(meta uint16) (byte, int) {
	if meta < 256 {
		return mysql.MYSQL_TYPE_STRING, int(meta)
	}
	b0, b1 := byte(meta>>8), byte(meta)
	if b0&0x30 != 0x30 {
		return b0 | 0x30, int(uint16(b1) | uint16((b0&0x30)^0x30)<<4)
	}
	return b0, int(b1)
}

// InfoSchemaColumn is one row of information_schema.COLUMNS, strings as the
// server returns them, SQL NULL as nil.
type InfoSchemaColumn struct {
	Name, DataType, ColumnType string
	IsNullable                 bool
	Default                    *string
	NumericPrecision           *int64
	NumericScale               *int64
	DatetimePrecision          *int64
	CharMaxLength              *int64
	CharsetName                *string
	Extra                      string // "VIRTUAL GENERATED", "STORED GENERATED", "auto_increment", "DEFAULT_GENERATED", …
	GenerationExpression       string
	IsJSON                     bool // a MariaDB JSON column (LONGTEXT with a json_valid check), detected by the caller
}

var infoSchemaTypes = map[string]Type{
	"tinyint": TypeTiny, "bool": TypeTiny, "boolean": TypeTiny,
	"smallint": TypeShort, "mediumint": TypeInt24, "int": TypeLong, "integer": TypeLong, "bigint": TypeLongLong,
	"decimal": TypeDecimal, "numeric": TypeDecimal, "dec": TypeDecimal, "fixed": TypeDecimal,
	"float": TypeFloat, "double": TypeDouble, "real": TypeDouble, "double precision": TypeDouble,
	"bit": TypeBit, "year": TypeYear, "date": TypeDate, "time": TypeTime, "datetime": TypeDateTime, "timestamp": TypeTimestamp,
	"char": TypeChar, "binary": TypeChar, "varchar": TypeVarChar, "varbinary": TypeVarChar,
	"tinyblob": TypeBlob, "blob": TypeBlob, "mediumblob": TypeBlob, "longblob": TypeBlob,
	"tinytext": TypeBlob, "text": TypeBlob, "mediumtext": TypeBlob, "longtext": TypeBlob,
	"enum": TypeEnum, "set": TypeSet, "json": TypeJSON,
	"geometry": TypeGeometry, "point": TypeGeometry, "linestring": TypeGeometry, "polygon": TypeGeometry,
	"multipoint": TypeGeometry, "multilinestring": TypeGeometry, "multipolygon": TypeGeometry,
	"geometrycollection": TypeGeometry, "geomcollection": TypeGeometry,
	"vector": TypeVector,
}

// FromInformationSchema describes a column from its information_schema row.
// flavor is FlavorMySQL or FlavorMariaDB.
func FromInformationSchema(ic InfoSchemaColumn, flavor string) (Column, error) {
	if flavor != FlavorMySQL && flavor != FlavorMariaDB {
		return Column{}, fmt.Errorf("column %s: unknown server flavor %q", ic.Name, flavor)
	}
	dataType := strings.ToLower(strings.TrimSpace(ic.DataType))
	colType := strings.ToLower(ic.ColumnType)
	t, ok := infoSchemaTypes[dataType]
	if !ok {
		return Column{}, fmt.Errorf("column %s: unsupported column type %s", ic.Name, ic.DataType)
	}
	c := Column{
		Name:       ic.Name,
		Type:       t,
		Nullable:   ic.IsNullable,
		Default:    ic.Default,
		ColumnType: ic.ColumnType,
		Flavor:     flavor,
	}
	if ic.IsJSON && t == TypeBlob {
		c.Type = TypeJSON
	}
	if t.isInteger() || t == TypeDecimal || t == TypeFloat || t == TypeDouble {
		c.Unsigned = strings.Contains(colType, "unsigned") || strings.Contains(colType, "zerofill")
		if !t.isInteger() {
			c.Unsigned = false // FLOAT/DOUBLE/DECIMAL UNSIGNED store signed values
		}
	}
	switch c.Type {
	case TypeDecimal:
		if ic.NumericPrecision == nil || ic.NumericScale == nil {
			return Column{}, fmt.Errorf("column %s: DECIMAL without NUMERIC_PRECISION/NUMERIC_SCALE", ic.Name)
		}
		c.Precision, c.Scale = int(*ic.NumericPrecision), int(*ic.NumericScale)
	case TypeFloat:
		// FLOAT(M,D): Debezium gives it a double schema.
		if m, d, ok := typeArgs(colType); ok && d >= 0 {
			c.Precision, c.Scale = m, d
		}
	case TypeBit:
		c.Length = 1
		if ic.NumericPrecision != nil {
			c.Length = int(*ic.NumericPrecision)
		} else if n, _, ok := typeArgs(colType); ok {
			c.Length = n
		}
		if c.Length < 1 || c.Length > 64 {
			return Column{}, fmt.Errorf("column %s: BIT(%d) is impossible", ic.Name, c.Length)
		}
	case TypeTime, TypeDateTime, TypeTimestamp:
		if ic.DatetimePrecision != nil {
			c.FSP = int(*ic.DatetimePrecision)
		}
		if c.FSP < 0 || c.FSP > 6 {
			return Column{}, fmt.Errorf("column %s: %s(%d) is impossible", ic.Name, c.Type, c.FSP)
		}
	case TypeChar, TypeVarChar, TypeBlob, TypeVector, TypeJSON:
		if ic.CharMaxLength != nil {
			c.Length = int(*ic.CharMaxLength)
		}
	case TypeEnum, TypeSet:
		members, err := parseMembers(ic.ColumnType)
		if err != nil {
			return Column{}, fmt.Errorf("column %s: %w", ic.Name, err)
		}
		c.Members = members
	case TypeGeometry:
		c.Geometry = dataType
		if dataType == "geomcollection" {
			c.Geometry = "geometrycollection"
		}
	}
	switch c.Type {
	case TypeChar, TypeVarChar, TypeBlob, TypeEnum, TypeSet, TypeJSON:
		if ic.CharsetName != nil {
			c.Charset = normCharset(*ic.CharsetName)
		}
		if strings.Contains(dataType, "binary") || strings.HasSuffix(dataType, "blob") {
			c.Charset = "binary"
		}
	}
	extra := strings.ToUpper(ic.Extra)
	c.Generated = ic.GenerationExpression != "" || strings.Contains(extra, "VIRTUAL GENERATED") ||
		strings.Contains(extra, "STORED GENERATED") || strings.Contains(extra, "PERSISTENT GENERATED")
	c.DefaultGenerated = flavor == FlavorMySQL && strings.Contains(extra, "DEFAULT_GENERATED")
	return c, nil
}

// typeArgs reads "(m)" or "(m,d)" from a COLUMN_TYPE; d is -1 when absent.
func typeArgs(colType string) (m, d int, ok bool) {
	open := strings.IndexByte(colType, '(')
	end := strings.IndexByte(colType, ')')
	if open < 0 || end < open {
		return 0, 0, false
	}
	args := strings.Split(colType[open+1:end], ",")
	m, err := strconv.Atoi(strings.TrimSpace(args[0]))
	if err != nil {
		return 0, 0, false
	}
	d = -1
	if len(args) > 1 {
		if d, err = strconv.Atoi(strings.TrimSpace(args[1])); err != nil {
			return 0, 0, false
		}
	}
	return m, d, true
}

// parseMembers reads the members of "enum('a','b')" or "set('a','b')". The
// server quotes them like string literals: a quote is doubled, and \, NUL,
// newline and carriage return are escaped with a backslash.
func parseMembers(colType string) ([]string, error) {
	open := strings.IndexByte(colType, '(')
	if open < 0 || !strings.HasSuffix(strings.TrimSpace(colType), ")") {
		return nil, fmt.Errorf("cannot read members from column type %q", colType)
	}
	s := strings.TrimSpace(colType)
	s = s[open+1 : len(s)-1]
	members := []string{}
	for i := 0; i < len(s); {
		if s[i] != '\'' {
			return nil, fmt.Errorf("cannot read members from column type %q", colType)
		}
		m, n, ok := unquoteSQL(s[i:])
		if !ok {
			return nil, fmt.Errorf("cannot read members from column type %q", colType)
		}
		members = append(members, m)
		i += n
		if i < len(s) {
			if s[i] != ',' {
				return nil, fmt.Errorf("cannot read members from column type %q", colType)
			}
			i++
		}
	}
	return members, nil
}

// unquoteSQL reads the single-quoted literal at the start of s and returns
// its value and how many bytes of s it took.
func unquoteSQL(s string) (string, int, bool) {
	if len(s) < 2 || s[0] != '\'' {
		return "", 0, false
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch ch := s[i]; ch {
		case '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i++
				continue
			}
			return b.String(), i + 1, true
		case '\\':
			if i+1 == len(s) {
				return "", 0, false
			}
			i++
			switch e := s[i]; e {
			case '0':
				b.WriteByte(0)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'b':
				b.WriteByte('\b')
			case 'Z':
				b.WriteByte(0x1a)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(ch)
		}
	}
	return "", 0, false
}

func normCharset(cs string) string {
	cs = strings.ToLower(strings.TrimSpace(cs))
	if cs == "utf8" {
		return "utf8mb3"
	}
	return cs
}

// SameStorage reports whether a column learnt from a binlog TABLE_MAP and one
// learnt from information_schema describe the same physical column, so that
// names and defaults of the latter may be used for rows decoded with the
// former. The error says what differs, e.g. "binlog has INT, schema has
// VARCHAR". A binlog column that says signed may belong to an unsigned
// column (a TABLE_MAP without signedness metadata says nothing); one that
// says unsigned may not.
func SameStorage(binlog, info Column) error {
	b, i := binlog, info
	b.Charset, i.Charset = normCharset(b.Charset), normCharset(i.Charset)
	// MariaDB's JSON is a LONGTEXT: the binlog cannot tell them apart.
	sameType := b.Type == i.Type || (b.Type == TypeBlob && i.Type == TypeJSON)
	if !sameType {
		return fmt.Errorf("binlog has %s, schema has %s", b.sqlName(), i.sqlName())
	}
	switch {
	case b.Type.isInteger():
		if b.Unsigned && !i.Unsigned {
			return fmt.Errorf("binlog has %s, schema has %s", b.sqlName(), i.sqlName())
		}
	case b.Type == TypeDecimal:
		if b.Precision != i.Precision || b.Scale != i.Scale {
			return fmt.Errorf("binlog has DECIMAL(%d,%d), schema has DECIMAL(%d,%d)", b.Precision, b.Scale, i.Precision, i.Scale)
		}
	case b.Type.hasFSP():
		if b.FSP != i.FSP {
			return fmt.Errorf("binlog has %s(%d), schema has %s(%d)", b.Type, b.FSP, i.Type, i.FSP)
		}
	case b.Type == TypeBit:
		if b.Length != i.Length {
			return fmt.Errorf("binlog has BIT(%d), schema has BIT(%d)", b.Length, i.Length)
		}
	case b.Type == TypeEnum || b.Type == TypeSet:
		if len(b.Members) > 0 && len(i.Members) > 0 && len(b.Members) != len(i.Members) {
			return fmt.Errorf("binlog has %s of %d members, schema has %d", b.Type, len(b.Members), len(i.Members))
		}
		if b.Length > 0 && len(i.Members) > 0 {
			if want := memberStorage(b.Type, len(i.Members)); want != b.Length {
				return fmt.Errorf("binlog has a %s stored in %d bytes, schema has %d members (%d bytes)", b.Type, b.Length, len(i.Members), want)
			}
		}
	case b.Type == TypeGeometry:
		if b.Geometry != "" && b.Geometry != "geometry" && i.Geometry != "" && b.Geometry != i.Geometry {
			return fmt.Errorf("binlog has %s, schema has %s", strings.ToUpper(b.Geometry), strings.ToUpper(i.Geometry))
		}
	}
	if (b.Type.isText() || b.Type == TypeEnum || b.Type == TypeSet) && b.Charset != "" && i.Charset != "" && b.Charset != i.Charset {
		return fmt.Errorf("binlog has %s %s, schema has %s %s", b.sqlName(), b.Charset, i.sqlName(), i.Charset)
	}
	return nil
}

func memberStorage(t Type, members int) int {
	if t == TypeEnum {
		if members > 255 {
			return 2
		}
		return 1
	}
	n := (members + 7) / 8
	if n > 4 {
		n = 8 // MySQL rounds SET storage of 5..8 bytes up to 8
	}
	return n
}

// Native returns the column's type as the source declares it.
func (c Column) Native() pipeline.NativeType {
	n := pipeline.NativeType{
		Name:      c.nativeName(),
		Full:      c.ColumnType,
		Unsigned:  c.Unsigned,
		Generated: c.Generated,
	}
	switch {
	case c.Type == TypeDecimal:
		n.Length, n.Scale = int64(c.Precision), c.Scale
	case c.Type == TypeFloat && c.Precision > 0:
		n.Length, n.Scale = int64(c.Precision), c.Scale
	case c.Type.hasFSP():
		n.Scale = c.FSP
	case c.Type == TypeBit, c.Type == TypeChar, c.Type == TypeVarChar, c.Type == TypeVector:
		n.Length = int64(c.Length)
	}
	if c.Type.isText() || c.Type == TypeEnum || c.Type == TypeSet || (c.Type == TypeJSON && c.Charset != "") {
		n.Charset = c.Charset
	}
	if n.Full == "" {
		n.Full = c.synthesizedType(n)
	}
	return n
}

// nativeName is the lower-case base type name.
func (c Column) nativeName() string {
	if c.ColumnType != "" && c.Type != TypeJSON {
		name := strings.ToLower(c.ColumnType)
		if i := strings.IndexAny(name, "( "); i >= 0 {
			name = name[:i]
		}
		return name
	}
	switch c.Type {
	case TypeChar:
		if c.isBinary() {
			return "binary"
		}
		return "char"
	case TypeVarChar:
		if c.isBinary() {
			return "varbinary"
		}
		return "varchar"
	case TypeBlob:
		prefix := "long"
		switch {
		case c.Length > 0 && c.Length <= 255:
			prefix = "tiny"
		case c.Length > 0 && c.Length <= 65535:
			prefix = ""
		case c.Length > 0 && c.Length <= 16777215:
			prefix = "medium"
		}
		if c.Charset != "" && !c.isBinary() {
			return prefix + "text"
		}
		return prefix + "blob"
	case TypeGeometry:
		if c.Geometry != "" {
			return c.Geometry
		}
	}
	return strings.ToLower(c.Type.String())
}

func (c Column) synthesizedType(n pipeline.NativeType) string {
	full := n.Name
	switch c.Type {
	case TypeDecimal:
		full += "(" + strconv.Itoa(c.Precision) + "," + strconv.Itoa(c.Scale) + ")"
	case TypeTime, TypeDateTime, TypeTimestamp:
		if c.FSP > 0 {
			full += "(" + strconv.Itoa(c.FSP) + ")"
		}
	case TypeBit, TypeChar, TypeVarChar:
		if c.Length > 0 {
			full += "(" + strconv.Itoa(c.Length) + ")"
		}
	case TypeEnum, TypeSet:
		quoted := make([]string, len(c.Members))
		for i, m := range c.Members {
			quoted[i] = "'" + strings.ReplaceAll(strings.ReplaceAll(m, `\`, `\\`), "'", "''") + "'"
		}
		full += "(" + strings.Join(quoted, ",") + ")"
	}
	if c.Unsigned {
		full += " unsigned"
	}
	return full
}
