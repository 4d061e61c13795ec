// Package coltype owns the MySQL/MariaDB column type system of the binlog
// source: what a column is (learnt from a binlog TABLE_MAP event or from
// information_schema.COLUMNS), its Kafka Connect field schema including the
// converted column default, and the conversion of one go-mysql decoded
// binlog value into its pipeline.Value — in exactly the representation
// Debezium's MySQL and MariaDB connectors produce under default settings
// (decimal.handling.mode=precise, time.precision.mode=adaptive_time_microseconds,
// bigint.unsigned.handling.mode=long, binary.handling.mode=bytes,
// enable.time.adjuster=true, json.string.formatting.mode=legacy).
//
// Where Debezium's behaviour is odd the code follows it and says so beside
// the code; the few deliberate differences are listed here:
//
//   - A zero TIMESTAMP ('0000-00-00 00:00:00') in a nullable column is null.
//     Debezium's streaming path emits "1970-01-01T00:00:00Z" for it (its
//     snapshot path emits null); siphon uses one rule for both.
//   - TINYINT(1) and BOOLEAN are int8 in snapshot and stream alike (Debezium
//     streaming turns a DDL-declared BOOLEAN into a Connect boolean).
//   - JSON text inside a JSON column: DATETIME/TIME scalars and opaque
//     binary scalars keep MySQL's own rendering ("2015-01-15 23:24:25.000000",
//     "base64:type15:yv4="), because go-mysql has already turned them into
//     strings that cannot be told apart from user strings. Debezium's legacy
//     formatter writes "2015-01-15 23:24:25" and "yv4=".
//   - A partial JSON update (binlog_row_value_options=PARTIAL_JSON) is an
//     error, as is a value of any Go type the column cannot hold: nothing is
//     silently turned into null.
//
// SQLDecoder converts the same values as a snapshot's SELECT returns them
// through the MySQL client protocol, to what the binlog path gives (exactly,
// but for the few conversions of the server its documentation lists). The
// client reuses its row buffer, so those values own their bytes: they are
// copied into an Arena, a chunk's few large blocks.
//
// Decoders are built once per column and called once per column per row:
// they do their per-column work up front and, on the hot path, use no fmt,
// reflection or regular expressions. Strings and byte slices the binlog
// decoders return may alias the go-mysql value they were decoded from;
// go-mysql decodes every event into a buffer of its own and never reuses it.
package coltype
