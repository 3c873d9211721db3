package signature

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// Signature is one detached JWS in the flattened JSON serialisation
// (RFC 7515 §7.2.2 with the payload omitted as in Appendix F). The
// detached data (for a document, its canonical form) is supplied by the
// verifier and bound by its SHA-256 in the protected header's sigD; the
// JWS payload itself is empty.
type Signature struct {
	// Protected is the base64url-encoded protected header.
	Protected string `json:"protected"`
	// Header is the unprotected header, if any. It carries nothing that the
	// verifier trusts; see [Unprotected].
	Header *Unprotected `json:"header,omitempty"`
	// Signature is the base64url-encoded signature.
	Signature string `json:"signature"`
}

// Unprotected is the unprotected JWS header. Only two members are allowed:
// "kid", a hint the verifier ignores, and "etsiU", the JAdES (ETSI TS
// 119 182-1) array of unsigned properties, reserved for the RFC 3161
// signature timestamp ("sigTst") that a later version will verify; this
// version keeps it but does not interpret it.
type Unprotected struct {
	// Kid is a key hint; it selects nothing.
	Kid string `json:"kid,omitempty"`
	// EtsiU holds JAdES unsigned properties, kept uninterpreted.
	EtsiU []json.RawMessage `json:"etsiU,omitempty"`
}

// Protected header parameters written by the signer.
const (
	headerSigningTime = "sigT" // JAdES claimed signing time
	headerSeal        = "seal" // egovkit: the seal's identity {"name","orgId"}
	headerSigD        = "sigD" // JAdES signed data: the document's digest
)

// ParseSignature reads one flattened detached JWS object strictly: valid
// I-JSON, exactly the members "protected" and "signature" (strings) and
// optionally "header" (an object with only "kid" and "etsiU"); a "payload"
// member is refused, since the payload is detached. Errors match
// [ErrMalformed] (or [ErrHeader] for a refused unprotected parameter).
func ParseSignature(data []byte) (Signature, error) {
	v, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: 1 << 20, MaxDepth: 16})
	if err != nil {
		return Signature{}, &MalformedError{Field: "signature object", Reason: "not strict JSON", Err: err}
	}
	return signatureFromTree(v)
}

func signatureFromTree(v any) (Signature, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Signature{}, &MalformedError{Field: "signature object", Reason: "expected an object"}
	}
	var s Signature
	for k, val := range m {
		switch k {
		case "protected", "signature":
			str, ok := val.(string)
			if !ok {
				return Signature{}, &MalformedError{Field: k, Reason: "expected a string"}
			}
			if k == "protected" {
				s.Protected = str
			} else {
				s.Signature = str
			}
		case "header":
			h, err := unprotectedFromTree(val)
			if err != nil {
				return Signature{}, err
			}
			s.Header = h
		case "payload":
			return Signature{}, &MalformedError{Field: "payload", Reason: "the payload must be detached (RFC 7515 Appendix F); the verifier supplies it"}
		default:
			return Signature{}, &MalformedError{Field: k, Reason: "unknown member of a signature object; expected protected, header, signature"}
		}
	}
	if _, ok := m["protected"]; !ok {
		return Signature{}, &MalformedError{Field: "protected", Reason: "missing"}
	}
	if _, ok := m["signature"]; !ok {
		return Signature{}, &MalformedError{Field: "signature", Reason: "missing"}
	}
	return s, nil
}

func unprotectedFromTree(v any) (*Unprotected, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &MalformedError{Field: "header", Reason: "expected an object"}
	}
	h := &Unprotected{}
	for k, val := range m {
		switch k {
		case "kid":
			s, ok := val.(string)
			if !ok {
				return nil, &MalformedError{Field: "header.kid", Reason: "expected a string"}
			}
			h.Kid = s
		case "etsiU":
			a, ok := val.([]any)
			if !ok {
				return nil, &MalformedError{Field: "header.etsiU", Reason: "expected an array"}
			}
			for _, e := range a {
				raw, err := json.Marshal(e)
				if err != nil {
					return nil, &MalformedError{Field: "header.etsiU", Reason: "unreadable entry", Err: err}
				}
				h.EtsiU = append(h.EtsiU, raw)
			}
		case "jwk", "jku", "x5u":
			return nil, &HeaderError{Param: k, Reason: "keys come only from the verified x5c chain"}
		default:
			return nil, &HeaderError{Param: k, Reason: "not allowed in the unprotected header, which nobody signed (only kid and etsiU are)"}
		}
	}
	return h, nil
}

// MarshalJSON writes the signature object with its members in canonical
// order: header (if any), protected, signature.
func (s Signature) MarshalJSON() ([]byte, error) {
	if s.Header != nil {
		type plain Signature
		return json.Marshal(plain(s))
	}
	if !isB64URL(s.Protected) || !isB64URL(s.Signature) {
		type plain Signature
		return json.Marshal(plain(s))
	}
	return s.appendJSON(nil), nil
}

// appendJSON writes a signature without an unprotected header whose
// fields hold only base64url characters, which need no escaping.
func (s Signature) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"protected":"`...)
	dst = append(dst, s.Protected...)
	dst = append(dst, `","signature":"`...)
	dst = append(dst, s.Signature...)
	return append(dst, `"}`...)
}

func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Signer signs payloads as detached JWS with one key and its certificate
// chain. It is safe for concurrent use.
type Signer struct {
	key      crypto.Signer
	alg      Algorithm
	chain    []*x509.Certificate
	identity Identity
	uid      []byte
	clock    func() time.Time
	rand     io.Reader

	hdrPrefix, hdrMiddle, hdrSuffix []byte
}

// SignerOption configures [NewSigner]. Options are created only by this
// package's functions.
type SignerOption interface{ applySigner(*Signer) error }

type signerOption func(*Signer) error

func (f signerOption) applySigner(s *Signer) error { return f(s) }

// WithSigningClock sets the clock that gives the signing time (sigT); the
// default is time.Now. The time is written in UTC to the second.
func WithSigningClock(now func() time.Time) SignerOption {
	return signerOption(func(s *Signer) error {
		if now == nil {
			return fmt.Errorf("signature: nil signing clock")
		}
		s.clock = now
		return nil
	})
}

// WithSigningUserID sets the SM2 user ID (the signer's distinguishing
// identifier of GB/T 32918.2) used for SM2 keys; the default is
// [DefaultSM2UserID]. Verifiers must be configured with the same ID.
func WithSigningUserID(uid []byte) SignerOption {
	return signerOption(func(s *Signer) error {
		if len(uid) == 0 || len(uid) > 8191 {
			return fmt.Errorf("signature: SM2 user ID must be 1 to 8191 bytes")
		}
		s.uid = append([]byte(nil), uid...)
		return nil
	})
}

// WithRandom sets the source of randomness for ECDSA, SM2 and RSA-PSS
// signatures; the default is crypto/rand.
func WithRandom(r io.Reader) SignerOption {
	return signerOption(func(s *Signer) error { s.rand = r; return nil })
}

// NewSigner returns a signer for key with chain, the signing certificate
// first and then its issuers (the root may be left out). The algorithm
// follows from the key ([AlgorithmForKey]); the leaf certificate must hold
// the key's public half and allow digital signatures or non-repudiation.
// If the leaf carries a seal identity ([CertificateIdentity]) every
// signature names it in its protected header.
func NewSigner(key crypto.Signer, chain []*x509.Certificate, opts ...SignerOption) (*Signer, error) {
	if key == nil || len(chain) == 0 {
		return nil, fmt.Errorf("%w: a key and at least its certificate are required", ErrKey)
	}
	alg, err := AlgorithmForKey(key.Public())
	if err != nil {
		return nil, err
	}
	leaf := chain[0]
	if eq, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(leaf.PublicKey) {
		return nil, fmt.Errorf("%w: the private key does not belong to certificate %s", ErrKey, certName(leaf))
	}
	if leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return nil, &KeyUsageError{Cert: leaf}
	}
	s := &Signer{key: key, alg: alg, chain: chain, uid: []byte(DefaultSM2UserID), clock: time.Now}
	if id, err := CertificateIdentity(leaf); err == nil {
		s.identity = id
	}
	for _, o := range opts {
		if err := o.applySigner(s); err != nil {
			return nil, err
		}
	}
	s.buildHeader()
	return s, nil
}

// Algorithm returns the signer's algorithm.
func (s *Signer) Algorithm() Algorithm { return s.alg }

// Identity returns the seal identity of the signer's certificate (zero if
// it has none).
func (s *Signer) Identity() Identity { return s.identity }

// Certificate returns the signing certificate.
func (s *Signer) Certificate() *x509.Certificate { return s.chain[0] }

func (s *Signer) buildHeader() {
	// Members in lexicographic order: alg, crit, seal, sigD, sigT, x5c.
	// The header is fixed but for the document digest and sigT:
	// hdrPrefix + digest + hdrMiddle + time + hdrSuffix.
	var b bytes.Buffer
	b.WriteString(`{"alg":`)
	writeJSONString(&b, string(s.alg))
	if s.identity.IsZero() {
		b.WriteString(`,"crit":["sigD","sigT"]`)
	} else {
		b.WriteString(`,"crit":["seal","sigD","sigT"],"seal":{"name":`)
		writeJSONString(&b, s.identity.Name)
		b.WriteString(`,"orgId":`)
		writeJSONString(&b, s.identity.OrgID)
		b.WriteString(`}`)
	}
	b.WriteString(`,"sigD":{"hashM":"S256","hashV":["`)
	s.hdrPrefix = append([]byte(nil), b.Bytes()...)
	b.Reset()
	b.WriteString(`"],"mId":"` + SigDMechanism + `","pars":["` + SigDObject + `"]},"sigT":"`)
	s.hdrMiddle = append([]byte(nil), b.Bytes()...)
	b.Reset()
	b.WriteString(`","x5c":[`)
	for i, c := range s.chain {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(base64.StdEncoding.EncodeToString(c.Raw))
		b.WriteByte('"')
	}
	b.WriteString(`]}`)
	s.hdrSuffix = append([]byte(nil), b.Bytes()...)
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // a string always marshals
	b.Write(q)
}

// Sign returns a detached signature over payload, with the signing time
// from the signer's clock: the protected header carries SHA-256(payload)
// in sigD, and the JWS payload is empty.
func (s *Signer) Sign(payload []byte) (Signature, error) {
	d := sha256.Sum256(payload)
	return s.signDigest(d)
}

func (s *Signer) signDigest(d [32]byte) (Signature, error) {
	t := s.clock().UTC().Truncate(time.Second)
	hdr := make([]byte, 0, len(s.hdrPrefix)+len(s.hdrMiddle)+len(s.hdrSuffix)+64)
	hdr = append(hdr, s.hdrPrefix...)
	hdr = base64.RawURLEncoding.AppendEncode(hdr, d[:])
	hdr = append(hdr, s.hdrMiddle...)
	hdr = t.AppendFormat(hdr, time.RFC3339)
	hdr = append(hdr, s.hdrSuffix...)
	return s.signProtected(hdr)
}

// signWithHeader signs under the given protected header bytes.
func (s *Signer) signWithHeader(hdr []byte) (Signature, error) {
	return s.signProtected(hdr)
}

// signProtected signs BASE64URL(header) '.' with the empty payload.
func (s *Signer) signProtected(hdr []byte) (Signature, error) {
	input := make([]byte, 0, base64.RawURLEncoding.EncodedLen(len(hdr))+1)
	input = base64.RawURLEncoding.AppendEncode(input, hdr)
	input = append(input, '.')
	sig, err := signRaw(s.rand, s.key, s.alg, s.uid, input)
	if err != nil {
		return Signature{}, fmt.Errorf("signature: signing with %s: %w", s.alg, err)
	}
	return Signature{Protected: string(input[:len(input)-1]), Signature: base64.RawURLEncoding.EncodeToString(sig)}, nil
}

// SigDMechanism and SigDObject are the values of the sigD header: the
// JAdES (ETSI TS 119 182-1) mechanism that references detached data by a
// URI and signs its digest, and the URI egovkit gives the canonical
// document.
const (
	SigDMechanism = "http://uri.etsi.org/19182/ObjectIdByURIHash"
	SigDObject    = "urn:egovkit:jcs-document"
)

// header is a parsed, checked protected header.
type header struct {
	alg         Algorithm
	x5c         []string
	signingTime time.Time
	identity    Identity
	x5tS256     string
	kid         bool
	digest      []byte // sigD hashV[0]
	crit        map[string]bool
}

// decodeB64URL decodes strict unpadded base64url (RFC 7515 §2): only the
// URL-safe alphabet, no padding, no white space, no non-zero trailing bits.
func decodeB64URL(field, s string, max int) ([]byte, error) {
	if len(s) == 0 {
		return nil, &MalformedError{Field: field, Reason: "empty"}
	}
	if max > 0 && len(s) > base64.RawURLEncoding.EncodedLen(max) {
		return nil, &MalformedError{Field: field, Reason: "longer than " + strconv.Itoa(max) + " bytes"}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, &MalformedError{Field: field, Reason: fmt.Sprintf("character %q at %d is not base64url (unpadded, RFC 7515 §2)", c, i)}
		}
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, &MalformedError{Field: field, Reason: "not base64url", Err: err}
	}
	return b, nil
}

// decodeB64Std decodes strict padded standard base64, as x5c uses
// (RFC 7515 §4.1.6).
func decodeB64Std(field, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return nil, &MalformedError{Field: field, Reason: fmt.Sprintf("character %q at %d is not base64 (RFC 4648 §4, as x5c requires)", c, i)}
		}
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, &MalformedError{Field: field, Reason: "not base64", Err: err}
	}
	return b, nil
}

// registered names that must not appear in crit (RFC 7515 §4.1.11).
var registeredParams = map[string]bool{"alg": true, "jku": true, "jwk": true, "kid": true, "x5u": true, "x5c": true,
	"x5t": true, "x5t#S256": true, "typ": true, "cty": true, "crit": true}

// understood crit names.
var critUnderstood = map[string]bool{headerSigningTime: true, headerSeal: true, headerSigD: true}

// maxChainCerts bounds x5c.
const maxChainCerts = 8

func (v *Verifier) parseHeader(protected string) (*header, error) {
	raw, err := decodeB64URL("protected", protected, v.maxHeader)
	if err != nil {
		if len(protected) > base64.RawURLEncoding.EncodedLen(v.maxHeader) {
			return nil, fmt.Errorf("%w: protected header of %d encoded bytes exceeds the limit of %d bytes", ErrHeaderTooLarge, len(protected), v.maxHeader)
		}
		return nil, err
	}
	tree, err := strictjson.Parse(raw, strictjson.Limits{MaxBytes: int64(v.maxHeader), MaxDepth: 8})
	if err != nil {
		return nil, &MalformedError{Field: "protected", Reason: "header is not strict JSON", Err: err}
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, &MalformedError{Field: "protected", Reason: "header is not a JSON object"}
	}
	h := &header{}
	// alg first: algorithm confusion is refused before anything else.
	algV, ok := m["alg"]
	if !ok {
		return nil, &MalformedError{Field: "alg", Reason: "missing from the protected header"}
	}
	alg, ok := algV.(string)
	if !ok {
		return nil, &MalformedError{Field: "alg", Reason: "expected a string"}
	}
	switch {
	case alg == "none":
		return nil, &HeaderError{Param: "alg", Reason: `"none" is never accepted`}
	case len(alg) >= 2 && alg[:2] == "HS":
		return nil, &HeaderError{Param: "alg", Reason: strconv.Quote(alg) + " is an HMAC algorithm; only public-key signatures are accepted"}
	case !knownAlgorithm(Algorithm(alg)):
		return nil, &HeaderError{Param: "alg", Reason: strconv.Quote(alg) + " is not a supported algorithm"}
	case !v.algs[Algorithm(alg)]:
		return nil, &HeaderError{Param: "alg", Reason: strconv.Quote(alg) + " is not in the verifier's allow-list"}
	}
	h.alg = Algorithm(alg)
	for k, val := range m {
		switch k {
		case "alg":
		case "jwk", "jku", "x5u":
			return nil, &HeaderError{Param: k, Reason: "keys come only from the verified x5c chain"}
		case "b64":
			return nil, &HeaderError{Param: k, Reason: "unencoded payloads (RFC 7797) are not supported"}
		case "kid", "typ", "cty":
			if _, ok := val.(string); !ok {
				return nil, &MalformedError{Field: k, Reason: "expected a string"}
			}
			h.kid = h.kid || k == "kid"
		case "x5t#S256":
			s, ok := val.(string)
			if !ok {
				return nil, &MalformedError{Field: k, Reason: "expected a string"}
			}
			h.x5tS256 = s
		case "x5c":
			a, ok := val.([]any)
			if !ok || len(a) == 0 {
				return nil, &MalformedError{Field: "x5c", Reason: "expected a non-empty array of base64 certificates"}
			}
			if len(a) > maxChainCerts {
				return nil, &MalformedError{Field: "x5c", Reason: "more than " + strconv.Itoa(maxChainCerts) + " certificates"}
			}
			for i, e := range a {
				s, ok := e.(string)
				if !ok || s == "" {
					return nil, &MalformedError{Field: "x5c[" + strconv.Itoa(i) + "]", Reason: "expected a base64 string"}
				}
				h.x5c = append(h.x5c, s)
			}
		case headerSigningTime:
			s, ok := val.(string)
			if !ok {
				return nil, &MalformedError{Field: k, Reason: "expected a string"}
			}
			t, err := parseSigningTime(s)
			if err != nil {
				return nil, err
			}
			h.signingTime = t
		case headerSigD:
			d, err := sigDFromTree(val)
			if err != nil {
				return nil, err
			}
			h.digest = d
		case headerSeal:
			id, err := identityFromTree(val)
			if err != nil {
				return nil, err
			}
			h.identity = id
		case "crit":
			crit, err := checkCrit(val, m)
			if err != nil {
				return nil, err
			}
			h.crit = crit
		default:
			return nil, &HeaderError{Param: k, Reason: "unknown protected header parameter"}
		}
	}
	if h.x5c == nil {
		return nil, &MalformedError{Field: "x5c", Reason: "missing: the signer's certificate chain is required"}
	}
	if h.signingTime.IsZero() {
		return nil, &MalformedError{Field: headerSigningTime, Reason: "missing: the signing time is required"}
	}
	if h.digest == nil {
		return nil, &MalformedError{Field: headerSigD, Reason: "missing: the digest of the signed document is required"}
	}
	// A verifier that skipped sigD would accept the header for any
	// document; crit makes every conforming verifier process it.
	for _, name := range []string{headerSigD, headerSigningTime} {
		if !h.crit[name] {
			return nil, &HeaderError{Param: "crit", Reason: strconv.Quote(name) + " must be listed as critical"}
		}
	}
	if !h.identity.IsZero() && !h.crit[headerSeal] {
		return nil, &HeaderError{Param: "crit", Reason: `"seal" must be listed as critical`}
	}
	return h, nil
}

func checkCrit(val any, m map[string]any) (map[string]bool, error) {
	a, ok := val.([]any)
	if !ok || len(a) == 0 {
		return nil, &HeaderError{Param: "crit", Reason: "expected a non-empty array of names (RFC 7515 §4.1.11)"}
	}
	seen := map[string]bool{}
	for _, e := range a {
		s, ok := e.(string)
		if !ok || s == "" {
			return nil, &HeaderError{Param: "crit", Reason: "expected names (strings)"}
		}
		switch {
		case seen[s]:
			return nil, &HeaderError{Param: "crit", Reason: strconv.Quote(s) + " listed twice"}
		case registeredParams[s]:
			return nil, &HeaderError{Param: "crit", Reason: strconv.Quote(s) + " is a registered parameter and must not be listed"}
		case !critUnderstood[s]:
			return nil, &HeaderError{Param: "crit", Reason: strconv.Quote(s) + " is not understood by this verifier"}
		}
		if _, ok := m[s]; !ok {
			return nil, &HeaderError{Param: "crit", Reason: strconv.Quote(s) + " is listed but absent from the header"}
		}
		seen[s] = true
	}
	return seen, nil
}

// sigDFromTree reads the sigD header: exactly the mechanism
// [SigDMechanism], one reference [SigDObject], hash method S256 and one
// base64url SHA-256 value.
func sigDFromTree(v any) ([]byte, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &MalformedError{Field: headerSigD, Reason: "expected an object"}
	}
	if len(m) != 4 {
		return nil, &MalformedError{Field: headerSigD, Reason: "expected exactly mId, pars, hashM and hashV"}
	}
	if s, _ := m["mId"].(string); s != SigDMechanism {
		return nil, &HeaderError{Param: headerSigD, Reason: "mId must be " + SigDMechanism}
	}
	if s, _ := m["hashM"].(string); s != "S256" {
		return nil, &HeaderError{Param: headerSigD, Reason: `hashM must be "S256"`}
	}
	pars, _ := m["pars"].([]any)
	if len(pars) != 1 || pars[0] != SigDObject {
		return nil, &HeaderError{Param: headerSigD, Reason: "pars must be [" + strconv.Quote(SigDObject) + "]"}
	}
	hv, _ := m["hashV"].([]any)
	if len(hv) != 1 {
		return nil, &MalformedError{Field: headerSigD + ".hashV", Reason: "expected one digest"}
	}
	s, _ := hv[0].(string)
	d, err := decodeB64URL(headerSigD+".hashV[0]", s, 32)
	if err != nil {
		return nil, err
	}
	if len(d) != sha256.Size {
		return nil, &MalformedError{Field: headerSigD + ".hashV[0]", Reason: "expected a 32-byte SHA-256 digest"}
	}
	return d, nil
}

func identityFromTree(v any) (Identity, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Identity{}, &MalformedError{Field: "seal", Reason: `expected an object {"name","orgId"}`}
	}
	var id Identity
	for k, val := range m {
		s, ok := val.(string)
		if !ok || s == "" {
			return Identity{}, &MalformedError{Field: "seal." + k, Reason: "expected a non-empty string"}
		}
		switch k {
		case "name":
			id.Name = s
		case "orgId":
			id.OrgID = s
		default:
			return Identity{}, &MalformedError{Field: "seal." + k, Reason: "unknown member; expected name and orgId"}
		}
	}
	if id.Name == "" || id.OrgID == "" {
		return Identity{}, &MalformedError{Field: "seal", Reason: "name and orgId are both required"}
	}
	return id, nil
}

// parseSigningTime reads a JAdES sigT: RFC 3339 date-time in UTC ("Z").
func parseSigningTime(s string) (time.Time, error) {
	if len(s) < 20 || len(s) > 40 || s[len(s)-1] != 'Z' {
		return time.Time{}, &MalformedError{Field: headerSigningTime, Reason: "expected an RFC 3339 UTC time such as 2026-01-02T03:04:05Z"}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, &MalformedError{Field: headerSigningTime, Reason: "expected an RFC 3339 UTC time", Err: err}
	}
	return t, nil
}

func x5tS256(c *x509.Certificate) string {
	d := sha256.Sum256(c.Raw)
	return base64.RawURLEncoding.EncodeToString(d[:])
}
