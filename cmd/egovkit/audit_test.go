package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/exchange"
)

func TestAuditCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	url := "sqlite:" + filepath.Join(dir, "node.db")
	s, err := exchange.OpenStore(context.Background(), url)
	require.NoError(t, err)
	now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, s.Accept(context.Background(), exchange.InboxEntry{MessageID: id, Sender: exchange.Party{OrgID: "11500000MB16089308", Node: "gw1"},
			Kind: exchange.KindDocument, Envelope: []byte(`{"id":"` + id + `"}`), PayloadPath: "/p", Received: now}))
	}
	require.NoError(t, s.Close())

	r := runR(t, "", "audit", "verify", "--store", url)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "3 entries, chain intact")

	r = runR(t, "", "audit", "export", "--store", url)
	require.Equal(t, exitOK, r.code, r.stderr)
	export := filepath.Join(dir, "audit.jsonl")
	require.NoError(t, os.WriteFile(export, []byte(r.stdout), 0o644))
	assert.Equal(t, exitOK, runR(t, "", "audit", "verify", export).code)

	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	tampered := strings.Join([]string{lines[0], lines[2]}, "\n") + "\n"
	v := runR(t, tampered, "audit", "verify", "-")
	assert.Equal(t, exitInvalid, v.code)
	assert.Equal(t, "-: entry 3 (position 1): follows entry 1: entries 2 to 2 were deleted\n", v.stdout)

	assert.Equal(t, exitUsage, runR(t, "", "audit", "verify").code)
	assert.Equal(t, exitUsage, runR(t, "", "audit", "verify", filepath.Join(dir, "none.jsonl")).code)
	assert.Equal(t, exitUsage, runR(t, "", "audit", "export").code)
	assert.Equal(t, exitOK, runR(t, "", "audit", "verify", "--help").code)
	assert.Equal(t, exitUsage, runR(t, "", "audit").code)
}
