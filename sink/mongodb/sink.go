package mongodb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/siphoncdc/siphon/pipeline"
	"github.com/siphoncdc/siphon/pipeline/debezium"
	"github.com/siphoncdc/siphon/sink/sqlapply"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Config configures a MongoDB sink.
type Config struct {
	URL      string // mongodb://host:port/?replicaSet=rs0
	Database string // every collection goes into it
	Log      *slog.Logger
}

// Sink writes events to MongoDB. It implements pipeline.Sink.
type Sink struct {
	cfg    Config
	client *mongo.Client
	db     *mongo.Database
	log    *slog.Logger
}

// New connects lazily: the first Write fails if the server is unreachable.
func New(cfg Config) (*Sink, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	opts := options.Client().ApplyURI(cfg.URL)
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("mongodb sink: url: %w", err)
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("mongodb sink: %w", err)
	}
	db := client.Database(cfg.Database, options.Database().SetWriteConcern(writeconcern.Majority()))
	return &Sink{cfg: cfg, client: client, db: db, log: cfg.Log.With("sink", "mongodb", "database", cfg.Database)}, nil
}

// Close disconnects.
func (s *Sink) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return s.client.Disconnect(ctx)
}

// maxModels bounds one bulk write; the driver splits larger ones anyway.
const maxModels = 1000

// Write applies the batch: consecutive events of one collection go in one
// ordered bulk write, collections one after another, so every key sees its
// events in source order.
func (s *Sink) Write(ctx context.Context, b *pipeline.Batch) error {
	var (
		coll   string
		models []mongo.WriteModel
		first  int
	)
	flush := func(upTo int) error {
		if len(models) == 0 {
			return nil
		}
		if err := s.bulkWrite(ctx, coll, models); err != nil {
			return s.writeError(b, first, upTo, coll, models, err)
		}
		models = models[:0]
		return nil
	}
	for i := range b.Events {
		e := &b.Events[i]
		name := e.Table.ID.Name
		if name != coll || len(models) >= maxModels {
			if err := flush(i); err != nil {
				return err
			}
			coll, first = name, i
		}
		m, err := s.model(e)
		if err != nil {
			return fmt.Errorf("mongodb sink: table %s, event %d of the batch (op %c): %w", e.Table.ID, i, e.Op, err)
		}
		if m != nil {
			models = append(models, m)
		}
	}
	return flush(len(b.Events))
}

// Reconnect backoff while the target is unavailable, as for the SQL targets.
const (
	minBackoff = time.Second
	maxBackoff = 30 * time.Second
)

// bulkWrite applies models in order, retrying while the target is
// unavailable (the pipeline holds the source back meanwhile). Every model
// is an upsert, a replacement, a $set/$unset of fields or a delete by _id:
// writing a bulk that partly succeeded once more leaves the same documents.
func (s *Sink) bulkWrite(ctx context.Context, coll string, models []mongo.WriteModel) error {
	var wait time.Duration // the first retry at once: a cut connection
	for {
		_, err := s.db.Collection(coll).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(true))
		if err == nil || ctx.Err() != nil || !transient(err) {
			return err
		}
		s.log.Warn("target unavailable, retrying", "collection", coll, "retry_in", wait, "error", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
		wait = min(max(2*wait, minBackoff), maxBackoff)
	}
}

// transient reports an error after which the same write may succeed: a
// network error or timeout, no server to select, a cleared connection pool,
// a primary stepping down or shutting down.
func transient(err error) bool {
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, new(topology.ServerSelectionError)) {
		return true
	}
	var pool interface{ Retryable() bool } // the connection pool was cleared under the write
	if errors.As(err, &pool) && pool.Retryable() {
		return true
	}
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	if se.HasErrorLabel("RetryableWriteError") || se.HasErrorLabel("TransientTransactionError") {
		return true
	}
	// The server's codes of a failover or a shutdown: HostUnreachable,
	// HostNotFound, NetworkTimeout, ShutdownInProgress, PrimarySteppedDown,
	// ExceededTimeLimit, SocketException, NotWritablePrimary,
	// InterruptedAtShutdown, InterruptedDueToReplStateChange,
	// NotPrimaryNoSecondaryOk, NotPrimaryOrSecondary.
	for _, code := range [...]int{6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436} {
		if se.HasErrorCode(code) {
			return true
		}
	}
	return false
}

// writeError names the event a bulk write failed on.
func (s *Sink) writeError(b *pipeline.Batch, first, upTo int, coll string, models []mongo.WriteModel, err error) error {
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 {
		we := bwe.WriteErrors[0]
		return fmt.Errorf("mongodb sink: collection %s.%s, write %d of %d (events %d–%d of the batch): %w",
			s.cfg.Database, coll, we.Index, len(models), first, upTo-1, err)
	}
	return fmt.Errorf("mongodb sink: collection %s.%s (events %d–%d of the batch): %w", s.cfg.Database, coll, first, upTo-1, err)
}

// model turns one event into a write; nil for events with nothing to write.
func (s *Sink) model(e *pipeline.Event) (mongo.WriteModel, error) {
	if debezium.IsMongo(e) {
		return mongoModel(e)
	}
	return relationalModel(e)
}

func member(row pipeline.Row, i int) bson.Raw {
	if len(row) <= i || row[i].Kind() != pipeline.KindBytes {
		return nil
	}
	return row[i].AsBytes()
}

// mongoModel writes a MongoDB source event back as it was.
func mongoModel(e *pipeline.Event) (mongo.WriteModel, error) {
	switch e.Op {
	case pipeline.OpDelete:
		id := member(e.Before, debezium.MongoID)
		if id == nil {
			return nil, errors.New("delete without _id")
		}
		return mongo.NewDeleteOneModel().SetFilter(id), nil
	case pipeline.OpCreate, pipeline.OpUpdate, pipeline.OpRead:
		id := member(e.After, debezium.MongoID)
		if id == nil {
			return nil, errors.New("event without _id")
		}
		if doc := member(e.After, debezium.MongoDocument); doc != nil {
			return mongo.NewReplaceOneModel().SetFilter(id).SetReplacement(doc).SetUpsert(true), nil
		}
		update := member(e.After, debezium.MongoUpdate)
		if update == nil {
			return nil, errors.New("update with neither the document nor an updateDescription")
		}
		return updateModel(id, update)
	}
	return nil, fmt.Errorf("operation %c is not supported for MongoDB events", e.Op)
}

// updateModel applies an updateDescription: the document was gone when
// the event was read (updateLookup found nothing), so a later delete
// follows; the update keeps the target right until then.
func updateModel(id, update bson.Raw) (mongo.WriteModel, error) {
	ud := bsoncore.Document(update)
	if arr, ok := ud.Lookup("truncatedArrays").ArrayOK(); ok && len(arr) > 5 {
		return nil, errors.New("update with truncatedArrays and no looked-up document cannot be applied: use full_document: update_lookup on a server that returns the document")
	}
	var set, unset bson.D
	if upd, ok := ud.Lookup("updatedFields").DocumentOK(); ok {
		elems, _ := upd.Elements()
		for _, el := range elems {
			set = append(set, bson.E{Key: el.Key(), Value: bson.RawValue{Type: bson.Type(el.Value().Type), Value: el.Value().Data}})
		}
	}
	if arr, ok := ud.Lookup("removedFields").ArrayOK(); ok {
		vals, _ := arr.Values()
		for _, v := range vals {
			if f, ok := v.StringValueOK(); ok {
				unset = append(unset, bson.E{Key: f, Value: ""})
			}
		}
	}
	var doc bson.D
	if len(set) > 0 {
		doc = append(doc, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		doc = append(doc, bson.E{Key: "$unset", Value: unset})
	}
	if len(doc) == 0 {
		return nil, nil
	}
	return mongo.NewUpdateOneModel().SetFilter(id).SetUpdate(doc), nil
}

// relationalModel writes a row as a document keyed by the table's key.
func relationalModel(e *pipeline.Event) (mongo.WriteModel, error) {
	t := e.Table
	switch e.Op {
	case pipeline.OpTruncate:
		return mongo.NewDeleteManyModel().SetFilter(bson.D{}), nil
	case pipeline.OpDelete:
		id, err := documentID(t, e.Before)
		if err != nil {
			return nil, err
		}
		return mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}), nil
	case pipeline.OpCreate, pipeline.OpUpdate, pipeline.OpRead:
		id, err := documentID(t, e.After)
		if err != nil {
			return nil, err
		}
		doc := bson.D{{Key: "_id", Value: id}}
		partial := false
		for i, c := range t.Columns {
			if i >= len(e.After) {
				break
			}
			if sqlapply.IsPlaceholder(e.After[i]) {
				// An unchanged TOASTed PostgreSQL value that was not
				// sent: keep what the target holds.
				partial = true
				continue
			}
			v, err := toBSON(e.After[i], c.Schema)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", c.Name, err)
			}
			doc = append(doc, bson.E{Key: c.Name, Value: v})
		}
		filter := bson.D{{Key: "_id", Value: id}}
		if partial {
			return mongo.NewUpdateOneModel().SetFilter(filter).SetUpdate(bson.D{{Key: "$set", Value: doc[1:]}}).SetUpsert(true), nil
		}
		return mongo.NewReplaceOneModel().SetFilter(filter).SetReplacement(doc).SetUpsert(true), nil
	case pipeline.OpMessage:
		return nil, nil
	}
	return nil, fmt.Errorf("operation %c is not supported", e.Op)
}

// documentID is the _id of a row: the key column's value, or a
// subdocument of the key columns for a composite key.
func documentID(t *pipeline.Table, row pipeline.Row) (any, error) {
	if len(t.Key) == 0 {
		return nil, fmt.Errorf("table has no primary key: a MongoDB document needs one for its _id")
	}
	if row == nil {
		return nil, errors.New("event has no row image")
	}
	if len(t.Key) == 1 {
		c := t.Key[0]
		return toBSON(row[c], t.Columns[c].Schema)
	}
	id := make(bson.D, 0, len(t.Key))
	for _, c := range t.Key {
		v, err := toBSON(row[c], t.Columns[c].Schema)
		if err != nil {
			return nil, fmt.Errorf("key column %s: %w", t.Columns[c].Name, err)
		}
		id = append(id, bson.E{Key: t.Columns[c].Name, Value: v})
	}
	return id, nil
}

// toBSON converts a Connect value to the BSON value stored for it.
func toBSON(v pipeline.Value, s *pipeline.Schema) (any, error) {
	switch v.Kind() {
	case pipeline.KindNull:
		return nil, nil
	case pipeline.KindBool:
		return v.AsBool(), nil
	case pipeline.KindInt:
		if s != nil && (s.Type == pipeline.TypeInt8 || s.Type == pipeline.TypeInt16 || s.Type == pipeline.TypeInt32) {
			return int32(v.AsInt()), nil
		}
		return v.AsInt(), nil
	case pipeline.KindFloat32, pipeline.KindFloat64:
		return v.AsFloat64(), nil
	case pipeline.KindString:
		return v.AsString(), nil
	case pipeline.KindBytes:
		if s != nil && s.Name == "org.apache.kafka.connect.data.Decimal" {
			scale := 0
			if p, ok := s.Param("scale"); ok {
				_, _ = fmt.Sscan(p, &scale)
			}
			return decimal(v.AsBytes(), scale)
		}
		return bson.Binary{Subtype: 0, Data: append([]byte(nil), v.AsBytes()...)}, nil
	case pipeline.KindStruct:
		if s != nil && s.Name == "io.debezium.data.VariableScaleDecimal" {
			f := v.Elems()
			if len(f) == 2 {
				return decimal(f[1].AsBytes(), int(f[0].AsInt()))
			}
		}
		var fields []pipeline.Field
		if s != nil {
			fields = s.Fields
		}
		doc := bson.D{}
		for i, e := range v.Elems() {
			name := fmt.Sprintf("f%d", i)
			var fs *pipeline.Schema
			if i < len(fields) {
				name, fs = fields[i].Name, fields[i].Schema
			}
			x, err := toBSON(e, fs)
			if err != nil {
				return nil, err
			}
			doc = append(doc, bson.E{Key: name, Value: x})
		}
		return doc, nil
	case pipeline.KindArray:
		var items *pipeline.Schema
		if s != nil {
			items = s.Items
			if s.Type == pipeline.TypeMap {
				return mapDoc(v, s)
			}
		}
		arr := bson.A{}
		for _, e := range v.Elems() {
			x, err := toBSON(e, items)
			if err != nil {
				return nil, err
			}
			arr = append(arr, x)
		}
		return arr, nil
	}
	return nil, fmt.Errorf("value of kind %d", v.Kind())
}

func mapDoc(v pipeline.Value, s *pipeline.Schema) (any, error) {
	doc := bson.D{}
	for _, entry := range v.Elems() {
		kv := entry.Elems()
		if len(kv) != 2 {
			return nil, errors.New("malformed map entry")
		}
		val, err := toBSON(kv[1], s.Values)
		if err != nil {
			return nil, err
		}
		doc = append(doc, bson.E{Key: kv[0].AsString(), Value: val})
	}
	return doc, nil
}

// decimal converts a Connect decimal to Decimal128; values beyond its 34
// digits are kept exactly as a string.
func decimal(unscaled []byte, scale int) (any, error) {
	text := string(sqlapply.AppendDecimal(nil, unscaled, scale))
	if d, err := bson.ParseDecimal128(text); err == nil {
		return d, nil
	}
	return text, nil
}
