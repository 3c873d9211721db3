package exchange

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// memReceiver keeps messages in memory, for transport tests; the durable
// inbox is tested with its stores.
type memReceiver struct {
	mu   sync.Mutex
	msgs map[string][]byte
}

func (m *memReceiver) Receive(_ context.Context, env *Envelope, payload io.Reader) (bool, error) {
	m.mu.Lock()
	_, dup := m.msgs[env.ID]
	m.mu.Unlock()
	if dup {
		return true, nil
	}
	data, err := io.ReadAll(payload)
	if err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs[env.ID] = data
	return false, nil
}

// testNode is one organ's node on loopback: its keys, certificates and
// running server.
type testNode struct {
	party     Party
	name      string
	signer    *signature.Signer
	chain     *pki.TestChain
	sealCert  *x509.Certificate
	tlsCert   tls.Certificate
	root      *x509.Certificate
	listener  net.Listener
	transport *Transport
	receiver  *memReceiver
	decrypter *Decrypter
}

func newTestNode(t testing.TB, party Party, name string, alg pki.KeyAlgorithm) *testNode {
	t.Helper()
	id := signature.Identity{Name: name, OrgID: party.OrgID}
	tc, err := pki.NewTestChain(alg, id, pki.Options{})
	require.NoError(t, err)
	s, err := tc.Signer()
	require.NoError(t, err)
	key, err := pki.GenerateKey(pki.P256)
	require.NoError(t, err)
	cert, err := tc.Intermediate.IssueTLS(key.Public(), id, []string{"127.0.0.1"}, pki.Options{})
	require.NoError(t, err)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return &testNode{party: party, name: name, signer: s, chain: tc, sealCert: tc.Cert, root: tc.Root.Certificate, listener: l,
		tlsCert: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, receiver: &memReceiver{msgs: map[string][]byte{}}}
}

type testNet struct {
	nodes    map[string]*testNode // by orgId
	dir      *Directory
	sealed   []byte
	verifier *signature.Verifier
	roots    []*x509.Certificate
	now      time.Time
}

func newTestNet(t testing.TB, limits TransportLimits) *testNet {
	return newTestNetWith(t, limits, nil)
}

// newTestNetWith runs the three nodes with receivers from recv (memory
// receivers when nil).
func newTestNetWith(t testing.TB, limits TransportLimits, recv func(p Party) Receiver) *testNet {
	return newTestNetOpts(t, limits, recv, nil)
}

// newTestNetOpts is newTestNetWith with each node's verifier from
// verifier (the network's when nil or when it returns nil).
func newTestNetOpts(t testing.TB, limits TransportLimits, recv func(p Party) Receiver, verifier func(n *testNet, p Party) *signature.Verifier) *testNet {
	t.Helper()
	n := buildTestNet(t)
	for _, tn := range n.nodes {
		var r Receiver = tn.receiver
		if recv != nil {
			r = recv(tn.party)
		}
		v := n.verifier
		if verifier != nil {
			if nv := verifier(n, tn.party); nv != nil {
				v = nv
			}
		}
		var err error
		tn.transport, err = NewTransport(TransportConfig{Self: tn.party, Directory: func() (*Directory, error) { return n.dir, nil }, Verifier: v,
			Signer: tn.signer, TLSCertificate: tn.tlsCert, Receiver: r, Limits: limits})
		require.NoError(t, err)
		mux := http.NewServeMux()
		mux.Handle(MessagePath, tn.transport.Handler())
		srv := &http.Server{Handler: mux, TLSConfig: tn.transport.ServerTLSConfig(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.ServeTLS(tn.listener, "", "") }()
		t.Cleanup(func() { srv.Close() })
	}
	return n
}

// buildTestNet makes the three nodes' keys, certificates and listeners and
// the operator's sealed directory listing them.
func buildTestNet(t testing.TB) *testNet {
	t.Helper()
	n := &testNet{nodes: map[string]*testNode{}, now: time.Now().UTC()}
	for _, m := range []struct {
		p    Party
		name string
		alg  pki.KeyAlgorithm
	}{{ndrc, "重庆市发展和改革委员会", pki.Ed25519}, {finance, "重庆市财政局", pki.SM2}, {econ, "重庆市经济和信息化委员会", pki.P256}} {
		tn := newTestNode(t, m.p, m.name, m.alg)
		n.nodes[m.p.OrgID] = tn
		n.roots = append(n.roots, tn.root)
	}
	op, err := pki.NewTestChain(pki.Ed25519, operatorID, pki.Options{})
	require.NoError(t, err)
	ops, err := op.Signer()
	require.NoError(t, err)
	n.roots = append(n.roots, op.Root.Certificate)
	d := &Directory{SpecVersion: DirectorySpecVersion, Serial: 1, Issued: NewTime(n.now.Add(-time.Hour)), Expires: NewTime(n.now.Add(24 * time.Hour)), Operator: operatorID,
		DocumentGrants: []DocumentGrant{{From: ndrc.OrgID, To: "*"}, {From: econ.OrgID, To: finance.OrgID, Types: []docdoc.Type{docdoc.TypeReport}}}}
	for _, p := range []Party{ndrc, finance, econ} {
		tn := n.nodes[p.OrgID]
		// Classified documents to finance use SM2 and SM4, to the others
		// X25519 and ChaCha20-Poly1305.
		var key crypto.PrivateKey
		if p == finance {
			key, err = sm2.GenerateKey(rand.Reader)
		} else {
			key, err = ecdh.X25519().GenerateKey(rand.Reader)
		}
		require.NoError(t, err)
		tn.decrypter, err = NewDecrypter(p, key)
		require.NoError(t, err)
		encKey, err := MarshalEncryptionKey(tn.decrypter.PublicKey())
		require.NoError(t, err)
		d.Members = append(d.Members, Member{Name: tn.name, OrgID: p.OrgID, Nodes: []Node{{ID: p.Node, Endpoint: "https://" + tn.listener.Addr().String(), TLSCertificate: tn.tlsCert.Leaf.Raw, SigningCertificate: tn.sealCert.Raw, EncryptionKey: encKey}}})
	}
	d.Members[1].Resources = []Resource{{ID: "finance.budget-execution", Name: "预算执行数据", Node: finance.Node}}
	d.DataGrants = []DataGrant{{Resource: "finance.budget-execution", Consumer: ndrc.OrgID}}
	data, err := MarshalDirectory(d)
	require.NoError(t, err)
	sealed, err := SealDirectory(data, ops)
	require.NoError(t, err)
	n.verifier, err = signature.NewVerifier(n.roots)
	require.NoError(t, err)
	n.dir, err = OpenDirectory(context.Background(), sealed, n.verifier, operatorID, n.now)
	require.NoError(t, err)
	n.sealed = sealed
	return n
}

func documentEnvelope(from *testNode, to Party, payload []byte) *Envelope {
	return documentEnvelopeFrom(from.party, to, payload)
}

// documentEnvelopeFrom is an unsigned notice from one party to another
// whose payload members describe payload.
func documentEnvelopeFrom(from, to Party, payload []byte) *Envelope {
	e := NewEnvelope(KindDocument, from, time.Now())
	e.Recipients = []Party{to}
	e.DocumentType = docdoc.TypeNotice
	d, _, _ := docdoc.ComputeDigest(bytes.NewReader(payload), docdoc.SHA256)
	e.Payload = Payload{MediaType: docdoc.MediaType, Size: int64(len(payload)), Digest: d}
	return e
}

func TestTransportDeliversWithReceipt(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, TransportLimits{})
	sender, receiver := n.nodes[ndrc.OrgID], n.nodes[finance.OrgID]
	payload := bytes.Repeat([]byte("公文包"), 50000)
	env := documentEnvelope(sender, finance, payload)
	re, rc, err := sender.transport.Send(context.Background(), env, finance, bytes.NewReader(payload))
	require.NoError(t, err)
	assert.Equal(t, "delivered", rc.Status)
	assert.Equal(t, env.ID, rc.MessageID)
	assert.Equal(t, finance, re.Sender)
	assert.Equal(t, env.ID, re.ReplyTo)
	assert.Equal(t, payload, receiver.receiver.msgs[env.ID])

	// A retry of the same message is answered with a receipt again and
	// stored once.
	_, rc2, err := sender.transport.Send(context.Background(), env, finance, bytes.NewReader(payload))
	require.NoError(t, err)
	assert.Equal(t, env.ID, rc2.MessageID)
	assert.Len(t, receiver.receiver.msgs, 1)
}

func TestTransportRefusals(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, TransportLimits{})
	ndrcNode, finNode, econNode := n.nodes[ndrc.OrgID], n.nodes[finance.OrgID], n.nodes[econ.OrgID]
	payload := []byte("payload")
	status := func(err error) (int, string) {
		var se *SendError
		require.ErrorAs(t, err, &se)
		return se.Status, se.Problem.Rule
	}

	// Not granted: econ may send only reports to finance.
	env := documentEnvelope(econNode, finance, payload)
	_, _, err := econNode.transport.Send(context.Background(), env, finance, bytes.NewReader(payload))
	code, rule := status(err)
	assert.Equal(t, http.StatusForbidden, code)
	assert.Equal(t, "exchange.refused.not-granted", rule)
	env = documentEnvelope(econNode, finance, payload)
	env.DocumentType = docdoc.TypeReport
	_, _, err = econNode.transport.Send(context.Background(), env, finance, bytes.NewReader(payload))
	require.NoError(t, err)

	// Addressed to another node than the one it reaches.
	env = documentEnvelope(ndrcNode, econ, payload)
	_, _, err = ndrcNode.transport.Send(context.Background(), env, finance, bytes.NewReader(payload))
	code, rule = status(err)
	assert.Equal(t, http.StatusMisdirectedRequest, code)
	assert.Equal(t, "exchange.refused.not-recipient", rule)

	// A payload that differs from its envelope.
	env = documentEnvelope(ndrcNode, finance, payload)
	_, _, err = ndrcNode.transport.Send(context.Background(), env, finance, strings.NewReader("PAYLOAD"))
	code, rule = status(err)
	assert.Equal(t, http.StatusUnprocessableEntity, code)
	assert.Equal(t, "exchange.refused.payload", rule)
	assert.NotContains(t, finNode.receiver.msgs, env.ID, "nothing stored")

	// Expired.
	env = documentEnvelope(ndrcNode, finance, payload)
	exp := NewTime(time.Now().Add(-time.Second))
	env.Created = NewTime(time.Now().Add(-time.Minute))
	env.Expires = &exp
	_, _, err = ndrcNode.transport.Send(context.Background(), env, finance, bytes.NewReader(payload))
	code, _ = status(err)
	assert.Equal(t, http.StatusGone, code)

	// A TLS client whose certificate is not the sender's registered one:
	// econ's TLS certificate presenting an envelope signed as NDRC.
	env = documentEnvelope(ndrcNode, finance, payload)
	require.NoError(t, SignEnvelope(env, ndrcNode.signer))
	line, err := Marshal(env)
	require.NoError(t, err)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: econNode.transport.clientTLSConfig(finNode.tlsCert.Leaf.Raw)}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("https://"+finNode.listener.Addr().String()+MessagePath, MessageMediaType, io.MultiReader(bytes.NewReader(append(line, '\n')), bytes.NewReader(payload)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	// A plain TLS client without a certificate cannot even connect.
	bare := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}}}
	defer bare.CloseIdleConnections()
	_, err = bare.Post("https://"+finNode.listener.Addr().String()+MessagePath, MessageMediaType, strings.NewReader("{}\n"))
	assert.Error(t, err)

	// The client refuses a server whose certificate is not the directory's.
	wrong := ndrcNode.transport.clientTLSConfig(econNode.tlsCert.Leaf.Raw)
	c2 := &http.Client{Transport: &http.Transport{TLSClientConfig: wrong}}
	defer c2.CloseIdleConnections()
	_, err = c2.Post("https://"+finNode.listener.Addr().String()+MessagePath, MessageMediaType, strings.NewReader("{}\n"))
	assert.ErrorContains(t, err, "not the one the directory registers")

	// A malformed envelope, and the wrong content type.
	c3 := &http.Client{Transport: &http.Transport{TLSClientConfig: ndrcNode.transport.clientTLSConfig(finNode.tlsCert.Leaf.Raw)}}
	defer c3.CloseIdleConnections()
	resp, err = c3.Post("https://"+finNode.listener.Addr().String()+MessagePath, MessageMediaType, strings.NewReader(`{"kind":"fax"}`+"\n"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	resp, err = c3.Post("https://"+finNode.listener.Addr().String()+MessagePath, "application/json", strings.NewReader("{}\n"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
}

func TestTransportRateLimit(t *testing.T) {
	t.Parallel()
	n := newTestNet(t, TransportLimits{Rate: 0.001, Burst: 2})
	s := n.nodes[ndrc.OrgID]
	var codes []int
	for i := 0; i < 3; i++ {
		payload := []byte(fmt.Sprint(i))
		_, _, err := s.transport.Send(context.Background(), documentEnvelope(s, finance, payload), finance, bytes.NewReader(payload))
		var se *SendError
		if errors.As(err, &se) {
			codes = append(codes, se.Status)
			assert.True(t, se.Temporary())
			continue
		}
		require.NoError(t, err)
		codes = append(codes, http.StatusOK)
	}
	assert.Equal(t, []int{200, 200, 429}, codes)
}
