package mysql

import (
	"errors"
	"io"
	"net"
	"syscall"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// Transient reports a snapshot read worth trying again: the connection was
// lost, or the server was shutting down, killed the query or gave up on a
// lock. Anything else — an SQL error, a value siphon cannot decode — would
// recur and stops the snapshot at once.
func (r *snapReader) Transient(err error) bool { return transient(err) }

func transient(err error) bool {
	var me *gomysql.MyError
	if errors.As(err, &me) {
		switch me.Code {
		case 1053, // ER_SERVER_SHUTDOWN
			1205, // ER_LOCK_WAIT_TIMEOUT
			1213, // ER_LOCK_DEADLOCK
			1317, // ER_QUERY_INTERRUPTED
			1927, // ER_CONNECTION_KILLED
			2006, // CR_SERVER_GONE_ERROR
			2013: // CR_SERVER_LOST
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, gomysql.ErrBadConn) || errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}
