package deadline_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/egovkit/egovkit/deadline"
)

// The legal limit of a licence application: 20 working days from the day
// after acceptance, skipping 国庆节 and counting the working Sunday before it.
func ExampleCalendar_Due() {
	cal := deadline.China()
	start := deadline.MustDate(2025, 9, 22)
	due, err := cal.Due(start, deadline.WD(20), deadline.Pauses{})
	if err != nil {
		panic(err)
	}
	fmt.Println(due)
	// An expert review (专家评审) from 2025-09-29 to 2025-10-09 is not counted.
	review, _ := deadline.ParsePeriod("2025-09-29/2025-10-09")
	pauses, _ := deadline.NewPauses(review)
	due, _ = cal.Due(start, deadline.WD(20), pauses)
	fmt.Println(due)
	// Output:
	// 2025-10-24
	// 2025-10-29
}

// Counting past the embedded schedules is an error unless an estimate is
// asked for.
func ExampleCalendar_EstimateDue() {
	cal := deadline.China()
	start := deadline.MustDate(2026, 12, 20)
	_, err := cal.Due(start, deadline.WD(20), deadline.Pauses{})
	fmt.Println(errors.Is(err, deadline.ErrOutsideCalendar))
	due, estimated, _ := cal.EstimateDue(start, deadline.WD(20), deadline.Pauses{})
	fmt.Println(due, estimated)
	// Output:
	// true
	// 2027-01-15 true
}

// Adding a year's schedule, or a local holiday, from JSON.
func ExampleCalendar_With() {
	local := []byte(`{"region": "CN-GX", "year": 2025,
		"source": {"title": "example local schedule"},
		"holidays": [{"name": "壮族三月三", "from": "2025-03-31", "to": "2025-04-01"}],
		"adjustedWorkdays": []}`)
	years, err := deadline.ParseYears("gx.json", local)
	if err != nil {
		panic(err)
	}
	gx, err := deadline.China().With(years...)
	if err != nil {
		panic(err)
	}
	d, _ := gx.AddWorkdays(deadline.MustDate(2025, 3, 28), 1)
	fmt.Println(gx.Name(), d)
	// Output: CN+CN-GX 2025-04-02
}

// A case's clock, rebuilt from its events, read at an instant.
func ExampleClock_Read() {
	cal := deadline.China()
	loc := cal.Location()
	rule := &deadline.Rule{Name: "行政许可", Legal: deadline.WD(20), MaxExtension: deadline.WD(10),
		Ladder: deadline.DefaultLadder(deadline.WD(3), deadline.WD(5))}
	clock, err := deadline.Rebuild("case-1", "市场监管局", rule, cal, []deadline.Event{
		{Kind: deadline.EventStarted, At: time.Date(2025, 3, 3, 10, 0, 0, 0, loc)},
		{Kind: deadline.EventSuspended, At: time.Date(2025, 3, 5, 9, 0, 0, 0, loc), Reason: deadline.ReasonCorrection},
		{Kind: deadline.EventResumed, At: time.Date(2025, 3, 7, 15, 0, 0, 0, loc)},
		{Kind: deadline.EventExtended, At: time.Date(2025, 3, 20, 9, 0, 0, 0, loc), By: deadline.WD(10), Reason: "需要现场核查", Approver: "局长"},
	})
	if err != nil {
		panic(err)
	}
	for _, day := range []int{14, 15} {
		r, _ := clock.Read(time.Date(2025, 4, day, 12, 0, 0, 0, loc))
		fmt.Println(r.Status, r.Due, r.Used, r.Left)
	}
	// Output:
	// running 2025-04-18 26wd 4wd
	// warning 2025-04-18 27wd 3wd
}

// The day-level status the command line prints.
func ExampleCalendar_Assess() {
	cal := deadline.China()
	k := deadline.DayCase{Start: deadline.MustDate(2025, 3, 3), Limit: deadline.WD(20),
		WarnBefore: deadline.WD(3), RedAfter: deadline.WD(5)}
	for _, now := range []string{"2025-03-20", "2025-03-27", "2025-04-02", "2025-04-09"} {
		d, _ := deadline.ParseDate(now)
		a, _ := cal.Assess(k, d, false)
		fmt.Println(now, a.Status)
	}
	// Output:
	// 2025-03-20 running
	// 2025-03-27 warning
	// 2025-04-02 yellow
	// 2025-04-09 red
}

// A monitor issues each card once per clock and level.
func ExampleMonitor() {
	ctx := context.Background()
	cal := deadline.China()
	loc := cal.Location()
	rule := &deadline.Rule{Name: "公共服务", Legal: deadline.WD(10), Ladder: deadline.DefaultLadder(deadline.WD(2), deadline.WD(3))}
	m := deadline.NewMonitor(deadline.NewMemStore(), nil)
	start := time.Date(2025, 4, 1, 9, 0, 0, 0, loc)
	for _, id := range []string{"a", "b"} {
		c, _ := deadline.Rebuild(id, "公安局", rule, cal, []deadline.Event{{Kind: deadline.EventStarted, At: start}})
		_ = m.Track(c, start)
	}
	for day := 0; day < 30; day++ {
		cards, _ := m.Tick(ctx, start.AddDate(0, 0, day))
		for _, c := range cards {
			fmt.Println(deadline.DateOf(c.FiredAt, loc), c.ClockID, c.Level)
		}
	}
	fmt.Printf("%+v\n", m.Counts())
	// Output:
	// 2025-04-14 a warning
	// 2025-04-14 b warning
	// 2025-04-17 a yellow
	// 2025-04-17 b yellow
	// 2025-04-22 a red
	// 2025-04-22 b red
	// [{Department:公安局 Open:2 Warning:0 Yellow:0 Red:2}]
}
