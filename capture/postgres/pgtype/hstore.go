package pgtype

import (
	"errors"
	"sort"
)

var errHstoreSyntax = errors.New("not an hstore value")

type hstorePair struct {
	key   string
	value string
	null  bool
}

// parseHstore reads hstore's output ("k"=>"v", "k2"=>NULL; quotes and
// backslashes escaped with a backslash). Later duplicates replace earlier
// ones, as in the Java map Debezium fills.
func parseHstore(b []byte) ([]hstorePair, error) {
	var pairs []hstorePair
	i := skipSpace(b, 0)
	for i < len(b) {
		key, next, ok := hstoreString(b, i)
		if !ok {
			return nil, errHstoreSyntax
		}
		i = skipSpace(b, next)
		if i+1 >= len(b) || b[i] != '=' || b[i+1] != '>' {
			return nil, errHstoreSyntax
		}
		i = skipSpace(b, i+2)
		p := hstorePair{key: key}
		if i+4 <= len(b) && (string(b[i:i+4]) == "NULL" || string(b[i:i+4]) == "null") {
			p.null = true
			i += 4
		} else {
			p.value, i, ok = hstoreString(b, i)
			if !ok {
				return nil, errHstoreSyntax
			}
		}
		pairs = appendPair(pairs, p)
		i = skipSpace(b, i)
		if i < len(b) {
			if b[i] != ',' {
				return nil, errHstoreSyntax
			}
			i = skipSpace(b, i+1)
			if i == len(b) {
				return nil, errHstoreSyntax
			}
		}
	}
	return pairs, nil
}

func appendPair(pairs []hstorePair, p hstorePair) []hstorePair {
	for i := range pairs {
		if pairs[i].key == p.key {
			pairs[i].value, pairs[i].null = p.value, p.null
			return pairs
		}
	}
	return append(pairs, p)
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// hstoreString reads a double-quoted hstore string at b[i:].
func hstoreString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", 0, false
	}
	i++
	start := i
	escaped := false
	for ; i < len(b); i++ {
		switch b[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			if !escaped {
				return string(b[start:i]), i + 1, true
			}
			return unescapeQuoted(b[start:i]), i + 1, true
		}
	}
	return "", 0, false
}

// unescapeQuoted removes the backslashes of a quoted string.
func unescapeQuoted(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			i++
		}
		out = append(out, b[i])
	}
	return string(out)
}

// javaHashOrder puts hstore pairs in the iteration order of the
// java.util.HashMap pgjdbc's HStoreConverter.fromString fills and Debezium
// serialises: bucket by bucket of the final table, insertion order within a
// bucket. The table starts with 16 buckets and doubles when the size passes
// 3/4 of it, or when a bucket reaches 9 entries while the table has fewer
// than 64 buckets. A bucket that Java turns into a tree (9 colliding keys in
// a table of 64 or more) may iterate in another order; the JSON content is
// the same.
func javaHashOrder(pairs []hstorePair) []hstorePair {
	if len(pairs) < 2 {
		return pairs
	}
	hashes := make([]uint32, len(pairs))
	for i, p := range pairs {
		h := javaStringHash(p.key)
		hashes[i] = h ^ h>>16
	}
	n := uint32(16)
	counts := make(map[uint32]int)
	for i := range pairs {
		idx := hashes[i] & (n - 1)
		counts[idx]++
		if counts[idx] >= 9 && n < 64 {
			n *= 2
			counts = recount(hashes[:i+1], n)
		}
		if i+1 > int(n)*3/4 {
			n *= 2
			counts = recount(hashes[:i+1], n)
		}
	}
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return hashes[order[a]]&(n-1) < hashes[order[b]]&(n-1)
	})
	out := make([]hstorePair, len(pairs))
	for i, j := range order {
		out[i] = pairs[j]
	}
	return out
}

func recount(hashes []uint32, n uint32) map[uint32]int {
	c := make(map[uint32]int, len(hashes))
	for _, h := range hashes {
		c[h&(n-1)]++
	}
	return c
}

// javaStringHash is String.hashCode(): over UTF-16 code units. Invalid
// UTF-8 counts as U+FFFD, as Java's decoder replaces it.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r -= 0x10000
			h = 31*h + uint32(0xD800+(r>>10))
			h = 31*h + uint32(0xDC00+(r&0x3FF))
			continue
		}
		h = 31*h + uint32(r)
	}
	return h
}

// appendHstoreJSON writes pairs as Debezium's hstore.handling.mode=json
// does: a Jackson JsonGenerator object, compact, null for NULL values.
func appendHstoreJSON(dst []byte, pairs []hstorePair) []byte {
	dst = append(dst, '{')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJacksonString(dst, p.key)
		dst = append(dst, ':')
		if p.null {
			dst = append(dst, "null"...)
		} else {
			dst = appendJacksonString(dst, p.value)
		}
	}
	return append(dst, '}')
}

// appendJacksonString quotes s as Jackson's default generator does: only
// '"', '\\' and control characters are escaped; \b \t \n \f \r have short
// forms, other controls are \u00XX with upper-case hex.
func appendJacksonString(dst []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c >= 0x20:
			dst = append(dst, c)
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
	}
	return append(dst, '"')
}
