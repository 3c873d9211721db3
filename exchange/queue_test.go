package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
)

func openTestStore(t testing.TB, open sqldbtest.Opener) Store {
	t.Helper()
	s, err := newSQLStore(context.Background(), open())
	require.NoError(t, err)
	return s
}

// testDeliveryReceipt is the finance bureau's signed delivery receipt
// ([SignedReceipt] JSON) of a message from NDRC, as a store keeps it.
func testDeliveryReceipt(t *testing.T) []byte {
	t.Helper()
	n := buildTestNet(t)
	fin := n.nodes[finance.OrgID]
	tr, err := NewTransport(TransportConfig{Self: finance, Directory: func() (*Directory, error) { return n.dir, nil }, Verifier: n.verifier, Signer: fin.signer,
		TLSCertificate: fin.tlsCert, Receiver: fin.receiver})
	require.NoError(t, err)
	env := documentEnvelope(n.nodes[ndrc.OrgID], finance, []byte("x"))
	now := time.Now()
	line, body, err := tr.signReceipt(env, &Receipt{Status: ReceiptDelivered, MessageID: env.ID, Received: NewTime(now), Digest: env.Payload.Digest}, now)
	require.NoError(t, err)
	raw, err := json.Marshal(&SignedReceipt{Envelope: line, Payload: body})
	require.NoError(t, err)
	return raw
}

// TestStoreConformance runs one suite against SQLite and, with
// EGOVKIT_TEST_POSTGRES, PostgreSQL.
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	receipt := testDeliveryReceipt(t)
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		s := openTestStore(t, open)
		now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
		entry := func(id string, to Party) OutboxEntry {
			return OutboxEntry{MessageID: id, Recipient: to, Envelope: []byte(`{"id":"` + id + `"}`), PayloadPath: "/spool/" + id, State: StatePending, NextAttempt: now, Created: now}
		}
		require.NoError(t, s.Enqueue(ctx, []OutboxEntry{entry("m1", finance), entry("m1", econ)}))
		assert.ErrorIs(t, s.Enqueue(ctx, []OutboxEntry{entry("m2", finance), entry("m1", econ)}), ErrDuplicate)
		_, err := s.Outbox(ctx, "m2")
		assert.ErrorIs(t, err, ErrNotFound, "a failed enqueue stores nothing")

		// Two workers claim at once: every entry goes to exactly one.
		var wg sync.WaitGroup
		claimed := make([][]OutboxEntry, 2)
		for i := range claimed {
			wg.Add(1)
			go func() {
				defer wg.Done()
				other := openTestStore(t, open) // another process's connection
				c, err := other.Claim(ctx, "w"+string(rune('a'+i)), now, time.Minute, 10)
				assert.NoError(t, err)
				claimed[i] = c
			}()
		}
		wg.Wait()
		assert.Len(t, append(claimed[0], claimed[1]...), 2)
		var first OutboxEntry
		var owner string
		if len(claimed[0]) > 0 {
			first, owner = claimed[0][0], "wa"
		} else {
			first, owner = claimed[1][0], "wb"
		}
		assert.Equal(t, "m1", first.MessageID)
		assert.Equal(t, []byte(`{"id":"m1"}`), first.Envelope)

		// Nothing is due again while leased; a lost lease cannot finish.
		c, err := s.Claim(ctx, "wc", now.Add(30*time.Second), time.Minute, 10)
		require.NoError(t, err)
		assert.Empty(t, c)
		assert.ErrorIs(t, s.Delivered(ctx, first, "wc", receipt, now), ErrLeaseLost)

		// Retry, then the entry is due again at its time.
		require.NoError(t, s.Retry(ctx, first, owner, now.Add(10*time.Minute), "connection refused", now))
		c, err = s.Claim(ctx, "wc", now.Add(5*time.Minute), time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, c, 1, "the other entry's lease has ended")
		assert.NotEqual(t, first.Recipient, c[0].Recipient)
		require.NoError(t, s.Dead(ctx, c[0], "wc", "refused: not granted", nil, now.Add(5*time.Minute)))
		c, err = s.Claim(ctx, "wd", now.Add(11*time.Minute), time.Minute, 10)
		require.NoError(t, err)
		require.Len(t, c, 1)
		assert.Equal(t, first.Recipient, c[0].Recipient)
		assert.Equal(t, 1, c[0].Attempts)
		assert.Equal(t, "connection refused", c[0].LastError)
		assert.Error(t, s.Delivered(ctx, c[0], "wd", []byte(`{"kind":"receipt"}`), now.Add(11*time.Minute)), "not a signed receipt")
		require.NoError(t, s.Delivered(ctx, c[0], "wd", receipt, now.Add(11*time.Minute)))
		assert.ErrorIs(t, s.Delivered(ctx, c[0], "wd", receipt, now), ErrLeaseLost, "finished once")

		es, err := s.Outbox(ctx, "m1")
		require.NoError(t, err)
		states := map[Party]string{}
		for _, e := range es {
			states[e.Recipient] = e.State
		}
		assert.Equal(t, StateDelivered, states[first.Recipient])
		assert.Len(t, states, 2)
		for p, st := range states {
			if p != first.Recipient {
				assert.Equal(t, StateDead, st)
			}
		}

		// Inbox: accepted once; survives reopening.
		in := InboxEntry{MessageID: "i1", Sender: ndrc, Kind: KindDocument, Envelope: []byte("{}"), PayloadPath: "/spool/i1", Received: now}
		require.NoError(t, s.Accept(ctx, in))
		assert.ErrorIs(t, s.Accept(ctx, in), ErrDuplicate)
		got, err := openTestStore(t, open).Inbox(ctx, "i1")
		require.NoError(t, err)
		assert.Equal(t, in, got)
		_, err = s.Inbox(ctx, "nope")
		assert.ErrorIs(t, err, ErrNotFound)
	})
}

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time       { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) add(d time.Duration)  { c.ns.Add(int64(d)) }
func newFakeClock(t time.Time) *fakeClock { c := &fakeClock{}; c.ns.Store(t.UnixNano()); return c }

// flakyReceiver fails its first calls, as a receiving node's store that is
// down would.
type flakyReceiver struct {
	Receiver
	failures atomic.Int32
}

func (f *flakyReceiver) Receive(ctx context.Context, env *Envelope, payload io.Reader) (bool, error) {
	if f.failures.Add(-1) >= 0 {
		return false, errors.New("disk full")
	}
	return f.Receiver.Receive(ctx, env, payload)
}

func TestOutboxToInbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	inboxes := map[Party]*Inbox{}
	flaky := map[Party]*flakyReceiver{}
	n := newTestNetWith(t, TransportLimits{}, func(p Party) Receiver {
		s, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, p.OrgID+"-in.db"))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		spool, err := OpenSpool(filepath.Join(dir, p.OrgID+"-in"))
		require.NoError(t, err)
		inboxes[p] = NewInbox(s, spool, nil)
		flaky[p] = &flakyReceiver{Receiver: inboxes[p]}
		return flaky[p]
	})
	sender := n.nodes[ndrc.OrgID]
	store, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, "out.db"))
	require.NoError(t, err)
	defer store.Close()
	spool, err := OpenSpool(filepath.Join(dir, "out"))
	require.NoError(t, err)
	clock := newFakeClock(time.Now())
	ob, err := NewOutbox(OutboxConfig{Store: store, Spool: spool, Transport: sender.transport, Owner: "gw1-a", Now: clock.now,
		Policy: RetryPolicy{Base: time.Second, Max: time.Minute, Attempts: 3}})
	require.NoError(t, err)

	// One document to two recipients; finance's inbox fails twice first.
	flaky[finance].failures.Store(2)
	payload := bytes.Repeat([]byte("附件"), 1000)
	env := documentEnvelope(sender, finance, payload)
	env.Recipients = []Party{finance, econ}
	require.NoError(t, ob.Send(ctx, env, bytes.NewReader(payload)))
	assert.ErrorIs(t, ob.Send(ctx, env, bytes.NewReader(payload)), ErrDuplicate, "a message is stored once")

	delivered, err := ob.DeliverDue(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, delivered, "econ at once; finance fails")
	state := func() map[Party]OutboxEntry {
		es, err := ob.State(ctx, env.ID)
		require.NoError(t, err)
		m := map[Party]OutboxEntry{}
		for _, e := range es {
			m[e.Recipient] = e
		}
		return m
	}
	st := state()
	assert.Equal(t, StateDelivered, st[econ].State)
	assert.NotEmpty(t, st[econ].Receipt)
	assert.Equal(t, StatePending, st[finance].State)
	assert.Contains(t, st[finance].LastError, "500")

	// Not due yet; then due after the backoff, fails once more, then works.
	delivered, err = ob.DeliverDue(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, delivered)
	clock.add(time.Minute)
	_, err = ob.DeliverDue(ctx, 10)
	require.NoError(t, err)
	clock.add(time.Minute)
	delivered, err = ob.DeliverDue(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, delivered)
	assert.Equal(t, StateDelivered, state()[finance].State)
	assert.Equal(t, 3, state()[finance].Attempts)

	// The inbox holds the document once, with its payload.
	in, err := inboxes[finance].store.Inbox(ctx, env.ID)
	require.NoError(t, err)
	rc, err := ReadPayload(in)
	require.NoError(t, err)
	got, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	assert.Equal(t, payload, got)

	// A message that cannot be delivered (to a node the directory does not
	// have) is dead-lettered at once, visibly.
	bad := documentEnvelope(sender, Party{OrgID: finance.OrgID, Node: "gw9"}, payload)
	require.NoError(t, ob.Send(ctx, bad, bytes.NewReader(payload)))
	_, err = ob.DeliverDue(ctx, 10)
	require.NoError(t, err)
	es, err := ob.State(ctx, bad.ID)
	require.NoError(t, err)
	assert.Equal(t, StateDead, es[0].State)
	assert.Contains(t, es[0].LastError, "not in the directory")

	// A payload that differs from its envelope is refused by Send, and
	// nothing is stored or spooled.
	wrong := documentEnvelope(sender, finance, payload)
	assert.ErrorIs(t, ob.Send(ctx, wrong, bytes.NewReader(payload[1:])), ErrPayloadMismatch)
	_, err = ob.State(ctx, wrong.ID)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = os.Stat(filepath.Join(dir, "out", wrong.ID+".out"))
	assert.True(t, os.IsNotExist(err))
}

func TestOutboxGivesUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	n := newTestNetWith(t, TransportLimits{}, func(p Party) Receiver {
		f := &flakyReceiver{Receiver: &memReceiver{msgs: map[string][]byte{}}}
		f.failures.Store(100)
		return f
	})
	sender := n.nodes[ndrc.OrgID]
	store, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, "out.db"))
	require.NoError(t, err)
	defer store.Close()
	spool, err := OpenSpool(filepath.Join(dir, "out"))
	require.NoError(t, err)
	clock := newFakeClock(time.Now())
	ob, err := NewOutbox(OutboxConfig{Store: store, Spool: spool, Transport: sender.transport, Owner: "w", Now: clock.now,
		Policy: RetryPolicy{Base: time.Second, Max: time.Second, Attempts: 3}})
	require.NoError(t, err)
	payload := []byte("x")
	env := documentEnvelope(sender, finance, payload)
	require.NoError(t, ob.Send(ctx, env, bytes.NewReader(payload)))
	for i := 0; i < 3; i++ {
		_, err := ob.DeliverDue(ctx, 10)
		require.NoError(t, err)
		clock.add(2 * time.Second)
	}
	es, err := ob.State(ctx, env.ID)
	require.NoError(t, err)
	assert.Equal(t, StateDead, es[0].State)
	assert.Equal(t, 3, es[0].Attempts)
	assert.Contains(t, es[0].LastError, "gave up after 3 attempts")
}

// TestStoreLifecycleConformance: document states, changes and their audit
// entries, on SQLite and, with EGOVKIT_TEST_POSTGRES, PostgreSQL.
func TestStoreLifecycleConformance(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		s := openTestStore(t, open)
		now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
		docEnv := []byte(`{"kind":"document","documentType":"notice","id":"d1"}`)
		require.NoError(t, s.Enqueue(ctx, []OutboxEntry{
			{MessageID: "d1", Recipient: finance, Envelope: docEnv, PayloadPath: "/p", NextAttempt: now, Created: now},
			{MessageID: "d1", Recipient: econ, Envelope: docEnv, PayloadPath: "/p", NextAttempt: now, Created: now},
		}))
		require.NoError(t, s.Enqueue(ctx, []OutboxEntry{{MessageID: "r0", Recipient: finance, Envelope: []byte(`{"kind":"receipt"}`), PayloadPath: "/p", NextAttempt: now, Created: now}}))
		_, err := s.Documents(ctx, "r0")
		assert.ErrorIs(t, err, ErrNotFound, "only documents have states")
		states, err := s.Documents(ctx, "d1")
		require.NoError(t, err)
		require.Len(t, states, 2)
		for _, st := range states {
			assert.Equal(t, RoleSender, st.Role)
			assert.Equal(t, StatusAwaiting, st.Status)
			assert.Equal(t, "notice", st.DocumentType)
			assert.True(t, st.Created.Equal(now))
		}

		// A change this node makes: urge both, with the urge's outbox entries.
		urge := []OutboxEntry{{MessageID: "u1", Recipient: finance, Envelope: []byte(`{"kind":"urge"}`), PayloadPath: "/p", NextAttempt: now, Created: now},
			{MessageID: "u1", Recipient: econ, Envelope: []byte(`{"kind":"urge"}`), PayloadPath: "/p", NextAttempt: now, Created: now}}
		got, err := s.Change(ctx, Change{MessageID: "d1", Role: RoleSender, Peers: []Party{econ, finance}, Action: ActionUrge, At: now.Add(time.Minute), ReplyID: "u1", Enqueue: urge})
		require.NoError(t, err)
		require.Len(t, got, 2)
		assert.Equal(t, 1, got[0].Urges)
		_, err = s.Outbox(ctx, "u1")
		require.NoError(t, err, "enqueued in the same transaction")

		// A refused change stores nothing, not even its message.
		_, err = s.Change(ctx, Change{MessageID: "d1", Role: RoleSender, Peers: []Party{finance}, Action: ActionSignFor, At: now, ReplyID: "x",
			Enqueue: []OutboxEntry{{MessageID: "x", Recipient: finance, Envelope: []byte(`{}`), PayloadPath: "/p", NextAttempt: now, Created: now}}})
		var le *LifecycleError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, "exchange.lifecycle.role", le.Rule)
		_, err = s.Outbox(ctx, "x")
		assert.ErrorIs(t, err, ErrNotFound)
		_, err = s.Change(ctx, Change{MessageID: "nope", Role: RoleSender, Peers: []Party{finance}, Action: ActionRecall, At: now})
		assert.ErrorIs(t, err, ErrNotFound)

		// Received changes: finance signs for it; econ's receipt is replayed.
		rcpt := func(id string, from Party) *InboxEntry {
			return &InboxEntry{MessageID: id, Sender: from, Kind: KindReceipt, Envelope: []byte(`{"kind":"receipt","id":"` + id + `"}`), PayloadPath: "/p", Received: now.Add(2 * time.Minute)}
		}
		got, err = s.Change(ctx, Change{MessageID: "d1", Role: RoleSender, Peers: []Party{finance}, Action: ActionSignFor, By: Person{Name: "张三", ID: "u1"}, At: now.Add(90 * time.Second), ReplyID: "s1", Received: rcpt("s1", finance)})
		require.NoError(t, err)
		assert.Equal(t, StatusSignedFor, got[0].Status)
		_, err = s.Change(ctx, Change{MessageID: "d1", Role: RoleSender, Peers: []Party{econ}, Action: ActionReturn, Reason: "不符", At: now.Add(90 * time.Second), ReplyID: "s2", Received: rcpt("s2", econ)})
		require.NoError(t, err)
		_, err = s.Change(ctx, Change{MessageID: "d1", Role: RoleSender, Peers: []Party{econ}, Action: ActionReturn, Reason: "不符", At: now, ReplyID: "s2", Received: rcpt("s2", econ)})
		assert.ErrorIs(t, err, ErrDuplicate)
		// A received change that no longer applies is accepted, and changes nothing.
		got, err = s.Change(ctx, Change{MessageID: "d1", Role: RoleSender, Peers: []Party{finance}, Action: ActionReturn, Reason: "迟到", At: now, ReplyID: "s3", Received: rcpt("s3", finance)})
		require.NoError(t, err)
		assert.Equal(t, StatusSignedFor, got[0].Status)
		_, err = s.Inbox(ctx, "s3")
		require.NoError(t, err)

		other := openTestStore(t, open)
		states, err = other.Documents(ctx, "d1")
		require.NoError(t, err)
		byPeer := map[Party]DocumentState{}
		for _, st := range states {
			byPeer[st.Peer] = st
		}
		assert.Equal(t, StatusSignedFor, byPeer[finance].Status)
		assert.Equal(t, Person{Name: "张三", ID: "u1"}, byPeer[finance].By)
		assert.Equal(t, "s1", byPeer[finance].ReplyID)
		assert.True(t, byPeer[finance].At.Equal(now.Add(90*time.Second)))
		assert.Equal(t, 1, byPeer[finance].Urges)
		assert.True(t, byPeer[finance].LastUrged.Equal(now.Add(time.Minute)))
		assert.Equal(t, StatusReturned, byPeer[econ].Status)
		assert.Equal(t, "不符", byPeer[econ].Reason)

		// The receiving side: Accept creates the state; a recall changes it.
		require.NoError(t, s.Accept(ctx, InboxEntry{MessageID: "d2", Sender: ndrc, Kind: KindDocument, Envelope: []byte(`{"kind":"document","documentType":"report"}`), PayloadPath: "/p", Received: now}))
		got, err = s.Change(ctx, Change{MessageID: "d2", Role: RoleRecipient, Peers: []Party{ndrc}, Action: ActionRecall, Reason: "撤回", At: now, ReplyID: "c1",
			Received: &InboxEntry{MessageID: "c1", Sender: ndrc, Kind: KindRecall, Envelope: []byte(`{"kind":"recall"}`), PayloadPath: "/p", Received: now.Add(time.Minute)}})
		require.NoError(t, err)
		assert.Equal(t, StatusRecalled, got[0].Status)
		_, err = s.Change(ctx, Change{MessageID: "d2", Role: RoleRecipient, Peers: []Party{ndrc}, Action: ActionSignFor, By: Person{Name: "李四"}, At: now})
		require.ErrorAs(t, err, &le)
		assert.Equal(t, "exchange.lifecycle.recalled", le.Rule)

		recv, err := s.ListDocuments(ctx, RoleRecipient, 10)
		require.NoError(t, err)
		require.Len(t, recv, 1)
		assert.Equal(t, "report", recv[0].DocumentType)
		sent, err := s.ListDocuments(ctx, RoleSender, 1)
		require.NoError(t, err)
		assert.Len(t, sent, 1, "limited")

		// Every change is in the audit log, which still verifies.
		entries, err := s.Audit(ctx)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, WriteAudit(&buf, entries))
		_, err = VerifyAudit(&buf)
		require.NoError(t, err)
		var changes []string
		for _, e := range entries {
			if e.Direction == AuditState {
				changes = append(changes, string(e.Kind)+":"+e.State+":"+e.Peer)
			}
		}
		assert.Equal(t, []string{
			"urge:awaiting:" + econ.String(), "urge:awaiting:" + finance.String(),
			"receipt:signedFor:" + finance.String(), "receipt:returned:" + econ.String(),
			"recall:recalled:" + ndrc.String(),
		}, changes)
	})
}
