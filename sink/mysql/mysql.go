package mysql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// maxRunRows bounds a statement's rows (and keeps its parameters well
// under MySQL's 65535).
const maxRunRows = 256

// sessionSQL makes the session safe to write with: a value the column
// cannot hold is an error rather than silently cut (strict mode), an
// explicit 0 stays 0 in AUTO_INCREMENT columns, and temporal text is UTC.
const sessionSQL = "SET time_zone = '+00:00', NAMES utf8mb4, " +
	"SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO,ERROR_FOR_DIVISION_BY_ZERO'"

// Config configures a MySQL/MariaDB sink.
type Config struct {
	URL      string // mysql://user:password@host:port[?tls=…]
	Database string // where target tables go
	sqlapply.Options
}

// New returns a MySQL sink; it connects on first use.
func New(cfg Config) (*sqlapply.Sink, error) {
	d, err := newDialect(cfg)
	if err != nil {
		return nil, err
	}
	return sqlapply.New(d, cfg.Options, maxRunRows)
}

type dialect struct {
	url      config.MySQLURL
	tls      *tls.Config
	database string
	name     string
}

func newDialect(cfg Config) (*dialect, error) {
	u, err := config.ParseMySQLURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("mysql sink: url: %w", err)
	}
	if cfg.Database == "" {
		return nil, errors.New("mysql sink: no database")
	}
	d := &dialect{url: u, database: cfg.Database, name: fmt.Sprintf("mysql sink %s/%s", u.Addr(), cfg.Database)}
	switch u.TLS {
	case "true":
		d.tls = &tls.Config{ServerName: u.Host, MinVersion: tls.VersionTLS12}
	case "skip-verify", "preferred":
		d.tls = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it ("preferred" as the MySQL client does)
	}
	return d, nil
}

func (d *dialect) Target() string               { return d.name }
func (d *dialect) DefaultNamespace() string     { return d.database }
func (d *dialect) ErrorAbortsTransaction() bool { return false }
func (d *dialect) FoldNames() bool              { return true }

// PowerOfTwoRuns: statements are prepared per row count.
func (d *dialect) PowerOfTwoRuns() bool { return true }

func (d *dialect) Connect(ctx context.Context) (sqlapply.Conn, error) {
	c, err := d.dial(ctx, d.tls)
	if err != nil && d.url.TLS == "preferred" {
		c, err = d.dial(ctx, nil)
	}
	if err != nil {
		return nil, err
	}
	if _, err := c.Execute(sessionSQL); err != nil {
		c.Close()
		return nil, fmt.Errorf("session settings: %w", err)
	}
	return &conn{c: c, stmts: map[stmtKey]*client.Stmt{}, sql: map[stmtKey]string{}}, nil
}

func (d *dialect) dial(ctx context.Context, tc *tls.Config) (*client.Conn, error) {
	opts := []client.Option{func(c *client.Conn) error { return c.SetCapability(gomysql.CLIENT_FOUND_ROWS) }}
	if tc != nil {
		opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(tc); return nil })
	}
	c, err := client.ConnectWithContext(ctx, d.url.Addr(), d.url.User, d.url.Password, "", 10*time.Second, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", d.url.Addr(), redact(err, d.url.Password))
	}
	return c, nil
}

// redact removes the password from an error text, in case a driver echoes it.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// dataErrors are server errors about one row's values.
var dataErrors = map[uint16]bool{
	1048: true, // column cannot be null
	1062: true, // duplicate entry
	1264: true, // out of range
	1265: true, // data truncated
	1292: true, // incorrect (truncated) value
	1300: true, // invalid character string
	1366: true, // incorrect value
	1367: true, // illegal value
	1406: true, // data too long
	1411: true, // incorrect value for function
	1416: true, // cannot get geometry object
	1451: true, // foreign key: row is referenced
	1452: true, // foreign key: no parent row
	1525: true, // incorrect value
	1690: true, // value out of range
	3140: true, // invalid JSON text (MySQL)
	3819: true, // check constraint violated (MySQL)
	4025: true, // CONSTRAINT failed (MariaDB, e.g. json_valid)
	4078: true, // illegal parameter data type
}

var retryableErrors = map[uint16]bool{
	1040: true, // too many connections
	1053: true, // server shutdown in progress
	1205: true, // lock wait timeout
	1213: true, // deadlock
	1290: true, // --read-only (a failover in progress)
	1836: true, // read-only mode
	1927: true, // connection was killed (MariaDB)
	2006: true, // server has gone away
	2013: true, // lost connection
}

func (d *dialect) Classify(err error) sqlapply.ErrorClass {
	if err == nil {
		return sqlapply.Fatal
	}
	var ve *sqlapply.ValueError
	if errors.As(err, &ve) {
		return sqlapply.DataError
	}
	var me *gomysql.MyError
	if errors.As(err, &me) {
		switch {
		case dataErrors[me.Code]:
			return sqlapply.DataError
		case retryableErrors[me.Code]:
			return sqlapply.Retryable
		}
		return sqlapply.Fatal
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sqlapply.Fatal
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, gomysql.ErrBadConn) || strings.Contains(err.Error(), "connection refused") ||
		strings.Contains(err.Error(), "broken pipe") || strings.Contains(err.Error(), "EOF") {
		return sqlapply.Retryable
	}
	return sqlapply.Fatal
}

func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func quoteName(n sqlapply.Name) string { return quoteIdent(n.Namespace) + "." + quoteIdent(n.Table) }
