package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mysql://repl:secret@127.0.0.1:3306", "mysql://repl:xxxxx@127.0.0.1:3306"},
		{"mysql://repl:secret@h:3306?tls=true", "mysql://repl:xxxxx@h:3306?tls=true"},
		{"mysql://repl@h", "mysql://repl@h"},
		{"mysql://repl:@h", "mysql://repl:xxxxx@h"},
		{"mysql://h:3306", "mysql://h:3306"},
		{"mysql://[::1]:3306", "mysql://[::1]:3306"},
		{"mysql://[::1]", "mysql://[::1]"},
		// Passwords with unescaped special characters are hidden whole.
		{"mysql://repl:se/cr?et#x@h:1", "mysql://repl:xxxxx@h:1"},
		{"mysql://repl:p@ss@h", "mysql://repl:xxxxx@h"},
		{"mysql://repl:p:a:ss@h", "mysql://repl:xxxxx@h"},
		// The host was forgotten: the password sits where a port would be.
		{"mysql://repl:secret", "mysql://repl:xxxxx"},
		{"mysql://repl:secret/x", "mysql://repl:xxxxx/x"},
		{"repl:secret@h", "repl:xxxxx@h"},
		{"", ""},
		{"not a url", "not a url"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseMySQLURL(t *testing.T) {
	tests := []struct {
		in   string
		want MySQLURL
	}{
		{"mysql://repl:secret@127.0.0.1", MySQLURL{Host: "127.0.0.1", Port: 3306, User: "repl", Password: "secret", TLS: "preferred", Charset: "utf8mb4"}},
		{"mariadb://repl@db:3307/?tls=skip-verify&charset=latin1", MySQLURL{Host: "db", Port: 3307, User: "repl", TLS: "skip-verify", Charset: "latin1"}},
		{"mysql://r%40pl:p%40ss%2Fw@[::1]:1?tls=false", MySQLURL{Host: "::1", Port: 1, User: "r@pl", Password: "p@ss/w", TLS: "false", Charset: "utf8mb4"}},
	}
	for _, tt := range tests {
		got, err := ParseMySQLURL(tt.in)
		if err != nil {
			t.Fatalf("ParseMySQLURL(%q): %v", RedactURL(tt.in), err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseMySQLURL(%q) (-want +got):\n%s", RedactURL(tt.in), diff)
		}
	}
	u, _ := ParseMySQLURL("mysql://r:secret@[::1]:1")
	if got, want := u.Addr(), "[::1]:1"; got != want {
		t.Errorf("Addr() = %q, want %q", got, want)
	}
	if got, want := u.String(), "mysql://r:xxxxx@[::1]:1?charset=utf8mb4&tls=preferred"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := u.LogValue().String(); strings.Contains(got, "secret") {
		t.Errorf("LogValue() = %q shows the password", got)
	}
	_, err := ParseMySQLURL("mysql://repl:secret@h:70000?tls=x")
	if err == nil || err.Error() != "port must be 1..65535; query parameter tls must be one of true, false, skip-verify, preferred" {
		t.Errorf("got %v", err)
	}
}
