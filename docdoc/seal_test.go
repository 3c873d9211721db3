package docdoc_test

import (
	"context"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

type sealer struct {
	signer *signature.Signer
	root   *x509.Certificate
}

func newSealer(t *testing.T, alg pki.KeyAlgorithm, o docdoc.Organ) sealer {
	t.Helper()
	tc, err := pki.NewTestChain(alg, signature.Identity{Name: o.Name, OrgID: o.OrgID}, pki.Options{})
	require.NoError(t, err)
	s, err := tc.Signer()
	require.NoError(t, err)
	return sealer{signer: s, root: tc.Root.Certificate}
}

func jointNotice() *docdoc.Document {
	d := base(docdoc.TypeNotice, 600)
	d.Issuers = []docdoc.Organ{cqNDRC, cqFin}
	d.Signatory = []string{cqNDRC.Name, cqFin.Name}
	d.DocNumber = "渝发改投〔2025〕128号"
	return d
}

func TestSealJointDocument(t *testing.T) {
	t.Parallel()
	ndrc := newSealer(t, pki.Ed25519, cqNDRC)
	fin := newSealer(t, pki.SM2, cqFin)
	v, err := signature.NewVerifier([]*x509.Certificate{ndrc.root, fin.root})
	require.NoError(t, err)
	ctx := context.Background()
	all := docdoc.SealPolicy{RequireIssuerSeals: true}

	doc := jointNotice()
	require.NoError(t, docdoc.Seal(doc, ndrc.signer))
	require.NoError(t, docdoc.Seal(doc, fin.signer))
	require.Len(t, doc.Signatures, 2)

	// The sealed document is still a valid docdoc document, and verifies
	// after a trip through its JSON form.
	data, err := docdoc.Marshal(doc)
	require.NoError(t, err)
	parsed, err := docdoc.ParseBytes(data)
	require.NoError(t, err)
	rep, err := docdoc.VerifySeals(ctx, parsed, v, all)
	require.NoError(t, err)
	require.Len(t, rep.Seals, 2)
	assert.Equal(t, signature.Identity{Name: cqNDRC.Name, OrgID: cqNDRC.OrgID}, rep.Seals[0].Identity)
	assert.Equal(t, signature.EdDSA, rep.Seals[0].Algorithm)
	assert.Equal(t, signature.SM2SM3, rep.Seals[1].Algorithm)

	// The bytes verify with the signature package directly, as another
	// implementation would check them.
	rep, err = signature.VerifyDocument(ctx, data, v, signature.Policy{RequiredIssuers: []signature.Identity{{Name: cqNDRC.Name, OrgID: cqNDRC.OrgID}, {Name: cqFin.Name, OrgID: cqFin.OrgID}}})
	require.NoError(t, err)
	assert.True(t, rep.Valid())

	// Stripping one organ's seal fails when every issuer must seal.
	stripped := *parsed
	stripped.Signatures = stripped.Signatures[:1]
	_, err = docdoc.VerifySeals(ctx, &stripped, v, all)
	var missing *signature.MissingSealError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, cqFin.OrgID, missing.Identity.OrgID)
	_, err = docdoc.VerifySeals(ctx, &stripped, v, docdoc.SealPolicy{})
	assert.NoError(t, err, "without the policy one valid seal is enough")

	// Any change to a signed member breaks every seal.
	for name, change := range map[string]func(d *docdoc.Document){
		"title":     func(d *docdoc.Document) { d.Title += "。" },
		"date":      func(d *docdoc.Document) { d.Date = "2025-03-19" },
		"recipient": func(d *docdoc.Document) { d.MainRecipients = append(d.MainRecipients, cqEcon) },
		"urgency":   func(d *docdoc.Document) { d.Urgency = docdoc.UrgencyExtraUrgent },
	} {
		tampered, err := docdoc.ParseBytes(data)
		require.NoError(t, err)
		change(tampered)
		rep, err := docdoc.VerifySeals(ctx, tampered, v, all)
		require.Error(t, err, name)
		for _, s := range rep.Seals {
			assert.Error(t, s.Err, name)
		}
	}

	// A seal moved to another document does not verify there.
	other := jointNotice()
	other.Title = "另一份通知"
	other.Signatures = parsed.Signatures
	_, err = docdoc.VerifySeals(ctx, other, v, all)
	assert.Error(t, err)
}

func TestSealRefusals(t *testing.T) {
	t.Parallel()
	econ := newSealer(t, pki.P256, cqEcon)
	doc := jointNotice()
	err := docdoc.Seal(doc, econ.signer)
	assert.True(t, errors.Is(err, docdoc.ErrNotIssuer), "%v", err)
	assert.Empty(t, doc.Signatures)

	doc.DocNumber = "渝发改投[2025]128号"
	err = docdoc.Seal(doc, newSealer(t, pki.Ed25519, cqNDRC).signer)
	assert.ErrorIs(t, err, docdoc.ErrInvalid, "an invalid document is not sealed")

	// A document with no seals does not verify.
	v, err := signature.NewVerifier([]*x509.Certificate{econ.root})
	require.NoError(t, err)
	doc = jointNotice()
	_, err = docdoc.VerifySeals(context.Background(), doc, v, docdoc.SealPolicy{})
	assert.Error(t, err)

	// A seal whose protected header is not base64url is refused, not skipped.
	doc.Signatures = []docdoc.Signature{{Protected: "not base64!", Signature: "c2ln"}}
	_, err = docdoc.VerifySeals(context.Background(), doc, v, docdoc.SealPolicy{})
	assert.ErrorIs(t, err, signature.ErrMalformed)
}
