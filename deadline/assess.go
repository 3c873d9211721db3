package deadline

// DayCase is a case seen at day level, as the command line sees it: a start
// date, a limit in working or natural days, paused dates, perhaps a date it
// was done, and the warning and red-card thresholds.
type DayCase struct {
	// Start is the day of the start event (受理日), which is not counted.
	Start Date
	// Limit is the legal limit, in wd or d.
	Limit Limit
	// Pauses are dates not counted.
	Pauses Pauses
	// Done is the day the case was finished, zero while it is open.
	Done Date
	// WarnBefore, when not zero, makes the status warning once the days
	// left after the day read up to and including the due date (working
	// days for wd, calendar days for d) are at most WarnBefore.N.
	WarnBefore Limit
	// RedAfter, when not zero, makes an overdue case red once the day read
	// is after the due date extended by RedAfter, counted from the due date
	// as a limit is counted from its start; without it an overdue case
	// stays yellow.
	RedAfter Limit
}

// Assessment is the outcome of [Calendar.Assess].
type Assessment struct {
	Status Status
	// Due is the due date.
	Due Date
	// RedFrom is the first red day, zero without RedAfter or when it was
	// not needed.
	RedFrom Date
	// Estimated says an uncovered day was assumed Monday to Friday.
	Estimated bool
}

// Assess returns the status of k on day now with day-level semantics:
// done-on-time if done is on or before the due date, else done-late; an
// open case whose day now is paused is paused; on or before the due date it
// is warning when the days left after now up to and including the due date
// are at most WarnBefore, else running; after the due date and up to and
// including the red line it is yellow, and red after that.
//
// A decision that needs a day outside the calendar's coverage is
// [ErrOutsideCalendar] unless estimate is set; a decision that uncovered
// days cannot change (a limit that certainly ends after the coverage, read
// inside it) is made without them.
func (c *Calendar) Assess(k DayCase, now Date, estimate bool) (Assessment, error) {
	if now.IsZero() {
		return Assessment{}, &ParseError{What: "date", Input: now.String(), Offset: -1, Expected: "a date to read the case on", Reason: "zero date", Err: ErrInvalidDate}
	}
	if !k.Done.IsZero() && k.Done.Before(k.Start) {
		return Assessment{}, &ParseError{What: "date", Input: k.Done.String(), Offset: -1, Expected: "a done date on or after the start " + k.Start.String(), Reason: "the case is done before it started", Err: ErrInvalidDate}
	}
	for _, l := range []Limit{k.WarnBefore, k.RedAfter} {
		if !l.IsZero() && (!l.Valid() || l.Unit == Hours) {
			return Assessment{}, &ParseError{What: "limit", Input: l.String(), Offset: -1, Expected: "N wd or N d", Reason: "not a day limit", Err: ErrInvalidLimit}
		}
	}
	r, err := c.due(k.Start, k.Limit, k.Pauses)
	if err != nil {
		return Assessment{}, err
	}
	a := Assessment{Due: r.d, Estimated: r.est}
	c1 := Date{c.c1}
	// beyond reports whether an estimated date certainly lies past the
	// coverage: the count started inside it and needed days after it.
	beyond := func(x count) bool { return x.est && !x.first.Before(Date{c.c0}) && x.d.After(c1) }
	uncertain := func() (Assessment, error) {
		first := r.first
		if first.IsZero() {
			first = c1.AddDays(1)
		}
		return Assessment{}, c.outside(first)
	}
	if !k.Done.IsZero() {
		a.Status = StatusDoneOnTime
		if k.Done.After(r.d) {
			a.Status = StatusDoneLate
		}
		if r.est && !estimate {
			if !(beyond(r) && !k.Done.After(c1)) {
				return uncertain()
			}
			a.Estimated = false
		}
		return a, nil
	}
	if k.Pauses.Contains(now) {
		a.Status = StatusPaused
		a.Estimated = false
		return a, nil
	}
	if !now.After(r.d) {
		a.Status = StatusRunning
		if r.est && !estimate {
			a.Estimated = false
			if !beyond(r) || now.After(c1) {
				return uncertain()
			}
			if k.WarnBefore.IsZero() {
				return a, nil
			}
			// The due date lies past the coverage. For a working-day limit
			// the working days still to count after the coverage are known,
			// and, unless a pause reaches past the coverage, they are
			// exactly the working days left after it; otherwise at least
			// one more day remains.
			rem, exact := 1, false
			if k.Limit.Unit == WorkingDays {
				used, _, _ := c.usedDays(k.Start, c1, WorkingDays, k.Pauses)
				rem = k.Limit.N - used
				exact = true
				for _, p := range k.Pauses.p {
					if p.To.After(c1) {
						exact = false
					}
				}
			}
			var left int
			if k.WarnBefore.Unit == NaturalDays {
				left = c1.AddDays(rem).Sub(now)
				exact = false
			} else {
				left, _, _ = c.units(WorkingDays, now, c1)
				left += rem
			}
			if left > k.WarnBefore.N {
				return a, nil
			}
			if exact {
				a.Status = StatusWarning
				return a, nil
			}
			return uncertain()
		}
		if !k.WarnBefore.IsZero() {
			left, est, first := c.units(k.WarnBefore.Unit, now, r.d)
			if est && !estimate {
				return Assessment{}, c.outside(first)
			}
			a.Estimated = a.Estimated || est
			if left <= k.WarnBefore.N {
				a.Status = StatusWarning
			}
		}
		return a, nil
	}
	if r.est && !estimate {
		return uncertain()
	}
	a.Status = StatusYellow
	if k.RedAfter.IsZero() {
		return a, nil
	}
	red, err := c.due(r.d, k.RedAfter, k.Pauses)
	if err != nil {
		return Assessment{}, err
	}
	if red.est && !estimate {
		if beyond(red) && !now.After(c1) {
			return a, nil
		}
		return Assessment{}, c.outside(red.first)
	}
	a.Estimated = a.Estimated || red.est
	a.RedFrom = red.d.AddDays(1)
	if now.After(red.d) {
		a.Status = StatusRed
	}
	return a, nil
}
