package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startGateway runs "egovkit gateway --config FILE" in-process until the
// test ends, and returns once it listens.
func startGateway(t *testing.T, config string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, &env{stdin: strings.NewReader(""), stdout: pw, stderr: &errb}, []string{"gateway", "--config", config})
		pw.Close()
		done <- code
	}()
	lines := bufio.NewScanner(pr)
	require.True(t, lines.Scan(), "the gateway printed nothing: %s", errb.String())
	require.Contains(t, lines.Text(), "listening on https://127.0.0.1:")
	rest := make(chan string, 1)
	go func() {
		var b strings.Builder
		for lines.Scan() {
			b.WriteString(lines.Text() + "\n")
		}
		rest <- b.String()
	}()
	t.Cleanup(func() {
		cancel()
		assert.Equal(t, exitOK, <-done, errb.String())
		assert.Contains(t, <-rest, "stopped")
	})
}

// TestGatewayCommands runs two gateways from egovkit gateway demo-config on
// loopback and walks a document's life through the client commands.
func TestGatewayCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runR(t, "", "gateway", "demo-config", "--out", dir)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "重庆市财政局 11500000MB1972360U/gw1")
	assert.Equal(t, exitUsage, runR(t, "", "gateway", "demo-config", "--out", dir).code, "no overwriting")
	ndrcCfg, finCfg := filepath.Join(dir, "ndrc", "gateway.json"), filepath.Join(dir, "finance", "gateway.json")
	for _, c := range []string{ndrcCfg, finCfg} {
		// Deliveries happen in the client commands, deterministically; the
		// gateways' own workers wait.
		data, err := os.ReadFile(c)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(c, []byte(strings.Replace(string(data), `"pollInterval": "2s"`, `"pollInterval": "1h"`, 1)), 0o644))
		startGateway(t, c)
	}
	const fin = "11500000MB1972360U"
	doc := filepath.Join(conformance, "valid/joint-notice.json")

	type recipient struct {
		Recipient, State, Delivery, Reason string
		By                                 *struct{ Name, ID string }
	}
	type sent struct {
		ID           string
		DocumentType string
		Recipients   []recipient
	}
	type received struct {
		ID, Sender, State, Reason, Reply string
		Urges                            int
	}
	sendDoc := func(path string) sent {
		t.Helper()
		r := runR(t, "", "send", "--config", ndrcCfg, "--to", fin, "--json", path)
		require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
		var s sent
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &s), r.stdout)
		return s
	}
	outbox := func(id string) recipient {
		t.Helper()
		r := runR(t, "", "outbox", "--config", ndrcCfg, "--json", id)
		require.Equal(t, exitOK, r.code, r.stderr)
		var ss []sent
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &ss), r.stdout)
		require.Len(t, ss, 1)
		require.Len(t, ss[0].Recipients, 1)
		return ss[0].Recipients[0]
	}
	inbox := func(id string) received {
		t.Helper()
		r := runR(t, "", "inbox", "--config", finCfg, "--json", id)
		require.Equal(t, exitOK, r.code, r.stderr)
		var rs []received
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rs), r.stdout)
		require.Len(t, rs, 1)
		return rs[0]
	}

	// Send, delivered at once with the delivery receipt; sign for it.
	s := sendDoc(doc)
	assert.Equal(t, "notice", s.DocumentType)
	require.Len(t, s.Recipients, 1)
	assert.Equal(t, "delivered", s.Recipients[0].State)
	got := inbox(s.ID)
	assert.Equal(t, "awaiting", got.State)
	assert.Equal(t, "11500000MB16089308/gw1", got.Sender)
	saved := filepath.Join(t.TempDir(), "saved.egd")
	r = runR(t, "", "inbox", "--config", finCfg, "--save", saved, s.ID)
	require.Equal(t, exitOK, r.code, r.stderr)
	payload, err := os.ReadFile(saved)
	require.NoError(t, err)
	want, err := os.ReadFile(doc)
	require.NoError(t, err)
	assert.Equal(t, want, payload)

	r = runR(t, "", "sign-for", "--config", finCfg, "--by", "张三", "--by-id", "u1001", s.ID)
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stdout, "signedFor")
	assert.Contains(t, r.stdout, "receipt delivered")
	st := outbox(s.ID)
	assert.Equal(t, "signedFor", st.State)
	require.NotNil(t, st.By)
	assert.Equal(t, "张三", st.By.Name)
	r = runR(t, "", "return", "--config", finCfg, "--reason", "迟了", s.ID)
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, "exchange.lifecycle.closed")

	// A package, returned with the reason.
	pkg := filepath.Join(t.TempDir(), "notice.egd")
	r = runR(t, "", "pack", "--out", pkg, filepath.Join(conformance, "valid/type-report.json"))
	require.Equal(t, exitOK, r.code, r.stderr)
	s = sendDoc(pkg)
	r = runR(t, "", "return", "--config", finCfg, "--reason", "请补充附件", "--json", s.ID)
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
	st = outbox(s.ID)
	assert.Equal(t, "returned", st.State)
	assert.Equal(t, "请补充附件", st.Reason)

	// Urged, then recalled: the recipient refuses to sign for it.
	s = sendDoc(doc)
	r = runR(t, "", "urge", "--config", ndrcCfg, "--note", "请今日签收", s.ID)
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
	assert.Equal(t, 1, inbox(s.ID).Urges)
	r = runR(t, "", "recall", "--config", ndrcCfg, "--note", "文号有误", "--json", s.ID)
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
	assert.Equal(t, "recalled", outbox(s.ID).State)
	got = inbox(s.ID)
	assert.Equal(t, "recalled", got.State)
	assert.Equal(t, "文号有误", got.Reason)
	r = runR(t, "", "sign-for", "--config", finCfg, "--by", "张三", s.ID)
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, "exchange.lifecycle.recalled")

	// A classified document travels encrypted, both ways: SM2 and SM4 to
	// finance, X25519 and ChaCha20-Poly1305 to NDRC.
	classified := filepath.Join(conformance, "valid/classified.json")
	want, err = os.ReadFile(classified)
	require.NoError(t, err)
	for _, way := range []struct{ from, to, toOrg string }{{ndrcCfg, finCfg, fin}, {finCfg, ndrcCfg, "11500000MB16089308"}} {
		r = runR(t, "", "send", "--config", way.from, "--to", way.toOrg, "--json", classified)
		require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
		var cs struct {
			ID        string
			Encrypted bool
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &cs))
		assert.True(t, cs.Encrypted)
		r = runR(t, "", "inbox", "--config", way.to, "--json", cs.ID)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Contains(t, r.stdout, `"mediaType": "application/vnd.egovkit.encrypted"`)
		out := filepath.Join(t.TempDir(), "plain.json")
		r = runR(t, "", "inbox", "--config", way.to, "--save", out, cs.ID)
		require.Equal(t, exitOK, r.code, r.stderr)
		got, err := os.ReadFile(out)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}

	// The lists, in text.
	r = runR(t, "", "outbox", "--config", ndrcCfg)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, 5, strings.Count(r.stdout, "\n"), r.stdout)
	assert.Contains(t, r.stdout, "reason: 请补充附件")
	r = runR(t, "", "inbox", "--config", finCfg)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "by 张三 (u1001)")

	// Several files at once, each its own message; an invalid one among
	// them stops them all before anything is stored.
	r = runR(t, "", "send", "--config", ndrcCfg, "--to", fin, "--json", doc, pkg)
	require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
	var two []sent
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &two), r.stdout)
	require.Len(t, two, 2)
	assert.NotEqual(t, two[0].ID, two[1].ID)
	assert.Equal(t, "notice", two[0].DocumentType)
	assert.Equal(t, "report", two[1].DocumentType)
	for _, m := range two {
		require.Len(t, m.Recipients, 1)
		assert.Equal(t, "delivered", m.Recipients[0].State)
		assert.Equal(t, "awaiting", inbox(m.ID).State)
	}
	before := runR(t, "", "outbox", "--config", ndrcCfg, "--json", "--limit", "1000").stdout
	r = runR(t, "", "send", "--config", ndrcCfg, "--to", fin, doc, filepath.Join(conformance, "invalid/empty-issuers.json"))
	assert.Equal(t, exitInvalid, r.code, r.stderr+r.stdout)
	assert.Contains(t, r.stderr, "empty-issuers.json: nothing sent")
	assert.Equal(t, before, runR(t, "", "outbox", "--config", ndrcCfg, "--json", "--limit", "1000").stdout, "nothing stored")

	// Both audit logs hold every step, chained.
	for _, sub := range []string{"ndrc", "finance"} {
		r = runR(t, "", "audit", "verify", "--store", "sqlite:"+filepath.Join(dir, sub, "node.db"))
		assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
		assert.Contains(t, r.stdout, "chain intact")
	}

	// listen may take port 0: the gateway reports the port it got, and
	// --addr-file writes it. A decryption key that is not the directory's
	// is refused at start.
	cfgData, err := os.ReadFile(ndrcCfg)
	require.NoError(t, err)
	var cfgMap map[string]any
	require.NoError(t, json.Unmarshal(cfgData, &cfgMap))
	cfgMap["listen"] = "127.0.0.1:0"
	cfgMap["store"] = "sqlite:second.db"
	any0 := filepath.Join(dir, "ndrc", "any-port.json")
	b, err := json.Marshal(cfgMap)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(any0, b, 0o644))
	addrFile := filepath.Join(t.TempDir(), "addr")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, &env{stdin: strings.NewReader(""), stdout: pw, stderr: io.Discard}, []string{"gateway", "--config", any0, "--addr-file", addrFile})
		pw.Close()
	}()
	sc := bufio.NewScanner(pr)
	require.True(t, sc.Scan())
	addr, err := os.ReadFile(addrFile)
	require.NoError(t, err)
	assert.Contains(t, sc.Text(), "listening on https://"+strings.TrimSpace(string(addr)))
	assert.NotContains(t, string(addr), ":0\n")
	cancel()
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	assert.Equal(t, exitOK, <-done)
	cfgMap["encryption"] = map[string]any{"key": "../finance/enc.key.pem"}
	b, err = json.Marshal(cfgMap)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(any0, b, 0o644))
	r = runR(t, "", "gateway", "--config", any0)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "not the key the directory lists")

	// Usage errors.
	for _, args := range [][]string{
		{"send", "--config", ndrcCfg, doc},
		{"send", "--config", ndrcCfg, "--to", "11500000MB1802110J", doc},
		{"sign-for", "--config", finCfg, s.ID},
		{"return", "--config", finCfg, "--reason", " ", s.ID},
		{"recall", s.ID},
		{"gateway"},
	} {
		assert.Equal(t, exitUsage, runR(t, "", args...).code, args)
	}
	for _, c := range []string{"gateway", "send", "outbox", "inbox", "sign-for", "return", "recall", "urge"} {
		r := runR(t, "", c, "--help")
		assert.Equal(t, exitOK, r.code, c)
		assert.Contains(t, r.stdout, "usage: egovkit "+c, c)
	}
}

// TestGatewayRemovesStalePartials: a gateway that starts removes from its
// spool the partial files that a crash left behind, once they are an hour
// old, and keeps the rest.
func TestGatewayRemovesStalePartials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runR(t, "", "gateway", "demo-config", "--out", dir)
	require.Equal(t, exitOK, r.code, r.stderr)
	spool := filepath.Join(dir, "finance", "spool")
	require.NoError(t, os.MkdirAll(spool, 0o700))
	old := time.Now().Add(-2 * time.Hour)
	files := map[string]bool{ // name → removed
		".01a23be9-924c-7a8a-b6b2-b9466271ec6c.in.2507689301.partial":  true,
		".01a23be9-924c-7a8a-b6b2-b9466271ec6d.out.2507689302.partial": true,
		"01a23be9-924c-7a8a-b6b2-b9466271ec6e.3f9a2c71b0d4.in":         false, // a payload
	}
	for name := range files {
		p := filepath.Join(spool, name)
		require.NoError(t, os.WriteFile(p, []byte("partial"), 0o600))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	fresh := filepath.Join(spool, ".01a23be9-924c-7a8a-b6b2-b9466271ec6f.in.2507689303.partial")
	require.NoError(t, os.WriteFile(fresh, []byte("being written"), 0o600))
	files[filepath.Base(fresh)] = false
	startGateway(t, filepath.Join(dir, "finance", "gateway.json"))
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(spool, name))
		assert.Equal(t, removed, errors.Is(err, os.ErrNotExist), "%s: %v", name, err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in
// different goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
