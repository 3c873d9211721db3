package signature_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
	"github.com/egovkit/egovkit/signature/pki"
)

// FuzzParseSignature checks that parsing a signature object never panics
// and fails only with the package's typed errors.
func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{
		`{"protected":"eyJhbGciOiJFZERTQSJ9","signature":"AA"}`,
		`{"protected":"eyJ9","signature":"AA","header":{"kid":"k","etsiU":[{"sigTst":"x"}]}}`,
		`{"protected":"eyJ9","signature":"AA","payload":""}`,
		`{"protected":"a","protected":"b"}`,
		`{"header":{"jwk":{}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := signature.ParseSignature(data)
		if err != nil && !errors.Is(err, signature.ErrMalformed) && !errors.Is(err, signature.ErrHeader) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
	})
}

// FuzzVerifyDocument mutates a sealed joint notice. Verification must never
// panic, every failure must be typed, and whenever a mutated document still
// verifies, what its seals signed must be exactly what was sealed: the
// canonical form of the document without signatures is unchanged.
func FuzzVerifyDocument(f *testing.F) {
	gov, err := pki.NewTestChain(pki.Ed25519, orgGov, pki.Options{NotBefore: now.AddDate(-1, 0, 0)})
	if err != nil {
		f.Fatal(err)
	}
	fin, err := pki.NewTestChain(pki.SM2, orgFinance, pki.Options{NotBefore: now.AddDate(-1, 0, 0)})
	if err != nil {
		f.Fatal(err)
	}
	sg, _ := gov.Signer(signature.WithSigningClock(clockAt(now)))
	sf, _ := fin.Signer(signature.WithSigningClock(clockAt(now)))
	doc, err := signature.SealDocument([]byte(jointNotice), sg)
	if err != nil {
		f.Fatal(err)
	}
	doc, err = signature.SealDocument(doc, sf)
	if err != nil {
		f.Fatal(err)
	}
	var c jcs.Canonicalizer
	want, _, err := c.AppendWithout(nil, doc, "signatures")
	if err != nil {
		f.Fatal(err)
	}
	v, err := signature.NewVerifier([]*x509.Certificate{gov.Root.Certificate, fin.Root.Certificate}, signature.WithClock(clockAt(now)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(doc)
	f.Add([]byte(`{"signatures":[{"protected":"eyJhbGciOiJub25lIn0","signature":"AA"}]}`))
	f.Add([]byte(`{"signatures":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := signature.VerifyDocument(ctx, data, v, bothIssuers)
		if err == nil {
			got, _, cerr := c.AppendWithout(nil, data, "signatures")
			if cerr != nil || !bytes.Equal(got, want) {
				t.Fatalf("a changed document verified: %q", data)
			}
			return
		}
		if rep == nil {
			if !errors.Is(err, signature.ErrMalformed) {
				t.Fatalf("untyped document error %T: %v", err, err)
			}
			return
		}
		for _, s := range rep.Seals {
			if s.Err == nil {
				continue
			}
			if !anyIs(s.Err, signature.ErrMalformed, signature.ErrHeader, signature.ErrAlgorithm, signature.ErrBadSignature,
				signature.ErrHeaderTooLarge, signature.ErrIdentity, signature.ErrUnknownRoot, signature.ErrChain, signature.ErrExpired,
				signature.ErrNotYetValid, signature.ErrKeyUsage, signature.ErrSigningTime) {
				t.Fatalf("untyped seal error %T: %v", s.Err, s.Err)
			}
		}
	})
}

func anyIs(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}
