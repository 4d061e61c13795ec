package mongosim

import (
	"bytes"
	"cmp"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// canonicalType is the server's canonicalizeBSONType (src/mongo/bson/bsontypes.cpp, unchanged
// from 4.x to 8.0): the rank of a type in the BSON comparison order. Numbers share a rank, and so
// do String and Symbol.
func canonicalType(t bsoncore.Type) int {
	switch t {
	case bsoncore.TypeMinKey:
		return -1
	case bsoncore.TypeUndefined:
		return 0
	case bsoncore.TypeNull:
		return 5
	case bsoncore.TypeDouble, bsoncore.TypeInt32, bsoncore.TypeInt64, bsoncore.TypeDecimal128:
		return 10
	case bsoncore.TypeString, bsoncore.TypeSymbol:
		return 15
	case bsoncore.TypeEmbeddedDocument:
		return 20
	case bsoncore.TypeArray:
		return 25
	case bsoncore.TypeBinary:
		return 30
	case bsoncore.TypeObjectID:
		return 35
	case bsoncore.TypeBoolean:
		return 40
	case bsoncore.TypeDateTime:
		return 45
	case bsoncore.TypeTimestamp:
		return 47
	case bsoncore.TypeRegex:
		return 50
	case bsoncore.TypeDBPointer:
		return 55
	case bsoncore.TypeJavaScript:
		return 60
	case bsoncore.TypeCodeWithScope:
		return 65
	case bsoncore.TypeMaxKey:
		return 127
	}
	return 200
}

// compareValues orders two BSON values as the server does without a collation: by canonical type
// first, then by value (numbers numerically across int32/int64/double/decimal, NaN below every
// number, strings bytewise, documents field by field).
func compareValues(a, b bsoncore.Value) int {
	ca, cb := canonicalType(a.Type), canonicalType(b.Type)
	if ca != cb {
		return cmp.Compare(ca, cb)
	}
	switch ca {
	case -1, 0, 5, 127:
		return 0
	case 10:
		return compareNumbers(a, b)
	case 15:
		return strings.Compare(stringOf(a), stringOf(b))
	case 20:
		return compareDocuments(a.Document(), b.Document())
	case 25:
		return compareDocuments(bsoncore.Document(a.Array()), bsoncore.Document(b.Array()))
	case 30:
		sa, da := a.Binary()
		sb, db := b.Binary()
		if c := cmp.Compare(len(da), len(db)); c != 0 {
			return c
		}
		if c := cmp.Compare(sa, sb); c != 0 {
			return c
		}
		return bytes.Compare(da, db)
	case 35:
		oa, ob := a.ObjectID(), b.ObjectID()
		return bytes.Compare(oa[:], ob[:])
	case 40:
		ba, bb := a.Boolean(), b.Boolean()
		switch {
		case ba == bb:
			return 0
		case bb:
			return -1
		}
		return 1
	case 45:
		return cmp.Compare(a.DateTime(), b.DateTime())
	case 47:
		ta, ia := a.Timestamp()
		tb, ib := b.Timestamp()
		if c := cmp.Compare(ta, tb); c != 0 {
			return c
		}
		return cmp.Compare(ia, ib)
	case 50:
		pa, fa := a.Regex()
		pb, fb := b.Regex()
		if c := strings.Compare(pa, pb); c != 0 {
			return c
		}
		return strings.Compare(fa, fb)
	case 55:
		na, oa := a.DBPointer()
		nb, ob := b.DBPointer()
		if c := cmp.Compare(len(na), len(nb)); c != 0 {
			return c
		}
		if c := strings.Compare(na, nb); c != 0 {
			return c
		}
		return bytes.Compare(oa[:], ob[:])
	case 60:
		return strings.Compare(a.JavaScript(), b.JavaScript())
	case 65:
		ca, sa := a.CodeWithScope()
		cb, sb := b.CodeWithScope()
		if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
		return compareDocuments(sa, sb)
	}
	return bytes.Compare(a.Data, b.Data)
}

func stringOf(v bsoncore.Value) string {
	if v.Type == bsoncore.TypeSymbol {
		return v.Symbol()
	}
	return v.StringValue()
}

// compareDocuments is BSONObj::woCompare with field names considered: element by element, the
// canonical type, then the field name, then the value; a prefix sorts first.
func compareDocuments(a, b bsoncore.Document) int {
	ea, _ := a.Elements()
	eb, _ := b.Elements()
	for i := 0; i < len(ea) && i < len(eb); i++ {
		va, vb := ea[i].Value(), eb[i].Value()
		if c := cmp.Compare(canonicalType(va.Type), canonicalType(vb.Type)); c != 0 {
			return c
		}
		if c := strings.Compare(ea[i].Key(), eb[i].Key()); c != 0 {
			return c
		}
		if c := compareValues(va, vb); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(ea), len(eb))
}

// number is a BSON number reduced to what comparison needs.
type number struct {
	nan   bool
	inf   int      // -1, 0, +1
	i     int64    // exact value when isInt
	rat   *big.Rat // exact value otherwise
	isInt bool
}

func numberOf(v bsoncore.Value) number {
	switch v.Type {
	case bsoncore.TypeInt32:
		return number{isInt: true, i: int64(v.Int32())}
	case bsoncore.TypeInt64:
		return number{isInt: true, i: v.Int64()}
	case bsoncore.TypeDouble:
		f := v.Double()
		switch {
		case math.IsNaN(f):
			return number{nan: true}
		case math.IsInf(f, 1):
			return number{inf: 1}
		case math.IsInf(f, -1):
			return number{inf: -1}
		}
		if f == math.Trunc(f) && f >= -(1<<63) && f < 1<<63 {
			return number{isInt: true, i: int64(f)}
		}
		return number{rat: new(big.Rat).SetFloat64(f)}
	case bsoncore.TypeDecimal128:
		d := bson.NewDecimal128(v.Decimal128())
		if d.IsNaN() {
			return number{nan: true}
		}
		if inf := d.IsInf(); inf != 0 {
			return number{inf: inf}
		}
		coef, exp, err := d.BigInt()
		if err != nil {
			return number{nan: true}
		}
		r := new(big.Rat).SetInt(coef)
		if exp > 0 {
			r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
		} else if exp < 0 {
			r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-exp)), nil)))
		}
		if r.IsInt() && r.Num().IsInt64() {
			return number{isInt: true, i: r.Num().Int64()}
		}
		return number{rat: r}
	}
	return number{nan: true}
}

func (n number) asRat() *big.Rat {
	if n.isInt {
		return new(big.Rat).SetInt64(n.i)
	}
	return n.rat
}

func compareNumbers(a, b bsoncore.Value) int {
	if a.Type == bsoncore.TypeDouble && b.Type == bsoncore.TypeDouble {
		fa, fb := a.Double(), b.Double()
		switch {
		case math.IsNaN(fa) && math.IsNaN(fb):
			return 0
		case math.IsNaN(fa):
			return -1
		case math.IsNaN(fb):
			return 1
		}
		return cmp.Compare(fa, fb)
	}
	na, nb := numberOf(a), numberOf(b)
	switch {
	case na.nan && nb.nan:
		return 0
	case na.nan:
		return -1
	case nb.nan:
		return 1
	case na.inf != 0 || nb.inf != 0:
		return cmp.Compare(na.inf, nb.inf)
	case na.isInt && nb.isInt:
		return cmp.Compare(na.i, nb.i)
	}
	return na.asRat().Cmp(nb.asRat())
}

// canonicalKey returns a string that is equal for two values exactly when compareValues says they
// are equal, so _id uniqueness (1, 1.0 and NumberLong(1) are one key) can use a map.
func canonicalKey(v bsoncore.Value) string {
	var sb strings.Builder
	appendCanonicalKey(&sb, v)
	return sb.String()
}

func appendCanonicalKey(sb *strings.Builder, v bsoncore.Value) {
	ct := canonicalType(v.Type)
	sb.WriteString(strconv.Itoa(ct))
	sb.WriteByte(':')
	switch ct {
	case -1, 0, 5, 127:
	case 10:
		n := numberOf(v)
		switch {
		case n.nan:
			sb.WriteString("nan")
		case n.inf != 0:
			sb.WriteString(strconv.Itoa(n.inf) + "inf")
		case n.isInt:
			sb.WriteString(strconv.FormatInt(n.i, 10))
		default:
			sb.WriteString(n.rat.RatString())
		}
	case 15:
		sb.WriteString(strconv.Quote(stringOf(v)))
	case 20, 25:
		var doc bsoncore.Document
		if ct == 20 {
			doc = v.Document()
		} else {
			doc = bsoncore.Document(v.Array())
		}
		elems, _ := doc.Elements()
		sb.WriteByte('{')
		for _, e := range elems {
			sb.WriteString(strconv.Quote(e.Key()))
			sb.WriteByte('=')
			appendCanonicalKey(sb, e.Value())
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
	case 65:
		code, scope := v.CodeWithScope()
		sb.WriteString(strconv.Quote(code))
		appendCanonicalKey(sb, bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: scope})
	case 60:
		sb.WriteString(strconv.Quote(v.JavaScript()))
	default:
		// Every other type compares by its raw bytes (binary: length, subtype, data; regex:
		// pattern, flags; ...), so its encoding is already canonical.
		sb.WriteString(strconv.Quote(string(v.Data)))
	}
}
