package exchange

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
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
	body, path, err := keepPayload(in.spool, env.ID+".in", env.Payload.Size, payload)
	if err != nil {
		return false, err
	}
	raw, err := Marshal(env)
	if err != nil {
		return false, err
	}
	err = in.store.Accept(ctx, InboxEntry{MessageID: env.ID, Sender: env.Sender, Kind: env.Kind, Envelope: raw, Payload: body, PayloadPath: path, Received: in.now()})
	if errors.Is(err, ErrDuplicate) {
		// The same message, delivered twice at once: its payload was checked
		// against the same digest, so the file the first row names is the
		// same bytes.
		return true, nil
	}
	if err != nil && path != "" {
		os.Remove(path)
	}
	return false, err
}

// keepPayload reads a payload of size bytes whole when it is small enough
// to be stored inline (InlinePayloadMax), or streams it into the spool as
// name; exactly one of body and path is set. Reading r to its end is what
// checks a payload against its envelope, so an inline payload is read
// one byte past size.
func keepPayload(spool *Spool, name string, size int64, r io.Reader) (body []byte, path string, err error) {
	if size <= InlinePayloadMax {
		body = make([]byte, 0, size)
		buf := bytes.NewBuffer(body)
		if _, err := buf.ReadFrom(r); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), "", nil
	}
	path, _, err = spool.Write(name, r)
	return nil, path, err
}

// openPayload opens an entry's payload, inline or spooled.
func openPayload(inline []byte, path string) (io.ReadCloser, error) {
	if path == "" {
		return io.NopCloser(bytes.NewReader(inline)), nil
	}
	return os.Open(path)
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
// [Outbox.State] shows them. Deliveries run concurrently, up to
// OutboxConfig.Concurrency at once, so that many documents share the
// sender's and the receiver's group commits.
type Outbox struct {
	store       Store
	spool       *Spool
	transport   *Transport
	owner       string
	policy      RetryPolicy
	lease       time.Duration
	now         func() time.Time
	concurrency int
	onDone      func(OutboxEntry)
	wake        chan struct{}
}

// DefaultConcurrency is how many deliveries an outbox runs at once when
// OutboxConfig.Concurrency is zero.
const DefaultConcurrency = 32

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
	// Concurrency is how many deliveries run at once; DefaultConcurrency
	// when zero.
	Concurrency int
	// OnDone, when set, is called after the outcome of a delivery is
	// stored: the entry as stored, with State StateDelivered (and the
	// receipt) or StateDead (and LastError). It runs on the delivering
	// goroutine, so it must return quickly. Retries are not reported.
	OnDone func(OutboxEntry)
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
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	return &Outbox{store: cfg.Store, spool: cfg.Spool, transport: cfg.Transport, owner: cfg.Owner, policy: cfg.Policy, lease: cfg.Lease, now: cfg.Now,
		concurrency: cfg.Concurrency, onDone: cfg.OnDone, wake: make(chan struct{}, 1)}, nil
}

// signal tells a running outbox that entries may be due.
func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
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
		if !errors.Is(err, ErrDuplicate) && path != "" {
			os.Remove(path)
		}
		return err
	}
	o.signal()
	return nil
}

// prepare signs env, keeps its payload (checked against env) inline or in
// the spool, and returns the outbox entries to store, one per recipient,
// and the spooled path ("" for an inline payload).
func (o *Outbox) prepare(env *Envelope, payload io.Reader) ([]OutboxEntry, string, error) {
	if err := o.transport.Sign(env); err != nil {
		return nil, "", err
	}
	h, err := docdoc.NewHash(env.Payload.Digest.Alg)
	if err != nil {
		return nil, "", err
	}
	checked := &checkedReader{r: io.LimitReader(payload, env.Payload.Size+1), size: env.Payload.Size, h: h, want: env.Payload.Digest.Value}
	body, path, err := keepPayload(o.spool, env.ID+".out", env.Payload.Size, checked)
	if err != nil {
		return nil, "", err
	}
	raw, err := Marshal(env)
	if err != nil {
		if path != "" {
			os.Remove(path)
		}
		return nil, "", err
	}
	now := o.now()
	entries := make([]OutboxEntry, len(env.Recipients))
	for i, r := range env.Recipients {
		entries[i] = OutboxEntry{MessageID: env.ID, Recipient: r, Envelope: raw, Payload: body, PayloadPath: path, State: StatePending, NextAttempt: now, Created: now}
	}
	return entries, path, nil
}

// DeliverDue claims up to max entries due now and attempts each once, up
// to the configured concurrency at a time, and returns when all have
// ended. It returns how many it delivered; failures are recorded on the
// entries, not returned, except a store error (the first one).
func (o *Outbox) DeliverDue(ctx context.Context, max int) (int, error) {
	entries, err := o.store.Claim(ctx, o.owner, o.now(), o.lease, max)
	if err != nil {
		return 0, err
	}
	var (
		mu        sync.Mutex
		delivered int
		first     error
		wg        sync.WaitGroup
		sem       = make(chan struct{}, o.concurrency)
	)
	for _, e := range entries {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, err := o.attempt(ctx, e)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				delivered++
			}
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	return delivered, first
}

// attempt delivers one claimed entry and records the outcome.
func (o *Outbox) attempt(ctx context.Context, e OutboxEntry) (bool, error) {
	env, err := ParseEnvelopeBytes(e.Envelope)
	if err != nil {
		return false, o.store.Dead(ctx, e, o.owner, "stored envelope is invalid: "+err.Error(), o.now())
	}
	f, err := openPayload(e.Payload, e.PayloadPath)
	if err != nil {
		return false, o.dead(ctx, e, "spooled payload is missing: "+err.Error())
	}
	receipt, _, sendErr := o.transport.Deliver(ctx, env, e.Recipient, f)
	f.Close()
	if sendErr == nil {
		raw, err := Marshal(receipt)
		if err != nil {
			return false, err
		}
		if err := o.store.Delivered(ctx, e, o.owner, raw, o.now()); err != nil {
			return false, err
		}
		if o.onDone != nil {
			e.State, e.Receipt, e.Attempts = StateDelivered, raw, e.Attempts+1
			o.onDone(e)
		}
		return true, nil
	}
	var se *SendError
	permanent := errors.As(sendErr, &se) && !se.Temporary() || errors.Is(sendErr, ErrUnknownRecipient)
	if permanent || e.Attempts+1 >= o.policy.Attempts {
		why := sendErr.Error()
		if !permanent {
			why = fmt.Sprintf("gave up after %d attempts: %s", e.Attempts+1, why)
		}
		return false, o.dead(ctx, e, why)
	}
	return false, o.store.Retry(ctx, e, o.owner, o.now().Add(o.policy.delay(e.Attempts)), sendErr.Error(), o.now())
}

// dead dead-letters a claimed entry and reports it.
func (o *Outbox) dead(ctx context.Context, e OutboxEntry, why string) error {
	if err := o.store.Dead(ctx, e, o.owner, why, o.now()); err != nil {
		return err
	}
	if o.onDone != nil {
		e.State, e.LastError, e.Attempts = StateDead, why, e.Attempts+1
		o.onDone(e)
	}
	return nil
}

// Run delivers due entries until ctx ends, and returns ctx's error or
// the first store error. It claims entries as delivery slots free up
// (OutboxConfig.Concurrency of them), at once when [Outbox.Send] stores a
// message, and otherwise every interval, when retries come due.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) error {
	return o.serve(ctx, interval, func(err error) bool { return false })
}

// serve is Run with a choice on store errors: keep says whether to go on
// (after the next interval) or to stop and return err. Deliveries in
// flight end before serve returns.
func (o *Outbox) serve(ctx context.Context, interval time.Duration, keep func(error) bool) error {
	if interval <= 0 {
		return errors.New("exchange: an outbox runs with a positive interval")
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	var (
		wg    sync.WaitGroup
		slots = make(chan struct{}, o.concurrency)
		errs  = make(chan error, o.concurrency)
	)
	defer wg.Wait()
	// full is set while every slot was taken at the last claim: then a
	// slot that frees up claims again at once, since more may be due.
	var full atomic.Bool
	for {
		select {
		case err := <-errs:
			if !keep(err) {
				return err
			}
		default:
		}
		if free := o.concurrency - len(slots); free > 0 {
			entries, err := o.store.Claim(ctx, o.owner, o.now(), o.lease, free)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if !keep(err) {
					return err
				}
			}
			full.Store(len(entries) == free)
			for _, e := range entries {
				slots <- struct{}{}
				wg.Go(func() {
					defer func() {
						<-slots
						if full.Load() {
							o.signal()
						}
					}()
					if _, err := o.attempt(ctx, e); err != nil && ctx.Err() == nil {
						select {
						case errs <- err:
						default:
						}
					}
				})
			}
			if len(entries) == free && err == nil {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-o.wake:
		case err := <-errs:
			if !keep(err) {
				return err
			}
		}
	}
}

// State returns a message's outbox entries, one per recipient: pending
// (with attempts and the last error), delivered (with the receipt) or
// dead.
func (o *Outbox) State(ctx context.Context, messageID string) ([]OutboxEntry, error) {
	return o.store.Outbox(ctx, messageID)
}

// ReadPayload opens an accepted message's payload, inline or spooled.
func ReadPayload(e InboxEntry) (io.ReadCloser, error) {
	return openPayload(e.Payload, e.PayloadPath)
}
