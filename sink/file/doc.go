// Package file owns the file sink: it appends every event of a batch to a
// JSON-lines file (or stdout) in Debezium's JsonConverter format, one
// {"topic":…,"key":…,"value":…} line per record plus a tombstone line after
// each delete when configured, and fsyncs before acknowledging a batch that
// carries a position (a batch ending inside a transaction or snapshot chunk
// cannot be checkpointed on its own; the next positioned batch syncs it).
package file
