package mongosim

import (
	"crypto/rand"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// storedDoc is one document of a collection. Documents are immutable once stored: an update
// stores a new byte slice, so a transaction's copy of a collection can share them.
type storedDoc struct {
	id  bsoncore.Value
	doc bsoncore.Document
}

type orderKey struct {
	key string
	id  bsoncore.Value
}

// collection keeps documents by the canonical key of their _id (the server's unique _id index)
// and an _id-ordered list that is rebuilt lazily after out-of-order inserts or deletes.
type collection struct {
	db, name      string
	uuid          [16]byte
	prePostImages bool
	indexes       []bsoncore.Document // secondary index specs accepted by createIndexes
	docs          map[string]storedDoc
	order         []orderKey
	unsorted      bool
}

func newCollection(db, name string) *collection {
	c := &collection{db: db, name: name, docs: map[string]storedDoc{}}
	_, _ = rand.Read(c.uuid[:])
	c.uuid[6] = c.uuid[6]&0x0f | 0x40
	c.uuid[8] = c.uuid[8]&0x3f | 0x80
	return c
}

func (c *collection) clone() *collection {
	out := *c
	out.docs = make(map[string]storedDoc, len(c.docs))
	for k, v := range c.docs {
		out.docs[k] = v
	}
	out.order = slices.Clone(c.order)
	out.indexes = slices.Clone(c.indexes)
	return &out
}

func (c *collection) get(key string) (storedDoc, bool) {
	d, ok := c.docs[key]
	return d, ok
}

// put inserts or replaces the document whose _id has the given canonical key.
func (c *collection) put(key string, id bsoncore.Value, doc bsoncore.Document) {
	if _, exists := c.docs[key]; !exists {
		if !c.unsorted && len(c.order) > 0 && compareValues(id, c.order[len(c.order)-1].id) <= 0 {
			c.unsorted = true
		}
		c.order = append(c.order, orderKey{key: key, id: id})
	}
	c.docs[key] = storedDoc{id: id, doc: doc}
}

func (c *collection) remove(key string) {
	if _, ok := c.docs[key]; ok {
		delete(c.docs, key)
		c.unsorted = true
	}
}

// sorted returns the documents in ascending _id order.
func (c *collection) sorted() []storedDoc {
	if c.unsorted {
		c.order = c.order[:0]
		for k, d := range c.docs {
			c.order = append(c.order, orderKey{key: k, id: d.id})
		}
		slices.SortFunc(c.order, func(a, b orderKey) int { return compareValues(a.id, b.id) })
		c.unsorted = false
	}
	out := make([]storedDoc, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, c.docs[k.key])
	}
	return out
}

// catalog is the set of databases; a database exists while it holds a collection, as on a real
// server.
type catalog map[string]map[string]*collection

func (cat catalog) lookup(db, coll string) *collection {
	return cat[db][coll]
}

func (cat catalog) create(db, coll string) *collection {
	if cat[db] == nil {
		cat[db] = map[string]*collection{}
	}
	c := newCollection(db, coll)
	cat[db][coll] = c
	return c
}

func (cat catalog) drop(db, coll string) {
	delete(cat[db], coll)
	if len(cat[db]) == 0 {
		delete(cat, db)
	}
}

func (cat catalog) collectionNames(db string) []string {
	names := make([]string, 0, len(cat[db]))
	for n := range cat[db] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (cat catalog) databaseNames() []string {
	names := make([]string, 0, len(cat))
	for n := range cat {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// validCollectionName applies the server's basic namespace rules.
func validCollectionName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "\x00$") && !strings.HasPrefix(name, ".")
}

func validDatabaseName(name string) bool {
	return name != "" && len(name) < 64 && !strings.ContainsAny(name, "/\\. \"$\x00")
}
