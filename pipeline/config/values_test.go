package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr string
	}{
		{in: "65536", want: 65536},
		{in: "0", want: 0},
		{in: "100B", want: 100},
		{in: "64KiB", want: 64 << 10},
		{in: "4MiB", want: 4 << 20},
		{in: "4MB", want: 4_000_000},
		{in: "4 MB", want: 4_000_000},
		{in: "2KB", want: 2000},
		{in: "1GiB", want: 1 << 30},
		{in: "3GB", want: 3_000_000_000},
		{in: "", wantErr: errSizeSyntax.Error()},
		{in: "MiB", wantErr: errSizeSyntax.Error()},
		{in: "1.5MiB", wantErr: errSizeSyntax.Error()},
		{in: "-1", wantErr: errSizeSyntax.Error()},
		{in: "+1", wantErr: errSizeSyntax.Error()},
		{in: "4mib", wantErr: errSizeSyntax.Error()},
		{in: "4Mb", wantErr: errSizeSyntax.Error()},
		{in: "4 TiB", wantErr: errSizeSyntax.Error()},
		{in: "0x10", wantErr: errSizeSyntax.Error()},
		{in: "1_000", wantErr: errSizeSyntax.Error()},
		{in: "99999999999999999999", wantErr: "too large"},
		{in: "9999999999GiB", wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("parseSize(%q) = %d, %v; want error %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int]string{0: "0", 1000: "1000", 1024: "1KiB", 1536: "1536", 4 << 20: "4MiB", 3 << 30: "3GiB"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestExpandEnv(t *testing.T) {
	lookup := env(map[string]string{"A": "1", "B_2": "two", "DOLLAR": "${A}", "E": ""})
	tests := []struct {
		in           string
		want         string
		wantExpanded bool
		wantProblems []string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "1", wantExpanded: true},
		{in: "x${A}y${B_2}z", want: "x1ytwoz", wantExpanded: true},
		{in: "${E}", want: "", wantExpanded: true},
		{in: "${DOLLAR}", want: "${A}", wantExpanded: true},
		{in: "$${A}", want: "${A}"},
		{in: "$$${A}", want: "$${A}"},
		{in: "$${", want: "${"},
		{in: "$A $ $$ }", want: "$A $ $$ }"},
		{in: "${A}$${B_2}", want: "1${B_2}", wantExpanded: true},
		{in: "${NOPE}", wantProblems: []string{"environment variable NOPE is not set"}},
		{in: "${X}-${Y}", wantProblems: []string{"environment variable X is not set", "environment variable Y is not set"}},
		{in: "${A", wantProblems: []string{"unterminated ${ (write $${ for a literal ${)"}},
		{in: "${}", wantProblems: []string{`"${}" is not a valid variable reference: expected ${NAME} with NAME made of letters, digits and _ (write $${ for a literal ${)`}},
		{in: "${1A}", wantProblems: []string{`"${1A}" is not a valid variable reference: expected ${NAME} with NAME made of letters, digits and _ (write $${ for a literal ${)`}},
		{in: "${A:-x}", wantProblems: []string{`"${A:-x}" is not a valid variable reference: expected ${NAME} with NAME made of letters, digits and _ (write $${ for a literal ${)`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, expanded, problems := expandEnv(tt.in, lookup)
			if diff := cmp.Diff(tt.wantProblems, problems); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if got != tt.want || expanded != tt.wantExpanded {
				t.Errorf("expandEnv(%q) = %q, %v; want %q, %v", tt.in, got, expanded, tt.want, tt.wantExpanded)
			}
		})
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"pth", ` (did you mean "path"?)`},
		{"Path", ` (did you mean "path"?)`},
		{"schema", ` (did you mean "schemas"?)`},
		{"tpye", ` (did you mean "type"?)`},
		{"destination", ""},
		{"server_id", ""}, // not a sink key at all
	}
	for _, tt := range tests {
		if got := suggest(tt.name, sinkSection, "file"); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := suggest("position-mode", sourceSection, "mysql"); got != ` (did you mean "position_mode"?)` {
		t.Errorf("got %q", got)
	}
	// A key of another type is not suggested.
	if got := suggest("position-mode", sourceSection, "postgres"); got != "" {
		t.Errorf("got %q", got)
	}
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"mysql://u:pw@h", `"mysql://u:xxxxx@h"`},
		{"a\nb", `"a\nb"`},
		{strings.Repeat("x", 100), `"` + strings.Repeat("x", 80) + `..."`},
		{strings.Repeat("é", 50), `"` + strings.Repeat("é", 40) + `..."`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
