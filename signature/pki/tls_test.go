package pki

import (
	"crypto/x509"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
)

func TestIssueTLS(t *testing.T) {
	t.Parallel()
	id := signature.Identity{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}
	tc, err := NewTestChain(Ed25519, id, Options{})
	require.NoError(t, err)
	key, err := GenerateKey(P256)
	require.NoError(t, err)
	cert, err := tc.Intermediate.IssueTLS(key.Public(), id, []string{"127.0.0.1", "gw1.finance.example"}, Options{})
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", cert.IPAddresses[0].String())
	assert.Equal(t, []string{"gw1.finance.example"}, cert.DNSNames)
	roots := x509.NewCertPool()
	roots.AddCert(tc.Root.Certificate)
	inter := x509.NewCertPool()
	inter.AddCert(tc.Intermediate.Certificate)
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		_, err = cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, DNSName: "gw1.finance.example", KeyUsages: []x509.ExtKeyUsage{usage}})
		assert.NoError(t, err)
	}
	sm2Key, err := GenerateKey(SM2)
	require.NoError(t, err)
	_, err = tc.Intermediate.IssueTLS(sm2Key.Public(), id, []string{"127.0.0.1"}, Options{})
	assert.Error(t, err)
	_, err = tc.Intermediate.IssueTLS(key.Public(), id, nil, Options{})
	assert.Error(t, err)
}
