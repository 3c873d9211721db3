package exchange

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
)

// sendPayload stores a document with payload for sending from g to to;
// it may be called from any goroutine.
func sendPayload(ctx context.Context, g *Gateway, payload []byte, to Party) (*Envelope, error) {
	e := documentEnvelopeFrom(g.Self(), to, payload)
	return e, g.Send(ctx, e, bytes.NewReader(payload))
}

// Many documents sent at once from several goroutines are delivered by a
// running gateway concurrently, each exactly once, small payloads inline
// in the stores and large ones through the spools, on both databases.
func TestGatewayRunDeliversConcurrently(t *testing.T) {
	t.Parallel()
	forEachDatabase(t, func(t *testing.T, open func() Store) {
		ctx := context.Background()
		var mu sync.Mutex
		outcomes := map[string][]string{}
		_, gws := newGatewaysWith(t, time.Now, func(string) Store { return open() }, func(c *GatewayConfig) {
			c.Concurrency = 8
			c.OnDone = func(e OutboxEntry) {
				mu.Lock()
				defer mu.Unlock()
				outcomes[e.MessageID] = append(outcomes[e.MessageID], e.State)
			}
		})
		sender, recv := gws[ndrc.OrgID], gws[finance.OrgID]
		to := recv.Self()

		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan error, 1)
		go func() { ran <- sender.Run(runCtx, time.Minute, time.Hour) }()

		const producers, each = 6, 20
		payloads := map[string][]byte{}
		var pmu sync.Mutex
		var wg sync.WaitGroup
		errs := make([]error, producers)
		for p := range producers {
			wg.Go(func() {
				for i := range each {
					size := 200 + i
					if i%10 == 9 {
						size = InlinePayloadMax + 1 + i // spooled
					}
					payload := bytes.Repeat([]byte{byte('a' + p)}, size)
					env, err := sendPayload(ctx, sender, payload, to)
					if err != nil {
						errs[p] = err
						return
					}
					pmu.Lock()
					payloads[env.ID] = payload
					pmu.Unlock()
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		// Run was woken by each Send (its poll interval is a minute), so
		// everything is delivered without waiting for a tick.
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(outcomes) == producers*each
		}, 60*time.Second, 10*time.Millisecond, "deliveries outstanding")
		stop()
		require.NoError(t, <-ran)

		for id, states := range outcomes {
			assert.Equal(t, []string{StateDelivered}, states, "message %s reported once, delivered", id)
		}
		for id, want := range payloads {
			in, err := recv.Store().Inbox(ctx, id)
			require.NoError(t, err)
			if len(want) > InlinePayloadMax {
				assert.NotEmpty(t, in.PayloadPath, "a large payload is spooled")
				assert.Nil(t, in.Payload)
			} else {
				assert.Empty(t, in.PayloadPath, "a small payload is kept inline")
				assert.Len(t, in.Payload, len(want))
			}
			_, rc, err := recv.OpenPayload(ctx, id)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			assert.Equal(t, sha256.Sum256(want), sha256.Sum256(got), "payload of %s", id)

			rs, err := sender.Sent(ctx, id)
			require.NoError(t, err)
			require.Len(t, rs, 1)
			assert.Equal(t, StateDelivered, rs[0].State())
			assert.Equal(t, 1, rs[0].Attempts)
			require.NotNil(t, rs[0].DeliveryReceipt)
		}
		for name, g := range map[string]*Gateway{"sender": sender, "recipient": recv} {
			entries, err := g.Store().Audit(ctx)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, WriteAudit(&buf, entries))
			n, err := VerifyAudit(&buf)
			require.NoError(t, err, name)
			// The sender: one sent and one receipt entry per message; the
			// recipient: one received entry per message and a state
			// entry for none.
			want := producers * each
			if name == "sender" {
				want *= 2
			}
			assert.Equal(t, want, n, fmt.Sprintf("%s audit entries", name))
		}
	})
}

// forEachDatabase runs f on SQLite and on PostgreSQL (when
// EGOVKIT_TEST_POSTGRES is set); each call of open returns a store on a
// database of its own.
func forEachDatabase(t *testing.T, f func(t *testing.T, open func() Store)) {
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			f(t, freshStores(t, db))
		})
	}
}

// freshStores returns an opener of stores each on a database of its own,
// of the kind db names (sqlite or postgres), and skips t when it is
// postgres and EGOVKIT_TEST_POSTGRES is not set.
func freshStores(t testing.TB, db string) func() Store {
	if db == "sqlite" {
		return func() Store { return openTestStore(t, sqldbtest.SQLite(t)) }
	}
	if os.Getenv(sqldbtest.EnvPostgres) == "" {
		t.Skip(sqldbtest.EnvPostgres + " is not set")
	}
	return func() Store {
		open, _ := sqldbtest.Postgres(t)
		return openTestStore(t, open)
	}
}

// A store's writes after Close fail with ErrStoreClosed rather than hang.
func TestStoreClosed(t *testing.T) {
	t.Parallel()
	s, err := OpenStore(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "s.db"))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	err = s.Accept(context.Background(), InboxEntry{MessageID: "m", Sender: ndrc, Kind: KindDocument, Envelope: []byte(`{}`), Payload: []byte("x"), Received: time.Now()})
	assert.ErrorIs(t, err, ErrStoreClosed)
}

// leaseWatcher is a Receiver that, on each message, counts the sender's
// outbox entries under lease: what DeliverDue claimed and has not
// finished.
type leaseWatcher struct {
	Receiver
	sender  Store
	ids     []string
	mu      sync.Mutex
	maxHeld int
}

func (w *leaseWatcher) Receive(ctx context.Context, env *Envelope, payload io.Reader) (bool, error) {
	held := 0
	for _, id := range w.ids {
		es, err := w.sender.Outbox(ctx, id)
		if err != nil {
			return false, err
		}
		for _, e := range es {
			if e.State == StatePending && e.LeaseOwner != "" {
				held++
			}
		}
	}
	w.mu.Lock()
	w.maxHeld = max(w.maxHeld, held)
	w.mu.Unlock()
	return w.Receiver.Receive(ctx, env, payload)
}

// DeliverDue claims no more entries at a time than it can attempt at once,
// so that a claimed entry never waits for a slot while its lease runs.
func TestDeliverDueClaimsInRounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, "out.db"))
	require.NoError(t, err)
	defer store.Close()
	watcher := &leaseWatcher{sender: store}
	n := newTestNetWith(t, TransportLimits{}, func(p Party) Receiver {
		if p == finance {
			watcher.Receiver = &memReceiver{msgs: map[string][]byte{}}
			return watcher
		}
		return &memReceiver{msgs: map[string][]byte{}}
	})
	sender := n.nodes[ndrc.OrgID]
	spool, err := OpenSpool(filepath.Join(dir, "out"))
	require.NoError(t, err)
	ob, err := NewOutbox(OutboxConfig{Store: store, Spool: spool, Transport: sender.transport, Owner: "w", Concurrency: 2})
	require.NoError(t, err)
	for i := range 7 {
		payload := []byte{byte('a' + i)}
		env := documentEnvelope(sender, finance, payload)
		require.NoError(t, ob.Send(ctx, env, bytes.NewReader(payload)))
		watcher.ids = append(watcher.ids, env.ID)
	}
	delivered, err := ob.DeliverDue(ctx, 100)
	require.NoError(t, err)
	assert.Equal(t, 7, delivered, "rounds of 2 until a round comes back short")
	assert.LessOrEqual(t, watcher.maxHeld, 2, "entries under lease at once")
	assert.Positive(t, watcher.maxHeld)
}

// Messages sent while Run stops are neither lost nor doubled: those Run
// had started end before it returns, those leased to it are delivered by
// the next worker once their lease ends, and the rest as usual.
func TestOutboxSendWhileRunStops(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	recv := &memReceiver{msgs: map[string][]byte{}}
	n := newTestNetWith(t, TransportLimits{Rate: 1e6, Burst: 1 << 20}, func(p Party) Receiver { return recv })
	sender := n.nodes[ndrc.OrgID]
	store, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, "out.db"))
	require.NoError(t, err)
	defer store.Close()
	spool, err := OpenSpool(filepath.Join(dir, "out"))
	require.NoError(t, err)
	clock := newFakeClock(time.Now())
	ob, err := NewOutbox(OutboxConfig{Store: store, Spool: spool, Transport: sender.transport, Owner: "w", Now: clock.now, Lease: time.Minute, Concurrency: 4})
	require.NoError(t, err)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ran := make(chan error, 1)
	go func() { ran <- ob.Run(runCtx, time.Hour) }()
	const senders, each = 8, 10
	ids := make(chan string, senders*each)
	var wg sync.WaitGroup
	for p := range senders {
		wg.Go(func() {
			for i := range each {
				payload := []byte{byte(p), byte(i)}
				env := documentEnvelope(sender, finance, payload)
				if err := ob.Send(ctx, env, bytes.NewReader(payload)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
				ids <- env.ID
				if p == 0 && i == each/2 {
					stop() // Run ends while the others go on sending
				}
			}
		})
	}
	wg.Wait()
	close(ids)
	assert.ErrorIs(t, <-ran, context.Canceled)

	clock.add(2 * time.Minute) // the leases of what Run held have ended
	for {
		d, err := ob.DeliverDue(ctx, 100)
		require.NoError(t, err)
		if d == 0 {
			break
		}
	}
	count := 0
	for id := range ids {
		count++
		es, err := ob.State(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, StateDelivered, es[0].State, "message %s", id)
		recv.mu.Lock()
		_, ok := recv.msgs[id]
		recv.mu.Unlock()
		assert.True(t, ok, "message %s received", id)
	}
	assert.Equal(t, senders*each, count)
	recv.mu.Lock()
	assert.Len(t, recv.msgs, senders*each, "each received once")
	recv.mu.Unlock()
}

// Two processes' stores on one database (two gateway processes of one
// organ sharing PostgreSQL, or two handles on one SQLite file) append to
// one audit chain at once, each with its own group commits: every write
// lands once and the chain holds. (2,000 writes passed too; 400 keep the
// suite quick.)
func TestSharedStoreAuditUnderLoad(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		a, b := openTestStore(t, open), openTestStore(t, open)
		defer a.Close()
		defer b.Close()
		const n = 400
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				s := a
				if i%2 == 1 {
					s = b
				}
				id := fmt.Sprintf("m%03d", i)
				errs[i] = s.Accept(ctx, InboxEntry{MessageID: id, Sender: ndrc, Kind: KindDocument,
					Envelope: []byte(`{"kind":"document","id":"` + id + `","documentType":"notice"}`), Payload: []byte("x"), Received: time.Now()})
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "write %d", i)
		}
		entries, err := a.Audit(ctx)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, WriteAudit(&buf, entries))
		got, err := VerifyAudit(&buf)
		require.NoError(t, err)
		assert.Equal(t, n, got, "one audit entry per write, in one chain")
	})
}
