package pki_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

var org = signature.Identity{Name: "某某市人民政府", OrgID: "11110000000000001R"}

func TestTestChains(t *testing.T) {
	t.Parallel()
	for _, alg := range []pki.KeyAlgorithm{pki.Ed25519, pki.P256, pki.SM2} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			nb := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			c, err := pki.NewTestChain(alg, org, pki.Options{NotBefore: nb, NotAfter: nb.AddDate(1, 0, 0)})
			require.NoError(t, err)
			assert.Equal(t, nb, c.Cert.NotBefore)
			assert.Equal(t, nb.AddDate(1, 0, 0), c.Cert.NotAfter)
			assert.True(t, c.Root.Certificate.IsCA)
			assert.True(t, c.Intermediate.Certificate.IsCA)
			assert.True(t, c.Intermediate.Certificate.MaxPathLenZero)
			assert.False(t, c.Cert.IsCA)
			assert.Equal(t, x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment, c.Cert.KeyUsage)
			id, err := signature.CertificateIdentity(c.Cert)
			require.NoError(t, err)
			assert.Equal(t, org, id)
			require.NoError(t, signature.CheckSignatureFrom(c.Cert, c.Intermediate.Certificate))
			require.NoError(t, signature.CheckSignatureFrom(c.Intermediate.Certificate, c.Root.Certificate))

			der, err := c.Intermediate.CreateCRL([]x509.RevocationListEntry{{SerialNumber: c.Cert.SerialNumber, RevocationTime: nb, ReasonCode: 4}}, 7, nb, nb.AddDate(0, 0, 7))
			require.NoError(t, err)
			crl, err := signature.ParseCRL(pki.EncodeCRLPEM(der))
			require.NoError(t, err)
			l := crl.RevocationList()
			require.Len(t, l.RevokedCertificateEntries, 1)
			assert.Equal(t, 0, l.RevokedCertificateEntries[0].SerialNumber.Cmp(c.Cert.SerialNumber))
			assert.Equal(t, 4, l.RevokedCertificateEntries[0].ReasonCode)
			assert.Equal(t, int64(7), l.Number.Int64())
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	t.Parallel()
	_, err := pki.GenerateKey("dsa")
	assert.Error(t, err)
	key, err := pki.GenerateKey(pki.Ed25519)
	require.NoError(t, err)
	root, err := pki.NewRoot(key, "CA", pki.Options{})
	require.NoError(t, err)
	_, err = root.IssueSeal(key.Public(), signature.Identity{Name: "x", OrgID: "11110000000000001A"}, pki.Options{})
	assert.ErrorIs(t, err, signature.ErrOrgID)
	_, err = root.IssueSeal(key.Public(), signature.Identity{OrgID: org.OrgID}, pki.Options{})
	assert.Error(t, err)
}
