package signature_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

var ctx = context.Background()

func TestSignVerifyEveryAlgorithm(t *testing.T) {
	t.Parallel()
	want := map[pki.KeyAlgorithm]signature.Algorithm{pki.Ed25519: signature.EdDSA, pki.P256: signature.ES256, pki.RSA: signature.PS256, pki.SM2: signature.SM2SM3}
	for _, alg := range pki.KeyAlgorithms() {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			c := testChain(t, alg, orgGov)
			s := signer(t, c)
			payload := []byte(`{"a":1,"公文":"正文"}`)
			sig, err := s.Sign(payload)
			require.NoError(t, err)
			assert.Equal(t, string(want[alg]), decodeHeader(t, sig)["alg"])
			raw, err := base64.RawURLEncoding.DecodeString(sig.Signature)
			require.NoError(t, err)
			if alg != pki.RSA {
				assert.Len(t, raw, 64, "r‖s or Ed25519 signature")
			} else {
				assert.Len(t, raw, 256)
			}

			v := verifier(t, []*x509.Certificate{c.Root.Certificate})
			got, err := v.Verify(ctx, sig, payload)
			require.NoError(t, err)
			assert.Equal(t, want[alg], got.Algorithm)
			assert.Equal(t, orgGov, got.Identity)
			assert.Equal(t, now.Add(-time.Hour), got.SigningTime)
			require.Len(t, got.Chain, 3)
			assert.True(t, got.Chain[2].Equal(c.Root.Certificate))

			_, err = v.Verify(ctx, sig, []byte(`{"a":2,"公文":"正文"}`))
			assert.ErrorIs(t, err, signature.ErrBadSignature)

			// Another organ's root is no anchor for this chain.
			other := testChain(t, alg, orgFinance)
			_, err = verifier(t, []*x509.Certificate{other.Root.Certificate}).Verify(ctx, sig, payload)
			var ur *signature.UnknownRootError
			assert.ErrorAs(t, err, &ur)
			assert.ErrorIs(t, err, signature.ErrUnknownRoot)
		})
	}
}

// TestSM2CrossCheck verifies an SM2 signature of this package by a second
// route: gmsm's verification of a precomputed SM3(Z_A ‖ M) digest, and a
// textbook verification with big integers over the curve parameters.
func TestSM2CrossCheck(t *testing.T) {
	t.Parallel()
	c := testChain(t, pki.SM2, orgGov)
	s := signer(t, c)
	payload := []byte(`{"title":"SM2 交叉验证"}`)
	for i := 0; i < 8; i++ {
		sig, err := s.Sign(payload)
		require.NoError(t, err)
		rs, err := base64.RawURLEncoding.DecodeString(sig.Signature)
		require.NoError(t, err)
		require.Len(t, rs, 64)
		msg := []byte(sig.Protected + ".") // the JWS payload is empty; sigD carries the digest
		pub := c.Cert.PublicKey.(*ecdsa.PublicKey)

		za, err := sm2.CalculateZA(pub, []byte(signature.DefaultSM2UserID))
		require.NoError(t, err)
		h := sm3.New()
		h.Write(za)
		h.Write(msg)
		e := h.Sum(nil)
		r, ss := new(big.Int).SetBytes(rs[:32]), new(big.Int).SetBytes(rs[32:])
		der := derSig(t, r, ss)
		assert.True(t, sm2.VerifyASN1(pub, e, der), "gmsm verify of the digest")
		assert.True(t, textbookSM2Verify(pub, c.Cert.RawSubjectPublicKeyInfo, e, r, ss), "textbook SM2 verify")
		assert.False(t, textbookSM2Verify(pub, c.Cert.RawSubjectPublicKeyInfo, e, r, new(big.Int).Add(ss, big.NewInt(1))))
	}
}

func TestSignerRefuses(t *testing.T) {
	t.Parallel()
	c := testChain(t, pki.Ed25519, orgGov)
	other := testChain(t, pki.Ed25519, orgFinance)
	_, err := signature.NewSigner(other.Key, c.Chain())
	assert.ErrorIs(t, err, signature.ErrKey, "key of another certificate")
	_, err = signature.NewSigner(c.Key, nil)
	assert.ErrorIs(t, err, signature.ErrKey)
	enc, err := pki.NewTestChain(pki.Ed25519, orgGov, pki.Options{KeyUsage: x509.KeyUsageKeyEncipherment})
	require.NoError(t, err)
	_, err = enc.Signer()
	var ku *signature.KeyUsageError
	assert.ErrorAs(t, err, &ku)
}

func TestVerifierOptions(t *testing.T) {
	t.Parallel()
	_, err := signature.NewVerifier(nil)
	assert.ErrorIs(t, err, signature.ErrUnknownRoot)
	root := testChain(t, pki.Ed25519, orgGov).Root.Certificate
	_, err = signature.NewVerifier([]*x509.Certificate{root}, signature.WithAlgorithms())
	assert.ErrorIs(t, err, signature.ErrAlgorithm, "an empty allow-list is refused")
	_, err = signature.NewVerifier([]*x509.Certificate{root}, signature.WithAlgorithms("HS256"))
	assert.ErrorIs(t, err, signature.ErrAlgorithm)

	c := testChain(t, pki.Ed25519, orgGov)
	sig, err := signer(t, c).Sign([]byte(`{}`))
	require.NoError(t, err)
	v := verifier(t, []*x509.Certificate{c.Root.Certificate}, signature.WithAlgorithms(signature.ES256))
	_, err = v.Verify(ctx, sig, []byte(`{}`))
	var he *signature.HeaderError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "alg", he.Param)
	assert.ErrorIs(t, err, signature.ErrAlgorithm)
}

func TestCertificateValidity(t *testing.T) {
	t.Parallel()
	c := testChain(t, pki.P256, orgGov)
	roots := []*x509.Certificate{c.Root.Certificate}
	payload := []byte(`{"x":1}`)
	sign := func(at time.Time) signature.Signature {
		s, err := c.Signer(signature.WithSigningClock(clockAt(at)))
		require.NoError(t, err)
		sig, err := s.Sign(payload)
		require.NoError(t, err)
		return sig
	}
	verifyAt := func(sig signature.Signature, at time.Time) error {
		v, err := signature.NewVerifier(roots, signature.WithClock(clockAt(at)))
		require.NoError(t, err)
		_, err = v.Verify(ctx, sig, payload)
		return err
	}
	// Verified after the seal certificate expired.
	err := verifyAt(sign(now), c.Cert.NotAfter.Add(time.Hour))
	var exp *signature.ExpiredError
	require.ErrorAs(t, err, &exp)
	assert.True(t, exp.Cert.Equal(c.Cert))
	assert.ErrorIs(t, err, signature.ErrExpired)

	// Signed (claimed) before the certificate existed.
	err = verifyAt(sign(c.Cert.NotBefore.Add(-time.Hour)), now)
	var nyv *signature.NotYetValidError
	require.ErrorAs(t, err, &nyv)
	assert.ErrorIs(t, err, signature.ErrNotYetValid)

	// A signing time in the future of the verification time.
	err = verifyAt(sign(now.Add(time.Hour)), now)
	assert.ErrorIs(t, err, signature.ErrSigningTime)
}

func TestWrongKeyUsage(t *testing.T) {
	t.Parallel()
	enc, err := pki.NewTestChain(pki.Ed25519, orgGov, pki.Options{KeyUsage: x509.KeyUsageKeyEncipherment})
	require.NoError(t, err)
	s := signature.NewSignerUnchecked(enc.Key, enc.Chain(), orgGov, clockAt(now))
	sig, err := s.Sign([]byte(`{}`))
	require.NoError(t, err)
	_, err = verifier(t, []*x509.Certificate{enc.Root.Certificate}).Verify(ctx, sig, []byte(`{}`))
	var ku *signature.KeyUsageError
	require.ErrorAs(t, err, &ku)
	assert.ErrorIs(t, err, signature.ErrKeyUsage)
}

func TestForgedSealIdentity(t *testing.T) {
	t.Parallel()
	// The financial bureau's key signs a header that claims the
	// government's identity: the signature verifies, the identity does not.
	c := testChain(t, pki.SM2, orgFinance)
	s := signature.NewSignerUnchecked(c.Key, c.Chain(), orgGov, clockAt(now))
	sig, err := s.Sign([]byte(`{}`))
	require.NoError(t, err)
	_, err = verifier(t, []*x509.Certificate{c.Root.Certificate}).Verify(ctx, sig, []byte(`{}`))
	var im *signature.IdentityMismatchError
	require.ErrorAs(t, err, &im)
	assert.Equal(t, orgGov, im.Header)
	assert.Equal(t, orgFinance, im.Certificate)
}

func TestRevocationByCRL(t *testing.T) {
	t.Parallel()
	for _, alg := range []pki.KeyAlgorithm{pki.Ed25519, pki.SM2} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			c, err := pki.NewTestChain(alg, orgGov, pki.Options{NotBefore: now.AddDate(-1, 0, 0)})
			require.NoError(t, err)
			s := signer(t, c)
			payload := []byte(`{"t":"x"}`)
			sig, err := s.Sign(payload)
			require.NoError(t, err)
			roots := []*x509.Certificate{c.Root.Certificate}
			crlFor := func(ca *pki.CA, revokedAt time.Time, serial *big.Int) *signature.CRL {
				der, err := ca.CreateCRL([]x509.RevocationListEntry{{SerialNumber: serial, RevocationTime: revokedAt, ReasonCode: 1}}, 1, now.Add(-time.Hour), now.AddDate(0, 0, 7))
				require.NoError(t, err)
				crl, err := signature.ParseCRL(pki.EncodeCRLPEM(der))
				require.NoError(t, err)
				return crl
			}

			// Revoked after signing but before verification: invalid, the
			// signing time is only a claim.
			v := verifier(t, roots, signature.WithCRLs(crlFor(c.Intermediate, now.Add(-time.Minute), c.Cert.SerialNumber)))
			_, err = v.Verify(ctx, sig, payload)
			var rev *signature.RevokedError
			require.ErrorAs(t, err, &rev)
			assert.Equal(t, "crl", rev.Source)
			assert.Equal(t, 1, rev.Reason)
			assert.ErrorIs(t, err, signature.ErrRevoked)

			// Revoked after the verification time: still valid then.
			v = verifier(t, roots, signature.WithCRLs(crlFor(c.Intermediate, now.Add(time.Hour), c.Cert.SerialNumber)))
			_, err = v.Verify(ctx, sig, payload)
			assert.NoError(t, err)

			// The intermediate revoked by the root.
			v = verifier(t, roots, signature.WithCRLs(crlFor(c.Root, now.Add(-time.Hour), c.Intermediate.Certificate.SerialNumber)))
			_, err = v.Verify(ctx, sig, payload)
			require.ErrorAs(t, err, &rev)
			assert.True(t, rev.Cert.Equal(c.Intermediate.Certificate))

			// A CRL that names the issuer but is signed by another key.
			impostorKey, err := pki.GenerateKey(alg)
			require.NoError(t, err)
			impostor, err := pki.NewRoot(impostorKey, c.Intermediate.Certificate.Subject.CommonName, pki.Options{NotBefore: now.AddDate(-1, 0, 0)})
			require.NoError(t, err)
			v = verifier(t, roots, signature.WithCRLs(crlFor(impostor, now.Add(-time.Hour), big.NewInt(99))))
			_, err = v.Verify(ctx, sig, payload)
			var rc *signature.RevocationCheckError
			require.ErrorAs(t, err, &rc, "%v", err)
			assert.ErrorIs(t, err, signature.ErrRevocationCheck)

			// Revocation information required but absent.
			v = verifier(t, roots, signature.RequireRevocationInfo())
			_, err = v.Verify(ctx, sig, payload)
			assert.ErrorIs(t, err, signature.ErrRevocationCheck)
		})
	}
}

func TestParseSignatureStrict(t *testing.T) {
	t.Parallel()
	cases := map[string]error{
		`{"protected":"eyJ9","signature":"AA"}`:                                   nil,
		`{"protected":"eyJ9","signature":"AA","header":{"kid":"k","etsiU":[]}}`:   nil,
		`{"protected":"eyJ9","signature":"AA","payload":"e30"}`:                   signature.ErrMalformed,
		`{"protected":"eyJ9"}`:                                                    signature.ErrMalformed,
		`{"protected":1,"signature":"AA"}`:                                        signature.ErrMalformed,
		`{"protected":"a","protected":"b","signature":"AA"}`:                      signature.ErrMalformed,
		`{"protected":"eyJ9","signature":"AA","extra":1}`:                         signature.ErrMalformed,
		`{"protected":"eyJ9","signature":"AA","header":{"alg":"none"}}`:           signature.ErrHeader,
		`{"protected":"eyJ9","signature":"AA","header":{"jwk":{}}}`:               signature.ErrHeader,
		`[{"protected":"eyJ9","signature":"AA"}]`:                                 signature.ErrMalformed,
		"{\"protected\":\"eyJ9\",\"signature\":\"\xff\"}":                         signature.ErrMalformed,
		`{"protected":"eyJ9","signature":"AA","header":{"etsiU":{"sigTst":"x"}}}`: signature.ErrMalformed,
	}
	for in, want := range cases {
		_, err := signature.ParseSignature([]byte(in))
		if want == nil {
			assert.NoError(t, err, in)
		} else {
			assert.ErrorIs(t, err, want, in)
		}
	}
}

// TestHeaderAttacks feeds the verifier protected headers an attacker could
// write; each is refused before the signature is even checked, with its
// own typed error.
func TestHeaderAttacks(t *testing.T) {
	t.Parallel()
	c := testChain(t, pki.Ed25519, orgGov)
	ec := testChain(t, pki.P256, orgGov)
	v := verifier(t, []*x509.Certificate{c.Root.Certificate, ec.Root.Certificate})
	payload := []byte(`{"a":1}`)
	good, err := signer(t, c).Sign(payload)
	require.NoError(t, err)
	_, err = v.Verify(ctx, good, payload)
	require.NoError(t, err)
	base := decodeHeader(t, good)

	with := func(edit func(m map[string]any)) signature.Signature {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		edit(m)
		return signature.Signature{Protected: encodeHeader(t, m), Signature: good.Signature}
	}
	cases := []struct {
		name  string
		sig   signature.Signature
		want  error
		param string
	}{
		{"alg none", with(func(m map[string]any) { m["alg"] = "none" }), signature.ErrAlgorithm, "alg"},
		{"alg HS256", with(func(m map[string]any) { m["alg"] = "HS256" }), signature.ErrAlgorithm, "alg"},
		{"alg unknown", with(func(m map[string]any) { m["alg"] = "RS1" }), signature.ErrAlgorithm, "alg"},
		{"alg missing", with(func(m map[string]any) { delete(m, "alg") }), signature.ErrMalformed, ""},
		{"alg not a string", with(func(m map[string]any) { m["alg"] = 1 }), signature.ErrMalformed, ""},
		{"alg mismatch with key", with(func(m map[string]any) { m["alg"] = "ES256" }), signature.ErrAlgorithm, ""},
		{"ES256 chain under EdDSA", with(func(m map[string]any) { m["x5c"] = decodeHeader(t, mustSign(t, ec, payload))["x5c"] }), signature.ErrAlgorithm, ""},
		{"jwk", with(func(m map[string]any) { m["jwk"] = map[string]any{"kty": "OKP"} }), signature.ErrHeader, "jwk"},
		{"jku", with(func(m map[string]any) { m["jku"] = "https://attacker.example/keys" }), signature.ErrHeader, "jku"},
		{"x5u", with(func(m map[string]any) { m["x5u"] = "https://attacker.example/cert" }), signature.ErrHeader, "x5u"},
		{"b64 false", with(func(m map[string]any) { m["b64"] = false }), signature.ErrHeader, "b64"},
		{"unknown param", with(func(m map[string]any) { m["zip"] = "DEF" }), signature.ErrHeader, "zip"},
		{"unknown crit", with(func(m map[string]any) { m["crit"] = []any{"sigT", "exp"} }), signature.ErrHeader, "crit"},
		{"duplicated crit", with(func(m map[string]any) { m["crit"] = []any{"sigT", "sigT"} }), signature.ErrHeader, "crit"},
		{"crit registered", with(func(m map[string]any) { m["crit"] = []any{"alg"} }), signature.ErrHeader, "crit"},
		{"crit empty", with(func(m map[string]any) { m["crit"] = []any{} }), signature.ErrHeader, "crit"},
		{"crit absent name", with(func(m map[string]any) { m["crit"] = []any{"seal", "sigT"}; delete(m, "seal") }), signature.ErrHeader, "crit"},
		{"no x5c", with(func(m map[string]any) { delete(m, "x5c") }), signature.ErrMalformed, ""},
		{"x5c not base64", with(func(m map[string]any) { m["x5c"] = []any{"not base64!"} }), signature.ErrMalformed, ""},
		{"x5c url alphabet", with(func(m map[string]any) { m["x5c"] = []any{"AB-_"} }), signature.ErrMalformed, ""},
		{"x5c not a certificate", with(func(m map[string]any) { m["x5c"] = []any{"AAAA"} }), signature.ErrMalformed, ""},
		{"no sigT", with(func(m map[string]any) { delete(m, "sigT"); m["crit"] = []any{"seal"} }), signature.ErrMalformed, ""},
		{"sigT local time", with(func(m map[string]any) { m["sigT"] = "2026-06-01T08:00:00+08:00" }), signature.ErrMalformed, ""},
		{"seal not an object", with(func(m map[string]any) { m["seal"] = "某某市人民政府" }), signature.ErrMalformed, ""},
		{"seal extra member", with(func(m map[string]any) { m["seal"] = map[string]any{"name": "a", "orgId": "b", "x": "c"} }), signature.ErrMalformed, ""},
		{"x5t#S256 mismatch", with(func(m map[string]any) { m["x5t#S256"] = "AAAA" }), signature.ErrHeader, "x5t#S256"},
		{"seal swapped (signature breaks)", with(func(m map[string]any) { m["seal"] = map[string]any{"name": orgFinance.Name, "orgId": orgFinance.OrgID} }), signature.ErrBadSignature, ""},
		{"no sigD", with(func(m map[string]any) { delete(m, "sigD"); m["crit"] = []any{"seal", "sigT"} }), signature.ErrMalformed, ""},
		{"sigD not critical", with(func(m map[string]any) { m["crit"] = []any{"seal", "sigT"} }), signature.ErrHeader, "crit"},
		{"sigT not critical", with(func(m map[string]any) { m["crit"] = []any{"seal", "sigD"} }), signature.ErrHeader, "crit"},
		{"seal not critical", with(func(m map[string]any) { m["crit"] = []any{"sigD", "sigT"} }), signature.ErrHeader, "crit"},
		{"sigD other mechanism", with(func(m map[string]any) {
			sd := copyMap(m["sigD"])
			sd["mId"] = "http://uri.etsi.org/19182/HttpHeaders"
			m["sigD"] = sd
		}), signature.ErrHeader, "sigD"},
		{"sigD SHA-1", with(func(m map[string]any) { sd := copyMap(m["sigD"]); sd["hashM"] = "S1"; m["sigD"] = sd }), signature.ErrHeader, "sigD"},
		{"sigD two objects", with(func(m map[string]any) { sd := copyMap(m["sigD"]); sd["pars"] = []any{"a", "b"}; m["sigD"] = sd }), signature.ErrHeader, "sigD"},
		{"sigD short digest", with(func(m map[string]any) { sd := copyMap(m["sigD"]); sd["hashV"] = []any{"AAAA"}; m["sigD"] = sd }), signature.ErrMalformed, ""},
		{"sigD extra member", with(func(m map[string]any) { sd := copyMap(m["sigD"]); sd["ctys"] = []any{"json"}; m["sigD"] = sd }), signature.ErrMalformed, ""},
		{"not JSON", signature.Signature{Protected: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":`)), Signature: good.Signature}, signature.ErrMalformed, ""},
		{"duplicate alg", signature.Signature{Protected: base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"EdDSA","alg":"none"}`)), Signature: good.Signature}, signature.ErrMalformed, ""},
		{"header array", signature.Signature{Protected: base64.RawURLEncoding.EncodeToString([]byte(`[]`)), Signature: good.Signature}, signature.ErrMalformed, ""},
		{"protected padded", signature.Signature{Protected: good.Protected + "==", Signature: good.Signature}, signature.ErrMalformed, ""},
		{"protected with newline", signature.Signature{Protected: good.Protected[:10] + "\n" + good.Protected[10:], Signature: good.Signature}, signature.ErrMalformed, ""},
		{"protected std alphabet", signature.Signature{Protected: strings.ReplaceAll(good.Protected, "_", "/") + "+", Signature: good.Signature}, signature.ErrMalformed, ""},
		{"protected truncated", signature.Signature{Protected: good.Protected[:len(good.Protected)-7], Signature: good.Signature}, signature.ErrMalformed, ""},
		{"protected empty", signature.Signature{Protected: "", Signature: good.Signature}, signature.ErrMalformed, ""},
		{"signature truncated", signature.Signature{Protected: good.Protected, Signature: good.Signature[:40]}, signature.ErrBadSignature, ""},
		{"signature one char short", signature.Signature{Protected: good.Protected, Signature: good.Signature[:len(good.Signature)-1]}, signature.ErrMalformed, ""},
		{"signature padded", signature.Signature{Protected: good.Protected, Signature: good.Signature + "=="}, signature.ErrMalformed, ""},
		{"signature empty", signature.Signature{Protected: good.Protected, Signature: ""}, signature.ErrMalformed, ""},
		{"oversized header", with(func(m map[string]any) { m["kid"] = strings.Repeat("k", 40<<10) }), signature.ErrHeaderTooLarge, ""},
		{"kid twice", signature.Signature{Protected: with(func(m map[string]any) { m["kid"] = "a" }).Protected, Header: &signature.Unprotected{Kid: "b"}, Signature: good.Signature}, signature.ErrHeader, "kid"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, tc.sig, payload)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want, "%v", err)
			if tc.param != "" {
				var he *signature.HeaderError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, tc.param, he.Param)
			}
		})
	}
	var mm *signature.AlgorithmMismatchError
	_, err = v.Verify(ctx, cases[5].sig, payload)
	require.ErrorAs(t, err, &mm)
	assert.Equal(t, signature.ES256, mm.Header)
	assert.Equal(t, signature.EdDSA, mm.Key)
}

func copyMap(v any) map[string]any {
	out := map[string]any{}
	for k, x := range v.(map[string]any) {
		out[k] = x
	}
	return out
}

func mustSign(t *testing.T, c *pki.TestChain, payload []byte) signature.Signature {
	t.Helper()
	sig, err := signer(t, c).Sign(payload)
	require.NoError(t, err)
	return sig
}

func TestCheckOrgID(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"91350100M000100Y43", "11110000000000001R", "11310000000000002A", "121000004000003980"} {
		assert.NoError(t, signature.CheckOrgID(ok), ok)
	}
	for _, bad := range []string{"", "91350100M000100Y4", "91350100M000100Y44", "91350100M000100Y4I", "9135010OM000100Y43", "91350100m000100y43"} {
		err := signature.CheckOrgID(bad)
		assert.ErrorIs(t, err, signature.ErrOrgID, bad)
	}
	assert.True(t, errors.Is(signature.CheckOrgID("x"), signature.ErrOrgID))
}

func TestParsePrivateKeyFormats(t *testing.T) {
	t.Parallel()
	for _, alg := range []pki.KeyAlgorithm{pki.P256, pki.SM2, pki.Ed25519} {
		k, err := pki.GenerateKey(alg)
		require.NoError(t, err)
		p8, err := signature.EncodePrivateKeyPEM(k)
		require.NoError(t, err)
		got, err := signature.ParsePrivateKeyPEM(p8)
		require.NoError(t, err, alg)
		assert.True(t, got.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()), alg)
	}
	ec, err := pki.GenerateKey(pki.P256)
	require.NoError(t, err)
	der, err := x509.MarshalECPrivateKey(ec.(*ecdsa.PrivateKey))
	require.NoError(t, err)
	got, err := signature.ParsePrivateKeyPEM(append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})...))
	require.NoError(t, err)
	assert.True(t, got.(*ecdsa.PrivateKey).Equal(ec))
	smk, err := pki.GenerateKey(pki.SM2)
	require.NoError(t, err)
	der, err = smx509.MarshalSM2PrivateKey(smk.(*sm2.PrivateKey))
	require.NoError(t, err)
	got, err = signature.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	require.NoError(t, err)
	assert.IsType(t, &sm2.PrivateKey{}, got)
	rk := rsaKeys(t)[0]
	got, err = signature.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk.(*rsa.PrivateKey))}))
	require.NoError(t, err)
	assert.IsType(t, &rsa.PrivateKey{}, got)
	_, err = signature.ParsePrivateKeyPEM([]byte("nothing"))
	assert.Error(t, err)
	_, err = signature.ParsePrivateKeyPEM(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}))
	assert.Error(t, err)
}

// TestMixedChains has SM2 CAs issue non-SM2 seal certificates and the
// reverse: the chain is verified with smx509 whenever any certificate has
// an SM2 key or signature.
func TestMixedChains(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]pki.KeyAlgorithm{{pki.SM2, pki.Ed25519}, {pki.SM2, pki.P256}, {pki.Ed25519, pki.SM2}, {pki.P256, pki.SM2}} {
		t.Run(string(pair[0])+"-issues-"+string(pair[1]), func(t *testing.T) {
			t.Parallel()
			caKey, err := pki.GenerateKey(pair[0])
			require.NoError(t, err)
			opt := pki.Options{NotBefore: now.AddDate(-1, 0, 0)}
			root, err := pki.NewRoot(caKey, "混合根 CA", opt)
			require.NoError(t, err)
			key, err := pki.GenerateKey(pair[1])
			require.NoError(t, err)
			cert, err := root.IssueSeal(key.Public(), orgGov, opt)
			require.NoError(t, err)
			again, err := signature.ParseCertificate(cert.Raw)
			require.NoError(t, err)
			require.NoError(t, signature.CheckSignatureFrom(again, root.Certificate))
			s, err := signature.NewSigner(key, []*x509.Certificate{again}, signature.WithSigningClock(clockAt(now)))
			require.NoError(t, err)
			sig, err := s.Sign([]byte(`{}`))
			require.NoError(t, err)
			der, err := root.CreateCRL([]x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: now.Add(-time.Minute)}}, 1, now.Add(-time.Hour), now.Add(time.Hour))
			require.NoError(t, err)
			crl, err := signature.ParseCRL(der)
			require.NoError(t, err)

			_, err = verifier(t, []*x509.Certificate{root.Certificate}).Verify(ctx, sig, []byte(`{}`))
			assert.NoError(t, err)
			_, err = verifier(t, []*x509.Certificate{root.Certificate}, signature.WithCRLs(crl)).Verify(ctx, sig, []byte(`{}`))
			assert.ErrorIs(t, err, signature.ErrRevoked)
		})
	}
}
