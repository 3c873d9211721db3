package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/egovkit/egovkit/exchange"
)

func init() {
	register(&command{name: "audit", summary: "verify or export a node's hash-chained audit log (audit verify|export)", run: runAudit})
}

func runAudit(ctx context.Context, e *env, args []string) int {
	return dispatch(ctx, e, "audit", "audit verify [--store URL] [FILE.jsonl|-]\n       egovkit audit export --store URL", []subcommand{
		{"verify", "check a node's audit log and name the first broken entry", runAuditVerify},
		{"export", "write a node's audit log as JSON Lines", runAuditExport},
	}, args)
}

func runAuditVerify(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "audit verify", "audit verify [--store URL] [FILE.jsonl|-]", `
Verifies a node's audit log: every message and receipt it sent or received,
each entry chained to the one before by its SHA-256. Reads the log from a
node's store (--store sqlite:PATH or postgres://...) or from a JSON Lines
export (egovkit audit export). An edited, deleted, inserted or reordered
entry breaks the chain; the first entry that does not fit is named:

  SOURCE: entry SEQ (position N): PROBLEM

Exit status: 0 the chain is intact, 1 it is broken, 2 usage or I/O error.`)
	store := fs.String("store", "", "the node's store `URL`")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	var source string
	var r io.Reader
	switch {
	case *store != "" && len(pos) == 0:
		s, err := exchange.OpenStore(ctx, *store)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit audit verify: %v\n", err)
			return exitUsage
		}
		defer s.Close()
		entries, err := s.Audit(ctx)
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit audit verify: %v\n", err)
			return exitUsage
		}
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(exchange.WriteAudit(pw, entries)) }()
		source, r = *store, pr
	case *store == "" && len(pos) == 1 && pos[0] == "-":
		source, r = "-", e.stdin
	case *store == "" && len(pos) == 1:
		f, err := os.Open(pos[0])
		if err != nil {
			fmt.Fprintf(e.stderr, "egovkit audit verify: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		source, r = pos[0], f
	default:
		return usageError(e, fs, "give either --store URL or one FILE.jsonl")
	}
	n, err := exchange.VerifyAudit(r)
	var ae *exchange.AuditError
	switch {
	case errors.As(err, &ae):
		fmt.Fprintf(e.stdout, "%s: entry %d (position %d): %s\n", source, ae.Seq, ae.Index, ae.Problem)
		return exitInvalid
	case err != nil:
		fmt.Fprintf(e.stderr, "egovkit audit verify: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "%s: %d entries, chain intact\n", source, n)
	return exitOK
}

func runAuditExport(ctx context.Context, e *env, args []string) int {
	fs := flagSet(e, "audit export", "audit export --store URL", "Writes a node's audit log to standard output as JSON Lines, one entry per line, for egovkit audit verify.")
	store := fs.String("store", "", "the node's store `URL` (required)")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if *store == "" || len(pos) != 0 {
		return usageError(e, fs, "--store URL is required, and nothing else")
	}
	s, err := exchange.OpenStore(ctx, *store)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit audit export: %v\n", err)
		return exitUsage
	}
	defer s.Close()
	entries, err := s.Audit(ctx)
	if err == nil {
		err = exchange.WriteAudit(e.stdout, entries)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit audit export: %v\n", err)
		return exitUsage
	}
	return exitOK
}
