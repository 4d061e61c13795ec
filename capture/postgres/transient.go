package postgres

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// Transient reports a snapshot read worth trying again: the connection was
// lost or the server is shutting down, restarting or gave up on a lock
// (SQLSTATE classes 08 and 57P, 40001, 40P01). Anything else — an SQL
// error, a value siphon cannot decode — would recur and stops the snapshot
// at once.
func (r *snapReader) Transient(err error) bool { return transient(err) }

func transient(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P") || pe.Code == "40001" || pe.Code == "40P01"
	}
	var ne net.Error
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}
