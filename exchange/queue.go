package exchange

import (
	"bytes"
	"context"
	"encoding/json"
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

// Receive implements [Receiver]. A message id stored already is a
// duplicate when its envelope is the one stored (a retry: the sender gets
// its receipt again); with another envelope it is refused
// (exchange.refused.replayed-id), so that a receipt never acknowledges
// bytes the node did not keep.
func (in *Inbox) Receive(ctx context.Context, env *Envelope, payload io.Reader) (bool, error) {
	if dup, err := storedAlready(ctx, in.store, env); dup || err != nil {
		return dup, err
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
		// The same id, delivered twice at once: the first row stands (with
		// its own spool file), and this copy is a duplicate only if it is
		// the same envelope.
		if path != "" {
			os.Remove(path)
		}
		return storedAlready(ctx, in.store, env)
	}
	if err != nil && path != "" {
		os.Remove(path)
	}
	return false, err
}

// ErrReplayedID is the reason for refusing a message whose id is stored
// with another envelope.
var ErrReplayedID = errors.New("exchange: another message with this id is stored")

// storedAlready reports whether env's id is in the store's inbox with
// this very envelope (true: a duplicate), refuses it when the stored
// envelope differs, and reports false when the id is new.
func storedAlready(ctx context.Context, store Store, env *Envelope) (bool, error) {
	stored, err := store.Inbox(ctx, env.ID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	raw, err := Marshal(env)
	if err != nil {
		return false, err
	}
	have, err := envelopeDigest(stored.Envelope)
	if err != nil {
		return false, fmt.Errorf("exchange: stored envelope of %s: %w", env.ID, err)
	}
	got, err := envelopeDigest(raw)
	if err != nil {
		return false, err
	}
	if have != got {
		return false, refuse("exchange.refused.replayed-id", ErrReplayedID,
			"message id %s is stored with another envelope (SHA-256 %s, this one %s); expected a new id for a new message, or the same envelope again", env.ID, have, got)
	}
	return true, nil
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
// the message is stored; [Outbox.Run] (or [Outbox.DeliverDue]) delivers
// stored messages with retries and dead-letters those it gives up on, where
// [Outbox.State] shows them. Deliveries run concurrently, up to
// OutboxConfig.Concurrency at once, so that many documents share the
// sender's and the receiver's group commits.
//
// While Run runs, Send stores a message already leased to this outbox
// and starts its first attempt at once, when a delivery slot is free: no
// poll and no separate claim. A message sent when every slot is taken, a
// retry, and a message whose process died before delivering it are
// claimed from the store (the last once its lease has ended).
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

	slots    chan struct{}                   // one token per delivery in flight
	inflight sync.WaitGroup                  // deliveries started by Run or Send
	running  atomic.Pointer[context.Context] // Run's context while it runs
	runMu    sync.RWMutex                    // Send holds it to start deliveries; Run's end takes it
	backlog  atomic.Bool                     // entries may be due that no slot took
	errs     chan error                      // store errors of deliveries started by Run or Send
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
	// Lease is how long a claimed entry is this worker's; 2 minutes when
	// zero. It must be longer than a delivery attempt takes, or another
	// worker may attempt the entry too (the recipient's inbox then
	// recognises the duplicate).
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
		concurrency: cfg.Concurrency, onDone: cfg.OnDone, wake: make(chan struct{}, 1),
		slots: make(chan struct{}, cfg.Concurrency), errs: make(chan error, cfg.Concurrency)}, nil
}

// signal tells a running outbox that entries may be due.
func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// trySlot takes a delivery slot if one is free.
func (o *Outbox) trySlot() bool {
	select {
	case o.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

// start runs the first or next attempt of a leased entry in the slot it
// holds; env is the entry's envelope when the caller has it parsed.
func (o *Outbox) start(ctx context.Context, e OutboxEntry, env *Envelope) {
	o.inflight.Go(func() {
		defer func() {
			<-o.slots
			if o.backlog.Load() {
				o.signal() // a slot is free for what is waiting
			}
		}()
		if _, err := o.attempt(ctx, e, env); err != nil && ctx.Err() == nil {
			select {
			case o.errs <- err:
			default:
			}
		}
	})
}

// Send signs env, spools its payload (checking it against env's size and
// digest) and stores one outbox entry per recipient. It returns once they
// are durable; delivery happens in Run (at once, when it runs and a slot
// is free) or DeliverDue.
func (o *Outbox) Send(ctx context.Context, env *Envelope, payload io.Reader) error {
	entries, path, err := o.prepare(env, payload)
	if err != nil {
		return err
	}
	// Lease to this outbox, while it runs, the entries it has slots for.
	// Holding runMu, Send starts their deliveries before Run can end.
	o.runMu.RLock()
	defer o.runMu.RUnlock()
	var runCtx context.Context
	leased := 0
	if p := o.running.Load(); p != nil {
		runCtx = *p
		until := o.now().Add(o.lease)
		for leased < len(entries) && o.trySlot() {
			entries[leased].LeaseOwner, entries[leased].LeaseUntil = o.owner, until
			leased++
		}
	}
	if err := o.store.Enqueue(ctx, entries); err != nil {
		for range leased {
			<-o.slots
		}
		if path != "" {
			os.Remove(path) // this write's own file; a stored duplicate has its own
		}
		return err
	}
	for _, e := range entries[:leased] {
		o.start(runCtx, e, env)
	}
	if leased < len(entries) {
		o.backlog.Store(true)
		o.signal()
	}
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

// DeliverDue delivers up to max entries due now, each attempted once, up
// to the configured concurrency at a time (sharing the slots of a running
// Run), and returns when all have ended. It claims a round of entries at
// a time, no more than it can attempt at once, so that no claimed entry
// waits for a slot while its lease runs. It returns how many it
// delivered; failures are recorded on the entries, not returned, except a
// store error (the first one).
func (o *Outbox) DeliverDue(ctx context.Context, max int) (int, error) {
	delivered := 0
	for max > 0 {
		n := min(max, o.concurrency)
		entries, err := o.store.Claim(ctx, o.owner, o.now(), o.lease, n)
		if err != nil {
			return delivered, err
		}
		var (
			mu    sync.Mutex
			first error
			wg    sync.WaitGroup
		)
		for _, e := range entries {
			o.slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-o.slots }()
				ok, err := o.attempt(ctx, e, nil)
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
		if first != nil || len(entries) < n {
			return delivered, first
		}
		max -= n
	}
	return delivered, nil
}

// attempt delivers one claimed entry and records the outcome; env is its
// parsed envelope, or nil to parse the stored one.
func (o *Outbox) attempt(ctx context.Context, e OutboxEntry, env *Envelope) (bool, error) {
	if env == nil {
		var err error
		if env, err = ParseEnvelopeBytes(e.Envelope); err != nil {
			return false, o.dead(ctx, e, "stored envelope is invalid: "+err.Error(), nil)
		}
	}
	f, err := openPayload(e.Payload, e.PayloadPath)
	if err != nil {
		return false, o.dead(ctx, e, "spooled payload is missing: "+err.Error(), nil)
	}
	receipt, _, _, sendErr := o.transport.deliver(ctx, env, e.Recipient, f)
	f.Close()
	if sendErr == nil {
		raw, err := json.Marshal(receipt) // envelope and payload: the evidence
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
		var receipt []byte // the refusal's verified negative receipt, as evidence
		if se != nil && se.Receipt != nil {
			if receipt, err = json.Marshal(se.Problem.Receipt); err != nil {
				return false, err
			}
		}
		return false, o.dead(ctx, e, why, receipt)
	}
	return false, o.store.Retry(ctx, e, o.owner, o.now().Add(o.policy.delay(e.Attempts)), sendErr.Error(), o.now())
}

// dead dead-letters a claimed entry, with the refusal's negative receipt
// when there is one, and reports it.
func (o *Outbox) dead(ctx context.Context, e OutboxEntry, why string, receipt []byte) error {
	if err := o.store.Dead(ctx, e, o.owner, why, receipt, o.now()); err != nil {
		return err
	}
	if o.onDone != nil {
		e.State, e.LastError, e.Receipt, e.Attempts = StateDead, why, receipt, e.Attempts+1
		o.onDone(e)
	}
	return nil
}

// Run delivers entries until ctx ends, and returns ctx's error or the
// first store error. It starts a sent message's delivery at once (see
// [Outbox]), claims stored entries as delivery slots free up
// (OutboxConfig.Concurrency of them), and otherwise every interval, when
// retries come due. Deliveries in flight end before it returns.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) error {
	return o.serve(ctx, interval, func(err error) bool { return false })
}

// serve is Run with a choice on store errors: keep says whether to go on
// or to stop and return err.
func (o *Outbox) serve(ctx context.Context, interval time.Duration, keep func(error) bool) error {
	if interval <= 0 {
		return errors.New("exchange: an outbox runs with a positive interval")
	}
	if !o.running.CompareAndSwap(nil, &ctx) {
		return errors.New("exchange: the outbox is running already")
	}
	defer func() {
		o.runMu.Lock()
		o.running.Store(nil)
		o.runMu.Unlock()
		o.inflight.Wait()
	}()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case err := <-o.errs:
			if !keep(err) {
				return err
			}
		default:
		}
		// Claim as many due entries as there are free slots.
		free := 0
		for free < o.concurrency && o.trySlot() {
			free++
		}
		var entries []OutboxEntry
		var err error
		if free > 0 {
			entries, err = o.store.Claim(ctx, o.owner, o.now(), o.lease, free)
			for range free - len(entries) {
				<-o.slots
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if !keep(err) {
					return err
				}
			}
			for _, e := range entries {
				o.start(ctx, e, nil)
			}
		}
		// With every slot taken, or every free one filled, more may be
		// due: a slot that frees up signals to claim again.
		o.backlog.Store(free == 0 || len(entries) == free)
		if free > 0 && len(entries) == free {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-o.wake:
		case err := <-o.errs:
			if !keep(err) {
				return err
			}
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

// ReadPayload opens an accepted message's payload, inline or spooled.
func ReadPayload(e InboxEntry) (io.ReadCloser, error) {
	return openPayload(e.Payload, e.PayloadPath)
}
