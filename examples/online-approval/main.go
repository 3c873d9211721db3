// Command online-approval simulates approval without a visit (不见面审批) of
// enterprise annual inspections (企业年度检验) in three district bureaus:
// a thousand applications, each through 受理 → 初审 → 会签 by two
// departments (生态环境局 and 消防救援支队) → 决定, on the approval engine
// with a temporary SQLite store (synchronous=FULL). Some applications get a
// correction request (补正, the legal clock stops until the applicant
// resubmits), some an extension (延长, approved by the head), and some sit
// too long at a step and run over their legal limit. A fake clock moves
// over working days from 2026-03-02; the engine feeds each case's legal
// clock to a deadline monitor, ticked at the end of every day, which issues
// warnings, yellow cards (黄牌) and red cards (红牌) exactly once per case
// into a SQLite card store. The program prints what happened and the cards
// per department, and exits (non-zero on failure). Run it with:
//
//	go run ./examples/online-approval
package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/deadline/sqlstore"
)

// The flow, as a department would declare it; %s are the definition id
// and the district bureau.
const flow = `{
  "specVersion": "approval/1", "id": "annual-inspection-%s", "version": 1, "name": "企业年度检验",
  "department": {"name": "%s", "orgId": "%s"},
  "applicationSchema": {
    "type": "object", "required": ["enterprise", "orgId", "registeredCapital"],
    "properties": {"enterprise": {"type": "string", "minLength": 1}, "orgId": {"type": "string"}, "registeredCapital": {"type": "number", "minimum": 0}}
  },
  "limits": {"legal": "20wd", "extension": "10wd", "promised": "15wd"},
  "start": "accept",
  "steps": [
    {"id": "accept", "name": "受理", "mode": "any", "assignees": [{"role": "window-clerk"}], "limit": "5wd", "next": [{"to": "review"}]},
    {"id": "review", "name": "初审", "mode": "single", "assignees": [{"role": "reviewer"}], "limit": "5wd", "next": [{"to": "countersign"}]},
    {"id": "countersign", "name": "会签", "mode": "all", "assignees": [{"org": "11500000MB16089308"}, {"org": "11500000MB1972360U"}], "limit": "5wd", "next": [{"to": "decide"}]},
    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"role": "head"}], "limit": "3wd"}
  ]
}`

type district struct {
	key, name, orgID string
	def              *approval.Definition
}

var districts = []*district{
	{key: "yuzhong", name: "重庆市渝中区市场监督管理局", orgID: "11500103MB1541240B"},
	{key: "jiangbei", name: "重庆市江北区市场监督管理局", orgID: "11500105MB1541241C"},
	{key: "nanan", name: "重庆市南岸区市场监督管理局", orgID: "11500108MB1541242D"},
}

// Stages of a simulated case.
const (
	stageSubmitted = iota
	stageReview
	stageCorrection
	stageCountersign
	stageDecide
	stageDone
)

// simCase is one application and what its handlers will do.
type simCase struct {
	id         string
	started    bool
	d          *district
	version    int
	stage      int
	next       int // the day index of the next action
	correction bool
	corrected  bool
	extend     bool
	slow       bool // the reviewer sits on it: the case runs over
	deny       bool
	final      *approval.Case
}

const (
	applications = 1000
	intakeDays   = 10 // working days over which applications arrive
	workers      = 32
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "online-approval:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	cal := deadline.China()
	loc := cal.Location()
	rng := rand.New(rand.NewPCG(2026, 3))

	tmp, err := os.MkdirTemp("", "online-approval-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	store, err := approval.OpenSQLite(ctx, filepath.Join(tmp, "approval.db"))
	if err != nil {
		return err
	}
	defer store.Close()
	cards, err := sqlstore.OpenSQLite(ctx, filepath.Join(tmp, "cards.db"), "cards")
	if err != nil {
		return err
	}
	defer cards.Close()
	monitor := deadline.NewMonitor(cards, nil)

	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1", "clerk2")
	dir.AddRole("reviewer", "rev1", "rev2")
	dir.AddRole("head", "head1")
	dir.AddOrg("11500000MB16089308", "env1")  // 生态环境局
	dir.AddOrg("11500000MB1972360U", "fire1") // 消防救援支队

	// The fake clock: the current working day, 09:00 plus a minute per
	// command, so that each case's events move forward.
	var mu sync.Mutex
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, loc)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	}
	var defs []*approval.Definition
	for _, d := range districts {
		src := fmt.Sprintf(flow, d.key, d.name, d.orgID)
		if d.def, err = approval.ParseDefinition(strings.NewReader(src)); err != nil {
			return err
		}
		defs = append(defs, d.def)
	}
	engine, err := approval.New(approval.Config{Store: store, Directory: dir, Clock: clock, Calendar: cal, Monitor: monitor}, defs...)
	if err != nil {
		return err
	}

	// The working days of the simulation.
	var days []deadline.Date
	for d := deadline.MustDate(2026, 3, 2); len(days) < 90; d = d.AddDays(1) {
		if ok, err := cal.IsWorkday(d); err != nil {
			return err
		} else if ok {
			days = append(days, d)
		}
	}

	cases := make([]*simCase, applications)
	for i := range cases {
		c := &simCase{d: districts[rng.IntN(len(districts))], next: rng.IntN(intakeDays)}
		c.id = fmt.Sprintf("%s-%04d", c.d.key, i+1)
		c.correction = rng.IntN(100) < 12
		c.extend = rng.IntN(100) < 5
		c.slow = rng.IntN(100) < 6
		c.deny = rng.IntN(100) < 7
		cases[i] = c
	}

	var commands atomic.Int64
	act := func(c *simCase, day int) error {
		do := func(cmd approval.Command) error {
			cmd.CaseID, cmd.ExpectedVersion = c.id, c.version
			r, err := engine.Execute(ctx, cmd)
			if err != nil {
				return fmt.Errorf("case %s: %s: %w", c.id, cmd.Kind, err)
			}
			commands.Add(1)
			c.version, c.final = r.Case.Version, r.Case
			return nil
		}
		wait := func(n int) { c.next = day + n }
		switch c.stage {
		case stageSubmitted:
			if !c.started {
				r, err := engine.Start(ctx, approval.StartCommand{CaseID: c.id, Definition: c.d.def.ID, Applicant: "enterprise", IdempotencyKey: "submit",
					Application: map[string]any{"enterprise": "重庆某企业", "orgId": "91500000MA5U7X3P0D", "registeredCapital": 1000000}})
				if err != nil {
					return err
				}
				commands.Add(1)
				c.started, c.version = true, r.Case.Version
				wait(1)
				return nil
			}
			c.stage = stageReview
			wait(1 + rng2(c, 2))
			return do(approval.Command{Kind: approval.CmdAccept, Actor: "clerk1"})
		case stageReview:
			if c.correction && !c.corrected {
				c.stage = stageCorrection
				wait(2 + rng2(c, 4))
				return do(approval.Command{Kind: approval.CmdRequestCorrection, Actor: "rev1", Reason: "请补正年度报告"})
			}
			if c.extend {
				c.extend = false
				if err := do(approval.Command{Kind: approval.CmdExtend, Actor: "rev1", Approver: "head1", Reason: "需现场核查"}); err != nil {
					return err
				}
			}
			c.stage = stageCountersign
			wait(1 + rng2(c, 3))
			if c.slow {
				wait(18 + rng2(c, 14)) // the reviewer forgets it
			}
			return do(approval.Command{Kind: approval.CmdApprove, Actor: "rev1"})
		case stageCorrection:
			c.corrected, c.stage = true, stageReview
			wait(1 + rng2(c, 2))
			return do(approval.Command{Kind: approval.CmdResubmit, Actor: "enterprise"})
		case stageCountersign:
			for _, u := range []string{"env1", "fire1"} {
				if err := do(approval.Command{Kind: approval.CmdApprove, Actor: u}); err != nil {
					return err
				}
			}
			c.stage = stageDecide
			wait(1 + rng2(c, 2))
			return nil
		case stageDecide:
			c.stage = stageDone
			if c.deny {
				return do(approval.Command{Kind: approval.CmdDecide, Actor: "head1", Decision: approval.Denied, Reason: "年度报告未按期公示"})
			}
			return do(approval.Command{Kind: approval.CmdDecide, Actor: "head1", Decision: approval.Granted, Reason: "符合年检条件"})
		}
		return nil
	}

	issued := map[string]*[4]int{} // department → cards by level
	started := time.Now()
	last := 0
	for day := range days {
		mu.Lock()
		now = days[day].Start(loc).Add(9 * time.Hour)
		mu.Unlock()
		var due []*simCase
		for _, c := range cases {
			if c.stage != stageDone && c.next == day {
				due = append(due, c)
			}
		}
		if err := parallel(due, func(c *simCase) error { return act(c, day) }); err != nil {
			return err
		}
		got, err := monitor.Tick(ctx, days[day].End(loc))
		if err != nil {
			return err
		}
		for _, card := range got {
			n := issued[card.Department]
			if n == nil {
				n = &[4]int{}
				issued[card.Department] = n
			}
			n[card.Level]++
		}
		last = day
		if done(cases) {
			break
		}
	}
	elapsed := time.Since(started)
	verifyStart := time.Now()
	if !done(cases) {
		return errors.New("the simulation ended with open cases")
	}

	// Every case's log verifies, and its clock says whether it was
	// decided in time.
	var granted, denied, onTime, late, corrections, extensions int
	for _, c := range cases {
		if err := engine.Verify(ctx, c.id); err != nil {
			return err
		}
		tm, err := c.final.Timing(days[last].End(loc))
		if err != nil {
			return err
		}
		switch tm.Legal.Status {
		case deadline.StatusDoneOnTime:
			onTime++
		case deadline.StatusDoneLate:
			late++
		default:
			return fmt.Errorf("case %s: clock %s after its decision", c.id, tm.Legal.Status)
		}
		if c.final.Status == approval.StatusGranted {
			granted++
		} else {
			denied++
		}
		if c.corrected {
			corrections++
		}
		if c.final.Extension != nil {
			extensions++
		}
	}
	verified := time.Since(verifyStart)
	fmt.Printf("企业年度检验: %d applications in %d district bureaus, %s to %s (%d working days)\n",
		applications, len(districts), days[0], days[last], last+1)
	n := commands.Load()
	fmt.Printf("commands: %d on SQLite (synchronous=FULL) in %s, %.0f commands/s with %d concurrent handlers\n",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), workers)
	fmt.Printf("verified: %d case logs (hash chains and replay) in %s\n", len(cases), verified.Round(time.Millisecond))
	fmt.Printf("decisions: %d granted, %d denied; %d on time, %d late; %d corrections (补正), %d extensions (延长)\n",
		granted, denied, onTime, late, corrections, extensions)
	fmt.Println("cards issued by the deadline monitor (预警 / 黄牌 / 红牌):")
	fmt.Printf("  %8s %8s %8s  %s\n", "warning", "yellow", "red", "department")
	total := [4]int{}
	for _, d := range districts {
		n := issued[d.orgID]
		if n == nil {
			n = &[4]int{}
		}
		fmt.Printf("  %8d %8d %8d  %s (%s)\n", n[deadline.LevelWarning], n[deadline.LevelYellow], n[deadline.LevelRed], d.name, d.orgID)
		for l := range n {
			total[l] += n[l]
		}
	}
	fmt.Printf("  %8d %8d %8d  total\n", total[deadline.LevelWarning], total[deadline.LevelYellow], total[deadline.LevelRed])
	if monitor.Len() != 0 {
		return fmt.Errorf("the monitor still tracks %d clocks after every case was decided", monitor.Len())
	}
	if total[deadline.LevelYellow] == 0 || total[deadline.LevelRed] == 0 || late == 0 {
		return errors.New("expected overdue cases with yellow and red cards")
	}
	if total[deadline.LevelYellow] < late {
		return fmt.Errorf("%d cases decided late but only %d yellow cards", late, total[deadline.LevelYellow])
	}
	return nil
}

// rng2 is a small deterministic spread per case, so that the parallel
// handlers need no shared random source.
func rng2(c *simCase, n int) int {
	h := 0
	for _, b := range []byte(c.id) {
		h = h*31 + int(b)
	}
	if h < 0 {
		h = -h
	}
	return (h + c.version) % n
}

func done(cases []*simCase) bool {
	for _, c := range cases {
		if c.stage != stageDone {
			return false
		}
	}
	return true
}

// parallel runs f on every case with a pool of workers, a case at a time
// per worker, and returns the first error.
func parallel(cases []*simCase, f func(*simCase) error) error {
	ch := make(chan *simCase)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range ch {
				if err := f(c); err != nil {
					errs <- err
					for range ch {
					}
					return
				}
			}
		}()
	}
	for _, c := range cases {
		ch <- c
	}
	close(ch)
	wg.Wait()
	close(errs)
	return <-errs
}
