package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/siphoncdc/siphon/pipeline"
)

// PipelineState is one pipeline's slice of the store. Handles are cheap
// and safe for concurrent use.
type PipelineState struct {
	store *Store
	name  string
}

var _ pipeline.OffsetStore = (*PipelineState)(nil)

// Offset is a pipeline's last checkpoint.
type Offset struct {
	Position  []byte // opaque, source-serialised JSON object
	Seq       uint64 // how many times an offset was saved for this pipeline; strictly increasing
	UpdatedAt time.Time
}

// Name is the pipeline's name.
func (p *PipelineState) Name() string { return p.name }

// LoadOffset returns the stored offset, or false when none is stored.
func (p *PipelineState) LoadOffset() (Offset, bool, error) {
	var (
		off   Offset
		found bool
	)
	err := p.view(bucketOffset, func(b *bbolt.Bucket) error {
		pos := b.Get(keyPosition)
		if pos == nil {
			return nil
		}
		var err error
		off, err = decodeOffset(pos, b.Get(keySeq), b.Get(keyUpdatedAt))
		found = err == nil
		return err
	})
	if err != nil {
		return Offset{}, false, p.errorf("load offset: %w", err)
	}
	return off, found, nil
}

// SaveOffset stores pos as the pipeline's checkpoint and increments its Seq,
// in one fsynced transaction. pos must be a JSON object. It satisfies
// pipeline.OffsetStore; pipeline.Position is a []byte.
func (p *PipelineState) SaveOffset(pos pipeline.Position) error {
	if !isJSONObject(pos) {
		return p.errorf("save offset: position is not a JSON object: %.64q", pos)
	}
	err := p.update(bucketOffset, func(b *bbolt.Bucket) error {
		seq, err := decodeSeq(b.Get(keySeq))
		if err != nil {
			return err
		}
		if err := b.Put(keyPosition, pos); err != nil {
			return err
		}
		if err := b.Put(keySeq, encodeSeq(seq+1)); err != nil {
			return err
		}
		return b.Put(keyUpdatedAt, []byte(p.store.now().UTC().Format(time.RFC3339Nano)))
	})
	if err != nil {
		return p.errorf("save offset: %w", err)
	}
	return nil
}

// ResetOffset forgets the stored position so the pipeline starts afresh
// (re-snapshot). Seq is kept so it never goes back.
func (p *PipelineState) ResetOffset() error {
	err := p.update(bucketOffset, func(b *bbolt.Bucket) error {
		if err := b.Delete(keyPosition); err != nil {
			return err
		}
		return b.Delete(keyUpdatedAt)
	})
	if err != nil {
		return p.errorf("reset offset: %w", err)
	}
	return nil
}

// Reset forgets everything the pipeline learnt about its source — the
// stored position, the schema history and the per-pipeline state — in one
// transaction, so that it starts again as if new. Seq is kept so it never
// goes back.
func (p *PipelineState) Reset() error {
	if p.name == "" {
		return errEmptyName
	}
	err := p.store.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPipelines)
		if b == nil {
			return nil
		}
		if b = b.Bucket([]byte(p.name)); b == nil {
			return nil
		}
		for _, sub := range [][]byte{bucketSchemaHistory, bucketState} {
			if b.Bucket(sub) != nil {
				if err := b.DeleteBucket(sub); err != nil {
					return err
				}
			}
		}
		if off := b.Bucket(bucketOffset); off != nil {
			if err := off.Delete(keyPosition); err != nil {
				return err
			}
			return off.Delete(keyUpdatedAt)
		}
		return nil
	})
	if err != nil {
		return p.errorf("reset: %w", err)
	}
	return nil
}

// AppendHistory appends one schema history entry. key must sort strictly
// after the last stored key (bytewise), otherwise the error wraps
// ErrHistoryOrder and nothing is written.
func (p *PipelineState) AppendHistory(key, value []byte) error {
	if len(key) == 0 {
		return p.errorf("append schema history: empty key")
	}
	err := p.update(bucketSchemaHistory, func(b *bbolt.Bucket) error {
		if last, _ := b.Cursor().Last(); last != nil && bytes.Compare(key, last) <= 0 {
			return fmt.Errorf("%w: key %q, last key %q", ErrHistoryOrder, key, last)
		}
		return b.Put(key, value)
	})
	if err != nil {
		return p.errorf("append schema history: %w", err)
	}
	return nil
}

// History calls fn for every schema history entry in ascending key order,
// inside one read transaction. key and value are only valid during the call
// to fn: copy them to keep them. The first error fn returns stops the
// iteration and is returned (wrapped, so errors.Is still finds it).
func (p *PipelineState) History(fn func(key, value []byte) error) error {
	err := p.view(bucketSchemaHistory, func(b *bbolt.Bucket) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := fn(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return p.errorf("schema history: %w", err)
	}
	return nil
}

// HistoryLen counts the schema history entries.
func (p *PipelineState) HistoryLen() (int, error) {
	n := 0
	err := p.view(bucketSchemaHistory, func(b *bbolt.Bucket) error {
		n = b.Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, p.errorf("schema history length: %w", err)
	}
	return n, nil
}

// Get reads key from the pipeline's free-form state; the value is a copy.
func (p *PipelineState) Get(key string) ([]byte, bool, error) {
	var (
		value []byte
		found bool
	)
	err := p.view(bucketState, func(b *bbolt.Bucket) error {
		if v := b.Get([]byte(key)); v != nil {
			value, found = bytes.Clone(v), true
		}
		return nil
	})
	if err != nil {
		return nil, false, p.errorf("get state %q: %w", key, err)
	}
	return value, found, nil
}

// Put writes key in the pipeline's free-form state.
func (p *PipelineState) Put(key string, value []byte) error {
	return p.PutMany(map[string][]byte{key: value})
}

// PutMany writes all of kv in one transaction.
func (p *PipelineState) PutMany(kv map[string][]byte) error {
	if len(kv) == 0 {
		return nil
	}
	for k := range kv {
		if k == "" {
			return p.errorf("put state: empty key")
		}
	}
	err := p.update(bucketState, func(b *bbolt.Bucket) error {
		for k, v := range kv {
			if v == nil {
				v = []byte{} // bbolt stores nil as empty; say so explicitly
			}
			if err := b.Put([]byte(k), v); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return p.errorf("put state: %w", err)
	}
	return nil
}

// view runs fn on the pipeline's sub-bucket, or does nothing when it does
// not exist yet.
func (p *PipelineState) view(sub []byte, fn func(*bbolt.Bucket) error) error {
	if p.name == "" {
		return errEmptyName
	}
	return p.store.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketPipelines)
		if b == nil {
			return nil
		}
		if b = b.Bucket([]byte(p.name)); b == nil {
			return nil
		}
		if b = b.Bucket(sub); b == nil {
			return nil
		}
		return fn(b)
	})
}

// update runs fn on the pipeline's sub-bucket, creating the buckets on the
// way, in one read-write transaction.
func (p *PipelineState) update(sub []byte, fn func(*bbolt.Bucket) error) error {
	if p.name == "" {
		return errEmptyName
	}
	return p.store.db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketPipelines)
		if err != nil {
			return err
		}
		if b, err = b.CreateBucketIfNotExists([]byte(p.name)); err != nil {
			return err
		}
		if b, err = b.CreateBucketIfNotExists(sub); err != nil {
			return err
		}
		return fn(b)
	})
}

var errEmptyName = errors.New("empty pipeline name")

func (p *PipelineState) errorf(format string, args ...any) error {
	return fmt.Errorf("checkpoint: pipeline %q: "+format, append([]any{p.name}, args...)...)
}

func encodeSeq(n uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
}

// decodeSeq reads a stored seq; a missing seq is 0.
func decodeSeq(raw []byte) (uint64, error) {
	if raw == nil {
		return 0, nil
	}
	if len(raw) != 8 {
		return 0, fmt.Errorf("corrupt seq: %d bytes, want 8", len(raw))
	}
	return binary.BigEndian.Uint64(raw), nil
}

// decodeOffset builds an Offset from the stored values, copying them out of
// the transaction's memory.
func decodeOffset(position, seq, updatedAt []byte) (Offset, error) {
	n, err := decodeSeq(seq)
	if err != nil {
		return Offset{}, err
	}
	if seq == nil {
		return Offset{}, errors.New("corrupt offset: position without seq")
	}
	at, err := time.Parse(time.RFC3339Nano, string(updatedAt))
	if err != nil {
		return Offset{}, fmt.Errorf("corrupt offset: updated_at %q: %w", updatedAt, err)
	}
	return Offset{Position: bytes.Clone(position), Seq: n, UpdatedAt: at}, nil
}

func isJSONObject(b []byte) bool {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(b)
}
