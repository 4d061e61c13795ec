// Package pgtype owns the PostgreSQL column type system of the PostgreSQL
// source: what a column's type is (pg_type, pg_attribute, pg_attrdef), its
// Kafka Connect field schema including the converted column default, the
// conversion of one value in PostgreSQL's text output format into its
// pipeline.Value, and the placeholder of an unchanged TOASTed value — in
// exactly the representation Debezium's PostgreSQL connector (3.6) produces
// under default settings: decimal.handling.mode=precise,
// time.precision.mode=adaptive, interval.handling.mode=numeric,
// hstore.handling.mode=json, binary.handling.mode=bytes,
// money.fraction.digits=2, unavailable.value.placeholder=
// __debezium_unavailable_value, include.unknown.datatypes=false.
//
// Values arrive as text: pgoutput 't' tuple data and text-format SELECTs
// both print a value with the type's output function. The text depends on
// session settings, and the decoders assume the ones the source sets on the
// replication and the snapshot connections:
//
//	DateStyle=ISO, MDY        dates "2020-01-31", timestamps "… 12:00:00.5[+00][ BC]"
//	IntervalStyle=postgres    "1 year 2 mons 3 days 04:05:06.789"
//	TimeZone=UTC              timestamptz printed at +00
//	extra_float_digits=3      floats round-trip exactly
//	bytea_output=hex          "\x0102"
//	lc_monetary=C             money "$1,234.56", "-$1,234.56"
//	client_encoding=UTF8
//
// Unknown and unsupported types (composite, multirange, geometric types
// other than point, PostGIS, pgvector, arrays Debezium has no schema for)
// make Schema and Decoder fail with an error naming the column: siphon
// never drops a column silently, where Debezium drops it with a warning.
//
// Where Debezium's behaviour is odd the code follows it and says so beside
// the code (for example date 'infinity' is -2147472692 days, hstore JSON
// keys come in java.util.HashMap order, text defaults keep only what is
// between the first two quotes). The deliberate differences:
//
//   - Snapshot and stream use the same text decoders, so a value is the
//     same in both. Debezium's JDBC snapshot path differs in corners (date
//     'infinity' is -622191234 there; array elements go through the JDBC
//     driver's objects).
//   - NaN and ±Infinity in a NUMERIC column are an error: Debezium's precise
//     mode cannot represent them and fails the connector too.
//   - Multi-dimensional array values are an error; Debezium emits their
//     elements as nulls.
//   - TIMETZ 24:00:00 with a non-zero offset is moved to UTC (wrapping like
//     OffsetTime); oid values above 2^31-1, interval hours above 2^31-1 and
//     an empty BIT VARYING(1) decode where Debezium fails to parse them.
//   - MONEY is parsed exactly; older Debezium versions went through a
//     double and lose cents beyond 2^53.
//   - NUMERIC with a negative scale (PostgreSQL 15) uses PostgreSQL's
//     sign-extended scale; pgjdbc reads it as a large positive scale.
//   - Unchanged-TOAST placeholders for arrays of string-mapped elements other
//     than text, varchar, json and jsonb are [placeholder]; Debezium 3.6
//     emits a bare string there that its schema check rejects. Types whose
//     placeholder Debezium cannot represent (numeric, bit strings, most
//     non-string arrays) and types that are never TOASTed give
//     ErrNoPlaceholder.
//
// Decoders are built once per column and called once per column per row:
// they do their per-column work up front and, on the hot path, use no fmt,
// reflection or regular expressions. They copy what they keep of their
// argument, which the caller may reuse.
package pgtype
