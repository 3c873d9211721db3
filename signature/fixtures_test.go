package signature_test

import (
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// Two organs of a joint notice (联合行文). The codes carry valid GB 32100
// check characters.
var (
	orgGov     = signature.Identity{Name: "某某市人民政府", OrgID: "11110000000000001R"}
	orgFinance = signature.Identity{Name: "某某市财政局", OrgID: "11310000000000002A"}
)

// now is the fixed verification time of the tests; certificates are valid
// from a year before it.
var now = time.Date(2026, 6, 1, 9, 30, 0, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

type chainKey struct {
	alg pki.KeyAlgorithm
	id  signature.Identity
}

var (
	chainsMu sync.Mutex
	chains   = map[chainKey]*pki.TestChain{}
)

// testChain returns a cached root → intermediate → seal chain.
func testChain(t testing.TB, alg pki.KeyAlgorithm, id signature.Identity) *pki.TestChain {
	t.Helper()
	chainsMu.Lock()
	defer chainsMu.Unlock()
	k := chainKey{alg, id}
	if c := chains[k]; c != nil {
		return c
	}
	opt := pki.Options{NotBefore: now.AddDate(-1, 0, 0), NotAfter: now.AddDate(2, 0, 0)}
	var c *pki.TestChain
	var err error
	if alg == pki.RSA {
		k := rsaKeys(t)
		c, err = pki.NewTestChainWithKeys(k[0], k[1], k[2], id, opt)
	} else {
		c, err = pki.NewTestChain(alg, id, opt)
	}
	require.NoError(t, err)
	chains[k] = c
	return c
}

// rsaKeys returns three RSA-2048 keys from testdata: generating them costs
// seconds on a shared machine.
func rsaKeys(t testing.TB) []crypto.Signer {
	t.Helper()
	data, err := os.ReadFile("testdata/rsa-test-keys.pem")
	require.NoError(t, err)
	var keys []crypto.Signer
	for len(data) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		k, err := signature.ParsePrivateKeyPEM(pem.EncodeToMemory(b))
		require.NoError(t, err)
		keys = append(keys, k)
	}
	require.Len(t, keys, 3)
	return keys
}

func signer(t testing.TB, c *pki.TestChain) *signature.Signer {
	t.Helper()
	s, err := c.Signer(signature.WithSigningClock(clockAt(now.Add(-time.Hour))))
	require.NoError(t, err)
	return s
}

func verifier(t testing.TB, roots []*x509.Certificate, opts ...signature.VerifierOption) *signature.Verifier {
	t.Helper()
	v, err := signature.NewVerifier(roots, append([]signature.VerifierOption{signature.WithClock(clockAt(now))}, opts...)...)
	require.NoError(t, err)
	return v
}

// jointNotice is a minimal document in docdoc's shape: issuers and, once
// sealed, signatures.
const jointNotice = `{
  "title": "关于联合开展财政资金专项检查的通知",
  "docNumber": "某政发〔2026〕7号",
  "issuers": [
    {"name": "某某市人民政府", "orgId": "11110000000000001R"},
    {"name": "某某市财政局", "orgId": "11310000000000002A"}
  ],
  "recipients": ["各区县人民政府", "市直各部门"],
  "body": "为加强财政资金监管……\n特此通知。",
  "date": "2026-05-31",
  "copies": 3,
  "urgent": false,
  "attachments": [{"name": "检查方案.pdf", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]
}`

func decodeHeader(t testing.TB, s signature.Signature) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(s.Protected)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

func encodeHeader(t testing.TB, m map[string]any) string {
	t.Helper()
	raw, err := json.Marshal(m)
	require.NoError(t, err)
	return base64.RawURLEncoding.EncodeToString(raw)
}
