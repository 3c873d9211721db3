// Command quickstart is egovkit's main demo: two departments issue a joint
// notice (联合行文), each seals it (one Ed25519, one SM2 seal), it is packed
// with an attachment into a document package, and the receiving department
// unpacks it and verifies the document, its attachment and both seals.
//
//	go run ./examples/quickstart
//
// It works in a fresh temporary directory, prints one line per step, and
// exits with status 1 if any step fails.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing/fstest"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart failed:", err)
		os.Exit(1)
	}
}

func run() error {
	work, err := os.MkdirTemp("", "egovkit-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// 1. Two departments draft a joint notice. Their unified social credit
	// identifiers are made up for the demo, with valid check characters.
	ndrc := docdoc.Organ{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"}
	finance := docdoc.Organ{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}
	doc := docdoc.New(docdoc.TypeNotice)
	doc.Urgency = docdoc.UrgencyUrgent
	doc.Issuers = []docdoc.Organ{ndrc, finance}
	doc.DocNumber = docdoc.DocNumber{Code: "渝发改投", Year: 2025, Seq: 128}.String()
	doc.Title = "重庆市发展和改革委员会 重庆市财政局关于做好2025年政府投资项目资金保障工作的通知"
	doc.MainRecipients = []docdoc.Organ{{Name: "各区县（自治县）发展改革委、财政局"}}
	doc.Body = docdoc.Body{MediaType: "text/plain", Text: "为加强政府投资项目资金保障，现就有关事项通知如下：……"}
	doc.AttachmentNotes = []string{"1．2025年政府投资项目资金安排表"}
	doc.Attachments = []docdoc.Attachment{{Name: "2025年政府投资项目资金安排表.csv", MediaType: "text/csv"}}
	doc.Signatory = []string{ndrc.Name, finance.Name}
	doc.Date = "2025-03-18"
	doc.CC = []docdoc.Organ{{Name: "重庆市审计局"}}
	doc.PrintedBy = "重庆市发展和改革委员会办公室"
	doc.PrintDate = "2025-03-19"
	fmt.Printf("1. drafted %s %s (%s), jointly issued by %s and %s\n", doc.Type.Chinese(), doc.DocNumber, doc.ID, ndrc.Name, finance.Name)

	// 2. Each issuer seals it (印章): the NDRC with Ed25519, the finance
	// bureau with SM2/SM3, each under its own test CA.
	ndrcSeal, ndrcRoot, err := sealer(pki.Ed25519, ndrc)
	if err != nil {
		return err
	}
	financeSeal, financeRoot, err := sealer(pki.SM2, finance)
	if err != nil {
		return err
	}
	files := fstest.MapFS{"attachments/2025年政府投资项目资金安排表.csv": {Data: []byte("项目,区县,金额（万元）\n城市道路改造,渝中区,1200\n")}}
	if err := docdoc.CompleteFiles(doc, files); err != nil { // seals cover the attachments' digests
		return err
	}
	for _, s := range []*signature.Signer{ndrcSeal, financeSeal} {
		if err := docdoc.Seal(doc, s); err != nil {
			return fmt.Errorf("seal: %w", err)
		}
	}
	fmt.Printf("2. sealed by both issuers: %s (%s) and %s (%s)\n", ndrc.Name, ndrcSeal.Algorithm(), finance.Name, financeSeal.Algorithm())

	// 3. Pack it with its attachment.
	var pkg bytes.Buffer
	if err := docdoc.Pack(&pkg, doc, files); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	pkgPath := filepath.Join(work, "joint-notice.egd")
	if err := os.WriteFile(pkgPath, pkg.Bytes(), 0o644); err != nil {
		return err
	}
	a := doc.Attachments[0]
	fmt.Printf("3. packed %d bytes: document.json and attachments/%s (%d bytes, %s %.16s…)\n", pkg.Len(), a.Name, a.Size, a.Digest.Alg, a.Digest.Value)

	// 4. The receiving department unpacks it: structure, document and
	// digests are all checked before anything is written; then every
	// issuer's seal is verified against the trusted roots.
	out := filepath.Join(work, "received")
	got, err := docdoc.Unpack(bytes.NewReader(pkg.Bytes()), int64(pkg.Len()), out, docdoc.PackageLimits{})
	if err != nil {
		return fmt.Errorf("unpack: %w", err)
	}
	fmt.Printf("4. unpacked and checked: %s, %d attachment(s), main recipient %s\n", got.Title, len(got.Attachments), got.MainRecipients[0].Name)
	verifier, err := signature.NewVerifier([]*x509.Certificate{ndrcRoot, financeRoot})
	if err != nil {
		return err
	}
	report, err := docdoc.VerifySeals(context.Background(), got, verifier, docdoc.SealPolicy{RequireIssuerSeals: true})
	if err != nil {
		return fmt.Errorf("verify seals: %w", err)
	}
	for _, s := range report.Seals {
		fmt.Printf("   seal of %s: %s, signed %s, valid\n", s.Identity.Name, s.Algorithm, s.SigningTime.Format(time.RFC3339))
	}

	// 5. With one seal stripped, the joint document no longer verifies.
	stripped := *got
	stripped.Signatures = got.Signatures[:1]
	if _, err := docdoc.VerifySeals(context.Background(), &stripped, verifier, docdoc.SealPolicy{RequireIssuerSeals: true}); err == nil {
		return errors.New("a joint document with a stripped seal verified")
	}
	fmt.Println("5. with the finance bureau's seal stripped, verification fails: every issuer must seal")

	// 6. A copy with a badly written document number is refused, with the
	// rule and the right form.
	bad := *doc
	bad.Signatures = nil
	bad.DocNumber = "渝发改投[2025]第128号"
	var ve *docdoc.ValidationError
	if err := docdoc.Validate(&bad); !errors.As(err, &ve) {
		return fmt.Errorf("a malformed document number was accepted: %v", err)
	}
	fmt.Printf("6. validation refuses %q with %d violations, e.g. %s\n", bad.DocNumber, len(ve.Violations), ve.Violations[0].Rule)

	// 7. A package whose attachment was altered in transit is refused.
	tampered, err := alterAttachment(pkg.Bytes(), "1200", "9200")
	if err != nil {
		return err
	}
	_, err = docdoc.Unpack(bytes.NewReader(tampered), int64(len(tampered)), filepath.Join(work, "tampered"), docdoc.PackageLimits{})
	var pe *docdoc.PackageError
	if !errors.As(err, &pe) {
		return fmt.Errorf("an altered package was accepted: %v", err)
	}
	fmt.Printf("7. a package whose attachment was altered in transit is refused: %s\n", pe.Rule)
	fmt.Println("quickstart: all steps passed")
	return nil
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

// sealer makes a test PKI (root, intermediate, seal certificate) for an
// organ and returns its signer and root certificate.
func sealer(alg pki.KeyAlgorithm, o docdoc.Organ) (*signature.Signer, *x509.Certificate, error) {
	tc, err := pki.NewTestChain(alg, signature.Identity{Name: o.Name, OrgID: o.OrgID}, pki.Options{})
	if err != nil {
		return nil, nil, err
	}
	s, err := tc.Signer()
	if err != nil {
		return nil, nil, err
	}
	return s, tc.Root.Certificate, nil
}
