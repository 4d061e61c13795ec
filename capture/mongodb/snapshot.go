package mongodb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/siphoncdc/siphon/capture/snapshot"
	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// snapReader reads collections in _id order for the snapshot engine.
//
// Range queries on _id only match values of the operand's type bracket
// (numbers, strings, objects, …), so a collection is read bracket by
// bracket in the server's sort order: a cursor is the bracket and the last
// _id read in it. Brackets that hold at most one document per value
// (MinKey, null, NaN, MaxKey) are read by equality.
type snapReader struct {
	client *mongo.Client
	// noKeyBrackets skips the MinKey, MaxKey and NaN brackets on servers
	// that cannot store those values and drop the connection when a
	// query holds one (FerretDB 1.x).
	noKeyBrackets bool
}

// newSnapReader probes the server for what the reader must avoid.
func newSnapReader(ctx context.Context, client *mongo.Client) *snapReader {
	r := &snapReader{client: client}
	info, err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Raw()
	if err == nil {
		if _, err := info.LookupErr("ferretdbVersion"); err == nil {
			r.noKeyBrackets = true
		}
	}
	return r
}

// bracket is one _id type bracket: eq selects its documents by equality,
// otherwise gte is the smallest value of the bracket.
type bracket struct {
	eq  any
	gte any
}

var brackets = []bracket{
	{eq: bson.MinKey{}},
	{eq: bson.Null{}},
	{eq: math.NaN()},
	{gte: math.Inf(-1)},
	{gte: ""},
	{gte: bson.D{}},
	{gte: bson.Binary{Subtype: 0, Data: []byte{}}},
	{gte: bson.ObjectID{}},
	{gte: false},
	{gte: bson.DateTime(math.MinInt64)},
	{gte: bson.Timestamp{}},
	{eq: bson.MaxKey{}},
}

// cursor is the position of a read: the bracket index and, once a
// document of it was read, its last _id.
type cursor struct {
	Bracket int32    `bson:"b"`
	Last    bson.Raw `bson:"v,omitempty"` // {_id: …}
}

// Split cuts a collection into up to n ranges at the _ids found every
// count/n documents in _id order (bounds are cursors: a bracket and an
// _id). Small collections, and servers without skip in sorted finds,
// stay one range.
func (r *snapReader) Split(ctx context.Context, t *snapshot.Table, n int) ([]snapshot.Range, error) {
	if n <= 1 || t.Estimate < int64(n)*1000 {
		return []snapshot.Range{{}}, nil
	}
	coll := r.client.Database(t.Schema.ID.Database).Collection(t.Schema.ID.Name)
	step := t.Estimate / int64(n)
	var bounds [][]byte
	for i := 1; i < n; i++ {
		opts := options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}}).SetSkip(step * int64(i)).SetProjection(bson.D{{Key: "_id", Value: 1}})
		raw, err := coll.FindOne(ctx, bson.D{}, opts).Raw()
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return []snapshot.Range{{}}, nil //nolint:nilerr // splitting is an optimisation: read as one range
		}
		id, err := idDocument(raw)
		if err != nil {
			return []snapshot.Range{{}}, nil //nolint:nilerr // as above
		}
		b := bracketOf(id)
		if b < 0 || r.noKeyBrackets && isKeyBracket(brackets[b]) {
			return []snapshot.Range{{}}, nil
		}
		c, err := bson.Marshal(cursor{Bracket: int32(b), Last: id})
		if err != nil {
			return nil, err
		}
		if len(bounds) > 0 && bytes.Equal(bounds[len(bounds)-1], c) {
			continue
		}
		bounds = append(bounds, c)
	}
	ranges := make([]snapshot.Range, 0, len(bounds)+1)
	var from []byte
	for _, b := range bounds {
		ranges = append(ranges, snapshot.Range{From: from, To: b})
		from = b
	}
	return append(ranges, snapshot.Range{From: from}), nil
}

// bracketOf returns the index in brackets of an {_id: …} document's value.
func bracketOf(id []byte) int {
	v, err := bsoncore.Document(id).LookupErr("_id")
	if err != nil {
		return -1
	}
	switch v.Type {
	case bsoncore.TypeMinKey:
		return 0
	case bsoncore.TypeNull:
		return 1
	case bsoncore.TypeDouble:
		if math.IsNaN(v.Double()) {
			return 2
		}
		return 3
	case bsoncore.TypeInt32, bsoncore.TypeInt64, bsoncore.TypeDecimal128:
		return 3
	case bsoncore.TypeString, bsoncore.TypeSymbol:
		return 4
	case bsoncore.TypeEmbeddedDocument:
		return 5
	case bsoncore.TypeBinary:
		return 6
	case bsoncore.TypeObjectID:
		return 7
	case bsoncore.TypeBoolean:
		return 8
	case bsoncore.TypeDateTime:
		return 9
	case bsoncore.TypeTimestamp:
		return 10
	case bsoncore.TypeMaxKey:
		return 11
	}
	return -1
}

func (r *snapReader) OpenScan(ctx context.Context, t *snapshot.Table, floor uint64) (snapshot.Scan, error) {
	return nil, errors.New("mongodb: every collection has an _id key: no scans")
}

func (r *snapReader) ReadChunk(ctx context.Context, t *snapshot.Table, rg snapshot.Range, after []byte, limit int, floor uint64) (*snapshot.Chunk, error) {
	var cur cursor
	if after == nil {
		after = rg.From
	}
	if after != nil {
		if err := bson.Unmarshal(after, &cur); err != nil {
			return nil, fmt.Errorf("mongodb: snapshot cursor of %s: %w", t.Name, err)
		}
	}
	end := cursor{Bracket: int32(len(brackets))}
	if rg.To != nil {
		if err := bson.Unmarshal(rg.To, &end); err != nil {
			return nil, fmt.Errorf("mongodb: snapshot range of %s: %w", t.Name, err)
		}
	}
	coll := r.client.Database(t.Schema.ID.Database).Collection(t.Schema.ID.Name)
	sess, err := r.client.StartSession()
	if err != nil {
		return nil, fmt.Errorf("mongodb: snapshot of %s: %w", t.Name, err)
	}
	defer sess.EndSession(ctx)
	sctx := mongo.NewSessionContext(ctx, sess)
	chunk := &snapshot.Chunk{Low: floor, High: floor, More: true}
	for cur.Bracket <= end.Bracket && int(cur.Bracket) < len(brackets) && len(chunk.Rows) < limit {
		b := brackets[cur.Bracket]
		if r.noKeyBrackets && isKeyBracket(b) {
			cur = cursor{Bracket: cur.Bracket + 1}
			continue
		}
		var filter bson.D
		switch {
		case b.eq != nil && cur.Last != nil:
			cur = cursor{Bracket: cur.Bracket + 1}
			continue
		case b.eq != nil:
			filter = bson.D{{Key: "_id", Value: b.eq}}
		case cur.Last != nil:
			filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: cur.Last.Lookup("_id")}}}}
		default:
			filter = bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: b.gte}}}}
		}
		if cur.Bracket == end.Bracket && end.Last != nil && b.eq == nil {
			// The range ends inside this bracket.
			filter[0].Value = append(filter[0].Value.(bson.D), bson.E{Key: "$lte", Value: end.Last.Lookup("_id")})
		}
		want := limit - len(chunk.Rows)
		opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(want)).SetBatchSize(int32(want))
		c, err := coll.Find(sctx, filter, opts)
		if err != nil {
			return nil, fmt.Errorf("mongodb: snapshot of %s: %w", t.Name, err)
		}
		n := 0
		for c.Next(sctx) {
			doc := append([]byte(nil), c.Current...)
			id, err := idDocument(doc)
			if err != nil {
				_ = c.Close(ctx)
				return nil, fmt.Errorf("mongodb: snapshot of %s: %w", t.Name, err)
			}
			if !sameBracket(b, id) {
				continue // NaN matched by a numeric bound on some servers
			}
			chunk.Rows = append(chunk.Rows, debezium.MongoRow(id, doc, nil))
			cur.Last = id
			n++
		}
		err = c.Err()
		_ = c.Close(ctx)
		if err != nil {
			return nil, fmt.Errorf("mongodb: snapshot of %s: %w", t.Name, err)
		}
		if ot := sess.OperationTime(); ot != nil {
			chunk.High = max(chunk.High, uint64(ot.T)<<32|uint64(ot.I))
		}
		if n < want {
			cur = cursor{Bracket: cur.Bracket + 1}
		}
	}
	if int(cur.Bracket) >= len(brackets) || cur.Bracket > end.Bracket {
		chunk.More = false
	}
	if len(chunk.Rows) > 0 || chunk.More {
		last, err := bson.Marshal(cur)
		if err != nil {
			return nil, err
		}
		chunk.Last = last
	}
	if len(chunk.Rows) == 0 {
		chunk.Last = nil
		if chunk.More {
			// Nothing read but brackets remain: cannot happen, as the loop
			// only ends early with rows.
			chunk.More = false
		}
	}
	return chunk, nil
}

func isKeyBracket(b bracket) bool {
	switch b.eq.(type) {
	case bson.MinKey, bson.MaxKey, float64:
		return true
	}
	return false
}

// sameBracket filters documents an equality or range query returned that
// belong to another bracket (a NaN among numbers).
func sameBracket(b bracket, id []byte) bool {
	v, err := bsoncore.Document(id).LookupErr("_id")
	if err != nil {
		return false
	}
	if f, ok := v.DoubleOK(); ok && math.IsNaN(f) {
		_, nan := b.eq.(float64)
		return nan
	}
	return true
}

var _ snapshot.Reader = (*snapReader)(nil)
var _ pipeline.Source = (*Source)(nil)
