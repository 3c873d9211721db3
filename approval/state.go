package approval

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/egovkit/egovkit/deadline"
)

// Status is where a case stands.
type Status string

// Case statuses. The last six end the case.
const (
	StatusSubmitted  Status = "submitted"  // 待受理: at the start step, not yet accepted
	StatusInReview   Status = "inReview"   // 办理中: accepted, at a step
	StatusCorrection Status = "correction" // 补正中: waiting for the applicant's correction
	StatusReturned   Status = "returned"   // 退回: returned to the applicant
	StatusGranted    Status = "granted"    // 准予: the decision grants
	StatusDenied     Status = "denied"     // 不予: the decision denies
	StatusRejected   Status = "rejected"   // 审查不通过: a review step rejected
	StatusRefused    Status = "refused"    // 不予受理
	StatusWithdrawn  Status = "withdrawn"  // 撤回
)

// Ended reports whether the status ends the case.
func (s Status) Ended() bool {
	switch s {
	case StatusGranted, StatusDenied, StatusRejected, StatusRefused, StatusWithdrawn:
		return true
	}
	return false
}

// TaskState is where a task stands.
type TaskState string

// Task states.
const (
	TaskPending   TaskState = "pending"   // 待办: the assignee may act now
	TaskWaiting   TaskState = "waiting"   // 等待: its turn has not come (依次, 前加签, 后加签)
	TaskApproved  TaskState = "approved"  // 已同意
	TaskRejected  TaskState = "rejected"  // 已不同意
	TaskCancelled TaskState = "cancelled" // 已取消: the step was decided or left without it
)

// Task is one assignee's work at the current step (待办事项). A step
// gets one task per assignee of its definition, in order; a role or an
// organisation is one task that any of its members may complete. Tasks
// added by 加签 name the task they belong to (Owner) and where they act.
type Task struct {
	ID       string    `json:"id"`
	Step     string    `json:"step"`
	Assignee Assignee  `json:"assignee"`
	State    TaskState `json:"state"`
	Owner    string    `json:"owner,omitempty"`    // 加签: the task this one was added to
	Position Position  `json:"position,omitempty"` // 加签: before, after or alongside the owner
	From     string    `json:"from,omitempty"`     // 转交: who held it before
	ActedBy  string    `json:"actedBy,omitempty"`
	ActedAt  time.Time `json:"actedAt,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	UrgedAt  time.Time `json:"urgedAt,omitzero"` // the last 催办
	Urges    int       `json:"urges,omitempty"`
}

func (t *Task) open() bool { return t.State == TaskPending || t.State == TaskWaiting }

// Decision is the final decision (决定) of a case. A case refused
// (不予受理) or rejected at a review step also gets one, denied, with the
// reason given; a withdrawn case has none.
type Decision struct {
	Outcome Outcome   `json:"outcome"`
	Reasons []string  `json:"reasons,omitempty"`
	By      string    `json:"by"`
	At      time.Time `json:"at"`
}

// Extension records an extension of the legal limit (延长期限), which the
// organ's head must approve (行政许可法 第四十二条).
type Extension struct {
	Length   string    `json:"length"`   // such as 10wd
	Approver string    `json:"approver"` // the head who approved (批准人)
	By       string    `json:"by"`       // who asked
	Reason   string    `json:"reason"`   // told to the applicant
	At       time.Time `json:"at"`
}

// MarkKind names a fact that drives a time-limit clock.
type MarkKind string

// Clock marks, in the order a case meets them.
const (
	MarkSubmitted MarkKind = "submitted" // the application arrives
	MarkAccepted  MarkKind = "accepted"  // 受理: the legal clock starts
	MarkStep      MarkKind = "step"      // a step starts: its own clock starts
	MarkPaused    MarkKind = "paused"    // 补正告知 or 退回: the legal clock stops
	MarkResumed   MarkKind = "resumed"   // resubmitted: it runs again
	MarkExtended  MarkKind = "extended"  // the legal limit grows by Detail
	MarkEnded     MarkKind = "ended"     // the case ends: every clock stops
)

// Mark is one clock-relevant fact, derived from the events. A time-limit
// clock (package deadline) is driven by a case's marks alone.
type Mark struct {
	Kind MarkKind  `json:"kind"`
	At   time.Time `json:"at"`
	// Seq is the event that made the mark (the case's version after it).
	Seq    int    `json:"seq"`
	Step   string `json:"step,omitempty"`
	Detail string `json:"detail,omitempty"` // MarkExtended: the length; MarkPaused: why
}

// Copy is one 抄送: who is informed, when and by whom.
type Copy struct {
	To   Assignee  `json:"to"`
	When string    `json:"when"` // submission, end or manual
	By   string    `json:"by,omitempty"`
	At   time.Time `json:"at"`
}

// Comment is one 意见 on a case.
type Comment struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Step string    `json:"step,omitempty"`
	Text string    `json:"text"`
}

// Case is the state of one case (办件), derived from its events by
// [Replay]. It is a value: the engine hands out a fresh one each time.
type Case struct {
	ID          string         `json:"id"`
	Definition  DefinitionRef  `json:"definition"`
	Department  string         `json:"department,omitempty"` // the owning organ's 统一社会信用代码
	Applicant   string         `json:"applicant"`
	Application map[string]any `json:"application"`
	Status      Status         `json:"status"`
	Step        string         `json:"step,omitempty"` // the current step; empty when ended or with the applicant
	Tasks       []Task         `json:"tasks,omitempty"`
	Path        []string       `json:"path"` // the steps entered, in order
	Accepted    bool           `json:"accepted"`
	Decision    *Decision      `json:"decision,omitempty"`
	Limits      CaseLimits     `json:"limits"`
	StepLimit   string         `json:"stepLimit,omitempty"` // the current step's own limit
	Extension   *Extension     `json:"extension,omitempty"`
	Marks       []Mark         `json:"marks"`
	Copies      []Copy         `json:"copies,omitempty"`
	Comments    []Comment      `json:"comments,omitempty"`
	// Participants are the users who acted on a task of the case, in
	// order of their first act.
	Participants []string  `json:"participants,omitempty"`
	Version      int       `json:"version"`
	Head         string    `json:"head"` // the hash of the last event
	StartedAt    time.Time `json:"startedAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
	EndedAt      time.Time `json:"endedAt,omitzero"`

	def      *Definition
	cal      *deadline.Calendar // for Timing; nil means deadline.China()
	celApp   map[string]any     // Application as conditions see it, made when first needed
	unitBuf  []unit
	cur      *Step // the definition of Step
	nextTask int
	resume   Status // the status a correction returns to
}

// PendingTasks returns the tasks that can be acted on now.
func (c *Case) PendingTasks() []Task {
	var out []Task
	for _, t := range c.Tasks {
		if t.State == TaskPending {
			out = append(out, t)
		}
	}
	return out
}

// Task returns the task with the given id at the current step, or nil.
func (c *Case) Task(id string) *Task {
	for i := range c.Tasks {
		if c.Tasks[i].ID == id {
			return &c.Tasks[i]
		}
	}
	return nil
}

// Replay derives a case's state from its events, on the definition the
// case started on. It is a pure function of its arguments: replaying the
// first k events gives the state the case had at version k. It checks
// that the first event starts the case on this definition and that every
// event applies; it does not check the hash chain (see [VerifyChain]) or
// who acted (the engine did, before appending).
func Replay(def *Definition, events []Event) (*Case, error) {
	if len(events) == 0 {
		return nil, ErrCaseNotFound
	}
	c := &Case{}
	for i := range events {
		if err := c.apply(def, &events[i]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// apply applies one event. It fails, leaving c partly changed, when the
// event does not fit the state; the engine applies a new event only to a
// state it can throw away.
func (c *Case) apply(def *Definition, e *Event) error {
	fail := func(format string, args ...any) error {
		return &ChainError{CaseID: e.CaseID, Seq: e.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	if e.Seq != c.Version+1 {
		return fail("has sequence number %d; expected %d", e.Seq, c.Version+1)
	}
	marks := len(c.Marks)
	if e.Type == EventStarted {
		if c.Version != 0 {
			return fail("starts a case that has started")
		}
		ref := e.Data.Definition
		if ref == nil || ref.ID != def.ID || ref.Version != def.Version || ref.Hash != def.Hash() {
			return fail("the case runs on definition %v; expected %s version %d (%s)", ref, def.ID, def.Version, def.Hash())
		}
		c.ID, c.Definition, c.def = e.CaseID, *ref, def
		if def.Department != nil {
			c.Department = def.Department.OrgID
		}
		if d := e.Data.Department; d != nil {
			c.Department = d.OrgID
		}
		c.Applicant, c.Application, c.Limits = e.Actor, e.Data.Application, def.Limits
		c.StartedAt, c.Path = e.At, []string{}
		c.Marks = append(c.Marks, Mark{Kind: MarkSubmitted, At: e.At})
		if def.CopyTo != nil {
			for _, a := range def.CopyTo.AtSubmission {
				c.Copies = append(c.Copies, Copy{To: a, When: "submission", At: e.At})
			}
		}
		c.Status = StatusSubmitted
		c.enter(def.Start, e.At)
	} else {
		if c.Version == 0 || e.CaseID != c.ID {
			return fail("belongs to no started case")
		}
		if err := c.applyCommand(e); err != nil {
			return &ChainError{CaseID: e.CaseID, Seq: e.Seq, Reason: err.Error(), Err: err}
		}
	}
	for i := marks; i < len(c.Marks); i++ {
		c.Marks[i].Seq = e.Seq
	}
	c.Version, c.Head, c.UpdatedAt = e.Seq, e.Hash, e.At
	return nil
}

func (c *Case) applyCommand(e *Event) error {
	d := &e.Data
	task := func() (*Task, error) {
		t := c.Task(d.Task)
		if t == nil || t.State != TaskPending {
			return nil, fmt.Errorf("%s: no pending task %q", e.Type, d.Task)
		}
		return t, nil
	}
	switch e.Type {
	case EventAccepted, EventApproved, EventRejected, EventDecided:
		t, err := task()
		if err != nil {
			return err
		}
		approve := e.Type == EventAccepted || e.Type == EventApproved || (e.Type == EventDecided && d.Decision == Granted)
		t.ActedBy, t.ActedAt, t.Reason = e.Actor, e.At, d.Reason
		t.State = TaskRejected
		if approve {
			t.State = TaskApproved
		}
		c.participate(e.Actor)
		if d.Comment != "" {
			c.Comments = append(c.Comments, Comment{By: e.Actor, At: e.At, Step: c.Step, Text: d.Comment})
		}
		if e.Type == EventAccepted && c.cur.IsDecision() {
			// A flow whose start step decides: accepting starts the
			// review at the same step, with its tasks open again.
			c.accept(e.At)
			c.enter(c.Step, e.At)
			return nil
		}
		return c.settle(e)
	case EventRefused:
		c.participate(e.Actor)
		c.end(StatusRefused, e)
	case EventCorrectionRequested:
		c.participate(e.Actor)
		c.resume, c.Status = c.Status, StatusCorrection
		c.Marks = append(c.Marks, Mark{Kind: MarkPaused, At: e.At, Step: c.Step, Detail: "correction"})
	case EventResubmitted:
		if d.Application != nil {
			c.Application, c.celApp = d.Application, nil
		}
		if c.Status == StatusCorrection {
			c.Status = c.resume
			c.Marks = append(c.Marks, Mark{Kind: MarkResumed, At: e.At, Step: c.Step})
			return nil
		}
		c.Status, c.Accepted = StatusSubmitted, false
		c.Marks = append(c.Marks, Mark{Kind: MarkResumed, At: e.At})
		c.enter(c.def.Start, e.At)
	case EventReturned:
		c.participate(e.Actor)
		if d.ToApplicant {
			c.cancelOpen()
			c.Status, c.Step, c.StepLimit, c.Tasks = StatusReturned, "", "", nil
			c.Marks = append(c.Marks, Mark{Kind: MarkPaused, At: e.At, Detail: "returned"})
			return nil
		}
		c.enter(d.To, e.At)
	case EventWithdrawn:
		c.end(StatusWithdrawn, e)
	case EventTransferred:
		t, err := task()
		if err != nil {
			return err
		}
		t.From, t.Assignee = t.Assignee.String(), Assignee{User: d.To}
	case EventSignerAdded:
		t, err := task()
		if err != nil {
			return err
		}
		for _, u := range d.Users {
			c.Tasks = append(c.Tasks, Task{ID: c.newTaskID(), Step: c.Step, Assignee: Assignee{User: u}, Owner: t.ID, Position: d.Position, State: TaskWaiting})
		}
		c.normalize()
	case EventCommented:
		c.Comments = append(c.Comments, Comment{By: e.Actor, At: e.At, Step: c.Step, Text: d.Comment})
	case EventCopied:
		for _, u := range d.Users {
			c.Copies = append(c.Copies, Copy{To: Assignee{User: u}, When: "manual", By: e.Actor, At: e.At})
		}
	case EventUrged:
		for i := range c.Tasks {
			t := &c.Tasks[i]
			if t.State == TaskPending && (d.Task == "" || d.Task == t.ID) {
				t.UrgedAt = e.At
				t.Urges++
			}
		}
	case EventExtended:
		c.Extension = &Extension{Length: d.Extension, Approver: d.Approver, By: e.Actor, Reason: d.Reason, At: e.At}
		c.Marks = append(c.Marks, Mark{Kind: MarkExtended, At: e.At, Detail: d.Extension})
	default:
		return fmt.Errorf("unknown event type %q", e.Type)
	}
	return nil
}

func (c *Case) participate(user string) {
	for _, p := range c.Participants {
		if p == user {
			return
		}
	}
	c.Participants = append(c.Participants, user)
}

func (c *Case) accept(at time.Time) {
	c.Accepted, c.Status = true, StatusInReview
	c.Marks = append(c.Marks, Mark{Kind: MarkAccepted, At: at})
}

func (c *Case) newTaskID() string {
	c.nextTask++
	if c.nextTask < len(taskIDs()) {
		return taskIDs()[c.nextTask]
	}
	return "t" + strconv.Itoa(c.nextTask)
}

// taskIDs interns the first task ids, so that a transition does not
// allocate one.
var taskIDs = sync.OnceValue(func() []string {
	ids := make([]string, 4096)
	for i := range ids {
		ids[i] = "t" + strconv.Itoa(i)
	}
	return ids
})

// assignee is a step's assignee a in this case: an "org" assignee naming
// the definition's department stands for the case's handling department
// (StartCommand.Department), the same organ unless the case was started
// for another. Copies (抄送) go as the definition writes them.
func (c *Case) assignee(a Assignee) Assignee {
	if a.Org != "" && c.def.Department != nil && a.Org == c.def.Department.OrgID && c.Department != "" {
		a.Org = c.Department
	}
	return a
}

// enter starts a step: one task per assignee, the first ones pending as
// the mode allows.
func (c *Case) enter(stepID string, at time.Time) {
	c.cancelOpen()
	s := c.def.Step(stepID)
	c.cur = s
	// The tasks of the step left behind are dead: reuse their array.
	c.Step, c.StepLimit, c.Tasks = s.ID, s.Limit, c.Tasks[:0]
	c.Path = append(c.Path, s.ID)
	for _, a := range s.Assignees {
		c.Tasks = append(c.Tasks, Task{ID: c.newTaskID(), Step: s.ID, Assignee: c.assignee(a), State: TaskWaiting})
	}
	c.Marks = append(c.Marks, Mark{Kind: MarkStep, At: at, Step: s.ID})
	c.normalize()
}

func (c *Case) cancelOpen() {
	for i := range c.Tasks {
		if c.Tasks[i].open() {
			c.Tasks[i].State = TaskCancelled
		}
	}
}

// unit is a task of the step's definition together with the signers
// added to it (加签); the unit approves when all of them approve and
// rejects when any rejects.
type unit struct {
	owner   *Task
	members []*Task // the added signers
}

func (c *Case) units() []unit {
	// The units live until the next call: reuse one array.
	us := c.unitBuf[:0]
	for i := range c.Tasks {
		if t := &c.Tasks[i]; t.Owner == "" {
			us = append(us, unit{owner: t, members: nil})
		}
	}
	for i := range c.Tasks {
		t := &c.Tasks[i]
		if t.Owner == "" {
			continue
		}
		for j := range us {
			if us[j].owner.ID == t.Owner {
				us[j].members = append(us[j].members, t)
				break
			}
		}
	}
	c.unitBuf = us
	return us
}

// state of a unit: approved, rejected, or pending (still open).
func (u unit) state() TaskState {
	st := taskVote(u.owner.State, TaskApproved)
	for _, m := range u.members {
		st = taskVote(m.State, st)
	}
	return st
}

// taskVote combines a task's state with the state of the rest of its
// unit: rejected or cancelled wins, then open (pending), then approved.
func taskVote(t, rest TaskState) TaskState {
	switch {
	case t == TaskRejected || rest == TaskRejected:
		return TaskRejected
	case t == TaskCancelled || rest == TaskCancelled:
		return TaskCancelled
	case t == TaskApproved && rest == TaskApproved:
		return TaskApproved
	}
	return TaskPending
}

// normalize sets which open tasks are pending and which wait: in 依次
// a unit's turn comes when the ones before it approved; inside a unit,
// signers added before act first, then the owner (with those added
// alongside), then those added after.
func (c *Case) normalize() {
	sequential := c.cur.Mode == ModeSequential
	turn := true
	for _, u := range c.units() {
		active := turn
		if sequential && u.state() != TaskApproved {
			turn = false
		}
		beforeDone := true
		for _, m := range u.members {
			if m.Position == Before && m.State != TaskApproved {
				beforeDone = false
			}
		}
		set := func(t *Task, ready bool) {
			if !t.open() {
				return
			}
			if active && ready {
				t.State = TaskPending
			} else {
				t.State = TaskWaiting
			}
		}
		set(u.owner, beforeDone)
		for _, m := range u.members {
			switch m.Position {
			case Before:
				set(m, true)
			case Alongside:
				set(m, beforeDone)
			case After:
				set(m, beforeDone && u.owner.State == TaskApproved)
			}
		}
	}
}

// outcome of the current step under its mode: approved, rejected or
// pending.
func (c *Case) outcome() TaskState {
	s := c.cur
	us := c.units()
	approved, rejected := 0, 0
	for _, u := range us {
		switch u.state() {
		case TaskApproved:
			approved++
		case TaskRejected:
			rejected++
		}
	}
	open := len(us) - approved - rejected
	switch s.Mode {
	case ModeAny:
		if approved > 0 {
			return TaskApproved
		}
		if open == 0 {
			return TaskRejected
		}
	case ModeQuorum:
		if approved >= s.Quorum {
			return TaskApproved
		}
		if approved+open < s.Quorum {
			return TaskRejected
		}
	default: // single, all, sequential: every unit must approve
		if rejected > 0 {
			return TaskRejected
		}
		if open == 0 {
			return TaskApproved
		}
	}
	return TaskPending
}

// settle moves the case on after a vote: to the next step when the step
// approved (through the first branch whose condition holds), to its end
// when a decision was made or a review step rejected.
func (c *Case) settle(e *Event) error {
	c.normalize()
	s := c.cur
	switch c.outcome() {
	case TaskPending:
		return nil
	case TaskRejected:
		if s.IsDecision() {
			c.decide(Denied, e)
			return nil
		}
		if c.Status == StatusSubmitted {
			// Every acceptor said no by other means than refuse: the
			// step cannot go on, the case is not accepted.
			c.end(StatusRefused, e)
			return nil
		}
		c.end(StatusRejected, e)
		return nil
	}
	if s.IsDecision() {
		c.decide(Granted, e)
		return nil
	}
	if c.Status == StatusSubmitted {
		c.accept(e.At)
	}
	if c.celApp == nil {
		c.celApp = celValue(c.Application).(map[string]any)
	}
	next, err := nextStep(s, c.celApp)
	if err != nil {
		return &conditionError{err}
	}
	c.enter(next, e.At)
	return nil
}

// nextStep returns the target of the first branch whose condition holds,
// on an application already converted by celValue.
func nextStep(s *Step, application map[string]any) (string, error) {
	for i := range s.Next {
		b := &s.Next[i]
		if b.cond == nil {
			return b.To, nil
		}
		ok, err := b.cond.eval(application)
		if err != nil {
			return "", err
		}
		if ok {
			return b.To, nil
		}
	}
	return "", fmt.Errorf("step %q: no branch matches", s.ID)
}

func (c *Case) decide(o Outcome, e *Event) {
	d := &Decision{Outcome: o, By: e.Actor, At: e.At}
	for _, t := range c.Tasks {
		if t.Reason != "" {
			d.Reasons = append(d.Reasons, t.Reason)
		}
	}
	c.Decision = d
	status := StatusGranted
	if o == Denied {
		status = StatusDenied
	}
	c.end(status, e)
}

func (c *Case) end(status Status, e *Event) {
	c.cancelOpen()
	c.Status, c.EndedAt, c.StepLimit = status, e.At, ""
	if e.Data.Reason != "" && c.Decision == nil && status != StatusWithdrawn {
		c.Decision = &Decision{Outcome: Denied, Reasons: []string{e.Data.Reason}, By: e.Actor, At: e.At}
	}
	c.Step = ""
	c.Marks = append(c.Marks, Mark{Kind: MarkEnded, At: e.At, Detail: string(status)})
	if c.def.CopyTo != nil {
		for _, a := range c.def.CopyTo.AtEnd {
			c.Copies = append(c.Copies, Copy{To: a, When: "end", At: e.At})
		}
	}
}

// conditionError is a branch condition that failed on the application.
type conditionError struct{ err error }

// Error implements error.
func (e *conditionError) Error() string { return e.err.Error() }

// Unwrap returns the condition's error.
func (e *conditionError) Unwrap() error { return e.err }
