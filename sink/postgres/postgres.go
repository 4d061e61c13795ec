package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/siphoncdc/siphon/sink/sqlapply"
)

// DefaultSchema holds the target tables unless configured otherwise.
const DefaultSchema = "public"

// maxRunRows bounds the rows of one statement: unnest() has no parameter
// limit, this keeps a failed statement's search short and memory small.
const maxRunRows = 4096

// Config configures a PostgreSQL sink.
type Config struct {
	URL    string // postgres://user:password@host:port/database
	Schema string // where target tables go; "public" when empty
	// CopyMerge is how long one COPY may go on across source transactions,
	// holding the target transaction open (stream.go); 0: never.
	CopyMerge time.Duration
	sqlapply.Options
}

// New returns a PostgreSQL sink; it connects on first use.
func New(cfg Config) (*sqlapply.Sink, error) {
	d, err := newDialect(cfg)
	if err != nil {
		return nil, err
	}
	return sqlapply.New(d, cfg.Options, maxRunRows)
}

type dialect struct {
	cfg       *pgx.ConnConfig
	schema    string
	name      string
	copyMerge time.Duration
}

func newDialect(cfg Config) (*dialect, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, errors.New("postgres sink: url: expected postgres://user:password@host:port/database")
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		return nil, errors.New("postgres sink: url: no database (expected postgres://user:password@host:port/database)")
	}
	pc, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, errors.New("postgres sink: url: not a valid PostgreSQL URL")
	}
	pc.RuntimeParams["TimeZone"] = "UTC"
	pc.RuntimeParams["DateStyle"] = "ISO, YMD"
	pc.RuntimeParams["IntervalStyle"] = "postgres"
	pc.RuntimeParams["extra_float_digits"] = "3"
	pc.RuntimeParams["application_name"] = "siphon"
	schema := cfg.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	return &dialect{cfg: pc, schema: schema, name: fmt.Sprintf("postgres sink %s/%s", u.Host, db), copyMerge: cfg.CopyMerge}, nil
}

func (d *dialect) Target() string               { return d.name }
func (d *dialect) DefaultNamespace() string     { return d.schema }
func (d *dialect) ErrorAbortsTransaction() bool { return true }
func (d *dialect) FoldNames() bool              { return false }

func (d *dialect) Connect(ctx context.Context) (sqlapply.Conn, error) {
	c, err := pgx.ConnectConfig(ctx, d.cfg.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	return &conn{c: c, stmts: map[stmtKey]string{}, mergeFor: d.copyMerge}, nil
}

// Classify sorts PostgreSQL errors by SQLSTATE class.
func (d *dialect) Classify(err error) sqlapply.ErrorClass {
	if err == nil {
		return sqlapply.Fatal
	}
	var ve *sqlapply.ValueError
	if errors.As(err, &ve) {
		return sqlapply.DataError
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case strings.HasPrefix(pe.Code, "22"), strings.HasPrefix(pe.Code, "23"):
			return sqlapply.DataError
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03",
			strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "57P"),
			strings.HasPrefix(pe.Code, "58"):
			return sqlapply.Retryable
		}
		return sqlapply.Fatal
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return sqlapply.Fatal
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	if errors.As(err, &ne) || errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err) || strings.Contains(err.Error(), "conn closed") || strings.Contains(err.Error(), "conn busy") {
		return sqlapply.Retryable
	}
	return sqlapply.Fatal
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteName(n sqlapply.Name) string { return quoteIdent(n.Namespace) + "." + quoteIdent(n.Table) }
