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

// TestOutboxShowsRefusal: a document that the recipient refuses for good
// (here: larger than its limit) is dead-lettered at once, and "outbox
// --json" shows the recipient's verified negative receipt.
func TestOutboxShowsRefusal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runR(t, "", "gateway", "demo-config", "--out", dir)
	require.Equal(t, exitOK, r.code, r.stderr)
	ndrcCfg, finCfg := filepath.Join(dir, "ndrc", "gateway.json"), filepath.Join(dir, "finance", "gateway.json")
	for _, c := range []string{ndrcCfg, finCfg} {
		data, err := os.ReadFile(c)
		require.NoError(t, err)
		cfg := strings.Replace(string(data), `"pollInterval": "2s"`, `"pollInterval": "1h"`, 1)
		if c == finCfg {
			cfg = strings.Replace(cfg, `"pollInterval"`, `"limits": {"maxPayload": 100}, "pollInterval"`, 1)
		}
		require.NoError(t, os.WriteFile(c, []byte(cfg), 0o644))
		startGateway(t, c)
	}
	r = runR(t, "", "send", "--config", ndrcCfg, "--to", "11500000MB1972360U", "--json", filepath.Join(conformance, "valid/joint-notice.json"))
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
	var s struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)

	r = runR(t, "", "outbox", "--config", ndrcCfg, "--json", s.ID)
	require.Equal(t, exitOK, r.code, r.stderr)
	var ss []struct {
		Recipients []struct {
			State, Delivery, LastError string
			Attempts                   int
			Refusal                    *struct{ Receipt, At, Rule, Reason string }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &ss), r.stdout)
	require.Len(t, ss, 1)
	require.Len(t, ss[0].Recipients, 1)
	got := ss[0].Recipients[0]
	assert.Equal(t, "dead", got.State)
	assert.Equal(t, 1, got.Attempts)
	require.NotNil(t, got.Refusal, r.stdout)
	assert.Equal(t, "exchange.refused.payload-size", got.Refusal.Rule)
	assert.Contains(t, got.Refusal.Reason, "expected at most 100")
	assert.NotEmpty(t, got.Refusal.Receipt)
	assert.NotEmpty(t, got.Refusal.At)
	assert.Contains(t, got.LastError, got.Refusal.Receipt)

	// The sender's audit log holds the receipt and still verifies.
	r = runR(t, "", "audit", "verify", "--store", "sqlite:"+filepath.Join(dir, "ndrc", "node.db"))
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
}
