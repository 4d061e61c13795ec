package config

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTableFilterMatch(t *testing.T) {
	type check struct {
		db, table string
		want      bool
	}
	tests := []struct {
		name             string
		include, exclude []string
		checks           []check
	}{
		{
			name: "default: every table outside the system databases",
			checks: []check{
				{"shop", "orders", true},
				{"Shop", "x", true},
				{"mysql", "user", false},
				{"information_schema", "TABLES", false},
				{"performance_schema", "threads", false},
				{"sys", "x", false},
				{"mysqlx", "t", true},
			},
		},
		{
			name:    "literal and database wildcard",
			include: []string{"shop.*", "crm.customers"},
			checks: []check{
				{"shop", "orders", true},
				{"shop", "", true},
				{"crm", "customers", true},
				{"crm", "orders", false},
				{"crm", "Customers", false}, // case-sensitive
				{"SHOP", "orders", false},
				{"shops", "orders", false},
			},
		},
		{
			name:    "exclude wins",
			include: []string{"shop.*"},
			exclude: []string{"shop.tmp_*", "shop.audit"},
			checks: []check{
				{"shop", "orders", true},
				{"shop", "tmp_1", false},
				{"shop", "tmp_", false},
				{"shop", "audit", false},
				{"shop", "audit2", true},
			},
		},
		{
			name:    "exclude with the default include",
			exclude: []string{"*.bak_*"},
			checks: []check{
				{"a", "t", true},
				{"a", "bak_t", false},
				{"mysql", "t", false},
			},
		},
		{
			name:    "question mark is one character, also a multibyte one",
			include: []string{"db?.t?", "ü.*"},
			checks: []check{
				{"db1", "t1", true},
				{"dbé", "té", true},
				{"db", "t1", false},
				{"db12", "t1", false},
				{"db1", "t", false},
				{"ü", "x", true},
			},
		},
		{
			name:    "stars anywhere, backtracking",
			include: []string{"*s*p.*a*b*c", "x.**"},
			checks: []check{
				{"shop", "abc", true},
				{"sp", "xaxbxcx", false},
				{"sp", "xaxbxc", true},
				{"sip", "aabbcc", true},
				{"sop", "acb", false},
				{"x", "anything", true},
			},
		},
		{
			name:    "the table part keeps further dots",
			include: []string{"db.a.*"},
			checks: []check{
				{"db", "a.b", true},
				{"db", "ab", false},
				{"db.a", "b", false},
			},
		},
		{
			name:    "wildcards never match system databases, literal names do",
			include: []string{"*.*", "mysql.user", "sys*.x"},
			checks: []check{
				{"shop", "t", true},
				{"mysql", "user", true},
				{"mysql", "db", false},
				{"sys", "x", false},
				{"sysx", "x", true},
			},
		},
		{
			name:    "regexp metacharacters are literal",
			include: []string{"a+b.(c)|[d]"},
			checks: []check{
				{"a+b", "(c)|[d]", true},
				{"aab", "c", false},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewTableFilter(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.checks {
				if got := f.Match(c.db, c.table); got != c.want {
					t.Errorf("Match(%q, %q) = %v, want %v", c.db, c.table, got, c.want)
				}
				// A table can only match inside a database that can.
				if c.want && !f.MatchDatabase(c.db) {
					t.Errorf("Match(%q, %q) but not MatchDatabase(%q)", c.db, c.table, c.db)
				}
			}
		})
	}
}

func TestTableFilterMatchDatabase(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		db               string
		want             bool
	}{
		{"default", nil, nil, "shop", true},
		{"default skips system", nil, nil, "performance_schema", false},
		{"included by a table pattern", []string{"crm.customers"}, nil, "crm", true},
		{"not included", []string{"crm.customers"}, nil, "shop", false},
		{"glob", []string{"shop_*.orders"}, nil, "shop_eu", true},
		{"whole database excluded", []string{"*.*"}, []string{"tmp.*"}, "tmp", false},
		{"whole database excluded by stars", nil, []string{"tm?.**"}, "tmp", false},
		{"some tables excluded", []string{"*.*"}, []string{"tmp.x*"}, "tmp", true},
		{"literal system database", []string{"mysql.user"}, nil, "mysql", true},
		{"wildcard system database", []string{"*.user"}, nil, "mysql", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := NewTableFilter(tt.include, tt.exclude)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.MatchDatabase(tt.db); got != tt.want {
				t.Errorf("MatchDatabase(%q) = %v, want %v", tt.db, got, tt.want)
			}
		})
	}
}

func TestNewTableFilterErrors(t *testing.T) {
	tests := []struct {
		include, exclude []string
		want             string
	}{
		{[]string{"shop"}, nil, `config: table pattern: "shop" has no dot: expected db.table, such as "shop.*"`},
		{[]string{"a.b", ""}, nil, "config: table pattern: empty pattern: expected db.table, such as shop.*"},
		{nil, []string{".t"}, `config: exclude table pattern: ".t" has no database part: expected db.table, such as "*.t"`},
		{nil, []string{"d."}, `config: exclude table pattern: "d." has no table part: expected db.table, such as "d.*"`},
	}
	for _, tt := range tests {
		f, err := NewTableFilter(tt.include, tt.exclude)
		if err == nil || err.Error() != tt.want || f != nil {
			t.Errorf("NewTableFilter(%q, %q) = %v, %v; want error %q", tt.include, tt.exclude, f, err, tt.want)
		}
	}
}

func TestTableFilterString(t *testing.T) {
	f, err := NewTableFilter([]string{"a.*", "b.c"}, []string{"a.tmp"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.String(), "include a.*, b.c; exclude a.tmp"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestTableFilterMatchDoesNotAllocate(t *testing.T) {
	f, err := NewTableFilter([]string{"shop.*", "crm.cust*", "x?.y"}, []string{"shop.tmp_*"})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		f.Match("crm", "customers")
		f.Match("shop", "tmp_1")
		f.MatchDatabase("other")
	})
	if allocs != 0 {
		t.Errorf("Match allocates %v times per run", allocs)
	}
}

func BenchmarkTableFilterMatch(b *testing.B) {
	f, err := NewTableFilter([]string{"shop.*", "crm.cust*", "inv_??.stock_*"}, []string{"shop.tmp_*"})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f.Match("inv_eu", "stock_levels")
	}
}

func FuzzMatchGlob(f *testing.F) {
	f.Add("a*b?c", "axxbyc")
	f.Add("*", "")
	f.Add("?é*", "éé")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		got := matchGlob(pattern, s)
		// The naive matcher is exponential in stars: compare on small inputs.
		if utf8.ValidString(pattern) && utf8.ValidString(s) && len(pattern) <= 16 && len(s) <= 32 {
			if want := naiveGlob([]rune(pattern), []rune(s)); got != want {
				t.Errorf("matchGlob(%q, %q) = %v, naive = %v", pattern, s, got, want)
			}
		}
		if !strings.ContainsAny(pattern, "*?") && got != (pattern == s) {
			t.Errorf("literal matchGlob(%q, %q) = %v", pattern, s, got)
		}
	})
}

// naiveGlob is the obvious recursive definition, for FuzzMatchGlob.
func naiveGlob(p, s []rune) bool {
	if len(p) == 0 {
		return len(s) == 0
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if naiveGlob(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return len(s) > 0 && naiveGlob(p[1:], s[1:])
	default:
		return len(s) > 0 && s[0] == p[0] && naiveGlob(p[1:], s[1:])
	}
}
