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
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing/fstest"
	"time"

	"github.com/egovkit/egovkit/docdoc"
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

// dept is one department: its organ, its seal and its gateway.
type dept struct {
	organ   docdoc.Organ
	party   exchange.Party
	sealer  *signature.Signer
	tlsCert tls.Certificate
	l       net.Listener
	gw      *exchange.Gateway
}

const budgetResource = "finance.budget-execution"

func run() error {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tmp, err := os.MkdirTemp("", "egovkit-paperless-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	now := time.Now()

	// The platform operator and three departments, each with a seal
	// certificate and a TLS certificate (a test PKI stands in for the CAs).
	operator := signature.Identity{Name: "重庆市大数据应用发展管理局", OrgID: "11500000MB1541240B"}
	op, err := pki.NewTestChain(pki.Ed25519, operator, pki.Options{})
	if err != nil {
		return err
	}
	roots := []*x509.Certificate{op.Root.Certificate}
	ndrc := &dept{organ: docdoc.Organ{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"}}
	finance := &dept{organ: docdoc.Organ{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}}
	econ := &dept{organ: docdoc.Organ{Name: "重庆市经济和信息化委员会", OrgID: "11500000MB1802110J"}}
	depts := []*dept{ndrc, finance, econ}
	dir := &exchange.Directory{SpecVersion: exchange.DirectorySpecVersion, Serial: 1, Issued: exchange.NewTime(now.Add(-time.Hour)),
		Expires: exchange.NewTime(now.Add(24 * time.Hour)), Operator: operator}
	for _, d := range depts {
		alg := pki.Ed25519
		if d == finance {
			alg = pki.SM2 // the national algorithm for the bureau's seal
		}
		id := signature.Identity{Name: d.organ.Name, OrgID: d.organ.OrgID}
		tc, err := pki.NewTestChain(alg, id, pki.Options{})
		if err != nil {
			return err
		}
		if d.sealer, err = tc.Signer(); err != nil {
			return err
		}
		key, err := pki.GenerateKey(pki.P256) // TLS keys: Go's TLS has no SM2
		if err != nil {
			return err
		}
		cert, err := tc.Intermediate.IssueTLS(key.Public(), id, []string{"127.0.0.1"}, pki.Options{})
		if err != nil {
			return err
		}
		d.tlsCert = tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
		if d.l, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return err
		}
		d.party = exchange.Party{OrgID: d.organ.OrgID, Node: "gw1"}
		roots = append(roots, tc.Root.Certificate)
		m := exchange.Member{Name: d.organ.Name, OrgID: d.organ.OrgID, Nodes: []exchange.Node{{ID: "gw1",
			Endpoint: "https://" + d.l.Addr().String(), TLSCertificate: cert.Raw, SigningCertificate: tc.Cert.Raw}}}
		if d == finance {
			m.Resources = []exchange.Resource{{ID: budgetResource, Name: "预算执行数据", Node: "gw1"}}
		}
		dir.Members = append(dir.Members, m)
		dir.DocumentGrants = append(dir.DocumentGrants, exchange.DocumentGrant{From: d.organ.OrgID, To: "*"})
	}
	dir.DataGrants = []exchange.DataGrant{{Resource: budgetResource, Consumer: ndrc.organ.OrgID}} // not econ
	opSigner, err := op.Signer()
	if err != nil {
		return err
	}
	plain, err := exchange.MarshalDirectory(dir)
	if err != nil {
		return err
	}
	sealed, err := exchange.SealDirectory(plain, opSigner)
	if err != nil {
		return err
	}
	verifier, err := signature.NewVerifier(roots)
	if err != nil {
		return err
	}
	fmt.Printf("1. the operator sealed directory edition %d: %d members, %d document grants, %d data grant\n", dir.Serial, len(dir.Members), len(dir.DocumentGrants), len(dir.DataGrants))

	// Each department's gateway, with its own SQLite store and spool.
	var serving []chan error
	defer func() {
		stop()
		for _, done := range serving {
			<-done
		}
	}()
	for _, d := range depts {
		keeper, err := exchange.NewDirectoryKeeper(func(context.Context) ([]byte, error) { return sealed, nil }, verifier, operator, time.Now)
		if err != nil {
			return err
		}
		if err := keeper.Refresh(ctx); err != nil {
			return err
		}
		store, err := exchange.OpenStore(ctx, "sqlite:"+filepath.Join(tmp, d.organ.OrgID+".db"))
		if err != nil {
			return err
		}
		defer store.Close()
		spool, err := exchange.OpenSpool(filepath.Join(tmp, d.organ.OrgID))
		if err != nil {
			return err
		}
		d.gw, err = exchange.NewGateway(exchange.GatewayConfig{Self: d.party, Directory: keeper, Verifier: verifier, Signer: d.sealer,
			TLSCertificate: d.tlsCert, Store: store, Spool: spool})
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func(d *dept) { done <- d.gw.Serve(ctx, d.l) }(d)
		serving = append(serving, done)
	}
	fmt.Println("2. three gateways serve mutual TLS 1.3 on loopback, certificates pinned to the directory")

	// The joint notice, sealed by both issuers and packed with its
	// attachment.
	notice := docdoc.New(docdoc.TypeNotice)
	notice.Issuers = []docdoc.Organ{ndrc.organ, finance.organ}
	notice.DocNumber = docdoc.DocNumber{Code: "渝发改投", Year: 2025, Seq: 128}.String()
	notice.Title = "重庆市发展和改革委员会 重庆市财政局关于做好2025年政府投资项目资金保障工作的通知"
	notice.MainRecipients = []docdoc.Organ{econ.organ}
	notice.Body = docdoc.Body{MediaType: "text/plain", Text: "现就有关事项通知如下：……"}
	notice.AttachmentNotes = []string{"项目资金安排表"}
	notice.Attachments = []docdoc.Attachment{{Name: "项目资金安排表.csv", MediaType: "text/csv"}}
	notice.Signatory = []string{ndrc.organ.Name, finance.organ.Name}
	notice.Date = "2025-03-18"
	files := fstest.MapFS{"attachments/项目资金安排表.csv": {Data: []byte("项目,金额（万元）\n城市道路改造,1200\n")}}
	if err := docdoc.CompleteFiles(notice, files); err != nil {
		return err
	}
	for _, d := range []*dept{ndrc, finance} {
		if err := docdoc.Seal(notice, d.sealer); err != nil {
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
	sent, err := ndrc.gw.SendFile(ctx, []exchange.Party{econ.party}, docdoc.TypeNotice, docdoc.MediaType, pkgPath)
	if err != nil {
		return err
	}
	if _, err := ndrc.gw.DeliverDue(ctx, 10); err != nil {
		return err
	}
	state, err := ndrc.gw.Sent(ctx, sent.ID)
	if err != nil {
		return err
	}
	if state[0].DeliveryReceipt == nil {
		return fmt.Errorf("the notice was not delivered: %s %s", state[0].State(), state[0].LastError)
	}
	fmt.Printf("3. NDRC sent %s (%d bytes) to the economy commission: %s, delivery receipt %s signed by %s\n",
		notice.DocNumber, pkg.Len(), state[0].State(), state[0].DeliveryReceipt.ID, state[0].DeliveryReceipt.Sender)

	// The economy commission checks the package and both seals, then signs
	// for it.
	_, rc, err := econ.gw.OpenPayload(ctx, sent.ID)
	if err != nil {
		return err
	}
	var received bytes.Buffer
	_, err = received.ReadFrom(rc)
	rc.Close()
	if err != nil {
		return err
	}
	unpacked := filepath.Join(tmp, "received")
	got, err := docdoc.Unpack(bytes.NewReader(received.Bytes()), int64(received.Len()), unpacked, docdoc.PackageLimits{})
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
	if _, err := econ.gw.SignFor(ctx, sent.ID, exchange.Person{Name: "李四", ID: "econ-0042"}); err != nil {
		return err
	}
	if _, err := econ.gw.DeliverDue(ctx, 10); err != nil {
		return err
	}
	state, err = ndrc.gw.Sent(ctx, sent.ID)
	if err != nil {
		return err
	}
	if state[0].Document.Status != exchange.StatusSignedFor {
		return fmt.Errorf("the notice is %s at NDRC, expected signed for", state[0].State())
	}
	fmt.Printf("4. the economy commission checked both seals and signed for it: NDRC sees %s by %s at %s\n",
		state[0].State(), state[0].Document.By.Name, state[0].Document.At.Format(time.RFC3339))

	// A letter that the economy commission returns, with its reason.
	letterDoc := docdoc.New(docdoc.TypeLetter)
	letterDoc.Issuers = []docdoc.Organ{ndrc.organ}
	letterDoc.DocNumber = docdoc.DocNumber{Code: "渝发改函", Year: 2025, Seq: 57}.String()
	letterDoc.Title = "重庆市发展和改革委员会关于征求项目清单意见的函"
	letterDoc.MainRecipients = []docdoc.Organ{econ.organ}
	letterDoc.Body = docdoc.Body{MediaType: "text/plain", Text: "请对附件所列项目清单提出意见。"}
	letterDoc.Date = "2025-03-20"
	if err := docdoc.Seal(letterDoc, ndrc.sealer); err != nil {
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
	sentLetter, err := ndrc.gw.SendFile(ctx, []exchange.Party{econ.party}, docdoc.TypeLetter, docdoc.DocumentMediaType, letterPath)
	if err != nil {
		return err
	}
	if _, err := ndrc.gw.DeliverDue(ctx, 10); err != nil {
		return err
	}
	if _, err := econ.gw.Return(ctx, sentLetter.ID, exchange.Person{Name: "李四"}, "附件缺失，请补充后重新发送"); err != nil {
		return err
	}
	if _, err := econ.gw.DeliverDue(ctx, 10); err != nil {
		return err
	}
	state, err = ndrc.gw.Sent(ctx, sentLetter.ID)
	if err != nil {
		return err
	}
	if state[0].Document.Status != exchange.StatusReturned {
		return fmt.Errorf("the letter is %s at NDRC, expected returned", state[0].State())
	}
	fmt.Printf("5. the economy commission returned the letter %s: NDRC sees %s, reason %q\n", letterDoc.DocNumber, state[0].State(), state[0].Document.Reason)

	// The finance bureau publishes its data resource; NDRC holds a grant,
	// the economy commission does not.
	if err := finance.gw.Transport().Publish(budgetResource, func(_ context.Context, req exchange.DataRequest) (exchange.DataResponse, error) {
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
	resp, body, err := ndrc.gw.Transport().Call(ctx, budgetResource, "application/json", []byte(`{"year":2025}`))
	if err != nil {
		return err
	}
	fmt.Printf("6. NDRC called %s: %s (a signed dataResponse from %s)\n", budgetResource, body, resp.Sender)
	_, _, err = econ.gw.Transport().Call(ctx, budgetResource, "application/json", []byte(`{"year":2025}`))
	var se *exchange.SendError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden {
		return fmt.Errorf("a call without a grant was not refused: %v", err)
	}
	fmt.Printf("   the economy commission, without a grant, is refused: %d %s\n", se.Status, se.Problem.Rule)

	// Every node's audit log verifies.
	for _, d := range depts {
		entries, err := d.gw.Store().Audit(ctx)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := exchange.WriteAudit(&buf, entries); err != nil {
			return err
		}
		n, err := exchange.VerifyAudit(&buf)
		if err != nil {
			return fmt.Errorf("%s's audit log: %w", d.organ.Name, err)
		}
		fmt.Printf("7. %s: audit log of %d entries, chain intact\n", d.organ.Name, n)
	}
	fmt.Println("paperless-exchange: all steps passed")
	return nil
}
