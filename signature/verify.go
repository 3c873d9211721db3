package signature

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Verifier verifies detached signatures against trust anchors. It is safe
// for concurrent use, and caches verified certificate chains (see
// [Verifier.Verify]).
type Verifier struct {
	roots  []*x509.Certificate
	pool   *x509.CertPool
	smPool *smx509.CertPool

	algs              map[Algorithm]bool
	crls              []*CRL
	ocsp              OCSPFetcher
	ocspCache         *OCSPCache
	clock             func() time.Time
	maxHeader         int
	uid               []byte
	skew              time.Duration
	requireRevocation bool

	mu     sync.Mutex
	chains map[[32]byte]*chainEntry
}

// DefaultMaxHeaderBytes bounds the decoded protected header: enough for a
// chain of three 4096-bit RSA certificates.
const DefaultMaxHeaderBytes = 32 << 10

// DefaultClockSkew is how far a signing time may lie after the
// verification time.
const DefaultClockSkew = 5 * time.Minute

const maxCachedChains = 1024

// VerifierOption configures [NewVerifier]. Options are created only by
// this package's functions.
type VerifierOption interface{ applyVerifier(*Verifier) error }

type verifierOption func(*Verifier) error

func (f verifierOption) applyVerifier(v *Verifier) error { return f(v) }

// WithAlgorithms replaces the allow-list of algorithms (by default all of
// [Algorithms]). An empty list or an unknown algorithm is an error.
func WithAlgorithms(algs ...Algorithm) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if len(algs) == 0 {
			return fmt.Errorf("%w: empty algorithm allow-list", ErrAlgorithm)
		}
		v.algs = map[Algorithm]bool{}
		for _, a := range algs {
			if !knownAlgorithm(a) {
				return fmt.Errorf("%w: unknown algorithm %q in allow-list", ErrAlgorithm, a)
			}
			v.algs[a] = true
		}
		return nil
	})
}

// WithCRLs adds certificate revocation lists. A CRL is used for the
// certificates its issuer issued, after its signature is checked against
// that issuer.
func WithCRLs(crls ...*CRL) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		for _, c := range crls {
			if c == nil {
				return errors.New("signature: nil CRL")
			}
		}
		v.crls = append(v.crls, crls...)
		return nil
	})
}

// WithOCSP makes the verifier ask OCSP for the status of each certificate
// below the root, through fetcher, keeping responses in cache until their
// nextUpdate (a nil cache gets a private one). See [HTTPOCSPFetcher] and
// [StaticOCSP].
func WithOCSP(fetcher OCSPFetcher, cache *OCSPCache) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if fetcher == nil {
			return errors.New("signature: nil OCSP fetcher")
		}
		if cache == nil {
			cache = NewOCSPCache(0)
		}
		v.ocsp, v.ocspCache = fetcher, cache
		return nil
	})
}

// RequireRevocationInfo makes a certificate for which neither a CRL of its
// issuer nor an OCSP response is available fail with
// [ErrRevocationCheck]. By default such a certificate is accepted.
func RequireRevocationInfo() VerifierOption {
	return verifierOption(func(v *Verifier) error { v.requireRevocation = true; return nil })
}

// WithClock sets the verification time source; the default is time.Now.
func WithClock(now func() time.Time) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if now == nil {
			return errors.New("signature: nil clock")
		}
		v.clock = now
		return nil
	})
}

// WithMaxHeaderBytes sets the largest decoded protected header accepted
// (default [DefaultMaxHeaderBytes]).
func WithMaxHeaderBytes(n int) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if n < 256 {
			return errors.New("signature: header limit below 256 bytes")
		}
		v.maxHeader = n
		return nil
	})
}

// WithUserID sets the SM2 user ID expected of SM2 signers (default
// [DefaultSM2UserID]).
func WithUserID(uid []byte) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if len(uid) == 0 || len(uid) > 8191 {
			return errors.New("signature: SM2 user ID must be 1 to 8191 bytes")
		}
		v.uid = append([]byte(nil), uid...)
		return nil
	})
}

// WithClockSkew sets how far a signing time may lie after the verification
// time (default [DefaultClockSkew]).
func WithClockSkew(d time.Duration) VerifierOption {
	return verifierOption(func(v *Verifier) error {
		if d < 0 {
			return errors.New("signature: negative clock skew")
		}
		v.skew = d
		return nil
	})
}

// NewVerifier returns a verifier that trusts chains ending at one of roots.
// At least one root is required.
func NewVerifier(roots []*x509.Certificate, opts ...VerifierOption) (*Verifier, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: no trust anchors", ErrUnknownRoot)
	}
	v := &Verifier{
		roots:     roots,
		pool:      x509.NewCertPool(),
		smPool:    smx509.NewCertPool(),
		algs:      map[Algorithm]bool{EdDSA: true, ES256: true, PS256: true, SM2SM3: true},
		clock:     time.Now,
		maxHeader: DefaultMaxHeaderBytes,
		uid:       []byte(DefaultSM2UserID),
		skew:      DefaultClockSkew,
		chains:    map[[32]byte]*chainEntry{},
	}
	for _, r := range roots {
		if r == nil {
			return nil, errors.New("signature: nil root certificate")
		}
		v.pool.AddCert(r)
		v.smPool.AddCert((*smx509.Certificate)(r))
	}
	for _, o := range opts {
		if err := o.applyVerifier(v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Verified describes a signature that verified, or as much of one as was
// read before verification failed.
type Verified struct {
	// Algorithm is the algorithm, taken from the certificate's key.
	Algorithm Algorithm
	// SigningTime is the signer's claimed signing time (sigT).
	SigningTime time.Time
	// Identity is the seal identity of the header, equal to the
	// certificate's when verification succeeded; zero for a signature
	// without a seal identity.
	Identity Identity
	// Certificate is the signing certificate.
	Certificate *x509.Certificate
	// Chain is the verified chain, signing certificate first, root last.
	Chain []*x509.Certificate
}

// Verify verifies a detached signature over payload. In order it:
// decodes and strictly parses the protected header (size-limited); refuses
// none, HMAC, unknown or disallowed algorithms, jwk/jku/x5u, unknown
// parameters and crit entries; parses the x5c chain; takes the algorithm
// from the signing certificate's key and refuses a header alg that differs;
// verifies the signature over BASE64URL(header) '.' (the payload is
// empty) and that the header's sigD digest is SHA-256(payload);
// verifies the chain to a trust anchor at the signing time and at the
// verification time, with the digitalSignature or nonRepudiation key usage;
// checks revocation at the verification time; and checks that a seal
// identity in the header is the certificate's.
//
// Chains are cached by the SHA-256 of their x5c values together with their
// common validity period, so a second signature by the same chain costs
// no certificate parsing or chain building; revocation is checked every
// time.
func (v *Verifier) Verify(ctx context.Context, sig Signature, payload []byte) (*Verified, error) {
	return v.verifyDigest(ctx, sig, sha256.Sum256(payload))
}

func (v *Verifier) verifyDigest(ctx context.Context, sig Signature, digest [32]byte) (*Verified, error) {
	out := &Verified{}
	h, err := v.parseHeader(sig.Protected)
	if err != nil {
		return out, err
	}
	out.SigningTime, out.Identity = h.signingTime, h.identity
	if sig.Header != nil {
		// Header names must be disjoint (RFC 7515 §7.2.1); Unprotected
		// holds only kid and etsiU, which the protected header may also
		// carry only as kid.
		if sig.Header.Kid != "" && h.kid {
			return out, &HeaderError{Param: "kid", Reason: "present in both the protected and the unprotected header"}
		}
	}
	sigBytes, err := decodeB64URL("signature", sig.Signature, 1024)
	if err != nil {
		return out, err
	}
	entry, err := v.chainEntry(h.x5c)
	if err != nil {
		return out, err
	}
	leaf := entry.certs[0]
	out.Certificate = leaf
	keyAlg, err := AlgorithmForKey(leaf.PublicKey)
	if err != nil || keyAlg != h.alg {
		return out, &AlgorithmMismatchError{Header: h.alg, Key: keyAlg}
	}
	out.Algorithm = keyAlg
	if h.x5tS256 != "" && h.x5tS256 != x5tS256(leaf) {
		return out, &HeaderError{Param: "x5t#S256", Reason: "does not match the first x5c certificate"}
	}
	input := make([]byte, 0, len(sig.Protected)+1)
	input = append(input, sig.Protected...)
	input = append(input, '.')
	if err := verifyRaw(leaf.PublicKey, keyAlg, v.uid, input, sigBytes); err != nil {
		return out, err
	}
	if subtle.ConstantTimeCompare(h.digest, digest[:]) != 1 {
		return out, fmt.Errorf("%w: the document's SHA-256 differs from the one the seal signed (sigD)", ErrBadSignature)
	}
	at := v.clock()
	if h.signingTime.After(at.Add(v.skew)) {
		return out, fmt.Errorf("%w: signed at %s, verified at %s", ErrSigningTime, h.signingTime.Format(time.RFC3339), at.UTC().Format(time.RFC3339))
	}
	chain, err := v.checkChain(entry, h.signingTime)
	if err != nil {
		return out, err
	}
	if _, err := v.checkChain(entry, at); err != nil {
		return out, err
	}
	out.Chain = chain
	if err := v.checkRevocation(ctx, chain, at); err != nil {
		return out, err
	}
	if !h.identity.IsZero() {
		certID, err := CertificateIdentity(leaf)
		if err != nil {
			return out, fmt.Errorf("header names seal %s: %w", h.identity, err)
		}
		if certID != h.identity {
			return out, &IdentityMismatchError{Header: h.identity, Certificate: certID}
		}
	}
	return out, nil
}

// chainEntry is a parsed x5c value and, once built, its verified chain.
type chainEntry struct {
	certs []*x509.Certificate
	sm2   bool

	mu                  sync.Mutex
	chain               []*x509.Certificate
	notBefore, notAfter time.Time
}

func (v *Verifier) chainEntry(x5c []string) (*chainEntry, error) {
	h := sha256.New()
	for _, s := range x5c {
		h.Write([]byte(s))
		h.Write([]byte{','})
	}
	var key [32]byte
	h.Sum(key[:0])
	v.mu.Lock()
	e := v.chains[key]
	v.mu.Unlock()
	if e != nil {
		return e, nil
	}
	e = &chainEntry{}
	for i, s := range x5c {
		field := fmt.Sprintf("x5c[%d]", i)
		der, err := decodeB64Std(field, s)
		if err != nil {
			return nil, err
		}
		c, err := ParseCertificate(der)
		if err != nil {
			return nil, &MalformedError{Field: field, Reason: "not an X.509 certificate", Err: err}
		}
		e.certs = append(e.certs, c)
		if isSM2Cert(c) {
			e.sm2 = true
		}
	}
	v.mu.Lock()
	if len(v.chains) >= maxCachedChains {
		clear(v.chains)
	}
	v.chains[key] = e
	v.mu.Unlock()
	return e, nil
}

// checkChain verifies the entry's chain at t and returns it.
func (v *Verifier) checkChain(e *chainEntry, t time.Time) ([]*x509.Certificate, error) {
	leaf := e.certs[0]
	if leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, &KeyUsageError{Cert: leaf}
	}
	for _, c := range e.certs {
		if err := validityAt(c, t); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.chain != nil {
		if t.Before(e.notBefore) || t.After(e.notAfter) {
			for _, c := range e.chain {
				if err := validityAt(c, t); err != nil {
					return nil, err
				}
			}
		}
		return e.chain, nil
	}
	chain, err := v.buildChain(e, t)
	if err != nil {
		return nil, err
	}
	e.chain = chain
	e.notBefore, e.notAfter = chain[0].NotBefore, chain[0].NotAfter
	for _, c := range chain[1:] {
		if c.NotBefore.After(e.notBefore) {
			e.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(e.notAfter) {
			e.notAfter = c.NotAfter
		}
	}
	return chain, nil
}

func validityAt(c *x509.Certificate, t time.Time) error {
	if t.Before(c.NotBefore) {
		return &NotYetValidError{Cert: c, At: t}
	}
	if t.After(c.NotAfter) {
		return &ExpiredError{Cert: c, At: t}
	}
	return nil
}

func (v *Verifier) buildChain(e *chainEntry, t time.Time) ([]*x509.Certificate, error) {
	leaf := e.certs[0]
	if !e.sm2 {
		inter := x509.NewCertPool()
		for _, c := range e.certs[1:] {
			inter.AddCert(c)
		}
		chains, err := leaf.Verify(x509.VerifyOptions{Roots: v.pool, Intermediates: inter, CurrentTime: t,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return nil, v.mapChainError(leaf, t, err)
		}
		return chains[0], nil
	}
	inter := smx509.NewCertPool()
	for _, c := range e.certs[1:] {
		inter.AddCert((*smx509.Certificate)(c))
	}
	chains, err := (*smx509.Certificate)(leaf).Verify(smx509.VerifyOptions{Roots: v.smPool, Intermediates: inter, CurrentTime: t,
		KeyUsages: []smx509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return nil, v.mapChainError(leaf, t, err)
	}
	out := make([]*x509.Certificate, len(chains[0]))
	for i, c := range chains[0] {
		out[i] = c.ToX509()
	}
	return out, nil
}

func (v *Verifier) mapChainError(leaf *x509.Certificate, t time.Time, err error) error {
	var ua x509.UnknownAuthorityError
	var sua smx509.UnknownAuthorityError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua), errors.As(err, &sua):
		return &UnknownRootError{Cert: leaf, Err: err}
	case errors.As(err, &ci) && ci.Reason == x509.Expired && ci.Cert != nil:
		if verr := validityAt(ci.Cert, t); verr != nil {
			return verr
		}
	}
	return &ChainError{Cert: leaf, Err: err}
}
