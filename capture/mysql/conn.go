package mysql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
)

// Endpoint is where and as whom siphon connects.
type Endpoint struct {
	Host     string
	Port     uint16
	User     string
	Password string
	TLS      *tls.Config // nil: plain connection
	// TLSPreferred: use TLS (without verifying the certificate) when the
	// server offers it, else a plain connection — the MySQL client default.
	TLSPreferred bool
}

// Addr is host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))) }

// String never shows the password.
func (e Endpoint) String() string { return fmt.Sprintf("%s@%s", e.User, e.Addr()) }

// ParseURL reads mysql://user:password@host:port[?tls=preferred|true|skip-verify|false&charset=…].
// Errors never repeat the URL, which holds a password.
func ParseURL(raw string) (Endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Endpoint{}, errors.New("url is not a valid URL (expected mysql://user:password@host:port)")
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return Endpoint{}, fmt.Errorf("url scheme %q is not mysql", u.Scheme)
	}
	ep := Endpoint{Host: u.Hostname(), Port: 3306}
	if ep.Host == "" {
		return Endpoint{}, errors.New("url has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return Endpoint{}, fmt.Errorf("url port %q is not a port number", p)
		}
		ep.Port = uint16(n)
	}
	if u.User == nil || u.User.Username() == "" {
		return Endpoint{}, errors.New("url has no user")
	}
	ep.User = u.User.Username()
	ep.Password, _ = u.User.Password()
	switch mode := u.Query().Get("tls"); mode {
	case "", "preferred":
		ep.TLSPreferred = true
	case "false":
	case "true":
		ep.TLS = &tls.Config{ServerName: ep.Host, MinVersion: tls.VersionTLS12}
	case "skip-verify":
		ep.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	default:
		return Endpoint{}, fmt.Errorf("url parameter tls=%q is not one of preferred, true, skip-verify, false", mode)
	}
	return ep, nil
}

// resolveTLS settles tls=preferred: TLS when the server offers it.
func resolveTLS(ctx context.Context, ep Endpoint) (Endpoint, error) {
	if !ep.TLSPreferred {
		return ep, nil
	}
	ep.TLSPreferred = false
	withTLS := ep
	withTLS.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // "preferred" encrypts without verifying, as the MySQL client does
	c, err := dial(ctx, withTLS)
	if err == nil {
		c.Close()
		return withTLS, nil
	}
	c, plainErr := dial(ctx, ep)
	if plainErr != nil {
		return ep, plainErr
	}
	c.Close()
	return ep, nil
}

// dial opens a query connection.
func dial(ctx context.Context, ep Endpoint) (*client.Conn, error) {
	var opts []client.Option
	if ep.TLS != nil {
		cfg := ep.TLS
		opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(cfg); return nil })
	}
	c, err := client.ConnectWithContext(ctx, ep.Addr(), ep.User, ep.Password, "", 10*time.Second, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", ep, redact(err, ep.Password))
	}
	// information_schema reports TIMESTAMP defaults, and SELECT returns
	// TIMESTAMP values, in the session time zone; text comes in the
	// connection character set.
	if _, err := c.Execute("SET time_zone = '+00:00', NAMES utf8mb4"); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to %s: set time_zone: %w", ep, err)
	}
	return c, nil
}

// redact removes a password from an error text, in case a driver echoes it.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "xxxxx"))
}

// Flavor is the server family.
type Flavor string

// Server families.
const (
	FlavorMySQL   Flavor = gomysql.MySQLFlavor
	FlavorMariaDB Flavor = gomysql.MariaDBFlavor
)

// serverInfo is what siphon learns about the server at start.
type serverInfo struct {
	Flavor      Flavor
	Version     string
	ServerID    uint32
	GTIDMode    bool // MySQL gtid_mode=ON; always true on MariaDB
	RowMetadata string
	Collations  map[uint64]string // collation id → character set
}

func queryServerInfo(c *client.Conn) (*serverInfo, error) {
	info := &serverInfo{Flavor: FlavorMySQL, Collations: map[uint64]string{}}
	r, err := c.Execute("SELECT VERSION(), @@server_id")
	if err != nil {
		return nil, fmt.Errorf("read server version: %w", err)
	}
	info.Version, _ = r.GetString(0, 0)
	id, _ := r.GetUint(0, 1)
	info.ServerID = uint32(id)
	if strings.Contains(strings.ToLower(info.Version), "mariadb") {
		info.Flavor = FlavorMariaDB
		info.GTIDMode = true
	} else if v, err := variable(c, "gtid_mode"); err == nil {
		info.GTIDMode = strings.EqualFold(v, "ON")
	}
	info.RowMetadata, _ = variable(c, "binlog_row_metadata")
	r, err = c.Execute("SELECT ID, CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE ID IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("read collations: %w", err)
	}
	for i := range r.RowNumber() {
		id, _ := r.GetUint(i, 0)
		cs, _ := r.GetString(i, 1)
		info.Collations[id] = cs
	}
	return info, nil
}

// variable reads a global server variable; a missing variable is an error.
func variable(c *client.Conn, name string) (string, error) {
	r, err := c.Execute("SHOW GLOBAL VARIABLES LIKE '" + name + "'")
	if err != nil {
		return "", fmt.Errorf("read variable %s: %w", name, err)
	}
	if r.RowNumber() == 0 {
		return "", fmt.Errorf("variable %s: not present on this server", name)
	}
	return r.GetString(0, 1)
}
