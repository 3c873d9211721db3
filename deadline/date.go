package deadline

import (
	"sync"
	"time"
)

// Date is a civil date (日期): a year, month and day with no time of day and
// no time zone, in the proleptic Gregorian calendar, years 1 to 9999. Legal
// time limits are counted in civil dates; an instant becomes a Date only
// through [DateOf] with an explicit location.
//
// The zero Date is not a valid date; [Date.IsZero] reports it. Dates are
// comparable with == and ordered with [Date.Compare], [Date.Before] and
// [Date.After]. A Date is four bytes.
type Date struct {
	// n is the day number, 1 for 0001-01-01 (a Monday); 0 is the zero Date.
	n int32
}

const (
	minYear = 1
	maxYear = 9999
)

// epochShift converts days since 1970-01-01 to the internal day number.
var epochShift = int32(daysFromCivil(1, 1, 1)) * -1

// NewDate returns the date year-month-day, or a [*ParseError] wrapping
// [ErrInvalidDate] if there is no such date (2025-02-29, month 13, year 0).
func NewDate(year int, month time.Month, day int) (Date, error) {
	if year < minYear || year > maxYear || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return Date{}, &ParseError{What: "date", Input: formatYMD(year, int(month), day), Offset: -1,
			Expected: "an existing date between 0001-01-01 and 9999-12-31", Err: ErrInvalidDate}
	}
	return Date{n: int32(daysFromCivil(year, int(month), day)) + epochShift + 1}, nil
}

// MustDate is like [NewDate] but panics on an invalid date; it is meant for
// constants in tests and examples.
func MustDate(year int, month time.Month, day int) Date {
	d, err := NewDate(year, month, day)
	if err != nil {
		panic(err)
	}
	return d
}

// ParseDate parses the ISO 8601 calendar date form YYYY-MM-DD exactly: ten
// bytes, four-digit year, two-digit month and day, and the date must exist.
// Errors are [*ParseError] values wrapping [ErrInvalidDate].
func ParseDate(s string) (Date, error) {
	fail := func(off int, reason string) (Date, error) {
		return Date{}, &ParseError{What: "date", Input: s, Offset: off, Expected: "YYYY-MM-DD, such as 2025-03-14", Reason: reason, Err: ErrInvalidDate}
	}
	if len(s) != 10 {
		return fail(-1, "length is not 10 bytes")
	}
	num := func(i, j int) (int, int) {
		v := 0
		for k := i; k < j; k++ {
			c := s[k]
			if c < '0' || c > '9' {
				return 0, k
			}
			v = v*10 + int(c-'0')
		}
		return v, -1
	}
	y, bad := num(0, 4)
	if bad >= 0 {
		return fail(bad, "year is not four digits")
	}
	if s[4] != '-' {
		return fail(4, "'-' is missing after the year")
	}
	m, bad := num(5, 7)
	if bad >= 0 {
		return fail(bad, "month is not two digits")
	}
	if s[7] != '-' {
		return fail(7, "'-' is missing after the month")
	}
	d, bad := num(8, 10)
	if bad >= 0 {
		return fail(bad, "day is not two digits")
	}
	if y < minYear {
		return fail(0, "year 0000 does not exist")
	}
	if m < 1 || m > 12 {
		return fail(5, "month is not 01 to 12")
	}
	if d < 1 || d > daysIn(y, time.Month(m)) {
		return fail(8, "the month has no such day")
	}
	return Date{n: int32(daysFromCivil(y, m, d)) + epochShift + 1}, nil
}

// DateOf returns the civil date of the instant t in loc; a nil loc means
// [Shanghai]. It never reads time.Local.
func DateOf(t time.Time, loc *time.Location) Date {
	if loc == nil {
		loc = Shanghai()
	}
	y, m, d := t.In(loc).Date()
	if y < minYear || y > maxYear {
		return Date{}
	}
	return Date{n: int32(daysFromCivil(y, int(m), d)) + epochShift + 1}
}

var (
	shanghaiOnce sync.Once
	shanghai     *time.Location
)

// Shanghai returns the Asia/Shanghai location (China Standard Time), the
// default for every legal date in this package. Where the system has no
// time zone database it falls back to a fixed UTC+8 zone of the same name,
// which is exact for every date since 1991, when China last observed
// daylight saving time.
func Shanghai() *time.Location {
	shanghaiOnce.Do(func() {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("Asia/Shanghai", 8*60*60)
		}
		shanghai = loc
	})
	return shanghai
}

// IsZero reports whether d is the zero Date, which is no date at all.
func (d Date) IsZero() bool { return d.n == 0 }

// Date returns the year, month and day of d.
func (d Date) Date() (year int, month time.Month, day int) {
	y, m, dd := civilFromDays(int64(d.n - 1 - epochShift))
	return y, time.Month(m), dd
}

// Year returns the year of d.
func (d Date) Year() int { y, _, _ := d.Date(); return y }

// Month returns the month of d.
func (d Date) Month() time.Month { _, m, _ := d.Date(); return m }

// Day returns the day of the month of d.
func (d Date) Day() int { _, _, dd := d.Date(); return dd }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	// Day 1 (0001-01-01) is a Monday.
	return time.Weekday((int(d.n-1)%7 + 1) % 7)
}

// AddDays returns the date n days after d (before it when n is negative).
// The result of stepping outside years 1 to 9999 is the zero Date.
func (d Date) AddDays(n int) Date {
	v := int64(d.n) + int64(n)
	if d.n == 0 || v < 1 || v > int64(maxDay) {
		return Date{}
	}
	return Date{n: int32(v)}
}

// Sub returns the number of days from u to d: positive when d is later.
func (d Date) Sub(u Date) int { return int(d.n) - int(u.n) }

// Compare returns -1, 0 or +1 as d is before, equal to or after u.
func (d Date) Compare(u Date) int {
	switch {
	case d.n < u.n:
		return -1
	case d.n > u.n:
		return 1
	}
	return 0
}

// Before reports whether d is before u.
func (d Date) Before(u Date) bool { return d.n < u.n }

// After reports whether d is after u.
func (d Date) After(u Date) bool { return d.n > u.n }

// Start returns the first instant of d in loc (a nil loc means [Shanghai]).
func (d Date) Start(loc *time.Location) time.Time {
	if loc == nil {
		loc = Shanghai()
	}
	y, m, dd := d.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, loc)
}

// End returns the first instant after d in loc, the moment a limit that
// ends "at the end of d" has run out.
func (d Date) End(loc *time.Location) time.Time {
	return d.AddDays(1).Start(loc)
}

// String formats d as YYYY-MM-DD; the zero Date formats as "0000-00-00".
func (d Date) String() string {
	if d.n == 0 {
		return "0000-00-00"
	}
	y, m, dd := d.Date()
	return formatYMD(y, int(m), dd)
}

// MarshalText implements encoding.TextMarshaler with the YYYY-MM-DD form.
// The zero Date cannot be marshalled.
func (d Date) MarshalText() ([]byte, error) {
	if d.n == 0 {
		return nil, &ParseError{What: "date", Input: "", Offset: -1, Expected: "a non-zero date", Reason: "the zero Date has no text form", Err: ErrInvalidDate}
	}
	return []byte(d.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseDate].
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func formatYMD(y, m, d int) string {
	var b [10]byte
	put := func(i, w, v int) {
		for k := i + w - 1; k >= i; k-- {
			b[k] = byte('0' + v%10)
			v /= 10
		}
	}
	if y < 0 || y > 9999 || m < 0 || m > 99 || d < 0 || d > 99 {
		return "invalid"
	}
	put(0, 4, y)
	b[4] = '-'
	put(5, 2, m)
	b[7] = '-'
	put(8, 2, d)
	return string(b[:])
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// daysFromCivil returns days since 1970-01-01 (H. Hinnant's algorithm).
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

func civilFromDays(z int64) (int, int, int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return int(y), int(m), int(d)
}

// maxDay is the day number of 9999-12-31.
var maxDay = int32(daysFromCivil(9999, 12, 31)) + epochShift + 1
