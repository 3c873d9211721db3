package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature"
)

func init() {
	register(&command{name: "verify", summary: "verify the seals of a JSON document", run: runVerify})
}

func runVerify(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "verify", "verify --roots FILE [--crl FILE]... [--at RFC3339] [--require-issuer-seals] DOC.json|-", `
Verifies every seal in the document's "signatures" array against the trust
anchors in --roots and prints one line per seal:

  N. ORGAN (USCC)  ALGORITHM  SIGNING-TIME  valid|INVALID: reason

then "document: valid" or "document: invalid". Each seal's certificate chain
must lead to a root at the signing time and at the verification time (--at,
default now), allow digital signatures, not be revoked by then according to
the --crl lists (or OCSP with --ocsp), and name the organ the seal header
names.

The document is valid only if it has at least one seal and every seal is
valid. With --require-issuer-seals, every organ in the document's top-level
"issuers" array ({"name","orgId"}) must also have a valid seal of its own:
removing one issuer's seal from a joint document (联合行文) then fails.

Exit status: 0 valid, 1 invalid (a seal, the policy or the document), 2 on
usage or I/O errors (including unreadable roots or CRLs).`)
	rootsFile := fs.String("roots", "", "trusted root certificates (PEM)")
	var crlFiles repeated
	fs.Var(&crlFiles, "crl", "a CRL (PEM or DER); repeatable")
	at := fs.String("at", "", "verification time, RFC 3339 (default: now)")
	requireIssuers := fs.Bool("require-issuer-seals", false, "require a valid seal from every organ in \"issuers\"")
	useOCSP := fs.Bool("ocsp", false, "also ask the OCSP responders named in the certificates")
	uid := fs.String("sm2-user-id", signature.DefaultSM2UserID, "SM2 user ID expected of SM2 seals")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		return usageError(e, fs, "expected one document (or - for standard input)")
	case *rootsFile == "":
		return usageError(e, fs, "--roots is required")
	}
	verifyAt, err := parseTimeFlag("at", *at)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	roots, err := readCertificates(*rootsFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit verify: %v\n", err)
		return exitUsage
	}
	opts := []signature.VerifierOption{signature.WithUserID([]byte(*uid))}
	for _, f := range crlFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit verify: %v\n", err)
			return exitUsage
		}
		crl, err := signature.ParseCRL(data)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit verify: %s: %v\n", f, err)
			return exitUsage
		}
		opts = append(opts, signature.WithCRLs(crl))
	}
	if !verifyAt.IsZero() {
		opts = append(opts, signature.WithClock(func() time.Time { return verifyAt }))
	}
	if *useOCSP {
		opts = append(opts, signature.WithOCSP(&signature.HTTPOCSPFetcher{}, nil))
	}
	v, err := signature.NewVerifier(roots, opts...)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit verify: %v\n", err)
		return exitUsage
	}
	doc, err := readSigInput(e, pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit verify: %v\n", err)
		return exitUsage
	}
	var policy signature.Policy
	if *requireIssuers {
		issuers, err := documentIssuers(doc)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit verify: %s: %v\n", pos[0], err)
			fmt.Fprintln(e.stdout, "document: invalid")
			return exitInvalid
		}
		policy.RequiredIssuers = issuers
	}
	rep, err := signature.VerifyDocument(ctx, doc, v, policy)
	if rep == nil {
		fmt.Fprintf(e.stderr, "egovkit verify: %s: %v\n", pos[0], err)
		fmt.Fprintln(e.stdout, "document: invalid")
		return exitInvalid
	}
	for _, s := range rep.Seals {
		organ := "(unknown organ)"
		if !s.Identity.IsZero() {
			organ = fmt.Sprintf("%s (%s)", s.Identity.Name, s.Identity.OrgID)
		}
		alg, st := string(s.Algorithm), "-"
		if alg == "" {
			alg = "-"
		}
		if !s.SigningTime.IsZero() {
			st = s.SigningTime.UTC().Format(time.RFC3339)
		}
		status := "valid"
		if s.Err != nil {
			status = "INVALID: " + s.Err.Error()
		}
		fmt.Fprintf(e.stdout, "%d. %s  %s  %s  %s\n", s.Index+1, organ, alg, st, status)
	}
	for _, m := range rep.Missing {
		fmt.Fprintf(e.stdout, "missing: no valid seal of issuer %s (%s)\n", m.Name, m.OrgID)
	}
	if errors.Is(err, signature.ErrNoSeals) {
		fmt.Fprintln(e.stdout, "no seals")
	}
	if err != nil {
		fmt.Fprintln(e.stdout, "document: invalid")
		return exitInvalid
	}
	fmt.Fprintln(e.stdout, "document: valid")
	return exitOK
}

// documentIssuers reads the top-level "issuers" array of {"name","orgId"}
// objects (docdoc's 发文机关).
func documentIssuers(doc []byte) ([]signature.Identity, error) {
	tree, err := strictjson.Parse(doc, strictjson.Limits{MaxBytes: signature.MaxDocumentBytes})
	if err != nil {
		return nil, err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return nil, errors.New("the document is not a JSON object")
	}
	arr, ok := m["issuers"].([]any)
	if !ok || len(arr) == 0 {
		return nil, errors.New(`--require-issuer-seals: the document has no "issuers" array`)
	}
	var ids []signature.Identity
	for i, x := range arr {
		o, _ := x.(map[string]any)
		name, _ := o["name"].(string)
		orgID, _ := o["orgId"].(string)
		if name == "" || orgID == "" {
			return nil, fmt.Errorf(`issuers[%d]: expected {"name","orgId"} strings`, i)
		}
		ids = append(ids, signature.Identity{Name: name, OrgID: orgID})
	}
	return ids, nil
}
