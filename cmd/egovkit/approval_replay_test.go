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
	// Accepted 2026-01-05, paused for 补正 on 01-05 (resubmitted the same
	// day), extended by 10wd: 30 working days, over 元旦 and with the
	// adjusted working Saturday 2026-02-14.
	assert.Equal(t, "2026-02-14", st["due"])
	assert.Equal(t, "none", st["card"])
	assert.Equal(t, map[string]any{"at": "2026-01-06T02:04:00Z", "status": "done-on-time", "due": "2026-02-14", "promisedDue": "2026-01-26", "left": "29wd"}, st["clock"])

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

// TestApprovalReplayClock: --at reads the clocks later, --calendar lays a
// local schedule over China's.
func TestApprovalReplayClock(t *testing.T) {
	t.Parallel()
	script := `{"cmd":"start","actor":"a","application":{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":1}}
{"cmd":"accept","actor":"clerk1","at":"2026-03-02T09:00:00+08:00"}
`
	for _, tc := range []struct {
		name  string
		args  []string
		due   any
		card  string
		clock map[string]any
	}{
		{"at once", nil, "2026-03-30", "none", map[string]any{"at": "2026-03-02T01:00:00Z", "status": "running", "due": "2026-03-30", "promisedDue": "2026-03-23", "left": "20wd",
			"step": map[string]any{"step": "review", "status": "running", "due": "2026-03-09", "card": "none"}}},
		{"warning", []string{"--at", "2026-03-26T09:00:00+08:00"}, "2026-03-30", "warning", nil},
		{"yellow", []string{"--at", "2026-03-31T09:00:00+08:00"}, "2026-03-30", "yellow", nil},
		{"red", []string{"--at", "2026-04-20T09:00:00+08:00"}, "2026-03-30", "red", nil},
		{"local holiday", []string{"--calendar", "cn,LOCAL"}, "2026-03-31", "none", nil},
		{"before acceptance", []string{"--at", "2026-01-05T09:00:00+08:00"}, "2026-03-30", "none", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			local := filepath.Join(t.TempDir(), "local.json")
			require.NoError(t, os.WriteFile(local, []byte(`{"region":"CN-CQ","year":2026,"source":{"title":"test local schedule"},
				"holidays":[{"name":"test","from":"2026-03-10","to":"2026-03-10"}],"adjustedWorkdays":[]}`), 0o644))
			args := []string{"approval", "replay", "--def", sampleDef, "--commands", "-"}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "LOCAL", local))
			}
			r := runR(t, script, args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			_, st := splitReplay(t, r.stdout)
			assert.Equal(t, tc.due, st["due"])
			assert.Equal(t, tc.card, st["card"])
			if tc.clock != nil {
				assert.Equal(t, tc.clock, st["clock"])
			}
		})
	}
	// Not accepted: no due date yet.
	r := runR(t, `{"cmd":"start","actor":"a","application":{"enterprise":"甲","orgId":"91500000MA5U7X3P0D","registeredCapital":1}}`, "approval", "replay", "--def", sampleDef, "--commands", "-")
	require.Equal(t, exitOK, r.code, r.stderr)
	_, st := splitReplay(t, r.stdout)
	assert.Nil(t, st["due"])
	assert.Equal(t, "not-started", st["clock"].(map[string]any)["status"])
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
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--at", "yesterday"}, exitUsage},
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--calendar", dir + "/missing.json"}, exitUsage},
		{[]string{"approval", "replay", "--def", sampleDef, "--commands", sampleScript, "--calendar", badDir}, exitInvalid},
	} {
		r := runR(t, "", tt.args...)
		assert.Equal(t, tt.code, r.code, "%v: %s", tt.args, r.stderr)
	}
}
