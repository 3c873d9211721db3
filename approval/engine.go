package approval

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature/jcs"
)

// Config configures an [Engine]. Store and Directory are required.
type Config struct {
	Store     Store
	Directory Directory
	// Clock gives the time of each event; nil means time.Now. Tests
	// inject a clock so that nothing sleeps.
	Clock func() time.Time
	// NewID gives new case ids; nil means UUIDv7.
	NewID func() string
	// DefaultUrgeInterval applies to definitions without urgeInterval; 0
	// means 24 hours.
	DefaultUrgeInterval time.Duration
	// Calendar counts the cases' time limits (working days); nil means
	// deadline.China(), the official schedule embedded in package deadline.
	Calendar *deadline.Calendar
	// Monitor, if set, is fed the clocks of open cases (电子监察): each
	// command that lands tracks the case's legal clock and its current
	// step's clock at the event's time, and drops clocks that finished or
	// whose step was left. The caller ticks the monitor; see
	// [Engine.TrackCase] to feed it after a restart.
	Monitor *deadline.Monitor
	// Log, if set, hears of clocks the monitor could not take (such as a
	// limit that runs past the calendar's coverage); nil discards.
	Log *slog.Logger
	// MonitorSteps also feeds the monitor the current step's clock
	// (环节时限), under the id [StepClockID], so that steps get cards of
	// their own; the monitor's counts then count step clocks beside cases.
	MonitorSteps bool
	// CacheSize is how many case snapshots the engine keeps so that a
	// command on a case it saw last need not reload and replay the whole
	// log; 0 means DefaultCacheSize, a negative value none. Correct across
	// engines and processes: the store's version rule refuses an event
	// built on a stale snapshot, and the engine then reloads.
	CacheSize int
	// Signatures, if set, verifies signed decisions (see [SignaturePolicy]);
	// without it a command that carries a Signer is refused.
	Signatures *SignaturePolicy
}

// Engine runs cases on a [Store]: it checks each command against the
// case's state and the actor, appends one event for it, and answers
// queries. An Engine is safe for concurrent use, and several engines
// (in several processes) may share one store: the store's version rule
// keeps them consistent.
type Engine struct {
	store Store
	dir   Directory
	clock func() time.Time
	newID func() string
	urge  time.Duration
	cal   *deadline.Calendar
	mon   *deadline.Monitor
	steps bool
	log   *slog.Logger
	sigs  *SignaturePolicy
	cache *caseCache

	mu   sync.RWMutex
	defs map[string]map[int]*Definition
}

// Result is what a successful command returns: the event it appended and
// the case after it. Retried is true when the command was a retry (same
// idempotency key) of one applied before, whose original event and state
// are returned.
type Result struct {
	Event   Event
	Case    *Case
	Retried bool
}

// New returns an engine running the given definitions (more can be added
// with AddDefinition).
func New(cfg Config, defs ...*Definition) (*Engine, error) {
	if cfg.Store == nil || cfg.Directory == nil {
		return nil, errors.New("approval: New needs a Store and a Directory")
	}
	e := &Engine{store: cfg.Store, dir: cfg.Directory, clock: cfg.Clock, newID: cfg.NewID, urge: cfg.DefaultUrgeInterval,
		cal: cfg.Calendar, mon: cfg.Monitor, steps: cfg.MonitorSteps, log: cfg.Log, sigs: cfg.Signatures, cache: newCaseCache(cfg.CacheSize), defs: map[string]map[int]*Definition{}}
	if e.cal == nil {
		e.cal = deadline.China()
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.sigs != nil {
		if err := e.sigs.check(); err != nil {
			return nil, err
		}
	}
	if e.clock == nil {
		e.clock = time.Now
	}
	if e.newID == nil {
		e.newID = func() string { return uuid.Must(uuid.NewV7()).String() }
	}
	if e.urge == 0 {
		e.urge = 24 * time.Hour
	}
	for _, d := range defs {
		if err := e.AddDefinition(d); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// AddDefinition makes a definition version available to Start and to the
// replay of cases that run on it. A definition must come from
// ParseDefinition; adding a different definition under an id and version
// the engine has is an error.
func (e *Engine) AddDefinition(d *Definition) error {
	if d == nil || d.Hash() == "" {
		return errors.New("approval: AddDefinition needs a definition from ParseDefinition")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	vs := e.defs[d.ID]
	if vs == nil {
		vs = map[int]*Definition{}
		e.defs[d.ID] = vs
	}
	if old := vs[d.Version]; old != nil && old.Hash() != d.Hash() {
		return fmt.Errorf("approval: definition %s version %d is already loaded with other content", d.ID, d.Version)
	}
	vs[d.Version] = d
	return nil
}

// definition returns a version, or the latest when version is 0.
func (e *Engine) definition(id string, version int) *Definition {
	e.mu.RLock()
	defer e.mu.RUnlock()
	vs := e.defs[id]
	if version != 0 {
		return vs[version]
	}
	var latest *Definition
	for _, d := range vs {
		if latest == nil || d.Version > latest.Version {
			latest = d
		}
	}
	return latest
}

func (e *Engine) now() time.Time { return e.clock().UTC() }

// Start submits an application and starts a case at the definition's
// start step, in status submitted. The application must satisfy the
// definition's application schema.
func (e *Engine) Start(ctx context.Context, cmd StartCommand) (*Result, error) {
	if cmd.Applicant == "" {
		return nil, refuse(CmdStart, RuleInvalid, "the applicant is missing")
	}
	def := e.definition(cmd.Definition, cmd.Version)
	if def == nil {
		return nil, refuse(CmdStart, RuleUnknownDefinition, "no definition %q version %d; expected one added to the engine", cmd.Definition, cmd.Version)
	}
	if cmd.Application == nil {
		return nil, refuse(CmdStart, RuleInvalid, "the application is missing")
	}
	application, err := checkApplication(CmdStart, def, cmd.Application)
	if err != nil {
		return nil, err
	}
	if d := cmd.Department; d != nil {
		if d.Name == "" {
			return nil, refuse(CmdStart, RuleInvalid, "the handling department has no name; expected the organ's name and 统一社会信用代码")
		}
		if err := docdoc.CheckOrgID(d.OrgID); err != nil {
			return nil, refuse(CmdStart, RuleInvalid, "the handling department %s: %v", d.Name, err)
		}
	}
	id := cmd.CaseID
	if id == "" {
		id = e.newID()
	} else if r, err := e.startedBefore(ctx, cmd); r != nil || err != nil {
		return r, err
	}
	ev := Event{
		CaseID: id, Seq: 1, Type: EventStarted, Actor: cmd.Applicant, At: e.now(), IdempotencyKey: cmd.IdempotencyKey,
		Data: EventData{Definition: &DefinitionRef{ID: def.ID, Version: def.Version, Hash: def.Hash()}, Application: application, Department: cmd.Department},
	}
	c := &Case{}
	if err := e.commit(ctx, def, c, &ev); err != nil {
		if errors.Is(err, ErrVersionConflict) {
			if r, err2 := e.startedBefore(ctx, cmd); r != nil || err2 != nil {
				return r, err2
			}
			return nil, &CommandError{Rule: RuleCaseExists, Command: CmdStart, Message: "case " + id + " exists", Err: err}
		}
		return nil, err
	}
	e.track("", c, ev.At)
	e.cache.put(def, c.clone(), withKey(nil, ev.IdempotencyKey))
	return &Result{Event: ev, Case: c}, nil
}

// startedBefore handles a Start with a case id: the original result for
// a retry, RuleCaseExists for another start, nil when the id is free.
func (e *Engine) startedBefore(ctx context.Context, cmd StartCommand) (*Result, error) {
	events, err := e.store.Events(ctx, cmd.CaseID)
	switch {
	case errors.Is(err, ErrCaseNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	first := events[0]
	if cmd.IdempotencyKey == "" || first.IdempotencyKey != cmd.IdempotencyKey || first.Actor != cmd.Applicant {
		return nil, refuse(CmdStart, RuleCaseExists, "case %s exists", cmd.CaseID)
	}
	return e.original(events, 0)
}

// original returns the result of the i-th event, for a retried command.
func (e *Engine) original(events []Event, i int) (*Result, error) {
	ref := events[0].Data.Definition
	if ref == nil {
		return nil, &ChainError{CaseID: events[0].CaseID, Seq: 1, Reason: "names no definition"}
	}
	def := e.definition(ref.ID, ref.Version)
	if def == nil {
		return nil, fmt.Errorf("%w: definition %s version %d (case %s)", ErrUnknownDefinition, ref.ID, ref.Version, events[0].CaseID)
	}
	c, err := Replay(def, events[:i+1])
	if err != nil {
		return nil, err
	}
	c.cal = e.cal
	return &Result{Event: events[i], Case: c, Retried: true}, nil
}

// commit applies a new event to c (which it changes) and appends it.
func (e *Engine) commit(ctx context.Context, def *Definition, c *Case, ev *Event) error {
	c.cal = e.cal
	ev.PrevHash = c.Head
	h, err := ev.ComputeHash()
	if err != nil {
		return err
	}
	ev.Hash = h
	if err := c.apply(def, ev); err != nil {
		var ce *conditionError
		if errors.As(err, &ce) {
			return &CommandError{Rule: RuleCondition, Message: ce.Error(), Err: err}
		}
		return err
	}
	return e.store.Append(ctx, Record{Event: *ev, Summary: summaryOf(c), Tasks: tasksOf(c)})
}

// checkApplication brings an application to the form it has when read
// back from the log (a strictjson tree: numbers as json.Number), so that
// conditions see the same values at the command and at every replay, and
// the caller's map is not shared; then validates it.
func checkApplication(k CommandKind, def *Definition, application map[string]any) (map[string]any, error) {
	raw, err := marshalCanonical(application)
	if err != nil {
		return nil, refuse(k, RuleInvalid, "the application is not JSON: %v", err)
	}
	// The RFC 8785 form, as the log will hold it: numbers as a double
	// writes them, so that the application is the same at every replay.
	data, err := jcs.Canonicalize(raw)
	if err != nil {
		return nil, refuse(k, RuleInvalid, "the application: %v", err)
	}
	lim := strictjson.Limits{MaxBytes: MaxCommandSize, MaxDepth: MaxCommandDepth}
	tree, err := strictjson.Parse(data, lim)
	if err != nil {
		return nil, refuse(k, RuleInvalid, "the application: %v", err)
	}
	obj := tree.(map[string]any)
	if vs := def.ValidateApplication(obj); len(vs) > 0 {
		return nil, &CommandError{Rule: RuleApplicationInvalid, Command: k, Message: fmt.Sprintf("%d problem(s)", len(vs)), Violations: vs}
	}
	return obj, nil
}

// load reads a case and replays it, checking the links of its hash chain
// (the stores check each event's own hash as they decode it; History and
// Verify recompute every hash).
func (e *Engine) load(ctx context.Context, id string) ([]Event, *Definition, *Case, error) {
	events, err := e.store.Events(ctx, id)
	if err != nil {
		return nil, nil, nil, err
	}
	ref := events[0].Data.Definition
	if ref == nil {
		return nil, nil, nil, &ChainError{CaseID: id, Seq: 1, Reason: "names no definition"}
	}
	def := e.definition(ref.ID, ref.Version)
	if def == nil {
		return nil, nil, nil, fmt.Errorf("%w: definition %s version %d (case %s)", ErrUnknownDefinition, ref.ID, ref.Version, id)
	}
	for i := 1; i < len(events); i++ {
		if events[i].PrevHash != events[i-1].Hash || events[i].CaseID != id {
			return nil, nil, nil, &ChainError{CaseID: id, Seq: i + 1, Reason: "does not link to the event before"}
		}
	}
	c, err := Replay(def, events)
	if err != nil {
		return nil, nil, nil, err
	}
	c.cal = e.cal
	e.cache.put(def, c.clone(), keysOf(events))
	return events, def, c, nil
}

// Case returns a case's current state.
func (e *Engine) Case(ctx context.Context, id string) (*Case, error) {
	_, _, c, err := e.load(ctx, id)
	return c, err
}

// History returns a case's whole log (办理过程), after verifying its hash
// chain.
func (e *Engine) History(ctx context.Context, id string) ([]Event, error) {
	events, err := e.store.Events(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := VerifyChain(events); err != nil {
		return nil, err
	}
	return events, nil
}

// Verify checks a case's hash chain, its signatures under the engine's
// SignaturePolicy ([VerifySignatures]), and that it replays on its
// definition.
func (e *Engine) Verify(ctx context.Context, id string) error {
	events, err := e.History(ctx, id)
	if err != nil {
		return err
	}
	if err := VerifySignatures(ctx, events, e.sigs); err != nil {
		return err
	}
	_, err = e.original(events, len(events)-1)
	return err
}

// Cases lists case summaries by status, department, definition and card
// (a zero CardAt is now, by the engine's clock).
func (e *Engine) Cases(ctx context.Context, f CaseFilter) ([]CaseSummary, error) {
	if f.Card != deadline.LevelNone && f.CardAt.IsZero() {
		f.CardAt = e.now()
	}
	return e.store.Cases(ctx, f)
}

// Inbox returns the tasks a user may act on now (待办): those assigned to
// the user, and those assigned to a role the user holds or an
// organisation the user belongs to (asked of the Directory), except at
// steps where the user already acted.
func (e *Engine) Inbox(ctx context.Context, user string) ([]TaskRef, error) {
	roles, orgs, err := e.store.Groups(ctx)
	if err != nil {
		return nil, err
	}
	f := TaskFilter{User: user}
	for _, r := range roles {
		ok, err := e.dir.HasRole(ctx, user, r)
		if err != nil {
			return nil, err
		}
		if ok {
			f.Roles = append(f.Roles, r)
		}
	}
	for _, o := range orgs {
		ok, err := e.dir.InOrg(ctx, user, o)
		if err != nil {
			return nil, err
		}
		if ok {
			f.Orgs = append(f.Orgs, o)
		}
	}
	ts, err := e.store.Tasks(ctx, f)
	if err != nil {
		return nil, err
	}
	out := ts[:0]
	for _, t := range ts {
		if !slices.Contains(t.Excluded, user) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Execute checks a command against the case and the actor and, if it is
// allowed, appends its event. A refused command returns a
// [*CommandError] and changes nothing. A command whose idempotency key the
// case has seen returns the original result (Retried) without acting
// again; the same key on a different command is RuleKeyReused. A command
// whose ExpectedVersion is not the case's version, or that loses a race
// with another command, is RuleStaleVersion. A refused command records
// nothing, so its retry is checked afresh.
func (e *Engine) Execute(ctx context.Context, cmd Command) (*Result, error) {
	if _, ok := commandEvents[cmd.Kind]; !ok || cmd.Kind == CmdStart {
		return nil, refuse(cmd.Kind, RuleMalformed, "unknown command %q; use Start to start a case", cmd.Kind)
	}
	if cmd.Actor == "" || cmd.CaseID == "" {
		return nil, refuse(cmd.Kind, RuleInvalid, "the actor and the case are required")
	}
	if cmd.ExpectedVersion < 1 {
		return nil, refuse(cmd.Kind, RuleInvalid, "the expected version is required (the case's version the actor saw)")
	}
	def, c, keys := e.cache.get(cmd.CaseID, cmd.ExpectedVersion, cmd.IdempotencyKey)
	if c == nil {
		events, d, loaded, err := e.load(ctx, cmd.CaseID)
		if errors.Is(err, ErrCaseNotFound) {
			return nil, refuse(cmd.Kind, RuleUnknownCase, "no case %s", cmd.CaseID)
		}
		if err != nil {
			return nil, err
		}
		if r, err := e.retried(events, cmd); r != nil || err != nil {
			return r, err
		}
		def, c, keys = d, loaded, keysOf(events)
	}
	if cmd.ExpectedVersion != c.Version {
		return nil, refuse(cmd.Kind, RuleStaleVersion, "expected version %d, but the case is at %d", cmd.ExpectedVersion, c.Version)
	}
	data, err := e.check(ctx, def, c, &cmd)
	if err != nil {
		return nil, err
	}
	ev := Event{CaseID: c.ID, Seq: c.Version + 1, Type: commandEvents[cmd.Kind], Actor: cmd.Actor, At: e.now(), IdempotencyKey: cmd.IdempotencyKey, Data: data}
	prevStep := c.stepClockID()
	if err := e.sign(ctx, c, &cmd, &ev); err != nil {
		return nil, err
	}
	if err := e.commit(ctx, def, c, &ev); err != nil {
		var ce *CommandError
		if errors.As(err, &ce) {
			ce.Command = cmd.Kind
			return nil, ce
		}
		if !errors.Is(err, ErrVersionConflict) {
			return nil, err
		}
		e.cache.drop(cmd.CaseID)
		// Lost a race. If it was against a retry of this very command,
		// that one's result is ours.
		if cmd.IdempotencyKey != "" {
			if events, err2 := e.store.Events(ctx, cmd.CaseID); err2 == nil {
				if r, err3 := e.retried(events, cmd); r != nil || err3 != nil {
					return r, err3
				}
			}
		}
		return nil, &CommandError{Rule: RuleStaleVersion, Command: cmd.Kind, Message: fmt.Sprintf("another command changed the case after version %d", cmd.ExpectedVersion), Err: err}
	}
	e.track(prevStep, c, ev.At)
	e.cache.put(def, c.clone(), withKey(keys, ev.IdempotencyKey))
	return &Result{Event: ev, Case: c}, nil
}

// stepClockID returns the id of the current step's clock, "" when there
// is none.
func (c *Case) stepClockID() string {
	if c.Step == "" || c.StepLimit == "" {
		return ""
	}
	for i := len(c.Marks) - 1; i >= 0; i-- {
		if m := c.Marks[i]; m.Kind == MarkStep {
			return StepClockID(c.ID, m.Step, m.Seq)
		}
	}
	return ""
}

// track feeds the monitor the case's clocks at instant at, after a
// command landed: the legal clock once the case is accepted (a finished
// one is dropped by the monitor), and the current step's; the clock of a
// step the case left (prevStep) is removed. A clock the monitor cannot
// evaluate (one whose limit runs past the calendar's coverage) is left
// out by the monitor; [Case.Timing] reports the same problem as a
// [*ClockError].
func (e *Engine) track(prevStep string, c *Case, at time.Time) {
	if e.mon == nil {
		return
	}
	legal, step, err := c.Clocks()
	if err != nil {
		e.log.Warn("approval: case clocks", "case", c.ID, "err", err)
		return
	}
	if !e.steps {
		step, prevStep = nil, ""
	}
	for _, k := range []*deadline.Clock{legal, step} {
		if k == nil {
			continue
		}
		if err := e.mon.Track(k, at); err != nil {
			e.log.Warn("approval: monitor refused a clock", "case", c.ID, "clock", k.ID(), "err", err)
		}
	}
	if prevStep != "" && (step == nil || prevStep != step.ID()) {
		_ = e.mon.Remove(prevStep) // ErrUnknownClock when the monitor dropped it
	}
}

// TrackCase feeds the engine's monitor a case's clocks as they stand now,
// as after a restart: call it for each open case (Cases lists them). It
// is an error when the engine has no monitor.
func (e *Engine) TrackCase(ctx context.Context, id string) error {
	if e.mon == nil {
		return errors.New("approval: TrackCase: the engine has no Monitor")
	}
	_, _, c, err := e.load(ctx, id)
	if err != nil {
		return err
	}
	legal, step, err := c.Clocks()
	if err != nil {
		return err
	}
	now := e.now()
	if legal != nil {
		if err := e.mon.Track(legal, now); err != nil {
			return err
		}
	}
	if step != nil && e.steps {
		return e.mon.Track(step, now)
	}
	return nil
}

// retried finds an earlier event with the command's idempotency key.
func (e *Engine) retried(events []Event, cmd Command) (*Result, error) {
	if cmd.IdempotencyKey == "" {
		return nil, nil
	}
	for i := range events {
		if events[i].IdempotencyKey != cmd.IdempotencyKey {
			continue
		}
		if events[i].Type != commandEvents[cmd.Kind] || events[i].Actor != cmd.Actor {
			return nil, refuse(cmd.Kind, RuleKeyReused, "idempotency key %q was used by %s of %s at version %d", cmd.IdempotencyKey, events[i].Type, events[i].Actor, events[i].Seq)
		}
		return e.original(events, i)
	}
	return nil, nil
}

// CopyRecipients resolves a case's copies (抄送) to users, through the
// Directory for roles and organisations, in order and without
// duplicates, so that the embedding system can inform them.
func (e *Engine) CopyRecipients(ctx context.Context, c *Case) ([]string, error) {
	var out []string
	for _, cp := range c.Copies {
		var users []string
		var err error
		switch a := cp.To; {
		case a.User != "":
			users = []string{a.User}
		case a.Role != "":
			users, err = e.dir.UsersOfRole(ctx, a.Role)
		case a.Org != "":
			users, err = e.dir.UsersOfOrg(ctx, a.Org)
		}
		if err != nil {
			return nil, err
		}
		out = appendNew(out, users)
	}
	return out, nil
}
