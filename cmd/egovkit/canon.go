package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
)

func init() {
	register(&command{name: "canon", summary: "print the RFC 8785 canonical form of a JSON file", run: runCanon})
}

func runCanon(_ context.Context, e *env, args []string) int {
	fs := flagSet(e, "canon", "canon FILE|-", `
Prints the canonical form (RFC 8785, JSON Canonicalization Scheme) of the
JSON text in FILE, or on standard input for "-", exactly: no newline is
added, so "egovkit canon doc.json | sha256sum" is the digest of what a seal
signs (with the document's "signatures" member left in).

The input is read strictly: invalid UTF-8, lone surrogates, duplicate
member names and numbers outside an IEEE-754 double are errors (exit 1).`)
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return usageError(e, fs, "expected one FILE (or - for standard input)")
	}
	data, err := readSigInput(e, pos[0])
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit canon: %v\n", err)
		return exitUsage
	}
	out, err := jcs.Canonicalize(data)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit canon: %s: %v\n", pos[0], describeJSONError(err))
		return exitInvalid
	}
	if _, err := e.stdout.Write(out); err != nil {
		fmt.Fprintf(e.stderr, "egovkit canon: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// describeJSONError adds the JSON Pointer to a strict-reading error.
func describeJSONError(err error) string {
	var je *jcs.Error
	if errors.As(err, &je) && je.Pointer != "" {
		return fmt.Sprintf("%v (at %s)", err, je.Pointer)
	}
	return err.Error()
}

// readSigInput reads a document from a file or, for "-", standard input,
// up to signature.MaxDocumentBytes.
func readSigInput(e *env, name string) ([]byte, error) {
	var r io.Reader
	if name == "-" {
		r = e.stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, signature.MaxDocumentBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > signature.MaxDocumentBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, signature.MaxDocumentBytes)
	}
	return data, nil
}

// parseTimeFlag reads an RFC 3339 time flag; empty means zero.
func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s: expected an RFC 3339 time such as 2026-06-01T09:00:00+08:00: %v", name, err)
	}
	return t, nil
}
