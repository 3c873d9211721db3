package signature

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
)

// Algorithm is a JWS "alg" value (RFC 7518 §3.1) that this package signs
// and verifies with.
type Algorithm string

// The supported algorithms. The verifier derives the algorithm from the
// signing certificate's key; a header alg that differs is refused.
const (
	// EdDSA is Ed25519 (RFC 8037).
	EdDSA Algorithm = "EdDSA"
	// ES256 is ECDSA on P-256 with SHA-256; the signature is the 64-byte
	// r‖s concatenation (RFC 7518 §3.4), not ASN.1 DER.
	ES256 Algorithm = "ES256"
	// PS256 is RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte
	// salt (RFC 7518 §3.5), with keys of at least 2048 bits.
	PS256 Algorithm = "PS256"
	// SM2SM3 is the SM2 signature with SM3 hashing (GB/T 32918.2,
	// GB/T 35276) under the private algorithm name "SM2-SM3" (the name
	// gmsm's smx509 also gives the X.509 algorithm). The signed hash is
	// SM3(Z_A ‖ message) with Z_A computed from the signer's user ID,
	// GB/T 35276's default "1234567812345678" unless configured. As for
	// ES256, the JWS signature is the 64-byte r‖s form rather than the
	// 70–72-byte DER of GB/T 35276.
	SM2SM3 Algorithm = "SM2-SM3"
)

// DefaultSM2UserID is the SM2 signer identity of GB/T 35276 used when none
// is configured.
const DefaultSM2UserID = "1234567812345678"

// Algorithms returns the supported algorithms, the verifier's default
// allow-list.
func Algorithms() []Algorithm { return []Algorithm{EdDSA, ES256, PS256, SM2SM3} }

func knownAlgorithm(a Algorithm) bool {
	switch a {
	case EdDSA, ES256, PS256, SM2SM3:
		return true
	}
	return false
}

// MinRSABits is the smallest RSA modulus accepted for PS256.
const MinRSABits = 2048

// AlgorithmForKey returns the algorithm for a public key: EdDSA for
// Ed25519, ES256 for ECDSA P-256, SM2SM3 for an SM2 key, PS256 for RSA of
// at least 2048 bits. Any other key is an [ErrKey] error.
func AlgorithmForKey(pub crypto.PublicKey) (Algorithm, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) == ed25519.PublicKeySize {
			return EdDSA, nil
		}
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() {
			return ES256, nil
		}
		if k.Curve == sm2.P256() {
			return SM2SM3, nil
		}
		return "", fmt.Errorf("%w: ECDSA curve %s is not supported (P-256 or SM2 only)", ErrKey, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if k.N.BitLen() < MinRSABits {
			return "", fmt.Errorf("%w: RSA key of %d bits; at least %d required", ErrKey, k.N.BitLen(), MinRSABits)
		}
		return PS256, nil
	}
	return "", fmt.Errorf("%w: public key of type %T is not supported", ErrKey, pub)
}

// signRaw signs the JWS signing input msg with key for alg.
func signRaw(rnd io.Reader, key crypto.Signer, alg Algorithm, uid []byte, msg []byte) ([]byte, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch alg {
	case EdDSA:
		return key.Sign(rnd, msg, crypto.Hash(0))
	case ES256:
		d := sha256.Sum256(msg)
		der, err := key.Sign(rnd, d[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return derToRS(der, 32)
	case PS256:
		d := sha256.Sum256(msg)
		return key.Sign(rnd, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	case SM2SM3:
		der, err := key.Sign(rnd, msg, sm2.NewSM2SignerOption(true, uid))
		if err != nil {
			return nil, err
		}
		return derToRS(der, 32)
	}
	return nil, fmt.Errorf("%w: %q", ErrAlgorithm, alg)
}

// verifyRaw verifies sig over msg with pub for alg; alg has been derived
// from pub by the caller.
func verifyRaw(pub crypto.PublicKey, alg Algorithm, uid, msg, sig []byte) error {
	ok := false
	switch alg {
	case EdDSA:
		k, _ := pub.(ed25519.PublicKey)
		ok = len(sig) == ed25519.SignatureSize && len(k) == ed25519.PublicKeySize && ed25519.Verify(k, msg, sig)
	case ES256:
		k, _ := pub.(*ecdsa.PublicKey)
		if len(sig) != 64 || k == nil {
			break
		}
		d := sha256.Sum256(msg)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		ok = ecdsa.Verify(k, d[:], r, s)
	case PS256:
		k, _ := pub.(*rsa.PublicKey)
		if k == nil || len(sig) != k.Size() {
			break
		}
		d := sha256.Sum256(msg)
		ok = rsa.VerifyPSS(k, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case SM2SM3:
		k, _ := pub.(*ecdsa.PublicKey)
		if len(sig) != 64 || k == nil {
			break
		}
		der, err := rsToDER(sig)
		if err != nil {
			break
		}
		ok = sm2.VerifyASN1WithSM2(k, uid, msg, der)
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}

type ecSig struct{ R, S *big.Int }

// derToRS converts an ASN.1 ECDSA/SM2 signature to fixed-size r‖s.
func derToRS(der []byte, size int) ([]byte, error) {
	var s ecSig
	rest, err := asn1.Unmarshal(der, &s)
	if err != nil || len(rest) != 0 || s.R == nil || s.S == nil || s.R.Sign() <= 0 || s.S.Sign() <= 0 ||
		s.R.BitLen() > size*8 || s.S.BitLen() > size*8 {
		return nil, errors.New("signature: signer returned a malformed ECDSA/SM2 signature")
	}
	out := make([]byte, 2*size)
	s.R.FillBytes(out[:size])
	s.S.FillBytes(out[size:])
	return out, nil
}

// rsToDER converts a 64-byte r‖s signature to ASN.1 DER.
func rsToDER(rs []byte) ([]byte, error) {
	half := len(rs) / 2
	r, s := new(big.Int).SetBytes(rs[:half]), new(big.Int).SetBytes(rs[half:])
	if r.Sign() == 0 || s.Sign() == 0 {
		return nil, ErrBadSignature
	}
	return asn1.Marshal(ecSig{r, s})
}
