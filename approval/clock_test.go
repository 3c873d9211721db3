package approval

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/deadline"
)

// shanghai returns an instant in Asia/Shanghai.
func shanghai(month time.Month, day, hour int) time.Time {
	return time.Date(2026, month, day, hour, 0, 0, 0, deadline.Shanghai())
}

// setClock moves the harness clock to an instant (never back).
func (h *harness) setClock(at time.Time) {
	h.t.Helper()
	now := h.clock.Now()
	require.False(h.t, at.Before(now), "the clock goes forward only")
	h.clock.Advance(at.Sub(now))
}

func (h *harness) timing(at time.Time) Timing {
	h.t.Helper()
	c, err := h.e.Case(h.ctx, h.id)
	require.NoError(h.t, err)
	tm, err := c.Timing(at)
	require.NoError(h.t, err)
	return tm
}

func date(s string) deadline.Date { return deadline.MustDate(mustParse(s)) }

func mustParse(s string) (int, time.Month, int) {
	d, err := deadline.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d.Date()
}

// TestLegalClock: the legal limit (20wd, promised 15wd) runs from
// acceptance on Monday 2026-03-02, and the statuses follow the default
// ladder.
func TestLegalClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	before := h.timing(shanghai(3, 20, 9))
	assert.False(t, before.Started, "the legal limit does not run before 受理")
	require.NotNil(t, before.StepClock, "the 受理 step has a limit of its own")
	assert.Equal(t, date("2026-03-09"), before.StepClock.Due)

	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	for _, tc := range []struct {
		at     time.Time
		status deadline.Status
		card   deadline.Level
	}{
		{shanghai(3, 2, 10), deadline.StatusRunning, deadline.LevelNone},
		{shanghai(3, 24, 9), deadline.StatusRunning, deadline.LevelNone},
		{shanghai(3, 25, 9), deadline.StatusWarning, deadline.LevelWarning}, // 26, 27 and 30 left
		{shanghai(3, 30, 23), deadline.StatusWarning, deadline.LevelWarning},
		{shanghai(3, 31, 0), deadline.StatusYellow, deadline.LevelYellow},
		{shanghai(4, 20, 9), deadline.StatusRed, deadline.LevelRed},
	} {
		tm := h.timing(tc.at)
		require.True(t, tm.Started)
		assert.Equal(t, date("2026-03-30"), tm.Legal.Due, "20 working days after 2026-03-02")
		assert.Equal(t, date("2026-03-23"), tm.Legal.PromisedDue, "15 working days")
		assert.Equal(t, tc.status, tm.Legal.Status, "at %s", tc.at)
		assert.Equal(t, tc.card, tm.Legal.Card, "at %s", tc.at)
	}
	tm := h.timing(shanghai(3, 3, 9))
	assert.Equal(t, "review", tm.Step)
	require.NotNil(t, tm.StepClock)
	assert.Equal(t, date("2026-03-09"), tm.StepClock.Due, "初审 5wd from 2026-03-02")
	assert.Equal(t, deadline.LevelYellow, h.timing(shanghai(3, 10, 9)).Card(), "the step is overdue")
}

// TestClockPausesExtendsFinishes: 补正 stops the legal clock until the
// applicant resubmits, an extension adds its working days, and the
// decision finishes it on time or late.
func TestClockPausesExtendsFinishes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		correct   bool
		extend    bool
		decideAt  time.Time
		due       string
		status    deadline.Status
		resultDue string
	}{
		{"plain on time", false, false, shanghai(3, 30, 16), "2026-03-30", deadline.StatusDoneOnTime, ""},
		{"plain late", false, false, shanghai(3, 31, 9), "2026-03-30", deadline.StatusDoneLate, ""},
		// Paused 2026-03-04 to 2026-03-09: four working days not counted.
		{"correction", true, false, shanghai(4, 3, 16), "2026-04-03", deadline.StatusDoneOnTime, ""},
		{"correction late", true, false, shanghai(4, 7, 9), "2026-04-03", deadline.StatusDoneLate, ""},
		{"extension", false, true, shanghai(4, 10, 9), "2026-04-14", deadline.StatusDoneOnTime, ""},
		{"both", true, true, shanghai(4, 20, 9), "2026-04-20", deadline.StatusDoneOnTime, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, sampleDef(t), nil)
			h.start(smallApp)
			h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
			if tc.correct {
				h.setClock(shanghai(3, 4, 10))
				h.must(Command{Kind: CmdRequestCorrection, Actor: "rev1", Reason: "缺营业执照副本"})
				tm := h.timing(shanghai(3, 6, 10))
				assert.Equal(t, deadline.StatusPaused, tm.Legal.Status)
				assert.Equal(t, deadline.StatusPaused, tm.StepClock.Status, "the step's clock stops too")
				h.setClock(shanghai(3, 9, 10))
				h.must(Command{Kind: CmdResubmit, Actor: "alice"})
			}
			if tc.extend {
				h.must(Command{Kind: CmdExtend, Actor: "rev1", Approver: "director", Reason: "需现场核查"})
			}
			h.must(Command{Kind: CmdApprove, Actor: "rev1"})
			tm := h.timing(h.clock.Now())
			assert.Equal(t, date(tc.due), tm.Legal.Due)
			h.setClock(tc.decideAt)
			c := h.must(Command{Kind: CmdDecide, Actor: "head1", Decision: Granted})
			tm, err := c.Timing(shanghai(12, 1, 9))
			require.NoError(t, err)
			assert.Equal(t, tc.status, tm.Legal.Status)
			assert.Equal(t, date(tc.due), tm.Legal.Due)
			assert.Nil(t, tm.StepClock, "an ended case has no current step")
			h.checkReplay()
			h.checkTimingReplay(shanghai(4, 1, 9))
		})
	}
}

// checkTimingReplay: the clocks of the state at every version, as the
// engine returned it, read the same as those of a replay of the prefix.
func (h *harness) checkTimingReplay(at time.Time) {
	h.t.Helper()
	events, err := h.e.History(h.ctx, h.id)
	require.NoError(h.t, err)
	for k := 1; k <= len(events); k++ {
		got, err := Replay(h.def, events[:k])
		require.NoError(h.t, err)
		gt, err := got.Timing(at)
		require.NoError(h.t, err)
		wt, err := h.states[k].Timing(at)
		require.NoError(h.t, err)
		require.Equal(h.t, wt, gt, "version %d", k)
	}
}

// TestClockReturnedToApplicant: 退回 to the applicant stops the legal
// clock; the resubmission resumes it; a step entered again gets a fresh
// clock id.
func TestClockReturnedToApplicant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	c := h.must(Command{Kind: CmdApprove, Actor: "rev1"})
	first := c.stepClockID()
	h.setClock(shanghai(3, 4, 10))
	h.must(Command{Kind: CmdReturn, Actor: "head1", ToApplicant: true, Reason: "材料不全"})
	assert.Equal(t, deadline.StatusPaused, h.timing(shanghai(3, 5, 10)).Legal.Status)
	h.setClock(shanghai(3, 9, 10))
	h.must(Command{Kind: CmdResubmit, Actor: "alice"})
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	c = h.must(Command{Kind: CmdApprove, Actor: "rev1"})
	assert.Equal(t, "decide", c.Step)
	assert.NotEqual(t, first, c.stepClockID())
	tm := h.timing(shanghai(3, 10, 10))
	assert.Equal(t, date("2026-04-03"), tm.Legal.Due, "the days with the applicant are not counted; acceptance again does not restart the limit")
	h.checkTimingReplay(shanghai(3, 10, 10))
}

// TestClockOutsideCalendar: a due date past the calendar's coverage is
// estimated; a reading past the coverage is a ClockError that matches
// deadline.ErrOutsideCalendar.
func TestClockOutsideCalendar(t *testing.T) {
	t.Parallel()
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	h.setClock(shanghai(12, 21, 9))
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	c, err := h.e.Case(h.ctx, h.id)
	require.NoError(t, err)
	tm, err := c.Timing(shanghai(12, 22, 9))
	require.NoError(t, err, "before the coverage ends no card can have fired")
	assert.True(t, tm.Legal.Estimated, "the due date counts 2027 as Monday to Friday")
	assert.Equal(t, date("2027-01-18"), tm.Legal.Due)
	_, err = c.Timing(time.Date(2027, 1, 20, 9, 0, 0, 0, deadline.Shanghai()))
	var ce *ClockError
	require.True(t, errors.As(err, &ce), "%v", err)
	assert.ErrorIs(t, err, ErrClock)
	assert.ErrorIs(t, err, deadline.ErrOutsideCalendar)
	assert.Equal(t, h.id, ce.CaseID)
}

// TestMonitorFed: the engine tracks the legal clocks of open cases as
// commands land, drops the finished ones, and the monitor issues cards
// per department exactly once.
func TestMonitorFed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mon := deadline.NewMonitor(deadline.NewMemStore(), nil)
	def := sampleDef(t)
	clock := newTestClock()
	e, err := New(Config{Store: NewMemoryStore(), Directory: sampleDirectory(), Clock: clock.Now, Monitor: mon}, def)
	require.NoError(t, err)
	var ids []string
	for range 3 {
		r, err := e.Start(ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: app(t, smallApp)})
		require.NoError(t, err)
		ids = append(ids, r.Case.ID)
	}
	assert.Equal(t, 0, mon.Len(), "not accepted: no legal clock yet")
	for _, id := range ids {
		_, err := e.Execute(ctx, Command{Kind: CmdAccept, CaseID: id, Actor: "clerk1", ExpectedVersion: 1})
		require.NoError(t, err)
	}
	assert.Equal(t, 3, mon.Len())
	r, err := e.Execute(ctx, Command{Kind: CmdApprove, CaseID: ids[0], Actor: "rev1", ExpectedVersion: 2})
	require.NoError(t, err)
	_, err = e.Execute(ctx, Command{Kind: CmdDecide, CaseID: ids[0], Actor: "head1", Decision: Granted, ExpectedVersion: r.Case.Version})
	require.NoError(t, err)
	assert.Equal(t, 2, mon.Len(), "the decided case's clock is done")

	cards, err := mon.Tick(ctx, shanghai(3, 27, 9))
	require.NoError(t, err)
	require.Len(t, cards, 2)
	for _, c := range cards {
		assert.Equal(t, deadline.LevelWarning, c.Level)
		assert.Equal(t, "11500000MB1541240B", c.Department, "the definition's department")
	}
	cards, err = mon.Tick(ctx, shanghai(4, 30, 9))
	require.NoError(t, err)
	assert.Len(t, cards, 4, "yellow and red for the two open cases")
	assert.Equal(t, []deadline.DepartmentCounts{{Department: "11500000MB1541240B", Open: 2, Red: 2}}, mon.Counts())

	// After a restart a new monitor on the same card store is fed again
	// and issues nothing twice.
	mon2 := deadline.NewMonitor(deadline.NewMemStore(), nil)
	e2, err := New(Config{Store: e.store, Directory: sampleDirectory(), Clock: func() time.Time { return shanghai(4, 30, 10) }, Monitor: mon2}, def)
	require.NoError(t, err)
	for _, id := range ids {
		require.NoError(t, e2.TrackCase(ctx, id))
	}
	assert.Equal(t, 2, mon2.Len())
	assert.ErrorIs(t, e.TrackCase(ctx, "no-such-case"), ErrCaseNotFound)
}

// TestMonitorSteps: with MonitorSteps the current step's clock is tracked
// too, and replaced when the case moves on.
func TestMonitorSteps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mon := deadline.NewMonitor(deadline.NewMemStore(), nil)
	def := sampleDef(t)
	clock := newTestClock()
	e, err := New(Config{Store: NewMemoryStore(), Directory: sampleDirectory(), Clock: clock.Now, Monitor: mon, MonitorSteps: true}, def)
	require.NoError(t, err)
	r, err := e.Start(ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: app(t, smallApp)})
	require.NoError(t, err)
	assert.Equal(t, 1, mon.Len(), "the 受理 step's clock")
	r, err = e.Execute(ctx, Command{Kind: CmdAccept, CaseID: r.Case.ID, Actor: "clerk1", ExpectedVersion: 1})
	require.NoError(t, err)
	assert.Equal(t, 2, mon.Len(), "the legal clock and the 初审 step's; the 受理 step's is gone")
	cards, err := mon.Tick(ctx, shanghai(3, 10, 9))
	require.NoError(t, err)
	require.Len(t, cards, 2, "the step's warning and yellow card")
	assert.Equal(t, StepClockID(r.Case.ID, "review", 2), cards[0].ClockID)
}

// TestUrgeIntervalWorkingDays: an urgeInterval in working days counts on
// the engine's calendar: urged on Friday, again on Monday at that time.
func TestUrgeIntervalWorkingDays(t *testing.T) {
	t.Parallel()
	def := mustDef(t, replaceOnce(string(readFile(t, "testdata/annual-inspection.json")), `"urgeInterval": "24h"`, `"urgeInterval": "1wd"`))
	h := newHarness(t, def, nil)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	h.setClock(shanghai(3, 6, 10)) // Friday
	h.must(Command{Kind: CmdUrge, Actor: "alice"})
	for _, tc := range []struct {
		at   time.Time
		rule string
	}{
		{shanghai(3, 7, 11), RuleUrgeTooSoon}, // Saturday
		{shanghai(3, 9, 9), RuleUrgeTooSoon},  // Monday, before 10:00
		{shanghai(3, 9, 11), ""},
	} {
		h.setClock(tc.at)
		if tc.rule == "" {
			h.must(Command{Kind: CmdUrge, Actor: "alice"})
			continue
		}
		h.refused(tc.rule, Command{Kind: CmdUrge, Actor: "alice"})
	}
}

func TestParseClockID(t *testing.T) {
	t.Parallel()
	id := "01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f"
	for _, c := range []struct {
		in, caseID, step string
		seq              int
	}{
		{LegalClockID(id), id, "", 0},
		{StepClockID(id, "review", 4), id, "review", 4},
		{StepClockID("case-7", "accept_1", 12), "case-7", "accept_1", 12},
		{id + "/x/review", id + "/x/review", "", 0},   // not a version
		{id + "/04/review", id + "/04/review", "", 0}, // not as StepClockID writes it
		{id + "/0/review", id + "/0/review", "", 0},
		{id + "/3/9review", id + "/3/9review", "", 0}, // not a step id
		{"/3/review", "/3/review", "", 0},
	} {
		caseID, step, seq := ParseClockID(c.in)
		if caseID != c.caseID || step != c.step || seq != c.seq {
			t.Errorf("ParseClockID(%q) = %q, %q, %d; want %q, %q, %d", c.in, caseID, step, seq, c.caseID, c.step, c.seq)
		}
	}
}
