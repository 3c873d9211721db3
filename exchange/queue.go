package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	"github.com/egovkit/egovkit/docdoc"
)

// Inbox is the durable [Receiver] of a node: it spools each accepted
// payload, then records the message in the store, so that a message is
// acknowledged only once it is durable, and a replayed message id is
// recognised as a duplicate and stored once.
type Inbox struct {
	store Store
	spool *Spool
	now   func() time.Time
}

// NewInbox returns an inbox on store and spool; now is the clock
// (time.Now when nil).
func NewInbox(store Store, spool *Spool, now func() time.Time) *Inbox {
	if now == nil {
		now = time.Now
	}
	return &Inbox{store: store, spool: spool, now: now}
}

// Receive implements [Receiver].
func (in *Inbox) Receive(ctx context.Context, env *Envelope, payload io.Reader) (bool, error) {
	if _, err := in.store.Inbox(ctx, env.ID); err == nil {
		return true, nil
	} else if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	path, _, err := in.spool.Write(env.ID+".in", payload)
	if err != nil {
		return false, err
	}
	raw, err := Marshal(env)
	if err != nil {
		return false, err
	}
	err = in.store.Accept(ctx, InboxEntry{MessageID: env.ID, Sender: env.Sender, Kind: env.Kind, Envelope: raw, PayloadPath: path, Received: in.now()})
	if errors.Is(err, ErrDuplicate) {
		// The same message, delivered twice at once: its payload was checked
		// against the same digest, so the file the first row names is the
		// same bytes.
		return true, nil
	}
	return false, err
}

// RetryPolicy says how an outbox retries: exponential backoff from Base,
// doubling up to Max, with full jitter in the upper half, for at most
// Attempts attempts, after which the entry is dead-lettered.
type RetryPolicy struct {
	Base     time.Duration
	Max      time.Duration
	Attempts int
}

// DefaultRetryPolicy retries for about a day: 12 attempts from 2 s,
// doubling, at most an hour apart.
var DefaultRetryPolicy = RetryPolicy{Base: 2 * time.Second, Max: time.Hour, Attempts: 12}

func (p RetryPolicy) delay(attempt int) time.Duration {
	d := p.Base << min(attempt, 30)
	if d <= 0 || d > p.Max {
		d = p.Max
	}
	return d/2 + rand.N(d/2+1)
}

// Outbox is the durable sending side of a node: [Outbox.Send] returns once
// the message is stored; [Outbox.DeliverDue] (or [Outbox.Run]) delivers
// stored messages with retries and dead-letters those it gives up on, where
// [Outbox.State] shows them.
type Outbox struct {
	store     Store
	spool     *Spool
	transport *Transport
	owner     string
	policy    RetryPolicy
	lease     time.Duration
	now       func() time.Time
}

// OutboxConfig configures an [Outbox].
type OutboxConfig struct {
	Store     Store
	Spool     *Spool
	Transport *Transport
	// Owner names this worker in leases; unique per process.
	Owner string
	// Policy is the retry policy; DefaultRetryPolicy when zero.
	Policy RetryPolicy
	// Lease is how long a claimed entry is this worker's; 2 minutes when zero.
	Lease time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// NewOutbox checks the configuration and returns the outbox.
func NewOutbox(cfg OutboxConfig) (*Outbox, error) {
	if cfg.Store == nil || cfg.Spool == nil || cfg.Transport == nil || cfg.Owner == "" {
		return nil, errors.New("exchange: an outbox needs a store, a spool, a transport and an owner")
	}
	if cfg.Policy == (RetryPolicy{}) {
		cfg.Policy = DefaultRetryPolicy
	}
	if cfg.Lease == 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Outbox{store: cfg.Store, spool: cfg.Spool, transport: cfg.Transport, owner: cfg.Owner, policy: cfg.Policy, lease: cfg.Lease, now: cfg.Now}, nil
}

// Send signs env, spools its payload (checking it against env's size and
// digest) and stores one outbox entry per recipient. It returns once they
// are durable; delivery happens in DeliverDue.
func (o *Outbox) Send(ctx context.Context, env *Envelope, payload io.Reader) error {
	entries, path, err := o.prepare(env, payload)
	if err != nil {
		return err
	}
	if err := o.store.Enqueue(ctx, entries); err != nil {
		if !errors.Is(err, ErrDuplicate) {
			os.Remove(path)
		}
		return err
	}
	return nil
}

// prepare signs env, spools its payload (checked against env) and returns
// the outbox entries to store, one per recipient, and the spooled path.
func (o *Outbox) prepare(env *Envelope, payload io.Reader) ([]OutboxEntry, string, error) {
	if err := o.transport.Sign(env); err != nil {
		return nil, "", err
	}
	h, err := docdoc.NewHash(env.Payload.Digest.Alg)
	if err != nil {
		return nil, "", err
	}
	checked := &checkedReader{r: io.LimitReader(payload, env.Payload.Size+1), size: env.Payload.Size, h: h, want: env.Payload.Digest.Value}
	path, _, err := o.spool.Write(env.ID+".out", checked)
	if err != nil {
		return nil, "", err
	}
	raw, err := Marshal(env)
	if err != nil {
		os.Remove(path)
		return nil, "", err
	}
	now := o.now()
	entries := make([]OutboxEntry, len(env.Recipients))
	for i, r := range env.Recipients {
		entries[i] = OutboxEntry{MessageID: env.ID, Recipient: r, Envelope: raw, PayloadPath: path, State: StatePending, NextAttempt: now, Created: now}
	}
	return entries, path, nil
}

// DeliverDue claims the entries due now and attempts each once. It returns
// how many it delivered; failures are recorded on the entries, not
// returned, except a store error.
func (o *Outbox) DeliverDue(ctx context.Context, max int) (int, error) {
	entries, err := o.store.Claim(ctx, o.owner, o.now(), o.lease, max)
	if err != nil {
		return 0, err
	}
	delivered := 0
	for _, e := range entries {
		ok, err := o.attempt(ctx, e)
		if err != nil {
			return delivered, err
		}
		if ok {
			delivered++
		}
	}
	return delivered, nil
}

// attempt delivers one claimed entry and records the outcome.
func (o *Outbox) attempt(ctx context.Context, e OutboxEntry) (bool, error) {
	env, err := ParseEnvelopeBytes(e.Envelope)
	if err != nil {
		return false, o.store.Dead(ctx, e, o.owner, "stored envelope is invalid: "+err.Error(), nil, o.now())
	}
	f, err := os.Open(e.PayloadPath)
	if err != nil {
		return false, o.store.Dead(ctx, e, o.owner, "spooled payload is missing: "+err.Error(), nil, o.now())
	}
	receipt, _, sendErr := o.transport.Deliver(ctx, env, e.Recipient, f)
	f.Close()
	if sendErr == nil {
		raw, err := Marshal(receipt)
		if err != nil {
			return false, err
		}
		return true, o.store.Delivered(ctx, e, o.owner, raw, o.now())
	}
	var se *SendError
	permanent := errors.As(sendErr, &se) && !se.Temporary() || errors.Is(sendErr, ErrUnknownRecipient)
	if permanent || e.Attempts+1 >= o.policy.Attempts {
		why := sendErr.Error()
		if !permanent {
			why = fmt.Sprintf("gave up after %d attempts: %s", e.Attempts+1, why)
		}
		var receipt []byte // the refusal's verified negative receipt, as evidence
		if se != nil && se.Receipt != nil {
			if receipt, err = json.Marshal(se.Problem.Receipt); err != nil {
				return false, err
			}
		}
		return false, o.store.Dead(ctx, e, o.owner, why, receipt, o.now())
	}
	return false, o.store.Retry(ctx, e, o.owner, o.now().Add(o.policy.delay(e.Attempts)), sendErr.Error(), o.now())
}

// Run delivers due entries every interval until ctx ends.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := o.DeliverDue(ctx, 100)
			if err != nil {
				return err
			}
			if n < 100 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// State returns a message's outbox entries, one per recipient: pending
// (with attempts and the last error), delivered (with the receipt) or
// dead (with the reason and, when a final refusal came with one, the
// recipient's negative receipt: see [ParseSignedReceipt]).
func (o *Outbox) State(ctx context.Context, messageID string) ([]OutboxEntry, error) {
	return o.store.Outbox(ctx, messageID)
}

// ReadPayload opens an accepted message's spooled payload.
func ReadPayload(e InboxEntry) (io.ReadCloser, error) {
	return os.Open(e.PayloadPath)
}
