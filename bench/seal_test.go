package bench

// Sealing then verifying the realistic 10 KB 公文, side by side:
//
//   - egovkit: signature.SealDocument then signature.VerifyDocument
//     (canonicalise, sign; parse, canonicalise, verify, chain check with a
//     warm cache), for Ed25519 and SM2;
//   - floor: SHA-256 of the canonical bytes plus the bare algorithm's sign
//     and verify over them;
//   - gowebpki+jose: gowebpki/jcs to canonicalise, go-jose/v4 to make and
//     check a detached JWS with the same x5c chain (crypto/x509 chain check
//     on each verification, as a straightforward integration does); Ed25519
//     only, go-jose has no SM2.
//
// Target: egovkit at most 2× the floor.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	jose "github.com/go-jose/go-jose/v4"
	gowebpki "github.com/gowebpki/jcs"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
	"github.com/egovkit/egovkit/signature/pki"
)

var org = signature.Identity{Name: "某某市人民政府", OrgID: "11110000000000001R"}

func BenchmarkSeal(b *testing.B) {
	doc := gongwen(b)
	canon, err := jcs.Canonicalize(doc)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, alg := range []pki.KeyAlgorithm{pki.Ed25519, pki.SM2} {
		c, err := pki.NewTestChain(alg, org, pki.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s, err := c.Signer()
		if err != nil {
			b.Fatal(err)
		}
		v, err := signature.NewVerifier([]*x509.Certificate{c.Root.Certificate})
		if err != nil {
			b.Fatal(err)
		}
		policy := signature.Policy{RequiredIssuers: []signature.Identity{org}}
		b.Run(string(alg)+"/egovkit", func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b, processCPU())
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
			defer reportCPU(b, processCPU())
			for i := 0; i < b.N; i++ {
				floor(b, alg, c, canon)
			}
		})
		if alg == pki.Ed25519 {
			b.Run(string(alg)+"/gowebpki+jose", func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b, processCPU())
				for i := 0; i < b.N; i++ {
					joseSealVerify(b, c, doc)
				}
			})
		}
	}
}

func floor(b *testing.B, alg pki.KeyAlgorithm, c *pki.TestChain, canon []byte) {
	if d := sha256.Sum256(canon); d == [32]byte{} {
		b.Fatal("zero digest")
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
		uid := []byte(signature.DefaultSM2UserID)
		sig, err := k.SignWithSM2(rand.Reader, uid, canon)
		if err != nil || !sm2.VerifyASN1WithSM2(&k.PublicKey, uid, canon, sig) {
			b.Fatal("verify")
		}
	}
}

func joseSealVerify(b *testing.B, c *pki.TestChain, doc []byte) {
	canon, err := gowebpki.Transform(doc)
	if err != nil {
		b.Fatal(err)
	}
	opts := (&jose.SignerOptions{}).WithHeader("x5c", []string{encodeStd(c.Cert.Raw), encodeStd(c.Intermediate.Certificate.Raw)}).
		WithHeader("sigT", time.Now().UTC().Format(time.RFC3339))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: c.Key}, opts)
	if err != nil {
		b.Fatal(err)
	}
	obj, err := signer.Sign(canon)
	if err != nil {
		b.Fatal(err)
	}
	compact, err := obj.DetachedCompactSerialize()
	if err != nil {
		b.Fatal(err)
	}
	// The receiver: canonicalise, parse, check the chain, verify.
	canon2, err := gowebpki.Transform(doc)
	if err != nil {
		b.Fatal(err)
	}
	parsed, err := jose.ParseDetached(compact, canon2, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		b.Fatal(err)
	}
	chains, err := parsed.Signatures[0].Protected.Certificates(x509.VerifyOptions{Roots: pool(c), Intermediates: pool(nil, c.Intermediate.Certificate),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := parsed.Verify(chains[0][0].PublicKey); err != nil {
		b.Fatal(err)
	}
}

func pool(c *pki.TestChain, extra ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	if c != nil {
		p.AddCert(c.Root.Certificate)
	}
	for _, e := range extra {
		p.AddCert(e)
	}
	return p
}
