// Package mysql owns the MySQL/MariaDB sink: the MySQL dialect of the
// database apply engine in sink/sqlapply. It connects with go-mysql's
// client (strict SQL mode, UTC, utf8mb4, found-rows semantics), reads
// information_schema, maps source columns to MySQL types
// (docs/type-mapping.md), encodes values as typed parameters and writes
// runs of events as multi-row prepared statements (INSERT … ON DUPLICATE
// KEY UPDATE, DELETE … WHERE key IN …), cached per table version,
// operation and row count; runs are cut to powers of two so that a
// handful of statements serve every length.
package mysql
