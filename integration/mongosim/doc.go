// Package mongosim is a MongoDB replica-set simulator for tests: a single-node replica set named
// rs0 that the unmodified official Go driver connects to over the wire protocol, backed by an
// in-memory store and an ordered change log with change streams.
//
// It owns the test bed of issue 6: siphon's MongoDB source and sink are tested against it (and
// against embedded FerretDB and a real mongod when MONGO_TEST_URI is set), because no MongoDB
// server can be installed on the build machines.
//
// # What it models
//
// Every reply is shaped after MongoDB 7.0 (maxWireVersion 21) on a replica set without
// authentication, field for field and in the server's order; each reply builder names its source:
//
//   - hello / legacy isMaster (OP_QUERY for the driver's first handshake, OP_MSG after), including
//     the awaitable exhaust form the driver's streaming monitor uses: real `db.hello()` output of
//     7.0 replica-set primaries.
//   - Cursor replies {firstBatch|nextBatch, postBatchResumeToken, id, ns}: CursorResponseBuilder;
//     listCollections/listIndexes {id, ns, firstBatch}: appendCursorResponseObject.
//   - Write replies {n, electionId, opTime, writeErrors, upserted, nModified}: the 7.0 IDL reply
//     types (write_ops.idl); errors {ok: 0, errmsg, code, codeName, errorLabels}.
//   - Change events: change_stream_event_transform.cpp, document_source_change_stream_add_pre_image
//     /_add_post_image/_check_invalidate.cpp. Note the server's own order: a transaction's events
//     start with txnNumber and lsid (before _id), a rename's "to" precedes _id, fullDocument follows
//     wallTime, fullDocumentBeforeChange comes last. lsid carries uid = SHA-256("") as in a real
//     oplog without authentication. Update descriptions follow the "$v: 2" diff format's parse
//     order (removed, updated, inserted, then nested paths; $push appends reported as "arr.N").
//   - Resume tokens are {_data: "<hex>"} starting with "82" and the cluster time as real tokens
//     do, but the rest is the simulator's own layout (not KeyString); they order as the stream.
//   - Errors use the server's codes and messages: ChangeStreamHistoryLost (286),
//     InvalidResumeToken (260), CursorNotFound (43), NoSuchTransaction (251, with
//     TransientTransactionError), DuplicateKey (11000, with keyPattern/keyValue), ...
//
// # What it does not model
//
// Authentication, TLS, compression, secondary indexes (accepted and listed, not used or
// enforced), collations, most aggregation stages (a $changeStream may be followed by $match only;
// plain pipelines support $match, $sort, $skip, $limit, $project, $count and countDocuments'
// $group), projections beyond top-level include/exclude, arrayFilters, cross-database renames,
// sharding. Transactions use snapshot isolation with first-committer-wins conflict detection at
// commit (a real server reports WriteConflict at the conflicting write instead).
//
// # Fault injection
//
// From Go: FailCommand (the failCommand fail point, plus AfterExecute to lose a reply after the
// work was done), DropConnections, KillAllCursors (CursorNotFound on the next getMore),
// TruncateHistory (ChangeStreamHistoryLost), SetReplyDelay; invalidate events come from dropping
// or renaming a watched collection or dropping its database. Over the wire: configureFailPoint
// with failCommand, as on a mongod started with enableTestCommands.
package mongosim
