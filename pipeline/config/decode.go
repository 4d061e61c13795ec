package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decoder walks a YAML node tree against the key tables in spec.go and
// collects every problem instead of stopping at the first.
type decoder struct {
	lookupEnv func(string) (string, bool)
	baseDir   string
	problems  []Problem
}

// value is a node to decode together with where it sits in the file.
type value struct {
	path string
	line int        // line of the key (or list item) holding the node; for "required" problems
	node *yaml.Node // never an alias
}

func (v value) child(name string, line int, n *yaml.Node) value {
	p := name
	if v.path != "" {
		p = v.path + "." + name
	}
	return value{path: p, line: line, node: n}
}

func (v value) item(i int, n *yaml.Node) value {
	return value{path: v.path + "[" + strconv.Itoa(i) + "]", line: n.Line, node: n}
}

func (d *decoder) problem(line int, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// bad reports a problem with the value itself, at the value's line.
func (d *decoder) bad(v value, format string, args ...any) {
	d.problem(v.node.Line, v.path, format, args...)
}

var yamlErrorLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (d *decoder) decodeFile(data []byte) *Config {
	root, err := parseYAML(data)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		line := 0
		if m := yamlErrorLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		d.problem(line, "", "invalid YAML: %s", msg)
		return nil
	}
	cfg := &Config{StateDir: filepath.Join(d.baseDir, DefaultStateDir), Log: Log{Format: "text"}}
	if root == nil || isNull(root) {
		d.problem(0, "pipelines", "required")
		return cfg
	}
	decodeMapping(d, value{node: root}, configSection, cfg)
	return cfg
}

// parseYAML returns the single document's content node (nil for an empty
// file).
func parseYAML(data []byte) (root *yaml.Node, err error) {
	defer func() {
		// The parser is third-party code fed untrusted input; a panic in it
		// must become a configuration error, not crash siphon.
		if r := recover(); r != nil {
			root, err = nil, fmt.Errorf("yaml: the parser failed: %v", r)
		}
	}()
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, err
		}
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		return nil, fmt.Errorf("yaml: line %d: the file holds more than one YAML document", line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return resolveAlias(doc.Content[0]), nil
	}
	return nil, nil
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value"
	default:
		return "an alias"
	}
}

// key is one allowed key of a mapping section.
type key[T any] struct {
	name     string
	required bool     // required wherever the key is allowed
	only     []string // section types the key is allowed for; nil: every type
	decode   func(d *decoder, v value, dst *T)
}

func (k key[T]) allowedFor(typ string) bool {
	return k.only == nil || typ == "" || slices.Contains(k.only, typ)
}

// section describes a YAML mapping: its keys and, for sections that have a
// type key (sources, sinks), which type was chosen.
type section[T any] struct {
	what   string          // "source", "sink": names the type in messages
	typeOf func(*T) string // nil when the section has no type key
	keys   []key[T]
	finish func(d *decoder, v value, dst *T)
}

func (s section[T]) lookup(name string) (key[T], bool) {
	for _, k := range s.keys {
		if k.name == name {
			return k, true
		}
	}
	return key[T]{}, false
}

type pair struct {
	name    string
	keyLine int
	val     *yaml.Node
}

// decodeMapping decodes v into dst, which holds the defaults on entry.
func decodeMapping[T any](d *decoder, v value, s section[T], dst *T) {
	if v.node.Kind != yaml.MappingNode {
		d.bad(v, "expected a mapping of keys, got %s", kindName(v.node))
		return
	}
	pairs := mappingPairs(d, v)

	typ := ""
	done := map[int]bool{}
	present := map[string]bool{}
	if s.typeOf != nil {
		for i, p := range pairs {
			if p.name == "type" {
				k, _ := s.lookup("type")
				if !isNull(p.val) {
					k.decode(d, v.child(p.name, p.keyLine, p.val), dst)
					present["type"] = true
				}
				done[i] = true
				typ = s.typeOf(dst)
				break
			}
		}
	}
	// Missing keys first, so that a section's own problems precede those
	// of its children on the same line.
	for _, p := range pairs {
		if k, ok := s.lookup(p.name); ok && k.allowedFor(typ) && !isNull(p.val) {
			present[p.name] = true
		}
	}
	for _, k := range s.keys {
		if !k.required || present[k.name] {
			continue
		}
		if typ == "" && k.only != nil {
			continue // cannot tell whether it applies
		}
		if k.allowedFor(typ) {
			d.problem(v.line, v.child(k.name, 0, nil).path, "required")
		}
	}
	for i, p := range pairs {
		if done[i] {
			continue
		}
		k, ok := s.lookup(p.name)
		if !ok {
			d.problem(p.keyLine, v.path, "unknown key %s%s", quote(p.name), suggest(p.name, s, typ))
			continue
		}
		if !k.allowedFor(typ) {
			d.problem(p.keyLine, v.path, "key %s is not allowed for %s type %s (only for %s)",
				quote(p.name), s.what, typ, strings.Join(k.only, ", "))
			continue
		}
		if isNull(p.val) {
			continue // an empty value keeps the default
		}
		k.decode(d, v.child(p.name, p.keyLine, p.val), dst)
	}
	if s.finish != nil {
		s.finish(d, v, dst)
	}
}

// mappingPairs lists a mapping's keys, reporting malformed and duplicate
// ones (YAML parsers disagree on which duplicate wins, so neither does).
func mappingPairs(d *decoder, v value) []pair {
	var pairs []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(v.node.Content); i += 2 {
		kn := resolveAlias(v.node.Content[i])
		vn := resolveAlias(v.node.Content[i+1])
		if kn == nil || vn == nil {
			continue
		}
		if kn.Kind != yaml.ScalarNode {
			d.problem(kn.Line, v.path, "keys must be plain names, got %s", kindName(kn))
			continue
		}
		if kn.Value == "<<" && kn.ShortTag() == "!!merge" {
			d.problem(kn.Line, v.path, "merge keys (<<) are not supported")
			continue
		}
		if first, dup := seen[kn.Value]; dup {
			d.problem(kn.Line, v.path, "duplicate key %s (first at line %d)", quote(kn.Value), first)
			continue
		}
		seen[kn.Value] = kn.Line
		pairs = append(pairs, pair{name: kn.Value, keyLine: kn.Line, val: vn})
	}
	return pairs
}

// suggest proposes the allowed key closest to an unknown one.
func suggest[T any](name string, s section[T], typ string) string {
	best, bestDist := "", -1
	norm := normalizeKey(name)
	for _, k := range s.keys {
		if !k.allowedFor(typ) {
			continue
		}
		dist := levenshtein(norm, normalizeKey(k.name))
		if bestDist < 0 || dist < bestDist {
			best, bestDist = k.name, dist
		}
	}
	if bestDist < 0 || bestDist > max(2, len(norm)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func normalizeKey(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer("_", "", "-", "", ".", "").Replace(s)
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// scalar is a single value after ${VAR} expansion.
type scalar struct {
	text     string // expanded
	raw      string // as written in the file
	expanded bool   // an environment variable was substituted
}

// show quotes a value for a message. It quotes the text as written when an
// environment variable was substituted, so that secrets held in the
// environment never reach an error message, and hides URL passwords.
func (s scalar) show() string {
	if s.expanded {
		return quote(s.raw) + " (after expansion)"
	}
	return quote(s.text)
}

// quote quotes text from the file for a message: URL passwords hidden,
// long values cut.
func quote(s string) string {
	if strings.Contains(s, "@") {
		s = RedactURL(s)
	}
	const maxLen = 80
	if len(s) > maxLen {
		cut := maxLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strconv.Quote(s)
}

// scalar reads v as a single value and expands environment variables in it.
func (d *decoder) scalar(v value) (scalar, bool) {
	if v.node.Kind != yaml.ScalarNode {
		d.bad(v, "expected a single value, got %s", kindName(v.node))
		return scalar{}, false
	}
	text, expanded, errs := expandEnv(v.node.Value, d.lookupEnv)
	for _, e := range errs {
		d.bad(v, "%s", e)
	}
	if len(errs) > 0 {
		return scalar{}, false
	}
	return scalar{text: text, raw: v.node.Value, expanded: expanded}, true
}

// nonEmpty reads a string that must not be empty.
func (d *decoder) nonEmpty(v value) (scalar, bool) {
	s, ok := d.scalar(v)
	if !ok {
		return s, false
	}
	if s.text == "" {
		if s.expanded {
			d.bad(v, "must not be empty (%s expands to an empty string)", quote(s.raw))
		} else {
			d.bad(v, "must not be empty")
		}
		return s, false
	}
	return s, true
}

func (d *decoder) enum(v value, allowed ...string) (string, bool) {
	s, ok := d.scalar(v)
	if !ok {
		return "", false
	}
	if !slices.Contains(allowed, s.text) {
		d.bad(v, "%s is not one of %s", s.show(), strings.Join(allowed, ", "))
		return "", false
	}
	return s.text, true
}

func (d *decoder) boolean(v value) (bool, bool) {
	s, ok := d.scalar(v)
	if !ok {
		return false, false
	}
	switch strings.ToLower(s.text) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	d.bad(v, "%s is not a boolean: expected true or false", s.show())
	return false, false
}

func (d *decoder) integer(v value, lo, hi uint64) (uint64, bool) {
	s, ok := d.scalar(v)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s.text, 10, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		d.bad(v, "%s is not a whole number: expected %d..%d", s.show(), lo, hi)
		return 0, false
	}
	if err != nil || n < lo || n > hi {
		d.bad(v, "%s is out of range: expected %d..%d", s.show(), lo, hi)
		return 0, false
	}
	return n, true
}

func (d *decoder) size(v value, lo, hi int) (int, bool) {
	s, ok := d.scalar(v)
	if !ok {
		return 0, false
	}
	n, err := parseSize(s.text)
	if err != nil {
		d.bad(v, "%s is not a size: %v", s.show(), err)
		return 0, false
	}
	if n < lo || n > hi {
		if hi == math.MaxInt {
			d.bad(v, "%s is too small: expected at least %s", s.show(), formatSize(lo))
		} else {
			d.bad(v, "%s is out of range: expected %s..%s", s.show(), formatSize(lo), formatSize(hi))
		}
		return 0, false
	}
	return n, true
}

func (d *decoder) duration(v value, lo, hi time.Duration) (time.Duration, bool) {
	s, ok := d.scalar(v)
	if !ok {
		return 0, false
	}
	dur, err := time.ParseDuration(s.text)
	if err != nil {
		d.bad(v, "%s is not a duration: expected a number with a unit, such as 50ms, 30s or 1m", s.show())
		return 0, false
	}
	if dur < lo || dur > hi {
		d.bad(v, "%s is out of range: expected %v..%v", s.show(), lo, hi)
		return 0, false
	}
	return dur, true
}

// path reads a file system path and resolves it against the config
// file's directory. "-" (stdout) stays as it is when allowDash is set.
func (d *decoder) path(v value, allowDash bool) (string, bool) {
	s, ok := d.nonEmpty(v)
	if !ok {
		return "", false
	}
	if allowDash && s.text == "-" {
		return "-", true
	}
	if filepath.IsAbs(s.text) {
		return filepath.Clean(s.text), true
	}
	return filepath.Join(d.baseDir, s.text), true
}

// strings reads a list of strings, checking each with check.
func (d *decoder) strings(v value, check func(item value, s scalar) bool) ([]string, bool) {
	if v.node.Kind != yaml.SequenceNode {
		d.bad(v, "expected a list such as [\"a\", \"b\"], got %s", kindName(v.node))
		return nil, false
	}
	out := make([]string, 0, len(v.node.Content))
	ok := true
	for i, n := range v.node.Content {
		item := v.item(i, resolveAlias(n))
		s, good := d.scalar(item)
		if good {
			good = check(item, s)
		}
		ok = ok && good
		out = append(out, s.text)
	}
	return out, ok
}

// list decodes each item of a sequence with decodeItem.
func (d *decoder) list(v value, minItems int, decodeItem func(item value)) {
	if v.node.Kind != yaml.SequenceNode {
		d.bad(v, "expected a list, got %s", kindName(v.node))
		return
	}
	if len(v.node.Content) < minItems {
		d.bad(v, "at least %d required", minItems)
		return
	}
	for i, n := range v.node.Content {
		decodeItem(v.item(i, resolveAlias(n)))
	}
}

// keyLine returns the line of key name in mapping n, or n's own line.
func keyLine(n *yaml.Node, name string) int {
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := resolveAlias(n.Content[i]); k != nil && k.Value == name {
				return k.Line
			}
		}
	}
	if n == nil {
		return 0
	}
	return n.Line
}
