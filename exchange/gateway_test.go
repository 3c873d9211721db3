package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
)

// newTestGateways runs a Gateway on each node of the test network, each
// with its own SQLite store and spool, on the clock.
func newTestGateways(t *testing.T, clock *fakeClock) (*testNet, map[string]*Gateway) {
	t.Helper()
	dir := t.TempDir()
	return newGatewaysWith(t, clock.now, func(org string) Store {
		store, err := OpenStore(context.Background(), "sqlite:"+filepath.Join(dir, org+".db"))
		require.NoError(t, err)
		return store
	}, nil)
}

// newGatewaysWith runs a Gateway on each node of the test network, on
// stores from open (closed when the test ends), spools in a temporary
// directory and the clock now; configure, when set, adjusts each
// gateway's configuration before it is made.
func newGatewaysWith(t testing.TB, now func() time.Time, open func(org string) Store, configure func(*GatewayConfig)) (*testNet, map[string]*Gateway) {
	t.Helper()
	n := buildTestNet(t)
	dir := t.TempDir()
	gws := map[string]*Gateway{}
	for org, tn := range n.nodes {
		store := open(org)
		t.Cleanup(func() { store.Close() })
		spool, err := OpenSpool(filepath.Join(dir, org))
		require.NoError(t, err)
		keeper, err := NewDirectoryKeeper(func(context.Context) ([]byte, error) { return n.sealed, nil }, n.verifier, operatorID, now)
		require.NoError(t, err)
		require.NoError(t, keeper.Refresh(context.Background()))
		cfg := GatewayConfig{Self: tn.party, Directory: keeper, Verifier: n.verifier, Signer: tn.signer, TLSCertificate: tn.tlsCert,
			Store: store, Spool: spool, Now: now, Decrypter: tn.decrypter, Policy: RetryPolicy{Base: time.Second, Max: time.Minute, Attempts: 5}}
		if configure != nil {
			configure(&cfg)
		}
		g, err := NewGateway(cfg)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- g.Serve(ctx, tn.listener) }()
		t.Cleanup(func() { cancel(); <-done })
		gws[org] = g
	}
	return n, gws
}

func sendTestDocument(t *testing.T, g *Gateway, to ...Party) *Envelope {
	t.Helper()
	payload := []byte("公文包 " + t.Name())
	e := NewEnvelope(KindDocument, g.Self(), g.now())
	e.Recipients = to
	e.DocumentType = docdoc.TypeNotice
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(payload), docdoc.SHA256)
	require.NoError(t, err)
	e.Payload = Payload{MediaType: docdoc.MediaType, Size: int64(len(payload)), Digest: d}
	require.NoError(t, g.Send(context.Background(), e, bytes.NewReader(payload)))
	return e
}

func deliver(t *testing.T, g *Gateway) int {
	t.Helper()
	n, err := g.DeliverDue(context.Background(), 100)
	require.NoError(t, err)
	return n
}

func sentStates(t *testing.T, g *Gateway, id string) map[Party]RecipientState {
	t.Helper()
	rs, err := g.Sent(context.Background(), id)
	require.NoError(t, err)
	m := map[Party]RecipientState{}
	for _, r := range rs {
		m[r.Recipient] = r
	}
	return m
}

func TestGatewaySignForAndReturn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock(time.Now())
	_, gws := newTestGateways(t, clock)
	sender, fin, ec := gws[ndrc.OrgID], gws[finance.OrgID], gws[econ.OrgID]

	doc := sendTestDocument(t, sender, finance, econ)
	st := sentStates(t, sender, doc.ID)
	assert.Equal(t, "stored", st[finance].State())
	assert.Equal(t, StatusAwaiting, st[finance].Document.Status)
	assert.Equal(t, 2, deliver(t, sender))
	st = sentStates(t, sender, doc.ID)
	assert.Equal(t, StateDelivered, st[finance].State())
	require.NotNil(t, st[finance].DeliveryReceipt)
	assert.Equal(t, finance, st[finance].DeliveryReceipt.Sender)

	got, err := fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusAwaiting, got.Document.Status)
	assert.Equal(t, ndrc, got.Document.Peer)
	assert.Equal(t, string(docdoc.TypeNotice), got.Document.DocumentType)

	clock.add(time.Minute)
	re, err := fin.SignFor(ctx, doc.ID, Person{Name: "张三", ID: "u1001"})
	require.NoError(t, err)
	assert.Equal(t, doc.ID, re.ReplyTo)
	_, err = fin.SignFor(ctx, doc.ID, Person{Name: "李四"})
	var le *LifecycleError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, "exchange.lifecycle.closed", le.Rule)
	_, err = fin.Return(ctx, doc.ID, Person{}, "格式不符")
	assert.ErrorIs(t, err, ErrLifecycle)

	_, err = ec.Return(ctx, doc.ID, Person{Name: "王五"}, "  ")
	var pe *PayloadError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, []string{"exchange.receipt.reason-required"}, pe.Rules())
	_, err = ec.Return(ctx, doc.ID, Person{}, "不属于本机关职责范围")
	require.NoError(t, err)

	assert.Equal(t, 1, deliver(t, fin))
	assert.Equal(t, 1, deliver(t, ec))
	st = sentStates(t, sender, doc.ID)
	assert.Equal(t, "signedFor", st[finance].State())
	assert.Equal(t, Person{Name: "张三", ID: "u1001"}, st[finance].Document.By)
	assert.Equal(t, re.ID, st[finance].Document.ReplyID)
	assert.Equal(t, "returned", st[econ].State())
	assert.Equal(t, "不属于本机关职责范围", st[econ].Document.Reason)

	got, err = fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusSignedFor, got.Document.Status)
	require.Len(t, got.Reply, 1)
	assert.Equal(t, StateDelivered, got.Reply[0].State, "the receipt's own delivery")

	// Everything is in each node's audit log, chained.
	for _, g := range []*Gateway{sender, fin, ec} {
		entries, err := g.Store().Audit(ctx)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, WriteAudit(&buf, entries))
		_, err = VerifyAudit(&buf)
		require.NoError(t, err)
		var states []string
		for _, e := range entries {
			if e.Direction == AuditState {
				states = append(states, e.State)
			}
		}
		switch g {
		case sender:
			assert.ElementsMatch(t, []string{"signedFor", "returned"}, states)
		case fin:
			assert.Equal(t, []string{"signedFor"}, states)
		}
	}
	list, err := sender.Store().ListDocuments(ctx, RoleSender, 10)
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

func TestGatewayRecallAndUrge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock(time.Now())
	_, gws := newTestGateways(t, clock)
	sender, fin := gws[ndrc.OrgID], gws[finance.OrgID]

	doc := sendTestDocument(t, sender, finance)
	deliver(t, sender)
	urge, err := sender.Urge(ctx, doc.ID, "请于今日内签收")
	require.NoError(t, err)
	assert.Equal(t, KindUrge, urge.Kind)
	deliver(t, sender)
	got, err := fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Document.Urges)
	assert.Equal(t, StatusAwaiting, got.Document.Status)

	// A retried urge (the same message again) is recorded once.
	entries, err := sender.Store().Outbox(ctx, urge.ID)
	require.NoError(t, err)
	f, err := openPayload(entries[0].Payload, entries[0].PayloadPath)
	require.NoError(t, err)
	stored, err := ParseEnvelopeBytes(entries[0].Envelope)
	require.NoError(t, err)
	_, _, err = sender.Transport().Deliver(ctx, stored, finance, f)
	f.Close()
	require.NoError(t, err)
	got, err = fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Document.Urges)

	_, err = sender.Recall(ctx, doc.ID, "文号有误，重新印发")
	require.NoError(t, err)
	assert.Equal(t, "recalled", sentStates(t, sender, doc.ID)[finance].State())
	deliver(t, sender)
	got, err = fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusRecalled, got.Document.Status)
	assert.Equal(t, "文号有误，重新印发", got.Document.Reason)

	cases := []struct {
		name string
		do   func() error
		rule string
	}{
		{"sign for a recalled document", func() error { _, err := fin.SignFor(ctx, doc.ID, Person{Name: "张三"}); return err }, "exchange.lifecycle.recalled"},
		{"return a recalled document", func() error { _, err := fin.Return(ctx, doc.ID, Person{}, "x"); return err }, "exchange.lifecycle.recalled"},
		{"recall twice", func() error { _, err := sender.Recall(ctx, doc.ID, ""); return err }, "exchange.lifecycle.recalled"},
		{"urge a recalled document", func() error { _, err := sender.Urge(ctx, doc.ID, ""); return err }, "exchange.lifecycle.recalled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var le *LifecycleError
			require.ErrorAs(t, c.do(), &le)
			assert.Equal(t, c.rule, le.Rule)
		})
	}
	_, err = fin.SignFor(ctx, "01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f", Person{Name: "张三"})
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = fin.Recall(ctx, doc.ID, "")
	assert.ErrorIs(t, err, ErrNotFound, "only the sender recalls")
}

// A recipient that signed for a document before the recall reached it
// keeps its state, and its receipt, arriving after the recall, counts.
func TestGatewayReceiptAfterRecall(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock(time.Now())
	_, gws := newTestGateways(t, clock)
	sender, fin := gws[ndrc.OrgID], gws[finance.OrgID]
	doc := sendTestDocument(t, sender, finance)
	deliver(t, sender)
	_, err := fin.SignFor(ctx, doc.ID, Person{Name: "张三"})
	require.NoError(t, err)
	_, err = sender.Recall(ctx, doc.ID, "")
	require.NoError(t, err)
	assert.Equal(t, 1, deliver(t, sender), "the recall is accepted, though it changes nothing")
	got, err := fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusSignedFor, got.Document.Status)
	assert.Equal(t, 1, deliver(t, fin))
	st := sentStates(t, sender, doc.ID)[finance]
	assert.Equal(t, "signedFor", st.State())
	assert.Equal(t, "张三", st.Document.By.Name)
}

// Receipts, recalls and urges that do not fit are refused with documented
// statuses, and nothing is stored.
func TestGatewayRefusesLifecycleMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock(time.Now())
	n, gws := newTestGateways(t, clock)
	sender, fin, ec := gws[ndrc.OrgID], gws[finance.OrgID], gws[econ.OrgID]
	doc := sendTestDocument(t, sender, finance)
	deliver(t, sender)
	_ = n

	send := func(from *Gateway, to Party, k Kind, replyTo, mediaType string, body []byte) error {
		e := NewEnvelope(k, from.Self(), clock.now())
		e.ReplyTo, e.Recipients = replyTo, []Party{to}
		d, _, err := docdoc.ComputeDigest(bytes.NewReader(body), docdoc.SHA256)
		require.NoError(t, err)
		e.Payload = Payload{MediaType: mediaType, Size: int64(len(body)), Digest: d}
		_, _, err = from.Transport().Send(ctx, e, to, bytes.NewReader(body))
		return err
	}
	at := NewTime(clock.now())
	receipt := func(id string, digest docdoc.Digest, status string) []byte {
		r := &Receipt{Status: status, MessageID: id, Received: at, Digest: digest, At: &at, By: &Person{Name: "张三"}}
		if status == ReceiptDelivered {
			r.At, r.By = nil, nil
		}
		b, err := MarshalReceipt(r)
		require.NoError(t, err)
		return b
	}
	notice := func(id string) []byte { b, _ := MarshalNotice(&Notice{MessageID: id}); return b }
	unknown := "01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f"
	cases := []struct {
		name   string
		err    error
		status int
		rule   string
	}{
		{"recall of an unknown document", send(sender, finance, KindRecall, unknown, NoticeMediaType, notice(unknown)), http.StatusConflict, "exchange.refused.unknown-document"},
		{"receipt from a node that is not a recipient", send(ec, ndrc, KindReceipt, doc.ID, ReceiptMediaType, receipt(doc.ID, doc.Payload.Digest, ReceiptSignedFor)), http.StatusConflict, "exchange.refused.unknown-document"},
		{"receipt for other bytes", send(fin, ndrc, KindReceipt, doc.ID, ReceiptMediaType, receipt(doc.ID, docdoc.Digest{Alg: docdoc.SHA256, Value: strings.Repeat("0", 64)}, ReceiptSignedFor)), http.StatusUnprocessableEntity, "exchange.refused.receipt-digest"},
		{"delivery receipt as a message", send(fin, ndrc, KindReceipt, doc.ID, ReceiptMediaType, receipt(doc.ID, doc.Payload.Digest, ReceiptDelivered)), http.StatusUnprocessableEntity, "exchange.refused.receipt"},
		{"receipt about another message", send(fin, ndrc, KindReceipt, doc.ID, ReceiptMediaType, receipt(unknown, doc.Payload.Digest, ReceiptSignedFor)), http.StatusUnprocessableEntity, "exchange.refused.reply-to"},
		{"malformed receipt", send(fin, ndrc, KindReceipt, doc.ID, ReceiptMediaType, []byte(`{"status":"signedFor"}`)), http.StatusUnprocessableEntity, "exchange.refused.receipt"},
		{"wrong media type", send(sender, finance, KindUrge, doc.ID, "application/json", notice(doc.ID)), http.StatusUnprocessableEntity, "exchange.refused.lifecycle-media-type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var se *SendError
			require.ErrorAs(t, c.err, &se)
			assert.Equal(t, c.status, se.Status)
			assert.Equal(t, c.rule, se.Problem.Rule)
		})
	}
	assert.Equal(t, StatusAwaiting, sentStates(t, sender, doc.ID)[finance].Document.Status, "nothing changed")
	got, err := fin.Received(ctx, doc.ID)
	require.NoError(t, err)
	assert.Zero(t, got.Document.Urges)
	var se *SendError
	require.ErrorAs(t, cases[0].err, &se)
	assert.True(t, se.Temporary(), "a recall may overtake its document")
}

// A classified document travels encrypted to each recipient, with the
// suite its key calls for, and only the recipient's gateway opens it.
func TestGatewayEncryptedDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock(time.Now())
	n, gws := newTestGateways(t, clock)
	plain := bytes.Repeat([]byte("机密 "), 50000)
	path := filepath.Join(t.TempDir(), "classified.egd")
	require.NoError(t, os.WriteFile(path, plain, 0o600))
	cases := []struct {
		from, to *Gateway
		suite    Suite
	}{
		{gws[ndrc.OrgID], gws[finance.OrgID], SuiteSM2},
		{gws[ndrc.OrgID], gws[econ.OrgID], SuiteX25519},
	}
	for _, c := range cases {
		env, err := c.from.SendEncryptedFile(ctx, []Party{c.to.Self()}, docdoc.TypeNotice, docdoc.MediaType, path)
		require.NoError(t, err)
		assert.Equal(t, EncryptedMediaType, env.Payload.MediaType)
		assert.Equal(t, 1, deliver(t, c.from))
		mt, rc, err := c.to.OpenPayload(ctx, env.ID)
		require.NoError(t, err)
		got, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.Equal(t, docdoc.MediaType, mt)
		assert.True(t, bytes.Equal(plain, got))
		in, err := c.to.Store().Inbox(ctx, env.ID)
		require.NoError(t, err)
		rc, err = ReadPayload(in)
		require.NoError(t, err)
		stored, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		assert.False(t, bytes.Contains(stored, []byte("机密")), "the store holds ciphertext")
		var h struct{ Suite Suite }
		require.NoError(t, json.Unmarshal(stored[:bytes.IndexByte(stored, '\n')], &h))
		assert.Equal(t, c.suite, h.Suite)
	}
	// Mixed suites cannot share one content key.
	_, err := gws[ndrc.OrgID].SendEncryptedFile(ctx, []Party{finance, econ}, docdoc.TypeNotice, docdoc.MediaType, path)
	assert.ErrorIs(t, err, ErrNoEncryptionKey)
	// A plain document opens as it is.
	doc := sendTestDocument(t, gws[ndrc.OrgID], finance)
	deliver(t, gws[ndrc.OrgID])
	mt, rc, err := gws[finance.OrgID].OpenPayload(ctx, doc.ID)
	require.NoError(t, err)
	rc.Close()
	assert.Equal(t, docdoc.MediaType, mt)
	_ = n
}

// A message that cannot be delivered ends dead-lettered, visibly, with
// the reason.
func TestGatewayDeadLetter(t *testing.T) {
	t.Parallel()
	clock := newFakeClock(time.Now())
	_, gws := newTestGateways(t, clock)
	sender := gws[ndrc.OrgID]
	doc := sendTestDocument(t, sender, Party{OrgID: finance.OrgID, Node: "gw9"})
	assert.Zero(t, deliver(t, sender))
	rs, err := sender.Sent(context.Background(), doc.ID)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, StateDead, rs[0].State())
	assert.Contains(t, rs[0].LastError, "not in the directory")
	assert.Equal(t, StatusAwaiting, rs[0].Document.Status, "never delivered, never signed for")
}
