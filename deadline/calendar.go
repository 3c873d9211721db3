package deadline

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Calendar knows which civil dates are working days (工作日): Monday to
// Friday, less statutory holidays (法定节假日), plus the Saturdays and
// Sundays that are working days (调休上班), over a coverage range of whole
// years. Counting a day outside the coverage is [ErrOutsideCalendar] unless
// the caller asks for an estimate, which assumes Monday to Friday outside
// the coverage and is flagged as estimated. A Calendar never guesses a
// holiday.
//
// A Calendar is immutable and safe for concurrent use. Its working days are
// precomputed into two tables (a running count per covered day and the list
// of working days), so every count and addition costs O(1) and allocates
// nothing, whatever the number of days counted.
type Calendar struct {
	name  string
	loc   *time.Location
	years []Year // base years, in order
	local []Year // local adjustments laid over them, in order

	c0, c1 int32   // first and last covered day numbers
	cum    []int32 // cum[i]: working days in [c0, c0+i), len = days+1
	work   []int32 // day numbers of the covered working days, ascending
	f0, f1 int64   // monFri(c0), monFri(c1+1)
}

// New builds a calendar named name from whole years of schedules. The
// years must be distinct and consecutive (the coverage is one range) and
// of one region. Use [Calendar.With] to lay local adjustments over it or to
// add a year. The calendar uses [Shanghai] for instants.
func New(name string, years ...Year) (*Calendar, error) {
	if len(years) == 0 {
		return nil, &CalendarError{Source: name, Violations: []Violation{{Rule: "deadline.calendar.empty", Message: "no year given; expected at least one year's schedule"}}}
	}
	ys := slices.Clone(years)
	slices.SortFunc(ys, func(a, b Year) int { return a.Year - b.Year })
	var vs []Violation
	for i := range ys {
		vs = append(vs, checkYear(&ys[i], fmt.Sprintf("/%d", i))...)
		if i > 0 {
			switch {
			case ys[i].Year == ys[i-1].Year:
				vs = append(vs, Violation{Pointer: fmt.Sprintf("/%d", i), Rule: "deadline.calendar.duplicate-year",
					Message: fmt.Sprintf("year %d is given twice; expected one schedule per year (lay local adjustments with With)", ys[i].Year)})
			case ys[i].Year != ys[i-1].Year+1:
				vs = append(vs, Violation{Pointer: fmt.Sprintf("/%d", i), Rule: "deadline.calendar.gap",
					Message: fmt.Sprintf("years %d and %d are not consecutive; expected one coverage range without gaps", ys[i-1].Year, ys[i].Year)})
			}
			if ys[i].Region != ys[0].Region {
				vs = append(vs, Violation{Pointer: fmt.Sprintf("/%d/region", i), Rule: "deadline.calendar.region",
					Message: fmt.Sprintf("region %s differs from %s; expected one region (lay local schedules with With)", ys[i].Region, ys[0].Region)})
			}
		}
	}
	if len(vs) > 0 {
		return nil, &CalendarError{Source: name, Violations: vs}
	}
	c := &Calendar{name: name, loc: Shanghai(), years: ys}
	c.build()
	return c, nil
}

// With returns a new calendar: c with each year laid over it. A year whose
// region differs from c's base region is a local adjustment (地方调整): its
// holidays become days off and its adjusted working days become working
// days, and it must lie inside c's coverage. A year of c's own region that
// c does not cover extends the coverage, and must be next to it. c itself
// is unchanged.
func (c *Calendar) With(years ...Year) (*Calendar, error) {
	base := slices.Clone(c.years)
	local := slices.Clone(c.local)
	region := c.years[0].Region
	first, last := c.years[0].Year, c.years[len(c.years)-1].Year
	var vs []Violation
	var extra []Year
	for i, y := range years {
		vs = append(vs, checkYear(&y, fmt.Sprintf("/%d", i))...)
		if y.Region == region {
			if y.Year >= first && y.Year <= last {
				vs = append(vs, Violation{Pointer: fmt.Sprintf("/%d/year", i), Rule: "deadline.calendar.duplicate-year",
					Message: fmt.Sprintf("%s %d is already covered; expected a new year or a local region", y.Region, y.Year)})
				continue
			}
			extra = append(extra, y)
			continue
		}
		local = append(local, y)
	}
	if len(vs) > 0 {
		return nil, &CalendarError{Source: c.name, Violations: vs}
	}
	nc, err := New(c.name, append(base, extra...)...)
	if err != nil {
		return nil, err
	}
	first, last = nc.years[0].Year, nc.years[len(nc.years)-1].Year
	regions := []string{c.name}
	for i, y := range local {
		if y.Year < first || y.Year > last {
			vs = append(vs, Violation{Pointer: fmt.Sprintf("/%d/year", i), Rule: "deadline.calendar.local-outside",
				Message: fmt.Sprintf("local schedule %s %d lies outside the coverage %d to %d; expected a covered year", y.Region, y.Year, first, last)})
		}
		if !slices.Contains(regions, y.Region) {
			regions = append(regions, y.Region)
		}
	}
	if len(vs) > 0 {
		return nil, &CalendarError{Source: c.name, Violations: vs}
	}
	nc.local = local
	nc.name = strings.Join(regions, "+")
	nc.loc = c.loc
	nc.build()
	return nc, nil
}

// InLocation returns a copy of c that converts instants to dates in loc.
func (c *Calendar) InLocation(loc *time.Location) *Calendar {
	nc := *c
	if loc == nil {
		loc = Shanghai()
	}
	nc.loc = loc
	return &nc
}

// Name returns the calendar's name, such as "CN" or "CN+CN-GX".
func (c *Calendar) Name() string { return c.name }

// Location returns the location in which instants become dates.
func (c *Calendar) Location() *time.Location { return c.loc }

// Years returns the schedules the calendar was built from: its base years,
// then its local adjustments.
func (c *Calendar) Years() []Year { return append(slices.Clone(c.years), c.local...) }

// Coverage returns the first and last dates the calendar covers.
func (c *Calendar) Coverage() Period { return Period{From: Date{c.c0}, To: Date{c.c1}} }

// Covers reports whether d is inside the calendar's coverage.
func (c *Calendar) Covers(d Date) bool { return d.n >= c.c0 && d.n <= c.c1 }

func (c *Calendar) build() {
	c.c0 = MustDate(c.years[0].Year, 1, 1).n
	c.c1 = MustDate(c.years[len(c.years)-1].Year, 12, 31).n
	days := int(c.c1-c.c0) + 1
	working := make([]bool, days)
	for i := range working {
		wd := Date{c.c0 + int32(i)}.Weekday()
		working[i] = wd != time.Saturday && wd != time.Sunday
	}
	set := func(d Date, v bool) {
		if c.Covers(d) {
			working[d.n-c.c0] = v
		}
	}
	for _, list := range [][]Year{c.years, c.local} {
		for _, y := range list {
			for _, h := range y.Holidays {
				for d := h.From; !d.After(h.To); d = d.AddDays(1) {
					set(d, false)
				}
			}
			for _, a := range y.AdjustedWorkdays {
				set(a.Date, true)
			}
		}
	}
	c.cum = make([]int32, days+1)
	c.work = c.work[:0:0]
	for i, w := range working {
		c.cum[i+1] = c.cum[i]
		if w {
			c.cum[i+1]++
			c.work = append(c.work, c.c0+int32(i))
		}
	}
	c.f0 = monFri(int64(c.c0))
	c.f1 = monFri(int64(c.c1) + 1)
}

// monFri returns the number of Mondays to Fridays among day numbers [1, n).
func monFri(n int64) int64 {
	q, r := floorDiv(n-1, 7)
	return 5*q + min(r, 5)
}

// monFriDay returns the day number of the Monday-to-Friday day with
// 0-based index k in the enumeration of all of them from day 1.
func monFriDay(k int64) int64 {
	q, r := floorDiv(k, 5)
	return 1 + 7*q + r
}

func floorDiv(a, b int64) (int64, int64) {
	q, r := a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return q, r
}

// index returns W(n): the number of working days before day n, counted
// from c0 (negative before the coverage), with Monday to Friday assumed
// outside it. It is monotonic in n.
func (c *Calendar) index(n int64) int64 {
	switch {
	case n <= int64(c.c0):
		return monFri(n) - c.f0
	case n <= int64(c.c1)+1:
		return int64(c.cum[n-int64(c.c0)])
	}
	return int64(c.cum[len(c.cum)-1]) + monFri(n) - c.f1
}

// nth returns the day number of the working day with index t (the inverse
// of index on working days).
func (c *Calendar) nth(t int64) int64 {
	total := int64(len(c.work))
	switch {
	case t < 0:
		return monFriDay(c.f0 + t)
	case t < total:
		return int64(c.work[t])
	}
	return monFriDay(c.f1 + t - total)
}

// covered reports whether day numbers [a, b] all lie in the coverage, and
// otherwise the first uncovered one in the direction of counting.
func (c *Calendar) check(a, b int64, forward bool) (Date, bool) {
	if a < int64(c.c0) || b > int64(c.c1) {
		if forward {
			if a < int64(c.c0) {
				return dateOf(a), false
			}
			return dateOf(int64(c.c1) + 1), false
		}
		if b > int64(c.c1) {
			return dateOf(b), false
		}
		return dateOf(int64(c.c0) - 1), false
	}
	return Date{}, true
}

func dateOf(n int64) Date {
	if n < 1 || n > int64(maxDay) {
		return Date{}
	}
	return Date{int32(n)}
}

func (c *Calendar) outside(d Date) error {
	return &OutsideError{Date: d, Coverage: c.Coverage(), Calendar: c.name}
}

// IsWorkday reports whether d is a working day. Outside the coverage it is
// [ErrOutsideCalendar]; see [Calendar.EstimateWorkday].
func (c *Calendar) IsWorkday(d Date) (bool, error) {
	if !c.Covers(d) {
		return false, c.outside(d)
	}
	i := d.n - c.c0
	return c.cum[i+1] != c.cum[i], nil
}

// EstimateWorkday is IsWorkday that, outside the coverage, assumes Monday
// to Friday and reports estimated.
func (c *Calendar) EstimateWorkday(d Date) (working, estimated bool) {
	if !c.Covers(d) {
		wd := d.Weekday()
		return wd != time.Saturday && wd != time.Sunday, true
	}
	i := d.n - c.c0
	return c.cum[i+1] != c.cum[i], false
}

// AddWorkdays returns the nth working day after d (n > 0), the |n|th
// working day before d (n < 0), or d itself (n = 0). The day d is not
// counted (民法典 第二百零一条). It costs O(1) and allocates nothing. When a
// day it must examine lies outside the coverage it returns
// [ErrOutsideCalendar].
func (c *Calendar) AddWorkdays(d Date, n int) (Date, error) {
	r, est, first := c.addWorkdays(d, n)
	if est {
		return Date{}, c.outside(first)
	}
	return r, nil
}

// EstimateAddWorkdays is AddWorkdays that, where it leaves the coverage,
// assumes Monday to Friday there and reports estimated.
func (c *Calendar) EstimateAddWorkdays(d Date, n int) (result Date, estimated bool) {
	r, est, _ := c.addWorkdays(d, n)
	return r, est
}

func (c *Calendar) addWorkdays(d Date, n int) (Date, bool, Date) {
	if n == 0 || d.IsZero() {
		return d, false, Date{}
	}
	dn := int64(d.n)
	if n > 0 {
		r := c.nth(c.index(dn+1) + int64(n) - 1)
		first, ok := c.check(dn+1, r, true)
		return dateOf(r), !ok, first
	}
	r := c.nth(c.index(dn) + int64(n))
	first, ok := c.check(r, dn-1, false)
	return dateOf(r), !ok, first
}

// Workdays returns the number of working days after from up to and
// including to (0 when to is not after from). It costs O(1) and allocates
// nothing; a day outside the coverage is [ErrOutsideCalendar].
func (c *Calendar) Workdays(from, to Date) (int, error) {
	n, est, first := c.workdays(from, to)
	if est {
		return 0, c.outside(first)
	}
	return n, nil
}

// EstimateWorkdays is Workdays that assumes Monday to Friday outside the
// coverage and reports estimated.
func (c *Calendar) EstimateWorkdays(from, to Date) (n int, estimated bool) {
	n, est, _ := c.workdays(from, to)
	return n, est
}

func (c *Calendar) workdays(from, to Date) (int, bool, Date) {
	if !to.After(from) {
		return 0, false, Date{}
	}
	a, b := int64(from.n)+1, int64(to.n)
	first, ok := c.check(a, b, true)
	return int(c.index(b+1) - c.index(a)), !ok, first
}

// nextWorkday returns the first working day on or after d.
func (c *Calendar) nextWorkday(d Date) (Date, bool, Date) {
	w, est := c.EstimateWorkday(d)
	if w {
		if est {
			return d, true, d
		}
		return d, false, Date{}
	}
	return c.addWorkdays(d, 1)
}
