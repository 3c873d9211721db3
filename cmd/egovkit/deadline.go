package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/internal/strictjson"
)

func init() {
	registerSchema("calendar", "a deadline working-day calendar (one year's schedule)", deadline.CalendarSchema)
	register(&command{
		name:    "deadline",
		summary: "compute legal due dates and supervision statuses (期限与电子监察)",
		run:     runDeadline,
	})
}

const deadlineSynopsis = `usage: egovkit deadline due    --start DATE --limit N{wd|d} [--calendar cn|FILE] [--pause FROM/TO]... [--estimate]
       egovkit deadline status --start DATE --limit N{wd|d} --now DATE [--done DATE]
                               [--warn-before N{wd|d}] [--red-after N{wd|d}] [--pause FROM/TO]... [--calendar cn|FILE]
`

func runDeadline(ctx context.Context, e *env, args []string) int {
	return dispatch(ctx, e, "deadline", strings.TrimPrefix(strings.TrimSuffix(deadlineSynopsis, "\n"), "usage: egovkit "), []subcommand{
		{"due", "the due date of a legal limit", runDeadlineDue},
		{"status", "a case's supervision status on a date", runDeadlineStatus},
	}, args)
}

const countingRules = `Counting follows 民法典 第二百零一条 to 第二百零三条: the day of the start is not
counted; N working days (wd) end at the end of the Nth working day after the
start; N natural days (d) end on the Nth day after the start, moved to the next
working day when that day is not one. Paused dates (--pause FROM/TO, both
included, repeatable, may overlap) are not counted at all (行政许可法 第四十五条).
Working days follow the calendar: "cn" is China's official schedule embedded
for 2025 and 2026 (statutory holidays off, adjusted Saturdays and Sundays on);
FILE is calendar JSON (schema ` + deadline.CalendarSchemaID + `), and
"cn,FILE" lays a local schedule or a further year over the national one.`

// deadlineFlags are the flags both subcommands share.
type deadlineFlags struct {
	start, limit, calendar string
	pauses                 repeated
	estimate               bool
}

func (f *deadlineFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.start, "start", "", "the day of the start event (受理日), `YYYY-MM-DD`; it is not counted")
	fs.StringVar(&f.limit, "limit", "", "the legal limit (法定时限): N working days `N{wd|d}` such as 20wd, or N natural days such as 30d")
	fs.StringVar(&f.calendar, "calendar", "cn", "the working-day calendar: `cn|FILE|cn,FILE`")
	fs.Var(&f.pauses, "pause", "paused dates (中止计时) `FROM/TO`, both included, such as 2025-03-03/2025-03-07; repeatable")
	fs.BoolVar(&f.estimate, "estimate", false, "count past the calendar's coverage assuming Monday to Friday, and say the result is an estimate")
}

// parsed is what the shared flags yield.
type parsed struct {
	start  deadline.Date
	limit  deadline.Limit
	pauses deadline.Pauses
	cal    *deadline.Calendar
}

// parse checks the shared flags; it returns an exit code when not ok.
func (f *deadlineFlags) parse(e *env, fs *flag.FlagSet, positional []string) (parsed, int, bool) {
	var p parsed
	if len(positional) > 0 {
		return p, usageError(e, fs, "unexpected argument %q; every input is a flag", positional[0]), false
	}
	if f.start == "" {
		return p, usageError(e, fs, "--start is required: the day of the start event, YYYY-MM-DD"), false
	}
	var err error
	if p.start, err = deadline.ParseDate(f.start); err != nil {
		return p, usageError(e, fs, "--start: %v", err), false
	}
	if f.limit == "" {
		return p, usageError(e, fs, "--limit is required: N{wd|d}, such as 20wd or 30d"), false
	}
	if p.limit, err = dayLimit(f.limit); err != nil {
		return p, usageError(e, fs, "--limit: %v", err), false
	}
	var periods []deadline.Period
	for _, s := range f.pauses {
		per, err := deadline.ParsePeriod(s)
		if err != nil {
			return p, usageError(e, fs, "--pause: %v", err), false
		}
		periods = append(periods, per)
	}
	if p.pauses, err = deadline.NewPauses(periods...); err != nil {
		return p, usageError(e, fs, "--pause: %v", err), false
	}
	cal, code, ok := loadCalendar(e, fs, f.calendar)
	if !ok {
		return p, code, false
	}
	p.cal = cal
	return p, exitOK, true
}

// dayLimit parses N{wd|d}; hours are not accepted on the command line.
func dayLimit(s string) (deadline.Limit, error) {
	l, err := deadline.ParseLimit(s)
	if err != nil {
		return l, err
	}
	if l.Unit == deadline.Hours {
		return l, &deadline.ParseError{What: "limit", Input: s, Offset: len(s) - 1, Expected: "N{wd|d}, such as 20wd or 30d", Reason: "hours are not accepted here", Err: deadline.ErrInvalidLimit}
	}
	return l, nil
}

// loadCalendar resolves --calendar: "cn", a FILE, or a comma-separated list
// whose first item is the base and the others are laid over it.
func loadCalendar(e *env, fs *flag.FlagSet, spec string) (*deadline.Calendar, int, bool) {
	var cal *deadline.Calendar
	for i, item := range strings.Split(spec, ",") {
		if item == "cn" || item == "CN" {
			if i > 0 {
				return nil, usageError(e, fs, "--calendar: cn must come first in %q", spec), false
			}
			cal = deadline.China()
			continue
		}
		if item == "" {
			return nil, usageError(e, fs, "--calendar: empty item in %q; expected cn, FILE or cn,FILE", spec), false
		}
		fh, err := os.Open(item)
		if err != nil {
			return nil, usageError(e, fs, "--calendar: %v", err), false
		}
		data, err := strictjson.ReadAll(fh, strictjson.Limits{MaxBytes: 1 << 20})
		fh.Close()
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit %s: --calendar %s: %v\n", fs.Name(), item, err)
			return nil, exitInvalid, false
		}
		years, err := deadline.ParseYears(item, data)
		if err != nil {
			return nil, calendarInvalid(e, fs, err), false
		}
		if cal == nil {
			// A file alone is a calendar of its first region; years of
			// other regions in it are laid over that.
			var base, local []deadline.Year
			for _, y := range years {
				if y.Region == years[0].Region {
					base = append(base, y)
				} else {
					local = append(local, y)
				}
			}
			if cal, err = deadline.New(years[0].Region, base...); err == nil && len(local) > 0 {
				cal, err = cal.With(local...)
			}
		} else {
			cal, err = cal.With(years...)
		}
		if err != nil {
			return nil, calendarInvalid(e, fs, err), false
		}
	}
	return cal, exitOK, true
}

func calendarInvalid(e *env, fs *flag.FlagSet, err error) int {
	var ce *deadline.CalendarError
	if errors.As(err, &ce) {
		fmt.Fprintf(e.stderr, "egovkit %s: invalid calendar %s:\n", fs.Name(), ce.Source)
		for _, v := range ce.Violations {
			fmt.Fprintf(e.stderr, "  %s\n", v)
		}
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "egovkit %s: %v\n", fs.Name(), err)
	return exitInvalid
}

func outside(e *env, fs *flag.FlagSet, err error) int {
	fmt.Fprintf(e.stderr, "egovkit %s: %v\n", fs.Name(), err)
	if errors.Is(err, deadline.ErrOutsideCalendar) {
		fmt.Fprintf(e.stderr, "egovkit %s: give --estimate to count past the coverage assuming Monday to Friday, or --calendar with the missing year\n", fs.Name())
	}
	return exitInvalid
}

func runDeadlineDue(_ context.Context, e *env, args []string) int {
	var f deadlineFlags
	fs := flagSet(e, "deadline due", "deadline due --start DATE --limit N{wd|d} [--calendar cn|FILE] [--pause FROM/TO]... [--estimate]",
		`Prints the due date (期限届满日), YYYY-MM-DD, on the first line. With
--estimate, a count that leaves the calendar's coverage assumes Monday to
Friday there and a second line says the date is an estimate.

`+countingRules+`

Exit status: 0 with the date; 1 when the count leaves the calendar's coverage
without --estimate, or the calendar file is invalid; 2 on malformed input.`)
	f.register(fs)
	positional, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	p, code, ok := f.parse(e, fs, positional)
	if !ok {
		return code
	}
	if !f.estimate {
		due, err := p.cal.Due(p.start, p.limit, p.pauses)
		if err != nil {
			return outside(e, fs, err)
		}
		fmt.Fprintln(e.stdout, due)
		return exitOK
	}
	due, est, err := p.cal.EstimateDue(p.start, p.limit, p.pauses)
	if err != nil {
		return outside(e, fs, err)
	}
	fmt.Fprintln(e.stdout, due)
	if est {
		cov := p.cal.Coverage()
		fmt.Fprintf(e.stdout, "estimate: the count leaves calendar %s (covering %s to %s) and assumes Monday to Friday beyond it\n", p.cal.Name(), cov.From, cov.To)
	}
	return exitOK
}

func runDeadlineStatus(_ context.Context, e *env, args []string) int {
	var f deadlineFlags
	var now, done, warn, red string
	fs := flagSet(e, "deadline status", "deadline status --start DATE --limit N{wd|d} --now DATE [--done DATE] [--warn-before N{wd|d}] [--red-after N{wd|d}] [--pause FROM/TO]... [--calendar cn|FILE]",
		`Prints the case's status word on the first line, one of: running, paused,
warning, yellow, red, done-on-time, done-late. At day level:
  done-on-time if --done is on or before the due date, else done-late;
  unfinished and --now inside a pause: paused;
  --now on or before the due date: warning when the days left after --now up
    to and including the due date (working days for wd, calendar days for d,
    as --warn-before is written) are at most --warn-before, else running;
  after the due date up to and including the due date plus --red-after
    (counted from the due date as a limit is counted from its start): yellow;
  after that: red. Without --red-after an overdue case stays yellow; without
  --warn-before there is no warning.

`+countingRules+`

Exit status: 0 with the status; 1 when the answer needs days outside the
calendar's coverage without --estimate, or the calendar file is invalid; 2 on
malformed input (dates, limits, ranges, a done date before the start).`)
	f.register(fs)
	fs.StringVar(&now, "now", "", "the day to read the case on, `YYYY-MM-DD`")
	fs.StringVar(&done, "done", "", "the day the case was finished (办结日), `YYYY-MM-DD`")
	fs.StringVar(&warn, "warn-before", "", "warn when at most this much is left: `N{wd|d}`")
	fs.StringVar(&red, "red-after", "", "a red card this long after the due date: `N{wd|d}`")
	positional, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	p, code, ok := f.parse(e, fs, positional)
	if !ok {
		return code
	}
	k := deadline.DayCase{Start: p.start, Limit: p.limit, Pauses: p.pauses}
	if now == "" {
		return usageError(e, fs, "--now is required: the day to read the case on, YYYY-MM-DD")
	}
	nowDate, err := deadline.ParseDate(now)
	if err != nil {
		return usageError(e, fs, "--now: %v", err)
	}
	if done != "" {
		if k.Done, err = deadline.ParseDate(done); err != nil {
			return usageError(e, fs, "--done: %v", err)
		}
		if k.Done.Before(k.Start) {
			return usageError(e, fs, "--done %s is before --start %s; expected a done date on or after the start", k.Done, k.Start)
		}
	}
	if warn != "" {
		if k.WarnBefore, err = dayLimit(warn); err != nil {
			return usageError(e, fs, "--warn-before: %v", err)
		}
	}
	if red != "" {
		if k.RedAfter, err = dayLimit(red); err != nil {
			return usageError(e, fs, "--red-after: %v", err)
		}
	}
	a, err := p.cal.Assess(k, nowDate, f.estimate)
	if err != nil {
		return outside(e, fs, err)
	}
	fmt.Fprintln(e.stdout, a.Status)
	if a.Estimated {
		fmt.Fprintln(e.stdout, "estimate: the answer counts days past the calendar's coverage assuming Monday to Friday")
	}
	return exitOK
}
