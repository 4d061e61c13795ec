package pgtype

import (
	"errors"
	"fmt"
	"strings"
)

// Type is a PostgreSQL type as pg_type describes it.
type Type struct {
	OID        uint32
	Name       string // typname: "int4", "numeric", "_text" (arrays start with _), an enum's or domain's name
	Namespace  string
	Kind       byte  // typtype: 'b' base, 'e' enum, 'd' domain, 'r' range, 'm' multirange, 'c' composite, 'p' pseudo
	Elem       *Type // element type of an array
	Base       *Type // base type of a domain (with BaseTypMod)
	BaseTypMod int32
	EnumValues []string // enum labels in enumsortorder
}

// Column is one column of a table as pg_attribute and pg_attrdef describe it.
type Column struct {
	Name     string
	Type     *Type
	TypMod   int32 // atttypmod; -1 when none (numeric precision/scale, varchar/char length, time/timestamp precision, bit length, interval fields)
	Nullable bool
	Default  *string // pg_get_expr(adbin, adrelid) text, nil when none
}

// Options are the Debezium connector settings that change representations.
// The zero value is Debezium's defaults.
type Options struct {
	// MoneyFractionDigits is money.fraction.digits, the scale of MONEY
	// values. 0 selects Debezium's default, 2.
	MoneyFractionDigits int
	// UnavailableValuePlaceholder is unavailable.value.placeholder, what
	// stands for an unchanged TOASTed value. nil selects Debezium's
	// default, "__debezium_unavailable_value".
	UnavailableValuePlaceholder []byte
}

const defaultPlaceholder = "__debezium_unavailable_value"

func (o Options) moneyScale() int {
	if o.MoneyFractionDigits == 0 {
		return 2
	}
	return o.MoneyFractionDigits
}

func (o Options) placeholder() []byte {
	if o.UnavailableValuePlaceholder == nil {
		return []byte(defaultPlaceholder)
	}
	return o.UnavailableValuePlaceholder
}

func (o Options) validate() error {
	if o.MoneyFractionDigits < 0 {
		return fmt.Errorf("money fraction digits %d is negative", o.MoneyFractionDigits)
	}
	return nil
}

// kind is how a type is represented, after domains are resolved.
type kind uint8

const (
	kindBool kind = iota + 1
	kindInt2
	kindInt4
	kindInt8
	kindOID
	kindFloat4
	kindFloat8
	kindNumeric
	kindMoney
	kindText // plain string: text, varchar, bpchar, "char", name, citext, inet, cidr, macaddr(8), built-in ranges
	kindJSON // json and jsonb
	kindXML
	kindUUID
	kindTsvector
	kindLtree
	kindDate
	kindTime
	kindTimetz
	kindTimestamp
	kindTimestamptz
	kindInterval
	kindBytea
	kindBit // bit and varbit
	kindEnum
	kindHstore
	kindPoint
	kindArray
)

// resolved is a column type reduced to what its representation depends on.
type resolved struct {
	kind   kind
	name   string // typname of the root type (after domains)
	typmod int32
	labels []string  // enum labels
	elem   *resolved // array element, with the array's typmod
}

// ErrUnsupported marks a column whose type siphon (like Debezium) cannot
// represent. The source stops on it rather than drop the column.
var ErrUnsupported = errors.New("unsupported type")

// textTypes are the base types Debezium passes on as PostgreSQL prints them.
var textTypes = map[string]bool{
	"text": true, "varchar": true, "bpchar": true, "char": true, "name": true, "citext": true,
	"inet": true, "cidr": true, "macaddr": true, "macaddr8": true,
	"int4range": true, "int8range": true, "numrange": true, "tsrange": true, "tstzrange": true, "daterange": true,
}

var baseKinds = map[string]kind{
	"bool": kindBool, "int2": kindInt2, "int4": kindInt4, "int8": kindInt8, "oid": kindOID,
	"float4": kindFloat4, "float8": kindFloat8, "numeric": kindNumeric, "money": kindMoney,
	"json": kindJSON, "jsonb": kindJSON, "xml": kindXML, "uuid": kindUUID, "tsvector": kindTsvector, "ltree": kindLtree,
	"date": kindDate, "time": kindTime, "timetz": kindTimetz, "timestamp": kindTimestamp, "timestamptz": kindTimestamptz,
	"interval": kindInterval, "bytea": kindBytea, "bit": kindBit, "varbit": kindBit, "hstore": kindHstore, "point": kindPoint,
}

// arrayElements lists the element kinds whose arrays Debezium maps
// (PostgresValueConverter.schemaBuilder); arrays of money, name, interval,
// bit, varbit, xml, point and of domains have no schema there.
var arrayElements = map[kind]bool{
	kindBool: true, kindInt2: true, kindInt4: true, kindInt8: true, kindOID: true, kindFloat4: true, kindFloat8: true,
	kindNumeric: true, kindText: true, kindJSON: true, kindUUID: true, kindTsvector: true, kindLtree: true,
	kindDate: true, kindTime: true, kindTimetz: true, kindTimestamp: true, kindTimestamptz: true,
	kindBytea: true, kindEnum: true, kindHstore: true,
}

// resolve reduces a type to its representation. typmod is the column's
// atttypmod; a domain without one passes its own typtypmod down.
func resolve(t *Type, typmod int32) (*resolved, error) {
	for depth := 0; t != nil && t.Kind == 'd'; depth++ {
		if depth > 32 || t.Base == nil {
			return nil, fmt.Errorf("domain %s: base type unknown", t.Name)
		}
		if typmod == -1 {
			typmod = t.BaseTypMod
		}
		t = t.Base
	}
	if t == nil {
		return nil, errors.New("type unknown")
	}
	switch t.Kind {
	case 'e':
		return &resolved{kind: kindEnum, name: t.Name, typmod: typmod, labels: t.EnumValues}, nil
	case 'm':
		return nil, fmt.Errorf("multirange type %s: %w", t.Name, ErrUnsupported)
	case 'c':
		return nil, fmt.Errorf("composite type %s: %w", t.Name, ErrUnsupported)
	case 'p':
		return nil, fmt.Errorf("pseudo type %s: %w", t.Name, ErrUnsupported)
	}
	if isArray(t) {
		elem := t.Elem
		if elem == nil {
			b, ok := builtinByName[t.Name[1:]]
			if !ok {
				return nil, fmt.Errorf("array type %s: element type unknown", t.Name)
			}
			elem = b
		}
		if elem.Kind == 'd' {
			return nil, fmt.Errorf("array of domain %s: %w (Debezium drops such columns)", elem.Name, ErrUnsupported)
		}
		if isArray(elem) {
			return nil, fmt.Errorf("array type %s of arrays: %w", t.Name, ErrUnsupported)
		}
		e, err := resolve(elem, typmod)
		if err != nil {
			return nil, err
		}
		if !arrayElements[e.kind] || e.name == "name" {
			return nil, fmt.Errorf("array type %s: %w (Debezium has no schema for arrays of %s)", t.Name, ErrUnsupported, elem.Name)
		}
		return &resolved{kind: kindArray, name: t.Name, typmod: typmod, elem: e}, nil
	}
	if textTypes[t.Name] {
		return &resolved{kind: kindText, name: t.Name, typmod: typmod}, nil
	}
	if k, ok := baseKinds[t.Name]; ok {
		return &resolved{kind: k, name: t.Name, typmod: typmod}, nil
	}
	return nil, fmt.Errorf("type %s: %w", qualifiedName(t), ErrUnsupported)
}

func isArray(t *Type) bool {
	return t.Elem != nil || (strings.HasPrefix(t.Name, "_") && (t.Kind == 'b' || t.Kind == 0) && builtinByName[t.Name[1:]] != nil)
}

func qualifiedName(t *Type) string {
	if t.Namespace == "" || t.Namespace == "pg_catalog" {
		return t.Name
	}
	return t.Namespace + "." + t.Name
}

// columnError wraps err with the column and its type, and tells what the
// user can do about an unsupported type.
func (c Column) columnError(err error) error {
	typ := "<nil>"
	if c.Type != nil {
		typ = qualifiedName(c.Type)
	}
	if errors.Is(err, ErrUnsupported) {
		return fmt.Errorf("pgtype: column %s (type %s): %w; exclude the table or the column from capture", c.Name, typ, err)
	}
	return fmt.Errorf("pgtype: column %s (type %s): %w", c.Name, typ, err)
}

func (c Column) resolve() (*resolved, error) {
	r, err := resolve(c.Type, c.TypMod)
	if err != nil {
		return nil, c.columnError(err)
	}
	return r, nil
}

// builtin is pg_catalog's fixed-OID types siphon knows, with their arrays.
var builtins = []struct {
	oid, arrayOID uint32
	name          string
	kind          byte
}{
	{16, 1000, "bool", 'b'}, {17, 1001, "bytea", 'b'}, {18, 1002, "char", 'b'}, {19, 1003, "name", 'b'},
	{20, 1016, "int8", 'b'}, {21, 1005, "int2", 'b'}, {23, 1007, "int4", 'b'}, {25, 1009, "text", 'b'},
	{26, 1028, "oid", 'b'}, {114, 199, "json", 'b'}, {142, 143, "xml", 'b'}, {600, 1017, "point", 'b'},
	{650, 651, "cidr", 'b'}, {700, 1021, "float4", 'b'}, {701, 1022, "float8", 'b'}, {774, 775, "macaddr8", 'b'},
	{790, 791, "money", 'b'}, {829, 1040, "macaddr", 'b'}, {869, 1041, "inet", 'b'}, {1042, 1014, "bpchar", 'b'},
	{1043, 1015, "varchar", 'b'}, {1082, 1182, "date", 'b'}, {1083, 1183, "time", 'b'}, {1114, 1115, "timestamp", 'b'},
	{1184, 1185, "timestamptz", 'b'}, {1186, 1187, "interval", 'b'}, {1266, 1270, "timetz", 'b'}, {1560, 1561, "bit", 'b'},
	{1562, 1563, "varbit", 'b'}, {1700, 1231, "numeric", 'b'}, {2950, 2951, "uuid", 'b'}, {3614, 3643, "tsvector", 'b'},
	{3802, 3807, "jsonb", 'b'}, {3904, 3905, "int4range", 'r'}, {3906, 3907, "numrange", 'r'}, {3908, 3909, "tsrange", 'r'},
	{3910, 3911, "tstzrange", 'r'}, {3912, 3913, "daterange", 'r'}, {3926, 3927, "int8range", 'r'},
}

// builtinByName and builtinByOID are read-only after init; Lookup hands
// out copies so that callers cannot change them.
var (
	builtinByName = map[string]*Type{}
	builtinByOID  = map[uint32]*Type{}
)

func init() {
	for _, b := range builtins {
		t := &Type{OID: b.oid, Name: b.name, Namespace: "pg_catalog", Kind: b.kind}
		a := &Type{OID: b.arrayOID, Name: "_" + b.name, Namespace: "pg_catalog", Kind: 'b', Elem: t}
		builtinByName[t.Name], builtinByOID[t.OID] = t, t
		builtinByName[a.Name], builtinByOID[a.OID] = a, a
	}
}

// Lookup returns the built-in type with the given OID: the scalar types
// siphon maps and the array type of each. The source resolves other OIDs
// (enums, domains, extension types such as hstore, citext and ltree) from
// pg_type at run time.
func Lookup(oid uint32) (*Type, bool) {
	t, ok := builtinByOID[oid]
	if !ok {
		return nil, false
	}
	c := *t
	if t.Elem != nil {
		e := *t.Elem
		c.Elem = &e
	}
	return &c, true
}
