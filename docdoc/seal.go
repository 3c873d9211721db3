package docdoc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
)

// ErrNotIssuer is returned by [Seal] for a signer whose seal identity is
// not one of the document's issuers: a 公文 carries the seals of the organs
// that issue it (GB/T 9704-2012 7.3.5, 印章).
var ErrNotIssuer = errors.New("docdoc: the seal's organ is not an issuer of the document")

// SealPolicy says what [VerifySeals] requires beyond every seal being valid.
type SealPolicy struct {
	// RequireIssuerSeals requires a valid seal of every organ in issuers
	// (its name and 统一社会信用代码), so that a joint document (联合行文)
	// with one organ's seal stripped fails.
	RequireIssuerSeals bool
}

// sealPayload returns the bytes every seal of doc signs: the RFC 8785
// canonical form of its JSON without the signatures member.
func sealPayload(doc *Document) ([]byte, error) {
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var c jcs.Canonicalizer
	payload, _, err := c.AppendWithout(nil, data, "signatures")
	return payload, err
}

// Seal validates doc and appends one seal (印章) by s to doc.Signatures: a
// detached JWS over the canonical form of the document without its
// signatures, so that seals are independent and a joint document carries
// one per issuer. The signer's seal identity must be one of the issuers
// ([ErrNotIssuer]).
func Seal(doc *Document, s *signature.Signer) error {
	if err := Validate(doc); err != nil {
		return err
	}
	id := s.Identity()
	if !isIssuer(doc, id) {
		return fmt.Errorf("%w: %s", ErrNotIssuer, id)
	}
	payload, err := sealPayload(doc)
	if err != nil {
		return err
	}
	sig, err := s.Sign(payload)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(sig)
	if err != nil {
		return err
	}
	var seal Signature
	if err := json.Unmarshal(raw, &seal); err != nil {
		return err
	}
	doc.Signatures = append(doc.Signatures, seal)
	return nil
}

func isIssuer(doc *Document, id signature.Identity) bool {
	for _, o := range doc.Issuers {
		if o.Name == id.Name && o.OrgID == id.OrgID {
			return true
		}
	}
	return false
}

// VerifySeals verifies every seal of doc with v and applies policy. The
// report has one result per seal (organ, algorithm, signing time, error);
// the error is nil only if every seal is valid, there is at least one, and
// the policy holds (see signature.Policy for the rule). doc should come
// from [Parse]: its JSON form is then exactly the signed one.
func VerifySeals(ctx context.Context, doc *Document, v *signature.Verifier, policy SealPolicy) (*signature.Report, error) {
	payload, err := sealPayload(doc)
	if err != nil {
		return nil, err
	}
	seals := make([]signature.Signature, len(doc.Signatures))
	for i, s := range doc.Signatures {
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		if seals[i], err = signature.ParseSignature(raw); err != nil {
			return nil, fmt.Errorf("docdoc: seal %d: %w", i, err)
		}
	}
	var p signature.Policy
	if policy.RequireIssuerSeals {
		for _, o := range doc.Issuers {
			p.RequiredIssuers = append(p.RequiredIssuers, signature.Identity{Name: o.Name, OrgID: o.OrgID})
		}
	}
	return signature.VerifySeals(ctx, payload, seals, v, p)
}
