package mongosim

import (
	"fmt"
	"regexp"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// matcher reports whether a document satisfies a query filter.
type matcher func(doc bsoncore.Document) bool

func matchAll(bsoncore.Document) bool { return true }

// compileFilter compiles the subset of the query language siphon and its tests use: implicit
// equality, $eq $ne $gt $gte $lt $lte $in $nin $exists, regex literals, and $and/$or/$nor, on
// dotted paths with the server's array semantics (an array field matches if any element does).
func compileFilter(filter bsoncore.Document) (matcher, error) {
	if len(filter) == 0 {
		return matchAll, nil
	}
	elems, err := filter.Elements()
	if err != nil {
		return nil, badValue("invalid filter: %v", err)
	}
	var parts []matcher
	for _, e := range elems {
		key, val := e.Key(), e.Value()
		switch key {
		case "$and", "$or", "$nor":
			arr, ok := val.ArrayOK()
			if !ok {
				return nil, badValue("%s must be an array", key)
			}
			vals, _ := arr.Values()
			if len(vals) == 0 {
				return nil, badValue("%s/$or/$nor entries need to be full objects", key)
			}
			subs := make([]matcher, 0, len(vals))
			for _, v := range vals {
				d, ok := v.DocumentOK()
				if !ok {
					return nil, badValue("%s/$or/$nor entries need to be full objects", key)
				}
				m, err := compileFilter(d)
				if err != nil {
					return nil, err
				}
				subs = append(subs, m)
			}
			parts = append(parts, combineLogical(key, subs))
		case "$comment":
		default:
			if strings.HasPrefix(key, "$") {
				return nil, badValue("unknown top level operator: %s", key)
			}
			m, err := compileField(key, val)
			if err != nil {
				return nil, err
			}
			parts = append(parts, m)
		}
	}
	return func(doc bsoncore.Document) bool {
		for _, p := range parts {
			if !p(doc) {
				return false
			}
		}
		return true
	}, nil
}

func combineLogical(op string, subs []matcher) matcher {
	return func(doc bsoncore.Document) bool {
		switch op {
		case "$and":
			for _, m := range subs {
				if !m(doc) {
					return false
				}
			}
			return true
		case "$or":
			for _, m := range subs {
				if m(doc) {
					return true
				}
			}
			return false
		default: // $nor
			for _, m := range subs {
				if m(doc) {
					return false
				}
			}
			return true
		}
	}
}

// valuePredicate tests one candidate value found at a path; missing is reported separately.
type fieldTest struct {
	onValue   func(v bsoncore.Value) bool
	onMissing bool
	negate    bool
}

func compileField(path string, val bsoncore.Value) (matcher, error) {
	if doc, ok := val.DocumentOK(); ok && isOperatorDoc(doc) {
		elems, _ := doc.Elements()
		var tests []fieldTest
		for _, e := range elems {
			t, err := compileOperator(e.Key(), e.Value())
			if err != nil {
				return nil, err
			}
			tests = append(tests, t)
		}
		return func(d bsoncore.Document) bool {
			for _, t := range tests {
				if !evalFieldTest(d, path, t) {
					return false
				}
			}
			return true
		}, nil
	}
	t, err := compileOperator("$eq", val)
	if err != nil {
		return nil, err
	}
	if val.Type == bsoncore.TypeRegex {
		t = regexTest(val)
	}
	return func(d bsoncore.Document) bool { return evalFieldTest(d, path, t) }, nil
}

func isOperatorDoc(doc bsoncore.Document) bool {
	e, err := doc.IndexErr(0)
	return err == nil && strings.HasPrefix(e.Key(), "$")
}

func evalFieldTest(doc bsoncore.Document, path string, t fieldTest) bool {
	values, found := lookupPath(doc, path)
	result := false
	if !found {
		result = t.onMissing
	} else {
		for _, v := range values {
			if t.onValue(v) {
				result = true
				break
			}
		}
	}
	if t.negate {
		return !result
	}
	return result
}

func compileOperator(op string, operand bsoncore.Value) (fieldTest, error) {
	switch op {
	case "$eq":
		return fieldTest{onValue: equalsFn(operand), onMissing: isNullish(operand)}, nil
	case "$ne":
		return fieldTest{onValue: equalsFn(operand), onMissing: isNullish(operand), negate: true}, nil
	case "$gt", "$gte", "$lt", "$lte":
		return fieldTest{onValue: func(v bsoncore.Value) bool {
			if !bracketComparable(v, operand) {
				return false
			}
			c := compareValues(v, operand)
			switch op {
			case "$gt":
				return c > 0
			case "$gte":
				return c >= 0
			case "$lt":
				return c < 0
			}
			return c <= 0
		}, onMissing: isNullish(operand) && (op == "$gte" || op == "$lte")}, nil
	case "$in", "$nin":
		arr, ok := operand.ArrayOK()
		if !ok {
			return fieldTest{}, badValue("%s needs an array", op)
		}
		vals, _ := arr.Values()
		var tests []func(bsoncore.Value) bool
		missing := false
		for _, v := range vals {
			if v.Type == bsoncore.TypeRegex {
				tests = append(tests, regexTest(v).onValue)
				continue
			}
			tests = append(tests, equalsFn(v))
			missing = missing || isNullish(v)
		}
		return fieldTest{onValue: func(v bsoncore.Value) bool {
			for _, t := range tests {
				if t(v) {
					return true
				}
			}
			return false
		}, onMissing: missing, negate: op == "$nin"}, nil
	case "$exists":
		want := truthy(operand)
		return fieldTest{onValue: func(bsoncore.Value) bool { return want }, onMissing: !want}, nil
	case "$regex":
		return regexTest(operand), nil
	}
	return fieldTest{}, badValue("unknown operator: %s", op)
}

// bracketComparable implements the server's type bracketing for range operators: values of different
// canonical types never compare, except against MinKey and MaxKey.
func bracketComparable(v, operand bsoncore.Value) bool {
	if operand.Type == bsoncore.TypeMinKey || operand.Type == bsoncore.TypeMaxKey {
		return true
	}
	return canonicalType(v.Type) == canonicalType(operand.Type)
}

func equalsFn(operand bsoncore.Value) func(bsoncore.Value) bool {
	return func(v bsoncore.Value) bool {
		if isNullish(operand) {
			return isNullish(v)
		}
		return canonicalType(v.Type) == canonicalType(operand.Type) && compareValues(v, operand) == 0
	}
}

func isNullish(v bsoncore.Value) bool {
	return v.Type == bsoncore.TypeNull || v.Type == bsoncore.TypeUndefined
}

func regexTest(operand bsoncore.Value) fieldTest {
	pattern, flags := "", ""
	switch operand.Type {
	case bsoncore.TypeRegex:
		pattern, flags = operand.Regex()
	case bsoncore.TypeString:
		pattern = operand.StringValue()
	}
	goFlags := ""
	for _, f := range flags {
		if strings.ContainsRune("imsx", f) && f != 'x' {
			goFlags += string(f)
		}
	}
	if goFlags != "" {
		pattern = "(?" + goFlags + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	return fieldTest{onValue: func(v bsoncore.Value) bool {
		if err != nil {
			return false
		}
		if v.Type == bsoncore.TypeRegex {
			return compareValues(v, operand) == 0
		}
		if v.Type != bsoncore.TypeString && v.Type != bsoncore.TypeSymbol {
			return false
		}
		return re.MatchString(stringOf(v))
	}}
}

func truthy(v bsoncore.Value) bool {
	switch v.Type {
	case 0:
		return false
	case bsoncore.TypeBoolean:
		return v.Boolean()
	case bsoncore.TypeNull, bsoncore.TypeUndefined:
		return false
	case bsoncore.TypeInt32, bsoncore.TypeInt64, bsoncore.TypeDouble, bsoncore.TypeDecimal128:
		return compareNumbers(v, bsoncore.Value{Type: bsoncore.TypeInt32, Data: []byte{0, 0, 0, 0}}) != 0
	}
	return true
}

// lookupPath returns every value a dotted path reaches (arrays on the way are traversed element by
// element, and an array at the end is returned both whole and element by element), and whether
// the path exists at all.
func lookupPath(doc bsoncore.Document, path string) ([]bsoncore.Value, bool) {
	head, rest, nested := strings.Cut(path, ".")
	v, err := doc.LookupErr(head)
	if err != nil {
		return nil, false
	}
	if !nested {
		if arr, ok := v.ArrayOK(); ok {
			vals, _ := arr.Values()
			return append([]bsoncore.Value{v}, vals...), true
		}
		return []bsoncore.Value{v}, true
	}
	switch v.Type {
	case bsoncore.TypeEmbeddedDocument:
		return lookupPath(v.Document(), rest)
	case bsoncore.TypeArray:
		// A numeric component indexes the array; otherwise the path applies to each element.
		var out []bsoncore.Value
		found := false
		idxKey, _, _ := strings.Cut(rest, ".")
		if isArrayIndex(idxKey) {
			if vals, ok := lookupPath(bsoncore.Document(v.Array()), rest); ok {
				out, found = append(out, vals...), true
			}
		}
		elems, _ := v.Array().Values()
		for _, e := range elems {
			if d, ok := e.DocumentOK(); ok {
				if vals, ok := lookupPath(d, rest); ok {
					out, found = append(out, vals...), true
				}
			}
		}
		return out, found
	}
	return nil, false
}

func isArrayIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// badValue builds the BadValue (2) command error the server returns for malformed queries.
func badValue(format string, args ...any) *commandError {
	return &commandError{code: codeBadValue, msg: fmt.Sprintf(format, args...)}
}
