package signature_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
	"github.com/egovkit/egovkit/signature/pki"
)

// Seal a joint notice by both its issuers, one Ed25519 and one SM2 seal,
// and verify it with the policy that each issuer must have a valid seal.
func Example() {
	gov := signature.Identity{Name: "某某市人民政府", OrgID: "11110000000000001R"}
	fin := signature.Identity{Name: "某某市财政局", OrgID: "11310000000000002A"}
	govPKI, err := pki.NewTestChain(pki.Ed25519, gov, pki.Options{})
	if err != nil {
		panic(err)
	}
	finPKI, err := pki.NewTestChain(pki.SM2, fin, pki.Options{})
	if err != nil {
		panic(err)
	}
	doc := []byte(`{"title":"关于联合开展专项检查的通知","issuers":[
		{"name":"某某市人民政府","orgId":"11110000000000001R"},
		{"name":"某某市财政局","orgId":"11310000000000002A"}]}`)
	for _, c := range []*pki.TestChain{govPKI, finPKI} {
		s, err := c.Signer()
		if err != nil {
			panic(err)
		}
		if doc, err = signature.SealDocument(doc, s); err != nil {
			panic(err)
		}
	}

	v, err := signature.NewVerifier([]*x509.Certificate{govPKI.Root.Certificate, finPKI.Root.Certificate})
	if err != nil {
		panic(err)
	}
	rep, err := signature.VerifyDocument(context.Background(), doc, v, signature.Policy{RequiredIssuers: []signature.Identity{gov, fin}})
	fmt.Println("valid:", err == nil)
	for _, s := range rep.Seals {
		fmt.Println(s.Identity.Name, s.Identity.OrgID, s.Algorithm)
	}

	// Strip the bureau's seal: the policy fails.
	var m map[string]any
	_ = json.Unmarshal(doc, &m)
	m["signatures"] = m["signatures"].([]any)[:1]
	stripped, _ := json.Marshal(m)
	_, err = signature.VerifyDocument(context.Background(), stripped, v, signature.Policy{RequiredIssuers: []signature.Identity{gov, fin}})
	var missing *signature.MissingSealError
	fmt.Println("missing:", errors.As(err, &missing), missing.Identity.Name)
	// Output:
	// valid: true
	// 某某市人民政府 11110000000000001R EdDSA
	// 某某市财政局 11310000000000002A SM2-SM3
	// missing: true 某某市财政局
}

// Sign and verify a detached signature over arbitrary bytes.
func ExampleVerifier_Verify() {
	c, err := pki.NewTestChain(pki.P256, signature.Identity{Name: "某某市数据局", OrgID: "91350100M000100Y43"}, pki.Options{})
	if err != nil {
		panic(err)
	}
	s, _ := c.Signer()
	payload, _ := jcs.Canonicalize([]byte(`{"b":2,"a":1}`))
	sig, _ := s.Sign(payload)

	v, _ := signature.NewVerifier([]*x509.Certificate{c.Root.Certificate}, signature.WithAlgorithms(signature.ES256, signature.SM2SM3))
	got, err := v.Verify(context.Background(), sig, payload)
	fmt.Println(err, got.Algorithm, got.Identity.Name, len(got.Chain))

	_, err = v.Verify(context.Background(), sig, []byte(`{"a":1,"b":3}`))
	fmt.Println(errors.Is(err, signature.ErrBadSignature))
	// Output:
	// <nil> ES256 某某市数据局 3
	// true
}

// A revoked seal certificate invalidates every seal it made, whatever
// signing time the seal claims.
func ExampleWithCRLs() {
	c, _ := pki.NewTestChain(pki.Ed25519, signature.Identity{Name: "某某市人民政府", OrgID: "11110000000000001R"}, pki.Options{})
	s, _ := c.Signer()
	sig, _ := s.Sign([]byte(`{}`))
	der, _ := c.Intermediate.CreateCRL([]x509.RevocationListEntry{{SerialNumber: c.Cert.SerialNumber, RevocationTime: time.Now()}}, 1, time.Now(), time.Now().Add(24*time.Hour))
	crl, _ := signature.ParseCRL(der)
	v, _ := signature.NewVerifier([]*x509.Certificate{c.Root.Certificate}, signature.WithCRLs(crl),
		signature.WithClock(func() time.Time { return time.Now().Add(time.Minute) }))
	_, err := v.Verify(context.Background(), sig, []byte(`{}`))
	var rev *signature.RevokedError
	fmt.Println(errors.As(err, &rev), rev.Source)
	// Output: true crl
}
