package signature_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"os"
	"testing"

	"github.com/emmansun/gmsm/sm2"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
	"github.com/egovkit/egovkit/signature/pki"
)

// BenchmarkSealVerify seals the realistic 10 KB 公文 of testdata and
// verifies it (canonicalise, sign; parse, canonicalise, verify, chain check
// with a warm cache), beside the floor: SHA-256 plus the bare algorithm's
// sign and verify over the same canonical bytes. The ratio is the cost of
// everything this package adds; bench/seal_test.go compares it with
// gowebpki/jcs + go-jose.
func BenchmarkSealVerify(b *testing.B) {
	doc, err := os.ReadFile("testdata/gongwen-10k.json")
	if err != nil {
		b.Fatal(err)
	}
	canon, err := jcs.Canonicalize(doc)
	if err != nil {
		b.Fatal(err)
	}
	for _, alg := range []pki.KeyAlgorithm{pki.Ed25519, pki.SM2} {
		c := testChain(b, alg, orgGov)
		s := signer(b, c)
		v := verifier(b, []*x509.Certificate{c.Root.Certificate})
		policy := signature.Policy{RequiredIssuers: []signature.Identity{orgGov}}
		b.Run(string(alg)+"/egovkit", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				sealed, err := signature.SealDocument(doc, s)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := signature.VerifyDocument(ctx, sealed, v, policy); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(alg)+"/floor", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				floor(b, alg, c, canon)
			}
		})
	}
}

// floor is SHA-256 of the canonical bytes plus one bare sign and verify.
func floor(b *testing.B, alg pki.KeyAlgorithm, c *pki.TestChain, canon []byte) {
	if d := sha256.Sum256(canon); d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 0 {
		b.Log("improbable digest")
	}
	switch alg {
	case pki.Ed25519:
		k := c.Key.(ed25519.PrivateKey)
		sig := ed25519.Sign(k, canon)
		if !ed25519.Verify(k.Public().(ed25519.PublicKey), canon, sig) {
			b.Fatal("verify")
		}
	case pki.SM2:
		k := c.Key.(*sm2.PrivateKey)
		sig, err := k.SignWithSM2(rand.Reader, []byte(signature.DefaultSM2UserID), canon)
		if err != nil || !sm2.VerifyASN1WithSM2(&k.PublicKey, []byte(signature.DefaultSM2UserID), canon, sig) {
			b.Fatal("verify")
		}
	}
}
