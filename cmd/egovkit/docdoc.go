package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/egovkit/egovkit/docdoc"
)

func init() {
	register(&command{name: "validate", summary: "validate official documents (docdoc/1 JSON)", run: runValidate})
	register(&command{name: "pack", summary: "pack a document and its files into a document package (.egd)", run: runPack})
	register(&command{name: "unpack", summary: "check a document package and unpack it into a directory", run: runUnpack})
	registerSchema("docdoc", "the docdoc/1 official document", docdoc.Schema)
}

// report is one line of validate's output.
type report struct {
	File    string `json:"file"`
	Pointer string `json:"pointer"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

func runValidate(_ context.Context, e *env, args []string) int {
	fs := flagSet(e, "validate", "validate [--json] FILE...", `
Validates each FILE ("-" for standard input) as a docdoc/1 document: strict
JSON reading, the JSON Schema (egovkit schema docdoc) and the rules of
docdoc/RULES.md. Prints one line per violation:

  FILE: POINTER: RULE: MESSAGE

where POINTER is a JSON Pointer into the document ("" is the whole
document). With --json, prints a JSON array of {file, pointer, rule,
message} instead ([] when every file is valid).

Exit status: 0 every file valid, 1 any file invalid, 2 usage or I/O error.`)
	asJSON := fs.Bool("json", false, "print the violations as a JSON array")
	files, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return usageError(e, fs, "no FILE given")
	}
	reports := []report{}
	status := exitOK
	for _, name := range files {
		rs, err := validateFile(e, name)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit validate: %v\n", err)
			status = exitUsage
			continue
		}
		if len(rs) > 0 && status == exitOK {
			status = exitInvalid
		}
		reports = append(reports, rs...)
	}
	printReports(e, reports, *asJSON)
	return status
}

// validateFile returns the violations of one file, or an I/O error.
func validateFile(e *env, name string) ([]report, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	_, err := docdoc.Parse(r)
	var ve *docdoc.ValidationError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &ve):
		out := make([]report, len(ve.Violations))
		for i, v := range ve.Violations {
			out[i] = report{File: name, Pointer: v.Pointer, Rule: v.Rule, Message: v.Message}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: %w", name, err)
}

func runPack(_ context.Context, e *env, args []string) int {
	fs := flagSet(e, "pack", "pack --out FILE.egd DOC.json [FILE]...", `
Packs DOC.json and its files into a document package: a zip whose first
entry is mimetype (`+docdoc.MediaType+`), then document.json,
then body/FILE and attachments/NAME. Each FILE is matched to the document's
attachments[].name (or body.file) by its file name. Sizes and SHA-256
digests missing from the document are filled in; those present are
checked. The completed document must be valid.

Exit status: 0 packed, 1 invalid document or file that does not match its
digest, 2 usage or I/O error (including a listed file not given, or a file
given that the document does not list).`)
	out := fs.String("out", "", "the package `FILE` to write (required)")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if *out == "" {
		return usageError(e, fs, "--out is required")
	}
	if len(pos) == 0 {
		return usageError(e, fs, "no DOC.json given")
	}
	src, err := os.Open(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pack: %v\n", err)
		return exitUsage
	}
	tree, err := docdoc.ReadTree(src)
	src.Close()
	if err != nil {
		return reportDocError(e, "pack", pos[0], err)
	}
	files, err := matchFiles(tree, pos[1:])
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit pack: %v\n", err)
		return exitUsage
	}
	if err := completeTree(tree, files); err != nil {
		return reportDocError(e, "pack", pos[0], err)
	}
	doc, err := docdoc.FromTree(tree)
	if err != nil {
		return reportDocError(e, "pack", pos[0], err)
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return docdoc.Pack(w, doc, files) }); err != nil {
		return reportDocError(e, "pack", *out, err)
	}
	fmt.Fprintf(e.stdout, "packed %s with %d attachment(s) into %s\n", pos[0], len(doc.Attachments), *out)
	return exitOK
}

// fileMap is an fs.FS of package paths (attachments/NAME, body/FILE) over
// files named on the command line.
type fileMap map[string]string

func (m fileMap) Open(name string) (fs.File, error) {
	p, ok := m[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return os.Open(p)
}

// matchFiles pairs each file argument with the attachment or body file of
// the same name in the draft document.
func matchFiles(tree any, args []string) (fileMap, error) {
	m, _ := tree.(map[string]any)
	want := map[string]string{} // file name → package path
	if b, ok := m["body"].(map[string]any); ok {
		if f, ok := b["file"].(string); ok {
			want[f] = docdoc.DirBody + f
		}
	}
	if as, ok := m["attachments"].([]any); ok {
		for _, a := range as {
			if am, ok := a.(map[string]any); ok {
				if n, ok := am["name"].(string); ok {
					want[n] = docdoc.DirAttachments + n
				}
			}
		}
	}
	files := fileMap{}
	for _, arg := range args {
		base := filepath.Base(arg)
		p, ok := want[base]
		if !ok {
			return nil, fmt.Errorf("%s: the document lists no attachment or body file named %q", arg, base)
		}
		if _, dup := files[p]; dup {
			return nil, fmt.Errorf("%s: a file named %q was given twice", arg, base)
		}
		files[p] = arg
	}
	for name, p := range want {
		if _, ok := files[p]; !ok {
			return nil, fmt.Errorf("the document lists %q but no file of that name was given", name)
		}
	}
	return files, nil
}

// completeTree fills in size and digest where a draft lacks the digest;
// docdoc.Pack checks them again as it packs.
func completeTree(tree any, files fileMap) error {
	m, _ := tree.(map[string]any)
	set := func(obj map[string]any, entry string) error {
		if _, has := obj["digest"]; has {
			return nil
		}
		d, n, err := digest(files, entry)
		if err != nil {
			return err
		}
		obj["size"] = json.Number(fmt.Sprint(n))
		obj["digest"] = map[string]any{"alg": string(d.Alg), "value": d.Value}
		return nil
	}
	if b, ok := m["body"].(map[string]any); ok {
		if f, ok := b["file"].(string); ok {
			if err := set(b, docdoc.DirBody+f); err != nil {
				return err
			}
		}
	}
	if as, ok := m["attachments"].([]any); ok {
		for _, a := range as {
			am, _ := a.(map[string]any)
			if n, ok := am["name"].(string); ok {
				if err := set(am, docdoc.DirAttachments+n); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// digest computes one file's size and SHA-256 digest.
func digest(files fileMap, entry string) (docdoc.Digest, int64, error) {
	f, err := files.Open(entry)
	if err != nil {
		return docdoc.Digest{}, 0, err
	}
	defer f.Close()
	return docdoc.ComputeDigest(f, docdoc.SHA256)
}

// writeAtomically writes a file through a temporary file in the same
// directory, so that a failure leaves no partial output.
func writeAtomically(name string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.partial")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// reportDocError prints a document or package error as validate does and
// returns its exit code: 1 for invalid input, 2 for anything else.
func reportDocError(e *env, cmd, file string, err error) int {
	var ve *docdoc.ValidationError
	var pe *docdoc.PackageError
	switch {
	case errors.As(err, &pe):
		if errors.As(pe.Err, &ve) {
			for _, v := range ve.Violations {
				fmt.Fprintf(e.stdout, "%s: %s#%s: %s: %s\n", file, pe.Entry, v.Pointer, v.Rule, v.Message)
			}
			return exitInvalid
		}
		fmt.Fprintf(e.stdout, "%s: %s: %s: %s\n", file, pe.Entry, pe.Rule, pe.Message)
		return exitInvalid
	case errors.As(err, &ve):
		for _, v := range ve.Violations {
			fmt.Fprintf(e.stdout, "%s: %s: %s: %s\n", file, v.Pointer, v.Rule, v.Message)
		}
		return exitInvalid
	}
	fmt.Fprintf(e.stderr, "egovkit %s: %v\n", cmd, err)
	return exitUsage
}

func runUnpack(_ context.Context, e *env, args []string) int {
	fs := flagSet(e, "unpack", "unpack --out DIR FILE.egd", `
Checks a document package and writes DIR/document.json, DIR/attachments/NAME
(and DIR/body/FILE, DIR/META-INF/...). document.json is validated exactly as
by egovkit validate, and every file is checked against its size and digest.
Rejected, without writing outside DIR: path traversal and absolute paths,
duplicate entries, entries the document does not list, listed files that are
missing, digests that differ, encrypted entries, and decompression bombs
(more than 1 GiB in one entry or 4 GiB in all, or a ratio over 100:1 for
entries over 1 MiB). Existing files are never overwritten; on failure
nothing is left behind.

Exit status: 0 unpacked, 1 invalid package or document, 2 usage or I/O error.`)
	out := fs.String("out", "", "the `DIR` to unpack into (required; created if missing)")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if *out == "" {
		return usageError(e, fs, "--out is required")
	}
	if len(pos) != 1 {
		return usageError(e, fs, "expected exactly one FILE.egd, got %d", len(pos))
	}
	f, err := os.Open(pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit unpack: %v\n", err)
		return exitUsage
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit unpack: %v\n", err)
		return exitUsage
	}
	doc, err := docdoc.Unpack(f, info.Size(), *out, docdoc.PackageLimits{})
	if err != nil {
		return reportDocError(e, "unpack", pos[0], err)
	}
	fmt.Fprintf(e.stdout, "unpacked %s into %s: %s and %d attachment(s)\n", pos[0], *out, docdoc.EntryDocument, len(doc.Attachments))
	return exitOK
}
