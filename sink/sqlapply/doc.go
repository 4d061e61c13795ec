// Package sqlapply owns what the database sinks (sink/postgres, sink/mysql)
// share: the apply engine and its guarantees. A Dialect supplies the SQL of
// one target engine; this package decides when and how it runs.
//
// It owns transaction alignment (a batch's events up to its last TxEnd are
// committed with the batch position in the target's checkpoint table, in
// the same target transaction; events after it stay in an open target
// transaction that the next Write continues), the checkpoint rows and the
// resume arithmetic that makes a crash replay nothing twice, the split of
// events into multi-row runs, the workers of `consistency: key`, retries
// with backoff across target restarts (replaying the open transaction from
// memory or restarting the pipeline from its checkpoint), the search for
// the one event a statement failed on, the dead-letter file, the mapping
// of source columns to logical kinds and target tables, and the schema
// policy (create, evolve, strict, ignore).
package sqlapply
