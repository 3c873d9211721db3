// Package pki issues the certificates that electronic seals need: a root
// CA, intermediate CAs, seal certificates that carry the organ's identity
// (see [signature.SubjectFor]) and CRLs, for Ed25519, ECDSA P-256, RSA and
// SM2 keys. It backs the "egovkit pki" commands and gives tests and
// examples real root → intermediate → seal chains ([NewTestChain]) instead
// of hand-rolled certificates.
//
// It is a small CA for development, tests and closed deployments, not a
// replacement for a licensed electronic certification service
// (电子认证服务机构): it keeps no issuance database beyond what callers
// store, and its keys are as safe as the files they are written to.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"github.com/egovkit/egovkit/signature"
)

// KeyAlgorithm names a key type, as the command line spells it.
type KeyAlgorithm string

// Key algorithms.
const (
	Ed25519 KeyAlgorithm = "ed25519"
	P256    KeyAlgorithm = "p256"
	RSA     KeyAlgorithm = "rsa" // 2048-bit
	SM2     KeyAlgorithm = "sm2"
)

// KeyAlgorithms lists every key algorithm.
func KeyAlgorithms() []KeyAlgorithm { return []KeyAlgorithm{Ed25519, P256, RSA, SM2} }

// GenerateKey returns a new private key of the algorithm.
func GenerateKey(alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case Ed25519:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case P256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RSA:
		return rsa.GenerateKey(rand.Reader, 2048)
	case SM2:
		return sm2.GenerateKey(rand.Reader)
	}
	return nil, fmt.Errorf("pki: unknown key algorithm %q; expected ed25519, p256, rsa or sm2", alg)
}

// Options are the variable parts of a certificate. Zero fields take
// defaults.
type Options struct {
	// NotBefore defaults to one minute before now.
	NotBefore time.Time
	// NotAfter defaults to NotBefore plus 10 years for a CA and 3 years
	// for a seal certificate.
	NotAfter time.Time
	// KeyUsage overrides the key usage (for tests of wrong usages); zero
	// means CertSign|CRLSign for a CA and DigitalSignature|ContentCommitment
	// for a seal certificate.
	KeyUsage x509.KeyUsage
	// OCSPServer is written to the Authority Information Access extension.
	OCSPServer []string
	// CRLDistributionPoints is written to the CRL distribution points.
	CRLDistributionPoints []string
}

func (o Options) window(years int) (time.Time, time.Time) {
	nb := o.NotBefore
	if nb.IsZero() {
		nb = time.Now().Add(-time.Minute)
	}
	na := o.NotAfter
	if na.IsZero() {
		na = nb.AddDate(years, 0, 0)
	}
	return nb.UTC().Truncate(time.Second), na.UTC().Truncate(time.Second)
}

// CA is a certificate authority: its certificate and private key.
type CA struct {
	// Certificate is the CA's certificate.
	Certificate *x509.Certificate
	// Key is the CA's private key.
	Key crypto.Signer
}

// NewRoot creates a self-signed root CA named name.
func NewRoot(key crypto.Signer, name string, opt Options) (*CA, error) {
	nb, na := opt.window(10)
	t := caTemplate(name, nb, na, opt)
	t.MaxPathLen = 1
	c, err := create(t, t, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: c, Key: key}, nil
}

// NewIntermediate creates a CA named name under ca, which may issue only
// end-entity certificates.
func (ca *CA) NewIntermediate(key crypto.Signer, name string, opt Options) (*CA, error) {
	nb, na := opt.window(10)
	t := caTemplate(name, nb, na, opt)
	t.MaxPathLen, t.MaxPathLenZero = 0, true
	c, err := create(t, ca.Certificate, key.Public(), ca.Key)
	if err != nil {
		return nil, err
	}
	return &CA{Certificate: c, Key: key}, nil
}

func caTemplate(name string, nb, na time.Time, opt Options) *x509.Certificate {
	ku := opt.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	return &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Country: []string{"CN"}, Organization: []string{name}, CommonName: name},
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              ku,
		BasicConstraintsValid: true,
		IsCA:                  true,
		OCSPServer:            opt.OCSPServer,
		CRLDistributionPoints: opt.CRLDistributionPoints,
	}
}

// IssueSeal issues a seal certificate for pub naming the organ id: its
// Subject carries the name in O and CN and the unified social credit code in
// organizationIdentifier ("NTRCN-" + code). The code is checked with
// [signature.CheckOrgID].
func (ca *CA) IssueSeal(pub crypto.PublicKey, id signature.Identity, opt Options) (*x509.Certificate, error) {
	if id.Name == "" {
		return nil, errors.New("pki: the organ name is required")
	}
	if err := signature.CheckOrgID(id.OrgID); err != nil {
		return nil, err
	}
	if _, err := signature.AlgorithmForKey(pub); err != nil {
		return nil, err
	}
	nb, na := opt.window(3)
	ku := opt.KeyUsage
	if ku == 0 {
		ku = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	t := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               signature.SubjectFor(id),
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              ku,
		BasicConstraintsValid: true,
		OCSPServer:            opt.OCSPServer,
		CRLDistributionPoints: opt.CRLDistributionPoints,
	}
	return create(t, ca.Certificate, pub, ca.Key)
}

// CreateCRL returns a DER CRL signed by ca listing revoked, valid from
// thisUpdate to nextUpdate, with CRL number number.
func (ca *CA) CreateCRL(revoked []x509.RevocationListEntry, number int64, thisUpdate, nextUpdate time.Time) ([]byte, error) {
	t := &x509.RevocationList{
		RevokedCertificateEntries: revoked,
		Number:                    big.NewInt(number),
		ThisUpdate:                thisUpdate.UTC(),
		NextUpdate:                nextUpdate.UTC(),
	}
	if isSM2(ca.Key.Public()) {
		// gmsm v0.15.5 reads only the older RevokedCertificates field.
		for _, e := range revoked {
			rc := pkix.RevokedCertificate{SerialNumber: e.SerialNumber, RevocationTime: e.RevocationTime.UTC()}
			if e.ReasonCode != 0 {
				v, err := asn1.Marshal(asn1.Enumerated(e.ReasonCode))
				if err != nil {
					return nil, err
				}
				rc.Extensions = []pkix.Extension{{Id: oidReasonCode, Value: v}}
			}
			t.RevokedCertificates = append(t.RevokedCertificates, rc) //lint:ignore SA1019 as above
		}
		return smx509.CreateRevocationList(rand.Reader, t, (*smx509.Certificate)(ca.Certificate), ca.Key)
	}
	return x509.CreateRevocationList(rand.Reader, t, ca.Certificate, ca.Key)
}

// EncodeCRLPEM returns a DER CRL as an "X509 CRL" PEM block.
func EncodeCRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}

var oidReasonCode = asn1.ObjectIdentifier{2, 5, 29, 21}

func isSM2(pub crypto.PublicKey) bool { return sm2.IsSM2PublicKey(pub) }

func create(t, parent *x509.Certificate, pub crypto.PublicKey, priv crypto.Signer) (*x509.Certificate, error) {
	var der []byte
	var err error
	if isSM2(pub) || isSM2(priv.Public()) {
		der, err = smx509.CreateCertificate(rand.Reader, t, parent, pub, priv)
	} else {
		der, err = x509.CreateCertificate(rand.Reader, t, parent, pub, priv)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: creating certificate %q: %w", t.Subject.CommonName, err)
	}
	return signature.ParseCertificate(der)
}

func serial() *big.Int {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x01
	return new(big.Int).SetBytes(b)
}

// TestChain is a root → intermediate → seal certificate chain with the
// seal's private key, for tests and examples.
type TestChain struct {
	// Root and Intermediate are the CAs; the root is the trust anchor.
	Root, Intermediate *CA
	// Key is the seal's private key.
	Key crypto.Signer
	// Cert is the seal certificate.
	Cert *x509.Certificate
}

// NewTestChain creates a chain whose three keys are all of alg. opt applies
// to the seal certificate; the CAs get the defaults, starting a day before
// opt.NotBefore when that is set.
func NewTestChain(alg KeyAlgorithm, id signature.Identity, opt Options) (*TestChain, error) {
	var keys [3]crypto.Signer
	for i := range keys {
		k, err := GenerateKey(alg)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return NewTestChainWithKeys(keys[0], keys[1], keys[2], id, opt)
}

// NewTestChainWithKeys is [NewTestChain] with given root, intermediate and
// seal keys, so that tests can reuse slow-to-generate RSA keys.
func NewTestChainWithKeys(rootKey, interKey, key crypto.Signer, id signature.Identity, opt Options) (*TestChain, error) {
	caOpt := Options{}
	if !opt.NotBefore.IsZero() {
		caOpt.NotBefore = opt.NotBefore.AddDate(0, 0, -1)
	}
	root, err := NewRoot(rootKey, id.Name+" 测试根 CA", caOpt)
	if err != nil {
		return nil, err
	}
	inter, err := root.NewIntermediate(interKey, id.Name+" 测试中级 CA", caOpt)
	if err != nil {
		return nil, err
	}
	cert, err := inter.IssueSeal(key.Public(), id, opt)
	if err != nil {
		return nil, err
	}
	return &TestChain{Root: root, Intermediate: inter, Key: key, Cert: cert}, nil
}

// Chain returns the seal certificate and the intermediate, as x5c carries
// them (the root is the verifier's trust anchor).
func (tc *TestChain) Chain() []*x509.Certificate {
	return []*x509.Certificate{tc.Cert, tc.Intermediate.Certificate}
}

// Signer returns a signer for the chain.
func (tc *TestChain) Signer(opts ...signature.SignerOption) (*signature.Signer, error) {
	return signature.NewSigner(tc.Key, tc.Chain(), opts...)
}
