package postgres

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// sessionSettings are set on every connection, as startup parameters:
// package pgtype's decoders read values in the text these settings
// produce, on the replication connection (pgoutput prints values in the
// walsender's session) and on query connections alike.
var sessionSettings = map[string]string{
	"DateStyle":          "ISO, MDY",
	"IntervalStyle":      "postgres",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
	"lc_monetary":        "C",
	"client_encoding":    "UTF8",
	"application_name":   "siphon",
}

// Endpoint is where and as whom siphon connects.
type Endpoint struct {
	cfg      *pgconn.Config
	Host     string
	Port     uint16
	User     string
	Database string
}

// String never shows the password.
func (e Endpoint) String() string {
	return fmt.Sprintf("%s@%s:%d/%s", e.User, e.Host, e.Port, e.Database)
}

// ParseURL reads postgres://user:password@host:port/database?sslmode=….
// Errors never repeat the URL, which holds a password.
func ParseURL(raw string) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, errors.New("url is not a valid URL (expected postgres://user:password@host:port/database)")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return Endpoint{}, fmt.Errorf("url scheme %q is not postgres", u.Scheme)
	}
	if u.Hostname() == "" {
		return Endpoint{}, errors.New("url has no host")
	}
	if u.User == nil || u.User.Username() == "" {
		return Endpoint{}, errors.New("url has no user")
	}
	if strings.Trim(u.Path, "/") == "" {
		return Endpoint{}, errors.New("url has no database (postgres://user:password@host:port/database)")
	}
	cfg, err := pgconn.ParseConfig(raw)
	if err != nil {
		return Endpoint{}, errors.New("url cannot be used: " + redact(err, u).Error())
	}
	return Endpoint{cfg: cfg, Host: cfg.Host, Port: cfg.Port, User: cfg.User, Database: cfg.Database}, nil
}

// redact removes the URL's password from an error message.
func redact(err error, u *url.URL) error {
	if u == nil || u.User == nil {
		return err
	}
	p, ok := u.User.Password()
	if !ok || p == "" || !strings.Contains(err.Error(), p) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
}

// connect opens a query connection, or with replication a logical
// replication connection (replication=database) to the same database.
func (e Endpoint) connect(ctx context.Context, replication bool) (*pgconn.PgConn, error) {
	if e.cfg == nil {
		return nil, errors.New("endpoint not configured")
	}
	cfg := e.cfg.Copy()
	cfg.RuntimeParams = map[string]string{}
	for k, v := range e.cfg.RuntimeParams {
		cfg.RuntimeParams[k] = v
	}
	for k, v := range sessionSettings {
		cfg.RuntimeParams[k] = v
	}
	if replication {
		cfg.RuntimeParams["replication"] = "database"
	}
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", e, e.redact(err))
	}
	return c, nil
}

func (e Endpoint) redact(err error) error {
	if e.cfg == nil || e.cfg.Password == "" || !strings.Contains(err.Error(), e.cfg.Password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), e.cfg.Password, "xxxxx"))
}

// queryRows runs q with text parameters and returns its rows as text; a
// NULL is returned as nil.
func queryRows(ctx context.Context, c *pgconn.PgConn, q string, args ...string) ([][]*string, error) {
	params := make([][]byte, len(args))
	for i, a := range args {
		params[i] = []byte(a)
	}
	rr := c.ExecParams(ctx, q, params, nil, nil, nil)
	var out [][]*string
	for rr.NextRow() {
		vals := rr.Values()
		row := make([]*string, len(vals))
		for i, v := range vals {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		out = append(out, row)
	}
	if _, err := rr.Close(); err != nil {
		return nil, err
	}
	return out, nil
}

// queryStrings is queryRows with NULL as "".
func queryStrings(ctx context.Context, c *pgconn.PgConn, q string, args ...string) ([][]string, error) {
	rows, err := queryRows(ctx, c, q, args...)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			if v != nil {
				out[i][j] = *v
			}
		}
	}
	return out, nil
}

// queryValue returns the first column of the first row ("" when none).
func queryValue(ctx context.Context, c *pgconn.PgConn, q string, args ...string) (string, error) {
	rows, err := queryStrings(ctx, c, q, args...)
	if err != nil || len(rows) == 0 || len(rows[0]) == 0 {
		return "", err
	}
	return rows[0][0], nil
}

// exec runs statements with the simple protocol.
func exec(ctx context.Context, c *pgconn.PgConn, sql string) error {
	_, err := c.Exec(ctx, sql).ReadAll()
	return err
}

// serverInfo is what siphon needs to know about the server.
type serverInfo struct {
	VersionNum  int    // server_version_num, e.g. 150004
	Version     string // server_version
	Database    string
	User        string
	Superuser   bool
	Replication bool // rolreplication
}

func queryServerInfo(ctx context.Context, c *pgconn.PgConn) (*serverInfo, error) {
	rows, err := queryStrings(ctx, c, `SELECT current_setting('server_version_num'), current_setting('server_version'),
		current_database(), current_user, r.rolsuper, r.rolreplication
		FROM pg_roles r WHERE r.rolname = current_user`)
	if err != nil {
		return nil, fmt.Errorf("read server version: %w", err)
	}
	if len(rows) != 1 {
		return nil, errors.New("read server version: no row for the current user in pg_roles")
	}
	r := rows[0]
	n, err := strconv.Atoi(r[0])
	if err != nil {
		return nil, fmt.Errorf("server_version_num %q: %w", r[0], err)
	}
	return &serverInfo{VersionNum: n, Version: r[1], Database: r[2], User: r[3], Superuser: r[4] == "t", Replication: r[5] == "t"}, nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a string literal (standard_conforming_strings on,
// which PostgreSQL has defaulted to since 9.1; an E'…' literal covers the
// other case).
func quoteLiteral(s string) string {
	if strings.ContainsRune(s, '\\') {
		return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + "'"
	}
	return "'" + strings.ReplaceAll(s, `'`, `''`) + "'"
}
