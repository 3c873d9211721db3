package exchange

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// refusalNet is a test network whose nodes receive into durable inboxes,
// each on its own SQLite store and spool, so that a test can check that a
// refusal stored nothing.
type refusalNet struct {
	*testNet
	stores map[Party]Store
	spools map[Party]string
}

func newRefusalNet(t *testing.T, limits TransportLimits, verifier func(n *testNet, p Party) *signature.Verifier) *refusalNet {
	t.Helper()
	dir := t.TempDir()
	rn := &refusalNet{stores: map[Party]Store{}, spools: map[Party]string{}}
	rn.testNet = newTestNetOpts(t, limits, func(p Party) Receiver {
		s, err := OpenStore(context.Background(), "sqlite:"+filepath.Join(dir, p.OrgID+".db"))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		path := filepath.Join(dir, p.OrgID)
		spool, err := OpenSpool(path)
		require.NoError(t, err)
		rn.stores[p], rn.spools[p] = s, path
		return NewInbox(s, spool, nil)
	}, verifier)
	return rn
}

// assertNothingStored checks that the node p holds nothing of the message
// id: no inbox entry, an empty audit log and spool (the tests using it
// never deliver to p).
func (rn *refusalNet) transport(p Party) *Transport { return rn.nodes[p.OrgID].transport }

func (rn *refusalNet) assertNothingStored(t *testing.T, p Party, id string) {
	t.Helper()
	ctx := context.Background()
	_, err := rn.stores[p].Inbox(ctx, id)
	assert.ErrorIs(t, err, ErrNotFound, "the refused message is not in %s's inbox", p)
	audit, err := rn.stores[p].Audit(ctx)
	require.NoError(t, err)
	assert.Empty(t, audit, "%s's audit log is unchanged", p)
	files, err := os.ReadDir(rn.spools[p])
	require.NoError(t, err)
	assert.Empty(t, files, "%s's spool holds nothing", p)
}

// outsider is a node of an organ the directory does not list, with a
// transport that knows the directory and the trust anchors, and its own
// chain.
func (rn *refusalNet) outsider(t *testing.T, party Party) *testNode {
	t.Helper()
	tn := newTestNode(t, party, "未入网机关", pki.Ed25519)
	var err error
	tn.transport, err = NewTransport(TransportConfig{Self: party, Directory: func() (*Directory, error) { return rn.dir, nil }, Verifier: rn.verifier,
		Signer: tn.signer, TLSCertificate: tn.tlsCert, Receiver: tn.receiver})
	require.NoError(t, err)
	return tn
}

// postRaw sends line and payload from one node to another as Deliver does,
// without Deliver's checks, and returns the refusal as Deliver would
// (nil for a 200).
func postRaw(t *testing.T, n *testNet, from, to *testNode, env *Envelope, line, payload []byte) *SendError {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "https://"+to.listener.Addr().String()+MessagePath, bytes.NewReader(append(append(append([]byte(nil), line...), '\n'), payload...)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", MessageMediaType)
	resp, err := from.transport.clientFor(to.tlsCert.Leaf.Raw).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return from.transport.sendError(context.Background(), resp.StatusCode, resp.Body, n.dir, env, line, to.party)
}

// assertNegativeReceipt checks that se carries the receiving node's
// verified negative receipt of env (whose JSON as sent is line) by rule,
// and verifies it again from what a dead letter would keep.
func assertNegativeReceipt(t *testing.T, n *testNet, se *SendError, self, receiver Party, env *Envelope, line []byte, rule string) {
	t.Helper()
	require.NoError(t, se.ReceiptError)
	require.NotNil(t, se.Receipt, "a negative receipt for %s", rule)
	require.NotNil(t, se.Refusal)
	require.NotNil(t, se.Problem.Receipt)
	assert.Equal(t, receiver, se.Receipt.Sender, "signed by the receiving node")
	assert.Equal(t, []Party{self}, se.Receipt.Recipients)
	assert.Equal(t, KindReceipt, se.Receipt.Kind)
	assert.Equal(t, env.ID, se.Receipt.ReplyTo)
	assert.Equal(t, ReceiptRefused, se.Refusal.Status)
	assert.Equal(t, env.ID, se.Refusal.MessageID)
	assert.Equal(t, rule, se.Refusal.Rule)
	assert.Equal(t, se.Problem.Detail, se.Refusal.Reason)
	want, err := canonicalDigest(line, docdoc.SHA256)
	require.NoError(t, err)
	require.NotNil(t, se.Refusal.EnvelopeDigest)
	assert.Equal(t, want, *se.Refusal.EnvelopeDigest, "names the envelope sent")
	assert.Contains(t, se.Error(), "signed negative receipt "+se.Receipt.ID)

	// What the outbox keeps verifies on its own, with the directory.
	raw, err := json.Marshal(se.Problem.Receipt)
	require.NoError(t, err)
	_, re, rc, err := ParseSignedReceipt(raw)
	require.NoError(t, err)
	assert.Equal(t, se.Refusal, rc)
	require.NoError(t, VerifyEnvelope(context.Background(), re, n.dir, n.verifier, self, time.Now()))
	node := n.dir.Node(receiver)
	require.NotNil(t, node)
	assert.Equal(t, n.nodes[receiver.OrgID].sealCert.Raw, node.SigningCertificate, "the directory's signing certificate of the receiving node")
}

func assertNoReceipt(t *testing.T, se *SendError) {
	t.Helper()
	assert.Nil(t, se.Receipt)
	assert.Nil(t, se.Refusal)
	assert.Nil(t, se.Problem.Receipt)
	assert.NoError(t, se.ReceiptError, "none came")
}

func sendErr(t *testing.T, err error) *SendError {
	t.Helper()
	var se *SendError
	require.ErrorAs(t, err, &se)
	return se
}

// TestNegativeReceipts: every refusal of a message whose envelope parsed
// comes with the receiving node's signed negative receipt where that makes
// sense, which the sender verifies; nothing is stored on the receiver.
func TestNegativeReceipts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRefusalNet(t, TransportLimits{}, nil)
	ndrcNode, finNode, econNode := rn.nodes[ndrc.OrgID], rn.nodes[finance.OrgID], rn.nodes[econ.OrgID]
	outsider := rn.outsider(t, Party{OrgID: operatorID.OrgID, Node: "gw1"}) // the operator is no member
	payload := []byte("payload")

	type sent struct {
		self Party // the sending node
		env  *Envelope
		line []byte // the envelope as sent
		err  error
	}
	deliver := func(from *testNode, env *Envelope, to Party, body []byte) sent {
		line, err := Marshal(env)
		require.NoError(t, err)
		_, _, err = from.transport.Deliver(ctx, env, to, bytes.NewReader(body))
		return sent{self: from.party, env: env, line: line, err: err}
	}
	signed := func(from *testNode, env *Envelope) *Envelope {
		require.NoError(t, from.transport.Sign(env))
		return env
	}
	cases := []struct {
		name    string
		send    func() sent
		status  int
		rule    string
		receipt bool
	}{
		{"unknown sender", func() sent {
			return deliver(outsider, signed(outsider, documentEnvelope(outsider, finance, payload)), finance, payload)
		}, http.StatusForbidden, "exchange.refused.unknown-sender", true},
		{"TLS client not the sender's node", func() sent {
			// econ's node presents a message NDRC signed.
			return deliver(econNode, signed(ndrcNode, documentEnvelope(ndrcNode, finance, payload)), finance, payload)
		}, http.StatusForbidden, "exchange.refused.tls-peer", false},
		{"signed with another node's certificate", func() sent {
			env := documentEnvelope(ndrcNode, finance, payload)
			require.NoError(t, SignEnvelope(env, econNode.signer))
			return deliver(ndrcNode, env, finance, payload)
		}, http.StatusForbidden, "exchange.refused.sender-certificate", true},
		{"unsigned", func() sent {
			env := documentEnvelope(ndrcNode, finance, payload)
			line, err := Marshal(env)
			require.NoError(t, err)
			return sent{self: ndrc, env: env, line: line, err: postRaw(t, rn.testNet, ndrcNode, finNode, env, line, payload)}
		}, http.StatusForbidden, "exchange.refused.unsigned", true},
		{"tampered envelope", func() sent {
			env := signed(ndrcNode, documentEnvelope(ndrcNode, finance, payload))
			env.DocumentType = docdoc.TypeReport // after signing
			return deliver(ndrcNode, env, finance, payload)
		}, http.StatusForbidden, "exchange.refused.signature", true},
		{"not for this node", func() sent {
			return deliver(ndrcNode, signed(ndrcNode, documentEnvelope(ndrcNode, econ, payload)), finance, payload)
		}, http.StatusMisdirectedRequest, "exchange.refused.not-recipient", true},
		{"no grant for the document type", func() sent {
			// econ may send finance reports only.
			return deliver(econNode, signed(econNode, documentEnvelope(econNode, finance, payload)), finance, payload)
		}, http.StatusForbidden, "exchange.refused.not-granted", true},
		{"expired message", func() sent {
			env := documentEnvelope(ndrcNode, finance, payload)
			env.Created = NewTime(time.Now().Add(-time.Minute))
			exp := NewTime(time.Now().Add(-time.Second))
			env.Expires = &exp
			return deliver(ndrcNode, signed(ndrcNode, env), finance, payload)
		}, http.StatusGone, "exchange.refused.expired", true},
		{"tampered payload", func() sent {
			return deliver(ndrcNode, signed(ndrcNode, documentEnvelope(ndrcNode, finance, payload)), finance, []byte("PAYLOAD"))
		}, http.StatusUnprocessableEntity, "exchange.refused.payload", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.send()
			se := sendErr(t, s.err)
			assert.Equal(t, c.status, se.Status)
			assert.Equal(t, c.rule, se.Problem.Rule)
			assert.False(t, se.Temporary(), "a final refusal")
			if c.receipt {
				assertNegativeReceipt(t, rn.testNet, se, s.self, finance, s.env, s.line, c.rule)
			} else {
				assertNoReceipt(t, se)
			}
			rn.assertNothingStored(t, finance, s.env.ID)
		})
	}

	// The tampered payload's receipt names the bytes received, which are
	// not the ones the envelope describes.
	env := signed(ndrcNode, documentEnvelope(ndrcNode, finance, payload))
	_, _, err := ndrcNode.transport.Deliver(ctx, env, finance, strings.NewReader("PAYLOAD"))
	se := sendErr(t, err)
	require.NotNil(t, se.Refusal)
	got, _, err := docdoc.ComputeDigest(strings.NewReader("PAYLOAD"), docdoc.SHA256)
	require.NoError(t, err)
	assert.Equal(t, got, se.Refusal.Digest)
	assert.NotEqual(t, env.Payload.Digest, se.Refusal.Digest)

	// A refusal that does not name the payload carries no digest of it.
	env = documentEnvelope(ndrcNode, econ, payload)
	_, _, err = ndrcNode.transport.Send(ctx, env, finance, bytes.NewReader(payload))
	se = sendErr(t, err)
	require.NotNil(t, se.Refusal)
	assert.Zero(t, se.Refusal.Digest)
	rn.assertNothingStored(t, econ, env.ID)
}

// TestNoReceiptWithoutAnEnvelope: a request that is not a message gets its
// Problem and no receipt.
func TestNoReceiptWithoutAnEnvelope(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, TransportLimits{})
	ndrcNode, finNode := n.nodes[ndrc.OrgID], n.nodes[finance.OrgID]
	client := ndrcNode.transport.clientFor(finNode.tlsCert.Leaf.Raw)
	url := "https://" + finNode.listener.Addr().String() + MessagePath
	long := append(bytes.Repeat([]byte(" "), MaxEnvelopeSize+10), '\n')
	for _, c := range []struct {
		name, method, mediaType string
		body                    []byte
		status                  int
		rule                    string
	}{
		{"not POST", http.MethodPut, MessageMediaType, []byte("{}\n"), http.StatusMethodNotAllowed, "exchange.http.method"},
		{"not a message", http.MethodPost, "application/json", []byte("{}\n"), http.StatusUnsupportedMediaType, "exchange.http.media-type"},
		{"an invalid envelope", http.MethodPost, MessageMediaType, []byte(`{"kind":"fax"}` + "\n"), http.StatusBadRequest, "exchange.refused.envelope"},
		{"no envelope line", http.MethodPost, MessageMediaType, []byte(`{"kind":"document"}`), http.StatusBadRequest, "exchange.http.body"},
		{"an envelope too long", http.MethodPost, MessageMediaType, long, http.StatusRequestEntityTooLarge, "exchange.http.body"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(c.method, url, bytes.NewReader(c.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", c.mediaType)
			resp, err := client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, c.status, resp.StatusCode)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			var raw map[string]json.RawMessage
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
			assert.Equal(t, `"`+c.rule+`"`, string(raw["rule"]))
			assert.NotContains(t, raw, "receipt")
		})
	}
}

// TestNegativeReceiptCertificates: a revoked and an expired signing
// certificate are refused under their own rules, with a receipt.
func TestNegativeReceiptCertificates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRefusalNet(t, TransportLimits{}, func(n *testNet, p Party) *signature.Verifier {
		switch p {
		case finance: // holds a CRL that revokes NDRC's seal certificate
			ch := n.nodes[ndrc.OrgID].chain
			der, err := ch.Intermediate.CreateCRL([]x509.RevocationListEntry{{SerialNumber: ch.Cert.SerialNumber, RevocationTime: time.Now().Add(-time.Minute)}}, 1, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
			require.NoError(t, err)
			crl, err := signature.ParseCRL(der)
			require.NoError(t, err)
			v, err := signature.NewVerifier(n.roots, signature.WithCRLs(crl))
			require.NoError(t, err)
			return v
		case econ: // verifies four years on, after the seal certificates' three
			v, err := signature.NewVerifier(n.roots, signature.WithClock(func() time.Time { return time.Now().AddDate(4, 0, 0) }))
			require.NoError(t, err)
			return v
		}
		return nil
	})
	ndrcNode := rn.nodes[ndrc.OrgID]
	payload := []byte("payload")
	for _, c := range []struct {
		to   Party
		rule string
		is   error
	}{
		{finance, "exchange.refused.certificate-revoked", signature.ErrRevoked},
		{econ, "exchange.refused.certificate-expired", signature.ErrExpired},
	} {
		env := documentEnvelope(ndrcNode, c.to, payload)
		_, _, err := ndrcNode.transport.Send(ctx, env, c.to, bytes.NewReader(payload))
		se := sendErr(t, err)
		assert.Equal(t, http.StatusForbidden, se.Status, c.rule)
		assert.Equal(t, c.rule, se.Problem.Rule)
		line, err := Marshal(env)
		require.NoError(t, err)
		assertNegativeReceipt(t, rn.testNet, se, ndrc, c.to, env, line, c.rule)
		rn.assertNothingStored(t, c.to, env.ID)
	}
	// The refusal still matches ErrBadSignature for a receiver's own code.
	env := documentEnvelope(ndrcNode, finance, payload)
	require.NoError(t, SignEnvelope(env, ndrcNode.signer))
	err := VerifyEnvelope(ctx, env, rn.dir, rn.nodes[finance.OrgID].transport.cfg.Verifier, finance, time.Now())
	assert.ErrorIs(t, err, ErrBadSignature)
}

// TestNegativeReceiptRateLimit: negative receipts take tokens from the
// sender organ's bucket, and those for unknown senders share one; beyond
// it the refusal comes as before, without a receipt.
func TestNegativeReceiptRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rn := newRefusalNet(t, TransportLimits{Rate: 0.001, Burst: 1}, nil)
	ndrcNode := rn.nodes[ndrc.OrgID]
	check, err := docdoc.OrgIDCheckCharacter("11500000MB1234567")
	require.NoError(t, err)
	strangers := []*testNode{rn.outsider(t, Party{OrgID: operatorID.OrgID, Node: "gw1"}), rn.outsider(t, Party{OrgID: "11500000MB1234567" + string(check), Node: "gw1"})}
	expired := func(from *testNode) *Envelope {
		env := documentEnvelope(from, finance, []byte("x"))
		env.Created = NewTime(time.Now().Add(-time.Minute))
		exp := NewTime(time.Now().Add(-time.Second))
		env.Expires = &exp
		return env
	}
	type outcome struct {
		status  int
		receipt bool
	}
	var got []outcome
	for _, from := range []*testNode{ndrcNode, ndrcNode, strangers[0], strangers[1], strangers[0]} {
		_, _, err := from.transport.Send(ctx, expired(from), finance, strings.NewReader("x"))
		se := sendErr(t, err)
		got = append(got, outcome{se.Status, se.Receipt != nil})
	}
	assert.Equal(t, []outcome{
		{http.StatusGone, true}, {http.StatusGone, false}, // NDRC's one token
		{http.StatusForbidden, true}, {http.StatusForbidden, false}, {http.StatusForbidden, false}, // one token for all unknown senders
	}, got)
	_, _, err = ndrcNode.transport.Send(ctx, documentEnvelope(ndrcNode, finance, []byte("y")), finance, strings.NewReader("y"))
	assert.Equal(t, http.StatusTooManyRequests, sendErr(t, err).Status, "NDRC's refused messages spent its bucket")
	rn.transport(finance).mu.Lock()
	assert.Len(t, rn.transport(finance).buckets, 2, "one bucket for NDRC, one for every unknown sender")
	rn.transport(finance).mu.Unlock()
}

// TestUntrustedNegativeReceipt: a negative receipt that does not verify is
// dropped, the refusal kept, and SendError says why.
func TestUntrustedNegativeReceipt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := newTestNet(t, TransportLimits{})
	ndrcNode, finNode, econNode := n.nodes[ndrc.OrgID], n.nodes[finance.OrgID], n.nodes[econ.OrgID]
	payload := []byte("payload")
	env := documentEnvelope(ndrcNode, finance, payload)
	require.NoError(t, ndrcNode.transport.Sign(env))
	line, err := Marshal(env)
	require.NoError(t, err)
	problem := Problem{Status: http.StatusGone, Rule: "exchange.refused.expired", Detail: "expired"}
	receiptBy := func(tn *testNode, env *Envelope, line []byte, p Problem) *SignedReceipt {
		sr, err := tn.transport.negativeReceipt(refusedMessage{env: env, line: line}, p)
		require.NoError(t, err)
		return sr
	}
	other := documentEnvelope(ndrcNode, finance, payload)
	other.ID = env.ID // the same id, another envelope
	require.NoError(t, ndrcNode.transport.Sign(other))
	otherLine, err := Marshal(other)
	require.NoError(t, err)
	good := receiptBy(finNode, env, line, problem)
	tampered := *good
	tampered.Payload = bytes.Replace(good.Payload, []byte("expired"), []byte("refused"), 1)
	for _, c := range []struct {
		name string
		sr   *SignedReceipt
		want string
	}{
		{"signed by another node than the recipient", receiptBy(econNode, env, line, problem), "expected the recipient " + finance.String()},
		{"for another rule", receiptBy(finNode, env, line, Problem{Status: http.StatusGone, Rule: "exchange.refused.not-granted", Detail: "x"}), "expected the same rule"},
		{"for another envelope with the same id", receiptBy(finNode, other, otherLine, problem), "expected the envelope sent"},
		{"a payload changed", &tampered, "digest"},
		{"not signed by a node of the directory", func() *SignedReceipt {
			sr := *good
			var e map[string]any
			require.NoError(t, json.Unmarshal(sr.Envelope, &e))
			e["sender"] = map[string]any{"orgId": operatorID.OrgID, "node": "gw1"}
			sr.Envelope, err = json.Marshal(e)
			require.NoError(t, err)
			return &sr
		}(), "not in the directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := problem
			p.Receipt = c.sr
			body, err := json.Marshal(p)
			require.NoError(t, err)
			se := ndrcNode.transport.sendError(ctx, http.StatusGone, bytes.NewReader(body), n.dir, env, line, finance)
			assert.Equal(t, http.StatusGone, se.Status, "the refusal stands")
			assert.Equal(t, problem.Rule, se.Problem.Rule)
			assert.Nil(t, se.Receipt)
			assert.Nil(t, se.Refusal)
			assert.Nil(t, se.Problem.Receipt, "dropped")
			require.Error(t, se.ReceiptError)
			assert.Contains(t, se.ReceiptError.Error(), c.want)
			assert.Contains(t, se.Error(), "negative receipt was not trusted")
		})
	}
	// The good one verifies.
	p := problem
	p.Receipt = good
	body, err := json.Marshal(p)
	require.NoError(t, err)
	se := ndrcNode.transport.sendError(ctx, http.StatusGone, bytes.NewReader(body), n.dir, env, line, finance)
	require.NoError(t, se.ReceiptError)
	require.NotNil(t, se.Receipt)
}

// TestOutboxKeepsNegativeReceipt: an entry dead-lettered on a final
// refusal keeps the verified negative receipt as evidence, Gateway.Sent
// shows it, and the sender's audit log records it; the receiver stores
// nothing.
func TestOutboxKeepsNegativeReceipt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := newFakeClock(time.Now())
	n, gws := newTestGateways(t, clock)
	sender, fin := gws[econ.OrgID], gws[finance.OrgID]
	before, err := fin.Store().Audit(ctx)
	require.NoError(t, err)

	doc := sendTestDocument(t, sender, finance) // a notice; econ may send finance reports only
	assert.Zero(t, deliver(t, sender))
	st := sentStates(t, sender, doc.ID)[finance]
	assert.Equal(t, StateDead, st.State())
	assert.Equal(t, 1, st.Attempts, "dead-lettered at once: the refusal is final")
	assert.Contains(t, st.LastError, "403 exchange.refused.not-granted")
	assert.Nil(t, st.DeliveryReceipt)
	require.NotNil(t, st.RefusalReceipt)
	require.NotNil(t, st.Refusal)
	assert.Equal(t, finance, st.RefusalReceipt.Sender)
	assert.Equal(t, doc.ID, st.RefusalReceipt.ReplyTo)
	assert.Equal(t, ReceiptRefused, st.Refusal.Status)
	assert.Equal(t, "exchange.refused.not-granted", st.Refusal.Rule)
	assert.Contains(t, st.LastError, st.RefusalReceipt.ID, "the dead letter's reason names the receipt")
	require.NoError(t, VerifyEnvelope(ctx, st.RefusalReceipt, n.dir, n.verifier, econ, clock.now()), "the kept receipt still verifies")

	es, err := sender.Outbox().State(ctx, doc.ID)
	require.NoError(t, err)
	require.Len(t, es, 1)
	sr, _, rc, err := ParseSignedReceipt(es[0].Receipt)
	require.NoError(t, err)
	want, err := canonicalDigest(es[0].Envelope, docdoc.SHA256)
	require.NoError(t, err)
	assert.Equal(t, want, *rc.EnvelopeDigest, "names the envelope the outbox sent")

	entries, err := sender.Store().Audit(ctx)
	require.NoError(t, err)
	last := entries[len(entries)-1]
	assert.Equal(t, AuditReceipt, last.Direction)
	assert.Equal(t, KindReceipt, last.Kind)
	assert.Equal(t, doc.ID, last.MessageID)
	assert.Equal(t, finance.String(), last.Peer)
	digest, err := envelopeDigest(sr.Envelope)
	require.NoError(t, err)
	assert.Equal(t, digest, last.Digest, "the audit log pins the receipt's envelope, which pins its payload")
	var buf bytes.Buffer
	require.NoError(t, WriteAudit(&buf, entries))
	_, err = VerifyAudit(&buf)
	require.NoError(t, err)

	after, err := fin.Store().Audit(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the receiver's audit log is unchanged")
	_, err = fin.Store().Inbox(ctx, doc.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = fin.Store().Documents(ctx, doc.ID)
	assert.ErrorIs(t, err, ErrNotFound)
}

// TestStoreDeadWithReceipt: Dead keeps a negative receipt and audits it in
// one transaction, and refuses one that is not a signed receipt, on SQLite
// and, with EGOVKIT_TEST_POSTGRES, PostgreSQL.
func TestStoreDeadWithReceipt(t *testing.T) {
	t.Parallel()
	n := buildTestNet(t)
	fin := n.nodes[finance.OrgID]
	tr, err := NewTransport(TransportConfig{Self: finance, Directory: func() (*Directory, error) { return n.dir, nil }, Verifier: n.verifier, Signer: fin.signer,
		TLSCertificate: fin.tlsCert, Receiver: fin.receiver})
	require.NoError(t, err)
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		s := openTestStore(t, open)
		now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
		env := documentEnvelope(n.nodes[ndrc.OrgID], finance, []byte("x"))
		line, err := Marshal(env)
		require.NoError(t, err)
		require.NoError(t, s.Enqueue(ctx, []OutboxEntry{{MessageID: env.ID, Recipient: finance, Envelope: line, PayloadPath: "/p", State: StatePending, NextAttempt: now, Created: now}}))
		sr, err := tr.negativeReceipt(refusedMessage{env: env, line: line}, Problem{Status: http.StatusGone, Rule: "exchange.refused.expired", Detail: "expired"})
		require.NoError(t, err)
		raw, err := json.Marshal(sr)
		require.NoError(t, err)
		c, err := s.Claim(ctx, "w", now, time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, c, 1)
		audit, err := s.Audit(ctx)
		require.NoError(t, err)

		assert.Error(t, s.Dead(ctx, c[0], "w", "refused", []byte(`{"envelope":{}}`), now), "not a signed receipt")
		es, err := s.Outbox(ctx, env.ID)
		require.NoError(t, err)
		assert.Equal(t, StatePending, es[0].State, "nothing changed")
		got, err := s.Audit(ctx)
		require.NoError(t, err)
		assert.Equal(t, audit, got)

		require.NoError(t, s.Dead(ctx, c[0], "w", "refused: 410 exchange.refused.expired", raw, now.Add(time.Second)))
		es, err = s.Outbox(ctx, env.ID)
		require.NoError(t, err)
		assert.Equal(t, StateDead, es[0].State)
		assert.Equal(t, 1, es[0].Attempts)
		assert.Equal(t, raw, es[0].Receipt)
		got, err = s.Audit(ctx)
		require.NoError(t, err)
		require.Len(t, got, len(audit)+1)
		digest, err := envelopeDigest(sr.Envelope)
		require.NoError(t, err)
		assert.Equal(t, AuditEntry{Seq: int64(len(got)), At: NewTime(now.Add(time.Second)), Direction: AuditReceipt, Kind: KindReceipt, MessageID: env.ID, Peer: finance.String(),
			Digest: digest, PrevHash: audit[len(audit)-1].Hash, Hash: got[len(got)-1].Hash}, got[len(got)-1])
		assert.ErrorIs(t, s.Dead(ctx, c[0], "w", "again", raw, now), ErrLeaseLost, "dead once")
	})
}

// TestRevocationUnavailable: a node that requires revocation information
// and has none for the signing certificate refuses for now (503, no
// receipt), not for good.
func TestRevocationUnavailable(t *testing.T) {
	t.Parallel()
	rn := newRefusalNet(t, TransportLimits{}, func(n *testNet, p Party) *signature.Verifier {
		if p != ndrc {
			return nil
		}
		v, err := signature.NewVerifier(n.roots, signature.RequireRevocationInfo())
		require.NoError(t, err)
		return v
	})
	from := rn.nodes[finance.OrgID]
	env := documentEnvelope(from, ndrc, []byte("x"))
	_, _, err := from.transport.Send(context.Background(), env, ndrc, strings.NewReader("x"))
	se := sendErr(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, se.Status)
	assert.Equal(t, "exchange.refused.revocation-unavailable", se.Problem.Rule)
	assert.True(t, se.Temporary())
	assertNoReceipt(t, se)
	rn.assertNothingStored(t, ndrc, env.ID)
}
