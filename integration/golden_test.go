package integration

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files with the current output")

// volatile matches the values that differ from run to run — processing
// times, binlog coordinates, the writer's thread id — so that golden files
// pin everything else byte for byte, field order included.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`"ts_(ms|us|ns)":\d+`), `"ts_$1":0`},
	{regexp.MustCompile(`"file":"[^"]*"`), `"file":"<file>"`},
	{regexp.MustCompile(`"pos":\d+`), `"pos":0`},
	{regexp.MustCompile(`"gtid":"[^"]*"`), `"gtid":"<gtid>"`},
	{regexp.MustCompile(`"thread":\d+`), `"thread":0`},
	{regexp.MustCompile(`"version":"[^"]*","connector"`), `"version":"<version>","connector"`},
}

func normalize(line string) string {
	for _, v := range volatile {
		line = v.re.ReplaceAllString(line, v.repl)
	}
	return line
}

// checkGolden compares the records with testdata/golden/<name>.jsonl.
func checkGolden(t *testing.T, name string, rs []record) {
	t.Helper()
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(normalize(r.raw))
		b.WriteByte('\n')
	}
	got := b.String()
	path := filepath.Join("testdata", "golden", name+".jsonl")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s: line %d differs\n got: %s\nwant: %s", path, i+1, g, w)
		}
	}
}
