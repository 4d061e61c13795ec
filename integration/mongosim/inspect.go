package mongosim

import (
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ClusterTime is the latest cluster time (the last oplog entry, write or no-op).
func (s *Sim) ClusterTime() bson.Timestamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	return toTimestamp(s.clock.last)
}

// Documents returns a copy of a collection's documents in _id order (nil when it does not exist).
func (s *Sim) Documents(db, coll string) []bson.Raw {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(db, coll)
	if c == nil {
		return nil
	}
	var out []bson.Raw
	for _, d := range c.sorted() {
		out = append(out, bson.Raw(append([]byte(nil), d.doc...)))
	}
	return out
}

// Collections returns the names of a database's collections, sorted.
func (s *Sim) Collections(db string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cat.collectionNames(db)
}

// LogEntry describes one change-log entry for tests.
type LogEntry struct {
	ClusterTime   bson.Timestamp
	TxnOpIndex    uint32
	OperationType string
	DB, Coll      string
	DocumentKey   bson.Raw
	InTransaction bool
	TxnNumber     int64
	ResumeToken   string
}

// ChangeLog returns the retained change log in order (create events included).
func (s *Sim) ChangeLog() []LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]LogEntry, 0, len(s.events))
	for _, ev := range s.events {
		out = append(out, LogEntry{
			ClusterTime:   toTimestamp(ev.pos.ts),
			TxnOpIndex:    ev.pos.txnOpIndex,
			OperationType: ev.op,
			DB:            ev.db,
			Coll:          ev.coll,
			DocumentKey:   bson.Raw(ev.documentKey),
			InTransaction: ev.inTxn,
			TxnNumber:     ev.txnNumber,
			ResumeToken:   ev.pos.token(),
		})
	}
	return out
}

// EnablePreAndPostImages is collMod {changeStreamPreAndPostImages: {enabled: true}}; it creates
// the collection when missing.
func (s *Sim) EnablePreAndPostImages(db, coll string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cat.lookup(db, coll)
	if c == nil {
		c = s.cat.create(db, coll)
		s.appendEvent(&changeEvent{op: opCreate, db: db, coll: coll, uuid: c.uuid, expandedOnly: true})
	}
	c.prePostImages = true
}

// OpenConnections is the number of client connections currently open.
func (s *Sim) OpenConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// OpenCursors is the number of live server-side cursors.
func (s *Sim) OpenCursors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cursors)
}
