// Package pipeline owns siphon's event model and the bounded, in-process
// path an event travels from a source to its sinks.
//
// The model is Kafka Connect's, because siphon's output is Debezium's: a
// Table carries Connect schemas for its key and value, an Event carries row
// images as Values already converted to their Connect representation, and a
// Batch carries many events plus the source Position that becomes durable
// once every sink has applied the batch and everything before it.
//
// The runtime (Pipeline) moves batches from one Source to every Sink through
// queues bounded by batch count and bytes, collects acknowledgements in any
// order and hands the highest contiguously acknowledged position to an
// OffsetStore. Sources and sinks never see each other.
package pipeline
