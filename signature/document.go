package signature

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature/jcs"
)

// SignaturesMember is the top-level member of a signed JSON document that
// holds its seals: an array of flattened detached JWS objects
// ([Signature]). Each seal covers the canonical form (RFC 8785) of the
// document with this member removed, so seals are independent of one
// another and a joint document (联合行文) carries one per issuing organ.
const SignaturesMember = "signatures"

// Limits of the documents that [SealDocument] and [VerifyDocument] read:
// 4 MiB, 64 levels of nesting, 64 seals.
const (
	MaxDocumentBytes = jcs.DefaultMaxBytes
	MaxDocumentDepth = jcs.DefaultMaxDepth
	// MaxSeals bounds the seals of one document, so that a document cannot
	// make its verifier check an unbounded number of signatures.
	MaxSeals = 64
)

// SealDocument returns doc, a JSON object, with one more seal by s appended
// to its signatures array (created if absent). The rest of the document's
// bytes are kept as they are; only the array changes. The new seal signs
// the SHA-256 of the canonical form of doc without its signatures member
// (see the package documentation for the header).
func SealDocument(doc []byte, s *Signer) ([]byte, error) {
	c := canonicalizers.Get().(*jcs.Canonicalizer)
	defer canonicalizers.Put(c)
	canon, sigs, err := c.AppendWithout(make([]byte, 0, len(doc)), doc, SignaturesMember)
	if err != nil {
		return nil, &MalformedError{Field: "document", Reason: "not a strict JSON object", Err: err}
	}
	if sigs != nil && sigs[0] != '[' {
		return nil, &MalformedError{Field: SignaturesMember, Reason: "expected an array of signature objects"}
	}
	sig, err := s.Sign(canon)
	if err != nil {
		return nil, err
	}
	return spliceSignature(doc, sig.appendJSON(nil), c)
}

// canonicalizers keep canonicalisation buffers between documents.
var canonicalizers = sync.Pool{New: func() any { return new(jcs.Canonicalizer) }}

// spliceSignature inserts entry at the end of doc's top-level signatures
// array, or adds the member, using the spans c found while canonicalising.
func spliceSignature(doc, entry []byte, c *jcs.Canonicalizer) ([]byte, error) {
	start, end, objEnd := c.RemovedSpan()
	var insertAt int
	var prefix, suffix string
	if start >= 0 {
		insertAt = end - 1 // the array's ']'
		if hasElements(doc[start+1 : insertAt]) {
			prefix = ","
		}
	} else {
		insertAt = objEnd
		prefix, suffix = `"`+SignaturesMember+`":[`, "]"
		if hasMembers(doc[:insertAt]) {
			prefix = "," + prefix
		}
	}
	out := make([]byte, 0, len(doc)+len(entry)+len(prefix)+len(suffix))
	out = append(out, doc[:insertAt]...)
	out = append(out, prefix...)
	out = append(out, entry...)
	out = append(out, suffix...)
	out = append(out, doc[insertAt:]...)
	return out, nil
}

// hasElements reports whether the text between an array's brackets holds
// anything but white space.
func hasElements(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return true
	}
	return false
}

// hasMembers reports whether the object text before its closing brace has
// any member, by looking for the last non-space byte.
func hasMembers(b []byte) bool {
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return false
		}
		return true
	}
	return false
}

// Policy says what a document's seals must satisfy beyond each being
// valid.
//
// The multi-signature rule is per issuer: a document is valid only if it
// has at least one seal, every seal it carries is valid (one bad seal
// fails the document: a seal is never silently ignored), every seal names
// an identity that its certificate confirms, and each organ in
// RequiredIssuers has at least one valid seal whose identity has the same
// name and the same unified social credit code. Removing one organ's seal
// from a joint document therefore fails verification when that organ is
// required.
type Policy struct {
	// RequiredIssuers are the organs each of which must have a valid seal,
	// usually the document's issuers (发文机关).
	RequiredIssuers []Identity
}

// SealResult is the outcome for one entry of a document's signatures.
type SealResult struct {
	// Index is the entry's position in the signatures array.
	Index int
	// Identity is the seal identity named in the header (confirmed by the
	// certificate when Err is nil).
	Identity Identity
	// Algorithm is the signature algorithm, from the certificate's key.
	Algorithm Algorithm
	// SigningTime is the signer's claimed signing time.
	SigningTime time.Time
	// Certificate is the seal certificate, if it could be read.
	Certificate *x509.Certificate
	// Chain is the verified chain, seal certificate first.
	Chain []*x509.Certificate
	// Err is nil for a valid seal.
	Err error
}

// Report is the outcome of [VerifyDocument].
type Report struct {
	// Seals has one result per entry of the signatures array, in order.
	Seals []SealResult
	// Missing lists the required issuers without a valid seal.
	Missing []Identity
	// Err is the document's verdict, as returned by VerifyDocument.
	Err error
}

// Valid reports whether the document's seals are valid and the policy
// holds.
func (r *Report) Valid() bool { return r != nil && r.Err == nil }

// VerifyDocument verifies every seal of doc with v and applies policy
// (see [Policy] for the rule). It returns a report in every case except
// a document that cannot be read, and an error that is nil only if the
// document is valid: the errors.Join of a [*SealError] per invalid seal, a
// [*MissingSealError] per missing issuer, or [ErrNoSeals].
func VerifyDocument(ctx context.Context, doc []byte, v *Verifier, policy Policy) (*Report, error) {
	c := canonicalizers.Get().(*jcs.Canonicalizer)
	canon, sigsRaw, err := c.AppendWithout(make([]byte, 0, len(doc)), doc, SignaturesMember)
	canonicalizers.Put(c)
	if err != nil {
		return nil, &MalformedError{Field: "document", Reason: "not a strict JSON object", Err: err}
	}
	rep := &Report{}
	if sigsRaw == nil {
		rep.Err = ErrNoSeals
		return rep, rep.Err
	}
	tree, err := strictjson.Parse(sigsRaw, strictjson.Limits{MaxBytes: MaxDocumentBytes, MaxDepth: MaxDocumentDepth})
	if err != nil {
		return nil, &MalformedError{Field: SignaturesMember, Reason: "not strict JSON", Err: err}
	}
	entries, ok := tree.([]any)
	if !ok {
		return nil, &MalformedError{Field: SignaturesMember, Reason: "expected an array of signature objects"}
	}
	if len(entries) == 0 {
		rep.Err = ErrNoSeals
		return rep, rep.Err
	}
	if len(entries) > MaxSeals {
		return nil, &MalformedError{Field: SignaturesMember, Reason: fmt.Sprintf("%d seals; at most %d are verified", len(entries), MaxSeals)}
	}
	inputs := make([]sealInput, len(entries))
	for i, e := range entries {
		inputs[i].sig, inputs[i].err = signatureFromTree(e)
	}
	rep = v.verifySeals(ctx, sha256.Sum256(canon), inputs, policy)
	return rep, rep.Err
}

// VerifySeals verifies already-parsed seals over payload, the bytes they
// sign (for a document, its canonical form without the signatures
// member, as [jcs.Canonicalizer.AppendWithout] gives it), and applies
// policy with the rule of [Policy]. It is [VerifyDocument] for callers that
// hold the document as a structure: the result and the error are the same.
func VerifySeals(ctx context.Context, payload []byte, seals []Signature, v *Verifier, policy Policy) (*Report, error) {
	inputs := make([]sealInput, len(seals))
	for i, s := range seals {
		inputs[i].sig = s
	}
	if len(seals) > MaxSeals {
		return nil, &MalformedError{Field: SignaturesMember, Reason: fmt.Sprintf("%d seals; at most %d are verified", len(seals), MaxSeals)}
	}
	rep := v.verifySeals(ctx, sha256.Sum256(payload), inputs, policy)
	return rep, rep.Err
}

type sealInput struct {
	sig Signature
	err error // a parse error, reported as the seal's error
}

func (v *Verifier) verifySeals(ctx context.Context, digest [32]byte, inputs []sealInput, policy Policy) *Report {
	rep := &Report{}
	if len(inputs) == 0 {
		rep.Err = ErrNoSeals
		return rep
	}
	var errs []error
	for i, in := range inputs {
		res := SealResult{Index: i}
		err := in.err
		if err == nil {
			var vd *Verified
			vd, err = v.verifyDigest(ctx, in.sig, digest)
			res.Identity, res.Algorithm, res.SigningTime = vd.Identity, vd.Algorithm, vd.SigningTime
			res.Certificate, res.Chain = vd.Certificate, vd.Chain
			if err == nil && vd.Identity.IsZero() {
				err = fmt.Errorf("%w: the seal names no organ (no \"seal\" header)", ErrIdentity)
			}
		}
		if err != nil {
			res.Err = err
			errs = append(errs, &SealError{Index: i, Err: err})
		}
		rep.Seals = append(rep.Seals, res)
	}
	for _, want := range policy.RequiredIssuers {
		found := false
		for _, s := range rep.Seals {
			if s.Err == nil && s.Identity == want {
				found = true
				break
			}
		}
		if !found {
			rep.Missing = append(rep.Missing, want)
			errs = append(errs, &MissingSealError{Identity: want})
		}
	}
	rep.Err = errors.Join(errs...)
	return rep
}
