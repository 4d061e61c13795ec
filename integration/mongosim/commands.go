package mongosim

import (
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The server version the simulator presents itself as; every reply shape below is modelled on it.
const (
	serverVersion  = "7.0.14"
	maxWireVersion = 21 // MongoDB 7.0
	electionIDHex  = "7fffffff0000000000000001"
	setVersion     = 1
	term           = 1
)

func isHello(name string) bool {
	switch strings.ToLower(name) {
	case "hello", "ismaster":
		return true
	}
	return false
}

// serveHello answers hello and the legacy isMaster, including the awaitable form the driver's
// streaming monitor sends ({topologyVersion, maxAwaitTimeMS} with the exhaustAllowed flag): the
// server holds the reply until the topology changes or maxAwaitTimeMS passes, and with exhaust keeps
// sending one reply per period with moreToCome set.
func (s *Sim) serveHello(cc *cmdCtx) bool {
	legacy := !strings.EqualFold(cc.name, "hello")
	helloOk := cc.cmd.Lookup("helloOk").Type == bsoncore.TypeBoolean && cc.cmd.Lookup("helloOk").Boolean()
	awaitMS, awaitable := cc.cmd.Lookup("maxAwaitTimeMS").AsInt64OK()
	tv, hasTV := cc.cmd.Lookup("topologyVersion").DocumentOK()
	awaitable = awaitable && hasTV && cc.req.opCode != opQuery
	if awaitable {
		pid, _ := tv.Lookup("processId").ObjectIDOK()
		if pid != s.processID {
			awaitable = false // a different process: the client's view is stale, answer now
		}
	}
	watching := false
	for {
		if awaitable && !sleepCtx(cc.conn.ctx, time.Duration(awaitMS)*time.Millisecond) {
			return false
		}
		exhaust := awaitable && cc.req.exhaustAllowed()
		if !s.writeReply(cc, s.finishReply(cc, s.helloFields(cc.conn, legacy, helloOk), nil), exhaust) {
			return false
		}
		if !exhaust {
			return true
		}
		if !watching {
			// In exhaust mode the client sends nothing more; reading only notices it hanging up.
			watching = true
			go func() {
				_, _ = cc.conn.nc.Read(make([]byte, 1))
				cc.conn.cancel()
			}()
		}
	}
}

// helloFields builds a 7.0 replica-set primary's hello reply, field for field in the order of a
// real `db.hello()` on a single-node replica set (topologyVersion, hosts, setName, setVersion,
// isWritablePrimary|ismaster, secondary, primary, me, electionId, lastWrite, limits, localTime,
// logicalSessionTimeoutMinutes, connectionId, wire versions, readOnly). The position of helloOk in
// the legacy reply is not verified against a server.
func (s *Sim) helloFields(c *simConn, legacy, helloOk bool) []byte {
	s.mu.Lock()
	last := s.clock.last
	s.mu.Unlock()
	electionID, _ := bson.ObjectIDFromHex(electionIDHex)
	lastWriteDate := int64(tsT(last)) * 1000
	now := time.Now().UnixMilli()

	var b []byte
	idx, b := bsoncore.AppendDocumentElementStart(b, "topologyVersion")
	b = bsoncore.AppendObjectIDElement(b, "processId", s.processID)
	b = bsoncore.AppendInt64Element(b, "counter", 0)
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	b = bsoncore.BuildArrayElement(b, "hosts", bsoncore.Value{Type: bsoncore.TypeString, Data: bsoncore.AppendString(nil, s.hostPort)})
	b = bsoncore.AppendStringElement(b, "setName", s.opts.ReplicaSet)
	b = bsoncore.AppendInt32Element(b, "setVersion", setVersion)
	if legacy {
		b = bsoncore.AppendBooleanElement(b, "ismaster", true)
	} else {
		b = bsoncore.AppendBooleanElement(b, "isWritablePrimary", true)
	}
	b = bsoncore.AppendBooleanElement(b, "secondary", false)
	b = bsoncore.AppendStringElement(b, "primary", s.hostPort)
	b = bsoncore.AppendStringElement(b, "me", s.hostPort)
	b = bsoncore.AppendObjectIDElement(b, "electionId", electionID)
	idx, b = bsoncore.AppendDocumentElementStart(b, "lastWrite")
	b = appendOpTime(b, "opTime", last)
	b = bsoncore.AppendDateTimeElement(b, "lastWriteDate", lastWriteDate)
	b = appendOpTime(b, "majorityOpTime", last)
	b = bsoncore.AppendDateTimeElement(b, "majorityWriteDate", lastWriteDate)
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	b = bsoncore.AppendInt32Element(b, "maxBsonObjectSize", 16*1024*1024)
	b = bsoncore.AppendInt32Element(b, "maxMessageSizeBytes", maxMessageSize)
	b = bsoncore.AppendInt32Element(b, "maxWriteBatchSize", 100_000)
	b = bsoncore.AppendDateTimeElement(b, "localTime", now)
	b = bsoncore.AppendInt32Element(b, "logicalSessionTimeoutMinutes", 30)
	b = bsoncore.AppendInt32Element(b, "connectionId", c.id)
	b = bsoncore.AppendInt32Element(b, "minWireVersion", 0)
	b = bsoncore.AppendInt32Element(b, "maxWireVersion", maxWireVersion)
	b = bsoncore.AppendBooleanElement(b, "readOnly", false)
	if helloOk {
		b = bsoncore.AppendBooleanElement(b, "helloOk", true)
	}
	return b
}

// appendOpTime appends key: {ts: Timestamp, t: Long(term)}.
func appendOpTime(dst []byte, key string, ts uint64) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
	dst = bsoncore.AppendTimestampElement(dst, "ts", tsT(ts), tsI(ts))
	dst = bsoncore.AppendInt64Element(dst, "t", term)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func cmdPing(*cmdCtx) ([]byte, error) { return nil, nil }

// cmdBuildInfo answers with the fields drivers and tools read from a 7.0 community build.
func cmdBuildInfo(*cmdCtx) ([]byte, error) {
	var b []byte
	b = bsoncore.AppendStringElement(b, "version", serverVersion)
	b = bsoncore.AppendStringElement(b, "gitVersion", "0000000000000000000000000000000000000000")
	b = bsoncore.BuildArrayElement(b, "modules")
	b = bsoncore.AppendStringElement(b, "allocator", "tcmalloc")
	b = bsoncore.AppendStringElement(b, "javascriptEngine", "mozjs")
	b = bsoncore.AppendStringElement(b, "sysInfo", "deprecated")
	b = bsoncore.BuildArrayElement(b, "versionArray", i32v(7), i32v(0), i32v(14), i32v(0))
	b = bsoncore.AppendInt32Element(b, "bits", 64)
	b = bsoncore.AppendBooleanElement(b, "debug", false)
	b = bsoncore.AppendInt32Element(b, "maxBsonObjectSize", 16*1024*1024)
	b = bsoncore.BuildArrayElement(b, "storageEngines", strv("devnull"), strv("wiredTiger"))
	return b, nil
}

func i32v(i int32) bsoncore.Value {
	return bsoncore.Value{Type: bsoncore.TypeInt32, Data: bsoncore.AppendInt32(nil, i)}
}

func i64v(i int64) bsoncore.Value {
	return bsoncore.Value{Type: bsoncore.TypeInt64, Data: bsoncore.AppendInt64(nil, i)}
}

func strv(s string) bsoncore.Value {
	return bsoncore.Value{Type: bsoncore.TypeString, Data: bsoncore.AppendString(nil, s)}
}

func docv(d bsoncore.Document) bsoncore.Value {
	return bsoncore.Value{Type: bsoncore.TypeEmbeddedDocument, Data: d}
}

func cmdGetParameter(cc *cmdCtx) ([]byte, error) {
	var b []byte
	if cc.cmd.Lookup("featureCompatibilityVersion").Type != 0 {
		idx, bb := bsoncore.AppendDocumentElementStart(b, "featureCompatibilityVersion")
		bb = bsoncore.AppendStringElement(bb, "version", "7.0")
		b, _ = bsoncore.AppendDocumentEnd(bb, idx)
	}
	return b, nil
}

func cmdServerStatus(cc *cmdCtx) ([]byte, error) {
	var b []byte
	b = bsoncore.AppendStringElement(b, "host", cc.s.hostPort)
	b = bsoncore.AppendStringElement(b, "version", serverVersion)
	b = bsoncore.AppendStringElement(b, "process", "mongod")
	idx, b := bsoncore.AppendDocumentElementStart(b, "storageEngine")
	b = bsoncore.AppendStringElement(b, "name", "wiredTiger")
	b = bsoncore.AppendBooleanElement(b, "supportsCommittedReads", true)
	b = bsoncore.AppendBooleanElement(b, "persistent", false)
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return b, nil
}

func cmdReplSetGetStatus(cc *cmdCtx) ([]byte, error) {
	s := cc.s
	s.mu.Lock()
	last := s.clock.last
	s.mu.Unlock()
	var b []byte
	b = bsoncore.AppendStringElement(b, "set", s.opts.ReplicaSet)
	b = bsoncore.AppendDateTimeElement(b, "date", time.Now().UnixMilli())
	b = bsoncore.AppendInt32Element(b, "myState", 1)
	b = bsoncore.AppendInt64Element(b, "term", term)
	aidx, b := bsoncore.AppendArrayElementStart(b, "members")
	midx, b := bsoncore.AppendDocumentElementStart(b, "0")
	b = bsoncore.AppendInt32Element(b, "_id", 0)
	b = bsoncore.AppendStringElement(b, "name", s.hostPort)
	b = bsoncore.AppendDoubleElement(b, "health", 1)
	b = bsoncore.AppendInt32Element(b, "state", 1)
	b = bsoncore.AppendStringElement(b, "stateStr", "PRIMARY")
	b = appendOpTime(b, "optime", last)
	b = bsoncore.AppendBooleanElement(b, "self", true)
	b, _ = bsoncore.AppendDocumentEnd(b, midx)
	b, _ = bsoncore.AppendArrayEnd(b, aidx)
	return b, nil
}

func cmdEndSessions(cc *cmdCtx) ([]byte, error) {
	arr, _ := cc.cmd.Lookup("endSessions").ArrayOK()
	vals, _ := arr.Values()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		if d, ok := v.DocumentOK(); ok {
			if id, ok := sessionKey(d); ok {
				delete(s.sessions, id)
			}
		}
	}
	return nil, nil
}

func cmdKillCursors(cc *cmdCtx) ([]byte, error) {
	arr, ok := cc.cmd.Lookup("cursors").ArrayOK()
	if !ok {
		return nil, errorf(codeFailedToParse, "BSON field 'killCursors.cursors' is missing but a required field")
	}
	vals, _ := arr.Values()
	var killed, notFound []bsoncore.Value
	s := cc.s
	s.mu.Lock()
	for _, v := range vals {
		id, _ := v.AsInt64OK()
		if _, ok := s.cursors[id]; ok {
			delete(s.cursors, id)
			killed = append(killed, i64v(id))
		} else {
			notFound = append(notFound, i64v(id))
		}
	}
	s.mu.Unlock()
	var b []byte
	b = bsoncore.BuildArrayElement(b, "cursorsKilled", killed...)
	b = bsoncore.BuildArrayElement(b, "cursorsNotFound", notFound...)
	b = bsoncore.BuildArrayElement(b, "cursorsAlive")
	b = bsoncore.BuildArrayElement(b, "cursorsUnknown")
	return b, nil
}

// systemDatabases are present on every replica set; listDatabases reports them as a server does.
var systemDatabases = []string{"admin", "config", "local"}

func cmdListDatabases(cc *cmdCtx) ([]byte, error) {
	nameOnly := truthy(cc.cmd.Lookup("nameOnly"))
	filterDoc, _ := cc.cmd.Lookup("filter").DocumentOK()
	filter, err := compileFilter(filterDoc)
	if err != nil {
		return nil, err
	}
	s := cc.s
	s.mu.Lock()
	names := s.cat.databaseNames()
	sizes := map[string]int64{}
	for _, n := range names {
		for _, c := range s.cat[n] {
			for _, d := range c.docs {
				sizes[n] += int64(len(d.doc))
			}
		}
	}
	s.mu.Unlock()
	for _, sys := range systemDatabases {
		if _, ok := sizes[sys]; !ok {
			names = append(names, sys)
			sizes[sys] = 0
		}
	}
	var total int64
	aidx, b := bsoncore.AppendArrayElementStart(nil, "databases")
	i := 0
	for _, n := range names {
		// Sizes are what WiredTiger would report for small databases: at least one 4 KiB page.
		size := max(4096, (sizes[n]+4095)/4096*4096)
		var e []byte
		eidx, e := bsoncore.AppendDocumentStart(e)
		e = bsoncore.AppendStringElement(e, "name", n)
		if !nameOnly {
			e = bsoncore.AppendInt64Element(e, "sizeOnDisk", size)
			e = bsoncore.AppendBooleanElement(e, "empty", false)
		}
		e, _ = bsoncore.AppendDocumentEnd(e, eidx)
		if !filter(e) {
			continue
		}
		total += size
		b = bsoncore.AppendDocumentElement(b, arrayKey(i), e)
		i++
	}
	b, _ = bsoncore.AppendArrayEnd(b, aidx)
	if !nameOnly {
		b = bsoncore.AppendInt64Element(b, "totalSize", total)
		b = bsoncore.AppendInt64Element(b, "totalSizeMb", total/(1024*1024))
	}
	return b, nil
}

// appendSimpleCursor appends cursor: {id: 0, ns, firstBatch} in the order of the server's
// appendCursorResponseObject (used by listCollections and listIndexes).
func appendSimpleCursor(dst []byte, ns string, docs []bsoncore.Document) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, "cursor")
	dst = bsoncore.AppendInt64Element(dst, "id", 0)
	dst = bsoncore.AppendStringElement(dst, "ns", ns)
	aidx, dst := bsoncore.AppendArrayElementStart(dst, "firstBatch")
	for i, d := range docs {
		dst = bsoncore.AppendDocumentElement(dst, arrayKey(i), d)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, aidx)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func idIndexSpec() bsoncore.Document {
	return bsoncore.BuildDocument(nil,
		bsoncore.AppendInt32Element(nil, "v", 2),
		bsoncore.BuildDocumentElement(nil, "key", bsoncore.AppendInt32Element(nil, "_id", 1)),
		bsoncore.AppendStringElement(nil, "name", "_id_"),
	)
}

func cmdListCollections(cc *cmdCtx) ([]byte, error) {
	nameOnly := truthy(cc.cmd.Lookup("nameOnly"))
	filterDoc, _ := cc.cmd.Lookup("filter").DocumentOK()
	filter, err := compileFilter(filterDoc)
	if err != nil {
		return nil, err
	}
	s := cc.s
	s.mu.Lock()
	var out []bsoncore.Document
	for _, name := range s.cat.collectionNames(cc.db) {
		c := s.cat.lookup(cc.db, name)
		var d []byte
		idx, d := bsoncore.AppendDocumentStart(d)
		d = bsoncore.AppendStringElement(d, "name", name)
		d = bsoncore.AppendStringElement(d, "type", "collection")
		if !nameOnly {
			oidx, dd := bsoncore.AppendDocumentElementStart(d, "options")
			if c.prePostImages {
				pidx, p := bsoncore.AppendDocumentElementStart(dd, "changeStreamPreAndPostImages")
				p = bsoncore.AppendBooleanElement(p, "enabled", true)
				dd, _ = bsoncore.AppendDocumentEnd(p, pidx)
			}
			d, _ = bsoncore.AppendDocumentEnd(dd, oidx)
			iidx, dd := bsoncore.AppendDocumentElementStart(d, "info")
			dd = bsoncore.AppendBooleanElement(dd, "readOnly", false)
			dd = bsoncore.AppendBinaryElement(dd, "uuid", 4, c.uuid[:])
			d, _ = bsoncore.AppendDocumentEnd(dd, iidx)
			d = bsoncore.AppendDocumentElement(d, "idIndex", idIndexSpec())
		}
		d, _ = bsoncore.AppendDocumentEnd(d, idx)
		if filter(d) {
			out = append(out, d)
		}
	}
	s.mu.Unlock()
	return appendSimpleCursor(nil, cc.db+".$cmd.listCollections", out), nil
}

func cmdListIndexes(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("listIndexes").StringValueOK()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(cc.db, coll)
	if c == nil {
		return nil, errorf(codeNamespaceNotFound, "ns does not exist: %s.%s", cc.db, coll)
	}
	docs := append([]bsoncore.Document{idIndexSpec()}, c.indexes...)
	return appendSimpleCursor(nil, cc.db+"."+coll, docs), nil
}

// cmdCreateIndexes records index specs so listIndexes shows them; secondary indexes are not
// used for queries and unique secondary indexes are not enforced.
func cmdCreateIndexes(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("createIndexes").StringValueOK()
	arr, ok := cc.cmd.Lookup("indexes").ArrayOK()
	if !ok {
		return nil, errorf(codeFailedToParse, "BSON field 'createIndexes.indexes' is missing but a required field")
	}
	specs, _ := arr.Values()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.baseWriter(cc)
	c, created, err := w.collection(cc.db, coll, true)
	if err != nil {
		return nil, err
	}
	before := 1 + len(c.indexes)
	for _, spec := range specs {
		d, ok := spec.DocumentOK()
		if !ok {
			continue
		}
		name, _ := d.Lookup("name").StringValueOK()
		if name == "_id_" {
			continue
		}
		exists := false
		for _, ix := range c.indexes {
			if n, _ := ix.Lookup("name").StringValueOK(); n == name {
				exists = true
			}
		}
		if !exists {
			full := bsoncore.BuildDocument(nil, bsoncore.AppendInt32Element(nil, "v", 2), d[4:len(d)-1])
			c.indexes = append(c.indexes, full)
		}
	}
	var b []byte
	b = bsoncore.AppendInt32Element(b, "numIndexesBefore", int32(before))
	b = bsoncore.AppendInt32Element(b, "numIndexesAfter", int32(1+len(c.indexes)))
	b = bsoncore.AppendBooleanElement(b, "createdCollectionAutomatically", created)
	return b, nil
}

func cmdDropIndexes(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("dropIndexes").StringValueOK()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(cc.db, coll)
	if c == nil {
		return nil, errorf(codeNamespaceNotFound, "ns not found %s.%s", cc.db, coll)
	}
	was := 1 + len(c.indexes)
	idx := cc.cmd.Lookup("index")
	if name, ok := idx.StringValueOK(); ok && name != "*" {
		kept := c.indexes[:0]
		for _, ix := range c.indexes {
			if n, _ := ix.Lookup("name").StringValueOK(); n != name {
				kept = append(kept, ix)
			}
		}
		c.indexes = kept
	} else {
		c.indexes = nil
	}
	return bsoncore.AppendInt32Element(nil, "nIndexesWas", int32(was)), nil
}

func preImagesOption(cmd bsoncore.Document) (enabled, present bool) {
	d, ok := cmd.Lookup("changeStreamPreAndPostImages").DocumentOK()
	if !ok {
		return false, false
	}
	return truthy(d.Lookup("enabled")), true
}

func cmdCreate(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("create").StringValueOK()
	if !validCollectionName(coll) || !validDatabaseName(cc.db) {
		return nil, errorf(codeInvalidNamespace, "Invalid namespace specified '%s.%s'", cc.db, coll)
	}
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cat.lookup(cc.db, coll) != nil {
		return nil, errorf(codeNamespaceExists, "Collection %s.%s already exists.", cc.db, coll)
	}
	c, _, err := s.baseWriter(cc).collection(cc.db, coll, true)
	if err != nil {
		return nil, err
	}
	c.prePostImages, _ = preImagesOption(cc.cmd)
	return nil, nil
}

func cmdCollMod(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("collMod").StringValueOK()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(cc.db, coll)
	if c == nil {
		return nil, errorf(codeNamespaceNotFound, "ns does not exist: %s.%s", cc.db, coll)
	}
	if enabled, ok := preImagesOption(cc.cmd); ok {
		c.prePostImages = enabled
	}
	return nil, nil
}

func cmdDrop(cc *cmdCtx) ([]byte, error) {
	coll, _ := cc.cmd.Lookup("drop").StringValueOK()
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(cc.db, coll)
	if c == nil {
		// Since 7.0 dropping a missing collection succeeds.
		return nil, nil
	}
	cc.opTime = s.dropCollection(c)
	var b []byte
	b = bsoncore.AppendInt32Element(b, "nIndexesWas", int32(1+len(c.indexes)))
	b = bsoncore.AppendStringElement(b, "ns", cc.db+"."+coll)
	return b, nil
}

func cmdDropDatabase(cc *cmdCtx) ([]byte, error) {
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.cat[cc.db]) == 0 {
		return nil, nil
	}
	for _, name := range s.cat.collectionNames(cc.db) {
		s.dropCollection(s.cat.lookup(cc.db, name))
	}
	cc.opTime = s.appendEvent(&changeEvent{op: opDropDatabase, db: cc.db})
	return nil, nil
}

func cmdRenameCollection(cc *cmdCtx) ([]byte, error) {
	if cc.db != "admin" {
		return nil, errorf(codeUnauthorized, "renameCollection may only be run against the admin database.")
	}
	from, _ := cc.cmd.Lookup("renameCollection").StringValueOK()
	to, _ := cc.cmd.Lookup("to").StringValueOK()
	fromDB, fromColl, ok1 := strings.Cut(from, ".")
	toDB, toColl, ok2 := strings.Cut(to, ".")
	if !ok1 || !ok2 || !validCollectionName(toColl) || !validDatabaseName(toDB) {
		return nil, errorf(codeInvalidNamespace, "Invalid target namespace: %s", to)
	}
	if fromDB != toDB {
		return nil, errorf(codeIllegalOperation, "mongosim: renaming across databases is not simulated")
	}
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(fromDB, fromColl)
	if c == nil {
		return nil, errorf(codeNamespaceNotFound, "Source collection %s does not exist", from)
	}
	if target := s.cat.lookup(toDB, toColl); target != nil {
		if !truthy(cc.cmd.Lookup("dropTarget")) {
			return nil, errorf(codeNamespaceExists, "target namespace exists")
		}
		s.dropCollection(target)
	}
	delete(s.cat[fromDB], fromColl)
	c.name = toColl
	s.cat[toDB][toColl] = c
	cc.opTime = s.appendEvent(&changeEvent{op: opRename, db: fromDB, coll: fromColl, toDB: toDB, toColl: toColl, uuid: c.uuid})
	return nil, nil
}

// dropCollection removes a collection and logs its drop; the caller holds s.mu.
func (s *Sim) dropCollection(c *collection) uint64 {
	s.cat.drop(c.db, c.name)
	return s.appendEvent(&changeEvent{op: opDrop, db: c.db, coll: c.name, uuid: c.uuid})
}
