// Package debezium owns siphon's Debezium wire format: it writes events
// byte for byte as Kafka Connect's JsonConverter (Jackson underneath) writes
// Debezium's records, key and value as separate JSON documents, with or
// without the {"schema":…,"payload":…} wrapper (schemas.enable).
//
// Rendering a Connect schema is costly and its output never changes for a
// table version, so an Encoder renders the key and envelope schemas once per
// (*pipeline.Table, *pipeline.SourceInfo) and afterwards only writes
// payloads, appending into the caller's buffer without reflection or
// allocation.
//
// The low-level writers (AppendString, AppendFloat64, AppendBytes,
// DecimalBytes, …) are exported for the sources, which write the
// connector-specific fields of the `source` block themselves
// (pipeline.SourceTail) and build DECIMAL values.
//
// Payload conventions beyond pipeline.Value's own:
//   - A Connect MAP value is a pipeline.Array of entries, each entry a
//     two-member pipeline.Struct (key, value). Like JsonConverter it is
//     written as a JSON object when the map's key schema is a string, else
//     as an array of [key, value] arrays.
//   - A SQL NULL is written as null even when the column schema has a
//     default; JsonConverter would write the default (SPEC §1.2,
//     LESSONS.md). The `source.snapshot` field is always written
//     explicitly, so the one place where Debezium relies on that
//     substitution still reads "false".
//   - Floats print as JDK ≥ 19 Double.toString / Float.toString do.
//
// Events whose source connector is "mongodb" are written in Debezium's
// MongoDB envelope instead (mongo.go, SPEC §3.3): their rows hold raw
// BSON, rendered as the MongoDB Java driver's Extended JSON
// (mongo_extjson.go) when the event is encoded.
package debezium
