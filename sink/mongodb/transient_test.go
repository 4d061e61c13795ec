package mongodb

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"
)

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"network error", mongo.CommandError{Labels: []string{"NetworkError"}, Message: "connection reset"}, true},
		{"no server to select", fmt.Errorf("bulk: %w", topology.ServerSelectionError{Wrapped: errors.New("no primary")}), true},
		{"timeout", fmt.Errorf("bulk: %w", context.DeadlineExceeded), true},
		{"primary stepped down", mongo.CommandError{Code: 189, Name: "PrimarySteppedDown"}, true},
		{"not writable primary", mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, true},
		{"shutting down", mongo.CommandError{Code: 91, Name: "ShutdownInProgress"}, true},
		{"retryable write label", mongo.CommandError{Code: 1, Labels: []string{"RetryableWriteError"}}, true},
		{"duplicate key", mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: mongo.WriteError{Code: 11000, Message: "E11000 duplicate key"}}}}, false},
		{"document too large", mongo.CommandError{Code: 10334, Name: "BSONObjectTooLarge"}, false},
		{"unauthorized", mongo.CommandError{Code: 13, Name: "Unauthorized"}, false},
		{"plain error", errors.New("invalid document"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Fatalf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
