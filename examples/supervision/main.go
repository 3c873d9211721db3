// Command supervision simulates electronic supervision (电子监察) of online
// approval cases for one quarter: a few hundred cases across departments,
// each with a time-limit clock (20 working days for a licence, 行政许可法
// 第四十二条, some with a promised limit, 补正 pauses and extensions), a card
// monitor on a SQLite store that restarts half way through, and a fake clock
// advanced day by day from 2025-04-01 to 2025-06-30 (through 清明节, 劳动节
// and 端午节).
//
//	go run ./examples/supervision                       # print the cards and the table, and exit
//	go run ./examples/supervision --serve 127.0.0.1:8080 # the supervision dashboard
//
// With --serve it serves the dashboard (电子监察看板) on that address: per
// department, the open cases, warnings, yellow and red cards, and the
// overdue cases with their history; the simulated clock advances one day
// every --step (1s), or by the page's buttons, and the page follows.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/examples/internal/columns"
)

func main() {
	serve := flag.String("serve", "", "serve the dashboard on `ADDR` (such as 127.0.0.1:8080) instead of printing")
	step := flag.Duration("step", time.Second, "with --serve: advance the simulated clock one day every `DURATION` (0: only by the page's buttons)")
	flag.Parse()
	var err error
	if *serve != "" {
		err = runServer(*serve, *step)
	} else {
		err = runBatch()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "supervision:", err)
		os.Exit(1)
	}
}

func runBatch() error {
	dir, err := os.MkdirTemp("", "egovkit-supervision-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := newSimulation(context.Background(), dir)
	if err != nil {
		return err
	}
	defer s.store.Close()
	fmt.Println("cards issued (date, level, department, case, rule, watched due date):")
	restarted := false
	for !s.done() {
		cards, err := s.step()
		for _, c := range cards {
			fmt.Printf("  %s  %-7s  %s  %s  %s, due %s\n", deadline.DateOf(c.FiredAt, s.loc), c.Level, columns.Pad(c.Department, 10), c.ClockID, c.Rule, c.Due)
		}
		if err != nil {
			return err
		}
		if !restarted && s.restarted > 0 {
			restarted = true
			fmt.Printf("  -- %s: monitor restarted, %d clocks rebuilt from their events --\n", deadline.DateOf(s.restart, s.loc), s.restarted)
		}
	}
	levels := map[deadline.Level]int{}
	for _, c := range s.issued {
		levels[c.Level]++
	}
	fmt.Printf("\n%d cases, %d warnings, %d yellow cards, %d red cards issued in the quarter\n\n",
		len(s.cases), levels[deadline.LevelWarning], levels[deadline.LevelYellow], levels[deadline.LevelRed])
	rows, err := s.table(s.end)
	if err != nil {
		return err
	}
	fmt.Println("open cases on", deadline.DateOf(s.end, s.loc), "by department (部门 / 在办 / 预警 / 黄牌 / 红牌), and cases finished in the quarter:")
	fmt.Printf("  %s%6s%9s%8s%5s%14s%11s\n", columns.Pad("department", 12), "open", "warning", "yellow", "red", "done on time", "done late")
	for _, r := range rows {
		fmt.Printf("  %s%6d%9d%8d%5d%14d%11d\n", columns.Pad(r.Department, 12), r.Open, r.Warning, r.Yellow, r.Red, r.DoneOnTime, r.DoneLate)
	}
	return nil
}

func runServer(addr string, step time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := os.MkdirTemp("", "egovkit-supervision-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	s, err := newSimulation(ctx, dir)
	if err != nil {
		return err
	}
	defer s.store.Close()
	d := newDashboard(s)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if step > 0 {
		go func() {
			t := time.NewTicker(step)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					if err := d.advance(1); err != nil {
						fmt.Fprintln(os.Stderr, "supervision:", err)
						stop()
						return
					}
				}
			}
		}()
	}
	fmt.Printf("supervision dashboard on http://%s/ (Ctrl-C to stop)\n", l.Addr())
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
