package harness

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
)

// Protocol is the wire protocol a FaultProxy reads to find its cut points.
type Protocol int

const (
	// ProtocolPostgres frames the server's replies as PostgreSQL messages
	// (the client must not ask for TLS: sslmode=disable).
	ProtocolPostgres Protocol = iota
	// ProtocolMySQL frames both directions as MySQL packets (no TLS, no
	// compression).
	ProtocolMySQL
	// ProtocolMongo frames the server's replies as MongoDB wire messages
	// (no TLS); every reply counts, from the first.
	ProtocolMongo
)

// FaultProxy stands between a client and a database server and cuts
// connections at points a client must survive without losing or doubling
// work:
//
//   - the answer of a COMMIT: the server committed, the client never
//     hears it (every CommitEvery-th commit);
//   - anywhere after the login: a connection is cut after a random number
//     of the server's messages (on average every RandomEvery messages).
//
// A cut closes both sides at once; the message that triggered it is not
// passed on. Rules may change while connections are open.
type FaultProxy struct {
	ln     net.Listener
	target string
	proto  Protocol

	commitEvery atomic.Int64
	randomEvery atomic.Int64

	commits    atomic.Int64 // COMMIT answers seen
	commitCuts atomic.Int64
	randomCuts atomic.Int64

	mu    sync.Mutex
	rng   *rand.Rand
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// StartFaultProxy listens on a free loopback port and forwards every
// connection to target. It cuts nothing until told to.
func StartFaultProxy(target string, proto Protocol, seed uint64) (*FaultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("harness: fault proxy: %w", err)
	}
	p := &FaultProxy{ln: ln, target: target, proto: proto, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's "127.0.0.1:PORT".
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// Port is the proxy's port.
func (p *FaultProxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// CutCommitAnswers loses the answer of every n-th COMMIT (0: none).
func (p *FaultProxy) CutCommitAnswers(n int) { p.commitEvery.Store(int64(n)) }

// CutRandomly cuts a connection after a random number of the server's
// messages, n on average (0: never).
func (p *FaultProxy) CutRandomly(n int) { p.randomEvery.Store(int64(n)) }

// Cuts reports how many connections were cut at a COMMIT's answer and at
// random points.
func (p *FaultProxy) Cuts() (commitAnswers, random int) {
	return int(p.commitCuts.Load()), int(p.randomCuts.Load())
}

// Commits reports how many COMMIT answers the proxy saw (cut or not).
func (p *FaultProxy) Commits() int { return int(p.commits.Load()) }

// Close stops accepting, cuts every open connection and waits for the
// proxy's goroutines.
func (p *FaultProxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *FaultProxy) track(c net.Conn, open bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if open {
		p.conns[c] = struct{}{}
	} else {
		delete(p.conns, c)
	}
}

func (p *FaultProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.track(client, true)
		p.track(server, true)
		s := &proxied{p: p, client: client, server: server}
		p.wg.Add(2)
		go s.fromClient()
		go s.fromServer()
	}
}

// nextRandomCut draws how many server messages pass before a random cut.
func (p *FaultProxy) nextRandomCut() int64 {
	n := p.randomEvery.Load()
	if n <= 0 {
		return -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return 1 + p.rng.Int64N(2*n)
}

// proxied is one client connection and its server connection.
type proxied struct {
	p              *FaultProxy
	client, server net.Conn
	once           sync.Once

	loggedIn       atomic.Bool // past the login: random cuts allowed
	dumping        atomic.Bool // MySQL: a binlog dump streams events, each a cut point
	answerDue      atomic.Bool // MySQL: the next server packet starts an answer
	commitAnswered atomic.Bool // MySQL: the next server packet answers a COMMIT
}

func (s *proxied) cut() {
	s.once.Do(func() {
		_ = s.client.Close()
		_ = s.server.Close()
		s.p.track(s.client, false)
		s.p.track(s.server, false)
	})
}

// fromClient passes the client's bytes on; for MySQL it reads the packets
// to see the login end and COMMITs.
func (s *proxied) fromClient() {
	defer s.p.wg.Done()
	defer s.cut()
	if s.p.proto != ProtocolMySQL {
		_, _ = io.Copy(s.server, s.client)
		return
	}
	for {
		pkt, err := readMySQLPacket(s.client)
		if err != nil {
			return
		}
		// Commands start a new sequence; the login answers the greeting
		// with sequence 1.
		if pkt[3] == 0 {
			s.loggedIn.Store(true)
			s.answerDue.Store(true)
			if isCommit(pkt[4:]) {
				s.commitAnswered.Store(true)
			}
			if len(pkt) > 4 && (pkt[4] == comBinlogDump || pkt[4] == comBinlogDumpGTID) {
				s.dumping.Store(true)
			}
		}
		if _, err := s.server.Write(pkt); err != nil {
			return
		}
	}
}

const (
	comQuery          = 0x03
	comBinlogDump     = 0x12
	comBinlogDumpGTID = 0x1e
)

func isCommit(payload []byte) bool {
	if len(payload) == 0 || payload[0] != comQuery {
		return false
	}
	return bytes.EqualFold(bytes.TrimRight(bytes.TrimSpace(payload[1:]), ";"), []byte("COMMIT"))
}

func (s *proxied) fromServer() {
	defer s.p.wg.Done()
	defer s.cut()
	untilCut := s.p.nextRandomCut()
	for {
		msg, commit, point, err := s.readServer()
		if err != nil {
			return
		}
		if commit {
			n := s.p.commits.Add(1)
			if every := s.p.commitEvery.Load(); every > 0 && n%every == 0 {
				s.p.commitCuts.Add(1)
				return
			}
		}
		if point && s.loggedIn.Load() && untilCut > 0 {
			if untilCut--; untilCut == 0 {
				s.p.randomCuts.Add(1)
				return
			}
		}
		if untilCut < 0 && s.p.randomEvery.Load() > 0 {
			untilCut = s.p.nextRandomCut()
		}
		if _, err := s.client.Write(msg); err != nil {
			return
		}
	}
}

// readServer reads one server message, whether it answers a COMMIT, and
// whether it is a point a random cut may come at: every PostgreSQL and
// MongoDB message; for MySQL the first packet of an answer (a prepared
// statement's answer is a packet per parameter, a result set one per row)
// and every event of a binlog dump.
func (s *proxied) readServer() (msg []byte, commit, point bool, err error) {
	switch s.p.proto {
	case ProtocolMySQL:
		pkt, err := readMySQLPacket(s.server)
		if err != nil {
			return nil, false, false, err
		}
		return pkt, s.commitAnswered.Swap(false), s.answerDue.Swap(false) || s.dumping.Load(), nil
	case ProtocolMongo:
		s.loggedIn.Store(true)
		msg, err := readMongoMessage(s.server)
		return msg, false, true, err
	}
	var head [5]byte
	if _, err := io.ReadFull(s.server, head[:]); err != nil {
		return nil, false, false, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n < 4 || n > 1<<30 {
		return nil, false, false, errors.New("harness: fault proxy: bad postgres message length")
	}
	msg = make([]byte, 1+n)
	copy(msg, head[:])
	if _, err := io.ReadFull(s.server, msg[5:]); err != nil {
		return nil, false, false, err
	}
	switch head[0] {
	case 'Z': // ReadyForQuery: the login is done
		s.loggedIn.Store(true)
	case 'C': // CommandComplete, tag "COMMIT\x00"
		commit = bytes.Equal(msg[5:], []byte("COMMIT\x00"))
	}
	return msg, commit, true, nil
}

func readMySQLPacket(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := int(head[0]) | int(head[1])<<8 | int(head[2])<<16
	pkt := make([]byte, 4+n)
	copy(pkt, head[:])
	if _, err := io.ReadFull(r, pkt[4:]); err != nil {
		return nil, err
	}
	return pkt, nil
}

func readMongoMessage(r io.Reader) ([]byte, error) {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(head[:])
	if n < 16 || n > 1<<26 {
		return nil, errors.New("harness: fault proxy: bad mongodb message length")
	}
	msg := make([]byte, n)
	copy(msg, head[:])
	if _, err := io.ReadFull(r, msg[4:]); err != nil {
		return nil, err
	}
	return msg, nil
}
