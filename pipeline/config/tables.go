package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// systemDatabases are never captured unless a pattern names them literally.
var systemDatabases = map[string]bool{
	"mysql": true, "information_schema": true, "performance_schema": true, "sys": true,
}

// TableFilter decides which tables a source captures. Patterns are
// db.table globs: * matches any run of characters (also none), ? exactly
// one; matching is case-sensitive. A table is captured when an include
// pattern matches it (no include patterns: every table) and no exclude
// pattern does. The system databases (mysql, information_schema,
// performance_schema, sys) only match an include pattern whose database
// part is literal, such as mysql.user.
//
// Patterns are compiled once; Match allocates nothing.
type TableFilter struct {
	include []tablePattern
	exclude []tablePattern
	text    string
}

type tablePattern struct {
	db, table glob
}

// NewTableFilter compiles include and exclude patterns.
func NewTableFilter(include, exclude []string) (*TableFilter, error) {
	f := &TableFilter{}
	for _, p := range include {
		tp, err := parseTablePattern(p)
		if err != nil {
			return nil, fmt.Errorf("config: table pattern: %w", err)
		}
		f.include = append(f.include, tp)
	}
	for _, p := range exclude {
		tp, err := parseTablePattern(p)
		if err != nil {
			return nil, fmt.Errorf("config: exclude table pattern: %w", err)
		}
		f.exclude = append(f.exclude, tp)
	}
	inc := "every table outside the system databases"
	if len(include) > 0 {
		inc = strings.Join(include, ", ")
	}
	f.text = "include " + inc
	if len(exclude) > 0 {
		f.text += "; exclude " + strings.Join(exclude, ", ")
	}
	return f, nil
}

// String describes the filter's patterns.
func (f *TableFilter) String() string { return f.text }

// Match reports whether table db.table is captured. Exclusion wins.
func (f *TableFilter) Match(db, table string) bool {
	if !f.included(db, table) {
		return false
	}
	for _, p := range f.exclude {
		if p.db.match(db) && p.table.match(table) {
			return false
		}
	}
	return true
}

func (f *TableFilter) included(db, table string) bool {
	if len(f.include) == 0 {
		return !systemDatabases[db]
	}
	for _, p := range f.include {
		if p.includesDB(db) && p.table.match(table) {
			return true
		}
	}
	return false
}

// MatchDatabase reports whether any table of db could be captured, so a
// source can skip a whole database.
func (f *TableFilter) MatchDatabase(db string) bool {
	for _, p := range f.exclude {
		if p.table.all && p.db.match(db) {
			return false
		}
	}
	if len(f.include) == 0 {
		return !systemDatabases[db]
	}
	for _, p := range f.include {
		if p.includesDB(db) {
			return true
		}
	}
	return false
}

func (p tablePattern) includesDB(db string) bool {
	if systemDatabases[db] && !p.db.literal {
		return false
	}
	return p.db.match(db)
}

// parseTablePattern splits db.table at the first dot: database names hold
// no dots, so any further dot belongs to the table part.
func parseTablePattern(s string) (tablePattern, error) {
	dot := strings.IndexByte(s, '.')
	switch {
	case s == "":
		return tablePattern{}, fmt.Errorf("empty pattern: expected db.table, such as shop.*")
	case dot < 0:
		return tablePattern{}, fmt.Errorf("%s has no dot: expected db.table, such as %s", quote(s), quote(s+".*"))
	case dot == 0:
		return tablePattern{}, fmt.Errorf("%s has no database part: expected db.table, such as %s", quote(s), quote("*"+s))
	case dot == len(s)-1:
		return tablePattern{}, fmt.Errorf("%s has no table part: expected db.table, such as %s", quote(s), quote(s+"*"))
	}
	return tablePattern{db: compileGlob(s[:dot]), table: compileGlob(s[dot+1:])}, nil
}

// glob is a compiled * and ? pattern.
type glob struct {
	pattern string
	literal bool // no wildcards: plain string comparison
	all     bool // only stars: matches everything
}

func compileGlob(p string) glob {
	return glob{
		pattern: p,
		literal: !strings.ContainsAny(p, "*?"),
		all:     strings.Trim(p, "*") == "",
	}
}

func (g glob) match(s string) bool {
	switch {
	case g.literal:
		return g.pattern == s
	case g.all:
		return true
	}
	return matchGlob(g.pattern, s)
}

// matchGlob matches s against a pattern of literal bytes, * (any run of
// characters) and ? (one character), backtracking only to the last star.
func matchGlob(p, s string) bool {
	px, sx := 0, 0
	starPx, starSx := -1, 0
	for px < len(p) || sx < len(s) {
		if px < len(p) {
			switch c := p[px]; c {
			case '*':
				starPx, starSx = px, sx
				px++
				continue
			case '?':
				if sx < len(s) {
					_, w := utf8.DecodeRuneInString(s[sx:])
					px++
					sx += w
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if starPx >= 0 && starSx < len(s) {
			_, w := utf8.DecodeRuneInString(s[starSx:])
			starSx += w
			px, sx = starPx+1, starSx
			continue
		}
		return false
	}
	return true
}
