package deadline

import (
	"strconv"
	"time"
)

// Status is the state of a case's clock at an instant.
type Status uint8

// Statuses, in the words the command line prints.
const (
	// StatusRunning: open, counting, no card level reached.
	StatusRunning Status = iota + 1
	// StatusPaused: open and suspended (中止计时).
	StatusPaused
	// StatusWarning: open, with at most the warning threshold left (预警).
	StatusWarning
	// StatusYellow: open and past the yellow rung's limit (黄牌).
	StatusYellow
	// StatusRed: open and past the red rung's limit (红牌).
	StatusRed
	// StatusDoneOnTime: finished on or before the legal due date (按时办结).
	StatusDoneOnTime
	// StatusDoneLate: finished after the legal due date (超期办结).
	StatusDoneLate
)

var statusNames = [...]string{"", "running", "paused", "warning", "yellow", "red", "done-on-time", "done-late"}

// String returns the status word, such as "done-on-time".
func (s Status) String() string {
	if s >= StatusRunning && s <= StatusDoneLate {
		return statusNames[s]
	}
	return "status(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText implements encoding.TextMarshaler with the status word.
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// statusOfLevel maps a card level to the open status it shows.
func statusOfLevel(l Level) Status {
	switch l {
	case LevelWarning:
		return StatusWarning
	case LevelYellow:
		return StatusYellow
	case LevelRed:
		return StatusRed
	}
	return StatusRunning
}

// Amount is an amount of time in a limit's unit: Days for wd and d, Time
// for h. It is negative when a limit is overrun.
type Amount struct {
	Unit Unit
	Days int
	Time time.Duration
}

// String formats the amount like a limit, such as "3wd" or "-2d" or "5h30m0s".
func (a Amount) String() string {
	if a.Unit == Hours {
		return a.Time.String()
	}
	return strconv.Itoa(a.Days) + a.Unit.String()
}

// Reading is what a clock says at an instant.
type Reading struct {
	// At is the instant read.
	At time.Time
	// Status is the clock's status at At.
	Status Status
	// Level is the highest card level whose rung has fired by At.
	Level Level
	// Due is the legal due date (法定期限届满日), extensions and pauses
	// counted; for an hour limit it is the date of DueAt. While the clock is
	// suspended it assumes the clock resumes after At's day.
	Due Date
	// DueAt is the instant the legal limit runs out: the end of Due, or
	// the exact instant for an hour limit.
	DueAt time.Time
	// PromisedDue and PromisedDueAt are the same for the promised limit;
	// zero when the rule has none.
	PromisedDue   Date
	PromisedDueAt time.Time
	// Used is the legal limit's time counted so far, and Left what
	// remains (negative once overrun), in the legal limit's unit; days are
	// counted through At's day.
	Used, Left Amount
	// Estimated says some day the reading needed lies outside the
	// calendar's coverage and was assumed Monday to Friday; only when the
	// rule allows estimates.
	Estimated bool
	// Next is the next instant at which a rung fires, if nothing else
	// happens; zero when none will (finished, suspended, or all fired).
	Next time.Time
}

// rungEval is one rung's outcome at an instant.
type rungEval struct {
	rung   Rung
	ok     bool // the watched limit applies (its step has started)
	fireAt time.Time
	est    bool
	fired  bool
	done   time.Time // when the watched track finished, zero if open
	due    Date
}

// evaluation is a clock's full state at an instant.
type evaluation struct {
	at        time.Time
	paused    bool
	dates     Pauses
	legal     track
	rungs     [3]rungEval // the ladder's rungs, n of them
	n         int
	est       bool
	next      time.Time
	coverEnd  time.Time
	estimates bool
}

// track is one watched limit of a case: from when, how long, until when.
type track struct {
	startAt time.Time
	start   Date
	lim     Limit
	endedAt time.Time
	due     Date
	dueAt   time.Time
	est     bool
	first   Date
}

// pausesAt returns the paused dates known at instant at (an open pause
// runs through at's day).
func (c *Clock) pausesAt(at time.Time) (Pauses, bool, error) {
	if len(c.pauses) == 0 {
		return Pauses{}, false, nil
	}
	loc := c.cal.loc
	ps := make([]Period, 0, len(c.pauses))
	paused := false
	for _, p := range c.pauses {
		if p.From.After(at) {
			break
		}
		to := p.To
		if to.IsZero() || to.After(at) {
			paused = true
			to = at
		}
		from := DateOf(p.From, loc)
		end := DateOf(to.Add(-time.Nanosecond), loc)
		if paused {
			end = DateOf(at, loc)
		}
		if end.Before(from) {
			end = from
		}
		ps = append(ps, Period{From: from, To: end})
	}
	out, err := NewPauses(ps...)
	return out, paused, err
}

// pausedDuration returns the time suspended in [from, to) known at at.
func (c *Clock) pausedDuration(from, to, at time.Time) time.Duration {
	var d time.Duration
	for _, p := range c.pauses {
		s, e := p.From, p.To
		if s.After(at) {
			break
		}
		if e.IsZero() || e.After(at) {
			e = at
		}
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		if e.After(s) {
			d += e.Sub(s)
		}
	}
	return d
}

// dueTrack fills t's due date and instant.
func (c *Clock) dueTrack(t *track, ps Pauses, at time.Time) error {
	if t.lim.Unit == Hours {
		// Each suspension that begins before the (moving) due instant
		// pushes it back by its length.
		due := t.startAt.Add(t.lim.Duration())
		for _, p := range c.pauses {
			if p.From.After(at) || !p.From.Before(due) {
				break
			}
			if p.From.Before(t.startAt) {
				continue
			}
			e := p.To
			if e.IsZero() || e.After(at) {
				e = at
			}
			due = due.Add(e.Sub(p.From))
		}
		t.dueAt = due
		t.due = DateOf(due, c.cal.loc)
		return nil
	}
	r, err := c.cal.due(t.start, t.lim, ps)
	if err != nil {
		return err
	}
	t.due, t.est, t.first = r.d, r.est, r.first
	t.dueAt = r.d.End(c.cal.loc)
	return nil
}

func (c *Clock) trackOf(w Watch, step string, at time.Time) (track, bool) {
	lim, ok := c.rule.limitOf(w, step)
	if !ok {
		return track{}, false
	}
	t := track{startAt: c.startAt, lim: lim}
	if !c.finishAt.IsZero() && !c.finishAt.After(at) {
		t.endedAt = c.finishAt
	}
	switch w {
	case WatchLegal:
		for _, x := range c.exts {
			if !x.At.After(at) {
				t.lim.N += x.By.N
			}
		}
	case WatchStep:
		ok = false
		for _, s := range c.steps {
			if s.name == step && !s.startAt.After(at) {
				ok = true
				t.startAt = s.startAt
				if !s.endedAt.IsZero() && !s.endedAt.After(at) && (t.endedAt.IsZero() || s.endedAt.Before(t.endedAt)) {
					t.endedAt = s.endedAt
				}
			}
		}
		if !ok {
			return track{}, false
		}
	}
	t.start = DateOf(t.startAt, c.cal.loc)
	return t, true
}

// fire returns when rung g fires for track t.
func (c *Clock) fire(g Rung, t *track, ps Pauses) (time.Time, bool, error) {
	loc := c.cal.loc
	if t.lim.Unit == Hours {
		switch g.When {
		case WhenLeft:
			f := t.dueAt.Add(-g.Offset.Duration())
			if f.Before(t.startAt) {
				f = t.startAt
			}
			return f, false, nil
		default:
			return t.dueAt.Add(g.Offset.Duration()), false, nil
		}
	}
	switch g.When {
	case WhenLeft:
		u := g.Offset.Unit
		if g.Offset.IsZero() {
			u = t.lim.Unit
		}
		d, est, _ := c.cal.warnFrom(t.start, t.due, g.Offset.N, u)
		f := d.Start(loc)
		if f.Before(t.startAt) {
			f = t.startAt
		}
		return f, est || t.est, nil
	default:
		if g.Offset.IsZero() {
			return t.dueAt, t.est, nil
		}
		r, err := c.cal.due(t.due, g.Offset, ps)
		if err != nil {
			return time.Time{}, false, err
		}
		return r.d.End(loc), r.est || t.est, nil
	}
}

// evaluate computes the clock's state at at into ev.
func (c *Clock) evaluate(at time.Time, ev *evaluation) error {
	if c.startAt.IsZero() || at.Before(c.startAt) {
		return &EventError{Clock: c.id, Index: -1, Kind: EventStarted, Msg: "the clock has not started at " + at.Format(time.RFC3339)}
	}
	ps, paused, err := c.pausesAt(at)
	if err != nil {
		return err
	}
	*ev = evaluation{at: at, paused: paused, dates: ps, estimates: c.rule.Estimate,
		coverEnd: Date{c.cal.c1}.End(c.cal.loc)}
	legal, _ := c.trackOf(WatchLegal, "", at)
	if err := c.dueTrack(&legal, ps, at); err != nil {
		return err
	}
	ev.legal = legal
	ev.est = legal.est
	finished := !legal.endedAt.IsZero()
	for _, g := range c.rule.ladder() {
		re := rungEval{rung: g}
		t, ok := c.trackOf(g.Watch, g.Step, at)
		if ok {
			if g.Watch != WatchLegal {
				if err := c.dueTrack(&t, ps, at); err != nil {
					return err
				}
			} else {
				t = legal
			}
			f, est, err := c.fire(g, &t, ps)
			if err != nil {
				return err
			}
			re.ok, re.fireAt, re.est, re.done, re.due = true, f, est, t.endedAt, t.due
			reached := !f.After(at) && (t.endedAt.IsZero() || f.Before(t.endedAt))
			if reached && est && !ev.estimates {
				// The fire instant depends on days past the coverage, and
				// has been reached: the reading cannot be certain.
				return c.cal.outside(Date{c.cal.c1 + 1})
			}
			if !reached && est && !ev.estimates && !at.Before(ev.coverEnd) && t.endedAt.IsZero() {
				// Past the coverage a rung that depends on uncovered days
				// may or may not have fired.
				return c.cal.outside(Date{c.cal.c1 + 1})
			}
			re.fired = reached
			if est && reached {
				ev.est = true
			}
			if !reached && t.endedAt.IsZero() && !paused && !finished {
				n := f
				if est && !ev.estimates && n.After(ev.coverEnd) {
					n = ev.coverEnd
				}
				if ev.next.IsZero() || n.Before(ev.next) {
					ev.next = n
				}
			}
		}
		if ev.n < len(ev.rungs) {
			ev.rungs[ev.n] = re
			ev.n++
		}
	}
	return nil
}

// Read returns what the clock says at instant at, from the events that
// happened by then: the status, the card level reached, the legal and
// promised due dates, the time used and left, and the next transition. A
// count that needs a day past the calendar's coverage is
// [ErrOutsideCalendar] unless the rule allows estimates, except that a rung
// whose day lies past the coverage is certainly not reached before the
// coverage ends.
func (c *Clock) Read(at time.Time) (Reading, error) {
	var ev evaluation
	if err := c.evaluate(at, &ev); err != nil {
		return Reading{}, err
	}
	r := Reading{At: at, Due: ev.legal.due, DueAt: ev.legal.dueAt, Next: ev.next}
	for _, re := range ev.rungs[:ev.n] {
		if re.fired && re.rung.Level > r.Level {
			r.Level = re.rung.Level
		}
	}
	if t, ok := c.trackOf(WatchPromised, "", at); ok {
		if err := c.dueTrack(&t, ev.dates, at); err == nil && (!t.est || ev.estimates) {
			r.PromisedDue, r.PromisedDueAt = t.due, t.dueAt
		}
	}
	// Used and left.
	lg := ev.legal
	switch lg.lim.Unit {
	case Hours:
		end := at
		if !lg.endedAt.IsZero() {
			end = lg.endedAt
		}
		used := end.Sub(lg.startAt) - c.pausedDuration(lg.startAt, end, at)
		r.Used = Amount{Unit: Hours, Time: used}
		r.Left = Amount{Unit: Hours, Time: lg.lim.Duration() - used}
	default:
		end := DateOf(at, c.cal.loc)
		if !lg.endedAt.IsZero() {
			end = DateOf(lg.endedAt, c.cal.loc)
		}
		used, est, err := c.cal.usedDays(lg.start, end, lg.lim.Unit, ev.dates)
		if err != nil {
			return Reading{}, err
		}
		if est {
			if !ev.estimates {
				return Reading{}, c.cal.outside(Date{c.cal.c1 + 1})
			}
			ev.est = true
		}
		r.Used = Amount{Unit: lg.lim.Unit, Days: used}
		r.Left = Amount{Unit: lg.lim.Unit, Days: lg.lim.N - used}
	}
	switch {
	case !lg.endedAt.IsZero():
		late := lg.endedAt.After(lg.dueAt)
		if lg.lim.Unit != Hours {
			late = DateOf(lg.endedAt, c.cal.loc).After(lg.due)
		}
		if lg.est && !ev.estimates && !(lg.endedAt.Before(ev.coverEnd) && !lg.dueAt.Before(ev.coverEnd)) {
			return Reading{}, c.cal.outside(Date{c.cal.c1 + 1})
		}
		r.Status = StatusDoneOnTime
		if late {
			r.Status = StatusDoneLate
		}
	case ev.paused:
		r.Status = StatusPaused
	default:
		r.Status = statusOfLevel(r.Level)
	}
	r.Estimated = ev.est
	return r, nil
}

// usedDays counts the days of unit u after start up to and including end,
// less paused dates.
func (c *Calendar) usedDays(start, end Date, u Unit, ps Pauses) (int, bool, error) {
	if !end.After(start) {
		return 0, false, nil
	}
	n, est, _ := c.units(u, start, end)
	for _, p := range ps.p {
		lo, hi := p.From, p.To
		if !lo.After(start) {
			lo = start.AddDays(1)
		}
		if hi.After(end) {
			hi = end
		}
		if hi.Before(lo) {
			continue
		}
		k, e, _ := c.units(u, lo.AddDays(-1), hi)
		n -= k
		est = est || e
	}
	return n, est, nil
}
