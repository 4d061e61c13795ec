package mongosim

import (
	"slices"
	"strconv"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// diffNode is one level of a 7.0 "$v: 2" oplog diff: deletes, updates, inserts and sub-diffs of
// a document, or updates, sub-diffs and a new size of an array.
type diffNode struct {
	isArray bool
	deletes []string
	updates []diffValue
	inserts []diffValue
	subs    []diffSub
	newSize int // arrays only; -1 when the array did not shrink
}

type diffValue struct {
	name  string
	value bsoncore.Value
}

type diffSub struct {
	name string
	node *diffNode
}

func newDiffNode(isArray bool) *diffNode { return &diffNode{isArray: isArray, newSize: -1} }

func (d *diffNode) sub(name string, isArray bool) *diffNode {
	for _, s := range d.subs {
		if s.name == name {
			return s.node
		}
	}
	n := newDiffNode(isArray)
	d.subs = append(d.subs, diffSub{name: name, node: n})
	return n
}

// diffFromLog builds the diff the server's V2 log builder would write for these log entries;
// post is the updated document, used to tell arrays from documents along each path.
func diffFromLog(log []logEntry, post *tnode) *diffNode {
	root := newDiffNode(false)
	for _, e := range log {
		node, at := root, post
		for _, p := range e.path[:len(e.path)-1] {
			next, _ := at.child(p)
			isArr := next != nil && next.isArr
			node = node.sub(p, isArr)
			at = next
			if at == nil {
				break
			}
		}
		name := e.path[len(e.path)-1]
		switch {
		case e.kind == logDelete:
			node.deletes = append(node.deletes, name)
		case e.kind == logCreate && !node.isArray:
			node.inserts = append(node.inserts, diffValue{name: name, value: e.value})
		default:
			node.updates = append(node.updates, diffValue{name: name, value: e.value})
		}
	}
	return root
}

// computeDiff diffs two documents (or arrays) as doc_diff::computeOplogDiff does, without its
// size-based choice between a sub-diff and a whole-value update.
func computeDiff(pre, post *tnode) *diffNode {
	d := newDiffNode(post.isArr)
	if post.isArr {
		if len(post.fields) < len(pre.fields) {
			d.newSize = len(post.fields)
		}
		for i, f := range post.fields {
			if i < len(pre.fields) {
				if sub := subDiff(pre.fields[i].node, f.node); sub != nil {
					if !sub.empty() {
						d.subs = append(d.subs, diffSub{name: strconv.Itoa(i), node: sub})
					}
					continue
				}
				if sameBSON(pre.fields[i].node.value(), f.node.value()) {
					continue
				}
			}
			d.updates = append(d.updates, diffValue{name: strconv.Itoa(i), value: f.node.value()})
		}
		return d
	}
	for _, f := range pre.fields {
		if n, _ := post.child(f.name); n == nil {
			d.deletes = append(d.deletes, f.name)
		}
	}
	for _, f := range post.fields {
		old, _ := pre.child(f.name)
		switch {
		case old == nil:
			d.inserts = append(d.inserts, diffValue{name: f.name, value: f.node.value()})
		case subDiff(old, f.node) != nil:
			if sub := subDiff(old, f.node); !sub.empty() {
				d.subs = append(d.subs, diffSub{name: f.name, node: sub})
			}
		case !sameBSON(old.value(), f.node.value()):
			d.updates = append(d.updates, diffValue{name: f.name, value: f.node.value()})
		}
	}
	return d
}

func subDiff(pre, post *tnode) *diffNode {
	if (pre.isDoc && post.isDoc) || (pre.isArr && post.isArr) {
		return computeDiff(pre, post)
	}
	return nil
}

func (d *diffNode) empty() bool {
	return len(d.deletes) == 0 && len(d.updates) == 0 && len(d.inserts) == 0 && len(d.subs) == 0 && d.newSize < 0
}

// size approximates the BSON size of the diff, for the server's "diff larger than the document:
// log a replacement instead" rule.
func (d *diffNode) size() int {
	n := 5
	for _, x := range d.deletes {
		n += len(x) + 3
	}
	for _, x := range append(slices.Clone(d.updates), d.inserts...) {
		n += len(x.name) + 2 + len(x.value.Data)
	}
	for _, s := range d.subs {
		n += len(s.name) + 3 + s.node.size()
	}
	return n
}

// updateDescription is the parsed form change streams report
// (change_stream_document_diff_parser.cpp): removedFields from deletes, updatedFields from updates
// then inserts then sub-diffs with dotted paths, truncatedArrays from shrunk arrays.
type updateDescription struct {
	updated   []diffValue
	removed   []string
	truncated []truncation
}

type truncation struct {
	field   string
	newSize int32
}

func (d *diffNode) describe() updateDescription {
	var u updateDescription
	d.walk(nil, &u)
	return u
}

func (d *diffNode) walk(prefix []string, u *updateDescription) {
	path := func(name string) string { return strings.Join(append(slices.Clone(prefix), name), ".") }
	if d.isArray {
		if d.newSize >= 0 {
			u.truncated = append(u.truncated, truncation{field: strings.Join(prefix, "."), newSize: int32(d.newSize)})
		}
		type entry struct {
			idx   int
			value *bsoncore.Value
			sub   *diffNode
		}
		var entries []entry
		for _, x := range append(slices.Clone(d.updates), d.inserts...) {
			i, _ := strconv.Atoi(x.name)
			v := x.value
			entries = append(entries, entry{idx: i, value: &v})
		}
		for _, s := range d.subs {
			i, _ := strconv.Atoi(s.name)
			entries = append(entries, entry{idx: i, sub: s.node})
		}
		slices.SortStableFunc(entries, func(a, b entry) int { return a.idx - b.idx })
		for _, e := range entries {
			if e.sub != nil {
				e.sub.walk(append(slices.Clone(prefix), strconv.Itoa(e.idx)), u)
				continue
			}
			u.updated = append(u.updated, diffValue{name: path(strconv.Itoa(e.idx)), value: *e.value})
		}
		return
	}
	for _, name := range d.deletes {
		u.removed = append(u.removed, path(name))
	}
	for _, x := range d.updates {
		u.updated = append(u.updated, diffValue{name: path(x.name), value: x.value})
	}
	for _, x := range d.inserts {
		u.updated = append(u.updated, diffValue{name: path(x.name), value: x.value})
	}
	for _, s := range d.subs {
		s.node.walk(append(slices.Clone(prefix), s.name), u)
	}
}

// appendUpdateDescription appends updateDescription: {updatedFields, removedFields,
// truncatedArrays[, disambiguatedPaths]} (7.0 field order).
func appendUpdateDescription(dst []byte, u updateDescription, expanded bool) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, "updateDescription")
	uidx, dst := bsoncore.AppendDocumentElementStart(dst, "updatedFields")
	for _, x := range u.updated {
		dst = bsoncore.AppendValueElement(dst, x.name, x.value)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, uidx)
	ridx, dst := bsoncore.AppendArrayElementStart(dst, "removedFields")
	for i, r := range u.removed {
		dst = bsoncore.AppendStringElement(dst, arrayKey(i), r)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, ridx)
	tidx, dst := bsoncore.AppendArrayElementStart(dst, "truncatedArrays")
	for i, t := range u.truncated {
		eidx, b := bsoncore.AppendDocumentElementStart(dst, arrayKey(i))
		b = bsoncore.AppendStringElement(b, "field", t.field)
		b = bsoncore.AppendInt32Element(b, "newSize", t.newSize)
		dst, _ = bsoncore.AppendDocumentEnd(b, eidx)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, tidx)
	if expanded {
		dst = appendDisambiguatedPaths(dst, u)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

// appendDisambiguatedPaths lists, for each reported path containing a numeric component, its
// components with array indexes as numbers (6.1+ with showExpandedEvents). The simulator cannot
// tell a numeric field name from an array index here and treats every numeric component as an
// index.
func appendDisambiguatedPaths(dst []byte, u updateDescription) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, "disambiguatedPaths")
	add := func(path string) {
		parts := strings.Split(path, ".")
		numeric := false
		for _, p := range parts {
			numeric = numeric || isArrayIndex(p)
		}
		if !numeric {
			return
		}
		aidx, b := bsoncore.AppendArrayElementStart(dst, path)
		for i, p := range parts {
			if isArrayIndex(p) {
				n, _ := strconv.Atoi(p)
				b = bsoncore.AppendInt32Element(b, arrayKey(i), int32(n))
			} else {
				b = bsoncore.AppendStringElement(b, arrayKey(i), p)
			}
		}
		dst, _ = bsoncore.AppendArrayEnd(b, aidx)
	}
	for _, x := range u.updated {
		add(x.name)
	}
	for _, r := range u.removed {
		add(r)
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}
