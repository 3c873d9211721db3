package exchange

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleGatewayFile = `{
  "configVersion": "egovkit-gateway/1",
  "self": {"orgId": "11500000MB16089308", "node": "gw1"},
  "listen": "127.0.0.1:0",
  "store": "sqlite:node.db",
  "spool": "spool",
  "directory": {"file": "../directory.json"},
  "operator": {"name": "重庆市大数据应用发展管理局", "orgId": "11500000MB1541240B"},
  "trustAnchors": "../roots.pem",
  "signing": {"key": "sign.key.pem", "chain": "sign.chain.pem"},
  "tls": {"key": "tls.key.pem", "certificate": "tls.cert.pem"},
  "encryption": {"key": "enc.key.pem"},
  "pollInterval": "500ms",
  "lease": "30s",
  "retry": {"base": "1s", "max": "1m", "attempts": 5},
  "limits": {"maxPayload": 1048576, "rate": 10, "burst": 20}
}`

func TestParseGatewayFile(t *testing.T) {
	t.Parallel()
	c, err := ParseGatewayFile([]byte(sampleGatewayFile), "/etc/egovkit/ndrc/gateway.json")
	require.NoError(t, err)
	assert.Equal(t, 500*time.Millisecond, c.poll)
	assert.Equal(t, 5*time.Minute, c.refresh)
	assert.Equal(t, 30*time.Second, c.lease)
	assert.Equal(t, 5, c.policy.Attempts)
	assert.Equal(t, int64(1048576), c.limits.MaxPayload)
	assert.Equal(t, "sqlite:/etc/egovkit/ndrc/node.db", c.StoreURL())
	assert.Equal(t, "/etc/egovkit/roots.pem", c.Path(c.TrustAnchors))

	edit := func(f func(m map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(sampleGatewayFile), &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	cases := []struct {
		name, data string
		want       []string
	}{
		{"wrong version", edit(func(m map[string]any) { m["configVersion"] = "2" }), []string{"/configVersion gateway.config.version"}},
		{"check character", edit(func(m map[string]any) { m["self"] = map[string]any{"orgId": "11500000MB16089309", "node": "gw1"} }), []string{"/self/orgId gateway.config.org-id"}},
		{"node and listen", edit(func(m map[string]any) {
			m["self"] = map[string]any{"orgId": "11500000MB16089308", "node": "GW 1"}
			m["listen"] = "localhost"
		}), []string{"/self/node gateway.config.node", "/listen gateway.config.listen"}},
		{"store", edit(func(m map[string]any) { m["store"] = "mysql://x" }), []string{"/store gateway.config.store"}},
		{"both sources", edit(func(m map[string]any) { m["directory"] = map[string]any{"file": "a", "url": "https://b"} }), []string{"/directory gateway.config.directory"}},
		{"missing paths", edit(func(m map[string]any) { delete(m, "spool"); m["tls"] = map[string]any{"key": "k"} }), []string{"/spool gateway.config.required", "/tls/certificate gateway.config.required"}},
		{"durations", edit(func(m map[string]any) {
			m["pollInterval"] = "-1s"
			m["lease"] = "0s"
			m["retry"] = map[string]any{"base": "1h", "max": "1s", "attempts": 0}
		}), []string{"/pollInterval gateway.config.duration", "/lease gateway.config.duration", "/retry/attempts gateway.config.retry", "/retry gateway.config.retry"}},
		{"operator", edit(func(m map[string]any) { delete(m, "operator") }), []string{"/operator gateway.config.operator"}},
		{"negative limits", edit(func(m map[string]any) { m["limits"] = map[string]any{"rate": -1} }), []string{"/limits gateway.config.limits"}},
		{"encryption without a key", edit(func(m map[string]any) { m["encryption"] = map[string]any{} }), []string{"/encryption/key gateway.config.required"}},
		{"unknown member", edit(func(m map[string]any) { m["listenAddr"] = "x" }), []string{" gateway.config.shape"}},
		{"duplicate member", `{"listen": "a", "listen": "b"}`, []string{"/listen gateway.config.json.duplicate-name"}},
		{"not UTF-8", "{\"store\": \"\xff\"}", []string{"/store gateway.config.json.invalid-utf8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseGatewayFile([]byte(c.data), "gateway.json")
			var ce *GatewayFileError
			require.ErrorAs(t, err, &ce)
			var got []string
			for _, v := range ce.Violations {
				got = append(got, v.Pointer+" "+v.Rule)
			}
			assert.Equal(t, c.want, got)
			assert.Contains(t, err.Error(), "gateway.json: invalid gateway configuration")
		})
	}
}

// FuzzParseGatewayFile: the configuration parser never panics, and
// every rejection is a *GatewayFileError with at least one violation.
func FuzzParseGatewayFile(f *testing.F) {
	f.Add([]byte(sampleGatewayFile))
	f.Add([]byte(`{"retry": {"attempts": 1e300}}`))
	f.Add([]byte(`{"limits": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := ParseGatewayFile(data, "gateway.json")
		if err == nil {
			return
		}
		var ce *GatewayFileError
		if !errors.As(err, &ce) || len(ce.Violations) == 0 {
			t.Fatalf("rejection is not a *GatewayFileError: %v", err)
		}
	})
}
