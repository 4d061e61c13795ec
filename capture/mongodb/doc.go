// Package mongodb captures changes from MongoDB change streams.
//
// It owns the connection to the replica set (the official driver,
// go.mongodb.org/mongo-driver/v2), the deployment-scope change stream, the
// translation of change events into pipeline events that carry the raw
// BSON (pipeline/debezium renders them in Debezium's MongoDB envelope), the
// source position (Debezium's MongoDB offset map: sec, ord and the resume
// token as base64 BSON) and the snapshot reader that feeds the shared
// snapshot engine with chunks of each collection in _id order.
//
// One deployment-scope stream serves every captured collection: dropping
// or renaming a collection ends nothing but that collection's events (a
// collection- or database-scope stream would be invalidated), and a
// resume token is a single position for the whole capture. Events of
// collections the filter does not select are skipped client-side.
//
// It also owns `siphon check` for MongoDB (check.go) and Relational, the
// view that lets the SQL sinks apply MongoDB events as (_id, document)
// rows.
package mongodb
