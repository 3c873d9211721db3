package approval

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/egovkit/egovkit/deadline"
)

// Store keeps cases: each case's event log, and two projections the
// engine writes with each event so that queries need not replay (the
// case's summary and its pending tasks). Implementations must make Append
// atomic and durable before it returns, and must enforce the version rule
// across every process that shares the store: an event whose Seq is
// already taken for its case, or whose idempotency key the case already
// used, is refused with [ErrVersionConflict] (a unique (case, seq)
// constraint does it). [NewMemoryStore], [OpenSQLite] and
// [OpenPostgres] pass one conformance suite.
type Store interface {
	// Append adds one event to its case, with the projections after it.
	Append(ctx context.Context, r Record) error
	// Events returns a case's whole log in order, each event decoded with
	// [DecodeEvent]; ErrCaseNotFound when it has none.
	Events(ctx context.Context, caseID string) ([]Event, error)
	// Cases lists case summaries matching the filter (the card filter by
	// the summaries' CardTimes), most recently updated first.
	Cases(ctx context.Context, f CaseFilter) ([]CaseSummary, error)
	// Tasks lists pending tasks assigned to the filter's user, or to one
	// of its roles or organisations, oldest first.
	Tasks(ctx context.Context, f TaskFilter) ([]TaskRef, error)
	// Groups returns the roles and organisations that have pending tasks.
	Groups(ctx context.Context) (roles, orgs []string, err error)
	// Close releases the store.
	Close() error
}

// Record is what one command appends: the event, and the case's summary
// and pending tasks after it (which replace the previous ones).
type Record struct {
	Event   Event
	Summary CaseSummary
	Tasks   []TaskRef
}

// CaseSummary is a case's row in lists (办件列表).
type CaseSummary struct {
	ID                string    `json:"id"`
	Definition        string    `json:"definition"`
	DefinitionVersion int       `json:"definitionVersion"`
	Department        string    `json:"department,omitempty"`
	Applicant         string    `json:"applicant"`
	Status            Status    `json:"status"`
	Step              string    `json:"step,omitempty"`
	Version           int       `json:"version"`
	StartedAt         time.Time `json:"startedAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
	// Cards are when the case's legal clock reaches each card level if no
	// other command lands, as of its last command.
	Cards CardTimes `json:"cards,omitzero"`
}

// CardTimes are the instants at which a case's legal clock reaches each
// card level (预警, 黄牌, 红牌) if no other event happens; zero for a level
// it does not reach before its next event (or at all). Clocks change only
// with events, so these instants, computed when a command lands, answer
// "which cases hold which card" at any later time without reading the
// clocks again. A suspended case (补正) keeps the levels it had reached.
type CardTimes struct {
	Warning time.Time `json:"warning,omitzero"`
	Yellow  time.Time `json:"yellow,omitzero"`
	Red     time.Time `json:"red,omitzero"`
}

// Level returns the highest card level reached by instant at.
func (ct CardTimes) Level(at time.Time) deadline.Level {
	reached := func(t time.Time) bool { return !t.IsZero() && !t.After(at) }
	switch {
	case reached(ct.Red):
		return deadline.LevelRed
	case reached(ct.Yellow):
		return deadline.LevelYellow
	case reached(ct.Warning):
		return deadline.LevelWarning
	}
	return deadline.LevelNone
}

// cardTimes reads the case's legal clock at its last event and at each
// following transition.
func (c *Case) cardTimes() CardTimes {
	var ct CardTimes
	legal, _, err := c.Clocks()
	if err != nil || legal == nil {
		return ct
	}
	at := c.UpdatedAt
	for range 4 {
		r, err := legal.Read(at)
		if err != nil {
			return ct
		}
		for l, t := range [...]*time.Time{deadline.LevelWarning: &ct.Warning, deadline.LevelYellow: &ct.Yellow, deadline.LevelRed: &ct.Red} {
			if t != nil && deadline.Level(l) <= r.Level && t.IsZero() {
				*t = at.UTC()
			}
		}
		if r.Next.IsZero() {
			break
		}
		at = r.Next
	}
	return ct
}

// TaskRef is a pending task as a user's task list (待办) shows it.
type TaskRef struct {
	CaseID   string    `json:"caseId"`
	TaskID   string    `json:"taskId"`
	Step     string    `json:"step"`
	Assignee Assignee  `json:"assignee"`
	Since    time.Time `json:"since"` // when the case last changed
	// Excluded are users who already acted at this step and so may not
	// take this task too.
	Excluded []string `json:"excluded,omitempty"`
}

// CaseFilter selects cases; empty fields match everything. Limit 0 means
// 100; at most 1000.
type CaseFilter struct {
	Status     Status
	Department string
	Definition string
	// Card, when not LevelNone, selects the cases whose highest card at
	// CardAt is exactly Card (see [CardTimes]); [Engine.Cases] fills a
	// zero CardAt with the engine's clock.
	Card   deadline.Level
	CardAt time.Time
	Limit  int
}

func (f CaseFilter) matchCard(ct CardTimes) bool {
	return f.Card == deadline.LevelNone || ct.Level(f.CardAt) == f.Card
}

func (f CaseFilter) limit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}

// TaskFilter selects pending tasks by assignee: the user's own, and those
// of the given roles and organisations.
type TaskFilter struct {
	User  string
	Roles []string
	Orgs  []string
}

func (f TaskFilter) match(a Assignee) bool {
	return (a.User != "" && a.User == f.User) || (a.Role != "" && slices.Contains(f.Roles, a.Role)) || (a.Org != "" && slices.Contains(f.Orgs, a.Org))
}

func summaryOf(c *Case) CaseSummary {
	return CaseSummary{
		ID: c.ID, Definition: c.Definition.ID, DefinitionVersion: c.Definition.Version, Department: c.Department,
		Applicant: c.Applicant, Status: c.Status, Step: c.Step, Version: c.Version, StartedAt: c.StartedAt, UpdatedAt: c.UpdatedAt,
		Cards: c.cardTimes(),
	}
}

func tasksOf(c *Case) []TaskRef {
	var acted []string
	for _, t := range c.Tasks {
		if t.ActedBy != "" && !slices.Contains(acted, t.ActedBy) {
			acted = append(acted, t.ActedBy)
		}
	}
	var out []TaskRef
	for _, t := range c.Tasks {
		if t.State == TaskPending {
			out = append(out, TaskRef{CaseID: c.ID, TaskID: t.ID, Step: t.Step, Assignee: t.Assignee, Since: c.UpdatedAt, Excluded: acted})
		}
	}
	return out
}

// storedEvent is an event as stores keep it.
type storedEvent struct {
	body      []byte
	hash, sig string
	key       string
}

func encodeStored(e *Event) (storedEvent, error) {
	body, err := e.Canonical()
	if err != nil {
		return storedEvent{}, err
	}
	return storedEvent{body: body, hash: e.Hash, sig: e.Signature, key: e.IdempotencyKey}, nil
}

// MemoryStore is a Store in memory, for tests and examples: nothing
// survives the process. It is safe for concurrent use.
type MemoryStore struct {
	mu      sync.RWMutex
	events  map[string][]storedEvent
	summary map[string]CaseSummary
	tasks   map[string][]TaskRef
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{events: map[string][]storedEvent{}, summary: map[string]CaseSummary{}, tasks: map[string][]TaskRef{}}
}

// Append implements Store.
func (s *MemoryStore) Append(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	se, err := encodeStored(&r.Event)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.Event.CaseID
	log := s.events[id]
	if r.Event.Seq != len(log)+1 {
		return ErrVersionConflict
	}
	if se.key != "" {
		for _, old := range log {
			if old.key == se.key {
				return ErrVersionConflict
			}
		}
	}
	s.events[id] = append(log, se)
	s.summary[id] = r.Summary
	s.tasks[id] = slices.Clone(r.Tasks)
	return nil
}

// Events implements Store.
func (s *MemoryStore) Events(ctx context.Context, caseID string) ([]Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	log := s.events[caseID]
	s.mu.RUnlock()
	if len(log) == 0 {
		return nil, ErrCaseNotFound
	}
	out := make([]Event, len(log))
	for i, se := range log {
		e, err := DecodeEvent(se.body, se.hash, se.sig)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// Cases implements Store.
func (s *MemoryStore) Cases(ctx context.Context, f CaseFilter) ([]CaseSummary, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []CaseSummary
	for _, c := range s.summary {
		if (f.Status == "" || c.Status == f.Status) && (f.Department == "" || c.Department == f.Department) && (f.Definition == "" || c.Definition == f.Definition) && f.matchCard(c.Cards) {
			out = append(out, c)
		}
	}
	s.mu.RUnlock()
	sortCases(out)
	if len(out) > f.limit() {
		out = out[:f.limit()]
	}
	return out, nil
}

func sortCases(cs []CaseSummary) {
	slices.SortFunc(cs, func(a, b CaseSummary) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

func sortTasks(ts []TaskRef) {
	slices.SortFunc(ts, func(a, b TaskRef) int {
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		if c := cmp.Compare(a.CaseID, b.CaseID); c != 0 {
			return c
		}
		return cmp.Compare(a.TaskID, b.TaskID)
	})
}

// Tasks implements Store.
func (s *MemoryStore) Tasks(ctx context.Context, f TaskFilter) ([]TaskRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	var out []TaskRef
	for _, ts := range s.tasks {
		for _, t := range ts {
			if f.match(t.Assignee) {
				out = append(out, t)
			}
		}
	}
	s.mu.RUnlock()
	sortTasks(out)
	return out, nil
}

// Groups implements Store.
func (s *MemoryStore) Groups(ctx context.Context) (roles, orgs []string, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ts := range s.tasks {
		for _, t := range ts {
			if t.Assignee.Role != "" {
				roles = appendNew(roles, []string{t.Assignee.Role})
			}
			if t.Assignee.Org != "" {
				orgs = appendNew(orgs, []string{t.Assignee.Org})
			}
		}
	}
	slices.Sort(roles)
	slices.Sort(orgs)
	return roles, orgs, nil
}

// Close implements Store.
func (s *MemoryStore) Close() error { return nil }
