package postgres

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"unexpected EOF", fmt.Errorf("receive message failed: %w", io.ErrUnexpectedEOF), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"connection failure", fmt.Errorf("chunk: %w", &pgconn.PgError{Code: "08006"}), true},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, true},
		{"no such table", &pgconn.PgError{Code: "42P01"}, false},
		{"permission denied", &pgconn.PgError{Code: "42501"}, false},
		{"a value siphon cannot decode", errors.New("column c: unknown type oid 99999"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Fatalf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
