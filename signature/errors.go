package signature

import (
	"crypto/x509"
	"errors"
	"strconv"
	"time"
)

// Sentinel errors. Each typed error below matches one of them with
// errors.Is, so callers can branch on the kind of failure without reading
// messages, and use errors.As for the data.
var (
	// ErrMalformed is a signature object, header or field that is not
	// well formed: not strict JSON, a missing or mistyped member, a value
	// that is not base64url, a truncated signature.
	ErrMalformed = errors.New("signature: malformed")
	// ErrHeaderTooLarge is a protected header larger than the verifier's
	// limit.
	ErrHeaderTooLarge = errors.New("signature: header too large")
	// ErrAlgorithm is an algorithm that is refused: "none", an HMAC
	// algorithm, one missing from the allow-list, or one that does not
	// match the certificate's key.
	ErrAlgorithm = errors.New("signature: algorithm refused")
	// ErrHeader is a header parameter that is refused: jwk, jku or x5u
	// (keys must come from the verified x5c chain), an unknown or
	// duplicated crit entry, or a parameter this package does not know.
	ErrHeader = errors.New("signature: header parameter refused")
	// ErrBadSignature is a signature that does not verify over the signed
	// bytes with the certificate's key: the document or the header was
	// changed, or the signature belongs to another document.
	ErrBadSignature = errors.New("signature: signature does not verify")
	// ErrExpired matches [*ExpiredError].
	ErrExpired = errors.New("signature: certificate expired")
	// ErrNotYetValid matches [*NotYetValidError].
	ErrNotYetValid = errors.New("signature: certificate not yet valid")
	// ErrRevoked matches [*RevokedError].
	ErrRevoked = errors.New("signature: certificate revoked")
	// ErrKeyUsage matches [*KeyUsageError].
	ErrKeyUsage = errors.New("signature: certificate key usage does not allow signing")
	// ErrUnknownRoot matches [*UnknownRootError].
	ErrUnknownRoot = errors.New("signature: certificate chain does not lead to a trust anchor")
	// ErrChain is any other failure to verify a certificate chain (a bad
	// signature on a certificate, a constraint violated).
	ErrChain = errors.New("signature: certificate chain invalid")
	// ErrRevocationCheck is revocation information that could not be used:
	// a CRL or OCSP response with a bad signature, an OCSP responder that
	// could not be reached or answered "unknown", or missing information
	// when the verifier requires it.
	ErrRevocationCheck = errors.New("signature: revocation status unavailable")
	// ErrIdentity matches [*IdentityMismatchError] and a seal without an
	// identity where one is required.
	ErrIdentity = errors.New("signature: seal identity invalid")
	// ErrSigningTime is a signing time in the future of the verification
	// time (beyond the allowed clock skew).
	ErrSigningTime = errors.New("signature: signing time after verification time")
	// ErrNoSeals is a document that carries no seal at all.
	ErrNoSeals = errors.New("signature: document has no seals")
	// ErrMissingSeal matches [*MissingSealError].
	ErrMissingSeal = errors.New("signature: required seal missing")
	// ErrKey is a private key or certificate the signer cannot use: an
	// unsupported key type, an RSA key under 2048 bits, a key that does
	// not match the certificate.
	ErrKey = errors.New("signature: unusable key")
)

// MalformedError says which field of a signature is malformed and why.
type MalformedError struct {
	// Field names the member, such as "protected", "signature",
	// "header.x5c[1]" or "sigT".
	Field string
	// Reason says what is wrong and what was expected.
	Reason string
	// Err is the underlying error, if any (a *jcs.Error for bad JSON).
	Err error
}

// Error implements error.
func (e *MalformedError) Error() string {
	s := "signature: malformed " + e.Field + ": " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrMalformed].
func (e *MalformedError) Is(target error) bool { return target == ErrMalformed }

// Unwrap returns the underlying error.
func (e *MalformedError) Unwrap() error { return e.Err }

// HeaderError is a header parameter refused by the verifier. It matches
// [ErrHeader], or [ErrAlgorithm] for the "alg" parameter.
type HeaderError struct {
	// Param is the header parameter name, such as "alg", "jwk" or "crit".
	Param string
	// Reason says why it is refused.
	Reason string
}

// Error implements error.
func (e *HeaderError) Error() string {
	return "signature: header parameter " + strconv.Quote(e.Param) + " refused: " + e.Reason
}

// Is reports whether target is [ErrHeader] or, for "alg", [ErrAlgorithm].
func (e *HeaderError) Is(target error) bool {
	return target == ErrHeader || (e.Param == "alg" && target == ErrAlgorithm)
}

// AlgorithmMismatchError is a header "alg" that does not match the key of
// the signing certificate: the verifier takes the algorithm from the key.
type AlgorithmMismatchError struct {
	Header Algorithm // what the header claims
	Key    Algorithm // what the certificate's key allows ("" if none)
}

// Error implements error.
func (e *AlgorithmMismatchError) Error() string {
	k := string(e.Key)
	if k == "" {
		k = "no supported algorithm"
	}
	return "signature: header alg " + strconv.Quote(string(e.Header)) + " does not match the certificate key (" + k + ")"
}

// Is reports whether target is [ErrAlgorithm].
func (e *AlgorithmMismatchError) Is(target error) bool { return target == ErrAlgorithm }

// ExpiredError is a certificate in the chain whose validity ended before
// the time it was checked at.
type ExpiredError struct {
	// Cert is the expired certificate.
	Cert *x509.Certificate
	// At is the time checked: the signing time or the verification time.
	At time.Time
}

// Error implements error.
func (e *ExpiredError) Error() string {
	return "signature: certificate " + certName(e.Cert) + " expired at " + e.Cert.NotAfter.UTC().Format(time.RFC3339) + ", before " + e.At.UTC().Format(time.RFC3339)
}

// Is reports whether target is [ErrExpired].
func (e *ExpiredError) Is(target error) bool { return target == ErrExpired }

// NotYetValidError is a certificate in the chain whose validity starts
// after the time it was checked at.
type NotYetValidError struct {
	// Cert is the certificate not yet valid.
	Cert *x509.Certificate
	// At is the time checked: the signing time or the verification time.
	At time.Time
}

// Error implements error.
func (e *NotYetValidError) Error() string {
	return "signature: certificate " + certName(e.Cert) + " is valid only from " + e.Cert.NotBefore.UTC().Format(time.RFC3339) + ", after " + e.At.UTC().Format(time.RFC3339)
}

// Is reports whether target is [ErrNotYetValid].
func (e *NotYetValidError) Is(target error) bool { return target == ErrNotYetValid }

// RevokedError is a certificate revoked at or before the verification time.
// Without a trusted timestamp the signing time proves nothing, so a
// revocation at any time before verification invalidates the seal.
type RevokedError struct {
	// Cert is the revoked certificate.
	Cert *x509.Certificate
	// RevokedAt is the revocation time the CRL or OCSP response gives.
	RevokedAt time.Time
	// Reason is the RFC 5280 CRL reason code (0 when unspecified).
	Reason int
	// Source is "crl" or "ocsp".
	Source string
}

// Error implements error.
func (e *RevokedError) Error() string {
	return "signature: certificate " + certName(e.Cert) + " was revoked at " + e.RevokedAt.UTC().Format(time.RFC3339) + " (" + e.Source + ", reason " + strconv.Itoa(e.Reason) + ")"
}

// Is reports whether target is [ErrRevoked].
func (e *RevokedError) Is(target error) bool { return target == ErrRevoked }

// KeyUsageError is a signing certificate whose key usage allows neither
// digital signatures nor non-repudiation (content commitment).
type KeyUsageError struct {
	// Cert is the signing certificate.
	Cert *x509.Certificate
}

// Error implements error.
func (e *KeyUsageError) Error() string {
	return "signature: certificate " + certName(e.Cert) + " does not have the digitalSignature or nonRepudiation key usage"
}

// Is reports whether target is [ErrKeyUsage].
func (e *KeyUsageError) Is(target error) bool { return target == ErrKeyUsage }

// UnknownRootError is a chain that does not lead to any of the verifier's
// trust anchors.
type UnknownRootError struct {
	// Cert is the signing certificate.
	Cert *x509.Certificate
	// Err is the error of the chain builder.
	Err error
}

// Error implements error.
func (e *UnknownRootError) Error() string {
	return "signature: certificate " + certName(e.Cert) + " does not chain to a trusted root: " + e.Err.Error()
}

// Is reports whether target is [ErrUnknownRoot].
func (e *UnknownRootError) Is(target error) bool { return target == ErrUnknownRoot }

// Unwrap returns the chain builder's error.
func (e *UnknownRootError) Unwrap() error { return e.Err }

// ChainError is any other chain verification failure.
type ChainError struct {
	// Cert is the signing certificate.
	Cert *x509.Certificate
	// Err is the chain builder's error.
	Err error
}

// Error implements error.
func (e *ChainError) Error() string {
	return "signature: certificate chain of " + certName(e.Cert) + " invalid: " + e.Err.Error()
}

// Is reports whether target is [ErrChain].
func (e *ChainError) Is(target error) bool { return target == ErrChain }

// Unwrap returns the underlying error.
func (e *ChainError) Unwrap() error { return e.Err }

// RevocationCheckError is revocation information that could not be used.
type RevocationCheckError struct {
	// Cert is the certificate whose status is unknown.
	Cert *x509.Certificate
	// Source is "crl" or "ocsp".
	Source string
	// Reason says what went wrong.
	Reason string
	// Err is the underlying error, if any.
	Err error
}

// Error implements error.
func (e *RevocationCheckError) Error() string {
	s := "signature: revocation status of " + certName(e.Cert) + " (" + e.Source + "): " + e.Reason
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is [ErrRevocationCheck].
func (e *RevocationCheckError) Is(target error) bool { return target == ErrRevocationCheck }

// Unwrap returns the underlying error.
func (e *RevocationCheckError) Unwrap() error { return e.Err }

// IdentityMismatchError is a seal whose header identity differs from the
// identity in its certificate, so the header claims an organ the key does
// not belong to.
type IdentityMismatchError struct {
	// Header is the identity the seal header claims.
	Header Identity
	// Certificate is the identity the certificate carries.
	Certificate Identity
}

// Error implements error.
func (e *IdentityMismatchError) Error() string {
	return "signature: seal header names " + e.Header.String() + " but the certificate belongs to " + e.Certificate.String()
}

// Is reports whether target is [ErrIdentity].
func (e *IdentityMismatchError) Is(target error) bool { return target == ErrIdentity }

// MissingSealError is an organ that the policy requires a valid seal from
// and that has none.
type MissingSealError struct {
	// Identity is the required issuer.
	Identity Identity
}

// Error implements error.
func (e *MissingSealError) Error() string {
	return "signature: no valid seal of required issuer " + e.Identity.String()
}

// Is reports whether target is [ErrMissingSeal].
func (e *MissingSealError) Is(target error) bool { return target == ErrMissingSeal }

// SealError is the failure of one entry of a document's signatures.
type SealError struct {
	// Index is the entry's position in the signatures array.
	Index int
	// Err is the seal's error.
	Err error
}

// Error implements error.
func (e *SealError) Error() string {
	return "signatures[" + strconv.Itoa(e.Index) + "]: " + e.Err.Error()
}

// Unwrap returns the seal's error.
func (e *SealError) Unwrap() error { return e.Err }

func certName(c *x509.Certificate) string {
	if c == nil {
		return "(none)"
	}
	name := c.Subject.CommonName
	if name == "" && len(c.Subject.Organization) > 0 {
		name = c.Subject.Organization[0]
	}
	return strconv.Quote(name) + " (serial " + c.SerialNumber.Text(16) + ")"
}
