package config

import (
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// RedactURL replaces the password of a connection URL with xxxxx. It works
// on text that does not parse as a URL too: everything between the first
// ':' of the user info and the last '@' is hidden, so a password holding
// an unescaped '/', '?', '#' or '@' is hidden as well. Without an '@', a
// non-numeric "port" is hidden, since mysql://user:secret (host forgotten)
// puts the password there.
func RedactURL(raw string) string {
	prefix, rest := "", raw
	if i := strings.Index(raw, "://"); i > 0 && isScheme(raw[:i]) {
		prefix, rest = raw[:i+3], raw[i+3:]
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		userinfo := rest[:at]
		if c := strings.IndexByte(userinfo, ':'); c >= 0 {
			return prefix + userinfo[:c+1] + "xxxxx" + rest[at:]
		}
		return raw
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := rest[:end]
	hostEnd := 0
	if strings.HasPrefix(authority, "[") {
		hostEnd = strings.IndexByte(authority, ']') + 1
	}
	c := strings.IndexByte(authority[hostEnd:], ':')
	if c < 0 {
		return raw
	}
	c += hostEnd
	if port := authority[c+1:]; port == "" || isDigits(port) {
		return raw
	}
	return prefix + authority[:c+1] + "xxxxx" + rest[end:]
}

// isScheme reports whether s is an RFC 3986 scheme.
func isScheme(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// MySQLURL is a parsed mysql:// (or mariadb://) source URL.
type MySQLURL struct {
	Host     string // name or IP address, IPv6 without brackets
	Port     int
	User     string
	Password string
	TLS      string // true | false | skip-verify | preferred
	Charset  string
}

// Defaults for a MySQL URL's optional parts.
const (
	DefaultMySQLPort    = 3306
	DefaultMySQLTLS     = "preferred"
	DefaultMySQLCharset = "utf8mb4"
)

// mysqlQueryParams are the query parameters a MySQL URL may carry, with
// the values each accepts (nil: any value matching charsetName).
var mysqlQueryParams = map[string][]string{
	"tls":     {"true", "false", "skip-verify", "preferred"},
	"charset": nil,
}

// ParseMySQLURL parses and checks a MySQL source URL. Its errors never
// contain any part of the URL, which may hold a password.
func ParseMySQLURL(raw string) (MySQLURL, error) {
	problems := mysqlURLProblems(raw)
	if len(problems) > 0 {
		return MySQLURL{}, errors.New(strings.Join(problems, "; "))
	}
	u, _ := url.Parse(raw)
	m := MySQLURL{Host: u.Hostname(), Port: DefaultMySQLPort, User: u.User.Username(), TLS: DefaultMySQLTLS, Charset: DefaultMySQLCharset}
	m.Password, _ = u.User.Password()
	if p := u.Port(); p != "" {
		m.Port, _ = strconv.Atoi(p)
	}
	q := u.Query()
	if v := q.Get("tls"); v != "" {
		m.TLS = v
	}
	if v := q.Get("charset"); v != "" {
		m.Charset = v
	}
	return m, nil
}

// Addr is host:port for net.Dial.
func (m MySQLURL) Addr() string { return net.JoinHostPort(m.Host, strconv.Itoa(m.Port)) }

// String writes the URL with the password redacted.
func (m MySQLURL) String() string {
	u := url.URL{Scheme: "mysql", Host: m.Addr()}
	if m.Password != "" {
		u.User = url.UserPassword(m.User, "xxxxx")
	} else {
		u.User = url.User(m.User)
	}
	return u.String() + "?charset=" + url.QueryEscape(m.Charset) + "&tls=" + url.QueryEscape(m.TLS)
}

// LogValue logs the URL with the password redacted.
func (m MySQLURL) LogValue() slog.Value { return slog.StringValue(m.String()) }

// mysqlURLProblems lists what is wrong with a MySQL URL, in words that
// quote no part of it: a malformed URL can put the password anywhere.
func mysqlURLProblems(raw string) []string {
	u, problems := serverURLProblems(raw, "mysql", "mariadb", "mysql://user:password@host:port")
	if u == nil {
		return problems
	}
	if u.Path != "" && u.Path != "/" {
		problems = append(problems, "must not have a path (choose databases with tables)")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		problems = append(problems, "must not have a #fragment (percent-encode # in a password as %23)")
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return append(problems, "has a malformed query string")
	}
	// Without user info the query may hold part of a password that contains
	// an unescaped '?', so parameter names are quoted only with user info.
	trusted := u.User != nil
	for _, name := range slices.Sorted(maps.Keys(query)) {
		vals := query[name]
		allowed, known := mysqlQueryParams[name]
		switch {
		case !known && trusted:
			problems = append(problems, "unknown query parameter "+strconv.Quote(name)+" (allowed: charset, tls)")
		case !known:
			problems = append(problems, "unknown query parameter (allowed: charset, tls)")
		case len(vals) > 1:
			problems = append(problems, "query parameter "+name+" given more than once")
		case allowed != nil && !slices.Contains(allowed, vals[0]):
			problems = append(problems, "query parameter "+name+" must be one of "+strings.Join(allowed, ", "))
		case allowed == nil && !isCharsetName(vals[0]):
			problems = append(problems, "query parameter "+name+" must be a character set name such as utf8mb4")
		}
	}
	return problems
}

// describeURLError explains a url.Parse failure without its input: the
// *url.Error, and some of its causes, quote the URL or part of it.
func describeURLError(err error, raw string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var escErr url.EscapeError
	if errors.As(err, &escErr) {
		return "has an invalid %-escape (percent-encode special characters of the user or password as %XX)"
	}
	var hostErr url.InvalidHostError
	if errors.As(err, &hostErr) {
		return "has an invalid character in its host"
	}
	msg := strings.TrimPrefix(err.Error(), "net/url: ")
	switch {
	case strings.HasPrefix(msg, "invalid port"):
		if !strings.Contains(raw, "@") {
			return "has an invalid port (is the host missing? expected mysql://user:password@host:port)"
		}
		return "port must be 1..65535"
	case msg == "invalid userinfo":
		return "has invalid characters in its user or password (percent-encode them as %XX)"
	case msg == "missing protocol scheme":
		return "has no scheme: expected mysql://user:password@host:port"
	case msg == "invalid control character in URL":
		return "contains a control character"
	case strings.HasPrefix(msg, "missing ']'"), strings.HasPrefix(msg, "invalid IP-literal"):
		return "has a malformed [IPv6] host"
	}
	return "is not a valid URL: expected mysql://user:password@host:port"
}

func isCharsetName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '_', '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		default:
			return false
		}
	}
	return true
}

// serverURLProblems checks what every server URL needs — a known scheme
// (one of two spellings), a host, a valid port, a user — in words that
// quote no part of it. It returns nil for u when the rest of the URL cannot
// be checked.
func serverURLProblems(raw, scheme, alias, form string) (u *url.URL, problems []string) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, []string{describeURLError(err, raw)}
	}
	if u.Scheme != scheme && u.Scheme != alias {
		if u.Scheme == "" {
			problems = append(problems, "has no scheme: expected "+form)
		} else {
			problems = append(problems, "scheme must be "+scheme+" or "+alias)
		}
	}
	if u.Opaque != "" {
		return nil, append(problems, "expected "+form)
	}
	if u.Hostname() == "" {
		problems = append(problems, "host required")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			problems = append(problems, "port must be 1..65535")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		problems = append(problems, "port must be 1..65535")
	}
	if u.User == nil || u.User.Username() == "" {
		problems = append(problems, "user required")
	}
	return u, problems
}
