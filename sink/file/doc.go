// Package file owns the file sink: it appends every event of a batch to a
// JSON-lines file (or stdout) in Debezium's JsonConverter format, one
// {"topic":…,"key":…,"value":…} line per record plus a tombstone line after
// each delete when configured, and fsyncs before acknowledging the batch.
package file
