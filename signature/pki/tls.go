package pki

import (
	"crypto"
	"crypto/x509"
	"errors"
	"net"

	"github.com/egovkit/egovkit/signature"
)

// IssueTLS issues a certificate for a node's mutual TLS (server and client
// authentication) to the organ id, valid for hosts (DNS names or IP
// addresses). TLS needs an Ed25519, ECDSA or RSA key: Go's TLS stack has no
// SM2 cipher suites (GB/T 38636 TLCP is a different protocol).
func (ca *CA) IssueTLS(pub crypto.PublicKey, id signature.Identity, hosts []string, opt Options) (*x509.Certificate, error) {
	if isSM2(pub) {
		return nil, errors.New("pki: TLS certificates need an Ed25519, ECDSA or RSA key; Go's TLS has no SM2")
	}
	if len(hosts) == 0 {
		return nil, errors.New("pki: a TLS certificate needs at least one host name or IP address")
	}
	nb, na := opt.window(3)
	t := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               signature.SubjectFor(id),
		NotBefore:             nb,
		NotAfter:              na,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
	return create(t, ca.Certificate, pub, ca.Key)
}
