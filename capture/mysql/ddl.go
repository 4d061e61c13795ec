package mysql

import (
	"strings"
	"unicode"
)

// ddlKind classifies a QUERY event.
type ddlKind uint8

const (
	queryOther    ddlKind = iota // GRANT, CREATE USER, FLUSH…: nothing siphon tracks
	queryBegin                   // BEGIN / START TRANSACTION / XA START
	queryCommit                  // COMMIT / XA COMMIT / XA END (non-transactional engines)
	queryRollback                // ROLLBACK
	queryTableDDL                // changes the definition of the tables it names
	queryDropDB                  // DROP DATABASE/SCHEMA: every table of the database is gone
	queryDML                     // statement-based INSERT/UPDATE/DELETE: siphon cannot decode it
	queryTruncate                // TRUNCATE TABLE
)

// tableRef is a table a statement names; Database is "" when unqualified.
type tableRef struct {
	Database, Name string
	Dropped        bool
}

// parsedQuery is what siphon needs to know about a QUERY event.
type parsedQuery struct {
	Kind     ddlKind
	Tables   []tableRef
	Database string // for queryDropDB
	// Unsure is set for a table DDL whose table list siphon could not read:
	// the caller refreshes every tracked table of the default database.
	Unsure bool
}

// parseQuery reads just enough of a statement to know whether it ends or
// starts a transaction, which tables' definitions it may change, or whether
// it is row data that siphon cannot decode. It is not a SQL parser: a DDL
// it cannot follow is reported as Unsure, and the caller then re-reads more
// than needed rather than less.
func parseQuery(q string) parsedQuery {
	l := lexer{s: q}
	w := l.keyword()
	switch w {
	case "BEGIN":
		return parsedQuery{Kind: queryBegin}
	case "START":
		if l.keyword() == "TRANSACTION" {
			return parsedQuery{Kind: queryBegin}
		}
	case "COMMIT":
		return parsedQuery{Kind: queryCommit}
	case "ROLLBACK":
		if l.keyword() == "TO" { // ROLLBACK TO SAVEPOINT stays inside the transaction
			return parsedQuery{Kind: queryOther}
		}
		return parsedQuery{Kind: queryRollback}
	case "XA":
		switch l.keyword() {
		case "START", "BEGIN":
			return parsedQuery{Kind: queryBegin}
		case "END", "PREPARE", "COMMIT":
			return parsedQuery{Kind: queryCommit}
		case "ROLLBACK":
			return parsedQuery{Kind: queryRollback}
		}
		return parsedQuery{Kind: queryOther}
	case "INSERT", "UPDATE", "DELETE", "REPLACE", "LOAD":
		return parsedQuery{Kind: queryDML}
	case "TRUNCATE":
		if l.peekKeyword() == "TABLE" {
			l.keyword()
		}
		return parsedQuery{Kind: queryTruncate, Tables: l.tableList(false)}
	case "CREATE":
		return parseCreate(&l)
	case "ALTER":
		return parseAlter(&l)
	case "DROP":
		return parseDrop(&l)
	case "RENAME":
		if l.keyword() != "TABLE" {
			return parsedQuery{Kind: queryOther}
		}
		var refs []tableRef
		for {
			from, ok := l.tableName()
			if !ok || l.keyword() != "TO" {
				return parsedQuery{Kind: queryTableDDL, Tables: refs, Unsure: true}
			}
			to, ok := l.tableName()
			if !ok {
				return parsedQuery{Kind: queryTableDDL, Tables: refs, Unsure: true}
			}
			from.Dropped = true
			refs = append(refs, from, to)
			if !l.punct(',') {
				return parsedQuery{Kind: queryTableDDL, Tables: refs}
			}
		}
	}
	return parsedQuery{Kind: queryOther}
}

func parseCreate(l *lexer) parsedQuery {
	w := l.keyword()
	if w == "OR" {
		l.keyword() // REPLACE
		w = l.keyword()
	}
	switch w {
	case "TEMPORARY":
		return parsedQuery{Kind: queryOther} // temporary tables never reach row events of real tables
	case "TABLE":
		l.skipIfNotExists()
		t, ok := l.tableName()
		if !ok {
			return parsedQuery{Kind: queryTableDDL, Unsure: true}
		}
		return parsedQuery{Kind: queryTableDDL, Tables: []tableRef{t}}
	case "UNIQUE", "FULLTEXT", "SPATIAL", "INDEX":
		for w != "" && w != "ON" {
			w = l.keyword()
		}
		t, ok := l.tableName()
		if !ok {
			return parsedQuery{Kind: queryTableDDL, Unsure: true}
		}
		return parsedQuery{Kind: queryTableDDL, Tables: []tableRef{t}}
	}
	return parsedQuery{Kind: queryOther}
}

func parseAlter(l *lexer) parsedQuery {
	w := l.keyword()
	for w == "ONLINE" || w == "OFFLINE" || w == "IGNORE" {
		w = l.keyword()
	}
	if w != "TABLE" {
		return parsedQuery{Kind: queryOther}
	}
	l.skipIfExists()
	t, ok := l.tableName()
	if !ok {
		return parsedQuery{Kind: queryTableDDL, Unsure: true}
	}
	refs := []tableRef{t}
	// ALTER TABLE a … RENAME [TO|AS] b: b is a new name for a.
	for !l.eof() {
		if l.peekKeyword() == "RENAME" {
			l.keyword()
			switch l.peekKeyword() {
			case "TO", "AS":
				l.keyword()
			case "COLUMN", "INDEX", "KEY":
				continue
			}
			if n, ok := l.tableName(); ok {
				refs[0].Dropped = true
				refs = append(refs, n)
			}
			continue
		}
		l.next()
	}
	return parsedQuery{Kind: queryTableDDL, Tables: refs}
}

func parseDrop(l *lexer) parsedQuery {
	w := l.keyword()
	switch w {
	case "TEMPORARY":
		return parsedQuery{Kind: queryOther}
	case "TABLE":
		l.skipIfExists()
		refs := l.tableList(true)
		if len(refs) == 0 {
			return parsedQuery{Kind: queryTableDDL, Unsure: true}
		}
		return parsedQuery{Kind: queryTableDDL, Tables: refs}
	case "INDEX":
		for w != "" && w != "ON" {
			w = l.keyword()
		}
		t, ok := l.tableName()
		if !ok {
			return parsedQuery{Kind: queryTableDDL, Unsure: true}
		}
		return parsedQuery{Kind: queryTableDDL, Tables: []tableRef{t}}
	case "DATABASE", "SCHEMA":
		l.skipIfExists()
		db, ok := l.ident()
		if !ok {
			return parsedQuery{Kind: queryOther}
		}
		return parsedQuery{Kind: queryDropDB, Database: db}
	}
	return parsedQuery{Kind: queryOther}
}

// lexer walks a statement token by token, skipping comments. MySQL's
// executable comments (/*!50100 … */) are read as code.
type lexer struct {
	s string
	i int
}

func (l *lexer) skipSpace() {
	for l.i < len(l.s) {
		c := l.s[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.i++
		case c == '#' || (c == '-' && strings.HasPrefix(l.s[l.i:], "-- ")):
			for l.i < len(l.s) && l.s[l.i] != '\n' {
				l.i++
			}
		case c == '/' && strings.HasPrefix(l.s[l.i:], "/*!"):
			l.i += 3
			for l.i < len(l.s) && l.s[l.i] >= '0' && l.s[l.i] <= '9' {
				l.i++
			}
		case c == '/' && strings.HasPrefix(l.s[l.i:], "/*"):
			end := strings.Index(l.s[l.i+2:], "*/")
			if end < 0 {
				l.i = len(l.s)
			} else {
				l.i += end + 4
			}
		case c == '*' && strings.HasPrefix(l.s[l.i:], "*/"):
			l.i += 2 // the end of an executable comment
		default:
			return
		}
	}
}

func (l *lexer) eof() bool { l.skipSpace(); return l.i >= len(l.s) }

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c))
}

// next consumes one token of any kind and returns it raw.
func (l *lexer) next() string {
	l.skipSpace()
	if l.i >= len(l.s) {
		return ""
	}
	start := l.i
	c := l.s[l.i]
	switch {
	case c == '`' || c == '\'' || c == '"':
		l.i++
		for l.i < len(l.s) {
			if l.s[l.i] == '\\' && c != '`' {
				l.i += 2
				continue
			}
			if l.s[l.i] == c {
				if l.i+1 < len(l.s) && l.s[l.i+1] == c {
					l.i += 2
					continue
				}
				l.i++
				break
			}
			l.i++
		}
	case isWordByte(c):
		for l.i < len(l.s) && isWordByte(l.s[l.i]) {
			l.i++
		}
	default:
		l.i++
	}
	if l.i > len(l.s) {
		l.i = len(l.s)
	}
	return l.s[start:l.i]
}

// keyword consumes the next token and returns it upper-cased when it is a
// bare word, "" otherwise.
func (l *lexer) keyword() string {
	t := l.next()
	if t == "" || !isWordByte(t[0]) {
		return ""
	}
	return strings.ToUpper(t)
}

func (l *lexer) peekKeyword() string {
	save := l.i
	w := l.keyword()
	l.i = save
	return w
}

func (l *lexer) punct(c byte) bool {
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == c {
		l.i++
		return true
	}
	return false
}

func (l *lexer) skipIfExists() {
	l.skipWords("IF", "EXISTS")
}

func (l *lexer) skipIfNotExists() {
	l.skipWords("IF", "NOT", "EXISTS")
}

// skipWords consumes the keywords when they come next, in this order, and
// nothing otherwise.
func (l *lexer) skipWords(words ...string) {
	save := l.i
	for _, w := range words {
		if l.keyword() != w {
			l.i = save
			return
		}
	}
}

// ident reads one identifier, bare or back-quoted.
func (l *lexer) ident() (string, bool) {
	t := l.next()
	if t == "" {
		return "", false
	}
	if t[0] == '`' {
		if len(t) < 2 || t[len(t)-1] != '`' {
			return "", false
		}
		return strings.ReplaceAll(t[1:len(t)-1], "``", "`"), true
	}
	if !isWordByte(t[0]) {
		return "", false
	}
	return t, true
}

// tableName reads [db.]table.
func (l *lexer) tableName() (tableRef, bool) {
	first, ok := l.ident()
	if !ok {
		return tableRef{}, false
	}
	save := l.i
	if l.punct('.') {
		second, ok := l.ident()
		if !ok {
			return tableRef{}, false
		}
		return tableRef{Database: first, Name: second}, true
	}
	l.i = save
	return tableRef{Name: first}, true
}

func (l *lexer) tableList(dropped bool) []tableRef {
	var refs []tableRef
	for {
		t, ok := l.tableName()
		if !ok {
			return refs
		}
		t.Dropped = dropped
		refs = append(refs, t)
		if !l.punct(',') {
			return refs
		}
	}
}
