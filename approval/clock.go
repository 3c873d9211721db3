package approval

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/egovkit/egovkit/deadline"
)

// The time-limit clocks of a case (办件计时) are derived from its marks
// alone, so they are a pure function of the event log: replaying the same
// events gives the same clocks, whatever the wall clock says.
//
// The legal clock (the whole case) runs from acceptance (受理: 行政许可法
// 第四十二条 counts the limit from the day of acceptance), is suspended by a
// correction request (补正) or a return to the applicant (退回) until the
// applicant resubmits, grows by the extension (延长期限, with its approver),
// and finishes when the case ends. The step clock runs from the moment the
// current step was entered, with the same suspensions, over the step's own
// limit (环节时限).

// Reasons the legal clock is suspended, as they appear in clock events.
const (
	PauseCorrection = deadline.ReasonCorrection // 补正: a correction request
	PauseReturned   = "退回"                      // returned to the applicant
)

// ClockTiming is what one clock says at an instant.
type ClockTiming struct {
	// Status is running, paused, warning, yellow, red, done-on-time or
	// done-late.
	Status deadline.Status
	// Card is the highest card level reached (none, warning, yellow, red).
	Card deadline.Level
	// Due is the due date (期限届满日), pauses and extension counted.
	Due deadline.Date
	// PromisedDue is the promised limit's due date (承诺期限); zero when
	// there is none (and always for a step clock).
	PromisedDue deadline.Date
	// Left is the time that remains (negative once overrun).
	Left deadline.Amount
	// Estimated says a day past the calendar's coverage was assumed Monday
	// to Friday.
	Estimated bool
}

// Timing is what a case's clocks say at an instant.
type Timing struct {
	// At is the instant read.
	At time.Time
	// Started is false until the case is accepted (受理): before that the
	// legal limit does not run, and Legal is zero.
	Started bool
	// Legal is the whole case's clock: the legal limit, extended, with the
	// promised limit's due date.
	Legal ClockTiming
	// Step names the current step, and StepClock is its clock; nil when the
	// case has no current step or the step has no limit.
	Step      string
	StepClock *ClockTiming
}

// Card returns the highest card level of the case's clocks.
func (t Timing) Card() deadline.Level {
	l := t.Legal.Card
	if t.StepClock != nil && t.StepClock.Card > l {
		l = t.StepClock.Card
	}
	return l
}

// ErrClock matches every [*ClockError] with errors.Is.
var ErrClock = errors.New("approval: case clock")

// RuleClock is the rule id of a [*ClockError].
const RuleClock = "approval.clock.invalid"

// ClockError says why a case's clocks could not be built or read: a limit
// the deadline package refuses, or a reading that needs days outside the
// calendar's coverage (then it also matches deadline.ErrOutsideCalendar).
type ClockError struct {
	CaseID string
	Err    error
}

// Error implements error.
func (e *ClockError) Error() string {
	return "approval: case " + e.CaseID + ": clock: " + e.Err.Error()
}

// Is reports whether target is [ErrClock].
func (e *ClockError) Is(target error) bool { return target == ErrClock }

// Unwrap returns the cause.
func (e *ClockError) Unwrap() error { return e.Err }

// calendar returns the case's calendar.
func (c *Case) calendar() *deadline.Calendar {
	if c.cal != nil {
		return c.cal
	}
	return deadline.China()
}

// WithCalendar returns a copy of the case whose clocks count on cal (the
// engine sets its Config.Calendar on the cases it returns; a case from
// [Replay] counts on deadline.China()).
func (c *Case) WithCalendar(cal *deadline.Calendar) *Case {
	nc := *c
	nc.cal = cal
	return &nc
}

// ladderFor returns the default card ladder for a limit: for day limits a
// warning when 3 working days are left, a yellow card once the limit has
// passed, a red card 5 working days after; for hour limits a yellow card
// once the limit has passed and a red card 24 hours after.
func ladderFor(l deadline.Limit) deadline.Ladder {
	if l.Unit == deadline.Hours {
		return deadline.DefaultLadder(deadline.Limit{}, deadline.HoursLimit(24))
	}
	return deadline.DefaultLadder(deadline.WD(3), deadline.WD(5))
}

// LegalClockID and StepClockID are the ids of a case's clocks, as a
// deadline.Monitor holds them and as its cards name them. A step clock's id
// names the step and the version at which the case entered it, so that a
// step entered twice (after 退回) gets a fresh clock and fresh cards.
func LegalClockID(caseID string) string { return caseID }

// StepClockID returns the id of the clock of step entered at version seq.
func StepClockID(caseID, step string, seq int) string {
	return caseID + "/" + strconv.Itoa(seq) + "/" + step
}

// ParseClockID reads a clock id as LegalClockID and StepClockID write it,
// such as the ClockID of a deadline.Card: the case, and for a step clock
// the step and the version at which the case entered it (step "" for the
// legal clock). An id that ends in /SEQ/STEP (SEQ a positive number, STEP
// a step id) is a step clock's, so a case id of that form of its own
// would read as one.
func ParseClockID(id string) (caseID, step string, seq int) {
	last := strings.LastIndexByte(id, '/')
	if last <= 0 || !stepIDPattern.MatchString(id[last+1:]) {
		return id, "", 0
	}
	prev := strings.LastIndexByte(id[:last], '/')
	if prev <= 0 {
		return id, "", 0
	}
	n, err := strconv.Atoi(id[prev+1 : last])
	if err != nil || n < 1 || strconv.Itoa(n) != id[prev+1:last] {
		return id, "", 0
	}
	return id[:prev], id[last+1:], n
}

// stepIDPattern is a step id's form, as the definition schema gives it.
var stepIDPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,63}$`)

// Clocks builds the case's clocks from its marks: the legal clock (nil
// until the case is accepted; a case refused or withdrawn before 受理
// never has one) and the current step's clock (nil when the
// step has no limit or the case has no current step). Both count on the
// case's calendar, with the default card ladder. The result depends on the
// events alone.
func (c *Case) Clocks() (legal, step *deadline.Clock, err error) {
	cal := c.calendar()
	dept := c.Department
	wrap := func(err error) error { return &ClockError{CaseID: c.ID, Err: err} }
	if c.acceptedOnce() {
		lim, err := deadline.ParseLimit(c.Limits.Legal)
		if err != nil {
			return nil, nil, wrap(err)
		}
		rule := &deadline.Rule{Name: c.Definition.ID, Legal: lim, Ladder: ladderFor(lim)}
		if c.Limits.Promised != "" {
			if rule.Promised, err = deadline.ParseLimit(c.Limits.Promised); err != nil {
				return nil, nil, wrap(err)
			}
		}
		if c.Limits.Extension != "" {
			if rule.MaxExtension, err = deadline.ParseLimit(c.Limits.Extension); err != nil {
				return nil, nil, wrap(err)
			}
		}
		if legal, err = deadline.Rebuild(LegalClockID(c.ID), dept, rule, cal, c.legalEvents()); err != nil {
			return nil, nil, wrap(err)
		}
	}
	if c.StepLimit != "" && c.Step != "" {
		lim, err := deadline.ParseLimit(c.StepLimit)
		if err != nil {
			return nil, nil, wrap(err)
		}
		rule := &deadline.Rule{Name: c.Definition.ID + "/" + c.Step, Legal: lim, Ladder: ladderFor(lim)}
		events, seq := c.stepEvents()
		if step, err = deadline.Rebuild(StepClockID(c.ID, c.Step, seq), dept, rule, cal, events); err != nil {
			return nil, nil, wrap(err)
		}
	}
	return legal, step, nil
}

func (c *Case) acceptedOnce() bool {
	for _, m := range c.Marks {
		if m.Kind == MarkAccepted {
			return true
		}
	}
	return false
}

// pauseReason names the suspension of a MarkPaused.
func pauseReason(m Mark) string {
	if m.Detail == "returned" {
		return PauseReturned
	}
	return PauseCorrection
}

// legalEvents turns the marks into the legal clock's events: started at
// the first acceptance; suspended and resumed by pauses after it; extended;
// finished at the end.
func (c *Case) legalEvents() []deadline.Event {
	var out []deadline.Event
	started, paused := false, false
	for _, m := range c.Marks {
		switch m.Kind {
		case MarkAccepted:
			if !started {
				started = true
				out = append(out, deadline.Event{Kind: deadline.EventStarted, At: m.At})
			}
		case MarkPaused:
			if started && !paused {
				paused = true
				out = append(out, deadline.Event{Kind: deadline.EventSuspended, At: m.At, Reason: pauseReason(m)})
			}
		case MarkResumed:
			if started && paused {
				paused = false
				out = append(out, deadline.Event{Kind: deadline.EventResumed, At: m.At})
			}
		case MarkExtended:
			if started && c.Extension != nil {
				by, err := deadline.ParseLimit(m.Detail)
				if err == nil {
					out = append(out, deadline.Event{Kind: deadline.EventExtended, At: m.At, By: by, Reason: c.Extension.Reason, Approver: c.Extension.Approver})
				}
			}
		case MarkEnded:
			if started {
				out = append(out, deadline.Event{Kind: deadline.EventFinished, At: m.At})
			}
		}
	}
	return out
}

// stepEvents returns the current step's clock events, from its last entry,
// and the version at which it was entered.
func (c *Case) stepEvents() ([]deadline.Event, int) {
	last := -1
	for i, m := range c.Marks {
		if m.Kind == MarkStep {
			last = i
		}
	}
	if last < 0 {
		return nil, 0
	}
	// Was the case suspended when the step was entered?
	paused := false
	for _, m := range c.Marks[:last] {
		switch m.Kind {
		case MarkPaused:
			paused = true
		case MarkResumed, MarkAccepted, MarkSubmitted:
			paused = false
		}
	}
	entry := c.Marks[last]
	out := []deadline.Event{{Kind: deadline.EventStarted, At: entry.At}}
	if paused {
		out = append(out, deadline.Event{Kind: deadline.EventSuspended, At: entry.At, Reason: PauseCorrection})
	}
	for _, m := range c.Marks[last+1:] {
		switch m.Kind {
		case MarkPaused:
			if !paused {
				paused = true
				out = append(out, deadline.Event{Kind: deadline.EventSuspended, At: m.At, Reason: pauseReason(m)})
			}
		case MarkResumed:
			if paused {
				paused = false
				out = append(out, deadline.Event{Kind: deadline.EventResumed, At: m.At})
			}
		case MarkEnded:
			out = append(out, deadline.Event{Kind: deadline.EventFinished, At: m.At})
		}
	}
	return out, entry.Seq
}

// Timing reads the case's clocks at instant at: whether the legal limit
// runs yet, the legal clock's status, card level and due dates, and the
// current step's. It depends only on the events and at (never on the wall
// clock). A reading that needs a day outside the calendar is a
// [*ClockError] matching deadline.ErrOutsideCalendar.
func (c *Case) Timing(at time.Time) (Timing, error) {
	legal, step, err := c.Clocks()
	if err != nil {
		return Timing{}, err
	}
	t := Timing{At: at, Step: c.Step}
	read := func(k *deadline.Clock) (ClockTiming, error) {
		when := at
		if when.Before(k.Started()) {
			when = k.Started()
		}
		r, err := k.Read(when)
		if err != nil {
			return ClockTiming{}, &ClockError{CaseID: c.ID, Err: err}
		}
		return ClockTiming{Status: r.Status, Card: r.Level, Due: r.Due, PromisedDue: r.PromisedDue, Left: r.Left, Estimated: r.Estimated}, nil
	}
	if legal != nil {
		t.Started = true
		if t.Legal, err = read(legal); err != nil {
			return Timing{}, err
		}
	}
	if step != nil {
		st, err := read(step)
		if err != nil {
			return Timing{}, err
		}
		t.StepClock = &st
	}
	return t, nil
}

// String renders a timing for logs.
func (t Timing) String() string {
	if !t.Started {
		return "not accepted"
	}
	return fmt.Sprintf("%s, due %s, card %s", t.Legal.Status, t.Legal.Due, t.Card())
}
