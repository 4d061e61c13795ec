package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/client"
)

// maxIdentifierLen is MariaDB's limit on database names.
const maxIdentifierLen = 64

// URL is "mysql://user:password@127.0.0.1:PORT", the form siphon's
// configuration takes. User and password are URL-escaped.
func (m *MariaDB) URL(user, password string) string {
	u := url.URL{Scheme: "mysql", User: url.UserPassword(user, password), Host: net.JoinHostPort(m.Host, strconv.Itoa(m.Port))}
	return u.String()
}

// RootURL is URL for root, whose password is empty.
func (m *MariaDB) RootURL() string { return m.URL("root", "") }

// Exec runs each statement separately, in order, as root on one
// connection, so "USE db" applies to the statements after it. The error
// names the statement that failed.
func (m *MariaDB) Exec(ctx context.Context, stmts ...string) error {
	c, err := m.connect(ctx, "root", "", "")
	if err != nil {
		return fmt.Errorf("harness: mariadb exec: %w", err)
	}
	defer c.close()
	for _, stmt := range stmts {
		r, err := c.Execute(stmt)
		if err != nil {
			return fmt.Errorf("harness: mariadb exec %s: %w", abbreviate(stmt), c.cause(ctx, err))
		}
		r.Close()
	}
	return nil
}

// Query runs q as root and returns its rows as the server's text: NULL is
// "NULL", numbers keep the server's formatting. A statement without a
// result set returns no rows.
func (m *MariaDB) Query(ctx context.Context, q string) ([][]string, error) {
	c, err := m.connect(ctx, "root", "", "")
	if err != nil {
		return nil, fmt.Errorf("harness: mariadb query: %w", err)
	}
	defer c.close()
	r, err := c.Execute(q)
	if err != nil {
		return nil, fmt.Errorf("harness: mariadb query %s: %w", abbreviate(q), c.cause(ctx, err))
	}
	defer r.Close()
	if r.Resultset == nil {
		return nil, nil
	}
	rows := make([][]string, 0, len(r.RowDatas))
	for _, raw := range r.RowDatas {
		row, err := textRow(raw, len(r.Fields))
		if err != nil {
			return nil, fmt.Errorf("harness: mariadb query %s: %w", abbreviate(q), err)
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// NewDatabase creates a database named after prefix (lower-cased, reduced
// to [a-z0-9_], t.Name() fits) with a suffix unique within this instance,
// and returns its name.
func (m *MariaDB) NewDatabase(ctx context.Context, prefix string) (string, error) {
	name := databaseName(prefix, m.dbSeq.Add(1))
	if err := m.Exec(ctx, "CREATE DATABASE "+quoteIdentifier(name)); err != nil {
		return "", err
	}
	return name, nil
}

// CreateReplicationUser creates (or re-creates) user@'%' with the least
// privileges siphon needs on MariaDB 10.11:
//
//   - REPLICATION SLAVE: register as a replica and stream the binlog
//     (COM_REGISTER_SLAVE, COM_BINLOG_DUMP).
//   - BINLOG MONITOR: SHOW MASTER STATUS, SHOW BINARY LOGS and SHOW BINLOG
//     EVENTS, to find the current position and check that a stored one still
//     exists. MariaDB ≥ 10.5.2 renamed REPLICATION CLIENT to BINLOG MONITOR
//     (the old name is an alias: SHOW GRANTS prints the new one).
//   - SELECT on *.*: snapshot the tables and read column definitions from
//     information_schema, which shows only tables the user may access.
//
// RELOAD is not granted: a MariaDB snapshot takes its binlog position from
// START TRANSACTION WITH CONSISTENT SNAPSHOT (binlog_snapshot_file/position),
// so siphon needs no FLUSH TABLES WITH READ LOCK.
func (m *MariaDB) CreateReplicationUser(ctx context.Context, user, password string) error {
	account := quoteString(user) + "@'%'"
	err := m.Exec(ctx,
		"CREATE OR REPLACE USER "+account+" IDENTIFIED BY "+quoteString(password),
		"GRANT REPLICATION SLAVE, BINLOG MONITOR, SELECT ON *.* TO "+account,
	)
	if err != nil {
		return fmt.Errorf("harness: create replication user %s: %w", user, err)
	}
	return nil
}

// queryConn is a go-mysql connection whose socket is closed when its
// context ends, since go-mysql only honours the context while dialling.
type queryConn struct {
	*client.Conn
	stopWatch func() bool
}

func (m *MariaDB) connect(ctx context.Context, user, password, database string) (*queryConn, error) {
	stopWatch := func() bool { return false }
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		stopWatch = context.AfterFunc(ctx, func() { _ = nc.Close() })
		return nc, nil
	}
	collation := func(c *client.Conn) error { return c.SetCollation("utf8mb4_general_ci") }
	c, err := client.ConnectWithDialer(ctx, "tcp", m.Addr(), user, password, database, dial, collation)
	if err != nil {
		stopWatch()
		if ctx.Err() != nil {
			return nil, fmt.Errorf("connect to %s as %s: %w", m.Addr(), user, context.Cause(ctx))
		}
		return nil, fmt.Errorf("connect to %s as %s: %w", m.Addr(), user, err)
	}
	return &queryConn{Conn: c, stopWatch: stopWatch}, nil
}

func (c *queryConn) close() {
	c.stopWatch()
	_ = c.Close()
}

// cause prefers the context's error: a cancelled call otherwise surfaces
// as "use of closed network connection".
func (c *queryConn) cause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.Join(context.Cause(ctx), err)
	}
	return err
}

// textRow splits a text-protocol row into its columns: each is a
// length-encoded string, or 0xFB for NULL. go-mysql's LengthEncodedString
// panics on truncated input, hence this checked version.
func textRow(raw []byte, columns int) ([]string, error) {
	row := make([]string, 0, columns)
	rest := raw
	for i := range columns {
		if len(rest) == 0 {
			return nil, fmt.Errorf("malformed row: %d of %d columns", i, columns)
		}
		if rest[0] == 0xfb {
			row = append(row, "NULL")
			rest = rest[1:]
			continue
		}
		size, header, err := lengthEncodedInt(rest)
		if err != nil {
			return nil, fmt.Errorf("malformed row: column %d: %w", i+1, err)
		}
		rest = rest[header:]
		if uint64(len(rest)) < size {
			return nil, fmt.Errorf("malformed row: column %d needs %d bytes, %d left", i+1, size, len(rest))
		}
		row = append(row, string(rest[:size]))
		rest = rest[size:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("malformed row: %d bytes after %d columns", len(rest), columns)
	}
	return row, nil
}

// lengthEncodedInt decodes the protocol's length-encoded integer and returns
// it with the number of bytes it took.
func lengthEncodedInt(b []byte) (uint64, int, error) {
	width := 0
	switch b[0] {
	case 0xfc:
		width = 2
	case 0xfd:
		width = 3
	case 0xfe:
		width = 8
	case 0xfb, 0xff:
		return 0, 0, fmt.Errorf("0x%02x is not a length", b[0])
	default:
		return uint64(b[0]), 1, nil
	}
	if len(b) < 1+width {
		return 0, 0, fmt.Errorf("length needs %d bytes, %d left", width, len(b)-1)
	}
	var v uint64
	for i := width; i >= 1; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, 1 + width, nil
}

// databaseName builds "<prefix>_<seq>" within MariaDB's 64-character limit.
func databaseName(prefix string, seq uint64) string {
	suffix := "_" + strconv.FormatUint(seq, 10)
	var b strings.Builder
	for _, r := range strings.ToLower(prefix) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := strings.Trim(b.String(), "_")
	if base == "" {
		base = "db"
	}
	if limit := maxIdentifierLen - len(suffix); len(base) > limit {
		base = base[:limit]
	}
	return base + suffix
}

func quoteIdentifier(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func quoteString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`)
	return "'" + r.Replace(s) + "'"
}

// abbreviate keeps error messages readable when a statement is long.
func abbreviate(stmt string) string {
	const maxLen = 200
	stmt = strings.Join(strings.Fields(stmt), " ")
	if len(stmt) > maxLen {
		stmt = stmt[:maxLen] + "…"
	}
	return strconv.Quote(stmt)
}
