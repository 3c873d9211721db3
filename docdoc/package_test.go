package docdoc_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
)

var attachmentBytes = []byte("项目,金额\n道路,100\n")

func packableDoc() *docdoc.Document {
	d := base(docdoc.TypeNotice, 500)
	d.Attachments = []docdoc.Attachment{{Name: "资金安排表.csv", MediaType: "text/csv"}}
	d.AttachmentNotes = []string{"资金安排表"}
	return d
}

func packFS() fstest.MapFS {
	return fstest.MapFS{"attachments/资金安排表.csv": {Data: attachmentBytes}}
}

func packBytes(t *testing.T, d *docdoc.Document, fsys fstest.MapFS) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, docdoc.Pack(&buf, d, fsys))
	return buf.Bytes()
}

func TestPackUnpackRoundTrip(t *testing.T) {
	t.Parallel()
	d := packableDoc()
	pkg := packBytes(t, d, packFS())
	require.NotNil(t, d.Attachments[0].Digest, "Pack fills in the digest")
	assert.Equal(t, int64(len(attachmentBytes)), d.Attachments[0].Size)

	// Deterministic: the same document packs to the same bytes.
	again := packableDoc()
	assert.Equal(t, pkg, packBytes(t, again, packFS()))

	// The layout: mimetype first and stored, then document.json.
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	require.NoError(t, err)
	require.Len(t, zr.File, 3)
	assert.Equal(t, "mimetype", zr.File[0].Name)
	assert.Equal(t, zip.Store, zr.File[0].Method)
	assert.Equal(t, "document.json", zr.File[1].Name)
	assert.Equal(t, "attachments/资金安排表.csv", zr.File[2].Name)
	raw, err := io.ReadAll(io.NewSectionReader(bytes.NewReader(pkg), 38, int64(len(docdoc.MediaType))))
	require.NoError(t, err)
	assert.Equal(t, docdoc.MediaType, string(raw), "mimetype readable at offset 38, as in ASiC and EPUB")

	dir := filepath.Join(t.TempDir(), "out")
	got, err := docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), dir, docdoc.PackageLimits{})
	require.NoError(t, err)
	assert.Equal(t, d.Title, got.Title)
	content, err := os.ReadFile(filepath.Join(dir, "attachments", "资金安排表.csv"))
	require.NoError(t, err)
	assert.Equal(t, attachmentBytes, content)
	docJSON, err := os.ReadFile(filepath.Join(dir, "document.json"))
	require.NoError(t, err)
	_, err = docdoc.ParseBytes(docJSON)
	require.NoError(t, err)
	assert.Equal(t, []string{"attachments", "document.json"}, listDir(t, dir))

	// Unpacking again into the same directory refuses to overwrite.
	_, err = docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), dir, docdoc.PackageLimits{})
	require.ErrorContains(t, err, "already exists")
	after, err := os.ReadFile(filepath.Join(dir, "attachments", "资金安排表.csv"))
	require.NoError(t, err)
	assert.Equal(t, attachmentBytes, after)

	// Package.Open streams and checks.
	p, err := docdoc.OpenPackage(bytes.NewReader(pkg), int64(len(pkg)), docdoc.PackageLimits{})
	require.NoError(t, err)
	assert.Equal(t, []string{"attachments/资金安排表.csv"}, p.Files())
	rc, err := p.Open("attachments/资金安排表.csv")
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	assert.Equal(t, attachmentBytes, b)
	_, err = p.Open("attachments/other.csv")
	assert.ErrorIs(t, err, docdoc.ErrInvalidPackage)
}

func TestPackBodyFileAndSM3(t *testing.T) {
	t.Parallel()
	d := base(docdoc.TypeLetter, 501)
	d.Body = docdoc.Body{MediaType: "application/ofd", File: "正文.ofd"}
	d.Attachments = []docdoc.Attachment{{Name: "a.txt", MediaType: "text/plain", Digest: &docdoc.Digest{Alg: docdoc.SM3}}}
	d.AttachmentNotes = []string{"a"}
	fsys := fstest.MapFS{"body/正文.ofd": {Data: []byte("OFD")}, "attachments/a.txt": {Data: []byte("abc")}}
	// An SM3 digest with no value is checked, not filled in: the document
	// asked for a digest it does not have.
	var buf bytes.Buffer
	err := docdoc.Pack(&buf, d, fsys)
	require.ErrorIs(t, err, docdoc.ErrInvalidPackage)

	// GB/T 32905-2016 Appendix A.1: SM3("abc").
	d.Attachments[0].Size = 3
	d.Attachments[0].Digest.Value = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
	pkg := packBytes(t, d, fsys)
	dir := t.TempDir()
	_, err = docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), dir, docdoc.PackageLimits{})
	require.NoError(t, err)
	body, err := os.ReadFile(filepath.Join(dir, "body", "正文.ofd"))
	require.NoError(t, err)
	assert.Equal(t, "OFD", string(body))
}

func TestPackRefusesInvalid(t *testing.T) {
	t.Parallel()
	d := packableDoc()
	d.DocNumber = "渝府发[2025]1号"
	var buf bytes.Buffer
	err := docdoc.Pack(&buf, d, packFS())
	var ve *docdoc.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Zero(t, buf.Len(), "nothing written for an invalid document")

	d = packableDoc()
	d.Attachments[0].Size = int64(len(attachmentBytes))
	d.Attachments[0].Digest = &docdoc.Digest{Alg: docdoc.SHA256, Value: strings.Repeat("0", 64)}
	err = docdoc.Pack(&buf, d, packFS())
	var pe *docdoc.PackageError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "docdoc.package.digest-mismatch", pe.Rule)

	d = packableDoc()
	err = docdoc.Pack(&buf, d, fstest.MapFS{})
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// entry is one zip entry of a hand-made package.
type entry struct {
	name   string
	data   []byte
	method uint16
	flags  uint16
}

func makeZip(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method, Flags: e.flags})
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// validEntries returns the entries of a valid package, for tests to alter.
func validEntries(t *testing.T) []entry {
	d := packableDoc()
	require.NoError(t, docdoc.CompleteFiles(d, packFS()))
	docJSON, err := docdoc.Marshal(d)
	require.NoError(t, err)
	return []entry{
		{name: "mimetype", data: []byte(docdoc.MediaType), method: zip.Store},
		{name: "document.json", data: docJSON, method: zip.Deflate},
		{name: "attachments/资金安排表.csv", data: attachmentBytes, method: zip.Deflate},
	}
}

func TestUnpackRejects(t *testing.T) {
	t.Parallel()
	with := func(extra ...entry) func(t *testing.T) []entry {
		return func(t *testing.T) []entry { return append(validEntries(t), extra...) }
	}
	alter := func(i int, f func(e *entry)) func(t *testing.T) []entry {
		return func(t *testing.T) []entry {
			es := validEntries(t)
			f(&es[i])
			return es
		}
	}
	zeros := make([]byte, 3<<20)
	cases := []struct {
		name    string
		entries func(t *testing.T) []entry
		limits  docdoc.PackageLimits
		rule    string
	}{
		{"traversal", with(entry{name: "attachments/../../evil.txt", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unsafe-path"},
		{"traversal at top", with(entry{name: "../evil.txt", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unsafe-path"},
		{"absolute", with(entry{name: "/tmp/evil.txt", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unsafe-path"},
		{"backslash", with(entry{name: `attachments\..\evil.txt`, data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unsafe-path"},
		{"drive letter", with(entry{name: "C:/evil.txt", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unsafe-path"},
		{"dot element", with(entry{name: "attachments/./a", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unsafe-path"},
		{"duplicate", with(entry{name: "attachments/资金安排表.csv", data: attachmentBytes, method: zip.Deflate}), docdoc.PackageLimits{}, "docdoc.package.duplicate-entry"},
		{"duplicate ignoring case", with(entry{name: "DOCUMENT.json", data: []byte("{}")}), docdoc.PackageLimits{}, "docdoc.package.duplicate-entry"},
		{"second mimetype", with(entry{name: "mimetype", data: []byte(docdoc.MediaType)}), docdoc.PackageLimits{}, "docdoc.package.duplicate-entry"},
		{"unlisted attachment", with(entry{name: "attachments/extra.pdf", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unlisted-entry"},
		{"unlisted top-level", with(entry{name: "readme.txt", data: []byte("x")}), docdoc.PackageLimits{}, "docdoc.package.unlisted-entry"},
		{"unlisted directory", with(entry{name: "other/"}), docdoc.PackageLimits{}, "docdoc.package.unlisted-entry"},
		{"missing attachment", func(t *testing.T) []entry { return validEntries(t)[:2] }, docdoc.PackageLimits{}, "docdoc.package.missing-entry"},
		{"missing document", func(t *testing.T) []entry {
			es := validEntries(t)
			return []entry{es[0], es[2]}
		}, docdoc.PackageLimits{}, "docdoc.package.missing-entry"},
		{"digest differs", alter(2, func(e *entry) { e.data = []byte("项目,金额\n道路,900\n") }), docdoc.PackageLimits{}, "docdoc.package.digest-mismatch"},
		{"size differs", alter(2, func(e *entry) { e.data = append(e.data, '!') }), docdoc.PackageLimits{}, "docdoc.package.size-mismatch"},
		{"mimetype not first", func(t *testing.T) []entry {
			es := validEntries(t)
			return []entry{es[1], es[0], es[2]}
		}, docdoc.PackageLimits{}, "docdoc.package.mimetype"},
		{"mimetype compressed", alter(0, func(e *entry) { e.method = zip.Deflate }), docdoc.PackageLimits{}, "docdoc.package.mimetype"},
		{"mimetype wrong", alter(0, func(e *entry) { e.data = []byte("application/zip") }), docdoc.PackageLimits{}, "docdoc.package.mimetype"},
		{"invalid document", alter(1, func(e *entry) { e.data = bytes.Replace(e.data, []byte("〔2025〕"), []byte("[2025]"), 1) }), docdoc.PackageLimits{}, "docdoc.package.invalid-document"},
		{"document not JSON", alter(1, func(e *entry) { e.data = []byte("{") }), docdoc.PackageLimits{}, "docdoc.package.invalid-document"},
		{"bomb ratio", with(entry{name: "META-INF/zeros", data: zeros, method: zip.Deflate}), docdoc.PackageLimits{}, "docdoc.package.compression-ratio"},
		{"entry limit", with(entry{name: "META-INF/big", data: make([]byte, 2048)}), docdoc.PackageLimits{MaxEntrySize: 1024}, "docdoc.package.too-large"},
		{"total limit", with(entry{name: "META-INF/a", data: make([]byte, 900)}, entry{name: "META-INF/b", data: make([]byte, 900)}), docdoc.PackageLimits{MaxTotalSize: 2500}, "docdoc.package.too-large"},
		{"too many entries", with(entry{name: "META-INF/a"}, entry{name: "META-INF/b"}), docdoc.PackageLimits{MaxEntries: 4}, "docdoc.package.too-many-entries"},
		{"encrypted", with(entry{name: "META-INF/secret", data: []byte("x"), flags: 0x1}), docdoc.PackageLimits{}, "docdoc.package.encrypted"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pkg := makeZip(t, tc.entries(t)...)
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			_, err := docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), dir, tc.limits)
			var pe *docdoc.PackageError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.rule, pe.Rule, pe.Error())
			assert.True(t, errors.Is(err, docdoc.ErrInvalidPackage))
			assert.NotEmpty(t, pe.Message)
			// Nothing written, inside or outside the target; the target,
			// created by Unpack, is removed again.
			assert.Empty(t, listDir(t, parent), "files left behind")
		})
	}
}

func TestUnpackNotZip(t *testing.T) {
	t.Parallel()
	_, err := docdoc.OpenPackage(bytes.NewReader([]byte("not a zip")), 9, docdoc.PackageLimits{})
	var pe *docdoc.PackageError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "docdoc.package.zip", pe.Rule)
	_, err = docdoc.OpenPackage(bytes.NewReader(makeZip(t)), int64(len(makeZip(t))), docdoc.PackageLimits{})
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "docdoc.package.mimetype", pe.Rule)
}

func TestUnpackKeepsMetaInf(t *testing.T) {
	t.Parallel()
	es := append(validEntries(t), entry{name: "META-INF/", data: nil}, entry{name: "META-INF/signatures/seal-1.jws", data: []byte("jws")})
	pkg := makeZip(t, es...)
	dir := t.TempDir()
	_, err := docdoc.Unpack(bytes.NewReader(pkg), int64(len(pkg)), dir, docdoc.PackageLimits{})
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "META-INF", "signatures", "seal-1.jws"))
	require.NoError(t, err)
	assert.Equal(t, "jws", string(got))
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}
