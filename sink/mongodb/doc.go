// Package mongodb owns the MongoDB sink: it applies any pipeline's events
// to a MongoDB database with ordered bulk writes acknowledged by a
// majority of the replica set.
//
// Events of the MongoDB source carry their documents as raw BSON and are
// written back unchanged: inserts, replacements and looked-up updates as
// an upsert by replacement of the document with the same _id, deletes by
// _id, updates without a looked-up document as $set/$unset of their
// updateDescription. Relational rows become documents keyed by the source
// key: _id is the key column's value for a single-column key and a
// subdocument {column: value, …} in key order for a composite key; the
// other columns follow in table order, as their Connect values (DECIMALs
// as Decimal128, bytes as binary, structs as subdocuments). A row holding
// PostgreSQL's unchanged-TOAST placeholder is applied as a $set of its
// other columns, keeping the stored value. A table without a key cannot
// be applied and stops the pipeline.
//
// Delivery is at least once: a batch is acknowledged only after its
// writes are, and a restart replays from the checkpoint. Every write is
// idempotent (replace by _id, delete by _id), and replays apply the same
// sequence in order, so the target converges to the source's state.
package mongodb
