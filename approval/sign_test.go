package approval

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// signers holds test keys: head1's and rev1's, under one trusted root,
// and a stranger's under a root nobody trusts.
type signers struct {
	head, rev, stranger *signature.Signer
	policy              *SignaturePolicy
}

func newSigners(t *testing.T, clock func() time.Time) *signers {
	t.Helper()
	opt := pki.Options{NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	id := signature.Identity{Name: "重庆市市场监督管理局", OrgID: "11500000MB1541240B"}
	trusted, err := pki.NewTestChain(pki.Ed25519, id, opt)
	require.NoError(t, err)
	revKey, err := pki.GenerateKey(pki.Ed25519)
	require.NoError(t, err)
	revCert, err := trusted.Intermediate.IssueSeal(revKey.Public(), id, opt)
	require.NoError(t, err)
	other, err := pki.NewTestChain(pki.Ed25519, id, opt)
	require.NoError(t, err)
	s := &signers{}
	s.head, err = trusted.Signer(signature.WithSigningClock(clock))
	require.NoError(t, err)
	s.rev, err = signature.NewSigner(revKey, []*x509.Certificate{revCert, trusted.Intermediate.Certificate}, signature.WithSigningClock(clock))
	require.NoError(t, err)
	s.stranger, err = other.Signer(signature.WithSigningClock(clock))
	require.NoError(t, err)
	v, err := signature.NewVerifier([]*x509.Certificate{trusted.Root.Certificate}, signature.WithClock(func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }))
	require.NoError(t, err)
	s.policy = &SignaturePolicy{
		Verifier: v,
		Owners:   PinnedCertificates{"head1": {trusted.Cert}, "rev1": {revCert}},
		Require:  []EventType{EventDecided},
	}
	return s
}

// forger signs other bytes than it is given.
type forger struct{ s *signature.Signer }

func (f forger) Sign(payload []byte) (signature.Signature, error) {
	return f.s.Sign(append([]byte("x"), payload...))
}

type failingSigner struct{}

func (failingSigner) Sign([]byte) (signature.Signature, error) {
	return signature.Signature{}, errors.New("token removed")
}

func signedHarness(t *testing.T) (*harness, *signers) {
	h := newHarness(t, sampleDef(t), nil)
	s := newSigners(t, h.clock.Now)
	e, err := New(Config{Store: h.store, Directory: h.dir, Clock: h.clock.Now, Signatures: s.policy}, h.def)
	require.NoError(t, err)
	h.e = e
	return h, s
}

func TestSignedDecisions(t *testing.T) {
	t.Parallel()
	h, s := signedHarness(t)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	h.refused(RuleInvalid, Command{Kind: CmdComment, Actor: "rev1", Comment: "看过", Signer: s.rev})
	c := h.must(Command{Kind: CmdApprove, Actor: "rev1", Signer: s.rev})
	require.Equal(t, "decide", c.Step)

	for _, tc := range []struct {
		name   string
		signer EventSigner
		rule   string
	}{
		{"unsigned, where the policy requires a signature", nil, RuleSignatureRequired},
		{"another user's key", s.rev, RuleBadSignature},
		{"a key no trusted root vouches for", s.stranger, RuleBadSignature},
		{"a signature over other bytes", forger{s.head}, RuleBadSignature},
		{"a signer that fails", failingSigner{}, RuleBadSignature},
	} {
		h.refused(tc.rule, Command{Kind: CmdDecide, Actor: "head1", Decision: Granted, Signer: tc.signer})
	}
	_, err := h.do(Command{Kind: CmdDecide, Actor: "head1", Decision: Granted, Signer: forger{s.head}})
	assert.ErrorIs(t, err, ErrBadSignature)
	assert.ErrorIs(t, err, signature.ErrBadSignature, "the signature package's error is the cause")

	c = h.must(Command{Kind: CmdDecide, Actor: "head1", Decision: Granted, Reason: "符合年检条件", Signer: s.head})
	assert.Equal(t, StatusGranted, c.Status)
	events, err := h.e.History(h.ctx, h.id)
	require.NoError(t, err)
	last := events[len(events)-1]
	assert.True(t, last.Signed)
	sig, err := DecodeSignature(last.Signature)
	require.NoError(t, err)
	payload, err := last.Canonical()
	require.NoError(t, err)
	_, err = s.policy.Verifier.Verify(h.ctx, sig, payload)
	require.NoError(t, err, "a detached JWS over the event's canonical form")
	require.NoError(t, h.e.Verify(h.ctx, h.id))
	h.checkReplay()

	plain, err := New(Config{Store: h.store, Directory: h.dir, Clock: h.clock.Now}, h.def)
	require.NoError(t, err)
	var se *SignatureError
	require.True(t, errors.As(plain.Verify(h.ctx, h.id), &se), "a signed log needs a policy to verify")
	assert.Equal(t, RuleSignatureUnverified, se.Rule)
}

// TestTamperedSignatures: a signature changed, removed or added in the
// store is found by Verify.
func TestTamperedSignatures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tamper func(last, first *storedEvent, other string)
		rule   string
	}{
		{"replaced by another event's signature", func(last, _ *storedEvent, other string) { last.sig = other }, RuleSignatureInvalid},
		{"garbled", func(last, _ *storedEvent, _ string) { last.sig = "x" + last.sig }, RuleSignatureInvalid},
		{"removed", func(last, _ *storedEvent, _ string) { last.sig = "" }, RuleSignatureMissing},
		{"added to an unsigned event", func(_, first *storedEvent, other string) { first.sig = other }, RuleSignatureUnexpected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, s := signedHarness(t)
			h.start(smallApp)
			h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
			h.must(Command{Kind: CmdApprove, Actor: "rev1", Signer: s.rev})
			h.must(Command{Kind: CmdDecide, Actor: "head1", Decision: Granted, Signer: s.head})
			require.NoError(t, h.e.Verify(h.ctx, h.id))
			ms := h.store.(*MemoryStore)
			ms.mu.Lock()
			log := ms.events[h.id]
			tc.tamper(&log[len(log)-1], &log[0], log[len(log)-2].sig)
			ms.mu.Unlock()
			err := h.e.Verify(h.ctx, h.id)
			var se *SignatureError
			require.True(t, errors.As(err, &se), "%v", err)
			assert.Equal(t, tc.rule, se.Rule)
			assert.ErrorIs(t, err, ErrSignature)
		})
	}
}

func TestSignaturePolicyChecked(t *testing.T) {
	t.Parallel()
	s := newSigners(t, time.Now)
	for _, tc := range []struct {
		name   string
		policy *SignaturePolicy
	}{
		{"no verifier", &SignaturePolicy{Owners: PinnedCertificates{}}},
		{"no owners", &SignaturePolicy{Verifier: s.policy.Verifier}},
		{"a non-decision required", &SignaturePolicy{Verifier: s.policy.Verifier, Owners: PinnedCertificates{}, Require: []EventType{EventCommented}}},
	} {
		_, err := New(Config{Store: NewMemoryStore(), Directory: &MemoryDirectory{}, Signatures: tc.policy})
		assert.Error(t, err, tc.name)
	}
	// An engine without a policy refuses a signed command.
	h := newHarness(t, sampleDef(t), nil)
	h.start(smallApp)
	h.refused(RuleBadSignature, Command{Kind: CmdAccept, Actor: "clerk1", Signer: s.head})
	_, err := DecodeSignature("a.b.c")
	assert.Error(t, err)
	ok, err := PinnedCertificates{}.OwnsCertificate(context.Background(), "nobody", s.head.Certificate())
	require.NoError(t, err)
	assert.False(t, ok)
}
