// Package snapshot is siphon's snapshot engine, shared by every source: it
// reads tables in key-ordered chunks with a source's Reader, in parallel,
// and merges the chunks into the source's change stream at their
// watermarks so that the result is consistent with the source's history
// (DBLog's method; see docs/snapshots.md).
//
// The engine owns the plan (tables, key ranges), the workers, the merge
// (pending chunks, keys changed since a chunk's low watermark, snapshot
// markers) and the progress State that the source embeds in its position,
// so that progress is checkpointed atomically with the stream. It knows
// nothing about SQL or logs: positions are uint64 watermarks the source
// defines (a MySQL binlog coordinate, a PostgreSQL LSN, a MongoDB cluster
// time), cursors are opaque bytes the Reader defines.
package snapshot
