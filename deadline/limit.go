package deadline

import (
	"strconv"
	"time"
)

// Unit is the unit a time limit counts in.
type Unit uint8

// Units. The zero Unit is no unit: a zero [Limit] is "no limit".
const (
	// WorkingDays (工作日) count only the calendar's working days
	// (行政许可法 第八十二条). Written "wd".
	WorkingDays Unit = iota + 1
	// NaturalDays (自然日) count every day; a period whose last day is not a
	// working day ends on the next working day (民法典 第二百零三条). Written "d".
	NaturalDays
	// Hours count elapsed hours, for urgent matters (急件). Written "h".
	Hours
)

// String returns the unit's suffix: "wd", "d" or "h".
func (u Unit) String() string {
	switch u {
	case WorkingDays:
		return "wd"
	case NaturalDays:
		return "d"
	case Hours:
		return "h"
	}
	return "unit(" + strconv.Itoa(int(u)) + ")"
}

// MaxLimit is the largest N a [Limit] may carry: one hundred years of days.
const MaxLimit = 36600

// Limit is a time limit (期限): N units, such as 20 working days (the
// 法定时限 of 行政许可法 第四十二条) or 48 hours. The zero Limit is no limit.
type Limit struct {
	N    int
	Unit Unit
}

// WD returns a limit of n working days.
func WD(n int) Limit { return Limit{N: n, Unit: WorkingDays} }

// Days returns a limit of n natural days.
func Days(n int) Limit { return Limit{N: n, Unit: NaturalDays} }

// HoursLimit returns a limit of n hours.
func HoursLimit(n int) Limit { return Limit{N: n, Unit: Hours} }

// IsZero reports whether l is the zero Limit (no limit).
func (l Limit) IsZero() bool { return l == Limit{} }

// Duration returns an hour limit as a duration; it is 0 for day units.
func (l Limit) Duration() time.Duration {
	if l.Unit != Hours {
		return 0
	}
	return time.Duration(l.N) * time.Hour
}

// String formats l as ParseLimit reads it, such as "20wd".
func (l Limit) String() string {
	if l.IsZero() {
		return "none"
	}
	return strconv.Itoa(l.N) + l.Unit.String()
}

// Valid reports whether l has a known unit and 0 <= N <= MaxLimit.
func (l Limit) Valid() bool {
	return l.Unit >= WorkingDays && l.Unit <= Hours && l.N >= 0 && l.N <= MaxLimit
}

// MarshalText implements encoding.TextMarshaler with the "20wd" form.
func (l Limit) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, &ParseError{What: "limit", Input: l.String(), Offset: -1, Expected: limitForm, Reason: "not a valid limit", Err: ErrInvalidLimit}
	}
	return []byte(l.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseLimit].
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

const limitForm = "N followed by wd (working days), d (natural days) or h (hours), such as 20wd, 30d or 48h, with 0 <= N <= 36600 and no leading zeros"

// ParseLimit parses a limit written as a decimal count followed by its unit:
// "20wd" (working days), "30d" (natural days), "48h" (hours). Errors are
// [*ParseError] values wrapping [ErrInvalidLimit].
func ParseLimit(s string) (Limit, error) {
	fail := func(off int, reason string) (Limit, error) {
		return Limit{}, &ParseError{What: "limit", Input: s, Offset: off, Expected: limitForm, Reason: reason, Err: ErrInvalidLimit}
	}
	i := 0
	n := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		n = n*10 + int(s[i]-'0')
		i++
		if n > MaxLimit {
			return fail(0, "the count is larger than 36600")
		}
	}
	if i == 0 {
		return fail(0, "the count is missing")
	}
	if s[0] == '0' && i > 1 {
		return fail(0, "the count has a leading zero")
	}
	var u Unit
	switch s[i:] {
	case "wd":
		u = WorkingDays
	case "d":
		u = NaturalDays
	case "h":
		u = Hours
	case "":
		return fail(i, "the unit is missing")
	default:
		return fail(i, "unknown unit "+strconv.Quote(s[i:]))
	}
	return Limit{N: n, Unit: u}, nil
}

// Period is an inclusive range of civil dates, such as the days a case was
// suspended for a hearing (听证) or a correction request (补正).
type Period struct {
	From, To Date
}

// Contains reports whether d lies in p, both ends included.
func (p Period) Contains(d Date) bool { return !d.Before(p.From) && !d.After(p.To) }

// Days returns the number of days in p (both ends counted).
func (p Period) Days() int { return p.To.Sub(p.From) + 1 }

// String formats p as "FROM/TO".
func (p Period) String() string { return p.From.String() + "/" + p.To.String() }

const periodForm = "FROM/TO with two YYYY-MM-DD dates, FROM not after TO, such as 2025-03-03/2025-03-07"

// ParsePeriod parses "FROM/TO", two YYYY-MM-DD dates, both included. It
// refuses a period that ends before it starts. Errors are [*ParseError]
// values wrapping [ErrInvalidPeriod].
func ParsePeriod(s string) (Period, error) {
	fail := func(off int, reason string) (Period, error) {
		return Period{}, &ParseError{What: "period", Input: s, Offset: off, Expected: periodForm, Reason: reason, Err: ErrInvalidPeriod}
	}
	if len(s) != 21 || s[10] != '/' {
		return fail(-1, "it is not two dates joined by '/'")
	}
	from, err := ParseDate(s[:10])
	if err != nil {
		return fail(0, "FROM: "+err.(*ParseError).Reason)
	}
	to, err := ParseDate(s[11:])
	if err != nil {
		return fail(11, "TO: "+err.(*ParseError).Reason)
	}
	if to.Before(from) {
		return fail(11, "it ends before it starts")
	}
	return Period{From: from, To: to}, nil
}
