// Package mysql captures changes from the MySQL and MariaDB binary log.
//
// It owns the connection to the server, the replication stream (go-mysql's
// replication.BinlogSyncer, never canal), the translation of TABLE_MAP and
// ROWS events into pipeline events with Debezium's MySQL/MariaDB source
// block, the source position (Debezium's offset map: file, pos, gtids), the
// schema history that lets binlog read again after a restart decode with
// the schema it was written under, and the `siphon check` prerequisites.
//
// Column names, types, signedness, character sets, ENUM/SET members and the
// primary key come from the TABLE_MAP event itself when the server writes
// binlog_row_metadata=FULL. The schema history (information_schema read
// when a DDL passes, stored keyed by binlog position) supplies what the
// binlog lacks — defaults and declared types — and, on servers without
// full metadata, the column names. A row whose binlog layout disagrees with
// the known schema stops the pipeline; it is never decoded by guesswork.
package mysql
