package mongosim

import (
	"slices"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// FailPoint makes matching commands fail the way a real server's failCommand fail point does
// (configureFailPoint: "failCommand", available on mongod with enableTestCommands), plus
// AfterExecute, which real servers do not offer: the command runs, then the failure replaces its
// reply, e.g. a getMore that consumed events but whose connection drops before the reply.
type FailPoint struct {
	// Commands are the command names that trip the fail point, e.g. "getMore", "aggregate".
	Commands []string
	// Times is how many matching commands trip it; 0 means once.
	Times int
	// ErrorCode, when set, is returned as the command's error, with ErrorLabels.
	ErrorCode   int32
	ErrorLabels []string
	// CloseConnection closes the connection instead of replying.
	CloseConnection bool
	// AfterExecute runs the command before failing or closing.
	AfterExecute bool
	// BlockFor delays the command (a slow server) before it runs or fails.
	BlockFor time.Duration
}

type failPoint struct {
	FailPoint
	remaining int
}

// FailCommand arms a fail point. Fail points trip in the order they were armed.
func (s *Sim) FailCommand(fp FailPoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	times := fp.Times
	if times <= 0 {
		times = 1
	}
	s.failPoints = append(s.failPoints, &failPoint{FailPoint: fp, remaining: times})
}

// ClearFailPoints disarms every fail point.
func (s *Sim) ClearFailPoints() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failPoints = nil
}

func (s *Sim) tripFailPoint(name string) *FailPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fp := range s.failPoints {
		if !slices.ContainsFunc(fp.Commands, func(c string) bool { return strings.EqualFold(c, name) }) {
			continue
		}
		fp.remaining--
		if fp.remaining <= 0 {
			s.failPoints = slices.Delete(s.failPoints, i, i+1)
		}
		out := fp.FailPoint
		return &out
	}
	return nil
}

// cmdConfigureFailPoint accepts {configureFailPoint: "failCommand", mode: "off"|"alwaysOn"|
// {times: n}, data: {failCommands, errorCode, errorLabels, closeConnection, blockConnection,
// blockTimeMS}}, so tests written against a real mongod run unchanged here.
func cmdConfigureFailPoint(cc *cmdCtx) ([]byte, error) {
	if name, _ := cc.cmd.Lookup("configureFailPoint").StringValueOK(); name != "failCommand" {
		return nil, errorf(codeBadValue, "mongosim: only the failCommand fail point is simulated")
	}
	mode := cc.cmd.Lookup("mode")
	if m, ok := mode.StringValueOK(); ok && m == "off" {
		cc.s.ClearFailPoints()
		return nil, nil
	}
	fp := FailPoint{Times: 1 << 30}
	if md, ok := mode.DocumentOK(); ok {
		if n, ok := md.Lookup("times").AsInt64OK(); ok {
			fp.Times = int(n)
		}
	}
	data, _ := cc.cmd.Lookup("data").DocumentOK()
	if arr, ok := data.Lookup("failCommands").ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, v := range vals {
			fp.Commands = append(fp.Commands, v.StringValue())
		}
	}
	if code, ok := data.Lookup("errorCode").AsInt64OK(); ok {
		fp.ErrorCode = int32(code)
	}
	if arr, ok := data.Lookup("errorLabels").ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, v := range vals {
			fp.ErrorLabels = append(fp.ErrorLabels, v.StringValue())
		}
	}
	fp.CloseConnection = truthy(data.Lookup("closeConnection"))
	if truthy(data.Lookup("blockConnection")) {
		ms, _ := data.Lookup("blockTimeMS").AsInt64OK()
		fp.BlockFor = time.Duration(ms) * time.Millisecond
	}
	cc.s.FailCommand(fp)
	return bsoncore.AppendInt32Element(nil, "count", 0), nil
}

// DropConnections closes every client connection now, including one in the middle of a getMore.
func (s *Sim) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.close()
	}
}

// KillAllCursors forgets every open cursor, so the next getMore on any of them fails with
// CursorNotFound (43), as after a server restart or a cursor timeout.
func (s *Sim) KillAllCursors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.cursors)
	clear(s.cursors)
	return n
}

// TruncateHistory removes change events older than before, as an oplog that rolled over would:
// opening a stream at an earlier point, or continuing one that had not read them, then fails with
// ChangeStreamHistoryLost (286). It returns the number of events removed.
func (s *Sim) TruncateHistory(before bson.Timestamp) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := packTS(before.T, before.I)
	n := 0
	for n < len(s.events) && s.events[n].pos.ts < limit {
		n++
	}
	if n > 0 {
		s.truncatedThrough = s.events[n-1].pos
		s.events = slices.Clone(s.events[n:])
	}
	s.historyFrom = max(s.historyFrom, limit)
	return n
}

// SetReplyDelay makes every later reply (except handshakes) wait d first; 0 restores speed.
func (s *Sim) SetReplyDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replyDelay = d
}
