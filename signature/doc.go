// Package signature signs and verifies JSON documents with electronic seals
// (电子印章): detached JWS signatures over the document's canonical form, by
// keys whose X.509 certificates name the sealing organ, verified against
// trust anchors with revocation checks. It is egovkit's ground floor:
// docdoc, approval and exchange sign with it, and it imports no other
// egovkit package.
//
// # The model
//
// A signed document is a JSON object whose top-level member "signatures"
// ([SignaturesMember]) is an array of seals. Each seal is a flattened JWS
// (RFC 7515 §7.2.2) with a detached payload (RFC 7515 Appendix F):
//
//	{"protected": BASE64URL(header), "signature": BASE64URL(sig)}
//
// whose detached data is the RFC 8785 canonical form of the document with
// the "signatures" member removed (package
// [github.com/egovkit/egovkit/signature/jcs]). So every seal is
// independent: adding a seal does not disturb the others, a joint document
// (联合行文) carries one seal per issuing organ, and a receiver that
// re-indents or reorders the JSON still verifies it.
//
// The detached data is bound the way JAdES binds detached content by
// digest (sigD with the ObjectIdByURIHash mechanism): the protected header
// carries SHA-256 of the canonical bytes, the JWS payload is empty, and the
// signature covers BASE64URL(protected) || ".". The document is hashed once
// with SHA-256 and the signature algorithm then works on the short header,
// not on the whole document again; sigD is listed in crit, so a generic JWS
// verifier that does not compare the digest refuses the seal instead of
// accepting it for any document.
//
// The protected header carries, following ETSI TS 119 182-1 (JAdES) where
// it has a parameter for the purpose:
//
//   - "alg": [EdDSA], [ES256], [PS256] or the private name "SM2-SM3"
//     ([SM2SM3]: SM2 with SM3, GB/T 32918.2 and GB/T 35276, default user ID
//     "1234567812345678", signature r‖s in 64 bytes);
//   - "x5c": the signer's chain, seal certificate first (RFC 7515 §4.1.6);
//   - "sigD": {"mId": [SigDMechanism], "pars": [[SigDObject]], "hashM":
//     "S256", "hashV": [BASE64URL(SHA-256(canonical document))]};
//   - "sigT": the claimed signing time, RFC 3339 in UTC (JAdES);
//   - "seal": the seal's identity {"name", "orgId"}: the organ's name and
//     its 统一社会信用代码 (GB 32100), which must equal the identity in the
//     certificate: Subject O and organizationIdentifier "NTRCN-<code>"
//     ([CertificateIdentity], [SubjectFor]);
//   - "crit": ["seal", "sigD", "sigT"], so that a verifier that does not
//     know these parameters refuses the signature rather than ignoring
//     them; this verifier requires all three to be listed.
//
// The unprotected "header" may hold only "kid" and "etsiU", the JAdES
// unsigned-properties array, reserved for an RFC 3161 signature timestamp
// ("sigTst") that a later version will verify.
//
// # Verification
//
// A [Verifier] is built from trust anchors and options ([WithCRLs],
// [WithOCSP], [WithAlgorithms], [WithClock], …). [Verifier.Verify] checks
// one signature and [VerifyDocument] every seal of a document, then the
// [Policy]; [VerifySeals] does the same for a caller that holds the
// canonical payload and the parsed seals (docdoc's document type). The
// rules:
//
//   - The algorithm comes from the certificate's key and an allow-list,
//     never from the header alone: "none", HMAC ("HS256"…), unknown names
//     and a header alg that does not match the key are refused, which
//     defeats algorithm confusion.
//   - Keys come only from x5c: "jwk", "jku" and "x5u" are refused, and so
//     are unknown header parameters, unknown, duplicated or registered crit
//     entries (RFC 7515 §4.1.11), "b64" (RFC 7797), a "payload" member,
//     headers over [DefaultMaxHeaderBytes], duplicate JSON names and
//     anything that is not strict unpadded base64url.
//   - The chain must lead to a trust anchor (crypto/x509, or gmsm's smx509
//     for chains with SM2 keys) both at the signing time and at the
//     verification time, and the seal certificate must allow
//     digitalSignature or nonRepudiation.
//   - Revocation is checked at the verification time from the caller's
//     CRLs and OCSP responses. The signing time is the signer's own claim:
//     without a trusted timestamp it proves nothing, so a certificate
//     revoked at any time up to verification invalidates the seal, as
//     ETSI EN 319 102-1 treats a basic (B-level) signature. OCSP answers
//     are checked with golang.org/x/crypto/ocsp, which cannot verify a
//     response signed with SM2; certificates issued by an SM2 CA therefore
//     rely on CRLs (with [RequireRevocationInfo], a missing CRL fails).
//   - Multiple seals are judged per issuer: a document is valid only if it
//     has a seal, every seal is valid, and each organ of
//     Policy.RequiredIssuers has a valid seal of its own identity.
//
// Every failure is a typed error that matches a sentinel with errors.Is:
// [*ExpiredError] ([ErrExpired]), [*NotYetValidError] ([ErrNotYetValid]),
// [*RevokedError] ([ErrRevoked]), [*KeyUsageError] ([ErrKeyUsage]),
// [*UnknownRootError] ([ErrUnknownRoot]), [*HeaderError],
// [*AlgorithmMismatchError], [*MalformedError], [*IdentityMismatchError],
// [*MissingSealError] and [*SealError] for the seal's position.
//
// # Threat model
//
// The document, its seals and their headers are attacker-controlled input.
// The verifier defends against: changes to any signed member (value, type,
// presence), which break the signature; equal-but-differently-written JSON,
// which canonicalises to the same bytes; parser differentials (duplicate
// names, invalid UTF-8, lone surrogates, numbers beyond a double), which
// are refused before anything is hashed; a seal copied from another
// document, which covers other canonical bytes; a chain swapped for another
// organ's, which changes the signed header; a header that names one organ
// with another organ's key, caught by the identity check; algorithm
// substitution; keys smuggled in through jwk/jku/x5u; and resource
// exhaustion through oversized headers, documents or chains. It trusts the
// configured roots, the caller's clock and the caller's CRLs and OCSP
// fetcher, and it cannot tell when a seal was really made: a stolen key
// used before its certificate is revoked makes seals that verify until
// then; that needs trusted timestamps (JAdES B-T), left for later.
//
// Chains are cached per x5c value, so verifying many seals by the same
// organ costs one chain build; revocation is checked on every call.
package signature
