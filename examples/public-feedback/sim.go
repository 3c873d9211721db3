package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// Report is what the simulation found, as --json prints it.
type Report struct {
	City        string        `json:"city"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	WorkingDays int           `json:"workingDays"`
	Messages    int           `json:"messages"`
	Account     []Entry       `json:"account"`
	Cases       []CaseReport  `json:"cases"`
	Departments []DeptSummary `json:"departments"`
	Cards       []CardReport  `json:"cards"`
	Checks      Checks        `json:"checks"`

	// replies are the sealed replies as sent, by case id, and verifier is
	// the citizens' verifier, for tests.
	replies  map[string][]byte
	verifier *signature.Verifier
}

// Entry is one line of the account: what happened on a day.
type Entry struct {
	Date string `json:"date"`
	Text string `json:"text"`
}

// CaseReport is one handling case (办件): a message in one round.
type CaseReport struct {
	ID              string           `json:"id"`
	Message         string           `json:"message"`
	Round           int              `json:"round"`
	ReopenOf        string           `json:"reopenOf,omitempty"`
	Kind            string           `json:"kind"`
	KindName        string           `json:"kindName"`
	Topic           string           `json:"topic"`
	District        string           `json:"district"`
	Department      string           `json:"department"` // 统一社会信用代码
	DepartmentShort string           `json:"departmentShort"`
	Definition      string           `json:"definition"`
	Status          approval.Status  `json:"status"`
	Submitted       string           `json:"submitted"`
	AcceptDue       string           `json:"acceptDue"` // the accept step's due date
	Accepted        string           `json:"accepted,omitempty"`
	Due             string           `json:"due,omitempty"` // the answer limit's due date, extension counted
	Answered        string           `json:"answered,omitempty"`
	OnTime          bool             `json:"onTime"`
	Extension       *ExtensionReport `json:"extension,omitempty"`
	Reply           *ReplyReport     `json:"reply,omitempty"`
	// Record is the answer as the case's log records it (决定的理由): the
	// reply's number and SHA-256, binding the log to the letter sent.
	Record    string       `json:"record,omitempty"`
	Cards     []CardReport `json:"cards"`
	Satisfied *bool        `json:"satisfied,omitempty"`
	// Evaluation is where the satisfaction evaluation went: close,
	// reopen or escalate (then close).
	Evaluation string `json:"evaluation,omitempty"`
}

// ExtensionReport is a request for more time and its outcome.
type ExtensionReport struct {
	Case      string `json:"case"` // the extension request's own case
	Length    string `json:"length"`
	Reason    string `json:"reason"`
	Granted   bool   `json:"granted"`
	Approver  string `json:"approver"`
	DueBefore string `json:"dueBefore"`
	DueAfter  string `json:"dueAfter"`
}

// ReplyReport is the sealed reply (答复函).
type ReplyReport struct {
	DocNumber string `json:"docNumber"`
	Title     string `json:"title"`
	SHA256    string `json:"sha256"` // of the sealed JSON as sent
	Seal      string `json:"seal"`   // the sealing organ and algorithm
	Verified  bool   `json:"verified"`
}

// CardReport is one card the monitor issued.
type CardReport struct {
	Case       string `json:"case"`
	Clock      string `json:"clock"` // answer (the legal clock) or the step's id
	ClockID    string `json:"clockId"`
	Department string `json:"department"`
	Level      string `json:"level"`
	Due        string `json:"due"`
	FiredAt    string `json:"firedAt"`
}

// DeptSummary is one department's line of the summary.
type DeptSummary struct {
	Department  string `json:"department"`
	Name        string `json:"name"`
	Short       string `json:"short"`
	Cases       int    `json:"cases"`
	Answered    int    `json:"answered"`
	OnTime      int    `json:"onTime"`
	Late        int    `json:"late"`
	Refused     int    `json:"refused"`
	Extended    int    `json:"extended"`
	ExtDenied   int    `json:"extensionsDenied"`
	Warnings    int    `json:"warnings"`
	Yellow      int    `json:"yellow"`
	Red         int    `json:"red"`
	Satisfied   int    `json:"satisfied"`
	Unsatisfied int    `json:"unsatisfied"`
	Reopened    int    `json:"reopened"`
	Escalated   int    `json:"escalated"`
}

// Checks are the verifications the run made.
type Checks struct {
	RepliesVerified int    `json:"repliesVerified"`
	TamperedRefused string `json:"tamperedRefused"` // why the altered reply failed
	LogsVerified    int    `json:"logsVerified"`
}

// Stages of a handling case.
const (
	stSubmitted = iota // waiting to be accepted
	stAccepted         // being handled
	stAnswered         // waiting for the citizen's evaluation
	stDone
)

// handling is one handling case as the simulation runs it.
type handling struct {
	msg      *message
	round    int
	id       string
	dept     *department
	def      *approval.Definition
	version  int
	stage    int
	next     deadline.Date // the day of the next action
	extDay   deadline.Date // the day of the extension request, if one is planned
	urged    deadline.Date // the last day the citizen urged
	urge     bool          // a card came: the citizen urges on the next working day
	final    *approval.Case
	rep      *CaseReport
	replyDoc []byte
}

// sim is one run of the simulation: the city, the engine and its monitor,
// the seals, the fake clock (now, on day), the cases and the report.
type sim struct {
	ctx      context.Context
	city     *city
	eng      *approval.Engine
	mon      *deadline.Monitor
	cal      *deadline.Calendar
	loc      *time.Location
	now      time.Time
	signers  map[string]*signature.Signer // by 统一社会信用代码
	verifier *signature.Verifier
	cases    []*handling
	byID     map[string]*handling
	aux      map[string]string // extension and satisfaction case id → the handling case
	seq      map[string]int    // letters per department
	rep      *Report
	day      deadline.Date
}

// start is the first day of the simulation, a Monday.
var start = deadline.MustDate(2026, 4, 20)

// maxDays bounds the simulation in natural days.
const maxDays = 120

// run simulates the messages on the configuration in fsys and returns the
// report. Any refused command, seal that does not verify or log that does
// not replay is an error.
func run(ctx context.Context, fsys fs.FS, msgs []message) (*Report, error) {
	c, err := loadCity(fsys)
	if err != nil {
		return nil, err
	}
	s := &sim{ctx: ctx, city: c, cal: deadline.China(), signers: map[string]*signature.Signer{}, byID: map[string]*handling{},
		aux: map[string]string{}, seq: map[string]int{}, rep: &Report{City: c.City, Messages: len(msgs), Cards: []CardReport{}}}
	s.loc = s.cal.Location()
	s.now = start.Start(s.loc).Add(8 * time.Hour)

	// People: each department's staff belong to its organisation; the
	// supervisors hold the role the extension and escalation steps name.
	dir := &approval.MemoryDirectory{}
	var roots []*x509.Certificate
	for _, d := range append([]*department{&c.Platform}, ptrs(c.Departments)...) {
		dir.AddOrg(d.OrgID, d.Staff...)
		// Each organ's seal: root → intermediate → SM2 seal certificate,
		// valid over the simulated months, signing at the simulated time.
		chain, err := pki.NewTestChain(pki.SM2, signature.Identity{Name: d.Name, OrgID: d.OrgID},
			pki.Options{NotBefore: start.AddDays(-30).Start(s.loc), NotAfter: start.AddDays(3 * 365).Start(s.loc)})
		if err != nil {
			return nil, err
		}
		if s.signers[d.OrgID], err = chain.Signer(signature.WithSigningClock(func() time.Time { return s.now })); err != nil {
			return nil, err
		}
		roots = append(roots, chain.Root.Certificate)
	}
	dir.AddRole("supervisor", c.Supervisors...)
	if s.verifier, err = signature.NewVerifier(roots, signature.WithClock(func() time.Time { return s.now })); err != nil {
		return nil, err
	}

	s.mon = deadline.NewMonitor(deadline.NewMemStore(), nil)
	s.eng, err = approval.New(approval.Config{
		Store: approval.NewMemoryStore(), Directory: dir, Calendar: s.cal, Monitor: s.mon, MonitorSteps: true,
		// The fake clock: a second per command, from the simulated day's
		// working hours; nothing sleeps.
		Clock: func() time.Time { s.now = s.now.Add(time.Second); return s.now },
	}, c.extension, c.satisfaction)
	if err != nil {
		return nil, err
	}
	for _, k := range c.kinds {
		if err := s.eng.AddDefinition(k.template); err != nil {
			return nil, err
		}
	}

	// The working days, to place the messages.
	var workdays []deadline.Date
	for d := start; len(workdays) < 60; d = d.AddDays(1) {
		if ok, err := s.cal.IsWorkday(d); err != nil {
			return nil, err
		} else if ok {
			workdays = append(workdays, d)
		}
	}
	seen := map[string]bool{}
	for i, m := range msgs {
		switch {
		case m.ID == "" || seen[m.ID]:
			return nil, fmt.Errorf("message %d: id %q is empty or used twice; expected unique ids", i, m.ID)
		case m.Day < 0 || m.Day >= len(workdays):
			return nil, fmt.Errorf("message %s: day %d; expected 0 to %d", m.ID, m.Day, len(workdays)-1)
		}
		seen[m.ID] = true
	}

	last := start
	for n := 0; n < maxDays; n++ {
		s.day = start.AddDays(n)
		work, err := s.cal.IsWorkday(s.day)
		if err != nil {
			return nil, err
		}
		if work {
			s.now = s.day.Start(s.loc).Add(9 * time.Hour)
			for i := range msgs {
				if workdays[msgs[i].Day] == s.day {
					if err := s.submit(&msgs[i], 1, ""); err != nil {
						return nil, err
					}
				}
			}
			// New cases may join (a reopened message) as the day goes.
			for i := 0; i < len(s.cases); i++ {
				if err := s.act(s.cases[i]); err != nil {
					return nil, err
				}
			}
			s.rep.WorkingDays++
		}
		if err := s.tick(s.day.End(s.loc)); err != nil {
			return nil, err
		}
		last = s.day
		if s.allDone(msgs) {
			break
		}
	}
	if !s.allDone(msgs) {
		return nil, fmt.Errorf("the simulation ran %d days and cases are still open; expected every message answered and evaluated", maxDays)
	}
	s.rep.From, s.rep.To = start.String(), last.String()
	return s.rep, s.finish()
}

// ptrs returns pointers to the departments, in order.
func ptrs(ds []department) []*department {
	out := make([]*department, len(ds))
	for i := range ds {
		out[i] = &ds[i]
	}
	return out
}

// allDone reports whether every message has arrived and each of its
// cases has ended.
func (s *sim) allDone(msgs []message) bool {
	arrived := map[string]bool{}
	for _, h := range s.cases {
		if h.stage != stDone {
			return false
		}
		arrived[h.msg.ID] = true
	}
	return len(arrived) == len(msgs)
}

// say adds a line to the account, dated today.
func (s *sim) say(format string, args ...any) {
	s.rep.Account = append(s.rep.Account, Entry{Date: s.day.String(), Text: fmt.Sprintf(format, args...)})
}

// exec runs a command on a handling case at its current version.
func (s *sim) exec(h *handling, cmd approval.Command) error {
	cmd.CaseID, cmd.ExpectedVersion = h.id, h.version
	r, err := s.eng.Execute(s.ctx, cmd)
	if err != nil {
		return fmt.Errorf("case %s (%s): %s by %s: %w", h.id, h.dept.Short, cmd.Kind, cmd.Actor, err)
	}
	h.version, h.final = r.Case.Version, r.Case
	return nil
}

// submit starts a handling case for a message: round 1 when the citizen
// leaves it, later rounds when an evaluation reopens it.
func (s *sim) submit(m *message, round int, reopenOf string) error {
	k := s.city.kinds[m.Kind]
	if k == nil {
		return fmt.Errorf("message %s: kind %q is not in city.json", m.ID, m.Kind)
	}
	dept, err := s.city.route(m.Kind, m.Topic, m.District)
	if err != nil {
		return fmt.Errorf("message %s: %w", m.ID, err)
	}
	def := k.template
	id := m.ID
	if round > 1 {
		id = fmt.Sprintf("%s-R%d", m.ID, round)
	}
	app := map[string]any{"kind": m.Kind, "topic": m.Topic, "district": m.District, "title": m.Title, "content": m.Content, "citizen": m.Name, "round": round}
	if reopenOf != "" {
		app["reopenOf"] = reopenOf
	}
	r, err := s.eng.Start(s.ctx, approval.StartCommand{CaseID: id, Definition: def.ID, Applicant: m.Citizen, Application: app, IdempotencyKey: "submit",
		Department: s.city.handler(dept)})
	if err != nil {
		return fmt.Errorf("message %s: start on %s: %w", m.ID, def.ID, err)
	}
	h := &handling{msg: m, round: round, id: id, dept: dept, def: def, version: r.Case.Version, final: r.Case}
	h.next, err = s.cal.AddWorkdays(s.day, m.Plan.AcceptAfter)
	if err != nil {
		return err
	}
	tm, err := r.Case.Timing(s.now)
	if err != nil {
		return err
	}
	h.rep = &CaseReport{ID: id, Message: m.ID, Round: round, ReopenOf: reopenOf, Kind: m.Kind, KindName: k.conf.Name, Topic: m.Topic, District: m.District,
		Department: dept.OrgID, DepartmentShort: dept.Short, Definition: def.ID, Submitted: s.day.String(), Cards: []CardReport{}}
	if tm.StepClock != nil {
		h.rep.AcceptDue = tm.StepClock.Due.String()
	}
	s.cases = append(s.cases, h)
	s.byID[id] = h
	if round == 1 {
		s.say("%s %s %s（%s·%s）from %s, routed to %s; accept by %s", id, k.conf.Name, m.Title, m.District, m.Topic, m.Name, dept.Name, h.rep.AcceptDue)
	} else {
		s.say("%s reopened as %s (round %d) to %s; accept by %s", reopenOf, id, round, dept.Name, h.rep.AcceptDue)
	}
	return nil
}

// act does what is due today on a handling case.
func (s *sim) act(h *handling) error {
	if h.stage == stDone {
		return nil
	}
	if h.urge && h.stage <= stAccepted && h.urged != s.day {
		h.urge, h.urged = false, s.day
		if err := s.exec(h, approval.Command{Kind: approval.CmdUrge, Actor: h.msg.Citizen, Reason: "已超过办理时限，请尽快办理"}); err != nil {
			return err
		}
		s.say("%s urged (催办) by the citizen after its card", h.id)
	}
	if !h.extDay.IsZero() && h.extDay == s.day && h.stage == stAccepted {
		if err := s.requestExtension(h); err != nil {
			return err
		}
	}
	if h.next != s.day {
		return nil
	}
	p := h.msg.Plan
	staff := h.dept.Staff[0]
	switch h.stage {
	case stSubmitted:
		if p.Refuse != "" {
			if err := s.exec(h, approval.Command{Kind: approval.CmdRefuse, Actor: staff, Reason: p.Refuse}); err != nil {
				return err
			}
			h.stage = stDone
			h.rep.Status = h.final.Status
			s.say("%s refused (不予受理) by %s: %s", h.id, h.dept.Short, p.Refuse)
			return nil
		}
		if err := s.exec(h, approval.Command{Kind: approval.CmdAccept, Actor: staff, Comment: "已签收"}); err != nil {
			return err
		}
		tm, err := h.final.Timing(s.now)
		if err != nil {
			return err
		}
		h.stage, h.rep.Accepted, h.rep.Due = stAccepted, s.day.String(), tm.Legal.Due.String()
		if h.next, err = s.cal.AddWorkdays(s.day, at(p.AnswerAfter, h.round-1, 3)); err != nil {
			return err
		}
		if p.Extension != nil && h.round == 1 {
			if h.extDay, err = s.cal.AddWorkdays(s.day, p.Extension.After); err != nil {
				return err
			}
		}
		late := ""
		if acceptDue, _ := deadline.ParseDate(h.rep.AcceptDue); s.day.After(acceptDue) {
			late = fmt.Sprintf(", late (due %s)", h.rep.AcceptDue)
		}
		s.say("%s accepted (签收受理) by %s%s; answer due %s (%s from acceptance)", h.id, h.dept.Short, late, h.rep.Due, h.def.Limits.Legal)
	case stAccepted:
		return s.answer(h)
	case stAnswered:
		return s.evaluate(h)
	}
	return nil
}

// at returns list[i], or def when the list is shorter.
func at[T any](list []T, i int, def T) T {
	if i < len(list) {
		return list[i]
	}
	return def
}

// requestExtension asks the supervisor for more time (延期申请) as a case of
// its own on the extension definition; an approved request extends the
// handling case's answer limit, naming the supervisor as approver.
func (s *sim) requestExtension(h *handling) error {
	p := h.msg.Plan.Extension
	staff, sup := h.dept.Staff[0], s.city.Supervisors[0]
	id := h.id + "-EXT"
	r, err := s.eng.Start(s.ctx, approval.StartCommand{CaseID: id, Definition: s.city.extension.ID, Applicant: staff, IdempotencyKey: "submit",
		Application: map[string]any{"caseId": h.id, "kind": h.msg.Kind, "department": h.dept.OrgID, "extension": p.Length, "reason": p.Reason}})
	if err != nil {
		return fmt.Errorf("case %s: extension request: %w", h.id, err)
	}
	s.aux[id] = h.id
	ext := &handling{id: id, dept: &s.city.Platform, version: r.Case.Version}
	if err := s.exec(ext, approval.Command{Kind: approval.CmdAccept, Actor: sup}); err != nil {
		return err
	}
	decision := approval.Denied
	if p.Grant {
		decision = approval.Granted
	}
	if err := s.exec(ext, approval.Command{Kind: approval.CmdDecide, Actor: sup, Decision: decision, Reason: p.Answer}); err != nil {
		return err
	}
	before, err := h.final.Timing(s.now)
	if err != nil {
		return err
	}
	er := &ExtensionReport{Case: id, Length: p.Length, Reason: p.Reason, Granted: p.Grant, Approver: sup, DueBefore: before.Legal.Due.String(), DueAfter: before.Legal.Due.String()}
	h.rep.Extension = er
	if !p.Grant {
		s.say("%s asked for %s more (延期申请 %s): refused by supervisor %s: %s; answer still due %s", h.id, p.Length, id, sup, p.Answer, er.DueBefore)
		return nil
	}
	if err := s.exec(h, approval.Command{Kind: approval.CmdExtend, Actor: staff, Approver: sup, Extension: p.Length, Reason: p.Reason}); err != nil {
		return err
	}
	after, err := h.final.Timing(s.now)
	if err != nil {
		return err
	}
	er.DueAfter = after.Legal.Due.String()
	h.rep.Due = er.DueAfter
	s.say("%s asked for %s more (延期申请 %s): approved by supervisor %s; answer due %s → %s", h.id, p.Length, id, sup, er.DueBefore, er.DueAfter)
	return nil
}

// answer writes the reply as a letter (函) from the department to the
// citizen, seals it, has the citizen verify it as received, and records
// the answer on the case with the reply's number and digest.
func (s *sim) answer(h *handling) error {
	m := h.msg
	if !h.extDay.IsZero() && h.extDay.After(s.day) {
		return fmt.Errorf("message %s: the plan answers on %s, before the extension it plans to request on %s", m.ID, s.day, h.extDay)
	}
	text := at(m.Plan.Replies, h.round-1, "")
	if text == "" {
		return fmt.Errorf("message %s: no reply text for round %d", m.ID, h.round)
	}
	s.seq[h.dept.Key]++
	doc := docdoc.New(docdoc.TypeLetter)
	doc.Issuers = []docdoc.Organ{{Name: h.dept.Name, OrgID: h.dept.OrgID}}
	doc.DocNumber = docdoc.DocNumber{Code: h.dept.DocCode, Year: s.day.Year(), Seq: s.seq[h.dept.Key]}.String()
	doc.Title = fmt.Sprintf("关于%s反映“%s”问题的答复", m.Name, m.Title)
	doc.MainRecipients = []docdoc.Organ{{Name: m.Name}}
	doc.Body = docdoc.Body{MediaType: "text/plain; charset=utf-8", Text: fmt.Sprintf("%s：\n    您于%s通过%s反映的“%s”问题收悉（编号%s）。%s\n    感谢您对我们工作的关注和支持。",
		m.Name, h.rep.Submitted, s.city.Platform.Short, m.Title, h.id, text)}
	doc.Signatory = []string{h.dept.Name}
	doc.Date = s.day.String()
	if err := docdoc.Seal(doc, s.signers[h.dept.OrgID]); err != nil {
		return fmt.Errorf("case %s: sealing the reply: %w", h.id, err)
	}
	sent, err := docdoc.Marshal(doc)
	if err != nil {
		return err
	}
	// The citizen's side: what arrived is parsed and its seal verified
	// against the trusted roots, with every issuer's seal required.
	rep, err := verifyReply(s.ctx, sent, s.verifier)
	if err != nil {
		return fmt.Errorf("case %s: the citizen could not verify the reply: %w", h.id, err)
	}
	sum := sha256.Sum256(sent)
	digest := hex.EncodeToString(sum[:])
	if err := s.exec(h, approval.Command{Kind: approval.CmdDecide, Actor: h.dept.Staff[0], Decision: approval.Granted,
		Reason: fmt.Sprintf("已答复：%s，sha256:%s", doc.DocNumber, digest)}); err != nil {
		return err
	}
	tm, err := h.final.Timing(s.now)
	if err != nil {
		return err
	}
	h.replyDoc = sent
	h.rep.Reply = &ReplyReport{DocNumber: doc.DocNumber, Title: doc.Title, SHA256: digest, Verified: true,
		Seal: fmt.Sprintf("%s (%s)", rep.Seals[0].Identity.Name, rep.Seals[0].Algorithm)}
	h.rep.Answered, h.rep.OnTime, h.rep.Status = s.day.String(), tm.Legal.Status == deadline.StatusDoneOnTime, h.final.Status
	if d := h.final.Decision; d != nil {
		h.rep.Record = strings.Join(d.Reasons, "; ")
	}
	h.stage = stAnswered
	if h.next, err = s.cal.AddWorkdays(s.day, 1); err != nil {
		return err
	}
	when := "on time"
	if !h.rep.OnTime {
		when = "late, due " + h.rep.Due
	}
	s.say("%s answered by %s (%s): letter %s sealed, verified by %s", h.id, h.dept.Short, when, doc.DocNumber, m.Name)
	return nil
}

// verifyReply is the citizen's check of a reply as received: strict
// parsing and validation of the letter, then every seal verified, and
// every issuer's seal required.
func verifyReply(ctx context.Context, sent []byte, v *signature.Verifier) (*signature.Report, error) {
	doc, err := docdoc.ParseBytes(sent)
	if err != nil {
		return nil, err
	}
	return docdoc.VerifySeals(ctx, doc, v, docdoc.SealPolicy{RequireIssuerSeals: true})
}

// evaluate records the citizen's satisfaction (满意度回访) as a case on the
// satisfaction definition, whose branches decide what follows: close,
// reopen (a new round to the same department) or escalate to the
// supervisor (督办), then close.
func (s *sim) evaluate(h *handling) error {
	m := h.msg
	satisfied := at(m.Plan.Satisfied, h.round-1, true)
	id := h.id + "-SAT"
	app := map[string]any{"caseId": h.id, "kind": m.Kind, "department": h.dept.OrgID, "round": h.round, "satisfied": satisfied}
	if !satisfied {
		app["comment"] = "问题未解决"
	}
	r, err := s.eng.Start(s.ctx, approval.StartCommand{CaseID: id, Definition: s.city.satisfaction.ID, Applicant: m.Citizen, Application: app, IdempotencyKey: "submit"})
	if err != nil {
		return fmt.Errorf("case %s: satisfaction evaluation: %w", h.id, err)
	}
	s.aux[id] = h.id
	ev := &handling{id: id, dept: &s.city.Platform, version: r.Case.Version}
	clerk := s.city.Platform.Staff[0]
	if err := s.exec(ev, approval.Command{Kind: approval.CmdAccept, Actor: clerk}); err != nil {
		return err
	}
	escalated := false
	if ev.final.Step == "escalate" {
		escalated = true
		if err := s.exec(ev, approval.Command{Kind: approval.CmdApprove, Actor: s.city.Supervisors[0], Comment: "已督办核查，答复依法依规，办结"}); err != nil {
			return err
		}
	}
	outcome := ev.final.Step
	if err := s.exec(ev, approval.Command{Kind: approval.CmdDecide, Actor: clerk, Decision: approval.Granted}); err != nil {
		return err
	}
	h.rep.Satisfied = &satisfied
	h.rep.Evaluation = outcome
	if escalated {
		h.rep.Evaluation = "escalate"
	}
	h.stage = stDone
	verdict := "satisfied"
	if !satisfied {
		verdict = "unsatisfied"
	}
	s.say("%s evaluated by %s: %s → %s (%s, %v)", h.id, m.Name, verdict, h.rep.Evaluation, id, ev.final.Path)
	if outcome == "reopen" {
		return s.submit(m, h.round+1, h.id)
	}
	if outcome != "close" {
		return fmt.Errorf("case %s: the satisfaction evaluation ended at step %q; expected close or reopen", id, outcome)
	}
	return nil
}

// tick lets the monitor issue the cards due by now and files them with
// their cases.
func (s *sim) tick(now time.Time) error {
	cards, err := s.mon.Tick(s.ctx, now)
	if err != nil {
		return err
	}
	for _, c := range cards {
		// The legal clock is the limit to answer; a step clock's card
		// names its step (accept, …).
		caseID, clock, _ := approval.ParseClockID(c.ClockID)
		if clock == "" {
			clock = "answer"
		}
		cr := CardReport{Case: caseID, Clock: clock, ClockID: c.ClockID, Department: c.Department, Level: c.Level.String(),
			Due: c.Due.String(), FiredAt: c.FiredAt.In(s.loc).Format(time.RFC3339)}
		s.rep.Cards = append(s.rep.Cards, cr)
		// Cards of extension requests and evaluations (the platform's own
		// cases) count in the summary but belong to no handling case.
		if h := s.byID[caseID]; h != nil {
			h.rep.Cards = append(h.rep.Cards, cr)
			if c.Level >= deadline.LevelYellow {
				h.urge = true
			}
		}
		if c.Level >= deadline.LevelYellow {
			name := s.city.byOrg[c.Department].Short
			// The card fired when the due day ended: date it by that instant.
			s.rep.Account = append(s.rep.Account, Entry{Date: deadline.DateOf(c.FiredAt, s.loc).String(),
				Text: fmt.Sprintf("%s card (%s) for %s at %s: %s limit was due %s", strings.ToUpper(c.Level.String()), cardName(c.Level), caseID, name, clockName(clock), c.Due)})
		}
	}
	return nil
}

func cardName(l deadline.Level) string {
	switch l {
	case deadline.LevelWarning:
		return "预警"
	case deadline.LevelYellow:
		return "黄牌"
	case deadline.LevelRed:
		return "红牌"
	}
	return l.String()
}

func clockName(clock string) string {
	switch clock {
	case "answer":
		return "the answer (办理答复)"
	case "accept":
		return "the accept (签收受理)"
	}
	return "the " + clock
}

// finish verifies every case log, proves that an altered reply is refused,
// and sums up per department.
func (s *sim) finish() error {
	if n := s.mon.Len(); n != 0 {
		return fmt.Errorf("the monitor still tracks %d clocks after every case ended; expected none", n)
	}
	ids := append(slices.Sorted(maps.Keys(s.byID)), slices.Sorted(maps.Keys(s.aux))...)
	for _, id := range ids {
		if err := s.eng.Verify(s.ctx, id); err != nil {
			return fmt.Errorf("case %s: log does not verify: %w", id, err)
		}
		s.rep.Checks.LogsVerified++
	}
	var first *handling
	s.rep.replies, s.rep.verifier = map[string][]byte{}, s.verifier
	for _, h := range s.cases {
		if h.replyDoc != nil {
			s.rep.replies[h.id] = h.replyDoc
			s.rep.Checks.RepliesVerified++
			if first == nil {
				first = h
			}
		}
	}
	if first != nil {
		tampered, err := tamper(first.replyDoc)
		if err != nil {
			return err
		}
		if _, err := verifyReply(s.ctx, tampered, s.verifier); err == nil {
			return fmt.Errorf("case %s: an altered reply verified; expected its seal to fail", first.id)
		} else {
			s.rep.Checks.TamperedRefused = strings.ReplaceAll(err.Error(), "\n", "; ")
		}
	}

	sums := map[string]*DeptSummary{}
	var order []string
	for _, d := range append([]*department{&s.city.Platform}, ptrs(s.city.Departments)...) {
		sums[d.OrgID] = &DeptSummary{Department: d.OrgID, Name: d.Name, Short: d.Short}
		order = append(order, d.OrgID)
	}
	for _, h := range s.cases {
		r := h.rep
		d := sums[h.dept.OrgID]
		d.Cases++
		switch {
		case r.Status == approval.StatusRefused:
			d.Refused++
		case r.Answered != "":
			d.Answered++
			if r.OnTime {
				d.OnTime++
			} else {
				d.Late++
			}
		}
		if r.Extension != nil {
			if r.Extension.Granted {
				d.Extended++
			} else {
				d.ExtDenied++
			}
		}
		if r.Satisfied != nil {
			if *r.Satisfied {
				d.Satisfied++
			} else {
				d.Unsatisfied++
			}
		}
		switch r.Evaluation {
		case "reopen":
			d.Reopened++
		case "escalate":
			d.Escalated++
		}
		s.rep.Cases = append(s.rep.Cases, *r)
	}
	for _, c := range s.rep.Cards {
		d := sums[c.Department]
		if d == nil {
			return fmt.Errorf("card %s for unknown department %s", c.ClockID, c.Department)
		}
		switch c.Level {
		case "warning":
			d.Warnings++
		case "yellow":
			d.Yellow++
		case "red":
			d.Red++
		}
	}
	for _, org := range order {
		s.rep.Departments = append(s.rep.Departments, *sums[org])
	}
	return nil
}

// tamper returns the reply with one word of its body changed, as a forger
// would.
func tamper(sent []byte) ([]byte, error) {
	doc, err := docdoc.ParseBytes(sent)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(doc.Body.Text, "已") {
		return nil, errors.New("the reply has no word to alter")
	}
	doc.Body.Text = strings.Replace(doc.Body.Text, "已", "未", 1)
	return docdoc.Marshal(doc)
}
