package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	sampleDef       = "../../approval/testdata/annual-inspection.json"
	sampleScript    = "../../approval/testdata/annual-inspection.jsonl"
	sampleDirectory = "../../approval/testdata/annual-inspection.directory.json"
)

// splitReplay separates the per-line results from the final state.
func splitReplay(t *testing.T, out string) ([]string, map[string]any) {
	t.Helper()
	i := strings.Index(out, "{")
	require.GreaterOrEqual(t, i, 0, out)
	var st map[string]any
	require.NoError(t, json.Unmarshal([]byte(out[i:]), &st), out)
	return strings.Fields(out[:i]), st
}

func TestApprovalReplay(t *testing.T) {
	t.Parallel()
	r := runR(t, "", "approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--directory", sampleDirectory)
	assert.Equal(t, exitInvalid, r.code, "some lines are refused on purpose: %s", r.stderr)
	lines, st := splitReplay(t, r.stdout)
	assert.Equal(t, []string{
		"ok",
		"approval.command.wrong-state",
		"approval.command.not-assignee",
		"ok", "ok", "ok", "ok",
		"approval.command.stale-version",
		"ok", "ok",
		"approval.command.urge-too-soon",
		"ok", "ok", "ok", "ok", "ok",
		"approval.command.extension-used",
		"approval.command.not-applicant",
		"ok",
	}, lines)
	assert.Equal(t, "case-1", st["case"])
	assert.Equal(t, "granted", st["status"])
	assert.Equal(t, map[string]any{"outcome": "granted", "reasons": []any{"符合年检条件"}, "by": "head1", "at": "2026-01-06T02:04:00Z"}, st["decision"])
	assert.EqualValues(t, 12, st["version"])

	again := runR(t, "", "approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--directory", sampleDirectory)
	assert.Equal(t, r.stdout, again.stdout, "the output is the same on every run")

	// Without a directory anyone holds every role: rev1 may accept.
	r = runR(t, "", "approval", "replay", "--def", sampleDef, "--commands", sampleScript)
	lines, _ = splitReplay(t, r.stdout)
	assert.Equal(t, "ok", lines[2])
}

func TestApprovalReplayStdinAndApplication(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appFile := filepath.Join(dir, "app.json")
	require.NoError(t, os.WriteFile(appFile, []byte(`{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":1}`), 0o644))
	script := `{"cmd":"accept","actor":"clerk1"}

{"cmd":"approve","actor":"rev1"}
{"cmd":"decide","actor":"head1","decision":"denied"}
not json
{"cmd":"decide","actor":"head1","decision":"denied","reason":"年报未公示"}
`
	r := runR(t, script, "approval", "replay", "--def", sampleDef, "--commands", "-", "--application", appFile)
	assert.Equal(t, exitInvalid, r.code)
	lines, st := splitReplay(t, r.stdout)
	assert.Equal(t, []string{"ok", "ok", "approval.command.invalid", "approval.command.malformed", "ok"}, lines)
	assert.Equal(t, "denied", st["status"])

	r = runR(t, `{"cmd":"start","actor":"a","application":{"enterprise":""}}`+"\n"+`{"cmd":"accept","actor":"clerk1"}`, "approval", "replay", "--def", sampleDef, "--commands", "-")
	lines, st = splitReplay(t, r.stdout)
	assert.Equal(t, []string{"approval.command.application-invalid", "approval.command.unknown-case"}, lines)
	assert.Nil(t, st["case"])

	r = runR(t, `{"cmd":"start","actor":"a","application":{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":1}}`+"\n"+`{"cmd":"accept","actor":"clerk1","at":"2026-01-05T10:00:00+08:00"}`+"\n"+`{"cmd":"approve","actor":"rev1","at":"2026-01-05T09:30:00+08:00"}`, "approval", "replay", "--def", sampleDef, "--commands", "-")
	lines, st = splitReplay(t, r.stdout)
	assert.Equal(t, []string{"ok", "ok", "approval.command.invalid"}, lines)
	assert.Equal(t, "review", st["step"])
	assert.Equal(t, []any{"role:reviewer"}, st["assignees"])
}

func TestApprovalReplayUsage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badDef := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badDef, []byte(`{"specVersion":"approval/1"}`), 0o644))
	badDir := filepath.Join(dir, "dir.json")
	require.NoError(t, os.WriteFile(badDir, []byte(`{"users":[]}`), 0o644))
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"approval", "replay"}, exitUsage},
		{[]string{"approval", "replay", "--def", sampleDef}, exitUsage},
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", sampleScript, "extra"}, exitUsage},
		{[]string{"approval", "replay", "--def", dir + "/missing.json", "--commands", sampleScript}, exitUsage},
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", dir + "/missing.jsonl"}, exitUsage},
		{[]string{"approval", "replay", "--def", badDef, "--commands", sampleScript}, exitInvalid},
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--directory", badDir}, exitUsage},
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--application", badDir + "x"}, exitUsage},
		{[]string{"approval", "replay", "--help"}, exitOK},
	} {
		r := runR(t, "", tt.args...)
		assert.Equal(t, tt.code, r.code, "%v: %s", tt.args, r.stderr)
	}
}
