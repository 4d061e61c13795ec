package mysql

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"testing"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

func TestTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"bad connection", fmt.Errorf("read t: %w", gomysql.ErrBadConn), true},
		{"EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"connection reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"server shutting down", &gomysql.MyError{Code: 1053, Message: "Server shutdown in progress"}, true},
		{"deadlock", fmt.Errorf("chunk: %w", &gomysql.MyError{Code: 1213}), true},
		{"no such table", &gomysql.MyError{Code: 1146, Message: "Table 'db.t' doesn't exist"}, false},
		{"syntax", &gomysql.MyError{Code: 1064}, false},
		{"a value siphon cannot decode", errors.New("column c: unknown type 0xf1"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transient(tt.err); got != tt.want {
				t.Fatalf("transient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
