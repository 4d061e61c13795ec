package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// expandEnv replaces ${NAME} with the variable's value and $${ with a
// literal ${. Substituted text is never scanned again. It reports every
// unset variable (by name, never by value) and malformed reference.
func expandEnv(s string, lookup func(string) (string, bool)) (out string, expanded bool, problems []string) {
	if !strings.Contains(s, "${") {
		return s, false, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				problems = append(problems, "unterminated ${ (write $${ for a literal ${)")
				return "", false, problems
			}
			name := s[i+2 : i+2+end]
			i += 2 + end + 1
			if !isEnvName(name) {
				problems = append(problems, fmt.Sprintf("%s is not a valid variable reference: expected ${NAME} with NAME made of letters, digits and _ (write $${ for a literal ${)", quote("${"+name+"}")))
				continue
			}
			val, ok := lookup(name)
			if !ok {
				problems = append(problems, fmt.Sprintf("environment variable %s is not set", name))
				continue
			}
			b.WriteString(val)
			expanded = true
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	if len(problems) > 0 {
		return "", false, problems
	}
	return b.String(), expanded, nil
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

var sizeUnits = []struct {
	suffix string
	factor int
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000},
	{"B", 1},
}

var errSizeSyntax = errors.New("expected a whole number of bytes with an optional unit B, KB, MB, GB, KiB, MiB or GiB, such as 65536, 64KiB or 4MiB")

// parseSize reads 65536, 64KiB, 4MiB (4·2^20), 4MB (4·10^6), 1GiB.
func parseSize(s string) (int, error) {
	num, factor := strings.TrimSpace(s), 1
	for _, u := range sizeUnits {
		if strings.HasSuffix(num, u.suffix) {
			num, factor = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.factor
			break
		}
	}
	if num == "" || num[0] < '0' || num[0] > '9' {
		return 0, errSizeSyntax
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, errors.New("too large")
		}
		return 0, errSizeSyntax
	}
	if n > uint64(math.MaxInt)/uint64(factor) {
		return 0, errors.New("too large")
	}
	return int(n) * factor, nil
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int) string {
	for _, u := range []struct {
		suffix string
		factor int
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.factor && n%u.factor == 0 {
			return strconv.Itoa(n/u.factor) + u.suffix
		}
	}
	return strconv.Itoa(n)
}
