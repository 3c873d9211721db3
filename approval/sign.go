package approval

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/egovkit/egovkit/signature"
)

// EventSigner signs an event's canonical form with the actor's key
// (签名). A *signature.Signer is one; an embedding system whose keys live
// in a signing server or on the user's token implements it over that.
type EventSigner interface {
	Sign(payload []byte) (signature.Signature, error)
}

// CertificateOwner says whether a certificate, already verified to a
// trust anchor, is the actor's: the link between a user id of the
// embedding system and a key that the signature package cannot make.
type CertificateOwner interface {
	OwnsCertificate(ctx context.Context, actor string, cert *x509.Certificate) (bool, error)
}

// PinnedCertificates is a CertificateOwner from a fixed list: each user's
// certificates, compared byte for byte.
type PinnedCertificates map[string][]*x509.Certificate

// OwnsCertificate implements CertificateOwner.
func (p PinnedCertificates) OwnsCertificate(_ context.Context, actor string, cert *x509.Certificate) (bool, error) {
	for _, c := range p[actor] {
		if c.Equal(cert) {
			return true, nil
		}
	}
	return false, nil
}

// SignaturePolicy is how an engine checks signed decisions (签名的决定):
// the signature must verify with Verifier over the event's canonical form
// ([Event.Canonical], which marks the event as signed, so a signature
// cannot be stripped or added afterwards without breaking the hash
// chain), and its certificate must be the actor's, as Owners says.
// Require lists event types that must be signed (all of them decision
// types, [EventType.IsDecision]); others may be.
type SignaturePolicy struct {
	Verifier *signature.Verifier
	Owners   CertificateOwner
	Require  []EventType
}

func (p *SignaturePolicy) check() error {
	if p.Verifier == nil || p.Owners == nil {
		return errors.New("approval: a SignaturePolicy needs a Verifier and Owners (who holds which certificate)")
	}
	for _, t := range p.Require {
		if !t.IsDecision() {
			return fmt.Errorf("approval: SignaturePolicy.Require: %s events are not decisions and are never signed", t)
		}
	}
	return nil
}

// Rule ids of signature problems in a stored log.
const (
	RuleSignatureInvalid    = "approval.signature.invalid"    // does not verify, or not the actor's
	RuleSignatureMissing    = "approval.signature.missing"    // a signed or required event without one
	RuleSignatureUnexpected = "approval.signature.unexpected" // a signature on an event not marked signed
	RuleSignatureUnverified = "approval.signature.unverified" // no policy to verify it with
)

// ErrSignature matches every [*SignatureError] with errors.Is.
var ErrSignature = errors.New("approval: event signature")

// SignatureError is a signed event of a stored log that does not hold:
// which event, which rule, and why. It matches [ErrSignature].
type SignatureError struct {
	CaseID string
	Seq    int
	Rule   string
	Reason string
	Err    error
}

// Error implements error.
func (e *SignatureError) Error() string {
	return fmt.Sprintf("approval: case %s: event %d: %s: %s", e.CaseID, e.Seq, e.Rule, e.Reason)
}

// Is reports whether target is [ErrSignature].
func (e *SignatureError) Is(target error) bool { return target == ErrSignature }

// Unwrap returns the cause.
func (e *SignatureError) Unwrap() error { return e.Err }

// EncodeSignature writes a detached JWS in compact form with the empty
// payload (RFC 7515 appendix F): PROTECTED..SIGNATURE, as Event.Signature
// holds it. An unprotected header is not kept.
func EncodeSignature(s signature.Signature) string {
	return s.Protected + ".." + s.Signature
}

// DecodeSignature reads what EncodeSignature writes.
func DecodeSignature(s string) (signature.Signature, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || parts[1] != "" || parts[0] == "" || parts[2] == "" {
		return signature.Signature{}, errors.New("not a detached compact JWS (PROTECTED..SIGNATURE)")
	}
	return signature.Signature{Protected: parts[0], Signature: parts[2]}, nil
}

// verify checks a signature over payload and that its certificate is the
// actor's.
func (p *SignaturePolicy) verify(ctx context.Context, actor string, sig signature.Signature, payload []byte) error {
	v, err := p.Verifier.Verify(ctx, sig, payload)
	if err != nil {
		return err
	}
	ok, err := p.Owners.OwnsCertificate(ctx, actor, v.Certificate)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("certificate %q is not %s's", v.Certificate.Subject.String(), actor)
	}
	return nil
}

func (p *SignaturePolicy) required(t EventType) bool {
	return p != nil && slices.Contains(p.Require, t)
}

// sign signs a new event when the command carries a signer, and checks
// the signature before anything is stored.
func (e *Engine) sign(ctx context.Context, c *Case, cmd *Command, ev *Event) error {
	k := cmd.Kind
	if cmd.Signer == nil {
		if e.sigs.required(ev.Type) {
			return refuse(k, RuleSignatureRequired, "%s events must be signed with the actor's key", ev.Type)
		}
		return nil
	}
	if !ev.Type.IsDecision() {
		return refuse(k, RuleInvalid, "%s events are not decisions and are not signed", ev.Type)
	}
	if e.sigs == nil {
		return refuse(k, RuleBadSignature, "the engine has no SignaturePolicy to verify the signature with")
	}
	ev.Signed, ev.PrevHash = true, c.Head
	payload, err := ev.Canonical()
	if err != nil {
		return err
	}
	sig, err := cmd.Signer.Sign(payload)
	if err != nil {
		return &CommandError{Rule: RuleBadSignature, Command: k, Message: "signing failed: " + err.Error(), Err: err}
	}
	if err := e.sigs.verify(ctx, cmd.Actor, sig, payload); err != nil {
		return &CommandError{Rule: RuleBadSignature, Command: k, Message: err.Error(), Err: err}
	}
	ev.Signature = EncodeSignature(sig)
	return nil
}

// VerifySignatures checks the signatures of a case's log under policy:
// every event marked signed carries a signature that verifies over its
// canonical form with a certificate of its actor; no event carries a
// signature it is not marked for; every event of a required type is
// signed. With a nil policy a log with signed events fails with
// RuleSignatureUnverified. The first problem is a [*SignatureError].
func VerifySignatures(ctx context.Context, events []Event, policy *SignaturePolicy) error {
	for i := range events {
		ev := &events[i]
		fail := func(rule, reason string, err error) error {
			return &SignatureError{CaseID: ev.CaseID, Seq: ev.Seq, Rule: rule, Reason: reason, Err: err}
		}
		switch {
		case !ev.Signed && ev.Signature != "":
			return fail(RuleSignatureUnexpected, "carries a signature but its hashed content does not say it is signed", nil)
		case !ev.Signed && policy.required(ev.Type):
			return fail(RuleSignatureMissing, string(ev.Type)+" events must be signed", nil)
		case !ev.Signed:
			continue
		case ev.Signature == "":
			return fail(RuleSignatureMissing, "is marked signed but its signature is gone", nil)
		case policy == nil:
			return fail(RuleSignatureUnverified, "is signed, and no SignaturePolicy was given to verify it", nil)
		}
		sig, err := DecodeSignature(ev.Signature)
		if err != nil {
			return fail(RuleSignatureInvalid, err.Error(), err)
		}
		payload, err := ev.Canonical()
		if err != nil {
			return fail(RuleSignatureInvalid, err.Error(), err)
		}
		if err := policy.verify(ctx, ev.Actor, sig, payload); err != nil {
			return fail(RuleSignatureInvalid, err.Error(), err)
		}
	}
	return nil
}
