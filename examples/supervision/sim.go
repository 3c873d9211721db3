package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/deadline/sqlstore"
)

// simCase is one simulated case and the events it will have.
type simCase struct {
	id, dept string
	rule     *deadline.Rule
	events   []deadline.Event // all, in time order
	applied  int              // how many have happened
	clock    *deadline.Clock
}

// issuedCard is a card as the simulation saw it issued.
type issuedCard struct {
	deadline.Card
	Rule string
}

// simulation runs a quarter of approval cases day by day against a card
// monitor on a SQLite store, restarting the monitor half way through.
type simulation struct {
	ctx     context.Context
	cal     *deadline.Calendar
	loc     *time.Location
	depts   []string
	cases   []*simCase
	dbPath  string
	store   *sqlstore.Store
	monitor *deadline.Monitor

	start, end, restart time.Time
	day                 time.Time // the next day to simulate
	issued              []issuedCard
	restarted           int // clocks rebuilt at the restart, once it has happened
}

// newSimulation sets up 360 cases across six departments, started in the
// quarter's first two months, with the card store in dir.
func newSimulation(ctx context.Context, dir string) (*simulation, error) {
	cal := deadline.China()
	loc := cal.Location()
	rng := rand.New(rand.NewPCG(2025, 4))

	licence := &deadline.Rule{Name: "行政许可", Legal: deadline.WD(20), Promised: deadline.WD(15), MaxExtension: deadline.WD(10),
		Ladder: deadline.DefaultLadder(deadline.WD(3), deadline.WD(5))}
	service := &deadline.Rule{Name: "公共服务", Legal: deadline.WD(10),
		Ladder: deadline.DefaultLadder(deadline.WD(2), deadline.WD(3))}
	filing := &deadline.Rule{Name: "备案", Legal: deadline.Days(30),
		Ladder: deadline.DefaultLadder(deadline.Days(5), deadline.Days(10))}
	rules := []*deadline.Rule{licence, licence, service, filing}
	s := &simulation{ctx: ctx, cal: cal, loc: loc, depts: []string{"市场监管局", "公安局", "自然资源局", "住建局", "交通运输局", "卫健委"}}
	s.start = time.Date(2025, 4, 1, 0, 0, 0, 0, loc)
	s.end = time.Date(2025, 7, 1, 0, 0, 0, 0, loc)
	s.restart = s.start.AddDate(0, 0, 45)
	s.day = s.start

	for i := 0; i < 360; i++ {
		sc := &simCase{id: fmt.Sprintf("case-%03d", i), dept: s.depts[i%len(s.depts)], rule: rules[rng.IntN(len(rules))]}
		start := s.start.AddDate(0, 0, rng.IntN(60)).Add(time.Duration(8+rng.IntN(9)) * time.Hour)
		sc.events = append(sc.events, deadline.Event{Kind: deadline.EventStarted, At: start})
		t := start
		if rng.IntN(4) == 0 { // a correction request (补正) a few days in
			t = t.Add(time.Duration(2+rng.IntN(5)) * 24 * time.Hour)
			sc.events = append(sc.events, deadline.Event{Kind: deadline.EventSuspended, At: t, Reason: deadline.ReasonCorrection})
			t = t.Add(time.Duration(2+rng.IntN(8)) * 24 * time.Hour)
			sc.events = append(sc.events, deadline.Event{Kind: deadline.EventResumed, At: t})
		}
		if sc.rule == licence && rng.IntN(5) == 0 { // an extension approved by the head
			t = t.Add(time.Duration(5+rng.IntN(5)) * 24 * time.Hour)
			sc.events = append(sc.events, deadline.Event{Kind: deadline.EventExtended, At: t, By: deadline.WD(10),
				Reason: "需要现场核查", Approver: "局长"})
		}
		// Most cases finish within about four to seven weeks; some never do.
		if rng.IntN(8) != 0 {
			t = t.Add(time.Duration(10+rng.IntN(40)) * 24 * time.Hour)
			sc.events = append(sc.events, deadline.Event{Kind: deadline.EventFinished, At: t})
		}
		s.cases = append(s.cases, sc)
	}

	s.dbPath = filepath.Join(dir, "cards.db")
	store, err := sqlstore.OpenSQLite(ctx, s.dbPath, "deadline_cards")
	if err != nil {
		return nil, err
	}
	s.store = store
	s.monitor = deadline.NewMonitor(store, nil)
	return s, nil
}

// done reports whether the whole quarter has been simulated.
func (s *simulation) done() bool { return !s.day.Before(s.end) }

// today is the date the simulation has reached (the last day simulated).
func (s *simulation) today() deadline.Date {
	if s.day.Equal(s.start) {
		return deadline.DateOf(s.start, s.loc)
	}
	return deadline.DateOf(s.day.AddDate(0, 0, -1), s.loc)
}

// tick lets the monitor issue the cards due at now.
func (s *simulation) tick(now time.Time) ([]issuedCard, error) {
	cards, err := s.monitor.Tick(s.ctx, now)
	var out []issuedCard
	for _, c := range cards {
		ic := issuedCard{Card: c, Rule: s.ruleOf(c.ClockID)}
		s.issued = append(s.issued, ic)
		out = append(out, ic)
	}
	return out, err
}

// step simulates one day: the restart when it is due, the day's events in
// time order, and the cards that fall due. It returns the cards issued.
func (s *simulation) step() ([]issuedCard, error) {
	if s.done() {
		return nil, nil
	}
	day := s.day
	if day.Equal(s.restart) {
		if err := s.restartMonitor(day); err != nil {
			return nil, err
		}
	}
	issued, err := s.tick(day)
	if err != nil {
		return issued, err
	}
	type due struct {
		sc *simCase
		e  deadline.Event
	}
	var today []due
	for _, sc := range s.cases {
		for k := sc.applied; k < len(sc.events) && sc.events[k].At.Before(day.AddDate(0, 0, 1)); k++ {
			today = append(today, due{sc, sc.events[k]})
		}
	}
	slices.SortStableFunc(today, func(a, b due) int { return a.e.At.Compare(b.e.At) })
	for _, d := range today {
		cards, err := s.tick(d.e.At)
		issued = append(issued, cards...)
		if err != nil {
			return issued, err
		}
		if d.sc.clock == nil {
			if d.sc.clock, err = deadline.NewClock(d.sc.id, d.sc.dept, d.sc.rule, s.cal); err != nil {
				return issued, err
			}
		}
		if err := d.sc.clock.Apply(d.e); err != nil {
			return issued, err
		}
		d.sc.applied++
		if err := s.monitor.Track(d.sc.clock, d.e.At); err != nil {
			return issued, err
		}
	}
	s.day = day.AddDate(0, 0, 1)
	if s.done() {
		cards, err := s.tick(s.end)
		issued = append(issued, cards...)
		if err != nil {
			return issued, err
		}
	}
	return issued, nil
}

// restartMonitor is a process restart: the monitor and its store are
// reopened and every open clock is rebuilt from its persisted events. No
// card is issued twice.
func (s *simulation) restartMonitor(day time.Time) error {
	if err := s.store.Close(); err != nil {
		return err
	}
	store, err := sqlstore.OpenSQLite(s.ctx, s.dbPath, "deadline_cards")
	if err != nil {
		return err
	}
	s.store = store
	s.monitor = deadline.NewMonitor(store, nil)
	for _, sc := range s.cases {
		if sc.clock == nil {
			continue
		}
		c, err := deadline.Rebuild(sc.id, sc.dept, sc.rule, s.cal, sc.events[:sc.applied])
		if err != nil {
			return err
		}
		sc.clock = c
		if err := s.monitor.Track(c, day); err != nil {
			return err
		}
		s.restarted++
	}
	return nil
}

func (s *simulation) ruleOf(id string) string {
	for _, sc := range s.cases {
		if sc.id == id {
			return sc.rule.Name
		}
	}
	return "?"
}

// deptRow is one department's line of the supervision table.
type deptRow struct {
	Department                   string
	Open, Warning, Yellow, Red   int
	DoneOnTime, DoneLate, Issued int
}

// table returns the per-department counts: open clocks by level from the
// monitor, cards issued so far, and cases finished on time or late.
func (s *simulation) table(now time.Time) ([]deptRow, error) {
	counts := map[string]deadline.DepartmentCounts{}
	for _, c := range s.monitor.Counts() {
		counts[c.Department] = c
	}
	issued := map[string]int{}
	for _, c := range s.issued {
		if c.Level == deadline.LevelYellow || c.Level == deadline.LevelRed {
			issued[c.Department]++
		}
	}
	onTime, late := map[string]int{}, map[string]int{}
	for _, sc := range s.cases {
		if sc.clock == nil {
			continue
		}
		r, err := sc.clock.Read(now)
		if err != nil {
			return nil, err
		}
		switch r.Status {
		case deadline.StatusDoneOnTime:
			onTime[sc.dept]++
		case deadline.StatusDoneLate:
			late[sc.dept]++
		}
	}
	depts := slices.Clone(s.depts)
	slices.Sort(depts)
	rows := make([]deptRow, len(depts))
	for i, d := range depts {
		c := counts[d]
		rows[i] = deptRow{Department: d, Open: c.Open, Warning: c.Warning, Yellow: c.Yellow, Red: c.Red, DoneOnTime: onTime[d], DoneLate: late[d], Issued: issued[d]}
	}
	return rows, nil
}

// overdueCase is a case that holds a yellow or red card now, with its
// history.
type overdueCase struct {
	ID, Department, Rule string
	Level                deadline.Level
	Due                  deadline.Date
	History              []deadline.Event
}

// overdue lists the open cases at yellow or red at now, red first.
func (s *simulation) overdue(now time.Time) ([]overdueCase, error) {
	var out []overdueCase
	for _, sc := range s.cases {
		if sc.clock == nil {
			continue
		}
		r, err := sc.clock.Read(now)
		if err != nil {
			return nil, err
		}
		if r.Status != deadline.StatusYellow && r.Status != deadline.StatusRed {
			continue
		}
		out = append(out, overdueCase{ID: sc.id, Department: sc.dept, Rule: sc.rule.Name, Level: r.Level, Due: r.Due, History: sc.events[:sc.applied]})
	}
	slices.SortFunc(out, func(a, b overdueCase) int {
		if a.Level != b.Level {
			return int(b.Level) - int(a.Level)
		}
		return a.Due.Compare(b.Due)
	})
	return out, nil
}
