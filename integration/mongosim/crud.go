package mongosim

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// writer applies writes either directly (autocommit: each write is its own oplog entry) or to a
// transaction's private copies of the collections it touches.
type writer struct {
	s   *Sim
	cc  *cmdCtx
	txn *transaction
}

func (s *Sim) baseWriter(cc *cmdCtx) *writer { return &writer{s: s, cc: cc} }

// collection returns the collection to write, creating it (as an implicit create) when asked.
func (w *writer) collection(db, name string, create bool) (*collection, bool, error) {
	if w.txn != nil {
		return w.txn.collection(w.s, db, name, create)
	}
	if c := w.s.cat.lookup(db, name); c != nil {
		return c, false, nil
	}
	if !create {
		return nil, false, nil
	}
	if !validCollectionName(name) || !validDatabaseName(db) {
		return nil, false, errorf(codeInvalidNamespace, "Invalid namespace specified '%s.%s'", db, name)
	}
	c := w.s.cat.create(db, name)
	w.s.appendEvent(&changeEvent{op: opCreate, db: db, coll: name, uuid: c.uuid, expandedOnly: true})
	return c, true, nil
}

func (w *writer) touch(c *collection, key string) {
	if w.txn != nil {
		w.txn.touch(c, key)
	}
}

func (w *writer) emit(ev *changeEvent) {
	if w.txn != nil {
		w.txn.events = append(w.txn.events, ev)
		return
	}
	w.cc.opTime = w.s.appendEvent(ev)
}

// writeError is one entry of a write command's writeErrors.
type writeError struct {
	index int
	code  int32
	msg   string
	dupID *bsoncore.Value
}

func (w *writer) insertDoc(c *collection, doc bsoncore.Document) *writeError {
	id := doc.Lookup("_id")
	if id.Type == 0 {
		oid := bson.NewObjectID()
		id = bsoncore.Value{Type: bsoncore.TypeObjectID, Data: oid[:]}
	}
	switch id.Type {
	case bsoncore.TypeArray:
		return &writeError{code: 53, msg: "can't use an array for _id"}
	case bsoncore.TypeRegex:
		return &writeError{code: 53, msg: "can't use a regex for _id"}
	case bsoncore.TypeUndefined:
		return &writeError{code: 53, msg: "can't use a undefined for _id"}
	}
	doc = withIDFirst(doc, id)
	key := canonicalKey(id)
	if _, exists := c.get(key); exists {
		return &writeError{code: codeDuplicateKey, msg: fmt.Sprintf("E11000 duplicate key error collection: %s.%s index: _id_ dup key: { _id: %s }", c.db, c.name, id.String()), dupID: &id}
	}
	c.put(key, id, doc)
	w.touch(c, key)
	w.emit(&changeEvent{op: opInsert, db: c.db, coll: c.name, uuid: c.uuid, documentKey: documentKeyOf(id), fullDocument: doc})
	return nil
}

func cmdInsert(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("insert").StringValueOK()
	arr, ok := cc.cmd.Lookup("documents").ArrayOK()
	if !ok {
		return nil, errorf(codeFailedToParse, "BSON field 'insert.documents' is missing but a required field")
	}
	docs, _ := arr.Values()
	return cc.s.runWrite(cc, func(w *writer) (writeSummary, error) {
		var sum writeSummary
		c, _, err := w.collection(cc.db, coll, true)
		if err != nil {
			return sum, err
		}
		for i, v := range docs {
			d, ok := v.DocumentOK()
			if !ok {
				return sum, errorf(codeTypeMismatch, "documents must be objects")
			}
			if we := w.insertDoc(c, d); we != nil {
				we.index = i
				sum.errors = append(sum.errors, *we)
				if ordered(cc.cmd) {
					break
				}
				continue
			}
			sum.n++
		}
		return sum, nil
	})
}

func ordered(cmd bsoncore.Document) bool {
	v := cmd.Lookup("ordered")
	return v.Type == 0 || truthy(v)
}

type upserted struct {
	index int
	id    bsoncore.Value
}

type writeSummary struct {
	kind      string // "update" adds nModified/upserted
	n         int
	nModified int
	upserted  []upserted
	errors    []writeError
}

func cmdUpdate(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("update").StringValueOK()
	arr, ok := cc.cmd.Lookup("updates").ArrayOK()
	if !ok {
		return nil, errorf(codeFailedToParse, "BSON field 'update.updates' is missing but a required field")
	}
	stmts, _ := arr.Values()
	return cc.s.runWrite(cc, func(w *writer) (writeSummary, error) {
		sum := writeSummary{kind: "update"}
		for i, v := range stmts {
			stmt, _ := v.DocumentOK()
			n, mod, up, err := w.updateOne(cc.db, coll, stmt)
			if err != nil {
				we := asWriteError(err)
				if we == nil {
					return sum, err
				}
				we.index = i
				sum.errors = append(sum.errors, *we)
				if ordered(cc.cmd) {
					break
				}
				continue
			}
			sum.n += n
			sum.nModified += mod
			if up != nil {
				sum.upserted = append(sum.upserted, upserted{index: i, id: *up})
			}
		}
		return sum, nil
	})
}

func asWriteError(err error) *writeError {
	var ce *commandError
	if errors.As(err, &ce) {
		return &writeError{code: ce.code, msg: ce.msg}
	}
	return nil
}

func (w *writer) updateOne(db, coll string, stmt bsoncore.Document) (n, nModified int, upsertedID *bsoncore.Value, err error) {
	q, _ := stmt.Lookup("q").DocumentOK()
	u := stmt.Lookup("u")
	if u.Type == 0 {
		return 0, 0, nil, errorf(codeFailedToParse, "BSON field 'update.updates.u' is missing but a required field")
	}
	if af, ok := stmt.Lookup("arrayFilters").ArrayOK(); ok && len(af) > 5 {
		return 0, 0, nil, errorf(codeIllegalOperation, "mongosim: arrayFilters are not simulated")
	}
	multi := truthy(stmt.Lookup("multi"))
	upsert := truthy(stmt.Lookup("upsert"))
	if multi && updateKind(u) == "replacement" {
		return 0, 0, nil, errorf(codeFailedToParse, "multi update is not supported for replacement-style update")
	}
	filter, err := compileFilter(q)
	if err != nil {
		return 0, 0, nil, err
	}
	c, _, err := w.collection(db, coll, upsert)
	if err != nil {
		return 0, 0, nil, err
	}
	if c != nil {
		for _, sd := range c.sorted() {
			if !filter(sd.doc) {
				continue
			}
			res, err := applyUpdate(sd.doc, u, false)
			if err != nil {
				return n, nModified, nil, err
			}
			n++
			if res.changed {
				nModified++
				key := canonicalKey(sd.id)
				c.put(key, sd.id, res.doc)
				w.touch(c, key)
				ev := &changeEvent{op: opUpdate, db: c.db, coll: c.name, uuid: c.uuid, documentKey: documentKeyOf(sd.id), hasPrePost: c.prePostImages}
				if res.replace {
					ev.op = opReplace
					ev.fullDocument = res.doc
				} else {
					ev.desc = res.desc.describe()
				}
				if c.prePostImages {
					ev.preImage = sd.doc
					if ev.op == opUpdate {
						ev.postImage = res.doc
					}
				}
				w.emit(ev)
			}
			if !multi {
				break
			}
		}
	}
	if n > 0 || !upsert {
		return n, nModified, nil, nil
	}
	seed := upsertSeed(q)
	res, err := applyUpdate(seed, u, true)
	if err != nil {
		return 0, 0, nil, err
	}
	doc := res.doc
	if id := doc.Lookup("_id"); id.Type == 0 {
		oid := bson.NewObjectID()
		doc = withIDFirst(doc, bsoncore.Value{Type: bsoncore.TypeObjectID, Data: oid[:]})
	}
	if we := w.insertDoc(c, doc); we != nil {
		return 0, 0, nil, &commandError{code: we.code, msg: we.msg}
	}
	id := doc.Lookup("_id")
	return 1, 0, &id, nil
}

// upsertSeed is the document an upsert starts from: the query's top-level equality fields
// (including {f: {$eq: v}}), with dotted paths expanded.
func upsertSeed(q bsoncore.Document) bsoncore.Document {
	root := &tnode{isDoc: true}
	elems, _ := q.Elements()
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		if strings.HasPrefix(k, "$") {
			continue
		}
		if d, ok := v.DocumentOK(); ok && isOperatorDoc(d) {
			eq := d.Lookup("$eq")
			if eq.Type == 0 {
				continue
			}
			v = eq
		}
		if v.Type == bsoncore.TypeRegex {
			continue
		}
		_, _ = applyOp(root, updateOp{op: "$set", path: strings.Split(k, "."), value: v})
	}
	return withIDFirst(root.document(), bsoncore.Value{})
}

func cmdDelete(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("delete").StringValueOK()
	arr, ok := cc.cmd.Lookup("deletes").ArrayOK()
	if !ok {
		return nil, errorf(codeFailedToParse, "BSON field 'delete.deletes' is missing but a required field")
	}
	stmts, _ := arr.Values()
	return cc.s.runWrite(cc, func(w *writer) (writeSummary, error) {
		var sum writeSummary
		c, _, err := w.collection(cc.db, coll, false)
		if err != nil {
			return sum, err
		}
		for i, v := range stmts {
			stmt, _ := v.DocumentOK()
			q, _ := stmt.Lookup("q").DocumentOK()
			filter, err := compileFilter(q)
			if err != nil {
				sum.errors = append(sum.errors, writeError{index: i, code: codeBadValue, msg: err.Error()})
				if ordered(cc.cmd) {
					break
				}
				continue
			}
			if c == nil {
				continue
			}
			limit, _ := stmt.Lookup("limit").AsInt64OK()
			for _, sd := range c.sorted() {
				if !filter(sd.doc) {
					continue
				}
				key := canonicalKey(sd.id)
				c.remove(key)
				w.touch(c, key)
				ev := &changeEvent{op: opDelete, db: c.db, coll: c.name, uuid: c.uuid, documentKey: documentKeyOf(sd.id), hasPrePost: c.prePostImages}
				if c.prePostImages {
					ev.preImage = sd.doc
				}
				w.emit(ev)
				sum.n++
				if limit == 1 {
					break
				}
			}
		}
		return sum, nil
	})
}

// appendWriteReply appends a write command's reply fields in 7.0's order: n, electionId, opTime,
// writeErrors, upserted, nModified (WriteCommandReplyBase, then the update fields).
func appendWriteReply(dst []byte, sum writeSummary, opTime uint64, inTxn bool) []byte {
	dst = bsoncore.AppendInt32Element(dst, "n", int32(sum.n))
	if !inTxn {
		electionID, _ := bson.ObjectIDFromHex(electionIDHex)
		dst = bsoncore.AppendObjectIDElement(dst, "electionId", electionID)
		dst = appendOpTime(dst, "opTime", opTime)
	}
	if len(sum.errors) > 0 {
		aidx, b := bsoncore.AppendArrayElementStart(dst, "writeErrors")
		for i, we := range sum.errors {
			eidx, e := bsoncore.AppendDocumentElementStart(b, arrayKey(i))
			e = bsoncore.AppendInt32Element(e, "index", int32(we.index))
			e = bsoncore.AppendInt32Element(e, "code", we.code)
			e = bsoncore.AppendStringElement(e, "errmsg", we.msg)
			if we.dupID != nil {
				e = bsoncore.BuildDocumentElement(e, "keyPattern", bsoncore.AppendInt32Element(nil, "_id", 1))
				e = bsoncore.BuildDocumentElement(e, "keyValue", bsoncore.AppendValueElement(nil, "_id", *we.dupID))
			}
			b, _ = bsoncore.AppendDocumentEnd(e, eidx)
		}
		dst, _ = bsoncore.AppendArrayEnd(b, aidx)
	}
	if sum.kind == "update" {
		if len(sum.upserted) > 0 {
			aidx, b := bsoncore.AppendArrayElementStart(dst, "upserted")
			for i, u := range sum.upserted {
				eidx, e := bsoncore.AppendDocumentElementStart(b, arrayKey(i))
				e = bsoncore.AppendInt32Element(e, "index", int32(u.index))
				e = bsoncore.AppendValueElement(e, "_id", u.id)
				b, _ = bsoncore.AppendDocumentEnd(e, eidx)
			}
			dst, _ = bsoncore.AppendArrayEnd(b, aidx)
		}
		dst = bsoncore.AppendInt32Element(dst, "nModified", int32(sum.nModified))
	}
	return dst
}

// readView returns the collection a read sees: the transaction's copy inside a transaction.
func (s *Sim) readView(cc *cmdCtx, db, coll string) (*collection, error) {
	txn, err := s.transactionFor(cc, false)
	if err != nil {
		return nil, err
	}
	if txn != nil {
		c, _, err := txn.collection(s, db, coll, false)
		return c, err
	}
	return s.cat.lookup(db, coll), nil
}

// queryDocs runs filter, sort, skip and limit over a collection.
func queryDocs(c *collection, filterDoc, sortDoc, projection bsoncore.Document, skip, limit int64) ([]bsoncore.Document, error) {
	filter, err := compileFilter(filterDoc)
	if err != nil {
		return nil, err
	}
	var out []bsoncore.Document
	if c != nil {
		for _, sd := range c.sorted() {
			if filter(sd.doc) {
				out = append(out, sd.doc)
			}
		}
	}
	if len(sortDoc) > 0 {
		keys, _ := sortDoc.Elements()
		if len(keys) != 1 || keys[0].Key() != "_id" {
			slices.SortStableFunc(out, func(a, b bsoncore.Document) int { return compareBySort(a, b, keys) })
		} else if dir, _ := keys[0].Value().AsInt64OK(); dir < 0 {
			slices.Reverse(out)
		}
	}
	if skip > 0 {
		out = out[min(int(skip), len(out)):]
	}
	if limit > 0 && int(limit) < len(out) {
		out = out[:limit]
	}
	if len(projection) > 0 {
		for i, d := range out {
			out[i] = project(d, projection)
		}
	}
	return out, nil
}

func compareBySort(a, b bsoncore.Document, keys []bsoncore.Element) int {
	null := bsoncore.Value{Type: bsoncore.TypeNull}
	for _, k := range keys {
		dir, _ := k.Value().AsInt64OK()
		va, vb := null, null
		if vals, ok := lookupPath(a, k.Key()); ok && len(vals) > 0 {
			va = vals[0]
		}
		if vals, ok := lookupPath(b, k.Key()); ok && len(vals) > 0 {
			vb = vals[0]
		}
		c := compareValues(va, vb)
		if dir < 0 {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// project applies a top-level inclusion or exclusion projection.
func project(d, projection bsoncore.Document) bsoncore.Document {
	spec, _ := projection.Elements()
	include := false
	fields := map[string]bool{}
	idWanted := true
	for _, e := range spec {
		on := truthy(e.Value())
		if e.Key() == "_id" {
			idWanted = on
			continue
		}
		fields[e.Key()] = on
		include = include || on
	}
	elems, _ := d.Elements()
	idx, b := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		k := e.Key()
		keep := !include
		if k == "_id" {
			keep = idWanted
		} else if on, listed := fields[k]; listed {
			keep = on
		}
		if keep {
			b = append(b, e...)
		}
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b
}

func cmdFind(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("find").StringValueOK()
	filter, _ := cc.cmd.Lookup("filter").DocumentOK()
	sortDoc, _ := cc.cmd.Lookup("sort").DocumentOK()
	projection, _ := cc.cmd.Lookup("projection").DocumentOK()
	skip, _ := cc.cmd.Lookup("skip").AsInt64OK()
	limit, _ := cc.cmd.Lookup("limit").AsInt64OK()
	batchSize := int64(101)
	if b, ok := cc.cmd.Lookup("batchSize").AsInt64OK(); ok {
		batchSize = b
	}
	single := truthy(cc.cmd.Lookup("singleBatch"))
	if limit < 0 {
		limit, single = -limit, true
	}
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.readView(cc, cc.db, coll)
	if err != nil {
		return nil, err
	}
	docs, err := queryDocs(c, filter, sortDoc, projection, skip, limit)
	if err != nil {
		return nil, err
	}
	return s.startCursor(cc.db+"."+coll, docs, int(batchSize), single), nil
}

// startCursor returns the first batch and keeps the rest behind a cursor; the caller holds s.mu.
func (s *Sim) startCursor(ns string, docs []bsoncore.Document, batchSize int, single bool) []byte {
	n := len(docs)
	if batchSize >= 0 && batchSize < n {
		n = batchSize
	}
	n = batchBySize(docs, n)
	var id int64
	if n < len(docs) && !single {
		c := &cursor{id: s.newCursorID(), ns: ns, docs: docs[n:]}
		s.cursors[c.id] = c
		id = c.id
	}
	return appendCursorReply(nil, true, docs[:n], nil, id, ns)
}

func cmdCount(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("count").StringValueOK()
	query, _ := cc.cmd.Lookup("query").DocumentOK()
	skip, _ := cc.cmd.Lookup("skip").AsInt64OK()
	limit, _ := cc.cmd.Lookup("limit").AsInt64OK()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.readView(cc, cc.db, coll)
	if err != nil {
		return nil, err
	}
	docs, err := queryDocs(c, query, nil, nil, skip, max(limit, -limit))
	if err != nil {
		return nil, err
	}
	return bsoncore.AppendInt32Element(nil, "n", int32(len(docs))), nil
}

// cmdAggregate runs a $changeStream, or a plain pipeline of $match, $sort, $skip, $limit,
// $project, $count and the {$group: {_id: <const>, n: {$sum: <num>}}} that countDocuments sends.
func cmdAggregate(cc *cmdCtx) ([]byte, error) {
	arr, ok := cc.cmd.Lookup("pipeline").ArrayOK()
	if !ok {
		return nil, errorf(codeFailedToParse, "BSON field 'aggregate.pipeline' is missing but a required field")
	}
	stages, _ := arr.Values()
	batchSize := -1
	if cur, ok := cc.cmd.Lookup("cursor").DocumentOK(); ok {
		if b, ok := cur.Lookup("batchSize").AsInt64OK(); ok {
			batchSize = int(b)
		}
	} else {
		return nil, errorf(codeFailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument")
	}
	if len(stages) > 0 {
		if first, ok := stages[0].DocumentOK(); ok {
			if spec, ok := first.Lookup("$changeStream").DocumentOK(); ok {
				if inTransaction(cc.cmd) {
					return nil, errorf(codeOperationNotSupportedInTransaction, "Operation not permitted in transaction :: caused by :: $changeStream is not allowed in a transaction")
				}
				return cc.s.openChangeStream(cc, spec, stages[1:], batchSize)
			}
		}
	}
	coll, isColl := cc.cmd.Lookup("aggregate").StringValueOK()
	if !isColl {
		return nil, errorf(codeIllegalOperation, "mongosim: database-level aggregate is only simulated for $changeStream")
	}
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.readView(cc, cc.db, coll)
	if err != nil {
		return nil, err
	}
	docs, err := queryDocs(c, nil, nil, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	for _, st := range stages {
		sd, _ := st.DocumentOK()
		e, err := sd.IndexErr(0)
		if err != nil {
			return nil, errorf(codeFailedToParse, "A pipeline stage specification object must contain exactly one field.")
		}
		docs, err = applyStage(docs, e)
		if err != nil {
			return nil, err
		}
	}
	if batchSize < 0 {
		batchSize = 101
	}
	return s.startCursor(cc.db+"."+coll, docs, batchSize, false), nil
}

func applyStage(docs []bsoncore.Document, e bsoncore.Element) ([]bsoncore.Document, error) {
	switch e.Key() {
	case "$match":
		m, err := compileFilter(e.Value().Document())
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(docs, func(d bsoncore.Document) bool { return !m(d) }), nil
	case "$sort":
		keys, _ := e.Value().Document().Elements()
		slices.SortStableFunc(docs, func(a, b bsoncore.Document) int { return compareBySort(a, b, keys) })
		return docs, nil
	case "$skip":
		n, _ := e.Value().AsInt64OK()
		return docs[min(int(n), len(docs)):], nil
	case "$limit":
		n, _ := e.Value().AsInt64OK()
		return docs[:min(int(n), len(docs))], nil
	case "$project":
		for i, d := range docs {
			docs[i] = project(d, e.Value().Document())
		}
		return docs, nil
	case "$count":
		name := e.Value().StringValue()
		if len(docs) == 0 {
			return nil, nil
		}
		return []bsoncore.Document{bsoncore.BuildDocument(nil, bsoncore.AppendInt32Element(nil, name, int32(len(docs))))}, nil
	case "$group":
		spec := e.Value().Document()
		elems, _ := spec.Elements()
		if len(docs) == 0 {
			return nil, nil
		}
		idx, b := bsoncore.AppendDocumentStart(nil)
		for _, f := range elems {
			if f.Key() == "_id" {
				if id := f.Value(); id.Type == bsoncore.TypeString && strings.HasPrefix(id.StringValue(), "$") {
					return nil, errorf(codeIllegalOperation, "mongosim: $group by a field is not simulated")
				}
				b = append(b, f...)
				continue
			}
			acc, _ := f.Value().DocumentOK()
			sumArg := acc.Lookup("$sum")
			n, ok := sumArg.AsInt64OK()
			if !ok {
				return nil, errorf(codeIllegalOperation, "mongosim: $group accumulator %s is not simulated", f.Value().String())
			}
			b = bsoncore.AppendInt32Element(b, f.Key(), int32(n*int64(len(docs))))
		}
		b, _ = bsoncore.AppendDocumentEnd(b, idx)
		return []bsoncore.Document{b}, nil
	}
	return nil, errorf(codeIllegalOperation, "mongosim: aggregation stage %s is not simulated", e.Key())
}
