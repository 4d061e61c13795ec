package config

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// fuzzPassword marks the URL password; no error may ever contain it.
const fuzzPassword = "Zq7pW0rdMarker"

func stripMarker(s string) string {
	for strings.Contains(s, fuzzPassword) {
		s = strings.ReplaceAll(s, fuzzPassword, "")
	}
	return s
}

// jsonQuote writes s as a YAML double-quoted scalar (JSON strings are
// valid YAML), so that the parsed value is exactly s.
func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzParse feeds Parse two kinds of input: the raw bytes, which must
// never panic and must either fail with an *Error or give a complete
// Config; and a configuration whose URL password is fuzzPassword and whose
// other values (the rest of the URL included) come from the fuzzer,
// which must never produce an error containing the password.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/full.yaml", "testdata/bad.yaml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "@h:3306", "5401", "never", "shop.*", "out.jsonl")
	}
	f.Add([]byte(minimal), ":99999", "0", "sometimes", "shop", "")
	f.Add([]byte("pipelines: [{name: a, source: &s {type: mysql}, sinks: [*s]}]"), "", "x", "${X}", "$${", "-")
	f.Add([]byte("a: &a [*a]"), "@h?tls=1&x", "-1", "", ".", "${")
	f.Fuzz(func(t *testing.T, data []byte, urlTail, serverID, snapshot, table, path string) {
		checkParse(t, data)

		urlTail = stripMarker(urlTail)
		doc := "pipelines:\n  - name: a\n    source:\n      type: mysql\n" +
			"      url: " + jsonQuote("mysql://repl:"+fuzzPassword+urlTail) + "\n" +
			"      server_id: " + jsonQuote(stripMarker(serverID)) + "\n" +
			"      snapshot: " + jsonQuote(stripMarker(snapshot)) + "\n" +
			"      tables: [" + jsonQuote(stripMarker(table)) + "]\n" +
			"    sinks:\n      - type: file\n        path: " + jsonQuote(stripMarker(path)) + "\n"
		_, err := Parse([]byte(doc), "f.yaml", env(map[string]string{"X": "1"}))
		if err != nil && strings.Contains(err.Error(), fuzzPassword) {
			t.Fatalf("error shows the password:\n%v\ndocument:\n%s", err, doc)
		}
	})
}

func checkParse(t *testing.T, data []byte) {
	cfg, err := Parse(data, "f.yaml", env(map[string]string{"X": "1"}))
	if err != nil {
		var cerr *Error
		if !errors.As(err, &cerr) || len(cerr.Problems) == 0 || cfg != nil {
			t.Fatalf("Parse returned %T %v with config %v", err, err, cfg)
		}
		return
	}
	if len(cfg.Pipelines) == 0 {
		t.Fatal("a valid config without pipelines")
	}
	for _, p := range cfg.Pipelines {
		if p.Name == "" || p.Source.Type == "" || p.Source.URL == "" || p.Source.Filter == nil || len(p.Sinks) == 0 || p.Source.TopicPrefix == "" {
			t.Fatalf("incomplete pipeline in a valid config: %+v", p)
		}
		if _, err := ParseMySQLURL(p.Source.URL); err != nil {
			t.Fatalf("accepted URL does not parse: %v", err)
		}
	}
}

// FuzzRedactURL checks that a password never survives RedactURL, whatever
// surrounds it.
func FuzzRedactURL(f *testing.F) {
	f.Add("mysql://", "repl", "@127.0.0.1:3306")
	f.Add("", "", "")
	f.Add("mysql://", "u", "/x@y")
	f.Fuzz(func(t *testing.T, scheme, user, tail string) {
		if strings.Contains(user, "@") || strings.Contains(user, ":") || strings.Contains(scheme, "@") {
			return // the password is then not the password of this URL
		}
		if !strings.HasPrefix(tail, "@") {
			tail = "@" + tail
		}
		raw := scheme + user + ":" + fuzzPassword + tail
		if got := RedactURL(raw); strings.Contains(got, fuzzPassword) {
			t.Fatalf("RedactURL(%q) = %q", raw, got)
		}
	})
}
