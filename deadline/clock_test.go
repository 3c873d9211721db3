package deadline

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, Shanghai())
	require.NoError(t, err)
	return v
}

func licenceRule() *Rule {
	return &Rule{Name: "行政许可", Legal: WD(20), MaxExtension: WD(10), Ladder: DefaultLadder(WD(3), WD(5))}
}

func started(t *testing.T, rule *Rule, when string, events ...Event) *Clock {
	t.Helper()
	c, err := Rebuild("case-1", "市场监管局", rule, China(), append([]Event{{Kind: EventStarted, At: at(t, when)}}, events...))
	require.NoError(t, err)
	return c
}

func TestClockLadder(t *testing.T) {
	t.Parallel()
	c := started(t, licenceRule(), "2025-03-03 10:00")
	tests := []struct {
		when   string
		status Status
		level  Level
		left   int
	}{
		{"2025-03-03 10:00", StatusRunning, LevelNone, 20},
		{"2025-03-10 12:00", StatusRunning, LevelNone, 15},
		{"2025-03-25 23:59", StatusRunning, LevelNone, 4},
		{"2025-03-26 00:00", StatusWarning, LevelWarning, 3},
		{"2025-03-31 23:59", StatusWarning, LevelWarning, 0},
		{"2025-04-01 00:00", StatusYellow, LevelYellow, -1},
		{"2025-04-08 23:00", StatusYellow, LevelYellow, -5},
		{"2025-04-09 00:00", StatusRed, LevelRed, -6},
	}
	for _, tc := range tests {
		r, err := c.Read(at(t, tc.when))
		require.NoError(t, err, tc.when)
		assert.Equal(t, tc.status, r.Status, tc.when)
		assert.Equal(t, tc.level, r.Level, tc.when)
		assert.Equal(t, tc.left, r.Left.Days, tc.when)
		assert.Equal(t, MustDate(2025, 3, 31), r.Due)
		assert.Equal(t, at(t, "2025-04-01 00:00"), r.DueAt)
	}
	r, err := c.Read(at(t, "2025-03-10 12:00"))
	require.NoError(t, err)
	assert.Equal(t, at(t, "2025-03-26 00:00"), r.Next)
	assert.Equal(t, "5wd", r.Used.String())
	_, err = c.Read(at(t, "2025-03-03 09:00"))
	require.ErrorIs(t, err, ErrInvalidEvent)
}

func TestClockExtension(t *testing.T) {
	t.Parallel()
	ext := Event{Kind: EventExtended, At: at(t, "2025-03-20 16:00"), By: WD(10), Reason: "情况复杂", Approver: "局长 张三"}
	c := started(t, licenceRule(), "2025-03-03 10:00", ext)
	r, err := c.Read(at(t, "2025-04-01 09:00"))
	require.NoError(t, err)
	assert.Equal(t, MustDate(2025, 4, 15), r.Due)
	assert.Equal(t, StatusRunning, r.Status)
	// Before the extension the old limit applies.
	r, err = c.Read(at(t, "2025-03-20 12:00"))
	require.NoError(t, err)
	assert.Equal(t, MustDate(2025, 3, 31), r.Due)

	for name, e := range map[string]Event{
		"no approver": {Kind: EventExtended, At: at(t, "2025-03-21 10:00"), By: WD(1), Reason: "x"},
		"no reason":   {Kind: EventExtended, At: at(t, "2025-03-21 10:00"), By: WD(1), Approver: "x"},
		"over max":    {Kind: EventExtended, At: at(t, "2025-03-21 10:00"), By: WD(1), Reason: "x", Approver: "y"},
		"wrong unit":  {Kind: EventExtended, At: at(t, "2025-03-21 10:00"), By: Days(1), Reason: "x", Approver: "y"},
	} {
		err := c.Apply(e)
		require.ErrorIs(t, err, ErrInvalidEvent, name)
	}
}

func TestClockPauses(t *testing.T) {
	t.Parallel()
	c := started(t, licenceRule(), "2025-09-22 10:00",
		Event{Kind: EventSuspended, At: at(t, "2025-09-29 15:00"), Reason: ReasonExpertReview},
		Event{Kind: EventResumed, At: at(t, "2025-10-09 09:00")},
	)
	r, err := c.Read(at(t, "2025-10-01 12:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusPaused, r.Status)
	r, err = c.Read(at(t, "2025-10-10 12:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusRunning, r.Status)
	// 20wd with 2025-09-29..2025-10-09 paused, like the day-level count.
	ps, _ := NewPauses(Period{From: MustDate(2025, 9, 29), To: MustDate(2025, 10, 9)})
	want, err := China().Due(MustDate(2025, 9, 22), WD(20), ps)
	require.NoError(t, err)
	assert.Equal(t, want, r.Due)
	assert.Equal(t, naiveDue(t, MustDate(2025, 9, 22), WD(20), ps), r.Due)
	// 2025-09-23..26 and the working Sunday 09-28 before; 10-10 after.
	assert.Equal(t, 6, r.Used.Days)

	// An open pause: paused, and no next transition.
	open := started(t, licenceRule(), "2025-03-03 10:00", Event{Kind: EventSuspended, At: at(t, "2025-03-05 10:00"), Reason: ReasonCorrection})
	r, err = open.Read(at(t, "2025-06-01 10:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusPaused, r.Status)
	assert.True(t, r.Next.IsZero())
	assert.Equal(t, LevelNone, r.Level)

	bad := []Event{
		{Kind: EventResumed, At: at(t, "2025-03-06 10:00")},
		{Kind: EventSuspended, At: at(t, "2025-03-06 10:00")},
	}
	c2 := started(t, licenceRule(), "2025-03-03 10:00")
	for _, e := range bad {
		require.ErrorIs(t, c2.Apply(e), ErrInvalidEvent)
	}
	require.ErrorIs(t, c2.Apply(Event{Kind: EventSuspended, At: at(t, "2025-03-01 10:00"), Reason: "补正"}), ErrInvalidEvent, "out of order")
	require.ErrorIs(t, c2.Apply(Event{Kind: EventStarted, At: at(t, "2025-03-04 10:00")}), ErrInvalidEvent, "started twice")
}

func TestClockDone(t *testing.T) {
	t.Parallel()
	onTime := started(t, licenceRule(), "2025-03-03 10:00", Event{Kind: EventFinished, At: at(t, "2025-03-31 17:00")})
	r, err := onTime.Read(at(t, "2025-05-01 00:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusDoneOnTime, r.Status)
	assert.Equal(t, 20, r.Used.Days)
	assert.True(t, r.Next.IsZero())
	late := started(t, licenceRule(), "2025-03-03 10:00", Event{Kind: EventFinished, At: at(t, "2025-04-01 09:00")})
	r, err = late.Read(at(t, "2025-05-01 00:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusDoneLate, r.Status)
	assert.Equal(t, LevelYellow, r.Level)
	require.ErrorIs(t, late.Apply(Event{Kind: EventResumed, At: at(t, "2025-04-02 09:00")}), ErrInvalidEvent)
}

func TestClockHours(t *testing.T) {
	t.Parallel()
	rule := &Rule{Name: "急件", Legal: HoursLimit(48), Ladder: DefaultLadder(HoursLimit(6), HoursLimit(24))}
	c := started(t, rule, "2025-03-03 10:00",
		Event{Kind: EventSuspended, At: at(t, "2025-03-04 10:00"), Reason: ReasonTesting},
		Event{Kind: EventResumed, At: at(t, "2025-03-04 12:00")},
	)
	r, err := c.Read(at(t, "2025-03-05 07:00"))
	require.NoError(t, err)
	assert.Equal(t, at(t, "2025-03-05 12:00"), r.DueAt)
	assert.Equal(t, StatusWarning, r.Status)
	assert.Equal(t, 43*time.Hour, r.Used.Time)
	r, err = c.Read(at(t, "2025-03-05 12:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusYellow, r.Status)
	r, err = c.Read(at(t, "2025-03-06 12:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusRed, r.Status)
}

func TestClockPromisedAndSteps(t *testing.T) {
	t.Parallel()
	rule := &Rule{Name: "承诺件", Legal: WD(20), Promised: WD(10),
		Steps: []StepLimit{{Name: "审查", Limit: WD(3)}},
		Ladder: Ladder{
			{Level: LevelWarning, Watch: WatchStep, Step: "审查", When: WhenPassed},
			{Level: LevelYellow, Watch: WatchPromised, When: WhenPassed},
			{Level: LevelRed, Watch: WatchLegal, When: WhenPassed},
		}}
	c := started(t, rule, "2025-03-03 10:00", Event{Kind: EventStepStarted, At: at(t, "2025-03-04 09:00"), Step: "审查"})
	r, err := c.Read(at(t, "2025-03-07 12:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusRunning, r.Status)
	assert.Equal(t, MustDate(2025, 3, 17), r.PromisedDue)
	r, err = c.Read(at(t, "2025-03-08 00:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusWarning, r.Status, "step 审查 ran out on 2025-03-07")
	r, err = c.Read(at(t, "2025-03-18 00:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusYellow, r.Status)
	r, err = c.Read(at(t, "2025-04-01 00:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusRed, r.Status)

	// A step finished in time never fires.
	c2 := started(t, rule, "2025-03-03 10:00", Event{Kind: EventStepStarted, At: at(t, "2025-03-04 09:00"), Step: "审查"},
		Event{Kind: EventStepFinished, At: at(t, "2025-03-06 09:00"), Step: "审查"})
	r, err = c2.Read(at(t, "2025-03-12 00:00"))
	require.NoError(t, err)
	assert.Equal(t, StatusRunning, r.Status)
	require.ErrorIs(t, c2.Apply(Event{Kind: EventStepStarted, At: at(t, "2025-03-12 09:00"), Step: "无此环节"}), ErrInvalidEvent)
}

func TestRuleValidate(t *testing.T) {
	t.Parallel()
	bad := map[string]*Rule{
		"no legal":       {Name: "a"},
		"promised > law": {Name: "b", Legal: WD(5), Promised: WD(6)},
		"two yellows":    {Name: "c", Legal: WD(5), Ladder: Ladder{{Level: LevelYellow, Watch: WatchLegal, When: WhenPassed}, {Level: LevelYellow, Watch: WatchLegal, When: WhenLeft}}},
		"no such step":   {Name: "d", Legal: WD(5), Ladder: Ladder{{Level: LevelYellow, Watch: WatchStep, Step: "x", When: WhenPassed}}},
		"no promised":    {Name: "e", Legal: WD(5), Ladder: Ladder{{Level: LevelYellow, Watch: WatchPromised, When: WhenPassed}}},
		"hours offset":   {Name: "f", Legal: WD(5), Ladder: Ladder{{Level: LevelRed, Watch: WatchLegal, When: WhenPassed, Offset: HoursLimit(3)}}},
		"bad trigger":    {Name: "g", Legal: WD(5), Ladder: Ladder{{Level: LevelRed, Watch: WatchLegal}}},
		"dup step":       {Name: "h", Legal: WD(5), Steps: []StepLimit{{"a", WD(1)}, {"a", WD(1)}}},
	}
	for name, r := range bad {
		require.ErrorIs(t, r.Validate(), ErrInvalidRule, name)
	}
	require.NoError(t, licenceRule().Validate())
}

func TestClockEventsRoundTrip(t *testing.T) {
	t.Parallel()
	rule := &Rule{Name: "r", Legal: WD(20), MaxExtension: WD(10), Steps: []StepLimit{{Name: "审查", Limit: WD(5)}}}
	events := []Event{
		{Kind: EventStarted, At: at(t, "2025-03-03 10:00")},
		{Kind: EventStepStarted, At: at(t, "2025-03-03 11:00"), Step: "审查"},
		{Kind: EventSuspended, At: at(t, "2025-03-05 10:00"), Reason: ReasonHearing},
		{Kind: EventResumed, At: at(t, "2025-03-07 10:00")},
		{Kind: EventExtended, At: at(t, "2025-03-10 10:00"), By: WD(10), Reason: "复杂", Approver: "局长"},
		{Kind: EventStepFinished, At: at(t, "2025-03-11 10:00"), Step: "审查"},
		{Kind: EventFinished, At: at(t, "2025-04-01 10:00")},
	}
	c, err := Rebuild("x", "d", rule, China(), events)
	require.NoError(t, err)
	got := c.Events()
	require.Len(t, got, len(events))
	b, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"kind":"suspended"`)
	assert.Contains(t, string(b), `"by":"10wd"`)
	var back []Event
	require.NoError(t, json.Unmarshal(b, &back))
	c2, err := Rebuild("x", "d", rule, China(), back)
	require.NoError(t, err)
	for _, when := range []string{"2025-03-06 10:00", "2025-03-20 10:00", "2025-05-01 10:00"} {
		r1, err := c.Read(at(t, when))
		require.NoError(t, err)
		r2, err := c2.Read(at(t, when))
		require.NoError(t, err)
		r1.At, r2.At = time.Time{}, time.Time{}
		assert.Equal(t, r1.Status, r2.Status)
		assert.Equal(t, r1.Due, r2.Due)
		assert.True(t, r1.DueAt.Equal(r2.DueAt))
	}
	_, err = Rebuild("x", "d", rule, China(), []Event{{Kind: EventResumed, At: at(t, "2025-03-03 10:00")}})
	var ee *EventError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 0, ee.Index)
}

func TestClockCoverage(t *testing.T) {
	t.Parallel()
	c := started(t, licenceRule(), "2026-12-15 10:00")
	r, err := c.Read(at(t, "2026-12-16 10:00"))
	require.NoError(t, err, "certainly running early in December")
	assert.Equal(t, StatusRunning, r.Status)
	_, err = c.Read(at(t, "2027-01-20 10:00"))
	require.ErrorIs(t, err, ErrOutsideCalendar)
	est := licenceRule()
	est.Estimate = true
	c = started(t, est, "2026-12-15 10:00")
	r, err = c.Read(at(t, "2027-01-20 10:00"))
	require.NoError(t, err)
	assert.True(t, r.Estimated)
	// Due 2027-01-12 and red from 2027-01-20, assuming Monday to Friday.
	assert.Equal(t, MustDate(2027, 1, 12), r.Due)
	assert.Equal(t, StatusRed, r.Status)
}

// TestClockAgreesWithAssess checks, on random cases, that a clock built
// from events and the day-level Assess give the same status.
func TestClockAgreesWithAssess(t *testing.T) {
	t.Parallel()
	cal := China()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 1500; i++ {
		start := MustDate(2025, 1, 1).AddDays(rng.IntN(300))
		lim := WD(1 + rng.IntN(30))
		if rng.IntN(3) == 0 {
			lim = Days(1 + rng.IntN(40))
		}
		warn := WD(rng.IntN(5))
		red := WD(rng.IntN(8))
		if lim.Unit == NaturalDays {
			warn, red = Days(rng.IntN(5)), Days(rng.IntN(8))
		}
		now := start.AddDays(rng.IntN(80))
		rule := &Rule{Name: "p", Legal: lim, Ladder: DefaultLadder(warn, red)}
		if warn.N == 0 && rng.IntN(2) == 0 {
			rule.Ladder = DefaultLadder(Limit{}, red)
			warn = Limit{}
		}
		if red.N == 0 && rng.IntN(2) == 0 {
			rule.Ladder = DefaultLadder(warn, Limit{})
			red = Limit{}
		}
		events := []Event{{Kind: EventStarted, At: start.Start(nil).Add(9 * time.Hour)}}
		var periods []Period
		d := start
		for k := rng.IntN(3); k > 0; k-- {
			from := d.AddDays(1 + rng.IntN(15))
			to := from.AddDays(rng.IntN(10))
			if !to.Before(now) {
				break
			}
			periods = append(periods, Period{From: from, To: to})
			events = append(events, Event{Kind: EventSuspended, At: from.Start(nil).Add(9 * time.Hour), Reason: ReasonCorrection},
				Event{Kind: EventResumed, At: to.Start(nil).Add(17 * time.Hour)})
			d = to
		}
		var done Date
		if rng.IntN(4) == 0 {
			done = d.AddDays(1 + rng.IntN(30))
			if done.After(now) {
				done = Date{}
			} else {
				events = append(events, Event{Kind: EventFinished, At: done.Start(nil).Add(10 * time.Hour)})
			}
		}
		ps, err := NewPauses(periods...)
		require.NoError(t, err)
		a, err := cal.Assess(DayCase{Start: start, Limit: lim, Pauses: ps, Done: done, WarnBefore: warn, RedAfter: red}, now, false)
		require.NoError(t, err)
		c, err := Rebuild("p", "d", rule, cal, events)
		require.NoError(t, err)
		r, err := c.Read(now.Start(nil).Add(12 * time.Hour))
		require.NoError(t, err)
		require.Equal(t, a.Status, r.Status, "case %d: start %s limit %s warn %s red %s pauses %v done %s now %s", i, start, lim, warn, red, periods, done, now)
		require.Equal(t, a.Due, r.Due)
	}
}

func TestParseEvents(t *testing.T) {
	t.Parallel()
	es, err := ParseEvents([]byte(`[{"kind":"started","at":"2025-03-03T10:00:00+08:00"},
		{"kind":"suspended","at":"2025-03-05T09:00:00+08:00","reason":"补正"},
		{"kind":"extended","at":"2025-03-20T09:00:00+08:00","by":"10wd","reason":"复杂","approver":"局长"}]`))
	require.NoError(t, err)
	require.Len(t, es, 3)
	assert.Equal(t, EventExtended, es[2].Kind)
	assert.Equal(t, WD(10), es[2].By)
	for name, doc := range map[string]string{
		"not array":      `{"kind":"started"}`,
		"unknown member": `[{"kind":"started","at":"2025-03-03T10:00:00Z","x":1}]`,
		"duplicate":      `[{"kind":"started","kind":"started","at":"2025-03-03T10:00:00Z"}]`,
		"bad kind":       `[{"kind":"begun","at":"2025-03-03T10:00:00Z"}]`,
		"bad time":       `[{"kind":"started","at":"2025-03-03 10:00"}]`,
		"bad limit":      `[{"kind":"extended","at":"2025-03-03T10:00:00Z","by":"ten days"}]`,
		"wrong type":     `[{"kind":"started","at":"2025-03-03T10:00:00Z","reason":5}]`,
	} {
		_, err := ParseEvents([]byte(doc))
		require.ErrorIs(t, err, ErrInvalidEvent, name)
	}
	_, err = ParseEvents([]byte(`[{"kind":"started","at":"2025-03-03T10:00:00Z","x":1}]`))
	assert.Contains(t, err.Error(), "/0/x")
}
