package pgtype

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/siphoncdc/siphon/pipeline"
)

// builtin returns a fresh copy of a built-in type by name ("int4", "_text").
func builtin(t testing.TB, name string) *Type {
	t.Helper()
	b, ok := builtinByName[name]
	if !ok {
		t.Fatalf("no built-in type %s", name)
	}
	c, _ := Lookup(b.OID)
	return c
}

// extension returns a base type resolved at run time, as hstore or citext.
func extension(name string) *Type {
	return &Type{OID: 90000 + uint32(len(name)), Name: name, Namespace: "public", Kind: 'b'}
}

func arrayOf(elem *Type) *Type {
	return &Type{OID: elem.OID + 1, Name: "_" + elem.Name, Namespace: elem.Namespace, Kind: 'b', Elem: elem}
}

func enumType(labels ...string) *Type {
	return &Type{OID: 70001, Name: "mood", Namespace: "public", Kind: 'e', EnumValues: labels}
}

// typeOf resolves the short type names the tables use: built-ins,
// "hstore", "citext", "ltree", "mood" (an enum) and "X[]" arrays of them.
func typeOf(t testing.TB, name string) *Type {
	t.Helper()
	if elem, ok := strings.CutSuffix(name, "[]"); ok {
		return arrayOf(typeOf(t, elem))
	}
	switch name {
	case "hstore", "citext", "ltree":
		return extension(name)
	case "mood":
		return enumType("sad", "ok", "happy")
	}
	return builtin(t, name)
}

func column(t testing.TB, typ string, typmod int32) Column {
	t.Helper()
	return Column{Name: "c", Type: typeOf(t, typ), TypMod: typmod, Nullable: true}
}

func unhexT(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// describe renders a value for failure messages.
func describe(v pipeline.Value) string {
	switch v.Kind() {
	case pipeline.KindNull:
		return "null"
	case pipeline.KindBool:
		if v.AsBool() {
			return "true"
		}
		return "false"
	case pipeline.KindInt:
		return "int(" + strconv.FormatInt(v.AsInt(), 10) + ")"
	case pipeline.KindFloat32, pipeline.KindFloat64:
		return "float(" + strconv.FormatFloat(v.AsFloat64(), 'g', -1, 64) + ")"
	case pipeline.KindString:
		return "string(" + strconv.Quote(v.AsString()) + ")"
	case pipeline.KindBytes:
		return "bytes(" + hex.EncodeToString(v.AsBytes()) + ")"
	}
	parts := []string{}
	for _, e := range v.Elems() {
		parts = append(parts, describe(e))
	}
	if v.Kind() == pipeline.KindStruct {
		return "struct{" + strings.Join(parts, ", ") + "}"
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
