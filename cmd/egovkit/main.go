// Command egovkit is the command line over the egovkit SDK: it validates
// official documents, prints the published schemas, and packs and unpacks
// document packages. Run "egovkit help" for the list of commands and
// "egovkit COMMAND --help" for one.
//
// Exit status: 0 on success, 1 when the input is invalid (a document, a
// package, a signature), 2 on a usage or I/O error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
)

// env is what a command may touch, so that tests run commands in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one top-level word of the command line.
type command struct {
	name    string
	summary string
	// run receives the arguments after the command's name.
	run func(ctx context.Context, e *env, args []string) int
}

var commands = map[string]*command{}

// register adds a command; each command's file calls it from init.
func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("egovkit: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run(ctx, e, []string{"--help"})
			}
		}
		usage(e.stdout)
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "egovkit: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitUsage
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: egovkit COMMAND [ARGUMENTS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "egovkit COMMAND --help" for a command's arguments.`)
	fmt.Fprintln(w, "Exit status: 0 success, 1 invalid input, 2 usage or I/O error.")
}

// flagSet returns a flag set whose usage text is synopsis followed by the
// flags' defaults and then details.
func flagSet(e *env, name, synopsis, details string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "usage: egovkit %s\n", synopsis)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(out, "\noptions:")
			fs.VisitAll(func(f *flag.Flag) {
				arg, text := flag.UnquoteUsage(f)
				if arg != "" {
					arg = " " + arg
				}
				fmt.Fprintf(out, "  --%s%s\n\t%s\n", f.Name, arg, strings.ReplaceAll(text, "\n", "\n\t"))
			})
		}
		if details != "" {
			fmt.Fprintf(out, "\n%s\n", strings.TrimSpace(details))
		}
	}
	return fs
}

// errHelp is returned by parseFlags after printing the help text.
var errHelp = errors.New("help requested")

// parseFlags parses args allowing flags after positional arguments, as in
// "egovkit pack DOC.json --out x.egd"; "--" ends the flags. On --help it
// prints the usage to stdout and returns errHelp.
func parseFlags(e *env, fs *flag.FlagSet, args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return nil, errHelp
		}
	}
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// flagsOrExit parses flags and turns the outcome into an exit code for the
// caller to return when ok is false.
func flagsOrExit(e *env, fs *flag.FlagSet, args []string) (positional []string, code int, ok bool) {
	positional, err := parseFlags(e, fs, args)
	switch {
	case errors.Is(err, errHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitUsage, false
	}
	return positional, exitOK, true
}

// usageError prints a usage error with the command's synopsis and returns
// the usage exit code.
func usageError(e *env, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "egovkit %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(e.stderr, "Run \"egovkit %s --help\" for usage.\n", fs.Name())
	return exitUsage
}

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

// subcommand is one word of a command group such as "egovkit pki ca".
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

// dispatch runs the subcommand named by args[0] of the group. usage is
// the group's synopsis lines (after "usage: egovkit "); with no
// subcommand it goes to stderr (exit 2), with --help to stdout with the
// subcommands' summaries (exit 0).
func dispatch(ctx context.Context, e *env, group, usage string, subs []subcommand, args []string) int {
	help := func(w io.Writer) {
		fmt.Fprintf(w, "usage: egovkit %s\n\nsubcommands:\n", usage)
		names := make([]string, len(subs))
		for i, s := range subs {
			fmt.Fprintf(w, "  %-8s %s\n", s.name, s.summary)
			names[i] = s.name
		}
		fmt.Fprintf(w, "\nRun \"egovkit %s SUBCOMMAND --help\" for its options.\n", group)
	}
	if len(args) == 0 {
		help(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		help(e.stdout)
		return exitOK
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, e, args[1:])
		}
		names[i] = s.name
	}
	fmt.Fprintf(e.stderr, "egovkit %s: unknown subcommand %q; expected one of %s\n", group, args[0], strings.Join(names, ", "))
	return exitUsage
}
