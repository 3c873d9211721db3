// Command quickstart is egovkit's main demo: the whole story of one
// municipality's paperless government in one process, on loopback, with a
// fresh temporary store.
//
//   - The platform operator seals the directory of four nodes: the
//     development and reform commission (NDRC), the finance bureau, the
//     economy commission, and the online service hall (网上办事大厅), each
//     serving mutual TLS 1.3 on loopback.
//   - NDRC and the finance bureau issue a joint notice (联合行文), sealed by
//     both (an Ed25519 and an SM2 seal) and packed with its attachment; it
//     travels paperless to the economy commission, which checks both seals
//     and signs for it (签收). A stripped seal and an altered package are
//     refused.
//   - An enterprise applies online, without a visit (不见面审批), for the
//     approval of its investment project: the application is accepted (受理),
//     sent back once for a correction (补正, the legal clock stops), reviewed,
//     countersigned (会签) by the economy commission and the finance bureau,
//     and granted by NDRC's head, whose decision is signed with his key.
//   - The decision goes back as a sealed document (a 函, see decisionLetter)
//     to the online service hall, which signs for it; the enterprise
//     downloads it there and verifies NDRC's seal.
//   - A second application is accepted and then neglected: the supervisor
//     (电子监察) gives NDRC a warning, a yellow card (黄牌) once the legal limit
//     has passed and a red card (红牌) five working days later.
//   - Every node's hash-chained audit log and both cases' event logs verify.
//
// Run it with
//
//	go run ./examples/quickstart          # a short account, one or two lines a step
//	go run ./examples/quickstart --json   # one JSON document: the steps with name, ok and details
//
// It exits with status 1 at the first step that fails, saying which and why.
//
// Two clocks: the network (TLS, envelopes, seals' signing times) runs on the
// real clock, as it must; the approval cases and the supervisor run on a
// simulated clock that starts on Monday 2026-09-14 and moves forward only
// when the story says so (never by sleeping), so that the time limits are
// counted on China's official 2026 calendar (国庆节 and its 调休 included)
// and read the same on every run.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/egovkit/egovkit/approval"
	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/deadline/sqlstore"
	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/examples/internal/demo"
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

func main() {
	asJSON := flag.Bool("json", false, "print one JSON document (the steps with name, ok and details) instead of the account")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "quickstart: unexpected argument %q; usage: quickstart [--json]\n", flag.Arg(0))
		os.Exit(2)
	}
	if err := run(context.Background(), os.Stdout, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart failed:", err)
		os.Exit(1)
	}
}

// The cast. The unified social credit identifiers are made up for the
// demo, with valid check characters (GB 32100-2015).
var (
	operator   = signature.Identity{Name: "重庆市大数据应用发展管理局", OrgID: "11500000MB1541240B"}
	ndrcOrgan  = docdoc.Organ{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"}
	finOrgan   = docdoc.Organ{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}
	econOrgan  = docdoc.Organ{Name: "重庆市经济和信息化委员会", OrgID: "11500000MB1802110J"}
	hallOrgan  = docdoc.Organ{Name: operator.Name, OrgID: operator.OrgID} // runs the online service hall's node
	enterprise = docdoc.Organ{Name: "重庆渝新智能装备有限公司", OrgID: "91500000MA5U7X3P0D"}
	neglected  = docdoc.Organ{Name: "重庆两江精密制造有限公司", OrgID: "91500112MA5YH0KD3C"}
)

// Users of the departments' systems, as the approval directory knows them.
const (
	clerk    = "ndrc.window.chen"  // 窗口受理人员
	reviewer = "ndrc.review.liu"   // 初审人员
	head     = "ndrc.head.zhou"    // 分管负责人, who decides
	econUser = "econ.invest.li"    // 经信委 会签
	finUser  = "finance.budget.wu" // 财政局 会签
)

// The process definition of the matter, as NDRC would declare it. The
// limits are those of the repository's other examples: 20 working days
// (行政许可法 第四十二条), extendable by 10, with a promise of 15.
const definition = `{
  "specVersion": "approval/1", "id": "enterprise-investment-project", "version": 1, "name": "企业投资项目核准",
  "department": {"name": "重庆市发展和改革委员会", "orgId": "11500000MB16089308"},
  "applicationSchema": {
    "type": "object", "required": ["enterprise", "orgId", "project", "investment"],
    "properties": {
      "enterprise": {"type": "string", "minLength": 1},
      "orgId": {"type": "string", "pattern": "^[0-9A-HJ-NPQRTUWXY]{18}$"},
      "project": {"type": "string", "minLength": 1},
      "investment": {"type": "number", "minimum": 0},
      "feasibilityStudy": {"type": "string"}
    }
  },
  "limits": {"legal": "20wd", "extension": "10wd", "promised": "15wd"},
  "start": "accept",
  "steps": [
    {"id": "accept", "name": "受理", "mode": "any", "assignees": [{"role": "window-clerk"}], "limit": "5wd", "next": [{"to": "review"}]},
    {"id": "review", "name": "初审", "mode": "single", "assignees": [{"role": "reviewer"}], "limit": "5wd", "next": [{"to": "countersign"}]},
    {"id": "countersign", "name": "会签", "mode": "all", "assignees": [{"org": "11500000MB1802110J"}, {"org": "11500000MB1972360U"}], "limit": "5wd", "next": [{"to": "decide"}]},
    {"id": "decide", "name": "决定", "kind": "decision", "mode": "single", "assignees": [{"role": "head"}], "limit": "3wd"}
  ]
}`

// storyStart is the simulated clock's first instant: Monday 2026-09-14,
// 09:00 in Asia/Shanghai.
var storyStart = time.Date(2026, 9, 14, 9, 0, 0, 0, deadline.Shanghai())

// story is the state the steps share.
type story struct {
	tmp     string
	closers []func()
	net     *demo.Network
	ndrc    *demo.Node
	finance *demo.Node
	econ    *demo.Node
	hall    *demo.Node

	cal      *deadline.Calendar
	now      time.Time // the simulated clock
	ticked   time.Time // the supervisor's last tick
	monitor  *deadline.Monitor
	cards    []deadline.Card // issued by the monitor, in order
	engine   *approval.Engine
	def      *approval.Definition
	head     *signature.Signer
	caseID   string
	version  int
	lateID   string
	decided  *approval.Case
	noticeID string
	letterID string
}

func run(ctx context.Context, w io.Writer, asJSON bool) error {
	tmp, err := os.MkdirTemp("", "egovkit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	s := &story{tmp: tmp, cal: deadline.China(), now: storyStart}
	defer s.close()
	r := &reporter{w: w, json: asJSON}
	r.step(ctx, "network", s.network)
	r.step(ctx, "joint-notice", s.jointNotice)
	r.step(ctx, "tampering-refused", s.tampering)
	r.step(ctx, "approval-setup", s.approvalSetup)
	r.step(ctx, "application", s.application)
	r.step(ctx, "acceptance", s.acceptance)
	r.step(ctx, "correction", s.correction)
	r.step(ctx, "review", s.review)
	r.step(ctx, "countersign", s.countersign)
	r.step(ctx, "decision", s.decision)
	r.step(ctx, "decision-document", s.decisionDocument)
	r.step(ctx, "applicant-verifies", s.applicantVerifies)
	r.step(ctx, "neglected-case", s.neglectedCase)
	r.step(ctx, "audit", s.audit)
	return r.finish()
}

// close releases what the steps opened, the last first.
func (s *story) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// network: the operator seals the directory and four gateways serve.
func (s *story) network(ctx context.Context) (result, error) {
	var err error
	s.net, err = demo.Start(ctx, demo.Config{Dir: s.tmp, Operator: operator, Departments: []demo.Department{
		{Organ: ndrcOrgan},               // Ed25519 seal
		{Organ: finOrgan, Seal: pki.SM2}, // the national algorithm (SM2 with SM3)
		{Organ: econOrgan},               // Ed25519 seal
		{Organ: hallOrgan, Node: "hall"}, // the online service hall
	}})
	if err != nil {
		return result{}, err
	}
	s.closers = append(s.closers, func() { s.net.Close() })
	s.ndrc, s.finance, s.econ, s.hall = s.net.Nodes[0], s.net.Nodes[1], s.net.Nodes[2], s.net.Nodes[3]
	var names []string
	for _, m := range s.net.Directory.Members {
		names = append(names, m.Name)
	}
	return result{
		lines: []string{
			fmt.Sprintf("%s sealed directory edition %d: %d member nodes, each with its seal and TLS certificate pinned", operator.Name, s.net.Directory.Serial, len(s.net.Nodes)),
			fmt.Sprintf("%d gateways serve mutual TLS 1.3 on loopback, each on its own SQLite store", len(s.net.Nodes)),
		},
		details: map[string]any{"operator": operator.Name, "directorySerial": s.net.Directory.Serial, "members": names, "gateways": len(s.net.Nodes)},
	}, nil
}

// jointNotice: NDRC and the finance bureau seal a joint notice; NDRC sends
// the package to the economy commission, which checks both seals and signs
// for it.
func (s *story) jointNotice(ctx context.Context) (result, error) {
	doc := docdoc.New(docdoc.TypeNotice)
	doc.Urgency = docdoc.UrgencyUrgent
	doc.Issuers = []docdoc.Organ{ndrcOrgan, finOrgan}
	doc.DocNumber = docdoc.DocNumber{Code: "渝发改投", Year: 2026, Seq: 128}.String()
	doc.Title = "重庆市发展和改革委员会 重庆市财政局关于做好2026年政府投资项目资金保障工作的通知"
	doc.MainRecipients = []docdoc.Organ{econOrgan}
	doc.Body = docdoc.Body{MediaType: "text/plain", Text: "为加强政府投资项目资金保障，现就有关事项通知如下：……"}
	doc.AttachmentNotes = []string{"1．2026年政府投资项目资金安排表"}
	doc.Attachments = []docdoc.Attachment{{Name: "2026年政府投资项目资金安排表.csv", MediaType: "text/csv"}}
	doc.Signatory = []string{ndrcOrgan.Name, finOrgan.Name}
	doc.Date = "2026-09-11"
	doc.CC = []docdoc.Organ{{Name: "重庆市审计局"}}
	doc.PrintedBy = "重庆市发展和改革委员会办公室"
	doc.PrintDate = "2026-09-11"
	files := fstest.MapFS{"attachments/2026年政府投资项目资金安排表.csv": {Data: []byte("项目,区县,金额（万元）\n城市道路改造,渝中区,1200\n")}}
	if err := docdoc.CompleteFiles(doc, files); err != nil { // the seals cover the attachment's digest
		return result{}, err
	}
	for _, n := range []*demo.Node{s.ndrc, s.finance} {
		if err := docdoc.Seal(doc, n.Sealer); err != nil {
			return result{}, fmt.Errorf("%s sealing the joint notice: %w", n.Organ.Name, err)
		}
	}
	pkgPath := filepath.Join(s.tmp, "joint-notice.egd")
	f, err := os.Create(pkgPath)
	if err != nil {
		return result{}, err
	}
	if err := docdoc.Pack(f, doc, files); err != nil {
		f.Close()
		return result{}, fmt.Errorf("packing the joint notice: %w", err)
	}
	if err := f.Close(); err != nil {
		return result{}, err
	}
	env, state, err := s.ndrc.SendFile(ctx, s.econ, docdoc.TypeNotice, docdoc.MediaType, pkgPath)
	if err != nil {
		return result{}, err
	}
	s.noticeID = env.ID

	// The economy commission unpacks the package (structure, document and
	// digests checked before anything is written) and verifies that every
	// issuer sealed it.
	pkg, _, err := s.econ.Payload(ctx, env.ID)
	if err != nil {
		return result{}, err
	}
	got, err := docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), filepath.Join(s.tmp, "received-notice"), docdoc.PackageLimits{})
	if err != nil {
		return result{}, fmt.Errorf("the economy commission unpacking the joint notice: %w", err)
	}
	report, err := docdoc.VerifySeals(ctx, got, s.net.Verifier, docdoc.SealPolicy{RequireIssuerSeals: true})
	if err != nil {
		return result{}, fmt.Errorf("the joint notice's seals: %w", err)
	}
	var seals []map[string]any
	var sealText []string
	for _, seal := range report.Seals {
		seals = append(seals, map[string]any{"organ": seal.Identity.Name, "algorithm": string(seal.Algorithm), "valid": seal.Err == nil})
		sealText = append(sealText, fmt.Sprintf("%s (%s)", seal.Identity.Name, seal.Algorithm))
	}
	after, err := s.econ.SignFor(ctx, s.ndrc, env.ID, exchange.Person{Name: "李四", ID: "econ-0042"})
	if err != nil {
		return result{}, err
	}
	return result{
		lines: []string{
			fmt.Sprintf("joint notice %s sealed by %s, sent paperless to %s: delivered, receipt signed by %s",
				doc.DocNumber, strings.Join(sealText, " and "), econOrgan.Name, state.DeliveryReceipt.Sender),
			fmt.Sprintf("%s verified both seals and the attachment; NDRC sees it signed for (签收) by %s", econOrgan.Name, after.Document.By.Name),
		},
		details: map[string]any{
			"docNumber": doc.DocNumber, "messageId": env.ID, "packageBytes": len(pkg), "seals": seals, "sealsVerified": len(report.Seals),
			"deliveryReceipt": state.DeliveryReceipt.ID, "status": string(after.Document.Status), "signedForBy": after.Document.By.Name,
		},
	}, nil
}

// tampering: the joint notice with a seal stripped, and its package with
// the attachment altered in transit, are both refused.
func (s *story) tampering(ctx context.Context) (result, error) {
	pkg, _, err := s.econ.Payload(ctx, s.noticeID)
	if err != nil {
		return result{}, err
	}
	got, err := docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), filepath.Join(s.tmp, "check-notice"), docdoc.PackageLimits{})
	if err != nil {
		return result{}, err
	}
	stripped := *got
	stripped.Signatures = got.Signatures[:1]
	_, err = docdoc.VerifySeals(ctx, &stripped, s.net.Verifier, docdoc.SealPolicy{RequireIssuerSeals: true})
	if err == nil {
		return result{}, errors.New("the joint notice with the finance bureau's seal stripped verified, expected a missing seal")
	}
	var missing *signature.MissingSealError
	if !errors.As(err, &missing) {
		return result{}, fmt.Errorf("the joint notice with a seal stripped failed for another reason than the missing seal: %w", err)
	}
	tampered, err := alterAttachment(pkg, "1200", "9200")
	if err != nil {
		return result{}, err
	}
	_, err = docdoc.Unpack(bytes.NewReader(tampered), int64(len(tampered)), filepath.Join(s.tmp, "tampered"), docdoc.PackageLimits{})
	var pe *docdoc.PackageError
	if !errors.As(err, &pe) {
		return result{}, fmt.Errorf("a package whose attachment was altered was accepted or failed otherwise: %v", err)
	}
	return result{
		lines:   []string{fmt.Sprintf("refused: the notice with one seal stripped (every issuer must seal), and its package with the attachment altered (%s)", pe.Rule)},
		details: map[string]any{"strippedSealRefused": true, "alteredPackageRule": pe.Rule},
	}, nil
}

// approvalSetup: NDRC's approval engine on a SQLite store, with the card
// monitor on a SQLite card store, the China calendar and signed decisions.
func (s *story) approvalSetup(ctx context.Context) (result, error) {
	var err error
	if s.def, err = approval.ParseDefinition(strings.NewReader(definition)); err != nil {
		return result{}, err
	}
	store, err := approval.OpenSQLite(ctx, filepath.Join(s.tmp, "approval.db"))
	if err != nil {
		return result{}, err
	}
	cards, err := sqlstore.OpenSQLite(ctx, filepath.Join(s.tmp, "cards.db"), "cards")
	if err != nil {
		store.Close()
		return result{}, err
	}
	s.closers = append(s.closers, func() { store.Close() }, func() { cards.Close() })
	s.monitor = deadline.NewMonitor(cards, nil)

	// The head signs decisions with a key of his own, whose certificate
	// NDRC's CA issued; the engine checks that the certificate is his.
	key, err := pki.GenerateKey(pki.Ed25519)
	if err != nil {
		return result{}, err
	}
	cert, err := s.ndrc.Chain.Intermediate.IssueSeal(key.Public(), signature.Identity{Name: ndrcOrgan.Name, OrgID: ndrcOrgan.OrgID}, pki.Options{})
	if err != nil {
		return result{}, err
	}
	if s.head, err = signature.NewSigner(key, []*x509.Certificate{cert, s.ndrc.Chain.Intermediate.Certificate}); err != nil {
		return result{}, err
	}

	dir := &approval.MemoryDirectory{}
	dir.AddRole("window-clerk", clerk)
	dir.AddRole("reviewer", reviewer)
	dir.AddRole("head", head)
	dir.AddOrg(econOrgan.OrgID, econUser)
	dir.AddOrg(finOrgan.OrgID, finUser)
	s.engine, err = approval.New(approval.Config{Store: store, Directory: dir, Clock: s.clock, Calendar: s.cal, Monitor: s.monitor,
		Signatures: &approval.SignaturePolicy{Verifier: s.net.Verifier, Owners: approval.PinnedCertificates{head: {cert}},
			Require: []approval.EventType{approval.EventDecided}}}, s.def)
	if err != nil {
		return result{}, err
	}
	return result{
		lines: []string{fmt.Sprintf("NDRC's approval engine runs %s (%s) on SQLite: legal limit %s, promised %s, counted on China's official calendar (%s)",
			s.def.Name, s.def.ID, s.def.Limits.Legal, s.def.Limits.Promised, s.cal.Name())},
		details: map[string]any{"definition": s.def.ID, "steps": len(s.def.Steps), "legal": s.def.Limits.Legal, "promised": s.def.Limits.Promised, "calendar": s.cal.Name()},
	}, nil
}

// application: the enterprise applies online (不见面).
func (s *story) application(ctx context.Context) (result, error) {
	if err := s.advance(ctx, storyStart); err != nil {
		return result{}, err
	}
	r, err := s.engine.Start(ctx, approval.StartCommand{Definition: s.def.ID, Applicant: enterprise.OrgID, IdempotencyKey: "online-application-1",
		Application: map[string]any{"enterprise": enterprise.Name, "orgId": enterprise.OrgID, "project": "年产5000台工业机器人生产线项目", "investment": 32000}})
	if err != nil {
		return result{}, err
	}
	s.caseID, s.version = r.Case.ID, r.Case.Version
	return result{
		lines:   []string{fmt.Sprintf("%s applied online (不见面) on %s: case %s, %s", enterprise.Name, s.day(), s.caseID, r.Case.Status)},
		details: map[string]any{"caseId": s.caseID, "applicant": enterprise.Name, "status": string(r.Case.Status), "date": s.day().String()},
	}, nil
}

// acceptance: the window clerk accepts (受理); the legal clock starts.
func (s *story) acceptance(ctx context.Context) (result, error) {
	if err := s.advance(ctx, storyStart.Add(30*time.Minute)); err != nil {
		return result{}, err
	}
	c, err := s.exec(ctx, approval.Command{Kind: approval.CmdAccept, Actor: clerk})
	if err != nil {
		return result{}, err
	}
	tm, err := c.Timing(s.now)
	if err != nil {
		return result{}, err
	}
	return result{
		lines: []string{fmt.Sprintf("accepted (受理) on %s: legal due date %s, promised %s (%s left)", s.day(), tm.Legal.Due, tm.Legal.PromisedDue, tm.Legal.Left)},
		details: map[string]any{"status": string(c.Status), "step": c.Step, "due": tm.Legal.Due.String(), "promisedDue": tm.Legal.PromisedDue.String(),
			"clock": tm.Legal.Status.String()},
	}, nil
}

// correction: the reviewer asks for a correction (补正) and the enterprise
// resubmits five days later; the legal clock stood still meanwhile.
func (s *story) correction(ctx context.Context) (result, error) {
	if err := s.advance(ctx, at(2026, 9, 16, 10)); err != nil {
		return result{}, err
	}
	before, err := s.engine.Case(ctx, s.caseID)
	if err != nil {
		return result{}, err
	}
	tmBefore, err := before.Timing(s.now)
	if err != nil {
		return result{}, err
	}
	c, err := s.exec(ctx, approval.Command{Kind: approval.CmdRequestCorrection, Actor: reviewer, Reason: "请补充项目可行性研究报告"})
	if err != nil {
		return result{}, err
	}
	if c.Status != approval.StatusCorrection {
		return result{}, fmt.Errorf("case %s is %s after the correction request, expected %s", s.caseID, c.Status, approval.StatusCorrection)
	}
	asked := s.day()
	paused, err := c.Timing(s.now)
	if err != nil {
		return result{}, err
	}
	if err := s.advance(ctx, at(2026, 9, 21, 10)); err != nil {
		return result{}, err
	}
	app := map[string]any{}
	for k, v := range c.Application {
		app[k] = v
	}
	app["feasibilityStudy"] = "可行性研究报告（2026年9月修订）.pdf"
	c, err = s.exec(ctx, approval.Command{Kind: approval.CmdResubmit, Actor: enterprise.OrgID, Application: app})
	if err != nil {
		return result{}, err
	}
	tm, err := c.Timing(s.now)
	if err != nil {
		return result{}, err
	}
	if !tm.Legal.Due.After(tmBefore.Legal.Due) {
		return result{}, fmt.Errorf("the legal due date is %s after the correction, expected later than %s", tm.Legal.Due, tmBefore.Legal.Due)
	}
	return result{
		lines: []string{
			fmt.Sprintf("sent back for a correction (补正) on %s: the legal clock is %s", asked, paused.Legal.Status),
			fmt.Sprintf("the enterprise resubmitted on %s: the clock runs again, due %s instead of %s", s.day(), tm.Legal.Due, tmBefore.Legal.Due),
		},
		details: map[string]any{"requested": asked.String(), "clockWhileWaiting": paused.Legal.Status.String(), "resubmitted": s.day().String(),
			"dueBefore": tmBefore.Legal.Due.String(), "dueAfter": tm.Legal.Due.String(), "status": string(c.Status)},
	}, nil
}

// review: the first review (初审) approves.
func (s *story) review(ctx context.Context) (result, error) {
	if err := s.advance(ctx, at(2026, 9, 22, 15)); err != nil {
		return result{}, err
	}
	c, err := s.exec(ctx, approval.Command{Kind: approval.CmdApprove, Actor: reviewer, Comment: "材料齐全，符合核准条件"})
	if err != nil {
		return result{}, err
	}
	if c.Step != "countersign" {
		return result{}, fmt.Errorf("case %s is at step %q after the review, expected countersign", s.caseID, c.Step)
	}
	var orgs []string
	for _, t := range c.PendingTasks() {
		orgs = append(orgs, t.Assignee.String())
	}
	return result{
		lines:   []string{fmt.Sprintf("reviewed (初审) on %s: on to the countersign (会签) of %d departments", s.day(), len(orgs))},
		details: map[string]any{"step": c.Step, "pendingTasks": orgs},
	}, nil
}

// countersign: the economy commission and the finance bureau both
// approve (会签: every assignee must).
func (s *story) countersign(ctx context.Context) (result, error) {
	var by []string
	for i, signer := range []struct {
		user  string
		organ docdoc.Organ
	}{{econUser, econOrgan}, {finUser, finOrgan}} {
		if err := s.advance(ctx, at(2026, 9, 23+i, 11)); err != nil {
			return result{}, err
		}
		c, err := s.exec(ctx, approval.Command{Kind: approval.CmdApprove, Actor: signer.user, Comment: "同意"})
		if err != nil {
			return result{}, err
		}
		by = append(by, signer.organ.Name)
		if i == 0 && c.Step != "countersign" {
			return result{}, fmt.Errorf("the countersign ended after one approval of two (case %s at %q)", s.caseID, c.Step)
		}
		if i == 1 && c.Step != "decide" {
			return result{}, fmt.Errorf("case %s is at step %q after both countersignatures, expected decide", s.caseID, c.Step)
		}
	}
	return result{
		lines:   []string{fmt.Sprintf("countersigned (会签) by %s: on to the decision", strings.Join(by, " and "))},
		details: map[string]any{"approvals": len(by), "by": by},
	}, nil
}

// decision: the head grants, signing the decision with his key.
func (s *story) decision(ctx context.Context) (result, error) {
	if err := s.advance(ctx, at(2026, 9, 28, 16)); err != nil {
		return result{}, err
	}
	c, err := s.exec(ctx, approval.Command{Kind: approval.CmdDecide, Actor: head, Decision: approval.Granted, Reason: "符合核准条件", Signer: s.head})
	if err != nil {
		return result{}, err
	}
	if c.Status != approval.StatusGranted {
		return result{}, fmt.Errorf("case %s is %s after the decision, expected granted", s.caseID, c.Status)
	}
	if err := s.engine.Verify(ctx, s.caseID); err != nil {
		return result{}, err
	}
	tm, err := c.Timing(s.now)
	if err != nil {
		return result{}, err
	}
	s.decided = c
	return result{
		lines: []string{fmt.Sprintf("granted (准予) on %s by %s, the decision signed with the head's own key (%s): %s, %d events",
			s.day(), head, s.head.Algorithm(), tm.Legal.Status, c.Version)},
		details: map[string]any{"outcome": string(c.Decision.Outcome), "by": c.Decision.By, "signed": true, "clock": tm.Legal.Status.String(),
			"due": tm.Legal.Due.String(), "events": c.Version},
	}, nil
}

// decisionDocument: NDRC seals the decision as a letter (函) to the
// enterprise and sends it to the online service hall, which signs for it.
func (s *story) decisionDocument(ctx context.Context) (result, error) {
	doc, err := decisionLetter(s.decided)
	if err != nil {
		return result{}, err
	}
	if err := docdoc.Seal(doc, s.ndrc.Sealer); err != nil { // validates, then seals
		return result{}, fmt.Errorf("NDRC sealing the decision: %w", err)
	}
	data, err := docdoc.Marshal(doc)
	if err != nil {
		return result{}, err
	}
	path := filepath.Join(s.tmp, "decision.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return result{}, err
	}
	env, _, err := s.ndrc.SendFile(ctx, s.hall, doc.Type, docdoc.DocumentMediaType, path)
	if err != nil {
		return result{}, err
	}
	state, err := s.hall.SignFor(ctx, s.ndrc, env.ID, exchange.Person{Name: "网上办事大厅", ID: "hall-system"})
	if err != nil {
		return result{}, err
	}
	s.letterID = env.ID
	return result{
		lines: []string{
			fmt.Sprintf("the decision %s (%s, sealed by %s) went to the online service hall: %s", doc.DocNumber, doc.Type.Chinese(), ndrcOrgan.Name, state.State()),
		},
		details: map[string]any{"type": string(doc.Type), "docNumber": doc.DocNumber, "messageId": env.ID, "to": s.hall.Party.String(),
			"status": string(state.Document.Status), "signedForBy": state.Document.By.Name},
	}, nil
}

// decisionLetter builds the decision document for a granted case.
//
// Which document type: of the 15 types of 党政机关公文处理工作条例 第八条,
// a 批复 answers a request (请示) of a subordinate organ, and a 决定 decides
// major matters, rewards and penalties; a 函 is for organs that are not
// subordinate to each other, among other things to answer requests for
// approval (答复审批事项), which is what NDRC does for an enterprise here.
// (A deployment that issues a 行政许可决定书, an administrative instrument
// outside the 15 types, would carry it as an attachment of the 函.)
func decisionLetter(c *approval.Case) (*docdoc.Document, error) {
	if c == nil || c.Decision == nil || c.Decision.Outcome != approval.Granted {
		return nil, errors.New("no granted decision to write up")
	}
	name, _ := c.Application["enterprise"].(string)
	orgID, _ := c.Application["orgId"].(string)
	project, _ := c.Application["project"].(string)
	decided := deadline.DateOf(c.Decision.At, deadline.Shanghai())
	y, _, _ := decided.Date()
	doc := docdoc.New(docdoc.TypeLetter)
	doc.Issuers = []docdoc.Organ{ndrcOrgan}
	doc.DocNumber = docdoc.DocNumber{Code: "渝发改审函", Year: y, Seq: 213}.String()
	doc.Title = fmt.Sprintf("重庆市发展和改革委员会关于核准%s%s的函", name, project)
	doc.MainRecipients = []docdoc.Organ{{Name: name, OrgID: orgID}}
	doc.Body = docdoc.Body{MediaType: "text/plain", Text: fmt.Sprintf(
		"%s：\n你单位通过网上办事大厅提交的%s核准申请（办件编号%s）收悉。经审查，并经%s、%s会签，该项目符合核准条件，现予以核准。\n",
		name, project, c.ID, econOrgan.Name, finOrgan.Name)}
	doc.Signatory = []string{ndrcOrgan.Name}
	doc.Date = decided.String()
	return doc, nil
}

// applicantVerifies: the enterprise downloads the decision from the hall
// and verifies NDRC's seal under the published roots.
func (s *story) applicantVerifies(ctx context.Context) (result, error) {
	data, mediaType, err := s.hall.Payload(ctx, s.letterID)
	if err != nil {
		return result{}, err
	}
	if mediaType != docdoc.DocumentMediaType {
		return result{}, fmt.Errorf("the hall holds the decision as %s, expected %s", mediaType, docdoc.DocumentMediaType)
	}
	doc, err := docdoc.ParseBytes(data)
	if err != nil {
		return result{}, fmt.Errorf("the decision as the hall received it: %w", err)
	}
	report, err := docdoc.VerifySeals(ctx, doc, s.net.Verifier, docdoc.SealPolicy{RequireIssuerSeals: true})
	if err != nil {
		return result{}, fmt.Errorf("the decision's seal: %w", err)
	}
	if doc.MainRecipients[0].OrgID != enterprise.OrgID || !strings.Contains(doc.Body.Text, s.caseID) {
		return result{}, fmt.Errorf("the decision is addressed to %s about another case, expected %s and case %s", doc.MainRecipients[0].Name, enterprise.Name, s.caseID)
	}
	seal := report.Seals[0]
	return result{
		lines: []string{fmt.Sprintf("%s downloaded %s from the hall and verified %s's seal (%s): valid", enterprise.Name, doc.DocNumber, seal.Identity.Name, seal.Algorithm)},
		details: map[string]any{"docNumber": doc.DocNumber, "recipient": doc.MainRecipients[0].Name, "sealsVerified": len(report.Seals),
			"sealedBy": seal.Identity.Name, "algorithm": string(seal.Algorithm)},
	}, nil
}

// neglectedCase: a second application is accepted and then left alone;
// each evening the supervisor ticks, and the cards come as the calendar
// says.
func (s *story) neglectedCase(ctx context.Context) (result, error) {
	// The next morning another enterprise applies; its application is
	// accepted and then nobody acts on it.
	if err := s.advance(ctx, at(2026, 9, 29, 9)); err != nil {
		return result{}, err
	}
	r, err := s.engine.Start(ctx, approval.StartCommand{Definition: s.def.ID, Applicant: neglected.OrgID, IdempotencyKey: "online-application-2",
		Application: map[string]any{"enterprise": neglected.Name, "orgId": neglected.OrgID, "project": "精密轴承扩能技术改造项目", "investment": 8600}})
	if err != nil {
		return result{}, err
	}
	s.lateID = r.Case.ID
	if err := s.advance(ctx, at(2026, 9, 29, 10)); err != nil {
		return result{}, err
	}
	acc, err := s.engine.Execute(ctx, approval.Command{Kind: approval.CmdAccept, CaseID: s.lateID, Actor: clerk, ExpectedVersion: r.Case.Version})
	if err != nil {
		return result{}, err
	}
	accepted := s.day()
	tm, err := acc.Case.Timing(s.now)
	if err != nil {
		return result{}, err
	}
	first := len(s.cards)
	// Evenings pass until the red card, at most 60 days.
	for day := accepted; ; day = day.AddDays(1) {
		if day.After(accepted.AddDays(60)) {
			return result{}, fmt.Errorf("no red card for case %s within 60 days of its acceptance on %s (due %s)", s.lateID, accepted, tm.Legal.Due)
		}
		if err := s.advance(ctx, day.Start(s.cal.Location()).Add(23*time.Hour)); err != nil {
			return result{}, err
		}
		if s.lastLevel(s.lateID, first) == deadline.LevelRed {
			break
		}
	}
	var lines []string
	var issued []map[string]any
	var want = []deadline.Level{deadline.LevelWarning, deadline.LevelYellow, deadline.LevelRed}
	for _, card := range s.cards[first:] {
		if card.ClockID != approval.LegalClockID(s.lateID) {
			return result{}, fmt.Errorf("a %s card for %s, expected cards only for the neglected case %s", card.Level, card.ClockID, s.lateID)
		}
		if len(issued) >= len(want) || card.Level != want[len(issued)] {
			return result{}, fmt.Errorf("card %d of case %s is %s, expected warning, yellow, red in that order", len(issued)+1, s.lateID, card.Level)
		}
		on := deadline.DateOf(card.FiredAt, s.cal.Location())
		issued = append(issued, map[string]any{"level": card.Level.String(), "date": on.String(), "department": card.Department, "due": card.Due.String()})
		lines = append(lines, fmt.Sprintf("%s %s", card.Level, on))
	}
	if len(issued) != len(want) {
		return result{}, fmt.Errorf("case %s got %d cards, expected warning, yellow and red", s.lateID, len(issued))
	}
	red, err := s.engine.Cases(ctx, approval.CaseFilter{Card: deadline.LevelRed})
	if err != nil {
		return result{}, err
	}
	if len(red) != 1 || red[0].ID != s.lateID {
		return result{}, fmt.Errorf("the engine lists %d cases under a red card, expected the neglected case %s alone", len(red), s.lateID)
	}
	return result{
		lines: []string{
			fmt.Sprintf("%s's application, accepted %s (due %s), then neglected: cards to %s:", neglected.Name, accepted, tm.Legal.Due, ndrcOrgan.Name),
			strings.Join(lines, ", ") + "; the engine lists it under 红牌",
		},
		details: map[string]any{"caseId": s.lateID, "accepted": accepted.String(), "due": tm.Legal.Due.String(), "cards": issued, "redCases": len(red)},
	}, nil
}

// lastLevel returns the highest level issued to a case's legal clock in
// s.cards[from:].
func (s *story) lastLevel(caseID string, from int) deadline.Level {
	level := deadline.LevelNone
	for _, c := range s.cards[from:] {
		if c.ClockID == approval.LegalClockID(caseID) && c.Level > level {
			level = c.Level
		}
	}
	return level
}

// audit: every node's exchange audit log and both cases' logs verify.
func (s *story) audit(ctx context.Context) (result, error) {
	entries := map[string]int{}
	total := 0
	for _, n := range s.net.Nodes {
		count, err := n.VerifyAudit(ctx)
		if err != nil {
			return result{}, err
		}
		entries[n.Party.String()] = count
		total += count
	}
	for _, id := range []string{s.caseID, s.lateID} {
		if err := s.engine.Verify(ctx, id); err != nil {
			return result{}, fmt.Errorf("case %s: %w", id, err)
		}
	}
	return result{
		lines:   []string{fmt.Sprintf("audit: %d nodes' hash-chained logs (%d entries) intact; both cases' event logs verify (hash chain, signature, replay)", len(entries), total)},
		details: map[string]any{"exchangeEntries": entries, "casesVerified": 2},
	}, nil
}

// exec runs a command on the first case at its current version.
func (s *story) exec(ctx context.Context, cmd approval.Command) (*approval.Case, error) {
	cmd.CaseID, cmd.ExpectedVersion = s.caseID, s.version
	r, err := s.engine.Execute(ctx, cmd)
	if err != nil {
		return nil, fmt.Errorf("case %s: %s by %s: %w", s.caseID, cmd.Kind, cmd.Actor, err)
	}
	s.version = r.Case.Version
	return r.Case, nil
}

// clock is the engine's clock: the simulated now.
func (s *story) clock() time.Time { return s.now }

// day is the simulated date.
func (s *story) day() deadline.Date { return deadline.DateOf(s.now, s.cal.Location()) }

// advance moves the simulated clock forward to t, ticking the supervisor
// at the end of every day it passes (23:00), as a deployment would each
// evening, and keeping the cards it issues.
func (s *story) advance(ctx context.Context, t time.Time) error {
	loc := s.cal.Location()
	for d := s.day(); ; d = d.AddDays(1) {
		evening := d.Start(loc).Add(23 * time.Hour)
		if evening.After(t) {
			break
		}
		if !evening.Before(s.now) && evening.After(s.ticked) && s.monitor != nil {
			cards, err := s.monitor.Tick(ctx, evening)
			if err != nil {
				return err
			}
			s.cards = append(s.cards, cards...)
			s.ticked = evening
		}
	}
	s.now = t
	return nil
}

// at is an instant of the simulated clock: a day at an hour, Shanghai time.
func at(year int, month time.Month, day, hour int) time.Time {
	return time.Date(year, month, day, hour, 0, 0, 0, deadline.Shanghai())
}

// alterAttachment rewrites a package with old replaced by new in its
// attachments, as an attacker on the wire could.
func alterAttachment(pkg []byte, old, new string) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(f.Name, docdoc.DirAttachments) {
			data = bytes.ReplaceAll(data, []byte(old), []byte(new))
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: f.Method})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// result is what a step reports: its lines for the account and its
// details for --json.
type result struct {
	lines   []string
	details map[string]any
}

// Step is one step of the JSON report.
type Step struct {
	Name    string         `json:"name"`
	OK      bool           `json:"ok"`
	Summary []string       `json:"summary,omitempty"`
	Details map[string]any `json:"details,omitempty"`
	Error   string         `json:"error,omitempty"`
}

// Report is the JSON document that --json prints.
type Report struct {
	Program string `json:"program"`
	OK      bool   `json:"ok"`
	Steps   []Step `json:"steps"`
}

// reporter runs the steps in order, stops at the first that fails, and
// prints the account as it goes (or the JSON report at the end).
type reporter struct {
	w      io.Writer
	json   bool
	report Report
	err    error
}

// step runs f unless a step before failed.
func (r *reporter) step(ctx context.Context, name string, f func(context.Context) (result, error)) {
	if r.err != nil {
		return
	}
	res, err := f(ctx)
	st := Step{Name: name, OK: err == nil, Summary: res.lines, Details: res.details}
	if err != nil {
		st.Error = err.Error()
		r.err = fmt.Errorf("step %d (%s): %w", len(r.report.Steps)+1, name, err)
	}
	r.report.Steps = append(r.report.Steps, st)
	if !r.json && err == nil {
		for i, line := range res.lines {
			if i == 0 {
				fmt.Fprintf(r.w, "%2d. %s\n", len(r.report.Steps), line)
			} else {
				fmt.Fprintf(r.w, "    %s\n", line)
			}
		}
	}
}

// finish prints the JSON report or the closing line, and returns the
// failure, if any.
func (r *reporter) finish() error {
	r.report.Program, r.report.OK = "egovkit quickstart", r.err == nil
	if r.json {
		enc := json.NewEncoder(r.w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r.report); err != nil && r.err == nil {
			return err
		}
	} else if r.err == nil {
		fmt.Fprintf(r.w, "quickstart: all %d steps passed\n", len(r.report.Steps))
	}
	return r.err
}
