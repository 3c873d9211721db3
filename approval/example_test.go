package approval_test

import (
	"bytes"
	"context"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

//go:embed testdata/annual-inspection.json
var annualInspection []byte

// Load a definition and list its problems.
func ExampleParseDefinition() {
	_, err := approval.ParseDefinition(strings.NewReader(`{
	  "specVersion": "approval/1",
	  "id": "outdoor-advertising",
	  "version": 2,
	  "name": "户外广告设施设置审批",
	  "limits": {"legal": "20wd"},
	  "start": "accept",
	  "steps": [
	    {"id": "accept", "name": "受理", "mode": "any", "assignees": [{"role": "window-clerk"}],
	     "next": [{"when": "application.area > 50", "to": "hearing"}, {"to": "decide"}]},
	    {"id": "review", "name": "审查", "mode": "single", "assignees": [], "next": [{"to": "decide"}]},
	    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"role": "head"}], "limit": "30wd"}
	  ]
	}`))
	var de *approval.DefinitionError
	if errors.As(err, &de) {
		for _, v := range de.Violations {
			fmt.Println(v.Pointer, v.Rule)
		}
	}
	// Output:
	// /steps/0/next/0/to approval.branch.unknown-step
	// /steps/1 approval.step.unreachable
	// /steps/1/assignees approval.step.no-assignee
	// /steps/2/limit approval.limit.exceeds-legal
}

// Run the annual-inspection flow: submit, accept, review, 会签 by two
// departments, decide.
func ExampleEngine() {
	ctx := context.Background()
	def, err := approval.ParseDefinition(bytes.NewReader(annualInspection))
	if err != nil {
		log.Fatal(err)
	}
	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1")
	dir.AddRole("reviewer", "rev1")
	dir.AddRole("head", "head1")
	dir.AddOrg("11500000MB16089308", "env1")  // 生态环境局
	dir.AddOrg("11500000MB1972360U", "fire1") // 消防救援支队
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Minute); return now }
	engine, err := approval.New(approval.Config{Store: approval.NewMemoryStore(), Directory: dir, Clock: clock}, def)
	if err != nil {
		log.Fatal(err)
	}
	var application map[string]any
	_ = json.Unmarshal([]byte(`{"enterprise":"重庆某化工有限公司","orgId":"91500000MA5U7X3P0D","registeredCapital":20000000}`), &application)
	r, err := engine.Start(ctx, approval.StartCommand{Definition: def.ID, Applicant: "alice", Application: application})
	if err != nil {
		log.Fatal(err)
	}
	c := r.Case
	for _, cmd := range []approval.Command{
		{Kind: approval.CmdAccept, Actor: "clerk1"},
		{Kind: approval.CmdApprove, Actor: "rev1"},
		{Kind: approval.CmdApprove, Actor: "env1"},
		{Kind: approval.CmdApprove, Actor: "fire1"},
		{Kind: approval.CmdDecide, Actor: "head1", Decision: approval.Granted, Reason: "符合年检条件"},
	} {
		cmd.CaseID, cmd.ExpectedVersion = c.ID, c.Version
		r, err := engine.Execute(ctx, cmd)
		if err != nil {
			log.Fatal(err)
		}
		c = r.Case
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-8s %-10s %s", cmd.Kind, c.Status, c.Step)))
	}
	fmt.Println(c.Decision.Outcome, c.Path)
	// Output:
	// accept   inReview   review
	// approve  inReview   countersign
	// approve  inReview   countersign
	// approve  inReview   decide
	// decide   granted
	// granted [accept review countersign decide]
}

// A refused command returns a typed error with a stable rule id and
// changes nothing; two reviewers acting on the same version get one
// success and one conflict.
func ExampleCommandError() {
	ctx := context.Background()
	def, _ := approval.ParseDefinition(bytes.NewReader(annualInspection))
	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1", "clerk2")
	engine, _ := approval.New(approval.Config{Store: approval.NewMemoryStore(), Directory: dir}, def)
	var application map[string]any
	_ = json.Unmarshal([]byte(`{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":1}`), &application)
	r, _ := engine.Start(ctx, approval.StartCommand{Definition: def.ID, Applicant: "alice", Application: application})

	_, err := engine.Execute(ctx, approval.Command{Kind: approval.CmdApprove, CaseID: r.Case.ID, Actor: "clerk1", ExpectedVersion: 1})
	fmt.Println(errors.Is(err, approval.ErrWrongState), approval.RuleOf(err))
	_, err = engine.Execute(ctx, approval.Command{Kind: approval.CmdAccept, CaseID: r.Case.ID, Actor: "mallory", ExpectedVersion: 1})
	fmt.Println(approval.RuleOf(err))
	_, err = engine.Execute(ctx, approval.Command{Kind: approval.CmdAccept, CaseID: r.Case.ID, Actor: "clerk1", ExpectedVersion: 1})
	fmt.Println(err)
	_, err = engine.Execute(ctx, approval.Command{Kind: approval.CmdAccept, CaseID: r.Case.ID, Actor: "clerk2", ExpectedVersion: 1})
	fmt.Println(approval.RuleOf(err))
	// Output:
	// true approval.command.wrong-state
	// approval.command.not-assignee
	// <nil>
	// approval.command.stale-version
}

// Replay a case's log: the state is a pure function of the events, and
// the hash chain shows any tampering.
func ExampleReplay() {
	ctx := context.Background()
	def, _ := approval.ParseDefinition(bytes.NewReader(annualInspection))
	store := approval.NewMemoryStore()
	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1")
	engine, _ := approval.New(approval.Config{Store: store, Directory: dir}, def)
	var application map[string]any
	_ = json.Unmarshal([]byte(`{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":1}`), &application)
	r, _ := engine.Start(ctx, approval.StartCommand{Definition: def.ID, Applicant: "alice", Application: application})
	_, _ = engine.Execute(ctx, approval.Command{Kind: approval.CmdRequestCorrection, CaseID: r.Case.ID, Actor: "clerk1", ExpectedVersion: 1, Reason: "缺营业执照副本"})

	events, _ := engine.History(ctx, r.Case.ID)
	for k := 1; k <= len(events); k++ {
		c, _ := approval.Replay(def, events[:k])
		fmt.Println(k, events[k-1].Type, c.Status)
	}
	events[1].Actor = "clerk2"
	fmt.Println(errors.Is(approval.VerifyChain(events), approval.ErrCorrupt))
	// Output:
	// 1 started submitted
	// 2 correctionRequested correction
	// true
}

// A case's clocks come from its events: the legal limit runs from
// acceptance (受理), stops for a correction request (补正) until the
// applicant resubmits, and the case answers its status, due date and card
// at any instant. The engine feeds a deadline.Monitor as commands land.
func ExampleCase_Timing() {
	ctx := context.Background()
	def, err := approval.ParseDefinition(bytes.NewReader(annualInspection))
	if err != nil {
		log.Fatal(err)
	}
	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1")
	dir.AddRole("reviewer", "rev1")
	cst := deadline.Shanghai()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, cst) // a Monday
	monitor := deadline.NewMonitor(deadline.NewMemStore(), nil)
	engine, err := approval.New(approval.Config{Store: approval.NewMemoryStore(), Directory: dir,
		Clock: func() time.Time { return now }, Calendar: deadline.China(), Monitor: monitor}, def)
	if err != nil {
		log.Fatal(err)
	}
	var application map[string]any
	_ = json.Unmarshal([]byte(`{"enterprise":"重庆某文具店","orgId":"91500000MA5U7X3P0D","registeredCapital":50000}`), &application)
	r, err := engine.Start(ctx, approval.StartCommand{Definition: def.ID, Applicant: "alice", Application: application})
	if err != nil {
		log.Fatal(err)
	}
	c := r.Case
	do := func(cmd approval.Command) {
		cmd.CaseID, cmd.ExpectedVersion = c.ID, c.Version
		r, err := engine.Execute(ctx, cmd)
		if err != nil {
			log.Fatal(err)
		}
		c = r.Case
	}
	do(approval.Command{Kind: approval.CmdAccept, Actor: "clerk1"})
	tm, _ := c.Timing(now)
	fmt.Println("accepted:", tm.Legal.Status, "due", tm.Legal.Due, "promised", tm.Legal.PromisedDue)

	now = time.Date(2026, 3, 4, 10, 0, 0, 0, cst)
	do(approval.Command{Kind: approval.CmdRequestCorrection, Actor: "rev1", Reason: "请补正年度报告"})
	tm, _ = c.Timing(now.Add(24 * time.Hour))
	fmt.Println("补正:", tm.Legal.Status)
	now = time.Date(2026, 3, 9, 10, 0, 0, 0, cst)
	do(approval.Command{Kind: approval.CmdResubmit, Actor: "alice"})
	tm, _ = c.Timing(now)
	fmt.Println("resubmitted:", tm.Legal.Status, "due", tm.Legal.Due)

	for _, day := range []int{1, 7, 15} {
		at := time.Date(2026, 4, day, 18, 0, 0, 0, cst)
		tm, _ = c.Timing(at)
		cards, _ := monitor.Tick(ctx, at)
		fmt.Printf("2026-04-%02d: %s, card %s (step %s: %s), %d new card(s)\n", day, tm.Legal.Status, tm.Legal.Card, tm.Step, tm.StepClock.Card, len(cards))
	}
	// Output:
	// accepted: running due 2026-03-30 promised 2026-03-23
	// 补正: paused
	// resubmitted: running due 2026-04-03
	// 2026-04-01: warning, card warning (step review: red), 1 new card(s)
	// 2026-04-07: yellow, card yellow (step review: red), 1 new card(s)
	// 2026-04-15: red, card red (step review: red), 1 new card(s)
}

// A decision signed with the actor's key: the engine signs the event's
// canonical form through the command's Signer, verifies the signature
// under its SignaturePolicy before anything is stored, and Verify checks
// it again later. A forged signature is refused with a rule id.
func ExampleSignaturePolicy() {
	ctx := context.Background()
	def, err := approval.ParseDefinition(bytes.NewReader(annualInspection))
	if err != nil {
		log.Fatal(err)
	}
	org := signature.Identity{Name: "重庆市市场监督管理局", OrgID: "11500000MB1541240B"}
	chain, err := pki.NewTestChain(pki.Ed25519, org, pki.Options{})
	if err != nil {
		log.Fatal(err)
	}
	headKey, err := chain.Signer()
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := signature.NewVerifier([]*x509.Certificate{chain.Root.Certificate})
	if err != nil {
		log.Fatal(err)
	}
	policy := &approval.SignaturePolicy{
		Verifier: verifier,
		Owners:   approval.PinnedCertificates{"head1": {chain.Cert}},
		Require:  []approval.EventType{approval.EventDecided},
	}
	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", "clerk1")
	dir.AddRole("reviewer", "rev1")
	dir.AddRole("head", "head1")
	engine, err := approval.New(approval.Config{Store: approval.NewMemoryStore(), Directory: dir, Signatures: policy}, def)
	if err != nil {
		log.Fatal(err)
	}
	var application map[string]any
	_ = json.Unmarshal([]byte(`{"enterprise":"重庆某文具店","orgId":"91500000MA5U7X3P0D","registeredCapital":50000}`), &application)
	r, err := engine.Start(ctx, approval.StartCommand{Definition: def.ID, Applicant: "alice", Application: application})
	if err != nil {
		log.Fatal(err)
	}
	c := r.Case
	for _, cmd := range []approval.Command{
		{Kind: approval.CmdAccept, Actor: "clerk1"},
		{Kind: approval.CmdApprove, Actor: "rev1"},
		{Kind: approval.CmdDecide, Actor: "head1", Decision: approval.Granted},
		{Kind: approval.CmdDecide, Actor: "head1", Decision: approval.Granted, Signer: forged{headKey}},
		{Kind: approval.CmdDecide, Actor: "head1", Decision: approval.Granted, Signer: headKey},
	} {
		cmd.CaseID, cmd.ExpectedVersion = c.ID, c.Version
		r, err := engine.Execute(ctx, cmd)
		if err != nil {
			fmt.Println(cmd.Kind, approval.RuleOf(err))
			continue
		}
		c = r.Case
		fmt.Println(cmd.Kind, "ok", r.Event.Signed)
	}
	fmt.Println("verify:", engine.Verify(ctx, c.ID))
	// Output:
	// accept ok false
	// approve ok false
	// decide approval.command.signature-required
	// decide approval.command.bad-signature
	// decide ok true
	// verify: <nil>
}

// forged signs other bytes than the event.
type forged struct{ s *signature.Signer }

func (f forged) Sign(payload []byte) (signature.Signature, error) {
	return f.s.Sign(append(payload, ' '))
}

// A card names its clock; ParseClockID tells which case, and which step
// of it, a card is about.
func ExampleParseClockID() {
	for _, id := range []string{approval.LegalClockID("case-7"), approval.StepClockID("case-7", "review", 3)} {
		caseID, step, seq := approval.ParseClockID(id)
		if step == "" {
			fmt.Println(caseID, "legal limit")
			continue
		}
		fmt.Println(caseID, "step", step, "entered at version", seq)
	}
	// Output:
	// case-7 legal limit
	// case-7 step review entered at version 3
}
