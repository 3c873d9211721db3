package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

func init() {
	register(&command{name: "pki", summary: "create a seal CA, issue seal certificates, revoke them (ca|issue|revoke)", run: runPKI})
}

const pkiSynopsis = "pki ca|issue|revoke [OPTIONS]"

func runPKI(ctx context.Context, e *env, args []string) int {
	return dispatch(ctx, e, "pki", pkiSynopsis, []subcommand{
		{"ca", "create a root CA: DIR/ca.key.pem, DIR/ca.cert.pem", func(_ context.Context, e *env, args []string) int { return runPKICA(e, args) }},
		{"issue", "issue a seal certificate: DIR/key.pem, DIR/cert.pem, DIR/chain.pem", func(_ context.Context, e *env, args []string) int { return runPKIIssue(e, args) }},
		{"revoke", "add a certificate to the CA's DIR/crl.pem", func(_ context.Context, e *env, args []string) int { return runPKIRevoke(e, args) }},
	}, args)
}

const algHelp = "key algorithm: ed25519, p256, rsa (2048-bit RSA-PSS) or sm2 (SM2 with SM3)"

func runPKICA(e *env, args []string) int {
	fs := flagSet(e, "pki ca", "pki ca --alg ALG --name NAME --out DIR", `
Creates a self-signed root CA for seal certificates and writes its private
key to DIR/ca.key.pem (PKCS #8, mode 0600) and its certificate to
DIR/ca.cert.pem. Existing files are not overwritten unless --force is given.
Verifiers trust seals issued under it with "egovkit verify --roots
DIR/ca.cert.pem".`)
	alg := fs.String("alg", "", algHelp)
	name := fs.String("name", "", "the CA's name (Subject CN and O)")
	out := fs.String("out", "", "output directory (created if missing)")
	notBefore := fs.String("not-before", "", "start of validity, RFC 3339 (default: now)")
	notAfter := fs.String("not-after", "", "end of validity, RFC 3339 (default: 10 years later)")
	force := fs.Bool("force", false, "overwrite existing files")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 0:
		return usageError(e, fs, "unexpected argument %q", pos[0])
	case *alg == "" || *name == "" || *out == "":
		return usageError(e, fs, "--alg, --name and --out are required")
	}
	opt, err := validity(*notBefore, *notAfter)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	key, err := pki.GenerateKey(pki.KeyAlgorithm(*alg))
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	ca, err := pki.NewRoot(key, *name, opt)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki ca: %v\n", err)
		return exitInvalid
	}
	keyPEM, err := signature.EncodePrivateKeyPEM(key)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki ca: %v\n", err)
		return exitUsage
	}
	if err := writeFiles(*out, *force, map[string]fileContent{
		"ca.key.pem":  {keyPEM, 0o600},
		"ca.cert.pem": {signature.EncodeCertificatesPEM(ca.Certificate), 0o644},
	}); err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki ca: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "wrote %s and %s\n", filepath.Join(*out, "ca.key.pem"), filepath.Join(*out, "ca.cert.pem"))
	return exitOK
}

func runPKIIssue(e *env, args []string) int {
	fs := flagSet(e, "pki issue", "pki issue --ca DIR --alg ALG --name NAME --org-id USCC --out DIR", `
Issues a seal certificate (电子印章证书) for the organ NAME with the unified
social credit code USCC (统一社会信用代码, checked against GB 32100), signed
by the CA in the --ca directory. The certificate names the organ in its
Subject O and CN and the code in organizationIdentifier as "NTRCN-USCC";
its key usage is digitalSignature and nonRepudiation.

Writes DIR/key.pem (PKCS #8, mode 0600), DIR/cert.pem and DIR/chain.pem (the
certificate, then the CA's), ready for "egovkit sign --key DIR/key.pem
--chain DIR/chain.pem".`)
	caDir := fs.String("ca", "", "directory holding ca.key.pem and ca.cert.pem")
	alg := fs.String("alg", "", algHelp)
	name := fs.String("name", "", "the organ's full name (机关名称)")
	orgID := fs.String("org-id", "", "the organ's unified social credit code (18 characters)")
	out := fs.String("out", "", "output directory (created if missing)")
	notBefore := fs.String("not-before", "", "start of validity, RFC 3339 (default: now)")
	notAfter := fs.String("not-after", "", "end of validity, RFC 3339 (default: 3 years later)")
	ocspURL := fs.String("ocsp-url", "", "OCSP responder URL to write into the certificate")
	force := fs.Bool("force", false, "overwrite existing files")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 0:
		return usageError(e, fs, "unexpected argument %q", pos[0])
	case *caDir == "" || *alg == "" || *name == "" || *orgID == "" || *out == "":
		return usageError(e, fs, "--ca, --alg, --name, --org-id and --out are required")
	}
	if err := signature.CheckOrgID(*orgID); err != nil {
		return usageError(e, fs, "--org-id: %v", err)
	}
	opt, err := validity(*notBefore, *notAfter)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	if *ocspURL != "" {
		opt.OCSPServer = []string{*ocspURL}
	}
	ca, err := loadCA(*caDir)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki issue: %v\n", err)
		return exitUsage
	}
	key, err := pki.GenerateKey(pki.KeyAlgorithm(*alg))
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	cert, err := ca.IssueSeal(key.Public(), signature.Identity{Name: *name, OrgID: *orgID}, opt)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki issue: %v\n", err)
		return exitInvalid
	}
	keyPEM, err := signature.EncodePrivateKeyPEM(key)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki issue: %v\n", err)
		return exitUsage
	}
	if err := writeFiles(*out, *force, map[string]fileContent{
		"key.pem":   {keyPEM, 0o600},
		"cert.pem":  {signature.EncodeCertificatesPEM(cert), 0o644},
		"chain.pem": {signature.EncodeCertificatesPEM(cert, ca.Certificate), 0o644},
	}); err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki issue: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "issued seal certificate %s for %s (%s): %s\n", cert.SerialNumber.Text(16), *name, *orgID, filepath.Join(*out, "cert.pem"))
	return exitOK
}

func runPKIRevoke(e *env, args []string) int {
	fs := flagSet(e, "pki revoke", "pki revoke --ca DIR --cert FILE", `
Adds the certificate in FILE, which the CA in DIR must have issued, to the
CA's revocation list DIR/crl.pem (created if missing), and re-signs the list
with the next CRL number. Verifiers use it with "egovkit verify --crl
DIR/crl.pem". A seal whose certificate was revoked at or before the
verification time is invalid, whatever signing time it claims.`)
	caDir := fs.String("ca", "", "directory holding ca.key.pem, ca.cert.pem and crl.pem")
	certFile := fs.String("cert", "", "PEM file whose first certificate is revoked")
	at := fs.String("time", "", "revocation time, RFC 3339 (default: now)")
	reason := fs.Int("reason", 0, "RFC 5280 reason code (0 unspecified, 1 keyCompromise, 4 superseded, 5 cessationOfOperation, …)")
	days := fs.Int("next-update-days", 7, "days until the list's nextUpdate")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 0:
		return usageError(e, fs, "unexpected argument %q", pos[0])
	case *caDir == "" || *certFile == "":
		return usageError(e, fs, "--ca and --cert are required")
	case *reason < 0 || *reason > 10 || *reason == 7:
		return usageError(e, fs, "--reason: %d is not an RFC 5280 reason code", *reason)
	case *days < 1:
		return usageError(e, fs, "--next-update-days must be at least 1")
	}
	revokedAt, err := parseTimeFlag("time", *at)
	if err != nil {
		return usageError(e, fs, "%v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if revokedAt.IsZero() {
		revokedAt = now
	}
	ca, err := loadCA(*caDir)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %v\n", err)
		return exitUsage
	}
	data, err := os.ReadFile(*certFile)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %v\n", err)
		return exitUsage
	}
	certs, err := signature.ParseCertificatesPEM(data)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %s: %v\n", *certFile, err)
		return exitInvalid
	}
	cert := certs[0]
	if !sameIssuer(cert, ca.Certificate) {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %s was not issued by the CA in %s\n", *certFile, *caDir)
		return exitInvalid
	}
	var entries []x509.RevocationListEntry
	number := int64(1)
	crlPath := filepath.Join(*caDir, "crl.pem")
	if old, err := os.ReadFile(crlPath); err == nil {
		crl, err := signature.ParseCRL(old)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit pki revoke: %s: %v\n", crlPath, err)
			return exitInvalid
		}
		l := crl.RevocationList()
		for _, en := range l.RevokedCertificateEntries {
			if en.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				fmt.Fprintf(e.stdout, "certificate %s is already revoked (since %s)\n", cert.SerialNumber.Text(16), en.RevocationTime.UTC().Format(time.RFC3339))
				return exitOK
			}
			entries = append(entries, x509.RevocationListEntry{SerialNumber: en.SerialNumber, RevocationTime: en.RevocationTime, ReasonCode: en.ReasonCode})
		}
		if l.Number != nil {
			number = new(big.Int).Add(l.Number, big.NewInt(1)).Int64()
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %v\n", err)
		return exitUsage
	}
	entries = append(entries, x509.RevocationListEntry{SerialNumber: cert.SerialNumber, RevocationTime: revokedAt, ReasonCode: *reason})
	der, err := ca.CreateCRL(entries, number, now, now.AddDate(0, 0, *days))
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %v\n", err)
		return exitInvalid
	}
	if err := writeFiles(*caDir, true, map[string]fileContent{"crl.pem": {pki.EncodeCRLPEM(der), 0o644}}); err != nil {
		fmt.Fprintf(e.stderr, "egovkit pki revoke: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "revoked certificate %s at %s; %s now lists %d certificate(s) (CRL number %d)\n",
		cert.SerialNumber.Text(16), revokedAt.UTC().Format(time.RFC3339), crlPath, len(entries), number)
	return exitOK
}

// sameIssuer reports whether ca issued cert: the names match and ca's key
// verifies cert's signature.
func sameIssuer(cert, ca *x509.Certificate) bool {
	if string(cert.RawIssuer) != string(ca.RawSubject) {
		return false
	}
	return signature.CheckSignatureFrom(cert, ca) == nil
}

func validity(nb, na string) (pki.Options, error) {
	b, err := parseTimeFlag("not-before", nb)
	if err != nil {
		return pki.Options{}, err
	}
	a, err := parseTimeFlag("not-after", na)
	if err != nil {
		return pki.Options{}, err
	}
	if !a.IsZero() && !b.IsZero() && !a.After(b) {
		return pki.Options{}, errors.New("--not-after must be after --not-before")
	}
	return pki.Options{NotBefore: b, NotAfter: a}, nil
}

func loadCA(dir string) (*pki.CA, error) {
	key, err := readPrivateKey(filepath.Join(dir, "ca.key.pem"))
	if err != nil {
		return nil, err
	}
	certs, err := readCertificates(filepath.Join(dir, "ca.cert.pem"))
	if err != nil {
		return nil, err
	}
	if eq, ok := key.Public().(interface{ Equal(any) bool }); ok && !eq.Equal(certs[0].PublicKey) {
		return nil, fmt.Errorf("%s does not hold the key of %s", filepath.Join(dir, "ca.key.pem"), filepath.Join(dir, "ca.cert.pem"))
	}
	return &pki.CA{Certificate: certs[0], Key: key}, nil
}

type fileContent struct {
	data []byte
	mode os.FileMode
}

// writeFiles writes files into dir (created with mode 0700 if missing),
// each through a temporary file and a rename, refusing to replace existing
// files unless force.
func writeFiles(dir string, force bool, files map[string]fileContent) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if !force {
		var exist []string
		for name := range files {
			if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
				exist = append(exist, filepath.Join(dir, name))
			}
		}
		if len(exist) > 0 {
			return fmt.Errorf("refusing to overwrite %s (use --force)", strings.Join(exist, ", "))
		}
	}
	for name, f := range files {
		tmp, err := os.CreateTemp(dir, "."+name+".*")
		if err != nil {
			return err
		}
		if err := tmp.Chmod(f.mode); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		if _, err := tmp.Write(f.data); err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			return err
		}
		if err := tmp.Close(); err != nil {
			os.Remove(tmp.Name())
			return err
		}
		if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
			os.Remove(tmp.Name())
			return err
		}
	}
	return nil
}

// readPrivateKey reads a PEM private key file; a parse error names the file
// (a read error does already).
func readPrivateKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := signature.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return key, nil
}

// readCertificates reads a PEM certificate file (one or a chain); a parse
// error names the file.
func readCertificates(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	certs, err := signature.ParseCertificatesPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return certs, nil
}
