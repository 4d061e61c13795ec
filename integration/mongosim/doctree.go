package mongosim

import (
	"bytes"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// tnode is a mutable view of a BSON value used while applying updates. Leaves keep their original
// bytes, so untouched values (NaN payloads, -0.0, deprecated types) survive bit for bit.
type tnode struct {
	leaf   bsoncore.Value
	isDoc  bool
	isArr  bool
	fields []tfield
}

type tfield struct {
	name string
	node *tnode
}

func treeOf(v bsoncore.Value) *tnode {
	switch v.Type {
	case bsoncore.TypeEmbeddedDocument, bsoncore.TypeArray:
		n := &tnode{isDoc: v.Type == bsoncore.TypeEmbeddedDocument, isArr: v.Type == bsoncore.TypeArray}
		elems, _ := bsoncore.Document(v.Data).Elements()
		for _, e := range elems {
			n.fields = append(n.fields, tfield{name: e.Key(), node: treeOf(e.Value())})
		}
		return n
	}
	return &tnode{leaf: v}
}

func docTree(d bsoncore.Document) *tnode {
	return treeOf(bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: d})
}

func (n *tnode) container() bool { return n.isDoc || n.isArr }

func (n *tnode) child(name string) (*tnode, int) {
	for i, f := range n.fields {
		if f.name == name {
			return f.node, i
		}
	}
	return nil, -1
}

func (n *tnode) set(name string, v *tnode) {
	if _, i := n.child(name); i >= 0 {
		n.fields[i].node = v
		return
	}
	if n.isArr {
		idx, _ := strconv.Atoi(name)
		for len(n.fields) < idx {
			n.fields = append(n.fields, tfield{name: arrayKey(len(n.fields)), node: &tnode{leaf: bsoncore.Value{Type: bsoncore.TypeNull}}})
		}
	}
	n.fields = append(n.fields, tfield{name: name, node: v})
}

func (n *tnode) remove(name string) {
	if _, i := n.child(name); i >= 0 {
		n.fields = append(n.fields[:i], n.fields[i+1:]...)
	}
}

// value serialises the node back to BSON.
func (n *tnode) value() bsoncore.Value {
	if !n.container() {
		return n.leaf
	}
	idx, b := bsoncore.AppendDocumentStart(nil)
	for i, f := range n.fields {
		name := f.name
		if n.isArr {
			name = arrayKey(i)
		}
		b = bsoncore.AppendValueElement(b, name, f.node.value())
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	if n.isArr {
		return bsoncore.Value{Type: bsoncore.TypeArray, Data: b}
	}
	return bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: b}
}

func (n *tnode) document() bsoncore.Document { return n.value().Data }

// sameBSON is binary equality, which is what the server's update system uses to detect no-ops.
func sameBSON(a, b bsoncore.Value) bool {
	return a.Type == b.Type && bytes.Equal(a.Data, b.Data)
}
