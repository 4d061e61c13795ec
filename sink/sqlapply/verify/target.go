package verify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/pipeline/config"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// Engines a side of the comparison runs on.
const (
	enginePostgres = "postgres"
	engineMySQL    = "mysql"
)

// typeFamily is how verify reads a column of one engine's type.
type typeFamily uint8

const (
	famText      typeFamily = iota
	famNumber               // integers, decimals, doubles
	famFloat                // MySQL FLOAT: read as DOUBLE to keep every bit
	famBool                 // PostgreSQL boolean
	famBytes                // bytea, BINARY, BLOB: read as hex
	famBitString            // PostgreSQL bit, bit varying: read as 0/1 text
	famBit                  // MySQL BIT: read as an unsigned number
	famEpoch                // PostgreSQL time, timestamp, interval: read as seconds since the epoch
	famTemporal             // MySQL DATETIME, TIMESTAMP, TIME: read as text
	famDate                 // DATE: read as text
	famGeometry             // MySQL spatial types: read as WKB hex
	famPoint                // PostgreSQL point: read as (x,y)
	famJSON
)

// targetColumn is a column of a table on one side as verify reads it.
type targetColumn struct {
	name      string // as the catalogue spells it
	typ       string // declared type, lower case
	cast      string // PostgreSQL: the type a text key argument is cast to
	generated bool
	family    typeFamily
	expr      string // the select expression
}

// db is one side of the comparison read as text: a PostgreSQL or MySQL
// database (the target; also a PostgreSQL source's key lookups).
type db interface {
	engine() string
	// columns describes a table; nil when it does not exist.
	columns(ctx context.Context, name sqlapply.Name) ([]targetColumn, error)
	// query runs a statement and calls fn with each row's text values
	// (nil for NULL), valid only during the call.
	query(ctx context.Context, sql string, args []any, fn func(vals [][]byte) error) error
	quoteIdent(s string) string
	close()
}

func quoteTable(d db, n sqlapply.Name) string {
	return d.quoteIdent(n.Namespace) + "." + d.quoteIdent(n.Table)
}

// Target is the database a sink writes to.
type Target struct {
	d         db
	namespace string
	label     string
}

// OpenTarget connects to the target of a database sink (type postgres or
// mysql) for reading.
func OpenTarget(ctx context.Context, sc config.Sink) (*Target, error) {
	switch sc.Type {
	case "postgres":
		p, err := openPostgres(ctx, sc.URL)
		if err != nil {
			return nil, err
		}
		schema := sc.Schema
		if schema == "" {
			schema = "public"
		}
		return &Target{d: p, namespace: schema, label: "postgres " + p.host}, nil
	case "mysql":
		m, err := openMySQL(ctx, sc.URL)
		if err != nil {
			return nil, err
		}
		return &Target{d: m, namespace: sc.Database, label: "mysql " + m.addr}, nil
	}
	return nil, fmt.Errorf("sink type %s is not a database", sc.Type)
}

// Close closes the connection.
func (t *Target) Close() { t.d.close() }

// --- PostgreSQL ---

type pgDB struct {
	c    *pgconn.PgConn
	host string
}

func openPostgres(ctx context.Context, url string) (*pgDB, error) {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil {
		return nil, errors.New("postgres: url: not a valid PostgreSQL URL")
	}
	cfg.RuntimeParams["TimeZone"] = "UTC"
	cfg.RuntimeParams["DateStyle"] = "ISO, YMD"
	cfg.RuntimeParams["IntervalStyle"] = "postgres"
	cfg.RuntimeParams["extra_float_digits"] = "3"
	cfg.RuntimeParams["application_name"] = "siphon verify"
	host := cfg.Host + ":" + strconv.Itoa(int(cfg.Port)) + "/" + cfg.Database
	c, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: connect: %w", host, err)
	}
	return &pgDB{c: c, host: host}, nil
}

func (p *pgDB) engine() string { return enginePostgres }
func (p *pgDB) close()         { _ = p.c.Close(context.Background()) }

func (p *pgDB) quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (p *pgDB) query(ctx context.Context, sql string, args []any, fn func([][]byte) error) error {
	params := make([][]byte, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []byte:
			params[i] = append([]byte{}, v...)
		default:
			params[i] = append([]byte{}, fmt.Sprint(v)...) // never nil: nil is NULL
		}
	}
	rr := p.c.ExecParams(ctx, sql, params, nil, nil, nil)
	var fnErr error
	for rr.NextRow() {
		if fnErr == nil {
			fnErr = fn(rr.Values())
		}
	}
	_, err := rr.Close()
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return fmt.Errorf("postgres %s: %w", p.host, err)
	}
	return nil
}

func (p *pgDB) columns(ctx context.Context, name sqlapply.Name) ([]targetColumn, error) {
	var cols []targetColumn
	err := p.query(ctx, `SELECT a.attname, format_type(a.atttypid, a.atttypmod), format_type(a.atttypid, NULL), a.attgenerated <> ''
		FROM pg_attribute a
		WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
		[]any{quoteTable(p, name)}, func(v [][]byte) error {
			c := targetColumn{name: string(v[0]), typ: strings.ToLower(string(v[1])), cast: strings.Trim(strings.ToLower(string(v[2])), `"`), generated: string(v[3]) == "t"}
			c.family = pgFamily(c.cast)
			switch c.cast {
			case "bit":
				c.cast = "varbit"
			case "character":
				c.cast = "bpchar"
			}
			q := p.quoteIdent(c.name)
			switch {
			case strings.HasSuffix(c.cast, "[]"):
				c.expr = "to_jsonb(" + q + ")::text" // arrays as JSON, as a MySQL target holds them
			case c.family == famEpoch:
				c.expr = "extract(epoch from " + q + ")::text"
			case c.family == famBytes:
				c.expr = "encode(" + q + ", 'hex')"
			default:
				c.expr = q // the text result is the type's output: char(n) keeps its padding
			}
			cols = append(cols, c)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return cols, nil
}

func pgFamily(base string) typeFamily {
	switch base {
	case "boolean":
		return famBool
	case "smallint", "integer", "bigint", "numeric", "real", "double precision", "oid":
		return famNumber
	case "bytea":
		return famBytes
	case "bit", "bit varying", "varbit":
		return famBitString
	case "date":
		return famDate
	case "time without time zone", "timestamp without time zone", "timestamp with time zone", "interval":
		return famEpoch
	case "json", "jsonb":
		return famJSON
	case "point":
		return famPoint
	}
	return famText
}

// --- MySQL ---

type mysqlDB struct {
	c    *client.Conn
	addr string
}

func openMySQL(ctx context.Context, raw string) (*mysqlDB, error) {
	u, err := config.ParseMySQLURL(raw)
	if err != nil {
		return nil, fmt.Errorf("mysql: url: %w", err)
	}
	connect := func(cfg *tls.Config) (*client.Conn, error) {
		var opts []client.Option
		if cfg != nil {
			opts = append(opts, func(c *client.Conn) error { c.SetTLSConfig(cfg); return nil })
		}
		return client.ConnectWithContext(ctx, u.Addr(), u.User, u.Password, "", 10*time.Second, opts...)
	}
	var c *client.Conn
	switch u.TLS {
	case "true":
		c, err = connect(&tls.Config{ServerName: u.Host, MinVersion: tls.VersionTLS12})
	case "skip-verify":
		c, err = connect(&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // the user asked for it
	case "preferred":
		if c, err = connect(&tls.Config{InsecureSkipVerify: true}); err != nil { //nolint:gosec // as the MySQL client does
			c, err = connect(nil)
		}
	default:
		c, err = connect(nil)
	}
	if err != nil {
		return nil, fmt.Errorf("mysql %s: connect: %w", u.Addr(), redact(err, u.Password))
	}
	if _, err := c.Execute("SET time_zone = '+00:00', NAMES utf8mb4"); err != nil {
		c.Close()
		return nil, fmt.Errorf("mysql %s: %w", u.Addr(), err)
	}
	return &mysqlDB{c: c, addr: u.Addr()}, nil
}

func redact(err error, password string) error {
	if password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), password, "***"))
}

func (m *mysqlDB) engine() string { return engineMySQL }
func (m *mysqlDB) close()         { _ = m.c.Close() }

func (m *mysqlDB) quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// watch closes the connection when ctx ends during a call: go-mysql calls
// take no context.
func (m *mysqlDB) watch(ctx context.Context) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			_ = m.c.Close()
		case <-stop:
		}
	}()
	return func() { close(stop); <-done }
}

func (m *mysqlDB) query(ctx context.Context, sql string, args []any, fn func([][]byte) error) error {
	defer m.watch(ctx)()
	var res gomysql.Result
	vals := make([][]byte, 0, 16)
	row := func(fvs []gomysql.FieldValue) error {
		vals = vals[:0]
		for _, fv := range fvs {
			vals = append(vals, fieldText(fv))
		}
		return fn(vals)
	}
	var err error
	if len(args) == 0 {
		err = m.c.ExecuteSelectStreaming(sql, &res, row, nil)
	} else {
		var s *client.Stmt
		if s, err = m.c.Prepare(sql); err == nil {
			err = s.ExecuteSelectStreaming(&res, row, nil, args...)
			_ = s.Close()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("mysql %s: %w", m.addr, err)
	}
	return nil
}

// fieldText is a result value as text, nil for NULL.
func fieldText(fv gomysql.FieldValue) []byte {
	switch fv.Type {
	case gomysql.FieldValueTypeNull:
		return nil
	case gomysql.FieldValueTypeSigned:
		return strconv.AppendInt(nil, fv.AsInt64(), 10)
	case gomysql.FieldValueTypeUnsigned:
		return strconv.AppendUint(nil, fv.AsUint64(), 10)
	case gomysql.FieldValueTypeFloat:
		return strconv.AppendFloat(nil, fv.AsFloat64(), 'g', -1, 64)
	}
	b := fv.AsString()
	if b == nil {
		return []byte{}
	}
	return b
}

func (m *mysqlDB) columns(ctx context.Context, name sqlapply.Name) ([]targetColumn, error) {
	var cols []targetColumn
	err := m.query(ctx, `SELECT COLUMN_NAME, LOWER(COLUMN_TYPE), LOWER(DATA_TYPE), EXTRA LIKE '%GENERATED%'
		FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
		[]any{name.Namespace, name.Table}, func(v [][]byte) error {
			c := targetColumn{name: string(v[0]), typ: string(v[1]), cast: string(v[2]), generated: string(v[3]) == "1"}
			c.family = mysqlFamily(c.cast)
			q := m.quoteIdent(c.name)
			switch c.family {
			case famFloat:
				c.expr = "CAST(" + q + " AS DOUBLE)"
			case famBit:
				c.expr = "CAST(" + q + " AS UNSIGNED)"
			case famBytes:
				c.expr = "HEX(" + q + ")"
			case famGeometry:
				c.expr = "HEX(ST_AsWKB(" + q + "))"
			case famTemporal, famDate:
				c.expr = "CAST(" + q + " AS CHAR)"
			default:
				c.expr = q
			}
			cols = append(cols, c)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return cols, nil
}

func mysqlFamily(dataType string) typeFamily {
	switch dataType {
	case "tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal", "double", "year":
		return famNumber
	case "float":
		return famFloat
	case "bit":
		return famBit
	case "date":
		return famDate
	case "datetime", "timestamp", "time":
		return famTemporal
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob":
		return famBytes
	case "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon", "geometrycollection":
		return famGeometry
	case "json":
		return famJSON
	}
	return famText
}

// String names the target for reports, without a password.
func (t *Target) String() string { return t.label }
