package pgtype

import (
	"math"
	"strconv"
)

// daysPerMonth is MicroDuration.DAYS_PER_MONTH_AVG.
const daysPerMonth = 365.25 / 12.0

// pgInterval holds an interval the way pgjdbc's PGInterval does: each unit
// on its own, seconds split into whole seconds and microseconds.
type pgInterval struct {
	years, months, days, hours, minutes int64
	wholeSeconds, microSeconds          int64
}

// parseInterval reads an INTERVAL as PostgreSQL prints it with
// IntervalStyle=postgres ("1 year 2 mons 3 days 04:05:06.789",
// "-1 days +02:03:00", "-00:00:01") exactly as PGInterval.setValue does:
// the text is split on blanks and '+'; odd tokens are numbers or a
// [-]H:MM[:SS[.f]] clock, even tokens the unit of the number before.
func parseInterval(b []byte) (pgInterval, bool) {
	var iv pgInterval
	var seconds float64
	var number []byte
	odd := true
	for i := 0; i < len(b); {
		if isIntervalSeparator(b[i]) {
			i++
			continue
		}
		j := i
		for j < len(b) && !isIntervalSeparator(b[j]) {
			j++
		}
		tok := b[i:j]
		i = j
		if odd {
			odd = false
			colon := indexByte(tok, ':')
			if colon < 0 {
				number = tok
				continue
			}
			neg := tok[0] == '-'
			start := 0
			if neg {
				start = 1
			}
			h, ok := parseJavaInt(tok[start:colon])
			if !ok || colon+3 > len(tok) {
				return pgInterval{}, false
			}
			m, ok := parseJavaInt(tok[colon+1 : colon+3])
			if !ok {
				return pgInterval{}, false
			}
			s := 0.0
			if rest := tok[colon+3:]; len(rest) > 0 {
				if rest[0] != ':' {
					return pgInterval{}, false
				}
				f, err := strconv.ParseFloat(string(rest[1:]), 64)
				if err != nil || !isPlainDecimal(rest[1:]) {
					return pgInterval{}, false
				}
				s = f
			}
			if neg {
				h, m, s = -h, -m, -s
			}
			iv.hours, iv.minutes, seconds = h, m, s
			number = nil
			continue
		}
		odd = true
		unit := tok
		var ok bool
		switch {
		case hasPrefix(unit, "year"):
			iv.years, ok = parseJavaIntOrZero(number)
		case hasPrefix(unit, "mon"):
			iv.months, ok = parseJavaIntOrZero(number)
		case hasPrefix(unit, "day"):
			iv.days, ok = parseJavaIntOrZero(number)
		case hasPrefix(unit, "hour"):
			iv.hours, ok = parseJavaIntOrZero(number)
		case hasPrefix(unit, "min"):
			iv.minutes, ok = parseJavaIntOrZero(number)
		case hasPrefix(unit, "sec"):
			ok = true
			seconds = 0
			if number != nil {
				f, err := strconv.ParseFloat(string(number), 64)
				ok = err == nil && isPlainDecimal(number)
				seconds = f
			}
		default:
			// PGInterval ignores words it does not know.
			ok = true
		}
		if !ok {
			return pgInterval{}, false
		}
	}
	// PGInterval.setSeconds: round to microseconds, then split.
	total := javaRound(seconds * microsPerSecond)
	iv.wholeSeconds = total / microsPerSecond
	iv.microSeconds = total % microsPerSecond
	return iv, true
}

// micros is MicroDuration.durationMicros(years, months, days, hours,
// minutes, PGInterval.getSeconds(), DAYS_PER_MONTH_AVG): computed in
// doubles, step by step as Java does (no fused multiply-add), and truncated
// to a long as Java's (long) cast does.
func (iv pgInterval) micros() int64 {
	seconds := float64(iv.wholeSeconds) + float64(iv.microSeconds)/microsPerSecond
	months := int32(int32(iv.years)*12 + int32(iv.months)) // Java int arithmetic
	days := float64(float64(months)*daysPerMonth) + float64(iv.days)
	secs := float64(float64(days*24)+float64(iv.hours)) * 60
	secs = float64(secs+float64(iv.minutes)) * 60
	secs += seconds
	return javaLong(float64(secs * 1e6))
}

// javaLong is Java's (long) cast of a double: truncation toward zero,
// saturating at the long range, NaN as 0.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// javaRound is Java's Math.round(double).
func javaRound(f float64) int64 {
	if math.IsNaN(f) {
		return 0
	}
	fl := math.Floor(f)
	if f-fl >= 0.5 {
		fl++
	}
	return javaLong(fl)
}

// parseJavaInt reads an optionally signed decimal integer. PGInterval uses
// Integer.parseInt; larger values (hours beyond 2^31, which PostgreSQL can
// print) are accepted here where Debezium would fail.
func parseJavaInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	neg := false
	if b[0] == '-' || b[0] == '+' {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseJavaIntOrZero is PGInterval's nullSafeIntGet: no number is 0.
func parseJavaIntOrZero(b []byte) (int64, bool) {
	if b == nil {
		return 0, true
	}
	return parseJavaInt(b)
}

// isPlainDecimal rejects what strconv.ParseFloat accepts beyond Java's
// Double.parseDouble on PostgreSQL's output: underscores, hex, "inf".
func isPlainDecimal(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// isIntervalSeparator: PGInterval turns '+' into a blank and splits with a
// StringTokenizer (blank, tab, newline, carriage return, form feed).
func isIntervalSeparator(c byte) bool {
	return c == ' ' || c == '+' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

func hasPrefix(b []byte, p string) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }

func indexByte(b []byte, c byte) int {
	for i := range b {
		if b[i] == c {
			return i
		}
	}
	return -1
}
