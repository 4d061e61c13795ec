package mongosim

import (
	"bytes"
	"fmt"
	"maps"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// session is the server side of a logical session: its transaction and the reply of its last
// retryable write, so that a retry after a dropped connection is answered without writing twice.
type session struct {
	lsid        bsoncore.Document
	txn         *transaction
	retryNumber int64
	retryReply  []byte
	retryOpTime uint64
	hasRetry    bool
}

type txnState int

const (
	txnActive txnState = iota
	txnCommitted
	txnAborted
)

// transaction buffers a multi-document transaction: private copies of the collections it
// touches, the documents of each copy as they were when copied (for write-conflict detection),
// and its change events, which reach the oplog together at commit.
type transaction struct {
	number   int64
	state    txnState
	colls    map[string]*collection
	snap     map[string]map[string]storedDoc
	touched  map[string]map[string]bool
	events   []*changeEvent
	commitTS uint64
}

func sessionKey(lsid bsoncore.Document) ([16]byte, bool) {
	var k [16]byte
	_, data, ok := lsid.Lookup("id").BinaryOK()
	if !ok || len(data) != 16 {
		return k, false
	}
	copy(k[:], data)
	return k, true
}

// sessionFor returns the command's session, creating it on first use; the caller holds s.mu.
func (s *Sim) sessionFor(cc *cmdCtx) *session {
	lsid, ok := cc.cmd.Lookup("lsid").DocumentOK()
	if !ok {
		return nil
	}
	key, ok := sessionKey(lsid)
	if !ok {
		return nil
	}
	sess := s.sessions[key]
	if sess == nil {
		sess = &session{lsid: lsid}
		s.sessions[key] = sess
	}
	return sess
}

func inTransaction(cmd bsoncore.Document) bool {
	ac := cmd.Lookup("autocommit")
	return ac.Type == bsoncore.TypeBoolean && !ac.Boolean()
}

func noSuchTransaction(number int64, aborted bool) *commandError {
	e := errorf(codeNoSuchTransaction, "Given transaction number %d does not match any in-progress transactions.", number)
	if aborted {
		e.msg = fmt.Sprintf("Transaction with { txnNumber: %d } has been aborted.", number)
	}
	e.labels = []string{"TransientTransactionError"}
	return e
}

// transactionFor returns the transaction a command runs in (nil outside one), starting it when
// the command carries startTransaction; the caller holds s.mu.
func (s *Sim) transactionFor(cc *cmdCtx, _ bool) (*transaction, error) {
	if !inTransaction(cc.cmd) {
		return nil, nil
	}
	sess := s.sessionFor(cc)
	number, ok := cc.cmd.Lookup("txnNumber").AsInt64OK()
	if sess == nil || !ok {
		return nil, errorf(codeInvalidOptions, "'autocommit' field requires a transaction number to also be specified")
	}
	if truthy(cc.cmd.Lookup("startTransaction")) {
		if sess.txn != nil && number < sess.txn.number {
			return nil, errorf(codeTransactionTooOld, "Cannot start transaction %d on session because a newer transaction %d has already started.", number, sess.txn.number)
		}
		sess.txn = &transaction{number: number, colls: map[string]*collection{}, snap: map[string]map[string]storedDoc{}, touched: map[string]map[string]bool{}}
		return sess.txn, nil
	}
	t := sess.txn
	switch {
	case t == nil || t.number != number:
		return nil, noSuchTransaction(number, false)
	case t.state == txnAborted:
		return nil, noSuchTransaction(number, true)
	case t.state == txnCommitted:
		return nil, errorf(codeTransactionCommitted, "Transaction %d has been committed.", number)
	}
	return t, nil
}

func (t *transaction) collection(s *Sim, db, name string, create bool) (*collection, bool, error) {
	ns := db + "." + name
	if c := t.colls[ns]; c != nil {
		return c, false, nil
	}
	base := s.cat.lookup(db, name)
	if base == nil && !create {
		return nil, false, nil
	}
	if base == nil && (!validCollectionName(name) || !validDatabaseName(db)) {
		return nil, false, errorf(codeInvalidNamespace, "Invalid namespace specified '%s'", ns)
	}
	var work *collection
	if base != nil {
		work = base.clone()
		t.snap[ns] = maps.Clone(base.docs)
	} else {
		work = newCollection(db, name)
		t.snap[ns] = map[string]storedDoc{}
	}
	t.colls[ns] = work
	return work, base == nil, nil
}

func (t *transaction) touch(c *collection, key string) {
	ns := c.db + "." + c.name
	if t.touched[ns] == nil {
		t.touched[ns] = map[string]bool{}
	}
	t.touched[ns][key] = true
}

// runWrite runs a write command inside its transaction, as a retryable write, or plainly.
func (s *Sim) runWrite(cc *cmdCtx, fn func(w *writer) (writeSummary, error)) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	txn, err := s.transactionFor(cc, true)
	if err != nil {
		return nil, err
	}
	if txn != nil {
		sum, err := fn(&writer{s: s, cc: cc, txn: txn})
		if err != nil || len(sum.errors) > 0 {
			// Any failed statement aborts the transaction on the server.
			txn.state = txnAborted
		}
		if err != nil {
			return nil, err
		}
		return appendWriteReply(nil, sum, 0, true), nil
	}
	sess := s.sessionFor(cc)
	number, retryable := cc.cmd.Lookup("txnNumber").AsInt64OK()
	if sess != nil && retryable {
		switch {
		case sess.hasRetry && number == sess.retryNumber:
			cc.opTime = sess.retryOpTime
			return sess.retryReply, nil
		case sess.hasRetry && number < sess.retryNumber:
			return nil, errorf(codeTransactionTooOld, "Retryable write with txnNumber %d is prohibited on session because a newer retryable write with txnNumber %d has already started on this session.", number, sess.retryNumber)
		}
	}
	sum, err := fn(s.baseWriter(cc))
	if err != nil {
		return nil, err
	}
	opTime := cc.opTime
	if opTime == 0 {
		opTime = s.clock.last
	}
	reply := appendWriteReply(nil, sum, opTime, false)
	if sess != nil && retryable {
		sess.retryNumber, sess.retryReply, sess.retryOpTime, sess.hasRetry = number, reply, cc.opTime, true
	}
	return reply, nil
}

func cmdCommitTransaction(cc *cmdCtx) ([]byte, error) {
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessionFor(cc)
	number, _ := cc.cmd.Lookup("txnNumber").AsInt64OK()
	if sess == nil || sess.txn == nil || sess.txn.number != number {
		return nil, noSuchTransaction(number, false)
	}
	t := sess.txn
	switch t.state {
	case txnCommitted:
		cc.opTime = t.commitTS
		return nil, nil
	case txnAborted:
		return nil, noSuchTransaction(number, true)
	}
	for ns, keys := range t.touched {
		work := t.colls[ns]
		base := s.cat.lookup(work.db, work.name)
		for key := range keys {
			orig, hadOrig := t.snap[ns][key]
			var cur storedDoc
			hasCur := false
			if base != nil {
				cur, hasCur = base.get(key)
			}
			if hadOrig != hasCur || (hadOrig && !bytes.Equal(orig.doc, cur.doc)) {
				t.state = txnAborted
				e := errorf(codeWriteConflict, "Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.")
				e.labels = []string{"TransientTransactionError"}
				return nil, e
			}
		}
	}
	var created []*changeEvent
	for ns, keys := range t.touched {
		work := t.colls[ns]
		base := s.cat.lookup(work.db, work.name)
		if base == nil {
			base = s.cat.create(work.db, work.name)
			base.uuid, base.prePostImages = work.uuid, work.prePostImages
			created = append(created, &changeEvent{op: opCreate, db: work.db, coll: work.name, uuid: work.uuid, expandedOnly: true})
		}
		for key := range keys {
			if d, ok := work.get(key); ok {
				base.put(key, d.id, d.doc)
			} else {
				base.remove(key)
			}
		}
	}
	t.state = txnCommitted
	events := make([]*changeEvent, 0, len(created)+len(t.events))
	events = append(append(events, created...), t.events...)
	if len(events) > 0 {
		t.commitTS = s.appendTransaction(events, oplogLsid(sess.lsid), t.number)
	} else {
		t.commitTS = s.clock.last
	}
	cc.opTime = t.commitTS
	return nil, nil
}

func cmdAbortTransaction(cc *cmdCtx) ([]byte, error) {
	s := cc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessionFor(cc)
	number, _ := cc.cmd.Lookup("txnNumber").AsInt64OK()
	if sess == nil || sess.txn == nil || sess.txn.number != number {
		return nil, noSuchTransaction(number, false)
	}
	switch sess.txn.state {
	case txnCommitted:
		return nil, errorf(codeTransactionCommitted, "Transaction %d has been committed.", number)
	case txnAborted:
		return nil, noSuchTransaction(number, true)
	}
	sess.txn.state = txnAborted
	return nil, nil
}
