package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
)

// ParseCertificate parses one DER certificate. Certificates with SM2 keys
// or SM2 signatures, which crypto/x509 does not read, are parsed with
// gmsm's smx509 and returned as the same *x509.Certificate type (smx509's
// Certificate has x509.Certificate's layout).
func ParseCertificate(der []byte) (*x509.Certificate, error) {
	c, err := x509.ParseCertificate(der)
	if err == nil && c.SignatureAlgorithm != x509.UnknownSignatureAlgorithm {
		return c, nil
	}
	// An SM2 key, or another key under an SM2 signature, which crypto/x509
	// parses but cannot name.
	sc, serr := smx509.ParseCertificate(der)
	if serr != nil && err == nil {
		return c, nil
	}
	if serr != nil {
		return nil, err
	}
	return sc.ToX509(), nil
}

// ParseCertificatesPEM parses every "CERTIFICATE" block of PEM data, in
// order, and fails on any other block or on none.
func ParseCertificatesPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("signature: PEM block %q where a CERTIFICATE was expected", b.Type)
		}
		c, err := ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("signature: no PEM CERTIFICATE block found")
	}
	return certs, nil
}

// EncodeCertificatesPEM returns certs as concatenated PEM blocks.
func EncodeCertificatesPEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// ParsePrivateKeyPEM parses an Ed25519, ECDSA P-256, RSA or SM2 private key
// from PEM: a PKCS #8 "PRIVATE KEY" block (what this package writes), or
// the SEC 1 "EC PRIVATE KEY" and PKCS #1 "RSA PRIVATE KEY" blocks other
// tools write. A leading "EC PARAMETERS" block is skipped.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	var b *pem.Block
	for {
		b, data = pem.Decode(data)
		if b == nil || b.Type != "EC PARAMETERS" {
			break
		}
	}
	if b == nil {
		return nil, errors.New("signature: no PEM private key block found")
	}
	var k any
	var err error
	switch b.Type {
	case "PRIVATE KEY":
		k, err = smx509.ParsePKCS8PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		var ec *ecdsa.PrivateKey
		ec, err = smx509.ParseECPrivateKey(b.Bytes)
		if err == nil && sm2.IsSM2PublicKey(&ec.PublicKey) {
			k, err = new(sm2.PrivateKey).FromECPrivateKey(ec)
		} else {
			k = ec
		}
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("signature: PEM block %q where a private key was expected", b.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: key of type %T cannot sign", ErrKey, k)
	}
	if _, err := AlgorithmForKey(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// EncodePrivateKeyPEM returns key as a PKCS #8 "PRIVATE KEY" PEM block.
// Write it to a file only with mode 0600.
func EncodePrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	var der []byte
	var err error
	if k, ok := key.(*sm2.PrivateKey); ok {
		der, err = smx509.MarshalPKCS8PrivateKey(k)
	} else {
		der, err = x509.MarshalPKCS8PrivateKey(key)
	}
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// isSM2Cert reports whether c has an SM2 key or an SM2 signature, so that
// its chain must be verified with smx509.
func isSM2Cert(c *x509.Certificate) bool {
	return sm2.IsSM2PublicKey(c.PublicKey) || c.SignatureAlgorithm == smx509.SM2WithSM3 || c.SignatureAlgorithm == x509.UnknownSignatureAlgorithm
}

// CheckSignatureFrom checks that parent's key signed cert, for every key
// type of this package (SM2 through smx509). It checks no names, times or
// usages.
func CheckSignatureFrom(cert, parent *x509.Certificate) error {
	if isSM2Cert(cert) || isSM2Cert(parent) {
		return (*smx509.Certificate)(cert).CheckSignatureFrom((*smx509.Certificate)(parent))
	}
	return cert.CheckSignatureFrom(parent)
}
