package mongodb

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Position is where the change stream resumes: Debezium's MongoDB offset
// map (SPEC §7.4) — clusterTime seconds and increment of the last event
// and the resume token, base64 of its BSON document — plus the progress
// of a snapshot in flight.
type Position struct {
	Sec         uint32          `json:"sec"`
	Ord         uint32          `json:"ord"`
	ResumeToken string          `json:"resume_token,omitempty"`
	Snapshot    *snapshot.State `json:"snapshot,omitempty"`
}

// Encode serialises the position for the checkpoint store.
func (p Position) Encode() pipeline.Position {
	b, _ := json.Marshal(p)
	return b
}

// DecodePosition parses a stored position.
func DecodePosition(b pipeline.Position) (Position, error) {
	var p Position
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("position %s: %w", b, err)
	}
	if p.ResumeToken != "" {
		if _, err := p.Token(); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Token returns the resume token document, nil when the position has none.
func (p Position) Token() (bson.Raw, error) {
	if p.ResumeToken == "" {
		return nil, nil
	}
	raw, err := base64.StdEncoding.DecodeString(p.ResumeToken)
	if err == nil && bson.Raw(raw).Validate() == nil {
		return raw, nil
	}
	// Offsets written before Debezium 2.7 hold the token's _data hex string.
	if _, herr := hex.DecodeString(p.ResumeToken); herr == nil {
		return bson.Marshal(bson.D{{Key: "_data", Value: p.ResumeToken}})
	}
	return nil, fmt.Errorf("position: resume_token is neither base64 BSON nor a hex _data string")
}

// ClusterTime is the position as one ordered number: seconds in the high
// half, the increment in the low one.
func (p Position) ClusterTime() uint64 { return uint64(p.Sec)<<32 | uint64(p.Ord) }

func (p Position) String() string {
	if p.ResumeToken == "" {
		return fmt.Sprintf("clusterTime %d.%d", p.Sec, p.Ord)
	}
	return fmt.Sprintf("clusterTime %d.%d token %s", p.Sec, p.Ord, tokenData(p))
}

func tokenData(p Position) string {
	tok, err := p.Token()
	if err != nil || tok == nil {
		return ""
	}
	s, _ := tok.Lookup("_data").StringValueOK()
	return s
}

// positionAt builds the position of a resume token.
func positionAt(token bson.Raw) Position {
	p := Position{ResumeToken: base64.StdEncoding.EncodeToString(token)}
	if ct, ok := tokenClusterTime(token); ok {
		p.Sec, p.Ord = uint32(ct>>32), uint32(ct)
	}
	return p
}

// tokenClusterTime reads the cluster time a resume token starts with: its
// _data is hex KeyString, a 0x82 type byte then the timestamp's seconds
// and increment, big-endian (the simulator keeps that prefix too).
func tokenClusterTime(token bson.Raw) (uint64, bool) {
	data, ok := token.Lookup("_data").StringValueOK()
	if !ok || len(data) < 18 || data[:2] != "82" {
		return 0, false
	}
	b, err := hex.DecodeString(data[2:18])
	if err != nil {
		return 0, false
	}
	var ct uint64
	for _, x := range b {
		ct = ct<<8 | uint64(x)
	}
	return ct, true
}

// ComparePositions implements pipeline.PositionComparer: by cluster time,
// then by the tokens' KeyString bytes, which order as the stream.
func (s *Source) ComparePositions(a, b pipeline.Position) (int, error) {
	pa, err := DecodePosition(a)
	if err != nil {
		return 0, err
	}
	pb, err := DecodePosition(b)
	if err != nil {
		return 0, err
	}
	switch ca, cb := pa.ClusterTime(), pb.ClusterTime(); {
	case ca < cb:
		return -1, nil
	case ca > cb:
		return 1, nil
	}
	return bytes.Compare([]byte(tokenData(pa)), []byte(tokenData(pb))), nil
}

func encodeToken(token []byte) string { return base64.StdEncoding.EncodeToString(token) }
