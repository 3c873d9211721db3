//go:build unix

package docs

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sampleTimeout bounds one sample: a generous limit that only a hung
// sample reaches (a gateway that never listens, a command that waits on
// its input), not a performance threshold.
const sampleTimeout = 5 * time.Minute

var (
	fenceOpen  = regexp.MustCompile("^( *)```(.*)$")
	skipTag    = regexp.MustCompile(`^<!-- readme-test: skip: (\S.*?) -->$`)
	commandDoc = regexp.MustCompile(`^// Command ([a-z][a-z0-9-]*) `)
	goRun      = regexp.MustCompile(`\bgo run \./([a-z][a-z0-9-]*)\b`)
)

// sample is one fenced block of README.md.
type sample struct {
	line int    // the line of its opening fence
	lang string // go, sh, json, …
	text string
	skip string // the reason of a readme-test skip line just before it
	name string // a Go program's command name
}

func (s sample) String() string { return fmt.Sprintf("README.md:%d (```%s)", s.line, s.lang) }

// readSamples reads README.md's samples, failing the test on a block or
// tag that breaks the rules.
func readSamples(t *testing.T) []sample {
	t.Helper()
	f, err := os.Open("../../README.md")
	require.NoError(t, err)
	defer f.Close()
	samples, err := parseSamples(f)
	require.NoError(t, err)
	return samples
}

// parseSamples reads the fenced blocks of a Markdown file by the rules of
// the package documentation; the error names the first line that breaks
// them.
func parseSamples(r io.Reader) ([]sample, error) {
	var (
		samples []sample
		cur     *sample
		indent  string
		body    strings.Builder
		tags    []int // lines of readme-test tags outside blocks
		tagText = map[int]string{}
		n       int
	)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch m := fenceOpen.FindStringSubmatch(line); {
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.text = body.String()
			samples = append(samples, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(strings.TrimPrefix(line, indent))
			body.WriteByte('\n')
		case m != nil:
			if strings.TrimSpace(m[2]) == "" {
				return nil, fmt.Errorf("README.md:%d: a fenced block without a language; expected ```go, ```sh, ```json or another", n)
			}
			cur, indent = &sample{line: n, lang: strings.TrimSpace(m[2])}, m[1]
			body.Reset()
		case strings.HasPrefix(strings.TrimSpace(line), "<!-- readme-test:"):
			tags = append(tags, n)
			tagText[n] = strings.TrimSpace(line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("README.md:%d: the block is not closed; expected a line ``` after it", cur.line)
	}
	for _, line := range tags {
		m := skipTag.FindStringSubmatch(tagText[line])
		if m == nil {
			return nil, fmt.Errorf("README.md:%d: %q is not a readme-test tag; expected <!-- readme-test: skip: REASON -->", line, tagText[line])
		}
		found := false
		for i := range samples {
			if samples[i].line == line+1 {
				samples[i].skip, found = m[1], true
			}
		}
		if !found {
			return nil, fmt.Errorf("README.md:%d: the readme-test tag is not on the line just before a fenced block", line)
		}
	}
	names := map[string]int{}
	for i := range samples {
		s := &samples[i]
		if s.lang != "go" {
			continue
		}
		m := commandDoc.FindStringSubmatch(s.text)
		if m == nil {
			return nil, fmt.Errorf("%s: a Go sample starts with its doc comment, expected // Command NAME …", s)
		}
		if !strings.Contains(s.text, "\npackage main\n") {
			return nil, fmt.Errorf("%s: a Go sample is a whole program, expected package main", s)
		}
		s.name = m[1]
		if first, ok := names[s.name]; ok {
			return nil, fmt.Errorf("%s: the command name %s is taken by the program at line %d", s, s.name, first)
		}
		names[s.name] = s.line
	}
	return samples, nil
}

// workspace makes a samples' workspace: a link to each top-level entry of
// the repository, and each Go program as NAME/main.go.
func workspace(t *testing.T, samples []sample) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		require.NoError(t, os.Symlink(filepath.Join(root, e.Name()), filepath.Join(dir, e.Name())))
	}
	for _, s := range samples {
		if s.lang != "go" {
			continue
		}
		p := filepath.Join(dir, s.name)
		_, err := os.Lstat(p)
		require.True(t, os.IsNotExist(err), "%s: the program's name %q is taken by the repository's top level", s, s.name)
		require.NoError(t, os.Mkdir(p, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(p, "main.go"), []byte(s.text), 0o644))
	}
	return dir
}

// runSample runs argv in dir in a process group of its own, with env
// added, and returns its combined output. It is an error when the sample
// fails, does not finish within sampleTimeout, or leaves a process of its
// group running (then they are killed).
func runSample(s sample, dir string, env []string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sampleTimeout)
	defer cancel()
	out, err := os.CreateTemp("", "readme-sample-")
	if err != nil {
		return "", err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out // a file, so that Wait does not wait for a background process's pipe
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	runErr := cmd.Run()
	leftover := false
	if cmd.Process != nil {
		leftover = syscall.Kill(-cmd.Process.Pid, 0) == nil
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		return "", err
	}
	switch {
	case ctx.Err() != nil:
		return string(data), fmt.Errorf("%s did not finish within %s", s, sampleTimeout)
	case runErr != nil:
		return string(data), fmt.Errorf("%s failed: %w", s, runErr)
	case leftover:
		return string(data), fmt.Errorf("%s left a process running, expected it to stop what it started in the background (kill %%1 && wait)", s)
	}
	return string(data), nil
}

// TestREADMEPrograms runs every Go program of README.md that no shell
// sample runs, and fails if one does not build or exits non-zero.
func TestREADMEPrograms(t *testing.T) {
	samples := readSamples(t)
	ranBySh := map[string]bool{}
	for _, s := range samples {
		if s.lang == "sh" && s.skip == "" {
			for _, m := range goRun.FindAllStringSubmatch(s.text, -1) {
				ranBySh[m[1]] = true
			}
		}
	}
	ws := workspace(t, samples)
	programs := 0
	for _, s := range samples {
		if s.lang != "go" {
			continue
		}
		programs++
		if s.skip != "" {
			t.Logf("%s: %s not run: %s", s, s.name, s.skip)
			continue
		}
		if ranBySh[s.name] {
			t.Logf("%s: %s is run by a shell sample (go run ./%s)", s, s.name, s.name)
			continue
		}
		t.Run(s.name, func(t *testing.T) {
			out, err := runSample(s, ws, nil, "go", "run", "./"+s.name)
			require.NoError(t, err, "output:\n%s", out)
			t.Logf("%s:\n%s", s, out)
		})
	}
	require.NotZero(t, programs, "README.md has Go samples")
}

// TestREADMEShell runs every shell sample of README.md with bash (set -euo
// pipefail) in a fresh workspace with a freshly built egovkit on PATH.
func TestREADMEShell(t *testing.T) {
	samples := readSamples(t)
	bin := filepath.Dir(buildEgovkit(t))
	env := []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH")}
	blocks := 0
	for _, s := range samples {
		if s.lang != "sh" {
			continue
		}
		blocks++
		if s.skip != "" {
			t.Logf("%s not run: %s", s, s.skip)
			continue
		}
		t.Run(fmt.Sprintf("line%d", s.line), func(t *testing.T) {
			ws := workspace(t, samples)
			script := filepath.Join(t.TempDir(), "sample.sh")
			require.NoError(t, os.WriteFile(script, []byte(s.text), 0o644))
			out, err := runSample(s, ws, env, "bash", "-euo", "pipefail", script)
			require.NoError(t, err, "output:\n%s", out)
			t.Logf("%s:\n%s", s, out)
		})
	}
	require.NotZero(t, blocks, "README.md has shell samples")
}

// TestParseSamples checks the rules of the blocks and tags on small
// documents: what is accepted, and each way to break them.
func TestParseSamples(t *testing.T) {
	prog := "```go\n// Command hello prints.\npackage main\n\nfunc main() {}\n```\n"
	got, err := parseSamples(strings.NewReader("# t\n\n<!-- readme-test: skip: too slow -->\n```sh\nsleep 1000\n```\n\n  ```sh\n  echo indented\n  ```\n" + prog + "```json\n{}\n```\n"))
	require.NoError(t, err)
	require.Len(t, got, 4)
	require.Equal(t, sample{line: 4, lang: "sh", text: "sleep 1000\n", skip: "too slow"}, got[0])
	require.Equal(t, sample{line: 8, lang: "sh", text: "echo indented\n"}, got[1])
	require.Equal(t, "hello", got[2].name)
	require.Equal(t, "json", got[3].lang)

	for _, c := range []struct{ doc, want string }{
		{"```\nls\n```\n", "README.md:1: a fenced block without a language"},
		{"```sh\nls\n", "README.md:1: the block is not closed"},
		{"<!-- readme-test: skip: -->\n```sh\nls\n```\n", "is not a readme-test tag"},
		{"<!-- readme-test: run -->\n```sh\nls\n```\n", "is not a readme-test tag"},
		{"<!-- readme-test: skip: why -->\n\n```sh\nls\n```\n", "README.md:1: the readme-test tag is not on the line just before a fenced block"},
		{"```go\npackage main\n```\n", "a Go sample starts with its doc comment"},
		{"```go\n// Command hello prints.\npackage hello\n```\n", "a Go sample is a whole program"},
		{prog + prog, "the command name hello is taken by the program at line 1"},
	} {
		_, err := parseSamples(strings.NewReader(c.doc))
		require.ErrorContains(t, err, c.want, "%q", c.doc)
	}
}

// TestRunSample checks that a sample fails on a non-zero exit and on a
// background process it leaves running, and passes when it stops it.
func TestRunSample(t *testing.T) {
	s := sample{line: 1, lang: "sh"}
	dir := t.TempDir()
	out, err := runSample(s, dir, nil, "bash", "-euo", "pipefail", "-c", "sleep 600 & echo started; kill %1 && wait")
	require.NoError(t, err)
	require.Equal(t, "started\n", out)
	_, err = runSample(s, dir, nil, "bash", "-euo", "pipefail", "-c", "false; echo not reached")
	require.ErrorContains(t, err, "README.md:1 (```sh) failed: exit status 1")
	_, err = runSample(s, dir, nil, "bash", "-euo", "pipefail", "-c", "sleep 600 &")
	require.ErrorContains(t, err, "left a process running")
}

var (
	codeSpan   = regexp.MustCompile("`[^`\n]+`")
	invocation = regexp.MustCompile(`\begovkit ((?:[a-z][a-z-]*(?:\\?\|[a-z][a-z-]*)*)(?: [a-z][a-z-]*(?:\\?\|[a-z][a-z-]*)*)?)`)
	flagRef    = regexp.MustCompile(`(?:^|[\s\[(])(--[a-z][a-z0-9-]*)`)
	helpFlag   = regexp.MustCompile(`(?m)^\s+(--[a-z][a-z0-9-]*)`)
)

// TestREADMECommands checks every egovkit command line that README.md
// mentions, in its code spans and shell samples, against the CLI: the
// command exists, and each --flag written after it is one its --help
// lists.
func TestREADMECommands(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	samples := readSamples(t)
	egovkit := buildEgovkit(t)
	help := map[string]string{} // command → its --help, "" when not a command
	helpOf := func(words ...string) string {
		key := strings.Join(words, " ")
		if h, ok := help[key]; ok {
			return h
		}
		out, err := exec.Command(egovkit, append(words, "--help")...).CombinedOutput()
		h := string(out)
		// A command's help starts with its usage; egovkit help's is the
		// general one.
		if err != nil || !strings.HasPrefix(h, "usage: egovkit "+key) && !(key == "help" && strings.HasPrefix(h, "usage: egovkit COMMAND")) {
			h = ""
		}
		help[key] = h
		return h
	}
	// The places: each code span outside the blocks, and each logical line
	// (continuations joined) of the shell samples.
	var places []string
	inBlock := false
	for _, line := range strings.Split(string(data), "\n") {
		if fenceOpen.MatchString(line) {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			places = append(places, codeSpan.FindAllString(line, -1)...)
		}
	}
	for _, s := range samples {
		if s.lang == "sh" {
			places = append(places, strings.Split(strings.ReplaceAll(s.text, "\\\n", " "), "\n")...)
		}
	}
	checked := 0
	for _, place := range places {
		locs := invocation.FindAllStringSubmatchIndex(place, -1)
		for i, loc := range locs {
			end := len(place)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			rest := place[loc[1]:end]
			if c := strings.IndexAny(rest, "#;&`"); c >= 0 { // a comment, the next command, the span's end
				rest = rest[:c]
			}
			words := strings.Fields(place[loc[2]:loc[3]])
			var flags []string
			for _, m := range flagRef.FindAllStringSubmatch(rest, -1) {
				flags = append(flags, m[1])
			}
			// Each alternative of a|b|c names a command of its own.
			for _, first := range strings.Split(strings.ReplaceAll(words[0], `\|`, "|"), "|") {
				subs := []string{""}
				if len(words) > 1 {
					subs = strings.Split(strings.ReplaceAll(words[1], `\|`, "|"), "|")
				}
				for _, sub := range subs {
					cmd := []string{first}
					h := ""
					if sub != "" {
						if h = helpOf(first, sub); h != "" {
							cmd = append(cmd, sub)
						}
					}
					if h == "" {
						h = helpOf(first)
					}
					require.NotEmpty(t, h, "README.md mentions %q: egovkit %s is not a command (egovkit %s --help fails)", place, first, first)
					listed := map[string]bool{"--help": true}
					for _, m := range helpFlag.FindAllStringSubmatch(h, -1) {
						listed[m[1]] = true
					}
					for _, f := range flags {
						require.True(t, listed[f], "README.md mentions %q: egovkit %s has no flag %s (see its --help)", place, strings.Join(cmd, " "), f)
					}
					checked++
				}
			}
		}
	}
	require.Greater(t, checked, 20, "README.md's command lines are found")
	t.Logf("%d command lines checked against the CLI's --help", checked)
}

// buildEgovkit builds cmd/egovkit into a temporary directory and returns
// the binary's path.
func buildEgovkit(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "egovkit")
	build := exec.Command("go", "build", "-o", bin, "./cmd/egovkit")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building egovkit:\n%s", out)
	return bin
}
