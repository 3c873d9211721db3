package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/egovkit/egovkit/approval"
)

func init() {
	register(&command{name: "approval", summary: "check approval process definitions and replay command scripts", run: runApproval})
	registerSchema("approval", "the approval/1 process definition", approval.DefinitionSchema)
}

func runApproval(ctx context.Context, e *env, args []string) int {
	return dispatch(ctx, e, "approval", "approval check [--json] DEF.json...\n       egovkit approval replay --def DEF.json --commands FILE.jsonl", []subcommand{
		{"check", "validate process definitions", runApprovalCheck},
		{"replay", "run a command script on one case and print the outcome", runApprovalReplay},
	}, args)
}

func runApprovalCheck(_ context.Context, e *env, args []string) int {
	fs := flagSet(e, "approval check", "approval check [--json] DEF.json...", `
Checks each process definition ("-" for standard input): strict JSON
reading, the schema (egovkit schema approval), and the rules a schema cannot
express: step ids unique and known, every step reachable from the start and
with an assignee, conditions (CEL) that compile to booleans, a last branch
without a condition, an exit to a decision from every cycle, step limits
within the legal limit, an application schema that compiles. Prints one line
per problem:

  FILE: POINTER: RULE: MESSAGE

With --json, prints a JSON array of {file, pointer, rule, message}.

Exit status: 0 every definition valid, 1 any has problems, 2 usage or I/O error.`)
	asJSON := fs.Bool("json", false, "print the problems as a JSON array")
	files, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if len(files) == 0 {
		return usageError(e, fs, "no DEF.json given")
	}
	reports := []report{}
	status := exitOK
	for _, name := range files {
		in := e.stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(e.stderr, "egovkit approval check: %v\n", err)
				status = exitUsage
				continue
			}
			in = f
			defer f.Close()
		}
		_, err := approval.ParseDefinition(in)
		var de *approval.DefinitionError
		switch {
		case err == nil:
		case errors.As(err, &de):
			for _, v := range de.Violations {
				reports = append(reports, report{File: name, Pointer: v.Pointer, Rule: v.Rule, Message: v.Message})
			}
			if status == exitOK {
				status = exitInvalid
			}
		default:
			fmt.Fprintf(e.stderr, "egovkit approval check: %s: %v\n", name, err)
			status = exitUsage
		}
	}
	printReports(e, reports, *asJSON)
	return status
}

// printReports prints violations as lines or, with asJSON, as a JSON array.
func printReports(e *env, reports []report, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(reports)
		return
	}
	for _, r := range reports {
		fmt.Fprintf(e.stdout, "%s: %s: %s: %s\n", r.File, r.Pointer, r.Rule, r.Message)
	}
}
