package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/internal/strictjson"
)

const replayDetails = `
Starts one case of the process definition DEF.json in a temporary SQLite
store and applies the commands of FILE.jsonl ("-" for standard input), one
JSON object a line (JSON Lines; blank lines are skipped). For each line it
prints "ok" or the rule id of the refusal, such as
approval.command.not-assignee, then the final state of the case as JSON:
case id, status, current step, the pending tasks and their assignees, the
decision, the version, the limits and the extension, and the time limit:
"due" (the legal due date, YYYY-MM-DD, pauses and extension counted; null
until the case is accepted, since the limit runs from 受理), "card" (none,
warning, yellow or red) and "clock" (its status: not-started, running,
paused, warning, yellow, red, done-on-time or done-late; the promised due
date; the time left; and the current step's clock). Clocks are read at
--at, by default the time of the last line, and count working days on
--calendar: "cn" (the default) is China's official schedule embedded in
egovkit, FILE is calendar JSON (egovkit schema calendar), and cn,FILE lays
FILE over it.

A line is {"cmd": COMMAND, "actor": USER, ...}:

  start              application (object); optional case, key, and department
                     ({"name": ..., "orgId": ...}: the handling department,
                     in place of the definition's)
  accept             optional task, comment
  refuse             reason
  requestCorrection  reason (补正)
  resubmit           optional application
  approve            optional task, comment
  reject             reason
  return             to (an earlier step) or "toApplicant": true; reason
  withdraw           optional reason (撤回, applicant only)
  transfer           to (a user); optional task (转交)
  addSigner          users (array), position: before, after or alongside
  comment            comment
  copy               users (array) (抄送)
  urge               optional task (催办)
  extend             approver (the head), reason; optional extension (10wd)
  decide             decision: granted or denied; reason (needed to deny)

Every line may also carry version (the expected version; absent means the
case's current version), key (an idempotency key) and at (an RFC 3339 time;
the clock starts at 2026-01-05T09:00:00+08:00 and moves one minute a line).
The first line should be the start (its case id defaults to case-1, so
that the output is the same on every run); otherwise --application names
the application, submitted by the user "applicant".

Without --directory every actor counts as holding every role and belonging
to every organisation, so that a flow can be tried without users; with it
(a JSON file {"roles": {ROLE: [USER...]}, "orgs": {ORGID: [USER...]}}) the
engine checks who may act.

Exit status: 0 every line applied, 1 a line was refused (or the definition
is invalid), 2 usage or I/O error.`

func runApprovalReplay(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "approval replay", "approval replay --def DEF.json --commands FILE.jsonl [--calendar cn|FILE] [--at TIME] [--directory DIR.json] [--application APP.json]", replayDetails)
	defFile := fs.String("def", "", "the process definition")
	cmdFile := fs.String("commands", "", "the command script (JSON Lines; - for standard input)")
	dirFile := fs.String("directory", "", "roles and organisations of the users (optional)")
	appFile := fs.String("application", "", "the application, when the script does not start with start")
	calSpec := fs.String("calendar", "cn", "the working-day calendar: `cn|FILE|cn,FILE`")
	atFlag := fs.String("at", "", "RFC 3339 time at which to read the clocks (default: the last line's)")
	rest, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		return usageError(e, fs, "unexpected argument %q", rest[0])
	}
	if *defFile == "" || *cmdFile == "" {
		return usageError(e, fs, "--def and --commands are required")
	}
	fail := func(err error) int {
		fmt.Fprintf(e.stderr, "egovkit approval replay: %v\n", err)
		return exitUsage
	}
	var readAt time.Time
	if *atFlag != "" {
		t, err := time.Parse(time.RFC3339Nano, *atFlag)
		if err != nil {
			return usageError(e, fs, "--at %q: expected an RFC 3339 time such as 2026-02-02T09:00:00+08:00", *atFlag)
		}
		readAt = t
	}
	cal, code, ok := loadCalendar(e, fs, *calSpec)
	if !ok {
		return code
	}
	def, code, ok := loadDefinition(e, *defFile)
	if !ok {
		return code
	}
	var dir approval.Directory = anyone{}
	if *dirFile != "" {
		d, err := loadDirectory(*dirFile)
		if err != nil {
			return fail(err)
		}
		dir = d
	}
	var startApp map[string]any
	if *appFile != "" {
		a, err := readObject(*appFile)
		if err != nil {
			return fail(err)
		}
		startApp = a
	}
	in := e.stdin
	if *cmdFile != "-" {
		f, err := os.Open(*cmdFile)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		in = f
	}
	tmp, err := os.MkdirTemp("", "egovkit-replay-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)
	store, err := approval.OpenSQLite(ctx, filepath.Join(tmp, "replay.db"))
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	clock := &scriptClock{t: time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC).Add(-time.Minute)}
	engine, err := approval.New(approval.Config{Store: store, Directory: dir, Clock: clock.now, Calendar: cal}, def)
	if err != nil {
		return fail(err)
	}
	r := &replayer{ctx: ctx, e: engine, def: def, clock: clock, out: e.stdout, startApp: startApp, readAt: readAt}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), approval.MaxCommandSize+1)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		r.line(line)
	}
	if err := sc.Err(); err != nil {
		return fail(fmt.Errorf("%s: %w", *cmdFile, err))
	}
	if err := r.final(); err != nil {
		return fail(err)
	}
	if r.refused {
		return exitInvalid
	}
	return exitOK
}

func loadDefinition(e *env, name string) (*approval.Definition, int, bool) {
	f, err := os.Open(name)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit approval replay: %v\n", err)
		return nil, exitUsage, false
	}
	defer f.Close()
	def, err := approval.ParseDefinition(f)
	var de *approval.DefinitionError
	switch {
	case errors.As(err, &de):
		for _, v := range de.Violations {
			fmt.Fprintf(e.stderr, "%s: %s: %s: %s\n", name, v.Pointer, v.Rule, v.Message)
		}
		return nil, exitInvalid, false
	case err != nil:
		fmt.Fprintf(e.stderr, "egovkit approval replay: %s: %v\n", name, err)
		return nil, exitUsage, false
	}
	return def, exitOK, true
}

func readObject(name string) (map[string]any, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	tree, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: approval.MaxCommandSize, MaxDepth: approval.MaxCommandDepth})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	obj, ok := tree.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: expected a JSON object", name)
	}
	return obj, nil
}

func loadDirectory(name string) (*approval.MemoryDirectory, error) {
	obj, err := readObject(name)
	if err != nil {
		return nil, err
	}
	d := &approval.MemoryDirectory{}
	for key, v := range obj {
		groups, ok := v.(map[string]any)
		if !ok || (key != "roles" && key != "orgs") {
			return nil, fmt.Errorf("%s: expected {\"roles\": {...}, \"orgs\": {...}}, found member %q", name, key)
		}
		for g, us := range groups {
			list, ok := us.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: /%s/%s: expected an array of user names", name, key, g)
			}
			var users []string
			for _, u := range list {
				s, ok := u.(string)
				if !ok {
					return nil, fmt.Errorf("%s: /%s/%s: expected an array of user names", name, key, g)
				}
				users = append(users, s)
			}
			if key == "roles" {
				d.AddRole(g, users...)
			} else {
				d.AddOrg(g, users...)
			}
		}
	}
	return d, nil
}

// anyone is the replay's directory without --directory: every user holds
// every role and belongs to every organisation.
type anyone struct{}

func (anyone) UsersOfRole(context.Context, string) ([]string, error) { return nil, nil }
func (anyone) UsersOfOrg(context.Context, string) ([]string, error)  { return nil, nil }
func (anyone) HasRole(context.Context, string, string) (bool, error) { return true, nil }
func (anyone) InOrg(context.Context, string, string) (bool, error)   { return true, nil }

// scriptClock moves a minute a line, or to a line's at.
type scriptClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *scriptClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// advance moves the clock for the next line; it refuses to go back.
func (c *scriptClock) advance(at time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if at.IsZero() {
		c.t = c.t.Add(time.Minute)
		return true
	}
	if at.Before(c.t) {
		return false
	}
	c.t = at
	return true
}

type replayer struct {
	ctx      context.Context
	e        *approval.Engine
	def      *approval.Definition
	clock    *scriptClock
	out      io.Writer
	startApp map[string]any
	readAt   time.Time
	caseID   string
	refused  bool
}

func (r *replayer) report(err error) {
	if err == nil {
		fmt.Fprintln(r.out, "ok")
		return
	}
	r.refused = true
	rule := approval.RuleOf(err)
	if rule == "" {
		rule = "error: " + err.Error()
	}
	fmt.Fprintln(r.out, rule)
}

func (r *replayer) line(data []byte) {
	line, err := approval.DecodeCommand(data)
	if err != nil {
		r.report(err)
		return
	}
	if !r.clock.advance(line.At) {
		r.report(&approval.CommandError{Rule: approval.RuleInvalid, Message: "at goes back in time"})
		return
	}
	if line.Start != nil {
		if line.Start.Definition == "" {
			line.Start.Definition, line.Start.Version = r.def.ID, r.def.Version
		}
		if line.Start.CaseID == "" {
			line.Start.CaseID = "case-1"
		}
		res, err := r.e.Start(r.ctx, *line.Start)
		if err == nil && r.caseID == "" {
			r.caseID = res.Case.ID
		}
		r.report(err)
		return
	}
	if r.caseID == "" && r.startApp != nil {
		res, err := r.e.Start(r.ctx, approval.StartCommand{CaseID: "case-1", Definition: r.def.ID, Version: r.def.Version, Applicant: "applicant", Application: r.startApp})
		if err != nil {
			r.report(err)
			return
		}
		r.caseID = res.Case.ID
	}
	cmd := *line.Command
	if cmd.CaseID == "" {
		cmd.CaseID = r.caseID
	}
	if cmd.CaseID == "" {
		cmd.CaseID = "case-1" // not started: the engine says unknown-case
	}
	if cmd.ExpectedVersion == 0 {
		if c, err := r.e.Case(r.ctx, cmd.CaseID); err == nil {
			cmd.ExpectedVersion = c.Version
		} else {
			cmd.ExpectedVersion = 1
		}
	}
	_, err = r.e.Execute(r.ctx, cmd)
	r.report(err)
}

// replayState is the final state printed after the lines.
type replayState struct {
	Case      *string              `json:"case"`
	Status    approval.Status      `json:"status,omitempty"`
	Step      string               `json:"step,omitempty"`
	Assignees []string             `json:"assignees"`
	Tasks     []approval.Task      `json:"tasks"`
	Decision  *approval.Decision   `json:"decision,omitempty"`
	Accepted  bool                 `json:"accepted"`
	Version   int                  `json:"version"`
	Limits    *approval.CaseLimits `json:"limits,omitempty"`
	Extension *approval.Extension  `json:"extension,omitempty"`
	Due       *string              `json:"due"`
	Card      string               `json:"card"`
	Clock     *replayClock         `json:"clock,omitempty"`
	Head      string               `json:"head,omitempty"`
}

// replayClock is the time limit of the final state.
type replayClock struct {
	At          string           `json:"at"`
	Status      string           `json:"status"`
	Due         string           `json:"due,omitempty"`
	PromisedDue string           `json:"promisedDue,omitempty"`
	Left        string           `json:"left,omitempty"`
	Estimated   bool             `json:"estimated,omitempty"`
	Step        *replayStepClock `json:"step,omitempty"`
	Error       string           `json:"error,omitempty"`
}

type replayStepClock struct {
	Step   string `json:"step"`
	Status string `json:"status"`
	Due    string `json:"due"`
	Card   string `json:"card"`
}

func clockOf(c *approval.Case, at time.Time) (*replayClock, *string, string) {
	rc := &replayClock{At: at.UTC().Format(time.RFC3339)}
	tm, err := c.Timing(at)
	if err != nil {
		rc.Status, rc.Error = "unknown", err.Error()
		return rc, nil, "none"
	}
	if tm.StepClock != nil {
		rc.Step = &replayStepClock{Step: tm.Step, Status: tm.StepClock.Status.String(), Due: tm.StepClock.Due.String(), Card: tm.StepClock.Card.String()}
	}
	if !tm.Started {
		rc.Status = "not-started"
		return rc, nil, tm.Card().String()
	}
	rc.Status, rc.Due, rc.Left, rc.Estimated = tm.Legal.Status.String(), tm.Legal.Due.String(), tm.Legal.Left.String(), tm.Legal.Estimated
	if !tm.Legal.PromisedDue.IsZero() {
		rc.PromisedDue = tm.Legal.PromisedDue.String()
	}
	due := rc.Due
	return rc, &due, tm.Legal.Card.String()
}

func (r *replayer) final() error {
	st := replayState{Assignees: []string{}, Tasks: []approval.Task{}, Card: "none"}
	if r.caseID != "" {
		c, err := r.e.Case(r.ctx, r.caseID)
		if err != nil {
			return err
		}
		if err := r.e.Verify(r.ctx, r.caseID); err != nil {
			return err
		}
		st.Case, st.Status, st.Step, st.Decision, st.Accepted, st.Version = &c.ID, c.Status, c.Step, c.Decision, c.Accepted, c.Version
		st.Limits, st.Extension, st.Head = &c.Limits, c.Extension, c.Head
		at := r.readAt
		if at.IsZero() {
			at = r.clock.now()
		}
		st.Clock, st.Due, st.Card = clockOf(c, at)
		for _, t := range c.PendingTasks() {
			st.Assignees = append(st.Assignees, t.Assignee.String())
			st.Tasks = append(st.Tasks, t)
		}
	}
	enc := json.NewEncoder(r.out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(st)
}
