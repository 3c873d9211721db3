package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/approval"
)

func TestApprovalCheck(t *testing.T) {
	t.Parallel()
	good := "../../approval/testdata/annual-inspection.json"
	r := runR(t, "", "approval", "check", good)
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Empty(t, r.stdout)

	data, err := os.ReadFile(good)
	require.NoError(t, err)
	bad := strings.Replace(string(data), `"to": "decide"}]},`, `"to": "decidee"}]},`, 1)
	dir := t.TempDir()
	badFile := dir + "/bad.json"
	require.NoError(t, os.WriteFile(badFile, []byte(bad), 0o644))
	r = runR(t, "", "approval", "check", good, badFile)
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, badFile+": /steps/2/next/0/to: approval.branch.unknown-step: ")

	r = runR(t, "", "approval", "check", "--json", badFile)
	assert.Equal(t, exitInvalid, r.code)
	var reports []report
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &reports))
	var rules []string
	for _, rep := range reports {
		rules = append(rules, rep.Pointer+" "+rep.Rule)
	}
	assert.Equal(t, []string{"/steps/2 approval.flow.no-exit", "/steps/2/next/0/to approval.branch.unknown-step"}, rules)

	r = runR(t, string(data), "approval", "check", "-")
	assert.Equal(t, exitOK, r.code)

	assert.Equal(t, exitUsage, runR(t, "", "approval", "check").code)
	assert.Equal(t, exitUsage, runR(t, "", "approval", "check", dir+"/missing.json").code)
	assert.Equal(t, exitUsage, runR(t, "", "approval").code)
	assert.Equal(t, exitUsage, runR(t, "", "approval", "frob").code)
	assert.Equal(t, exitOK, runR(t, "", "approval", "--help").code)
	assert.Equal(t, exitOK, runR(t, "", "approval", "check", "--help").code)

	r = runR(t, "", "schema", "approval")
	assert.Equal(t, exitOK, r.code)
	assert.Equal(t, string(approval.DefinitionSchema()), r.stdout)
}
