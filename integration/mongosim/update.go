package mongosim

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// updateResult is what applying one update statement to one document produced.
type updateResult struct {
	doc     bsoncore.Document
	changed bool
	// replace is true for replacement-style updates (and for pipeline updates whose diff would be
	// larger than the document), which the server logs, and change streams report, as "replace".
	replace bool
	desc    *diffNode
}

const (
	logUpdate = iota
	logCreate
	logDelete
)

type logEntry struct {
	kind  int
	path  []string
	value bsoncore.Value
}

type updateOp struct {
	op    string
	path  []string
	value bsoncore.Value
}

// updateKind classifies the u field of an update statement.
func updateKind(u bsoncore.Value) string {
	if u.Type == bsoncore.TypeArray {
		return "pipeline"
	}
	if d, ok := u.DocumentOK(); ok && isOperatorDoc(d) {
		return "operators"
	}
	return "replacement"
}

// applyUpdate applies u to old. isInsert is set for the document an upsert creates, where
// $setOnInsert applies.
func applyUpdate(old bsoncore.Document, u bsoncore.Value, isInsert bool) (updateResult, error) {
	oldID := old.Lookup("_id")
	switch updateKind(u) {
	case "replacement":
		repl := u.Document()
		if err := checkReplacement(repl); err != nil {
			return updateResult{}, err
		}
		newDoc := withIDFirst(repl, oldID)
		if newID := repl.Lookup("_id"); newID.Type != 0 && oldID.Type != 0 && !sameBSON(newID, oldID) && compareValues(newID, oldID) != 0 {
			return updateResult{}, errorf(codeImmutableField, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: %s", newID.String())
		}
		return updateResult{doc: newDoc, changed: !bytesEqual(newDoc, old), replace: true}, nil
	case "pipeline":
		return applyPipelineUpdate(old, u.Array())
	}
	ops, err := parseUpdateOps(u.Document(), isInsert)
	if err != nil {
		return updateResult{}, err
	}
	root := docTree(old)
	var log []logEntry
	for _, op := range ops {
		if op.path[0] == "_id" && !(isInsert && oldID.Type == 0) {
			cur, _ := lookupExact(root, op.path)
			noop := cur != nil && op.op != "$unset" && op.op != "$inc" && op.op != "$push" && sameBSON(cur.value(), op.value)
			if !noop {
				return updateResult{}, errorf(codeImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
			}
			continue
		}
		entries, err := applyOp(root, op)
		if err != nil {
			return updateResult{}, err
		}
		log = append(log, entries...)
	}
	newDoc := root.document()
	if len(log) == 0 {
		return updateResult{doc: old}, nil
	}
	return updateResult{doc: withIDFirst(newDoc, bsoncore.Value{}), changed: true, desc: diffFromLog(log, root)}, nil
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

func checkReplacement(d bsoncore.Document) error {
	elems, _ := d.Elements()
	for _, e := range elems {
		if strings.HasPrefix(e.Key(), "$") {
			return errorf(codeBadValue, "The dollar ($) prefixed field '%s' in '%s' is not allowed in the context of an update's replacement document.", e.Key(), e.Key())
		}
	}
	return nil
}

// withIDFirst returns doc with its _id (or id, if doc has none) as the first field, which is
// where the server always stores it.
func withIDFirst(doc bsoncore.Document, id bsoncore.Value) bsoncore.Document {
	elems, _ := doc.Elements()
	if len(elems) > 0 && elems[0].Key() == "_id" {
		return doc
	}
	if own := doc.Lookup("_id"); own.Type != 0 {
		id = own
	}
	if id.Type == 0 {
		return doc
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	b = bsoncore.AppendValueElement(b, "_id", id)
	for _, e := range elems {
		if e.Key() != "_id" {
			b = append(b, e...)
		}
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

var supportedModifiers = map[string]bool{"$set": true, "$unset": true, "$inc": true, "$push": true, "$setOnInsert": true}

// parseUpdateOps flattens the operator document and orders the operations by path, as the
// server's update tree does (its children are kept sorted), rejecting conflicting paths.
func parseUpdateOps(u bsoncore.Document, isInsert bool) ([]updateOp, error) {
	elems, _ := u.Elements()
	var ops []updateOp
	for _, e := range elems {
		op := e.Key()
		if !supportedModifiers[op] {
			return nil, errorf(codeFailedToParse, "Unknown modifier: %s. Expected a valid update modifier or pipeline-style update specified as an array", op)
		}
		args, ok := e.Value().DocumentOK()
		if !ok {
			return nil, errorf(codeFailedToParse, "Modifiers operate on fields but we found type %s instead. For example: {$mod: {<field>: ...}} not {%s: %s}", e.Value().Type, op, e.Value().String())
		}
		if op == "$setOnInsert" && !isInsert {
			continue
		}
		fields, _ := args.Elements()
		for _, f := range fields {
			path := strings.Split(f.Key(), ".")
			for _, p := range path {
				if p == "" {
					return nil, errorf(codeBadValue, "The update path '%s' contains an empty field name, which is not allowed.", f.Key())
				}
			}
			ops = append(ops, updateOp{op: op, path: path, value: f.Value()})
		}
	}
	if len(ops) == 0 && !isInsert {
		return nil, errorf(codeFailedToParse, "'update' is empty. You must specify a field like so: {$set: {<field>: ...}}")
	}
	slices.SortStableFunc(ops, func(a, b updateOp) int { return comparePaths(a.path, b.path) })
	for i := 1; i < len(ops); i++ {
		if isPrefix(ops[i-1].path, ops[i].path) {
			return nil, errorf(codeConflictingUpdateOperators, "Updating the path '%s' would create a conflict at '%s'", strings.Join(ops[i].path, "."), strings.Join(ops[i-1].path, "."))
		}
	}
	return ops, nil
}

// comparePaths is the server's cmpPathsAndArrayIndexes: component by component, numeric components
// numerically.
func comparePaths(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		if isArrayIndex(a[i]) && isArrayIndex(b[i]) {
			ai, _ := strconv.Atoi(a[i])
			bi, _ := strconv.Atoi(b[i])
			if ai != bi {
				return cmp.Compare(ai, bi)
			}
		}
		return strings.Compare(a[i], b[i])
	}
	return cmp.Compare(len(a), len(b))
}

func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func lookupExact(root *tnode, path []string) (*tnode, *tnode) {
	parent := root
	for i, p := range path {
		if !parent.container() {
			return nil, nil
		}
		n, _ := parent.child(p)
		if n == nil {
			return nil, parent
		}
		if i == len(path)-1 {
			return n, parent
		}
		parent = n
	}
	return nil, nil
}

// applyOp applies one operation and returns what the 7.0 "$v: 2" log builder would record: an
// update of an existing field, a creation at the first path component that did not exist, or a
// deletion.
func applyOp(root *tnode, op updateOp) ([]logEntry, error) {
	// Walk to the parent, creating missing documents (only $set/$inc/$push/$setOnInsert create).
	parent := root
	for i, p := range op.path[:len(op.path)-1] {
		next, _ := parent.child(p)
		if next == nil {
			if op.op == "$unset" {
				return nil, nil
			}
			// Create the rest of the path as nested documents holding the new value.
			leafValue, err := newValueFor(op)
			if err != nil {
				return nil, err
			}
			sub := nestedValue(op.path[i+1:], leafValue)
			if parent.isArr && !isArrayIndex(p) {
				return nil, pathNotViable(p, parent)
			}
			parent.set(p, sub)
			return []logEntry{{kind: logCreate, path: clonePath(op.path[:i+1]), value: sub.value()}}, nil
		}
		if !next.container() {
			if op.op == "$unset" {
				return nil, nil
			}
			return nil, pathNotViable(op.path[i+1], next)
		}
		if next.isArr && !isArrayIndex(op.path[i+1]) {
			if op.op == "$unset" {
				return nil, nil
			}
			return nil, pathNotViable(op.path[i+1], next)
		}
		parent = next
	}
	name := op.path[len(op.path)-1]
	if parent.isArr && !isArrayIndex(name) {
		return nil, pathNotViable(name, parent)
	}
	cur, _ := parent.child(name)
	switch op.op {
	case "$unset":
		if cur == nil {
			return nil, nil
		}
		if parent.isArr {
			null := &tnode{leaf: bsoncore.Value{Type: bsoncore.TypeNull}}
			parent.set(name, null)
			return []logEntry{{kind: logUpdate, path: clonePath(op.path), value: null.leaf}}, nil
		}
		parent.remove(name)
		return []logEntry{{kind: logDelete, path: clonePath(op.path)}}, nil
	case "$push":
		return applyPush(parent, name, cur, op)
	}
	nv, err := newValue(op, cur)
	if err != nil {
		return nil, err
	}
	if cur != nil && sameBSON(cur.value(), nv) {
		return nil, nil
	}
	kind := logUpdate
	if cur == nil {
		kind = logCreate
	}
	parent.set(name, treeOf(nv))
	return []logEntry{{kind: kind, path: clonePath(op.path), value: nv}}, nil
}

func clonePath(p []string) []string { return slices.Clone(p) }

func pathNotViable(field string, in *tnode) error {
	return errorf(28, "Cannot create field '%s' in element {%s}", field, in.value().String())
}

func nestedValue(path []string, leaf bsoncore.Value) *tnode {
	if len(path) == 0 {
		return treeOf(leaf)
	}
	return &tnode{isDoc: true, fields: []tfield{{name: path[0], node: nestedValue(path[1:], leaf)}}}
}

// newValueFor is the value an operation writes into a field that does not exist yet.
func newValueFor(op updateOp) (bsoncore.Value, error) {
	switch op.op {
	case "$push":
		each, _, err := pushArgs(op.value)
		if err != nil {
			return bsoncore.Value{}, err
		}
		return bsoncore.Value{Type: bsoncore.TypeArray, Data: bsoncore.BuildArray(nil, each...)}, nil
	}
	return newValue(op, nil)
}

func newValue(op updateOp, cur *tnode) (bsoncore.Value, error) {
	switch op.op {
	case "$set", "$setOnInsert":
		return op.value, nil
	case "$inc":
		if !op.value.IsNumber() {
			return bsoncore.Value{}, errorf(codeTypeMismatch, "Cannot increment with non-numeric argument: {%s: %s}", strings.Join(op.path, "."), op.value.String())
		}
		if cur == nil {
			return op.value, nil
		}
		cv := cur.value()
		if !cv.IsNumber() {
			return bsoncore.Value{}, errorf(codeTypeMismatch, "Cannot apply $inc to a value of non-numeric type. The field '%s' has non-numeric type %s", op.path[len(op.path)-1], cv.Type)
		}
		return addNumbers(cv, op.value)
	case "$push":
		return newValueFor(op)
	}
	return bsoncore.Value{}, errorf(codeFailedToParse, "Unknown modifier: %s", op.op)
}

func pushArgs(v bsoncore.Value) (each []bsoncore.Value, plain bool, err error) {
	if d, ok := v.DocumentOK(); ok {
		if arr, ok := d.Lookup("$each").ArrayOK(); ok {
			vals, _ := arr.Values()
			elems, _ := d.Elements()
			return vals, len(elems) == 1, nil
		}
	}
	return []bsoncore.Value{v}, true, nil
}

// applyPush appends; the log records each appended element at its index (the server's
// kArrayAppendUpdate), or the whole array when $position/$slice/$sort were given or the field is new.
func applyPush(parent *tnode, name string, cur *tnode, op updateOp) ([]logEntry, error) {
	each, plain, err := pushArgs(op.value)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		arr := &tnode{isArr: true}
		for i, v := range each {
			arr.fields = append(arr.fields, tfield{name: arrayKey(i), node: treeOf(v)})
		}
		parent.set(name, arr)
		return []logEntry{{kind: logCreate, path: clonePath(op.path), value: arr.value()}}, nil
	}
	if !cur.isArr {
		return nil, errorf(codeBadValue, "The field '%s' must be an array but is of type %s in document", name, cur.value().Type)
	}
	if !plain {
		d := op.value.Document()
		pos := len(cur.fields)
		if p, ok := d.Lookup("$position").AsInt64OK(); ok {
			pos = int(max(0, min(p, int64(len(cur.fields)))))
		}
		vals := make([]*tnode, 0, len(cur.fields)+len(each))
		for _, f := range cur.fields[:pos] {
			vals = append(vals, f.node)
		}
		for _, v := range each {
			vals = append(vals, treeOf(v))
		}
		for _, f := range cur.fields[pos:] {
			vals = append(vals, f.node)
		}
		if s, ok := d.Lookup("$slice").AsInt64OK(); ok {
			switch {
			case s >= 0 && int(s) < len(vals):
				vals = vals[:s]
			case s < 0 && int(-s) < len(vals):
				vals = vals[len(vals)+int(s):]
			}
		}
		cur.fields = cur.fields[:0]
		for i, v := range vals {
			cur.fields = append(cur.fields, tfield{name: arrayKey(i), node: v})
		}
		return []logEntry{{kind: logUpdate, path: clonePath(op.path), value: cur.value()}}, nil
	}
	var log []logEntry
	for _, v := range each {
		idx := arrayKey(len(cur.fields))
		cur.fields = append(cur.fields, tfield{name: idx, node: treeOf(v)})
		log = append(log, logEntry{kind: logCreate, path: append(clonePath(op.path), idx), value: v})
	}
	return log, nil
}

// addNumbers implements $inc's arithmetic: int32 widens to int64 on overflow, doubles and
// decimals are contagious.
func addNumbers(a, b bsoncore.Value) (bsoncore.Value, error) {
	if a.Type == bsoncore.TypeDecimal128 || b.Type == bsoncore.TypeDecimal128 {
		ra, rb := numberOf(a), numberOf(b)
		if ra.nan || rb.nan || ra.inf != 0 || rb.inf != 0 {
			d, _ := bson.ParseDecimal128("NaN")
			h, l := d.GetBytes()
			return bsoncore.Value{Type: bsoncore.TypeDecimal128, Data: bsoncore.AppendDecimal128(nil, h, l)}, nil
		}
		sum := new(big.Rat).Add(ra.asRat(), rb.asRat())
		d, err := bson.ParseDecimal128(sum.FloatString(decimalScale(sum)))
		if err != nil {
			return bsoncore.Value{}, errorf(codeBadValue, "Failed to apply $inc: %v", err)
		}
		h, l := d.GetBytes()
		return bsoncore.Value{Type: bsoncore.TypeDecimal128, Data: bsoncore.AppendDecimal128(nil, h, l)}, nil
	}
	if a.Type == bsoncore.TypeDouble || b.Type == bsoncore.TypeDouble {
		return bsoncore.Value{Type: bsoncore.TypeDouble, Data: bsoncore.AppendDouble(nil, a.AsFloat64()+b.AsFloat64())}, nil
	}
	x, y := a.AsInt64(), b.AsInt64()
	sum := x + y
	if (sum > x) != (y > 0) {
		return bsoncore.Value{}, errorf(codeBadValue, "Failed to apply $inc operations to current value ((NumberLong)%d) for document", x)
	}
	if a.Type == bsoncore.TypeInt32 && b.Type == bsoncore.TypeInt32 && sum >= math.MinInt32 && sum <= math.MaxInt32 {
		return i32v(int32(sum)), nil
	}
	return i64v(sum), nil
}

// decimalScale is the number of fractional digits needed to print r exactly: the smallest k
// with denominator | 10^k (a sum of decimals always has one).
func decimalScale(r *big.Rat) int {
	pow := big.NewInt(1)
	ten := big.NewInt(10)
	for k := 0; k <= 6176; k++ {
		if new(big.Int).Mod(pow, r.Denom()).Sign() == 0 {
			return k
		}
		pow.Mul(pow, ten)
	}
	return 34
}

// applyPipelineUpdate supports pipelines of $set/$addFields/$unset/$replaceWith stages whose
// values are constants, "$field" references or {$literal: v}; the change is described by diffing
// the pre- and post-image, as the server does for pipeline updates (doc_diff::computeOplogDiff).
func applyPipelineUpdate(old bsoncore.Document, pipeline bsoncore.Array) (updateResult, error) {
	stages, _ := pipeline.Values()
	root := docTree(old)
	for _, st := range stages {
		sd, ok := st.DocumentOK()
		if !ok {
			return updateResult{}, errorf(codeFailedToParse, "Each element of the 'pipeline' array must be an object")
		}
		e, err := sd.IndexErr(0)
		if err != nil {
			return updateResult{}, errorf(codeFailedToParse, "empty pipeline stage")
		}
		switch e.Key() {
		case "$set", "$addFields":
			fields, _ := e.Value().Document().Elements()
			for _, f := range fields {
				v, err := evalExpression(f.Value(), old)
				if err != nil {
					return updateResult{}, err
				}
				path := strings.Split(f.Key(), ".")
				if _, err := applyOp(root, updateOp{op: "$set", path: path, value: v}); err != nil {
					return updateResult{}, err
				}
			}
		case "$unset":
			var names []bsoncore.Value
			if arr, ok := e.Value().ArrayOK(); ok {
				names, _ = arr.Values()
			} else {
				names = []bsoncore.Value{e.Value()}
			}
			for _, n := range names {
				_, _ = applyOp(root, updateOp{op: "$unset", path: strings.Split(n.StringValue(), ".")})
			}
		case "$replaceWith":
			v, err := evalExpression(e.Value(), old)
			if err != nil {
				return updateResult{}, err
			}
			d, ok := v.DocumentOK()
			if !ok {
				return updateResult{}, errorf(40228, "'replacement document' must evaluate to an object")
			}
			root = docTree(withIDFirst(d, old.Lookup("_id")))
		default:
			return updateResult{}, errorf(codeIllegalOperation, "mongosim: pipeline update stage %s is not simulated", e.Key())
		}
	}
	newDoc := withIDFirst(root.document(), old.Lookup("_id"))
	if newID := newDoc.Lookup("_id"); !sameBSON(newID, old.Lookup("_id")) {
		return updateResult{}, errorf(codeImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'")
	}
	if bytesEqual(newDoc, old) {
		return updateResult{doc: old}, nil
	}
	diff := computeDiff(docTree(old), docTree(newDoc))
	if diff.size() >= len(newDoc) {
		return updateResult{doc: newDoc, changed: true, replace: true}, nil
	}
	return updateResult{doc: newDoc, changed: true, desc: diff}, nil
}

func evalExpression(v bsoncore.Value, doc bsoncore.Document) (bsoncore.Value, error) {
	switch v.Type {
	case bsoncore.TypeString:
		s := v.StringValue()
		if strings.HasPrefix(s, "$$") {
			return bsoncore.Value{}, errorf(codeIllegalOperation, "mongosim: variables in pipeline updates are not simulated")
		}
		if strings.HasPrefix(s, "$") {
			vals, ok := lookupPath(doc, s[1:])
			if !ok || len(vals) == 0 {
				return bsoncore.Value{Type: bsoncore.TypeNull}, nil
			}
			return vals[0], nil
		}
		return v, nil
	case bsoncore.TypeEmbeddedDocument:
		d := v.Document()
		if isOperatorDoc(d) {
			e, _ := d.IndexErr(0)
			if e.Key() == "$literal" {
				return e.Value(), nil
			}
			return bsoncore.Value{}, errorf(codeIllegalOperation, "mongosim: expression %s is not simulated", e.Key())
		}
		elems, _ := d.Elements()
		idx, b := bsoncore.AppendDocumentStart(nil)
		for _, e := range elems {
			ev, err := evalExpression(e.Value(), doc)
			if err != nil {
				return bsoncore.Value{}, err
			}
			b = bsoncore.AppendValueElement(b, e.Key(), ev)
		}
		b, _ = bsoncore.AppendDocumentEnd(b, idx)
		return docv(b), nil
	case bsoncore.TypeArray:
		vals, _ := v.Array().Values()
		out := make([]bsoncore.Value, 0, len(vals))
		for _, e := range vals {
			ev, err := evalExpression(e, doc)
			if err != nil {
				return bsoncore.Value{}, err
			}
			out = append(out, ev)
		}
		return bsoncore.Value{Type: bsoncore.TypeArray, Data: bsoncore.BuildArray(nil, out...)}, nil
	}
	return v, nil
}
