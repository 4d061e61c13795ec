package mongosim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// Options configures a simulator.
type Options struct {
	// Addr is the listen address; the default "127.0.0.1:0" picks a free loopback port.
	Addr string
	// ReplicaSet is the replica-set name reported in hello; default "rs0".
	ReplicaSet string
	// Logger receives connection and protocol diagnostics; default discards them.
	Logger *slog.Logger
	// ReplyDelay is added before every reply except the connection handshake (a slow server).
	ReplyDelay time.Duration
}

// Sim is a single-node replica set speaking the MongoDB wire protocol, backed by memory.
type Sim struct {
	opts      Options
	log       *slog.Logger
	ln        net.Listener
	hostPort  string
	processID bson.ObjectID
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu          sync.Mutex
	cat         catalog
	clock       clock
	events      []*changeEvent
	historyFrom uint64 // opening a stream before this cluster time fails with ChangeStreamHistoryLost
	// truncatedThrough is the last event removed from history; an open stream that had not read
	// it has lost history.
	truncatedThrough position
	changed          chan struct{}
	cursors          map[int64]*cursor
	sessions         map[[16]byte]*session
	conns            map[*simConn]struct{}
	connSeq          int32
	failPoints       []*failPoint
	replyDelay       time.Duration
}

type simConn struct {
	id     int32
	nc     net.Conn
	ctx    context.Context
	cancel context.CancelFunc
	wmu    sync.Mutex
}

func (c *simConn) close() {
	c.cancel()
	_ = c.nc.Close()
}

// Start listens on a loopback port and serves until Close or until ctx ends.
func Start(ctx context.Context, opts Options) (*Sim, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.ReplicaSet == "" {
		opts.ReplicaSet = "rs0"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("mongosim: listen %s: %w", opts.Addr, err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	s := &Sim{
		opts:       opts,
		log:        logger,
		ln:         ln,
		hostPort:   ln.Addr().String(),
		processID:  bson.NewObjectID(),
		ctx:        sctx,
		cancel:     cancel,
		cat:        catalog{},
		changed:    make(chan struct{}),
		cursors:    map[int64]*cursor{},
		sessions:   map[[16]byte]*session{},
		conns:      map[*simConn]struct{}{},
		replyDelay: opts.ReplyDelay,
	}
	s.clock.noop() // a replica set's oplog is never empty: its first entry is the initiate no-op
	s.wg.Add(1)
	go s.acceptLoop()
	if ctx.Done() != nil {
		go func() {
			select {
			case <-ctx.Done():
				_ = s.Close()
			case <-sctx.Done():
			}
		}()
	}
	return s, nil
}

// URI is the connection string for the driver: replica-set discovery against the single member,
// whose hello reports exactly the seed address as host, primary and me.
func (s *Sim) URI() string {
	return fmt.Sprintf("mongodb://%s/?replicaSet=%s", s.hostPort, s.opts.ReplicaSet)
}

// Addr is the host:port the simulator listens on.
func (s *Sim) Addr() string { return s.hostPort }

// Close stops listening, drops every connection and wakes every waiting getMore.
func (s *Sim) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		_ = s.ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.close()
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}

func (s *Sim) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.ctx.Err() == nil {
				s.log.Error("mongosim: accept", "err", err)
			}
			return
		}
		ctx, cancel := context.WithCancel(s.ctx)
		s.mu.Lock()
		if s.ctx.Err() != nil {
			s.mu.Unlock()
			cancel()
			_ = nc.Close()
			return
		}
		s.connSeq++
		c := &simConn{id: s.connSeq, nc: nc, ctx: ctx, cancel: cancel}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func (s *Sim) serveConn(c *simConn) {
	defer s.wg.Done()
	defer func() {
		c.close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	}()
	for {
		msg, err := readMessage(c.nc)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && c.ctx.Err() == nil {
				s.log.Debug("mongosim: read", "conn", c.id, "err", err)
			}
			return
		}
		req, err := parseMessage(msg)
		if err != nil {
			// A real server closes the connection on a message it cannot parse.
			s.log.Warn("mongosim: bad message", "conn", c.id, "err", err)
			return
		}
		if !s.handle(c, req) {
			return
		}
	}
}

// handle runs one request and writes its reply (several for an exhaust hello); false closes the
// connection.
func (s *Sim) handle(c *simConn, req *request) bool {
	name := commandName(req.command)
	cc := &cmdCtx{s: s, conn: c, ctx: c.ctx, req: req, cmd: req.command, name: name}
	cc.db, _ = req.command.Lookup("$db").StringValueOK()
	if req.opCode == opQuery {
		cc.db, _, _ = strings.Cut(req.collection, ".")
	}

	if isHello(name) {
		return s.serveHello(cc)
	}

	fp := s.tripFailPoint(name)
	if fp != nil && fp.BlockFor > 0 {
		if !sleepCtx(c.ctx, fp.BlockFor) {
			return false
		}
	}
	if fp != nil && fp.CloseConnection && !fp.AfterExecute {
		return false
	}
	var body []byte
	var err error
	if fp != nil && fp.ErrorCode != 0 && !fp.AfterExecute {
		err = &commandError{code: fp.ErrorCode, msg: "Failing command via 'failCommand' failpoint", labels: fp.ErrorLabels}
	} else {
		body, err = s.execute(cc)
	}
	if fp != nil && fp.AfterExecute {
		if fp.CloseConnection {
			return false
		}
		if fp.ErrorCode != 0 {
			err = &commandError{code: fp.ErrorCode, msg: "Failing command via 'failCommand' failpoint", labels: fp.ErrorLabels}
		}
	}
	s.mu.Lock()
	delay := s.replyDelay
	s.mu.Unlock()
	if delay > 0 && !sleepCtx(c.ctx, delay) {
		return false
	}
	return s.writeReply(cc, s.finishReply(cc, body, err), false)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// finishReply appends ok, $clusterTime and operationTime, in that order, to a command's fields.
func (s *Sim) finishReply(cc *cmdCtx, body []byte, err error) bsoncore.Document {
	idx, doc := bsoncore.AppendDocumentStart(nil)
	if err != nil {
		var ce *commandError
		if !errors.As(err, &ce) {
			ce = &commandError{code: 1, msg: err.Error()}
		}
		doc = appendErrorFields(doc, ce)
	} else {
		doc = append(doc, body...)
		doc = bsoncore.AppendDoubleElement(doc, "ok", 1)
	}
	s.mu.Lock()
	clusterTime := s.clock.last
	s.mu.Unlock()
	opTime := cc.opTime
	if opTime == 0 {
		opTime = clusterTime
	}
	doc = appendClusterTime(doc, clusterTime)
	doc = bsoncore.AppendTimestampElement(doc, "operationTime", tsT(opTime), tsI(opTime))
	doc, _ = bsoncore.AppendDocumentEnd(doc, idx)
	return doc
}

// appendClusterTime appends $clusterTime as an unauthenticated replica set signs it: a zero
// 20-byte HMAC and keyId 0 (seen in real 7.0 replies without keyfile auth).
func appendClusterTime(dst []byte, ts uint64) []byte {
	idx, dst := bsoncore.AppendDocumentElementStart(dst, "$clusterTime")
	dst = bsoncore.AppendTimestampElement(dst, "clusterTime", tsT(ts), tsI(ts))
	sidx, dst := bsoncore.AppendDocumentElementStart(dst, "signature")
	dst = bsoncore.AppendBinaryElement(dst, "hash", 0, make([]byte, 20))
	dst = bsoncore.AppendInt64Element(dst, "keyId", 0)
	dst, _ = bsoncore.AppendDocumentEnd(dst, sidx)
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func (s *Sim) writeReply(cc *cmdCtx, doc bsoncore.Document, moreToCome bool) bool {
	var wm []byte
	reqID := wiremessage.NextRequestID()
	if cc.req.opCode == opQuery {
		wm = appendOpReply(nil, reqID, cc.req.requestID, doc)
	} else {
		wm = appendOpMsgReply(nil, reqID, cc.req.requestID, moreToCome, doc)
	}
	cc.conn.wmu.Lock()
	defer cc.conn.wmu.Unlock()
	if _, err := cc.conn.nc.Write(wm); err != nil {
		return false
	}
	if moreToCome {
		// The next exhaust reply answers this one.
		cc.req.requestID = reqID
	}
	return true
}

func commandName(cmd bsoncore.Document) string {
	e, err := cmd.IndexErr(0)
	if err != nil {
		return ""
	}
	return e.Key()
}

// cmdCtx carries one command through its handler.
type cmdCtx struct {
	s      *Sim
	conn   *simConn
	ctx    context.Context
	req    *request
	cmd    bsoncore.Document
	name   string
	db     string
	opTime uint64 // the write's cluster time, reported as operationTime
}

type handlerFunc func(cc *cmdCtx) ([]byte, error)

func (s *Sim) execute(cc *cmdCtx) ([]byte, error) {
	if cc.req.opCode == opQuery {
		// Servers since 6.0 accept OP_QUERY only for the handshake.
		return nil, errorf(codeCommandNotFound, "Unsupported OP_QUERY command: %s. The client driver may require an upgrade.", cc.name)
	}
	h, ok := handlers[strings.ToLower(cc.name)]
	if !ok {
		return nil, errorf(codeCommandNotFound, "no such command: '%s'", cc.name)
	}
	if cc.db == "" {
		return nil, errorf(codeInvalidNamespace, "OP_MSG requests require a $db argument")
	}
	return h(cc)
}

// handlers maps lower-cased command names; it is filled once in init and never changed.
var handlers map[string]handlerFunc

func init() {
	handlers = map[string]handlerFunc{
		"ping":               cmdPing,
		"buildinfo":          cmdBuildInfo,
		"getparameter":       cmdGetParameter,
		"endsessions":        cmdEndSessions,
		"killcursors":        cmdKillCursors,
		"listdatabases":      cmdListDatabases,
		"listcollections":    cmdListCollections,
		"listindexes":        cmdListIndexes,
		"createindexes":      cmdCreateIndexes,
		"dropindexes":        cmdDropIndexes,
		"create":             cmdCreate,
		"collmod":            cmdCollMod,
		"drop":               cmdDrop,
		"dropdatabase":       cmdDropDatabase,
		"renamecollection":   cmdRenameCollection,
		"insert":             cmdInsert,
		"update":             cmdUpdate,
		"delete":             cmdDelete,
		"find":               cmdFind,
		"getmore":            cmdGetMore,
		"count":              cmdCount,
		"aggregate":          cmdAggregate,
		"committransaction":  cmdCommitTransaction,
		"aborttransaction":   cmdAbortTransaction,
		"configurefailpoint": cmdConfigureFailPoint,
		"serverstatus":       cmdServerStatus,
		"replsetgetstatus":   cmdReplSetGetStatus,
	}
}
