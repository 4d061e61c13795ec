// Package postgres owns the PostgreSQL sink: the PostgreSQL dialect of the
// database apply engine in sink/sqlapply. It connects with pgx, reads the
// catalogue, maps source columns to PostgreSQL types (docs/type-mapping.md),
// encodes values in PostgreSQL's text forms and writes runs of events as
// set-based statements over unnest() of text arrays, cast to each target
// column's type, so that one prepared statement per table version and
// operation serves any number of rows; large runs of new rows are tried
// as a COPY first (under a savepoint, falling back to the statement when a
// key exists) — or, while the apply engine allows it, as a COPY that stays
// open across writes and commit points (stream.go, copy_merge).
// Statements, savepoints, the checkpoint row and COMMIT are pipelined into
// as few round trips as pgx allows.
package postgres
