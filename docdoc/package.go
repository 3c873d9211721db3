package docdoc

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
)

// Entry names of a document package. The layout follows ETSI ASiC-E: the
// mimetype entry first and stored, then the document, then the files.
const (
	// EntryMimetype is the first entry; it holds [MediaType], stored.
	EntryMimetype = "mimetype"
	// EntryDocument holds the document's JSON form.
	EntryDocument = "document.json"
	// DirAttachments holds attachment NAME as attachments/NAME.
	DirAttachments = "attachments/"
	// DirBody holds a body file FILE as body/FILE.
	DirBody = "body/"
	// DirMetaInf is reserved for signatures and manifests; its entries are
	// carried and checked for safe names, not interpreted.
	DirMetaInf = "META-INF/"
)

// PackageLimits bound what [OpenPackage] and [Unpack] accept, against
// decompression bombs. A zero field takes the default in
// [DefaultPackageLimits].
type PackageLimits struct {
	// MaxEntries is the most entries a package may have.
	MaxEntries int
	// MaxEntrySize is the largest uncompressed size of one entry.
	MaxEntrySize int64
	// MaxTotalSize is the largest uncompressed size of all entries.
	MaxTotalSize int64
	// MaxRatio is the largest uncompressed-to-compressed size ratio of an
	// entry larger than RatioFloor.
	MaxRatio int64
	// RatioFloor is the size under which the ratio is not checked: small
	// files of repetitive text compress well and are harmless.
	RatioFloor int64
}

// DefaultPackageLimits are the limits a zero PackageLimits field takes.
var DefaultPackageLimits = PackageLimits{
	MaxEntries:   10000,
	MaxEntrySize: 1 << 30, // 1 GiB
	MaxTotalSize: 4 << 30, // 4 GiB
	MaxRatio:     100,
	RatioFloor:   1 << 20, // 1 MiB
}

func (l PackageLimits) withDefaults() PackageLimits {
	d := DefaultPackageLimits
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxEntrySize > 0 {
		d.MaxEntrySize = l.MaxEntrySize
	}
	if l.MaxTotalSize > 0 {
		d.MaxTotalSize = l.MaxTotalSize
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.RatioFloor > 0 {
		d.RatioFloor = l.RatioFloor
	}
	return d
}

// ErrInvalidPackage matches every [*PackageError] with errors.Is.
var ErrInvalidPackage = errors.New("docdoc: invalid document package")

// PackageError reports a package that is not acceptable: which entry,
// which rule (docdoc.package.*), and what was expected. When the document
// itself is invalid, Err is its [*ValidationError].
type PackageError struct {
	Entry   string
	Rule    string
	Message string
	Err     error
}

// Error implements error.
func (e *PackageError) Error() string {
	s := "docdoc: package"
	if e.Entry != "" {
		s += " entry " + strconv.Quote(e.Entry)
	}
	s += ": " + e.Rule + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error, such as a *ValidationError.
func (e *PackageError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalidPackage]. An invalid document
// inside also matches [ErrInvalid] through Unwrap.
func (e *PackageError) Is(target error) bool { return target == ErrInvalidPackage }

func pkgErr(entry, rule, format string, args ...any) *PackageError {
	return &PackageError{Entry: entry, Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// NewHash returns the hash for a digest algorithm.
func NewHash(alg DigestAlgorithm) (hash.Hash, error) {
	switch alg {
	case SHA256:
		return sha256.New(), nil
	case SM3:
		return sm3.New(), nil
	}
	return nil, fmt.Errorf("docdoc: unknown digest algorithm %q; expected sha256 or sm3", alg)
}

// ComputeDigest reads r to its end and returns its digest with alg and its
// size, streaming.
func ComputeDigest(r io.Reader, alg DigestAlgorithm) (Digest, int64, error) {
	h, err := NewHash(alg)
	if err != nil {
		return Digest{}, 0, err
	}
	n, err := io.Copy(h, r)
	if err != nil {
		return Digest{}, 0, err
	}
	return Digest{Alg: alg, Value: hex.EncodeToString(h.Sum(nil))}, n, nil
}

// digestFile hashes a file of fsys with alg, streaming.
func digestFile(fsys fs.FS, name string, alg DigestAlgorithm) (Digest, int64, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return Digest{}, 0, err
	}
	defer f.Close()
	d, n, err := ComputeDigest(f, alg)
	if err != nil {
		return Digest{}, 0, fmt.Errorf("docdoc: reading %s: %w", name, err)
	}
	return d, n, nil
}

// packFile is one file of a package: its entry name, its path in the
// caller's file system, and what the document says of it.
type packFile struct {
	entry, src string
	size       *int64
	digest     **Digest
}

// filesOf lists the files of doc, body first. A body file without a size
// gets a zero one to be filled in, so that every packFile has a size.
func filesOf(doc *Document) []packFile {
	var out []packFile
	if doc.Body.IsFile() {
		if doc.Body.Size == nil {
			doc.Body.Size = new(int64)
		}
		out = append(out, packFile{entry: DirBody + doc.Body.File, src: DirBody + doc.Body.File, size: doc.Body.Size, digest: &doc.Body.Digest})
	}
	for i := range doc.Attachments {
		a := &doc.Attachments[i]
		out = append(out, packFile{entry: DirAttachments + a.Name, src: DirAttachments + a.Name, size: &a.Size, digest: &a.Digest})
	}
	return out
}

// CompleteFiles fills in the size and SHA-256 digest of every attachment
// and body file of doc whose digest is nil, and checks the others, reading
// each from fsys at attachments/NAME or body/FILE (the layout that
// [Unpack] writes). A file whose size or digest differs from the document
// gives a [*PackageError].
func CompleteFiles(doc *Document, fsys fs.FS) error {
	for _, f := range filesOf(doc) {
		alg := SHA256
		if *f.digest != nil {
			alg = (*f.digest).Alg
		}
		d, n, err := digestFile(fsys, f.src, alg)
		if err != nil {
			return err
		}
		if *f.digest == nil {
			*f.size, *f.digest = n, &d
			continue
		}
		if n != *f.size {
			return pkgErr(f.entry, "docdoc.package.size-mismatch", "file has %d bytes; the document says %d", n, *f.size)
		}
		if d.Value != (*f.digest).Value {
			return pkgErr(f.entry, "docdoc.package.digest-mismatch", "file has %s digest %s; the document says %s", alg, d.Value, (*f.digest).Value)
		}
	}
	return nil
}

// Pack writes doc and its files as a document package to w. Files are
// read from fsys at attachments/NAME and body/FILE and streamed, never held
// whole in memory. Sizes and digests missing from doc are filled in (see
// [CompleteFiles]), so doc is modified; the completed document must then
// be valid ([Validate]), or Pack writes nothing and returns the
// [*ValidationError]. A file that changes while it is packed is an error.
func Pack(w io.Writer, doc *Document, fsys fs.FS) error {
	if err := CompleteFiles(doc, fsys); err != nil {
		return err
	}
	if err := Validate(doc); err != nil {
		return err
	}
	docJSON, err := Marshal(doc)
	if err != nil {
		return err
	}
	modified := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	if t, err := time.Parse(time.DateOnly, doc.Date); err == nil && t.After(modified) {
		modified = t // a package of the same document is the same bytes
	}
	zw := zip.NewWriter(w)
	// No modification time on mimetype: Go would write it as an extra
	// field, and ASiC (like EPUB) wants the media type at offset 38.
	mt, err := zw.CreateHeader(&zip.FileHeader{Name: EntryMimetype, Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(mt, MediaType); err != nil {
		return err
	}
	dw, err := zw.CreateHeader(&zip.FileHeader{Name: EntryDocument, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	if _, err := dw.Write(docJSON); err != nil {
		return err
	}
	for _, f := range filesOf(doc) {
		if err := packOne(zw, fsys, f, modified); err != nil {
			return err
		}
	}
	return zw.Close()
}

func packOne(zw *zip.Writer, fsys fs.FS, f packFile, modified time.Time) error {
	src, err := fsys.Open(f.src)
	if err != nil {
		return err
	}
	defer src.Close()
	ew, err := zw.CreateHeader(&zip.FileHeader{Name: f.entry, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return err
	}
	h, _ := NewHash((*f.digest).Alg)
	n, err := io.Copy(io.MultiWriter(ew, h), src)
	if err != nil {
		return fmt.Errorf("docdoc: packing %s: %w", f.src, err)
	}
	if n != *f.size || hex.EncodeToString(h.Sum(nil)) != (*f.digest).Value {
		return pkgErr(f.entry, "docdoc.package.digest-mismatch", "file changed while it was packed")
	}
	return nil
}

// Package is an opened document package whose structure and document have
// been checked by [OpenPackage]. Its files are checked as they are read.
type Package struct {
	// Document is the package's validated document.
	Document *Document
	// DocumentJSON is document.json exactly as stored, the bytes that
	// seals cover.
	DocumentJSON []byte

	files   map[string]*zip.File // entry name → file, for body and attachments
	metaInf []*zip.File
	limits  PackageLimits
}

// OpenPackage checks a document package read from r (size bytes): the
// mimetype entry first and stored with [MediaType]; safe entry names (no
// absolute paths, no "..", no backslashes, no duplicates, also ignoring
// case); no encrypted entries and no compression method but store and
// deflate; document.json valid as [Parse] requires; every attachment and
// body file present, with the size the document says; no entry the
// document does not list (META-INF/ aside); and the limits. File contents
// are checked against their digests when read ([Package.Open]) or
// unpacked ([Unpack]).
func OpenPackage(r io.ReaderAt, size int64, lim PackageLimits) (*Package, error) {
	lim = lim.withDefaults()
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, pkgErr("", "docdoc.package.zip", "not a readable zip archive (%v); expected a document package (%s)", err, MediaType)
	}
	if len(zr.File) > lim.MaxEntries {
		return nil, pkgErr("", "docdoc.package.too-many-entries", "%d entries; expected at most %d", len(zr.File), lim.MaxEntries)
	}
	if len(zr.File) == 0 || zr.File[0].Name != EntryMimetype {
		return nil, pkgErr(EntryMimetype, "docdoc.package.mimetype", "the first entry is not %q; expected %q, stored, holding %s", firstName(zr), EntryMimetype, MediaType)
	}
	if err := checkMimetype(zr.File[0]); err != nil {
		return nil, err
	}
	var total int64
	seen := map[string]string{EntryMimetype: EntryMimetype}
	var docFile *zip.File
	p := &Package{files: map[string]*zip.File{}, limits: lim}
	for _, f := range zr.File[1:] {
		if err := checkEntryName(f.Name); err != nil {
			return nil, err
		}
		folded := strings.ToLower(f.Name)
		if prev, dup := seen[folded]; dup {
			return nil, pkgErr(f.Name, "docdoc.package.duplicate-entry", "entry repeats %q (names are compared ignoring case); expected each entry once", prev)
		}
		seen[folded] = f.Name
		if f.Flags&0x1 != 0 {
			return nil, pkgErr(f.Name, "docdoc.package.encrypted", "entry is encrypted; expected no encryption (confidentiality is the transport's job)")
		}
		if f.Method != zip.Store && f.Method != zip.Deflate {
			return nil, pkgErr(f.Name, "docdoc.package.method", "compression method %d; expected store (0) or deflate (8)", f.Method)
		}
		if err := checkBomb(f, lim); err != nil {
			return nil, err
		}
		total += int64(f.UncompressedSize64)
		if total > lim.MaxTotalSize {
			return nil, pkgErr(f.Name, "docdoc.package.too-large", "entries add up to more than %d bytes uncompressed; expected at most that", lim.MaxTotalSize)
		}
		switch {
		case strings.HasSuffix(f.Name, "/"):
			if f.UncompressedSize64 != 0 || !allowedDir(f.Name) {
				return nil, pkgErr(f.Name, "docdoc.package.unlisted-entry", "directory entry is not part of the package layout; expected only attachments/, body/ and META-INF/")
			}
		case f.Name == EntryDocument:
			docFile = f
		case strings.HasPrefix(f.Name, DirMetaInf):
			p.metaInf = append(p.metaInf, f)
		default:
			p.files[f.Name] = f
		}
	}
	if docFile == nil {
		return nil, pkgErr(EntryDocument, "docdoc.package.missing-entry", "the package has no %s; expected the document as its second entry", EntryDocument)
	}
	if docFile.UncompressedSize64 > MaxDocumentSize {
		return nil, pkgErr(EntryDocument, "docdoc.package.too-large", "%d bytes; expected at most %d", docFile.UncompressedSize64, MaxDocumentSize)
	}
	data, err := readEntry(docFile, MaxDocumentSize)
	if err != nil {
		return nil, err
	}
	doc, err := ParseBytes(data)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			return nil, &PackageError{Entry: EntryDocument, Rule: "docdoc.package.invalid-document", Message: "the document is invalid", Err: ve}
		}
		return nil, err
	}
	p.Document, p.DocumentJSON = doc, data
	listed := map[string]int64{}
	for _, f := range filesOf(doc) {
		listed[f.entry] = *f.size
	}
	for name, f := range p.files {
		want, ok := listed[name]
		if !ok {
			return nil, pkgErr(name, "docdoc.package.unlisted-entry", "entry is not listed in the document; expected only %s, attachments/NAME for each listed attachment, body/FILE for a body file, and META-INF/", EntryDocument)
		}
		if int64(f.UncompressedSize64) != want {
			return nil, pkgErr(name, "docdoc.package.size-mismatch", "entry has %d bytes; the document says %d", f.UncompressedSize64, want)
		}
	}
	for _, f := range filesOf(doc) {
		if _, ok := p.files[f.entry]; !ok {
			return nil, pkgErr(f.entry, "docdoc.package.missing-entry", "the document lists this file but the package lacks it; expected every listed file in the package")
		}
	}
	return p, nil
}

func firstName(zr *zip.Reader) string {
	if len(zr.File) == 0 {
		return ""
	}
	return zr.File[0].Name
}

func checkMimetype(f *zip.File) error {
	if f.Method != zip.Store {
		return pkgErr(EntryMimetype, "docdoc.package.mimetype", "the mimetype entry is compressed; expected it stored (uncompressed)")
	}
	if f.UncompressedSize64 != uint64(len(MediaType)) {
		return pkgErr(EntryMimetype, "docdoc.package.mimetype", "the mimetype entry has %d bytes; expected exactly %q", f.UncompressedSize64, MediaType)
	}
	data, err := readEntry(f, int64(len(MediaType)))
	if err != nil {
		return err
	}
	if string(data) != MediaType {
		return pkgErr(EntryMimetype, "docdoc.package.mimetype", "the mimetype entry holds %q; expected %q", data, MediaType)
	}
	return nil
}

// checkEntryName refuses names that could write outside an extraction
// directory, or that mean different files on different systems.
func checkEntryName(name string) error {
	bad := func(why string) error {
		return pkgErr(name, "docdoc.package.unsafe-path", "unsafe entry name: %s; expected a relative path of plain names separated by /", why)
	}
	switch {
	case name == "":
		return bad("empty")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	case strings.ContainsRune(name, '\\'):
		return bad("contains a backslash")
	case strings.HasPrefix(name, "/"):
		return bad("absolute path")
	case len(name) >= 2 && name[1] == ':':
		return bad("drive letter")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return bad("contains a control character")
		}
	}
	parts := strings.Split(strings.TrimSuffix(name, "/"), "/")
	for _, part := range parts {
		switch part {
		case "":
			return bad("empty path element")
		case ".", "..":
			return bad("contains " + part)
		}
	}
	return nil
}

func allowedDir(name string) bool {
	return name == DirAttachments || name == DirBody || strings.HasPrefix(name, DirMetaInf)
}

func checkBomb(f *zip.File, lim PackageLimits) error {
	u := int64(f.UncompressedSize64)
	if f.UncompressedSize64 > uint64(lim.MaxEntrySize) {
		return pkgErr(f.Name, "docdoc.package.too-large", "entry declares %d bytes uncompressed; expected at most %d", f.UncompressedSize64, lim.MaxEntrySize)
	}
	if u > lim.RatioFloor {
		c := int64(f.CompressedSize64)
		if c == 0 || u/c > lim.MaxRatio {
			return pkgErr(f.Name, "docdoc.package.compression-ratio", "entry expands from %d to %d bytes; expected a ratio of at most %d:1", c, u, lim.MaxRatio)
		}
	}
	return nil
}

// readEntry reads a small entry whole, at most max bytes.
func readEntry(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, pkgErr(f.Name, "docdoc.package.zip", "cannot open entry: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, pkgErr(f.Name, "docdoc.package.zip", "cannot read entry: %v", err)
	}
	if int64(len(data)) > max {
		return nil, pkgErr(f.Name, "docdoc.package.too-large", "entry is larger than %d bytes", max)
	}
	return data, nil
}

// Open returns a reader of a package file, attachments/NAME or body/FILE,
// that checks, as it streams, that the content has exactly the size and
// digest the document lists: Read returns a [*PackageError] instead of
// io.EOF when it does not. Read the whole file before trusting any of it.
func (p *Package) Open(entry string) (io.ReadCloser, error) {
	f, ok := p.files[entry]
	if !ok {
		return nil, pkgErr(entry, "docdoc.package.missing-entry", "no such file in the package; expected attachments/NAME or body/FILE of a listed file")
	}
	var want packFile
	for _, pf := range filesOf(p.Document) {
		if pf.entry == entry {
			want = pf
		}
	}
	rc, err := f.Open()
	if err != nil {
		return nil, pkgErr(entry, "docdoc.package.zip", "cannot open entry: %v", err)
	}
	h, err := NewHash((*want.digest).Alg)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &verifyingReader{rc: rc, entry: entry, size: *want.size, digest: (*want.digest).Value, h: h}, nil
}

// Files returns the entry names of the package's files, body first, then
// the attachments in document order.
func (p *Package) Files() []string {
	var out []string
	for _, f := range filesOf(p.Document) {
		out = append(out, f.entry)
	}
	return out
}

type verifyingReader struct {
	rc     io.ReadCloser
	entry  string
	size   int64
	digest string
	h      hash.Hash
	n      int64
	err    error
}

func (v *verifyingReader) Read(b []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.rc.Read(b)
	v.n += int64(n)
	v.h.Write(b[:n])
	if v.n > v.size {
		v.err = pkgErr(v.entry, "docdoc.package.size-mismatch", "entry holds more than the %d bytes the document says", v.size)
		return n, v.err
	}
	switch {
	case err == io.EOF:
		if v.n != v.size {
			v.err = pkgErr(v.entry, "docdoc.package.size-mismatch", "entry holds %d bytes; the document says %d", v.n, v.size)
		} else if got := hex.EncodeToString(v.h.Sum(nil)); got != v.digest {
			v.err = pkgErr(v.entry, "docdoc.package.digest-mismatch", "entry has digest %s; the document says %s", got, v.digest)
		} else {
			v.err = io.EOF
		}
		return n, v.err
	case err != nil:
		v.err = pkgErr(v.entry, "docdoc.package.zip", "cannot read entry: %v", err)
		return n, v.err
	}
	return n, nil
}

func (v *verifyingReader) Close() error { return v.rc.Close() }

// Unpack checks the package read from r (size bytes) as [OpenPackage]
// does and writes it into dir: dir/document.json (the stored bytes),
// dir/attachments/NAME, dir/body/FILE and dir/META-INF/... . It writes
// only inside dir (through an [os.Root]), never overwrites an existing
// file, and streams each file through a temporary name, renaming it only
// once its size and digest are right; on any error it removes what it
// wrote. dir is created if it does not exist.
func Unpack(r io.ReaderAt, size int64, dir string, lim PackageLimits) (*Document, error) {
	p, err := OpenPackage(r, size, lim)
	if err != nil {
		return nil, err
	}
	_, statErr := os.Lstat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	u := &unpacker{root: root}
	err = u.run(p)
	if err != nil {
		u.rollback()
	}
	root.Close()
	if err != nil {
		if errors.Is(statErr, fs.ErrNotExist) {
			_ = os.Remove(dir) // created here, and empty again after the rollback
		}
		return nil, err
	}
	return p.Document, nil
}

type unpacker struct {
	root    *os.Root
	created []string // files and directories created, in order
}

func (u *unpacker) run(p *Package) error {
	outputs := []string{EntryDocument}
	outputs = append(outputs, p.Files()...)
	for _, f := range p.metaInf {
		if !strings.HasSuffix(f.Name, "/") {
			outputs = append(outputs, f.Name)
		}
	}
	for _, name := range outputs {
		if _, err := u.root.Lstat(name); err == nil {
			return fmt.Errorf("docdoc: unpack: %s already exists in %s; expected an empty or new directory", name, u.root.Name())
		}
	}
	var temps [][2]string
	write := func(name string, src io.Reader) error {
		if err := u.mkdirs(path.Dir(name)); err != nil {
			return err
		}
		tmp := path.Join(path.Dir(name), "."+path.Base(name)+".partial")
		out, err := u.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		u.created = append(u.created, tmp)
		_, err = io.Copy(out, src)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		temps = append(temps, [2]string{tmp, name})
		return nil
	}
	for _, name := range p.Files() {
		rc, err := p.Open(name)
		if err != nil {
			return err
		}
		err = write(name, rc)
		rc.Close()
		if err != nil {
			return err
		}
	}
	for _, f := range p.metaInf {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return pkgErr(f.Name, "docdoc.package.zip", "cannot open entry: %v", err)
		}
		err = write(f.Name, io.LimitReader(rc, p.limits.MaxEntrySize))
		rc.Close()
		if err != nil {
			return pkgErr(f.Name, "docdoc.package.zip", "cannot read entry: %v", err)
		}
	}
	if err := write(EntryDocument, bytes.NewReader(p.DocumentJSON)); err != nil {
		return err
	}
	for _, t := range temps {
		if err := u.root.Rename(t[0], t[1]); err != nil {
			return err
		}
		u.created = append(u.created, t[1])
	}
	return nil
}

// mkdirs creates dir and its parents inside the root, recording the ones
// it created.
func (u *unpacker) mkdirs(dir string) error {
	if dir == "." || dir == "" {
		return nil
	}
	if err := u.mkdirs(path.Dir(dir)); err != nil {
		return err
	}
	err := u.root.Mkdir(dir, 0o755)
	switch {
	case err == nil:
		u.created = append(u.created, dir)
		return nil
	case errors.Is(err, fs.ErrExist):
		if fi, serr := u.root.Lstat(dir); serr == nil && fi.IsDir() {
			return nil
		}
	}
	return err
}

// rollback removes, newest first, what the unpacker created.
func (u *unpacker) rollback() {
	for i := len(u.created) - 1; i >= 0; i-- {
		_ = u.root.Remove(u.created[i])
	}
}
