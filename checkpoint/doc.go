// Package checkpoint owns siphon's durable state: one bbolt file,
// <state_dir>/siphon.db, holding every pipeline's source offset, its schema
// history and a small key/value space for resumable work such as snapshot
// progress.
//
// Guarantees:
//   - every write is one bbolt read-write transaction, fsynced before it
//     returns (NoSync stays false), so a kill -9 at any instant leaves either
//     the previous or the new checkpoint, never a mix;
//   - an offset's Seq grows by one on every save and never goes back, not
//     even across ResetOffset;
//   - schema history keys only grow;
//   - one process at a time: a second read-write Open on the same state dir
//     fails with ErrLocked naming the holder's pid (from <state_dir>/siphon.pid);
//   - the layout is versioned and a newer layout is refused, not guessed at.
//
// The freelist is not written to disk (NoFreelistSync) and is kept as a hash
// map: bbolt then marks each committed meta page "no freelist" and rebuilds
// the free pages on open by walking the tree reachable from the newest valid
// meta page. Recovery therefore depends only on the checksummed meta page,
// which bbolt writes and fsyncs after the data pages, exactly as without the
// option; etcd runs with the same settings. The cost is a full tree walk on
// open, which is negligible for a state file of this size.
//
// # On-disk layout (layout 1)
//
// This is a contract: a change that existing files cannot be read with
// requires a new layout number.
//
//	meta                         bucket
//	  layout                     "1" (ASCII decimal)
//	pipelines                    bucket
//	  <pipeline name>            bucket, created on the pipeline's first write
//	    offset                   bucket
//	      position               the source's position, a JSON object
//	      seq                    uint64, 8 bytes big-endian; saves so far
//	      updated_at             RFC 3339 UTC time with nanoseconds of the last save
//	    schema_history           bucket; key: source-defined, byte-ordered,
//	                             strictly increasing; value: source-defined
//	    state                    bucket; free-form keys owned by later features
//
// ResetOffset deletes position and updated_at and keeps seq, so a stored
// position is present exactly when a checkpoint exists.
package checkpoint
