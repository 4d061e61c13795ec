package pgtype

import "math"

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86_400 * microsPerSecond
)

// Debezium's stand-ins for PostgreSQL's infinite timestamps: the
// microseconds of pgjdbc's PGStatement.DATE_POSITIVE_INFINITY and
// DATE_NEGATIVE_INFINITY (SPEC §4.3), and those in milliseconds.
const (
	infinityMicros    int64 = 9223372036825200000
	negInfinityMicros int64 = -9223372036832400000
	infinityMillis    int64 = 9223372036825200
	negInfinityMillis int64 = -9223372036832400
)

// Debezium's streaming values for date 'infinity' and '-infinity': its
// LocalDate stand-ins (-5877611-06-21 and -5877611-06-22) as epoch days.
const (
	infinityDays    int64 = -2147472692
	negInfinityDays int64 = -2147472691
)

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (astronomical years: 1 BC is year 0), as java.time counts them.
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func validDate(y, m, d int64) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int64{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && isLeap(y) {
		days = 29
	}
	return d <= days
}

// digits reads b[i:] while it holds ASCII digits, at most most of them.
func digits(b []byte, i, most int) (v int64, next int, ok bool) {
	start := i
	for i < len(b) && i-start < most && b[i] >= '0' && b[i] <= '9' {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i, i > start
}

// fixedDigits reads exactly n digits at b[i:].
func fixedDigits(b []byte, i, n int) (int64, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v, next, ok := digits(b, i, n)
	return v, ok && next == i+n
}

// parseDatePart reads PostgreSQL's ISO date "Y…Y-MM-DD" (four or more year
// digits) at the start of b and returns the position after it.
func parseDatePart(b []byte) (y, m, d int64, next int, ok bool) {
	y, i, ok := digits(b, 0, 10)
	if !ok || i < 4 || i >= len(b) || b[i] != '-' {
		return 0, 0, 0, 0, false
	}
	m, ok1 := fixedDigits(b, i+1, 2)
	if !ok1 || i+3 >= len(b) || b[i+3] != '-' {
		return 0, 0, 0, 0, false
	}
	d, ok2 := fixedDigits(b, i+4, 2)
	if !ok2 {
		return 0, 0, 0, 0, false
	}
	return y, m, d, i + 6, true
}

// parseClock reads "HH:MM:SS[.ffffff]" at b[i:] as microseconds after
// midnight; 24:00:00 is allowed as PostgreSQL allows it.
func parseClock(b []byte, i int) (us int64, next int, ok bool) {
	h, ok1 := fixedDigits(b, i, 2)
	if !ok1 || i+2 >= len(b) || b[i+2] != ':' {
		return 0, 0, false
	}
	mi, ok2 := fixedDigits(b, i+3, 2)
	if !ok2 || i+5 >= len(b) || b[i+5] != ':' {
		return 0, 0, false
	}
	s, ok3 := fixedDigits(b, i+6, 2)
	if !ok3 || h > 24 || mi > 59 || s > 59 {
		return 0, 0, false
	}
	us = (h*3600 + mi*60 + s) * microsPerSecond
	i += 8
	if i < len(b) && b[i] == '.' {
		f, j, ok := digits(b, i+1, 6)
		if !ok {
			return 0, 0, false
		}
		for n := j - (i + 1); n < 6; n++ {
			f *= 10
		}
		us += f
		i = j
	}
	if us > microsPerDay {
		return 0, 0, false
	}
	return us, i, true
}

// parseOffset reads a UTC offset "±HH[:MM[:SS]]" at b[i:] in seconds east.
func parseOffset(b []byte, i int) (secs int64, next int, ok bool) {
	if i >= len(b) || (b[i] != '+' && b[i] != '-') {
		return 0, 0, false
	}
	neg := b[i] == '-'
	h, ok1 := fixedDigits(b, i+1, 2)
	if !ok1 {
		return 0, 0, false
	}
	secs, i = h*3600, i+3
	for _, mul := range [...]int64{60, 1} {
		if i >= len(b) || b[i] != ':' {
			break
		}
		v, ok := fixedDigits(b, i+1, 2)
		if !ok || v > 59 {
			return 0, 0, false
		}
		secs, i = secs+v*mul, i+3
	}
	if neg {
		secs = -secs
	}
	return secs, i, true
}

// bcSuffix reports whether b[i:] is " BC" (true) or empty (false).
func bcSuffix(b []byte, i int) (bc, ok bool) {
	switch {
	case i == len(b):
		return false, true
	case len(b)-i == 3 && b[i] == ' ' && b[i+1] == 'B' && b[i+2] == 'C':
		return true, true
	}
	return false, false
}

// astronomicalYear turns a year of era into a proleptic year: 1 BC is 0.
func astronomicalYear(y int64, bc bool) int64 {
	if bc {
		return 1 - y
	}
	return y
}

// parseDate reads a DATE as PostgreSQL prints it with DateStyle=ISO into
// days since the epoch; inf is +1/-1 for 'infinity'/'-infinity'.
func parseDate(b []byte) (days int64, inf int, ok bool) {
	switch string(b) {
	case "infinity":
		return 0, 1, true
	case "-infinity":
		return 0, -1, true
	}
	y, m, d, i, ok := parseDatePart(b)
	if !ok {
		return 0, 0, false
	}
	bc, ok := bcSuffix(b, i)
	if !ok || y == 0 {
		return 0, 0, false
	}
	y = astronomicalYear(y, bc)
	if !validDate(y, m, d) {
		return 0, 0, false
	}
	return daysFromCivil(y, m, d), 0, true
}

// parseTime reads a TIME "HH:MM:SS[.ffffff]" into microseconds after
// midnight (86400000000 for 24:00:00).
func parseTime(b []byte) (int64, bool) {
	us, i, ok := parseClock(b, 0)
	return us, ok && i == len(b)
}

// parseTimetz reads a TIMETZ "HH:MM:SS[.ffffff]±HH[:MM[:SS]]" into its
// local microseconds after midnight and its offset in seconds east.
func parseTimetz(b []byte) (us, offset int64, ok bool) {
	us, i, ok := parseClock(b, 0)
	if !ok {
		return 0, 0, false
	}
	offset, i, ok = parseOffset(b, i)
	return us, offset, ok && i == len(b)
}

// parseTimestamp reads a TIMESTAMP, or with zone a TIMESTAMPTZ, as
// PostgreSQL prints it with DateStyle=ISO ("Y…Y-MM-DD HH:MM:SS[.f][±TZ][ BC]")
// into microseconds since the epoch (UTC for TIMESTAMPTZ, the wall clock
// taken as UTC for TIMESTAMP); inf is +1/-1 for 'infinity'/'-infinity'.
func parseTimestamp(b []byte, zone bool) (us int64, inf int, ok bool) {
	switch string(b) {
	case "infinity":
		return 0, 1, true
	case "-infinity":
		return 0, -1, true
	}
	y, m, d, i, ok := parseDatePart(b)
	if !ok || i >= len(b) || b[i] != ' ' {
		return 0, 0, false
	}
	clock, i, ok := parseClock(b, i+1)
	if !ok {
		return 0, 0, false
	}
	var offset int64
	if zone {
		if offset, i, ok = parseOffset(b, i); !ok {
			return 0, 0, false
		}
	}
	bc, ok := bcSuffix(b, i)
	if !ok || y == 0 {
		return 0, 0, false
	}
	y = astronomicalYear(y, bc)
	if !validDate(y, m, d) || clock == microsPerDay {
		return 0, 0, false
	}
	days := daysFromCivil(y, m, d)
	if days >= math.MaxInt64/microsPerDay || days <= math.MinInt64/microsPerDay {
		return 0, 0, false
	}
	return days*microsPerDay + clock - offset*microsPerSecond, 0, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// appendIsoDate writes a date as java.time's ISO_LOCAL_DATE does: four
// year digits at least, a sign on years beyond 9999 and before year 0.
func appendIsoDate(dst []byte, days int64) []byte {
	y, m, d := civilFromDays(days)
	switch {
	case y > 9999:
		dst = append(dst, '+')
	case y < 0:
		dst = append(dst, '-')
		y = -y
	}
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	return appendPadded(dst, d, 2)
}

// appendIsoClock writes "HH:MM:SS" and a fraction of micros: exactly width
// digits when width > 0, else java.time's minimal form (no fraction when
// zero, trailing zeros dropped).
func appendIsoClock(dst []byte, us int64, width int) []byte {
	secs := us / microsPerSecond
	dst = appendPadded(dst, secs/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs/60%60, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, secs%60, 2)
	frac := us % microsPerSecond
	nanos := frac * 1000
	if width <= 0 || width > 9 {
		if nanos == 0 {
			return dst
		}
		width = 9
		for nanos%10 == 0 {
			nanos /= 10
			width--
		}
		dst = append(dst, '.')
		return appendPadded(dst, nanos, width)
	}
	for i := width; i < 9; i++ {
		nanos /= 10
	}
	dst = append(dst, '.')
	return appendPadded(dst, nanos, width)
}

// appendZonedTimestamp writes an instant in UTC as Debezium's
// ZonedTimestamp does for a TIMESTAMPTZ column of the given fractional
// width (0: java's ISO_OFFSET_DATE_TIME, minimal fraction).
func appendZonedTimestamp(dst []byte, us int64, width int) []byte {
	days := floorDiv(us, microsPerDay)
	dst = appendIsoDate(dst, days)
	dst = append(dst, 'T')
	dst = appendIsoClock(dst, us-days*microsPerDay, width)
	return append(dst, 'Z')
}

func appendPadded(dst []byte, v int64, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	i--
	buf[i] = byte('0' + v)
	for n := len(buf) - i; n < width; n++ {
		dst = append(dst, '0')
	}
	return append(dst, buf[i:]...)
}
