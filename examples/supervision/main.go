// Command supervision simulates electronic supervision (电子监察) of online
// approval cases for one quarter: a few hundred cases across departments,
// each with a time-limit clock (20 working days for a licence, 行政许可法
// 第四十二条, some with a promised limit, 补正 pauses and extensions), a card
// monitor on a SQLite store that restarts half way through, and a fake clock
// advanced day by day from 2025-04-01 to 2025-06-30 (through 清明节, 劳动节
// and 端午节). It prints every card issued and the per-department table, and
// exits. Run it with:
//
//	go run ./examples/supervision
package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
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

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "supervision:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
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
	depts := []string{"市场监管局", "公安局", "自然资源局", "住建局", "交通运输局", "卫健委"}

	quarterStart := time.Date(2025, 4, 1, 0, 0, 0, 0, loc)
	quarterEnd := time.Date(2025, 7, 1, 0, 0, 0, 0, loc)

	// Simulate 360 cases started during the quarter's first two months.
	var cases []*simCase
	for i := 0; i < 360; i++ {
		sc := &simCase{id: fmt.Sprintf("case-%03d", i), dept: depts[i%len(depts)], rule: rules[rng.IntN(len(rules))]}
		start := quarterStart.AddDate(0, 0, rng.IntN(60)).Add(time.Duration(8+rng.IntN(9)) * time.Hour)
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
		cases = append(cases, sc)
	}

	dir, err := os.MkdirTemp("", "egovkit-supervision-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "cards.db")
	store, err := sqlstore.OpenSQLite(ctx, dbPath, "deadline_cards")
	if err != nil {
		return err
	}
	monitor := deadline.NewMonitor(store, nil)

	issued := map[deadline.Level]int{}
	fmt.Println("cards issued (date, level, department, case, rule, watched due date):")
	tick := func(now time.Time) error {
		cards, err := monitor.Tick(ctx, now)
		for _, c := range cards {
			issued[c.Level]++
			fmt.Printf("  %s  %-7s  %s  %s  %s, due %s\n", deadline.DateOf(c.FiredAt, loc), c.Level, pad(c.Department, 10), c.ClockID,
				ruleOf(cases, c.ClockID), c.Due)
		}
		return err
	}

	restartDay := quarterStart.AddDate(0, 0, 45)
	for day := quarterStart; day.Before(quarterEnd); day = day.AddDate(0, 0, 1) {
		if day.Equal(restartDay) {
			// A restart: the process dies; a new one rebuilds every open
			// clock from its persisted events and reopens the store. No card
			// is issued twice.
			if err := store.Close(); err != nil {
				return err
			}
			if store, err = sqlstore.OpenSQLite(ctx, dbPath, "deadline_cards"); err != nil {
				return err
			}
			monitor = deadline.NewMonitor(store, nil)
			rebuilt := 0
			for _, sc := range cases {
				if sc.clock == nil {
					continue
				}
				c, err := deadline.Rebuild(sc.id, sc.dept, sc.rule, cal, sc.events[:sc.applied])
				if err != nil {
					return err
				}
				sc.clock = c
				if err := monitor.Track(c, day); err != nil {
					return err
				}
				rebuilt++
			}
			fmt.Printf("  -- %s: monitor restarted, %d clocks rebuilt from their events --\n", deadline.DateOf(day, loc), rebuilt)
		}
		if err := tick(day); err != nil {
			return err
		}
		// The day's events, in time order across cases.
		type due struct {
			sc *simCase
			e  deadline.Event
		}
		var today []due
		for _, sc := range cases {
			for k := sc.applied; k < len(sc.events) && sc.events[k].At.Before(day.AddDate(0, 0, 1)); k++ {
				today = append(today, due{sc, sc.events[k]})
			}
		}
		slices.SortStableFunc(today, func(a, b due) int { return a.e.At.Compare(b.e.At) })
		for _, d := range today {
			if err := tick(d.e.At); err != nil {
				return err
			}
			if d.sc.clock == nil {
				if d.sc.clock, err = deadline.NewClock(d.sc.id, d.sc.dept, d.sc.rule, cal); err != nil {
					return err
				}
			}
			if err := d.sc.clock.Apply(d.e); err != nil {
				return err
			}
			d.sc.applied++
			if err := monitor.Track(d.sc.clock, d.e.At); err != nil {
				return err
			}
		}
	}
	if err := tick(quarterEnd); err != nil {
		return err
	}

	// Outcomes of the finished cases.
	onTime, late := map[string]int{}, map[string]int{}
	for _, sc := range cases {
		if sc.clock == nil {
			continue
		}
		r, err := sc.clock.Read(quarterEnd)
		if err != nil {
			return err
		}
		switch r.Status {
		case deadline.StatusDoneOnTime:
			onTime[sc.dept]++
		case deadline.StatusDoneLate:
			late[sc.dept]++
		}
	}

	fmt.Printf("\n%d cases, %d warnings, %d yellow cards, %d red cards issued in the quarter\n\n",
		len(cases), issued[deadline.LevelWarning], issued[deadline.LevelYellow], issued[deadline.LevelRed])
	fmt.Println("open cases on", deadline.DateOf(quarterEnd, loc), "by department (部门 / 在办 / 预警 / 黄牌 / 红牌), and cases finished in the quarter:")
	fmt.Printf("  %s%6s%9s%8s%5s%14s%11s\n", pad("department", 12), "open", "warning", "yellow", "red", "done on time", "done late")
	counts := map[string]deadline.DepartmentCounts{}
	for _, c := range monitor.Counts() {
		counts[c.Department] = c
	}
	sorted := slices.Clone(depts)
	slices.Sort(sorted)
	for _, d := range sorted {
		c := counts[d]
		fmt.Printf("  %s%6d%9d%8d%5d%14d%11d\n", pad(d, 12), c.Open, c.Warning, c.Yellow, c.Red, onTime[d], late[d])
	}
	return store.Close()
}

func ruleOf(cases []*simCase, id string) string {
	for _, sc := range cases {
		if sc.id == id {
			return sc.rule.Name
		}
	}
	return "?"
}

// pad right-pads s with spaces to width terminal columns, counting a CJK
// character as two columns.
func pad(s string, width int) string {
	w := 0
	for _, r := range s {
		w++
		if r >= 0x1100 {
			w++
		}
	}
	for ; w < width; w++ {
		s += " "
	}
	return s
}
