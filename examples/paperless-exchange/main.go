// Command paperless-exchange runs three departments' exchange gateways on
// loopback, in one process, over mutual TLS with a platform directory:
//
//   - the development and reform commission (NDRC) and the finance bureau
//     seal a joint notice (联合行文; Ed25519 and SM2 seals) and NDRC sends
//     its package paperless to the economy commission, which checks both
//     seals and signs for it (签收);
//
//   - NDRC sends a letter that the economy commission returns (退回) with
//     its reason;
//
//   - NDRC calls the finance bureau's shared data resource, which the
//     directory grants it; the economy commission, without a grant, is
//     refused before the handler runs;
//
//   - every node's hash-chained audit log verifies.
//
//     go run ./examples/paperless-exchange
//
// It prints the receipts and states as it goes and exits 1 if a step fails.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/examples/internal/demo"
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "paperless-exchange failed:", err)
		os.Exit(1)
	}
}

const budgetResource = "finance.budget-execution"

func run() error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "egovkit-paperless-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// The platform operator and three departments, each with a seal
	// certificate and a TLS certificate (a test PKI stands in for the CAs),
	// each gateway with its own SQLite store and spool.
	ndrcOrgan := docdoc.Organ{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"}
	financeOrgan := docdoc.Organ{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}
	econOrgan := docdoc.Organ{Name: "重庆市经济和信息化委员会", OrgID: "11500000MB1802110J"}
	network, err := demo.Start(ctx, demo.Config{
		Dir:      tmp,
		Operator: signature.Identity{Name: "重庆市大数据应用发展管理局", OrgID: "11500000MB1541240B"},
		Departments: []demo.Department{
			{Organ: ndrcOrgan},
			{Organ: financeOrgan, Seal: pki.SM2, // the national algorithm for the bureau's seal
				Resources: []exchange.Resource{{ID: budgetResource, Name: "预算执行数据", Node: "gw1"}}},
			{Organ: econOrgan},
		},
		DataGrants: []exchange.DataGrant{{Resource: budgetResource, Consumer: ndrcOrgan.OrgID}}, // not econ
	})
	if err != nil {
		return err
	}
	defer network.Close()
	ndrc, finance, econ := network.Nodes[0], network.Nodes[1], network.Nodes[2]
	depts := network.Nodes
	verifier := network.Verifier
	dir := network.Directory
	fmt.Printf("1. the operator sealed directory edition %d: %d members, %d document grants, %d data grant\n", dir.Serial, len(dir.Members), len(dir.DocumentGrants), len(dir.DataGrants))
	fmt.Println("2. three gateways serve mutual TLS 1.3 on loopback, certificates pinned to the directory")

	// The joint notice, sealed by both issuers and packed with its
	// attachment.
	notice := docdoc.New(docdoc.TypeNotice)
	notice.Issuers = []docdoc.Organ{ndrc.Organ, finance.Organ}
	notice.DocNumber = docdoc.DocNumber{Code: "渝发改投", Year: 2025, Seq: 128}.String()
	notice.Title = "重庆市发展和改革委员会 重庆市财政局关于做好2025年政府投资项目资金保障工作的通知"
	notice.MainRecipients = []docdoc.Organ{econ.Organ}
	notice.Body = docdoc.Body{MediaType: "text/plain", Text: "现就有关事项通知如下：……"}
	notice.AttachmentNotes = []string{"项目资金安排表"}
	notice.Attachments = []docdoc.Attachment{{Name: "项目资金安排表.csv", MediaType: "text/csv"}}
	notice.Signatory = []string{ndrc.Organ.Name, finance.Organ.Name}
	notice.Date = "2025-03-18"
	files := fstest.MapFS{"attachments/项目资金安排表.csv": {Data: []byte("项目,金额（万元）\n城市道路改造,1200\n")}}
	if err := docdoc.CompleteFiles(notice, files); err != nil {
		return err
	}
	for _, d := range []*demo.Node{ndrc, finance} {
		if err := docdoc.Seal(notice, d.Sealer); err != nil {
			return err
		}
	}
	pkgPath := filepath.Join(tmp, "joint-notice.egd")
	var pkg bytes.Buffer
	if err := docdoc.Pack(&pkg, notice, files); err != nil {
		return err
	}
	if err := os.WriteFile(pkgPath, pkg.Bytes(), 0o644); err != nil {
		return err
	}
	sent, state, err := ndrc.SendFile(ctx, econ, docdoc.TypeNotice, docdoc.MediaType, pkgPath)
	if err != nil {
		return err
	}
	fmt.Printf("3. NDRC sent %s (%d bytes) to the economy commission: %s, delivery receipt %s signed by %s\n",
		notice.DocNumber, pkg.Len(), state.State(), state.DeliveryReceipt.ID, state.DeliveryReceipt.Sender)

	// The economy commission checks the package and both seals, then signs
	// for it.
	received, _, err := econ.Payload(ctx, sent.ID)
	if err != nil {
		return err
	}
	unpacked := filepath.Join(tmp, "received")
	got, err := docdoc.Unpack(bytes.NewReader(received), int64(len(received)), unpacked, docdoc.PackageLimits{})
	if err != nil {
		return err
	}
	report, err := docdoc.VerifySeals(ctx, got, verifier, docdoc.SealPolicy{RequireIssuerSeals: true})
	if err != nil {
		return fmt.Errorf("seals: %w", err)
	}
	for _, s := range report.Seals {
		fmt.Printf("   seal of %s (%s): valid\n", s.Identity.Name, s.Algorithm)
	}
	if state, err = econ.SignFor(ctx, ndrc, sent.ID, exchange.Person{Name: "李四", ID: "econ-0042"}); err != nil {
		return err
	}
	fmt.Printf("4. the economy commission checked both seals and signed for it: NDRC sees %s by %s at %s\n",
		state.State(), state.Document.By.Name, state.Document.At.Format(time.RFC3339))

	// A letter that the economy commission returns, with its reason.
	letterDoc := docdoc.New(docdoc.TypeLetter)
	letterDoc.Issuers = []docdoc.Organ{ndrc.Organ}
	letterDoc.DocNumber = docdoc.DocNumber{Code: "渝发改函", Year: 2025, Seq: 57}.String()
	letterDoc.Title = "重庆市发展和改革委员会关于征求项目清单意见的函"
	letterDoc.MainRecipients = []docdoc.Organ{econ.Organ}
	letterDoc.Body = docdoc.Body{MediaType: "text/plain", Text: "请对附件所列项目清单提出意见。"}
	letterDoc.Date = "2025-03-20"
	if err := docdoc.Seal(letterDoc, ndrc.Sealer); err != nil {
		return err
	}
	letter, err := docdoc.Marshal(letterDoc)
	if err != nil {
		return err
	}
	letterPath := filepath.Join(tmp, "letter.json")
	if err := os.WriteFile(letterPath, letter, 0o644); err != nil {
		return err
	}
	sentLetter, _, err := ndrc.SendFile(ctx, econ, docdoc.TypeLetter, docdoc.DocumentMediaType, letterPath)
	if err != nil {
		return err
	}
	if _, err := econ.Gateway.Return(ctx, sentLetter.ID, exchange.Person{Name: "李四"}, "附件缺失，请补充后重新发送"); err != nil {
		return err
	}
	if err := demo.Deliver(ctx, econ); err != nil {
		return err
	}
	if state, err = ndrc.State(ctx, sentLetter.ID); err != nil {
		return err
	}
	if state.Document.Status != exchange.StatusReturned {
		return fmt.Errorf("the letter is %s at NDRC, expected returned", state.State())
	}
	fmt.Printf("5. the economy commission returned the letter %s: NDRC sees %s, reason %q\n", letterDoc.DocNumber, state.State(), state.Document.Reason)

	// The finance bureau publishes its data resource; NDRC holds a grant,
	// the economy commission does not.
	if err := finance.Gateway.Transport().Publish(budgetResource, func(_ context.Context, req exchange.DataRequest) (exchange.DataResponse, error) {
		var q struct {
			Year int `json:"year"`
		}
		if err := json.Unmarshal(req.Body, &q); err != nil {
			return exchange.DataResponse{}, err
		}
		body, err := json.Marshal(map[string]any{"year": q.Year, "budget": 1000000, "executed": 875000})
		return exchange.DataResponse{MediaType: "application/json", Body: body}, err
	}); err != nil {
		return err
	}
	resp, body, err := ndrc.Gateway.Transport().Call(ctx, budgetResource, "application/json", []byte(`{"year":2025}`))
	if err != nil {
		return err
	}
	fmt.Printf("6. NDRC called %s: %s (a signed dataResponse from %s)\n", budgetResource, body, resp.Sender)
	_, _, err = econ.Gateway.Transport().Call(ctx, budgetResource, "application/json", []byte(`{"year":2025}`))
	var se *exchange.SendError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden {
		return fmt.Errorf("a call without a grant was not refused: %v", err)
	}
	fmt.Printf("   the economy commission, without a grant, is refused: %d %s\n", se.Status, se.Problem.Rule)

	// Every node's audit log verifies.
	for _, d := range depts {
		n, err := d.VerifyAudit(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("7. %s: audit log of %d entries, chain intact\n", d.Organ.Name, n)
	}
	fmt.Println("paperless-exchange: all steps passed")
	return nil
}
