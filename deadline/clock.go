package deadline

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// EventKind is the kind of a clock [Event].
type EventKind uint8

// Event kinds.
const (
	// EventStarted starts the clock (受理): the day of the start is not counted.
	EventStarted EventKind = iota + 1
	// EventSuspended stops the clock (中止计时) with a reason such as 补正.
	EventSuspended
	// EventResumed restarts a suspended clock (恢复计时).
	EventResumed
	// EventExtended extends the legal limit (延长) with a reason and an approver.
	EventExtended
	// EventFinished finishes the case (办结).
	EventFinished
	// EventStepStarted starts a step (环节开始).
	EventStepStarted
	// EventStepFinished finishes a step (环节完成).
	EventStepFinished
)

var eventKindNames = [...]string{"", "started", "suspended", "resumed", "extended", "finished", "step-started", "step-finished"}

// String returns the kind's stable name, such as "suspended".
func (k EventKind) String() string {
	if k >= EventStarted && k <= EventStepFinished {
		return eventKindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText implements encoding.TextMarshaler with the stable name.
func (k EventKind) MarshalText() ([]byte, error) {
	if k < EventStarted || k > EventStepFinished {
		return nil, &EventError{Index: -1, Kind: k, Msg: "unknown event kind"}
	}
	return []byte(k.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *EventKind) UnmarshalText(b []byte) error {
	for i := EventStarted; i <= EventStepFinished; i++ {
		if string(b) == eventKindNames[i] {
			*k = i
			return nil
		}
	}
	return &EventError{Index: -1, Msg: fmt.Sprintf("unknown event kind %q; expected one of started, suspended, resumed, extended, finished, step-started, step-finished", b)}
}

// Reasons for suspending a clock that the law names (行政许可法 第四十五条,
// and 第三十二条 for 补正). Any non-empty reason is accepted.
const (
	ReasonCorrection   = "补正"   // a correction request; the clock waits for the applicant
	ReasonHearing      = "听证"   // a hearing
	ReasonAuction      = "招标拍卖" // tendering or auction
	ReasonTesting      = "检测"   // testing
	ReasonQuarantine   = "检疫"   // quarantine
	ReasonAppraisal    = "鉴定"   // appraisal
	ReasonExpertReview = "专家评审" // expert review
)

// Event is one fact in a clock's history. A [Clock] is rebuilt from its
// events with [Rebuild], so a caller (the approval engine) persists the
// events and nothing else. Events apply in order of At.
type Event struct {
	Kind EventKind `json:"kind"`
	// At is when it happened.
	At time.Time `json:"at"`
	// Reason is why the clock was suspended (中止理由) or extended (延长理由).
	Reason string `json:"reason,omitempty"`
	// Approver is who approved an extension (批准人), such as the organ's head.
	Approver string `json:"approver,omitempty"`
	// By is how much an extension adds to the legal limit.
	By Limit `json:"by,omitzero"`
	// Step names the step of a step event.
	Step string `json:"step,omitempty"`
}

// Pause is one suspension of a clock. Its civil dates, from the day of
// suspension to the day of resumption, both included, are not counted: a
// day on which the clock stood still at any moment does not count.
type Pause struct {
	From time.Time
	// To is the resumption; zero while the clock is suspended.
	To     time.Time
	Reason string
}

// Extension is one extension of the legal limit (延长期限).
type Extension struct {
	At       time.Time
	By       Limit
	Reason   string
	Approver string
}

type stepState struct {
	name             string
	startAt, endedAt time.Time
}

// Clock is the time-limit clock of one case (办件计时). It holds the case's
// rule, start, pauses, extensions, steps and finish, and answers at any
// instant with [Clock.Read]: the due date, time used and left, and the
// status. It is built from its events ([NewClock] then [Clock.Apply], or
// [Rebuild]). A Clock is not safe for concurrent mutation; reads of a clock
// that no goroutine mutates are safe.
type Clock struct {
	id, dept string
	rule     *Rule
	cal      *Calendar
	startAt  time.Time
	finishAt time.Time
	last     time.Time
	pauses   []Pause
	exts     []Extension
	steps    []stepState
}

// NewClock returns an unstarted clock for case id of department dept,
// counted by rule on cal. The rule is validated and must not be changed
// afterwards (clocks share it).
func NewClock(id, dept string, rule *Rule, cal *Calendar) (*Clock, error) {
	if rule == nil || cal == nil {
		return nil, &RuleError{Field: "rule", Msg: "a rule and a calendar are required"}
	}
	if id == "" {
		return nil, &EventError{Index: -1, Msg: "a clock needs a non-empty id"}
	}
	if err := rule.Validate(); err != nil {
		return nil, err
	}
	return &Clock{id: id, dept: dept, rule: rule, cal: cal}, nil
}

// Rebuild returns the clock that events describe: NewClock followed by
// Apply of each event. An event that does not fit is an [*EventError]
// naming its index.
func Rebuild(id, dept string, rule *Rule, cal *Calendar, events []Event) (*Clock, error) {
	c, err := NewClock(id, dept, rule, cal)
	if err != nil {
		return nil, err
	}
	for i, e := range events {
		if err := c.Apply(e); err != nil {
			if ee, ok := err.(*EventError); ok {
				ee.Index = i
			}
			return nil, err
		}
	}
	return c, nil
}

// clone returns a deep copy of c that shares only the rule and calendar,
// which are immutable.
func (c *Clock) clone() *Clock {
	nc := *c
	nc.pauses = slices.Clone(c.pauses)
	nc.exts = slices.Clone(c.exts)
	nc.steps = slices.Clone(c.steps)
	return &nc
}

// ID returns the case id.
func (c *Clock) ID() string { return c.id }

// Department returns the department (部门) that handles the case.
func (c *Clock) Department() string { return c.dept }

// Rule returns the clock's rule.
func (c *Clock) Rule() *Rule { return c.rule }

// Calendar returns the clock's calendar.
func (c *Clock) Calendar() *Calendar { return c.cal }

// Started returns the start instant, zero before EventStarted.
func (c *Clock) Started() time.Time { return c.startAt }

// Finished returns the finish instant, zero while the case is open.
func (c *Clock) Finished() time.Time { return c.finishAt }

// Pauses returns the clock's suspensions in order.
func (c *Clock) Pauses() []Pause { return slices.Clone(c.pauses) }

// Extensions returns the clock's extensions in order.
func (c *Clock) Extensions() []Extension { return slices.Clone(c.exts) }

// Apply adds one event to the clock's history. Events must come in order
// of At (equal instants are allowed); the clock must be started before
// anything else and nothing follows its finish; a resume needs a
// suspension, a suspension a reason, an extension a reason, an approver
// and room under the rule's MaxExtension, and step events a step of the
// rule. A refused event leaves the clock unchanged.
func (c *Clock) Apply(e Event) error {
	fail := func(format string, args ...any) error {
		return &EventError{Clock: c.id, Index: -1, Kind: e.Kind, Msg: fmt.Sprintf(format, args...)}
	}
	if e.At.IsZero() {
		return fail("the event has no time")
	}
	if !c.last.IsZero() && e.At.Before(c.last) {
		return fail("at %s, before the previous event at %s; expected events in time order", e.At.Format(time.RFC3339), c.last.Format(time.RFC3339))
	}
	if e.Kind != EventStarted {
		if c.startAt.IsZero() {
			return fail("the clock has not started; expected a started event first")
		}
		if !c.finishAt.IsZero() {
			return fail("the case finished at %s; expected no event after it", c.finishAt.Format(time.RFC3339))
		}
	}
	open := len(c.pauses) > 0 && c.pauses[len(c.pauses)-1].To.IsZero()
	switch e.Kind {
	case EventStarted:
		if !c.startAt.IsZero() {
			return fail("the clock already started at %s", c.startAt.Format(time.RFC3339))
		}
		if DateOf(e.At, c.cal.loc).IsZero() {
			return fail("%s is outside years 1 to 9999", e.At)
		}
		c.startAt = e.At
	case EventSuspended:
		if open {
			return fail("the clock is already suspended; expected a resumed event first")
		}
		if e.Reason == "" {
			return fail("no reason; expected a reason such as 补正, 听证, 检测 or 专家评审")
		}
		c.pauses = append(c.pauses, Pause{From: e.At, Reason: e.Reason})
	case EventResumed:
		if !open {
			return fail("the clock is not suspended")
		}
		c.pauses[len(c.pauses)-1].To = e.At
	case EventExtended:
		if e.Reason == "" || e.Approver == "" {
			return fail("an extension needs a reason and an approver (行政许可法 第四十二条: approved by the organ's head)")
		}
		if !e.By.Valid() || e.By.N < 1 || e.By.Unit != c.rule.Legal.Unit {
			return fail("extension %s; expected at least 1 in the legal limit's unit %s", e.By, c.rule.Legal.Unit)
		}
		total := e.By.N
		for _, x := range c.exts {
			total += x.By.N
		}
		if c.rule.MaxExtension.IsZero() || total > c.rule.MaxExtension.N {
			return fail("extensions would total %d%s, over the rule's maximum %s", total, e.By.Unit, c.rule.MaxExtension)
		}
		c.exts = append(c.exts, Extension{At: e.At, By: e.By, Reason: e.Reason, Approver: e.Approver})
	case EventFinished:
		if open {
			c.pauses[len(c.pauses)-1].To = e.At
		}
		c.finishAt = e.At
	case EventStepStarted:
		if _, ok := c.rule.limitOf(WatchStep, e.Step); !ok {
			return fail("the rule has no step %q", e.Step)
		}
		for _, s := range c.steps {
			if s.name == e.Step {
				return fail("step %q already started at %s", e.Step, s.startAt.Format(time.RFC3339))
			}
		}
		c.steps = append(c.steps, stepState{name: e.Step, startAt: e.At})
	case EventStepFinished:
		i := slices.IndexFunc(c.steps, func(s stepState) bool { return s.name == e.Step })
		if i < 0 || !c.steps[i].endedAt.IsZero() {
			return fail("step %q is not running", e.Step)
		}
		c.steps[i].endedAt = e.At
	default:
		return fail("unknown event kind")
	}
	c.last = e.At
	return nil
}

// Events returns the clock's history as events, in order: applying them
// with [Rebuild] gives an equal clock.
func (c *Clock) Events() []Event {
	var es []Event
	if c.startAt.IsZero() {
		return nil
	}
	es = append(es, Event{Kind: EventStarted, At: c.startAt})
	for _, p := range c.pauses {
		es = append(es, Event{Kind: EventSuspended, At: p.From, Reason: p.Reason})
		if !p.To.IsZero() && !p.To.Equal(c.finishAt) {
			es = append(es, Event{Kind: EventResumed, At: p.To})
		}
	}
	for _, x := range c.exts {
		es = append(es, Event{Kind: EventExtended, At: x.At, By: x.By, Reason: x.Reason, Approver: x.Approver})
	}
	for _, s := range c.steps {
		es = append(es, Event{Kind: EventStepStarted, At: s.startAt, Step: s.name})
		if !s.endedAt.IsZero() {
			es = append(es, Event{Kind: EventStepFinished, At: s.endedAt, Step: s.name})
		}
	}
	if !c.finishAt.IsZero() {
		es = append(es, Event{Kind: EventFinished, At: c.finishAt})
	}
	slices.SortStableFunc(es, func(a, b Event) int { return a.At.Compare(b.At) })
	return es
}
