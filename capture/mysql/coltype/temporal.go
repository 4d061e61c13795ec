package coltype

import "strconv"

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (Howard Hinnant's algorithm; java.time uses the same calendar).
func daysFromCivil(y, m, d int) int64 {
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
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func validDate(y, m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	days := [...]int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m-1]
	if m == 2 && isLeap(y) {
		days = 29
	}
	return d <= days
}

// adjustYear is Debezium's enable.time.adjuster (on by default): MySQL
// reads two-digit years 00-69 as 2000-2069 and 70-99 as 1970-1999, and
// Debezium applies the same to any stored year 0..99.
func adjustYear(y int) int {
	switch {
	case y >= 0 && y <= 69:
		return y + 2000
	case y >= 70 && y <= 99:
		return y + 1900
	}
	return y
}

// atoiN parses exactly the digits of s, or fails.
func atoiN(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// fracMicros reads up to six fractional digits as microseconds; further
// digits are truncated.
func fracMicros(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	if len(s) > 6 {
		if _, ok := atoiN(s[6:]); !ok {
			return 0, false
		}
		s = s[:6]
	}
	n, ok := atoiN(s)
	for i := len(s); i < 6; i++ {
		n *= 10
	}
	return n, ok
}

type civilTime struct {
	year, month, day     int
	hour, minute, second int
	micro                int
}

func (t civilTime) isZeroDate() bool { return t.year == 0 || t.month == 0 || t.day == 0 }

// epochMicros of the wall time taken as UTC.
func (t civilTime) epochMicros() int64 {
	secs := daysFromCivil(t.year, t.month, t.day)*86400 + int64(t.hour*3600+t.minute*60+t.second)
	return secs*1_000_000 + int64(t.micro)
}

// parseDate reads "YYYY-MM-DD".
func parseDate(s string) (civilTime, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return civilTime{}, false
	}
	y, ok1 := atoiN(s[:4])
	m, ok2 := atoiN(s[5:7])
	d, ok3 := atoiN(s[8:])
	return civilTime{year: y, month: m, day: d}, ok1 && ok2 && ok3
}

// parseDateTime reads "YYYY-MM-DD HH:MM:SS[.f…]".
func parseDateTime(s string) (civilTime, bool) {
	if len(s) < 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return civilTime{}, false
	}
	t, ok := parseDate(s[:10])
	if !ok {
		return civilTime{}, false
	}
	var ok1, ok2, ok3 bool
	t.hour, ok1 = atoiN(s[11:13])
	t.minute, ok2 = atoiN(s[14:16])
	t.second, ok3 = atoiN(s[17:19])
	if !ok1 || !ok2 || !ok3 {
		return civilTime{}, false
	}
	if len(s) > 19 {
		if s[19] != '.' {
			return civilTime{}, false
		}
		if t.micro, ok = fracMicros(s[20:]); !ok {
			return civilTime{}, false
		}
	}
	return t, true
}

// parseTimeMicros reads a TIME as go-mysql renders it, "[-]H…H:MM:SS[.f…]",
// into signed microseconds.
func parseTimeMicros(s string) (int64, bool) {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	hs, rest, ok := cutByte(s, ':')
	if !ok {
		return 0, false
	}
	ms, rest, ok := cutByte(rest, ':')
	if !ok {
		return 0, false
	}
	ss, fs, hasFrac := cutByte(rest, '.')
	h, ok1 := atoiN(hs)
	m, ok2 := atoiN(ms)
	sec, ok3 := atoiN(ss)
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	us := 0
	if hasFrac {
		if us, ok = fracMicros(fs); !ok {
			return 0, false
		}
	}
	v := (int64(h)*3600+int64(m)*60+int64(sec))*1_000_000 + int64(us)
	if neg {
		v = -v
	}
	return v, true
}

func cutByte(s string, sep byte) (before, after string, found bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// appendZonedTimestamp writes an instant the way Debezium's ZonedTimestamp
// does for a TIMESTAMP(fsp) column, in UTC: exactly fsp fractional digits
// when fsp > 0, else Java's ISO_OFFSET_DATE_TIME (a fraction only when
// non-zero, without trailing zeros).
func appendZonedTimestamp(dst []byte, sec int64, nanos int, fsp int) []byte {
	days := sec / 86400
	rem := sec % 86400
	if rem < 0 {
		rem += 86400
		days--
	}
	y, m, d := civilFromDays(days)
	dst = appendPadded(dst, y, 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, m, 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, d, 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, int(rem/3600), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, int(rem/60%60), 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, int(rem%60), 2)
	dst = appendFraction(dst, nanos, fsp)
	return append(dst, 'Z')
}

// appendFraction writes ".ddd": width digits of nanos when width > 0,
// else the digits without trailing zeros (nothing when nanos is 0).
func appendFraction(dst []byte, nanos, width int) []byte {
	if width <= 0 {
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
	if width > 9 {
		width = 9
	}
	for i := width; i < 9; i++ {
		nanos /= 10
	}
	dst = append(dst, '.')
	return appendPadded(dst, nanos, width)
}

func appendPadded(dst []byte, v, width int) []byte {
	if v >= 0 && width >= 1 && width <= 9 && int64(v) < pow10[width] {
		// The common case, without strconv's buffer: width digits.
		dst = append(dst, "000000000"[:width]...)
		for i := len(dst) - 1; v > 0; i-- {
			dst[i] = byte('0' + v%10)
			v /= 10
		}
		return dst
	}
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], int64(v), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
