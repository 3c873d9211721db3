package deadline

import (
	"slices"
	"sort"
)

// Pauses is a normalised set of paused periods (中止计时): the inclusive
// civil dates that a count skips entirely (行政许可法 第四十五条: hearings,
// testing, expert review and the like are not counted; a 补正 correction
// request stops the clock until the applicant resubmits). Overlapping and
// adjacent periods are merged. The zero Pauses has no period.
type Pauses struct {
	p []Period // sorted, disjoint, not adjacent
}

// NewPauses normalises periods, in any order and possibly overlapping,
// into a Pauses. A period that ends before it starts, or has a zero date,
// is [ErrInvalidPeriod].
func NewPauses(periods ...Period) (Pauses, error) {
	for _, p := range periods {
		if p.From.IsZero() || p.To.IsZero() || p.To.Before(p.From) {
			return Pauses{}, &ParseError{What: "period", Input: p.String(), Offset: -1, Expected: periodForm, Reason: "it ends before it starts or has no date", Err: ErrInvalidPeriod}
		}
	}
	if len(periods) == 0 {
		return Pauses{}, nil
	}
	ps := slices.Clone(periods)
	slices.SortFunc(ps, func(a, b Period) int { return a.From.Compare(b.From) })
	out := ps[:1]
	for _, p := range ps[1:] {
		last := &out[len(out)-1]
		if p.From.n <= last.To.n+1 {
			if p.To.After(last.To) {
				last.To = p.To
			}
			continue
		}
		out = append(out, p)
	}
	return Pauses{p: out}, nil
}

// Periods returns the merged periods in date order.
func (ps Pauses) Periods() []Period { return slices.Clone(ps.p) }

// Len returns the number of merged periods.
func (ps Pauses) Len() int { return len(ps.p) }

// Contains reports whether d is a paused date. It costs O(log n).
func (ps Pauses) Contains(d Date) bool {
	_, ok := ps.find(d)
	return ok
}

// find returns the period containing d.
func (ps Pauses) find(d Date) (Period, bool) {
	i := sort.Search(len(ps.p), func(i int) bool { return !ps.p[i].To.Before(d) })
	if i < len(ps.p) && !ps.p[i].From.After(d) {
		return ps.p[i], true
	}
	return Period{}, false
}

// count is the result of one count: the date, whether any day it needed was
// outside the coverage (and so assumed Monday to Friday), and the first
// such day.
type count struct {
	d     Date
	est   bool
	first Date
}

func (r *count) merge(d Date, est bool, first Date) {
	r.d = d
	if est && !r.est {
		r.est, r.first = true, first
	}
}

// Due returns the day on which a limit counted from start ends, by the
// rules of 民法典 第二百零一条 to 第二百零三条: the start day is not counted; N
// working days end at the end of the Nth working day after start; N natural
// days end on the Nth day after start, moved to the next working day when
// that day is not one; paused dates are not counted at all. An hour limit
// is [ErrInvalidLimit] here: it is counted in instants by a [Clock]. A
// count that needs a day outside the coverage is [ErrOutsideCalendar].
func (c *Calendar) Due(start Date, lim Limit, pauses Pauses) (Date, error) {
	r, err := c.due(start, lim, pauses)
	if err != nil {
		return Date{}, err
	}
	if r.est {
		return Date{}, c.outside(r.first)
	}
	return r.d, nil
}

// EstimateDue is Due that, where the count leaves the coverage, assumes
// Monday to Friday and reports estimated.
func (c *Calendar) EstimateDue(start Date, lim Limit, pauses Pauses) (due Date, estimated bool, err error) {
	r, err := c.due(start, lim, pauses)
	return r.d, r.est, err
}

func (c *Calendar) due(start Date, lim Limit, pauses Pauses) (count, error) {
	if start.IsZero() {
		return count{}, &ParseError{What: "date", Input: start.String(), Offset: -1, Expected: "a start date", Reason: "the start date is zero", Err: ErrInvalidDate}
	}
	if !lim.Valid() || lim.Unit == Hours {
		return count{}, &ParseError{What: "limit", Input: lim.String(), Offset: -1, Expected: "a limit in working days (wd) or natural days (d)", Reason: "not a day limit", Err: ErrInvalidLimit}
	}
	var r count
	n := lim.N
	switch lim.Unit {
	case WorkingDays:
		if n == 0 {
			return count{d: start}, nil
		}
		extra := 0
		r.merge(c.addWorkdays(start, n))
		for _, p := range pauses.p {
			if !p.To.After(start) {
				continue
			}
			if p.From.After(r.d) {
				break
			}
			lo := p.From
			if !lo.After(start) {
				lo = start.AddDays(1)
			}
			k, est, first := c.workdays(lo.AddDays(-1), p.To)
			if est && !r.est {
				r.est, r.first = true, first
			}
			extra += k
			r.merge(c.addWorkdays(start, n+extra))
		}
	case NaturalDays:
		extra := 0
		cand := start.AddDays(n)
		for _, p := range pauses.p {
			if !p.To.After(start) {
				continue
			}
			if p.From.After(cand) {
				break
			}
			lo := p.From
			if !lo.After(start) {
				lo = start.AddDays(1)
			}
			extra += p.To.Sub(lo) + 1
			cand = start.AddDays(n + extra)
		}
		if cand.IsZero() {
			return count{}, &ParseError{What: "limit", Input: lim.String(), Offset: -1, Expected: "a limit that ends before 9999-12-31", Reason: "the count runs past the last date", Err: ErrInvalidLimit}
		}
		// 民法典 第二百零三条: a last day that is not a working day (or is
		// paused) moves to the next day that is both.
		for {
			w, est, first := c.nextWorkday(cand)
			r.merge(w, est, first)
			p, paused := pauses.find(w)
			if !paused {
				break
			}
			cand = p.To.AddDays(1)
		}
	}
	if r.d.IsZero() {
		return count{}, &ParseError{What: "limit", Input: lim.String(), Offset: -1, Expected: "a limit that ends before 9999-12-31", Reason: "the count runs past the last date", Err: ErrInvalidLimit}
	}
	return r, nil
}

// units returns the days of unit u after from up to and including to,
// paused dates included (the literal "days left" of a warning).
func (c *Calendar) units(u Unit, from, to Date) (int, bool, Date) {
	if u == NaturalDays {
		if !to.After(from) {
			return 0, false, Date{}
		}
		return to.Sub(from), false, Date{}
	}
	return c.workdays(from, to)
}

// warnFrom returns the first day on which at most n days of unit u remain
// after it up to and including due; it is never before start.
func (c *Calendar) warnFrom(start, due Date, n int, u Unit) (Date, bool, Date) {
	left, est, first := c.units(u, start, due)
	if left <= n {
		return start, est, first
	}
	if u == NaturalDays {
		return due.AddDays(-n), false, Date{}
	}
	// The last working day on or before due has index index(due+1)-1; the
	// warning starts on the working day n before it.
	t := c.index(int64(due.n)+1) - 1 - int64(n)
	d := c.nth(t)
	f, ok := c.check(d, int64(due.n), false)
	if !ok {
		return dateOf(d), true, f
	}
	return dateOf(d), est, first
}
