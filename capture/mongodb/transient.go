package mongodb

import (
	"errors"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

// Transient reports a snapshot read worth trying again: a network error or
// timeout, no server to select, a cleared connection pool, or an error the
// server labels retryable. Anything else would recur and stops the
// snapshot at once.
func (r *snapReader) Transient(err error) bool {
	if mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.As(err, new(topology.ServerSelectionError)) {
		return true
	}
	var pool interface{ Retryable() bool } // the pool was cleared under the read
	if errors.As(err, &pool) && pool.Retryable() {
		return true
	}
	var le mongo.LabeledError
	return errors.As(err, &le) && (le.HasErrorLabel("RetryableReadError") || le.HasErrorLabel("ResumableChangeStreamError"))
}
