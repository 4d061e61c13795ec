// Package postgres captures changes from PostgreSQL through logical
// replication with the built-in pgoutput plugin.
//
// It owns the connections to the server (a replication connection that
// streams the slot, and query connections for the catalogue and snapshots,
// all with the session settings package pgtype's decoders assume), the
// decoding of pgoutput messages (protocol 2 with streaming of large
// in-progress transactions on PostgreSQL ≥ 14, protocol 1 before), the
// spill files that hold streamed transactions until they commit, the
// translation of RELATION and row messages into pipeline events with
// Debezium's PostgreSQL source block, the source position (Debezium's
// offset map: lsn, txId, ts_usec, lsn_proc, lsn_commit), slot and
// publication management, the PostgreSQL side of the shared snapshot
// engine, and the `siphon check` prerequisites.
//
// RELATION messages are authoritative for a table's column names, types
// and type modifiers; nullability, defaults and the key come from the
// catalogue (pg_attribute, pg_attrdef, pg_index), read when a RELATION
// message arrives. Types resolve with pgtype.Lookup first, then pg_type.
//
// The slot is told a position (standby status update) only once that
// position is checkpointed: the server keeps every change siphon has not
// durably delivered.
package postgres
