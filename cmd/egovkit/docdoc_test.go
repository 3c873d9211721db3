package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
)

type result struct {
	code           int
	stdout, stderr string
}

// runR runs one command in-process and keeps its outcome together.
func runR(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	code, out, errOut := runCLI(t, stdin, args...)
	return result{code, out, errOut}
}

const conformance = "../../docdoc/testdata/conformance"

func TestValidate(t *testing.T) {
	t.Parallel()
	valid := filepath.Join(conformance, "valid/joint-notice.json")
	r := runR(t, "", "validate", valid)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stdout)

	invalid := filepath.Join(conformance, "invalid/doc-number-square-brackets.json")
	r = runR(t, "", "validate", valid, invalid)
	assert.Equal(t, exitInvalid, r.code)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 1)
	assert.True(t, strings.HasPrefix(lines[0], invalid+": /docNumber: docdoc.doc-number.brackets: "), lines[0])
	assert.Contains(t, lines[0], "〔〕")

	r = runR(t, "", "validate", "--json", invalid, valid)
	assert.Equal(t, exitInvalid, r.code)
	var reports []report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &reports))
	require.Len(t, reports, 1)
	assert.Equal(t, report{File: invalid, Pointer: "/docNumber", Rule: "docdoc.doc-number.brackets", Message: reports[0].Message}, reports[0])

	r = runR(t, "", "validate", "--json", valid)
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, "[]\n", r.stdout)

	data, err := os.ReadFile(valid)
	require.NoError(t, err)
	r = runR(t, string(data), "validate", "-")
	assert.Equal(t, exitOK, r.code, r.stderr)

	r = runR(t, "", "validate", valid, "no-such-file.json")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "no-such-file.json")

	r = runR(t, "", "validate")
	assert.Equal(t, exitUsage, r.code)
	r = runR(t, "", "validate", "--bogus", valid)
	assert.Equal(t, exitUsage, r.code)
	r = runR(t, "", "validate", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "usage: egovkit validate")
}

func TestSchema(t *testing.T) {
	t.Parallel()
	r := runR(t, "", "schema")
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, string(docdoc.Schema()), r.stdout)
	r = runR(t, "", "schema", "docdoc")
	assert.Equal(t, string(docdoc.Schema()), r.stdout)
	r = runR(t, "", "schema", "nope")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "docdoc")
	r = runR(t, "", "schema", "--help")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "docdoc")
}

const draft = `{
  "specVersion": "docdoc/1",
  "id": "01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f",
  "type": "notice",
  "issuers": [{"name": "重庆市财政局", "orgId": "11500000MB1972360U"}],
  "docNumber": "渝财预〔2025〕15号",
  "title": "重庆市财政局关于下达2025年专项资金的通知",
  "mainRecipients": [{"name": "各区县（自治县）财政局"}],
  "body": {"mediaType": "text/plain", "text": "现将资金下达如下……"},
  "attachmentNotes": ["1.资金分配表", "2.说明"],
  "attachments": [
    {"name": "资金分配表.csv", "mediaType": "text/csv"},
    {"name": "说明.txt", "mediaType": "text/plain"}
  ],
  "date": "2025-05-06"
}`

func writeTestFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

func TestPackUnpack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTestFiles(t, dir, map[string]string{"doc.json": draft, "资金分配表.csv": "区县,金额\n", "说明.txt": "说明"})
	pkg := filepath.Join(dir, "out.egd")
	r := runR(t, "", "pack", "--out", pkg, filepath.Join(dir, "doc.json"), filepath.Join(dir, "资金分配表.csv"), filepath.Join(dir, "说明.txt"))
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)

	out := filepath.Join(dir, "unpacked")
	r = runR(t, "", "unpack", "--out", out, pkg)
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	got, err := os.ReadFile(filepath.Join(out, "attachments", "说明.txt"))
	require.NoError(t, err)
	assert.Equal(t, "说明", string(got))
	r = runR(t, "", "validate", filepath.Join(out, "document.json"))
	assert.Equal(t, exitOK, r.code, r.stdout)

	// The unpacked document has its digests: packing it again checks them.
	writeTestFiles(t, out, map[string]string{"资金分配表.csv": "区县,金额\n", "说明.txt": "说明!"})
	r = runR(t, "", "pack", filepath.Join(out, "document.json"), "--out", filepath.Join(dir, "again.egd"), filepath.Join(out, "资金分配表.csv"), filepath.Join(out, "说明.txt"))
	assert.Equal(t, exitInvalid, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "docdoc.package.size-mismatch")
	_, err = os.Stat(filepath.Join(dir, "again.egd"))
	assert.True(t, os.IsNotExist(err), "no partial package left behind")

	// A file that the document does not list, or a listed file not given.
	r = runR(t, "", "pack", "--out", filepath.Join(dir, "x.egd"), filepath.Join(dir, "doc.json"), filepath.Join(dir, "资金分配表.csv"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "说明.txt")
	r = runR(t, "", "pack", "--out", filepath.Join(dir, "x.egd"), filepath.Join(dir, "doc.json"), filepath.Join(dir, "资金分配表.csv"), filepath.Join(dir, "说明.txt"), filepath.Join(dir, "out.egd"))
	assert.Equal(t, exitUsage, r.code)

	// An invalid draft.
	writeTestFiles(t, dir, map[string]string{"bad.json": strings.Replace(draft, "〔2025〕", "[2025]", 1)})
	r = runR(t, "", "pack", "--out", filepath.Join(dir, "x.egd"), filepath.Join(dir, "bad.json"), filepath.Join(dir, "资金分配表.csv"), filepath.Join(dir, "说明.txt"))
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, "/docNumber: docdoc.doc-number.brackets")

	// Usage errors.
	assert.Equal(t, exitUsage, runR(t, "", "pack", filepath.Join(dir, "doc.json")).code)
	assert.Equal(t, exitUsage, runR(t, "", "unpack", pkg).code)
	assert.Equal(t, exitUsage, runR(t, "", "unpack", "--out", out, filepath.Join(dir, "missing.egd")).code)
	assert.Equal(t, exitOK, runR(t, "", "pack", "--help").code)
	assert.Equal(t, exitOK, runR(t, "", "unpack", "--help").code)
}

func TestUnpackRejectsTraversal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	require.NoError(t, err)
	_, _ = w.Write([]byte(docdoc.MediaType))
	w, err = zw.Create("../escaped.txt")
	require.NoError(t, err)
	_, _ = w.Write([]byte("x"))
	require.NoError(t, zw.Close())
	pkg := filepath.Join(dir, "evil.egd")
	require.NoError(t, os.WriteFile(pkg, buf.Bytes(), 0o644))

	r := runR(t, "", "unpack", "--out", filepath.Join(dir, "out"), pkg)
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, "docdoc.package.unsafe-path")
	_, err = os.Stat(filepath.Join(dir, "escaped.txt"))
	assert.True(t, os.IsNotExist(err))
}

func TestTopLevel(t *testing.T) {
	t.Parallel()
	r := runR(t, "")
	assert.Equal(t, exitUsage, r.code)
	r = runR(t, "", "help")
	assert.Equal(t, exitOK, r.code)
	for _, c := range []string{"validate", "schema", "pack", "unpack"} {
		assert.Contains(t, r.stdout, c)
	}
	r = runR(t, "", "frobnicate")
	assert.Equal(t, exitUsage, r.code)
	r = runR(t, "", "help", "validate")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "usage: egovkit validate")
}
