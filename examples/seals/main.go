// Command seals seals a joint notice (联合行文) by both of its issuing
// organs, one with an Ed25519 seal and one with an SM2 seal, verifies it
// with the policy that every issuer must have a valid seal, and shows that
// re-indenting keeps it valid while tampering or stripping a seal does not.
//
//	go run ./examples/seals
package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

const notice = `{
  "title": "某某市人民政府 某某市财政局关于联合开展财政资金专项检查的通知",
  "docNumber": "某政发〔2026〕7号",
  "issuers": [
    {"name": "某某市人民政府", "orgId": "11110000000000001R"},
    {"name": "某某市财政局", "orgId": "11310000000000002A"}
  ],
  "body": "为加强财政资金监管，现就开展专项检查有关事项通知如下。……特此通知。",
  "date": "2026-05-31"
}`

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "seals:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	gov := signature.Identity{Name: "某某市人民政府", OrgID: "11110000000000001R"}
	fin := signature.Identity{Name: "某某市财政局", OrgID: "11310000000000002A"}

	// Each organ's seal certificate: root → intermediate → seal.
	govPKI, err := pki.NewTestChain(pki.Ed25519, gov, pki.Options{})
	if err != nil {
		return err
	}
	finPKI, err := pki.NewTestChain(pki.SM2, fin, pki.Options{})
	if err != nil {
		return err
	}

	doc := []byte(notice)
	for _, c := range []*pki.TestChain{govPKI, finPKI} {
		s, err := c.Signer()
		if err != nil {
			return err
		}
		if doc, err = signature.SealDocument(doc, s); err != nil {
			return err
		}
	}

	v, err := signature.NewVerifier([]*x509.Certificate{govPKI.Root.Certificate, finPKI.Root.Certificate})
	if err != nil {
		return err
	}
	policy := signature.Policy{RequiredIssuers: []signature.Identity{gov, fin}}
	rep, err := signature.VerifyDocument(ctx, doc, v, policy)
	if err != nil {
		return fmt.Errorf("the sealed notice does not verify: %w", err)
	}
	for _, s := range rep.Seals {
		fmt.Printf("seal %d: %s (%s) %s, signed %s: valid\n", s.Index+1, s.Identity.Name, s.Identity.OrgID, s.Algorithm, s.SigningTime.Format("2006-01-02 15:04:05Z07:00"))
	}

	var tree map[string]any
	if err := json.Unmarshal(doc, &tree); err != nil {
		return err
	}
	pretty, _ := json.MarshalIndent(tree, "", "\t")
	_, err = signature.VerifyDocument(ctx, pretty, v, policy)
	fmt.Println("re-indented and reordered:", verdict(err))

	tampered := strings.Replace(string(doc), "专项检查", "专项调研", 1)
	_, err = signature.VerifyDocument(ctx, []byte(tampered), v, policy)
	fmt.Println("one word changed:", verdict(err))

	tree["signatures"] = tree["signatures"].([]any)[:1]
	stripped, _ := json.Marshal(tree)
	_, err = signature.VerifyDocument(ctx, stripped, v, policy)
	fmt.Println("the bureau's seal stripped:", verdict(err))
	return nil
}

func verdict(err error) string {
	if err == nil {
		return "valid"
	}
	return "invalid (" + strings.ReplaceAll(err.Error(), "\n", "; ") + ")"
}
