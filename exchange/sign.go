package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
)

// envelopePayload returns what an envelope's signature signs: the RFC 8785
// canonical form of its JSON without the signature member.
func envelopePayload(e *Envelope) ([]byte, error) {
	data, err := Marshal(e)
	if err != nil {
		return nil, err
	}
	var c jcs.Canonicalizer
	out, _, err := c.AppendWithout(nil, data, "signature")
	return out, err
}

// SignEnvelope validates e and signs it with the sending node's key,
// replacing any signature it had.
func SignEnvelope(e *Envelope, s *signature.Signer) error {
	e.Signature = nil
	if err := Validate(e); err != nil {
		return err
	}
	return signEnvelope(e, s)
}

// signEnvelope signs e without validating it first: for the receipts this
// package builds itself, from an envelope it verified and a receipt it
// marshalled, which every recipient validates in full.
func signEnvelope(e *Envelope, s *signature.Signer) error {
	e.Signature = nil
	payload, err := envelopePayload(e)
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
	var ds docdoc.Signature
	if err := json.Unmarshal(raw, &ds); err != nil {
		return err
	}
	e.Signature = &ds
	return nil
}

// Reasons an envelope is refused by [VerifyEnvelope]; each is wrapped in a
// *RefusalError that says why.
var (
	ErrUnknownSender  = errors.New("exchange: the sender is not in the directory")
	ErrSenderCert     = errors.New("exchange: the envelope is not signed with the sender's registered certificate")
	ErrBadSignature   = errors.New("exchange: the envelope's signature does not verify")
	ErrUnsigned       = errors.New("exchange: the envelope is not signed")
	ErrExpired        = errors.New("exchange: the message has expired")
	ErrNotForThisNode = errors.New("exchange: this node is not a recipient")
	// ErrRevocationUnavailable: this node cannot tell whether the signing
	// certificate is revoked (its verifier requires revocation information
	// and has no usable CRL or OCSP response for it). The node's own lack,
	// so the refusal is not final.
	ErrRevocationUnavailable = errors.New("exchange: the signing certificate's revocation status is unavailable here")
)

// RefusalError is why a node refuses a message: a stable rule id for the
// negative receipt, the reason (one of the Err values above, for
// errors.Is) and the detail.
type RefusalError struct {
	Rule   string
	Reason error
	Detail string
}

// Error implements error.
func (e *RefusalError) Error() string {
	if e.Detail == "" {
		return e.Reason.Error()
	}
	return e.Reason.Error() + ": " + e.Detail
}

// Unwrap returns the reason.
func (e *RefusalError) Unwrap() error { return e.Reason }

func refuse(rule string, reason error, format string, args ...any) error {
	return &RefusalError{Rule: rule, Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// VerifyEnvelope checks, for the node self, a message received: its sender
// node is in the directory; its signature verifies under v's trust anchors
// with exactly the signing certificate the directory registers for that
// node (so a valid certificate of another node, or of another organ, is
// refused); it has not expired at now; and self is among its recipients.
// A signature that does not verify because its certificate is revoked,
// expired or not yet valid is refused with ErrBadSignature under its own
// rule (exchange.refused.certificate-revoked, -expired, -not-yet-valid);
// one whose revocation status v cannot establish is ErrRevocationUnavailable.
// Checks of grants and payloads belong to the kinds' handlers.
func VerifyEnvelope(ctx context.Context, e *Envelope, dir *Directory, v *signature.Verifier, self Party, now time.Time) error {
	node := dir.Node(e.Sender)
	if node == nil {
		return refuse("exchange.refused.unknown-sender", ErrUnknownSender, "%s", e.Sender)
	}
	if e.Signature == nil {
		return refuse("exchange.refused.unsigned", ErrUnsigned, "message %s", e.ID)
	}
	payload, err := envelopePayload(e)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(e.Signature)
	if err != nil {
		return err
	}
	sig, err := signature.ParseSignature(raw)
	if err != nil {
		return refuse("exchange.refused.signature", ErrBadSignature, "%v", err)
	}
	ver, err := v.Verify(ctx, sig, payload)
	switch {
	case errors.Is(err, signature.ErrRevocationCheck):
		return refuse("exchange.refused.revocation-unavailable", ErrRevocationUnavailable, "%v", err)
	case errors.Is(err, signature.ErrRevoked):
		return refuse("exchange.refused.certificate-revoked", ErrBadSignature, "%v", err)
	case errors.Is(err, signature.ErrExpired):
		return refuse("exchange.refused.certificate-expired", ErrBadSignature, "%v", err)
	case errors.Is(err, signature.ErrNotYetValid):
		return refuse("exchange.refused.certificate-not-yet-valid", ErrBadSignature, "%v", err)
	case err != nil:
		return refuse("exchange.refused.signature", ErrBadSignature, "%v", err)
	}
	if !bytes.Equal(ver.Certificate.Raw, node.SigningCertificate) {
		return refuse("exchange.refused.sender-certificate", ErrSenderCert, "signed by %q, registered for %s is %q", ver.Certificate.Subject, e.Sender, node.SigningCert().Subject)
	}
	if e.Expired(now) {
		return refuse("exchange.refused.expired", ErrExpired, "message %s expired at %s", e.ID, e.Expires.Format(time.RFC3339))
	}
	for _, r := range e.Recipients {
		if r == self {
			return nil
		}
	}
	return refuse("exchange.refused.not-recipient", ErrNotForThisNode, "message %s is for %v, this node is %s", e.ID, e.Recipients, self)
}
