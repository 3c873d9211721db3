package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

func init() {
	register(&command{name: "schema", summary: "print a published JSON Schema (docdoc, ...)", run: runSchema})
}

type schemaEntry struct {
	title string
	get   func() []byte
}

var schemas = map[string]schemaEntry{}

// registerSchema makes a schema printable by "egovkit schema NAME".
func registerSchema(name, title string, get func() []byte) {
	schemas[name] = schemaEntry{title: title, get: get}
}

func runSchema(_ context.Context, e *env, args []string) int {
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	var list strings.Builder
	for _, n := range names {
		fmt.Fprintf(&list, "  %-10s %s\n", n, schemas[n].title)
	}
	fs := flagSet(e, "schema", "schema [NAME]", "Prints the JSON Schema (draft 2020-12) NAME, docdoc by default. Schemas:\n\n"+list.String())
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	name := "docdoc"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		return usageError(e, fs, "expected at most one NAME")
	}
	s, ok := schemas[name]
	if !ok {
		return usageError(e, fs, "unknown schema %q; expected one of: %s", name, strings.Join(names, ", "))
	}
	if _, err := e.stdout.Write(s.get()); err != nil {
		return exitUsage
	}
	return exitOK
}
