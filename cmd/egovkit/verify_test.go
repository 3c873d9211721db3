package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runCLI runs one command in-process.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}, args)
	return code, out.String(), errb.String()
}

const cliJointNotice = `{
  "title": "关于联合开展专项检查的通知",
  "issuers": [
    {"name": "某某市人民政府", "orgId": "11110000000000001R"},
    {"name": "某某市财政局", "orgId": "11310000000000002A"}
  ],
  "body": "特此通知。"
}
`

// TestSealingCommands walks the whole command-line path: two CAs (Ed25519
// and SM2), two seal certificates, a joint notice sealed by both, then
// verification, tampering, a stripped seal and a revocation.
func TestSealingCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := func(parts ...string) string { return filepath.Join(append([]string{dir}, parts...)...) }
	mustRun := func(stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, stdin, args...)
		require.Equal(t, exitOK, code, "%v: %s", args, errOut)
		return out
	}
	mustRun("", "pki", "ca", "--alg", "ed25519", "--name", "某某市电子政务根CA", "--out", p("ca1"))
	mustRun("", "pki", "ca", "--alg", "sm2", "--name", "某某市商用密码根CA", "--out", p("ca2"))
	mustRun("", "pki", "issue", "--ca", p("ca1"), "--alg", "ed25519", "--name", "某某市人民政府", "--org-id", "11110000000000001R", "--out", p("gov"))
	mustRun("", "pki", "issue", "--ca", p("ca2"), "--alg", "sm2", "--name", "某某市财政局", "--org-id", "11310000000000002A", "--out", p("fin"))
	for _, f := range []string{p("ca1", "ca.key.pem"), p("ca2", "ca.key.pem"), p("gov", "key.pem"), p("fin", "key.pem")} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	chain, err := os.ReadFile(p("gov", "chain.pem"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(chain), "BEGIN CERTIFICATE"))

	require.NoError(t, os.WriteFile(p("doc.json"), []byte(cliJointNotice), 0o644))
	signedAt := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	one := mustRun("", "sign", "--key", p("gov", "key.pem"), "--chain", p("gov", "chain.pem"), "--time", signedAt.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339), p("doc.json"))
	require.NoError(t, os.WriteFile(p("one.json"), []byte(one), 0o644))
	two := mustRun(one, "sign", "--key", p("fin", "key.pem"), "--chain", p("fin", "chain.pem"), "-")
	require.NoError(t, os.WriteFile(p("two.json"), []byte(two), 0o644))
	roots := append(must(os.ReadFile(p("ca1", "ca.cert.pem"))), must(os.ReadFile(p("ca2", "ca.cert.pem")))...)
	require.NoError(t, os.WriteFile(p("roots.pem"), roots, 0o644))

	out := mustRun("", "verify", "--roots", p("roots.pem"), "--require-issuer-seals", p("two.json"))
	assert.Contains(t, out, "1. 某某市人民政府 (11110000000000001R)  EdDSA  "+signedAt.UTC().Format(time.RFC3339)+"  valid")
	assert.Contains(t, out, "2. 某某市财政局 (11310000000000002A)  SM2-SM3")
	assert.Contains(t, out, "document: valid")

	// Only one issuer's seal.
	code, out, _ := runCLI(t, "", "verify", "--roots", p("roots.pem"), "--require-issuer-seals", p("one.json"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, "missing: no valid seal of issuer 某某市财政局")
	code, _, _ = runCLI(t, "", "verify", "--roots", p("roots.pem"), p("one.json"))
	assert.Equal(t, exitOK, code, "without the policy one valid seal suffices")

	// Re-indented: still valid. Tampered: invalid.
	var tree any
	require.NoError(t, json.Unmarshal([]byte(two), &tree))
	pretty, _ := json.MarshalIndent(tree, "", "    ")
	code, _, _ = runCLI(t, string(pretty), "verify", "--roots", p("roots.pem"), "--require-issuer-seals", "-")
	assert.Equal(t, exitOK, code)
	code, out, _ = runCLI(t, strings.Replace(two, "特此通知", "特此通报", 1), "verify", "--roots", p("roots.pem"), "-")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, "INVALID: signature: signature does not verify")

	// Only one of the two roots trusted.
	code, out, _ = runCLI(t, "", "verify", "--roots", p("ca1", "ca.cert.pem"), p("two.json"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, "does not chain to a trusted root")

	// Revoke the bureau's seal certificate.
	mustRun("", "pki", "revoke", "--ca", p("ca2"), "--cert", p("fin", "cert.pem"))
	code, out, _ = runCLI(t, "", "verify", "--roots", p("roots.pem"), "--crl", p("ca2", "crl.pem"), p("two.json"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, out, "was revoked")
	// A certificate of another CA cannot be revoked by this one.
	code, _, errOut := runCLI(t, "", "pki", "revoke", "--ca", p("ca2"), "--cert", p("gov", "cert.pem"))
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "not issued by")

	// Canonical form.
	code, out, _ = runCLI(t, `{"b": 1, "a": [1.0, "\u00e9"]}`, "canon", "-")
	assert.Equal(t, exitOK, code)
	assert.Equal(t, `{"a":[1,"é"],"b":1}`, out)
	code, _, errOut = runCLI(t, `{"a":1,"a":2}`, "canon", "-")
	assert.Equal(t, exitInvalid, code)
	assert.Contains(t, errOut, "duplicate")
}

func TestSealingCommandsUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"canon", "--help"}, {"pki", "--help"}, {"pki", "ca", "--help"}, {"pki", "issue", "--help"},
		{"pki", "revoke", "--help"}, {"sign", "--help"}, {"verify", "--help"},
	} {
		code, out, _ := runCLI(t, "", args...)
		assert.Equal(t, exitOK, code, args)
		assert.Contains(t, out, "usage: egovkit", args)
	}
	for _, args := range [][]string{
		{"canon"}, {"pki"}, {"pki", "frob"}, {"pki", "ca", "--alg", "dsa", "--name", "x", "--out", dir},
		{"pki", "ca", "--name", "x"}, {"pki", "issue", "--ca", dir, "--alg", "ed25519", "--name", "x", "--org-id", "123", "--out", dir},
		{"sign", "doc.json"}, {"sign", "--key", filepath.Join(dir, "nope"), "--chain", "x", "doc.json"},
		{"verify", "doc.json"}, {"verify", "--roots", filepath.Join(dir, "nope"), "doc.json"},
		{"canon", filepath.Join(dir, "missing.json")},
		{"verify", "--roots", "x", "--at", "yesterday", "doc.json"},
	} {
		code, _, _ := runCLI(t, "", args...)
		assert.Equal(t, exitUsage, code, args)
	}
	// Existing keys are not overwritten.
	code, _, errOut := runCLI(t, "", "pki", "ca", "--alg", "p256", "--name", "CA", "--out", dir)
	require.Equal(t, exitOK, code, errOut)
	code, _, errOut = runCLI(t, "", "pki", "ca", "--alg", "p256", "--name", "CA", "--out", dir)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "refusing to overwrite")
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
