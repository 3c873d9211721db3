package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/egovkit/egovkit/signature"
)

func init() {
	register(&command{name: "sign", summary: "seal a JSON document: print it with one more signature", run: runSign})
}

func runSign(_ context.Context, e *env, args []string) int {
	fs := flagSet(e, "sign", "sign --key FILE --chain FILE [--time RFC3339] DOC.json|-", `
Seals the JSON document DOC.json (or standard input for "-") with the key in
--key (PKCS #8 PEM, as "egovkit pki issue" writes it) and the certificate
chain in --chain (the seal certificate first, then its CAs), and prints the
document with one more entry in its top-level "signatures" array; the rest
of the document's bytes are kept as they are.

The seal is a detached JWS (RFC 7515) over the RFC 8785 canonical form of the
document without "signatures", in the flattened JSON serialisation
{"protected","signature"}. Its protected header carries alg (EdDSA, ES256,
PS256 or SM2-SM3, from the key), x5c (the chain), sigT (the signing time)
and seal (the organ's name and unified social credit code, taken from the
certificate). The signing time is the signer's claim, not a trusted
timestamp.`)
	keyFile := fs.String("key", "", "the seal's private key (PKCS #8 PEM)")
	chainFile := fs.String("chain", "", "the seal certificate and its CAs (PEM)")
	at := fs.String("time", "", "signing time to claim, RFC 3339 (default: now)")
	uid := fs.String("sm2-user-id", signature.DefaultSM2UserID, "SM2 user ID (SM2 keys only)")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		return usageError(e, fs, "expected one document (or - for standard input)")
	case *keyFile == "" || *chainFile == "":
		return usageError(e, fs, "--key and --chain are required")
	}
	signingTime, err := parseTimeFlag("time", *at)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	key, err := readPrivateKey(*keyFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit sign: %v\n", err)
		return exitUsage
	}
	chain, err := readCertificates(*chainFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit sign: %v\n", err)
		return exitUsage
	}
	opts := []signature.SignerOption{signature.WithSigningUserID([]byte(*uid))}
	if !signingTime.IsZero() {
		opts = append(opts, signature.WithSigningClock(func() time.Time { return signingTime }))
	}
	s, err := signature.NewSigner(key, chain, opts...)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit sign: %v\n", err)
		return exitUsage
	}
	if s.Identity().IsZero() {
		fmt.Fprintf(e.stderr, "egovkit sign: certificate %s names no organ (Subject O and organizationIdentifier NTRCN-<统一社会信用代码>); it cannot seal documents\n", *chainFile)
		return exitUsage
	}
	doc, err := readSigInput(e, pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit sign: %v\n", err)
		return exitUsage
	}
	out, err := signature.SealDocument(doc, s)
	if err != nil {
		var me *signature.MalformedError
		if errors.As(err, &me) {
			fmt.Fprintf(e.stderr, "egovkit sign: %s: %v\n", pos[0], err)
			return exitInvalid
		}
		fmt.Fprintf(e.stderr, "egovkit sign: %v\n", err)
		return exitUsage
	}
	if _, err := e.stdout.Write(out); err != nil {
		fmt.Fprintf(e.stderr, "egovkit sign: %v\n", err)
		return exitUsage
	}
	return exitOK
}
