package signature

import (
	"crypto"
	"crypto/x509"
	"time"
)

// NewSignerUnchecked builds a signer without NewSigner's checks and with a
// chosen header identity, so tests can produce signatures that a careful
// signer would refuse to make (wrong key usage, a forged seal identity).
func NewSignerUnchecked(key crypto.Signer, chain []*x509.Certificate, id Identity, now func() time.Time) *Signer {
	alg, _ := AlgorithmForKey(key.Public())
	s := &Signer{key: key, alg: alg, chain: chain, identity: id, uid: []byte(DefaultSM2UserID), clock: now}
	s.buildHeader()
	return s
}

// SignWithHeader signs with a caller-written protected header.
func SignWithHeader(s *Signer, header []byte) (Signature, error) {
	return s.signWithHeader(header)
}
