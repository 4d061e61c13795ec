package mongosim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/wiremessage"
)

// maxMessageSize is the maxMessageSizeBytes a real server advertises in hello (48000000 since 3.6).
const maxMessageSize = 48_000_000

// request is one decoded client message: an OP_MSG, or the legacy OP_QUERY the driver sends for its
// first isMaster before it knows the server speaks hello.
type request struct {
	requestID int32
	opCode    wiremessage.OpCode
	flags     wiremessage.MsgFlag
	// command is the OP_MSG body with every kind-1 document sequence folded in as an array field,
	// so handlers see the same document whether the driver used sequences or not.
	command bsoncore.Document
	// collection is the OP_QUERY fullCollectionName ("admin.$cmd"); empty for OP_MSG.
	collection string
}

func (r *request) exhaustAllowed() bool { return r.flags&wiremessage.ExhaustAllowed != 0 }

// readMessage reads one wire message (header included) from r.
func readMessage(r io.Reader) ([]byte, error) {
	var header [16]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := int32(binary.LittleEndian.Uint32(header[:4]))
	if length < 16 || length > maxMessageSize {
		return nil, fmt.Errorf("wire: message length %d out of range", length)
	}
	msg := make([]byte, length)
	copy(msg, header[:])
	if _, err := io.ReadFull(r, msg[16:]); err != nil {
		return nil, fmt.Errorf("wire: reading %d-byte message: %w", length, err)
	}
	return msg, nil
}

// parseMessage decodes an OP_MSG or OP_QUERY message. Compressed messages are refused because the
// simulator never offers compression in hello, so a driver never sends one.
func parseMessage(msg []byte) (*request, error) {
	length, reqID, _, opcode, rem, ok := wiremessage.ReadHeader(msg)
	if !ok || int(length) != len(msg) {
		return nil, errors.New("wire: malformed header")
	}
	req := &request{requestID: reqID, opCode: opcode}
	switch opcode {
	case wiremessage.OpMsg:
		return req, parseOpMsg(req, rem)
	case opQuery:
		return req, parseOpQuery(req, rem)
	default:
		return nil, fmt.Errorf("wire: unsupported opcode %s", opcode)
	}
}

func parseOpMsg(req *request, rem []byte) error {
	flags, rem, ok := wiremessage.ReadMsgFlags(rem)
	if !ok {
		return errors.New("wire: OP_MSG without flags")
	}
	req.flags = flags
	if flags&wiremessage.ChecksumPresent != 0 {
		if len(rem) < 4 {
			return errors.New("wire: OP_MSG checksum flag without checksum")
		}
		rem = rem[:len(rem)-4]
	}
	var body bsoncore.Document
	type sequence struct {
		name string
		docs []bsoncore.Document
	}
	var sequences []sequence
	for len(rem) > 0 {
		stype, next, ok := wiremessage.ReadMsgSectionType(rem)
		if !ok {
			return errors.New("wire: truncated OP_MSG section")
		}
		switch stype {
		case wiremessage.SingleDocument:
			if body != nil {
				return errors.New("wire: OP_MSG with two body sections")
			}
			body, rem, ok = wiremessage.ReadMsgSectionSingleDocument(next)
			if !ok {
				return errors.New("wire: truncated OP_MSG body")
			}
		case wiremessage.DocumentSequence:
			name, docs, after, ok := wiremessage.ReadMsgSectionDocumentSequence(next)
			if !ok {
				return errors.New("wire: malformed OP_MSG document sequence")
			}
			sequences = append(sequences, sequence{name: name, docs: docs})
			rem = after
		default:
			return fmt.Errorf("wire: unknown OP_MSG section kind %d", stype)
		}
	}
	if body == nil {
		return errors.New("wire: OP_MSG without a body section")
	}
	if err := body.Validate(); err != nil {
		return fmt.Errorf("wire: OP_MSG body: %w", err)
	}
	if len(sequences) == 0 {
		req.command = body
		return nil
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	out = append(out, body[4:len(body)-1]...)
	for _, seq := range sequences {
		aidx, b := bsoncore.AppendArrayElementStart(out, seq.name)
		for i, d := range seq.docs {
			if err := d.Validate(); err != nil {
				return fmt.Errorf("wire: document %d of sequence %q: %w", i, seq.name, err)
			}
			b = bsoncore.AppendDocumentElement(b, arrayKey(i), d)
		}
		out, _ = bsoncore.AppendArrayEnd(b, aidx)
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	req.command = out
	return nil
}

// parseOpQuery reads the legacy OP_QUERY the driver still uses for its first handshake.
//
//nolint:staticcheck // OP_QUERY is deprecated for commands but drivers open connections with it.
func parseOpQuery(req *request, rem []byte) error {
	_, rem, ok := wiremessage.ReadQueryFlags(rem)
	if !ok {
		return errors.New("wire: OP_QUERY without flags")
	}
	req.collection, rem, ok = wiremessage.ReadQueryFullCollectionName(rem)
	if !ok {
		return errors.New("wire: OP_QUERY without collection name")
	}
	if _, rem, ok = wiremessage.ReadQueryNumberToSkip(rem); !ok {
		return errors.New("wire: OP_QUERY without numberToSkip")
	}
	if _, rem, ok = wiremessage.ReadQueryNumberToReturn(rem); !ok {
		return errors.New("wire: OP_QUERY without numberToReturn")
	}
	query, _, ok := wiremessage.ReadQueryQuery(rem)
	if !ok {
		return errors.New("wire: OP_QUERY without query document")
	}
	if err := query.Validate(); err != nil {
		return fmt.Errorf("wire: OP_QUERY query: %w", err)
	}
	// Drivers may wrap the command as {$query: {...}, $readPreference: ...}.
	if inner, ok := query.Lookup("$query").DocumentOK(); ok {
		query = inner
	}
	req.command = query
	return nil
}

// appendOpMsgReply appends an OP_MSG reply with a single body section.
func appendOpMsgReply(dst []byte, requestID, responseTo int32, moreToCome bool, body bsoncore.Document) []byte {
	idx, dst := wiremessage.AppendHeaderStart(dst, requestID, responseTo, wiremessage.OpMsg)
	var flags wiremessage.MsgFlag
	if moreToCome {
		flags |= wiremessage.MoreToCome
	}
	dst = wiremessage.AppendMsgFlags(dst, flags)
	dst = wiremessage.AppendMsgSectionType(dst, wiremessage.SingleDocument)
	dst = append(dst, body...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst)-int(idx)))
}

// appendOpReply appends the legacy OP_REPLY that answers an OP_QUERY.
func appendOpReply(dst []byte, requestID, responseTo int32, body bsoncore.Document) []byte {
	idx, dst := wiremessage.AppendHeaderStart(dst, requestID, responseTo, wiremessage.OpReply)
	dst = wiremessage.AppendReplyFlags(dst, wiremessage.AwaitCapable)
	dst = wiremessage.AppendReplyCursorID(dst, 0)
	dst = wiremessage.AppendReplyStartingFrom(dst, 0)
	dst = wiremessage.AppendReplyNumberReturned(dst, 1)
	dst = append(dst, body...)
	return bsoncore.UpdateLength(dst, idx, int32(len(dst)-int(idx)))
}

// arrayKey returns the BSON array key for index i without allocating for small indexes.
func arrayKey(i int) string {
	if i < len(smallKeys) {
		return smallKeys[i]
	}
	return fmt.Sprint(i)
}

var smallKeys = func() [256]string {
	var k [256]string
	for i := range k {
		k[i] = fmt.Sprint(i)
	}
	return k
}()

// opQuery is OP_QUERY (2004): deprecated for commands, still what drivers send for the first hello.
const opQuery wiremessage.OpCode = 2004
