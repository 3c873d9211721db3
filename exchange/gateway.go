package exchange

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
)

// ErrUnknownDocument is returned when a receipt, recall or urge names a document that this
// node has not exchanged with its sender (or not yet: the document may
// still be on its way).
var ErrUnknownDocument = errors.New("exchange: no such document with this peer")

// GatewayConfig configures a [Gateway]. Self, Directory, Verifier, Signer,
// TLSCertificate, Store and Spool are required.
type GatewayConfig struct {
	// Self is this node.
	Self Party
	// Directory holds the operator's directory; Run refreshes it.
	Directory *DirectoryKeeper
	// Verifier checks signatures against the trust anchors.
	Verifier *signature.Verifier
	// Signer signs this node's envelopes and receipts.
	Signer *signature.Signer
	// TLSCertificate is this node's TLS certificate and key.
	TLSCertificate tls.Certificate
	// Store keeps the outbox, inbox, document states and audit log.
	Store Store
	// Spool keeps payloads.
	Spool *Spool
	// Owner names this process in outbox leases; unique per process
	// (Self and a random suffix when empty).
	Owner string
	// Policy is the outbox's retry policy; DefaultRetryPolicy when zero.
	Policy RetryPolicy
	// Lease is how long a claimed outbox entry is this process's.
	Lease time.Duration
	// Concurrency is how many deliveries the outbox runs at once
	// (DefaultConcurrency when zero).
	Concurrency int
	// OnDone, when set, learns each outbox entry's final outcome (see
	// OutboxConfig.OnDone).
	OnDone func(OutboxEntry)
	// Limits bound what the node accepts.
	Limits TransportLimits
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives the outcome of background work; discarded when nil.
	Logger *slog.Logger
	// Decrypter opens the encrypted payloads addressed to this node
	// ([Gateway.OpenPayload]); optional, for a node that receives no
	// classified documents.
	Decrypter *Decrypter
}

// Gateway is one exchange node wired together (交换网关): the directory
// keeper, the transport, the durable inbox and outbox on one store, and the
// document lifecycle: it signs for (签收) and returns (退回) documents it
// received, recalls (撤回) and urges (催办) documents it sent, and handles
// the receipts, recalls and urges its peers send. A department system
// embeds one Gateway, or runs "egovkit gateway".
type Gateway struct {
	cfg       GatewayConfig
	transport *Transport
	inbox     *Inbox
	outbox    *Outbox
	now       func() time.Time
	log       *slog.Logger
	closers   []func() error // what Close releases: the store a GatewayFile opened
}

// NewGateway checks the configuration and returns the gateway.
func NewGateway(cfg GatewayConfig) (*Gateway, error) {
	var missing []string
	if cfg.Directory == nil {
		missing = append(missing, "Directory")
	}
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Spool == nil {
		missing = append(missing, "Spool")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("exchange: gateway configuration lacks %s", strings.Join(missing, ", "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Owner == "" {
		cfg.Owner = cfg.Self.String() + "-" + uuid.NewString()[:8]
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{cfg: cfg, now: cfg.Now, log: cfg.Logger}
	g.inbox = NewInbox(cfg.Store, cfg.Spool, cfg.Now)
	var err error
	g.transport, err = NewTransport(TransportConfig{Self: cfg.Self, Directory: cfg.Directory.Current, Verifier: cfg.Verifier, Signer: cfg.Signer,
		TLSCertificate: cfg.TLSCertificate, Receiver: gatewayReceiver{g}, Now: cfg.Now, Limits: cfg.Limits})
	if err != nil {
		return nil, err
	}
	g.outbox, err = NewOutbox(OutboxConfig{Store: cfg.Store, Spool: cfg.Spool, Transport: g.transport, Owner: cfg.Owner, Policy: cfg.Policy, Lease: cfg.Lease, Now: cfg.Now,
		Concurrency: cfg.Concurrency, OnDone: cfg.OnDone})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Self returns this node.
func (g *Gateway) Self() Party { return g.cfg.Self }

// Transport returns the gateway's transport, to publish data resources on
// ([Transport.Publish]) and call them ([Transport.Call]).
func (g *Gateway) Transport() *Transport { return g.transport }

// Outbox returns the gateway's outbox.
func (g *Gateway) Outbox() *Outbox { return g.outbox }

// Store returns the gateway's store.
func (g *Gateway) Store() Store { return g.cfg.Store }

// Spool returns the gateway's spool.
func (g *Gateway) Spool() *Spool { return g.cfg.Spool }

// Directory returns the gateway's directory keeper.
func (g *Gateway) Directory() *DirectoryKeeper { return g.cfg.Directory }

// Signer returns the signer of the gateway's node: the key and chain it
// signs envelopes and receipts with, which in a department that seals
// with its node's key also seals its documents ([docdoc.Seal]).
func (g *Gateway) Signer() *signature.Signer { return g.cfg.Signer }

// Close closes the transport's idle connections and what the gateway
// opened itself ([GatewayFile.Open] opens the store); a store given in
// GatewayConfig stays the caller's to close. Stop Run and Serve first.
func (g *Gateway) Close() error {
	g.transport.Close()
	var errs []error
	for _, c := range g.closers {
		errs = append(errs, c())
	}
	g.closers = nil
	return errors.Join(errs...)
}

// Handler returns an http.Handler that serves MessagePath, for a server
// that uses [Gateway.ServerTLSConfig].
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle(MessagePath, g.transport.Handler())
	return mux
}

// ServerTLSConfig returns the TLS configuration of the node's server.
func (g *Gateway) ServerTLSConfig() *tls.Config { return g.transport.ServerTLSConfig() }

// Serve serves the message endpoint over mutual TLS on l until ctx ends,
// then shuts the server down, letting requests in flight finish.
func (g *Gateway) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: g.Handler(), TLSConfig: g.ServerTLSConfig(), ReadHeaderTimeout: 30 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(l, "", "") }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-done
	return err
}

// Run does the gateway's background work until ctx ends: it delivers
// outbox entries as they are stored and as retries come due (at least
// every poll interval; see [Outbox.Run]), and refreshes the directory
// every refresh interval. Failures are logged and tried again later, so
// that a database or platform outage does not stop the node. It returns
// nil when ctx ends, once the deliveries in flight have ended.
func (g *Gateway) Run(ctx context.Context, poll, refresh time.Duration) error {
	if poll <= 0 || refresh <= 0 {
		return errors.New("exchange: Run needs positive poll and refresh intervals")
	}
	refreshed := make(chan struct{})
	go func() {
		defer close(refreshed)
		rt := time.NewTicker(refresh)
		defer rt.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-rt.C:
				if err := g.cfg.Directory.Refresh(ctx); err != nil && ctx.Err() == nil {
					g.log.Warn("exchange: refreshing the directory; keeping the edition held", "err", err)
				}
			}
		}
	}()
	defer func() { <-refreshed }()
	_ = g.outbox.serve(ctx, poll, func(err error) bool {
		g.log.Error("exchange: delivering the outbox", "err", err)
		return true
	})
	return nil
}

// DeliverDue delivers the outbox entries due now, once each (see
// [Outbox.DeliverDue]).
func (g *Gateway) DeliverDue(ctx context.Context, max int) (int, error) {
	return g.outbox.DeliverDue(ctx, max)
}

// Send stores a message for sending (see [Outbox.Send]); env's payload
// members must describe payload. A document's states (one per recipient,
// awaiting) are stored with it.
func (g *Gateway) Send(ctx context.Context, env *Envelope, payload io.Reader) error {
	return g.outbox.Send(ctx, env, payload)
}

// SendFile sends the document in the file at path (a docdoc package or
// any payload of mediaType) to the recipients: it computes the file's
// size and SHA-256, builds the envelope, and stores the message,
// streaming the file twice and never holding it in memory.
func (g *Gateway) SendFile(ctx context.Context, to []Party, t docdoc.Type, mediaType, path string) (*Envelope, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, size, err := docdoc.ComputeDigest(f, docdoc.SHA256)
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	env := NewEnvelope(KindDocument, g.cfg.Self, g.now())
	env.Recipients = to
	env.DocumentType = t
	env.Payload = Payload{MediaType: mediaType, Size: size, Digest: d}
	if err := g.Send(ctx, env, f); err != nil {
		return nil, err
	}
	return env, nil
}

// SuiteFor returns the encryption suite that the directory's keys of the
// recipients call for: every recipient needs a key, and all of one kind
// (X25519 or SM2), since they share the content key; otherwise
// ErrNoEncryptionKey.
func SuiteFor(dir *Directory, to []Party) (Suite, error) {
	var suite Suite
	for _, p := range to {
		n := dir.Node(p)
		if n == nil {
			return "", fmt.Errorf("%w: %s", ErrUnknownRecipient, p)
		}
		s := suiteOf(n.EncryptionPublicKey())
		switch {
		case s == "":
			return "", fmt.Errorf("%w: the directory lists no encryption key for %s", ErrNoEncryptionKey, p)
		case suite != "" && s != suite:
			return "", fmt.Errorf("%w: %s has a %s key, other recipients %s keys; send to each kind separately", ErrNoEncryptionKey, p, s, suite)
		}
		suite = s
	}
	return suite, nil
}

// SendEncryptedFile sends the document in the file at path, of media type
// mediaType, encrypted to each recipient ([EncryptPayload], the suite
// their keys call for, see [SuiteFor]): the payload travels and is stored
// as [EncryptedMediaType]. Send a classified document (one whose
// classification is set) this way; the recipient opens it with
// [Gateway.OpenPayload].
func (g *Gateway) SendEncryptedFile(ctx context.Context, to []Party, t docdoc.Type, mediaType, path string) (*Envelope, error) {
	dir, err := g.cfg.Directory.Current()
	if err != nil {
		return nil, err
	}
	suite, err := SuiteFor(dir, to)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(EncryptPayload(pw, f, mediaType, suite, to, dir)) }()
	encPath, _, err := g.cfg.Spool.Write("encrypt-"+uuid.NewString()+".tmp", pr)
	pr.Close()
	if err != nil {
		return nil, err
	}
	defer os.Remove(encPath)
	return g.SendFile(ctx, to, t, EncryptedMediaType, encPath)
}

// OpenPayload opens the payload of a message this node received, and
// returns its media type: an encrypted payload is decrypted with the
// configured Decrypter as it streams (a reader error matching
// ErrEncryptedCorrupt when it was tampered with), any other is read as
// stored.
func (g *Gateway) OpenPayload(ctx context.Context, messageID string) (string, io.ReadCloser, error) {
	in, err := g.cfg.Store.Inbox(ctx, messageID)
	if err != nil {
		return "", nil, err
	}
	env, err := ParseEnvelopeBytes(in.Envelope)
	if err != nil {
		return "", nil, fmt.Errorf("exchange: stored envelope of %s: %w", messageID, err)
	}
	f, err := ReadPayload(in)
	if err != nil {
		return "", nil, err
	}
	if env.Payload.MediaType != EncryptedMediaType {
		return env.Payload.MediaType, f, nil
	}
	if g.cfg.Decrypter == nil {
		f.Close()
		return "", nil, fmt.Errorf("%w: this gateway has no decryption key", ErrNotEncryptedFor)
	}
	mt, r, err := g.cfg.Decrypter.OpenPayload(f)
	if err != nil {
		f.Close()
		return "", nil, err
	}
	return mt, struct {
		io.Reader
		io.Closer
	}{r, f}, nil
}

// receivedDocument returns a received document's state and envelope.
func (g *Gateway) receivedDocument(ctx context.Context, messageID string) (DocumentState, InboxEntry, *Envelope, error) {
	in, err := g.cfg.Store.Inbox(ctx, messageID)
	if err != nil {
		return DocumentState{}, InboxEntry{}, nil, err
	}
	if in.Kind != KindDocument {
		return DocumentState{}, InboxEntry{}, nil, fmt.Errorf("%w: message %s is a %s, not a document", ErrNotFound, messageID, in.Kind)
	}
	env, err := ParseEnvelopeBytes(in.Envelope)
	if err != nil {
		return DocumentState{}, InboxEntry{}, nil, fmt.Errorf("exchange: stored envelope of %s: %w", messageID, err)
	}
	states, err := g.cfg.Store.Documents(ctx, messageID)
	if err != nil {
		return DocumentState{}, InboxEntry{}, nil, err
	}
	for _, st := range states {
		if st.Role == RoleRecipient {
			return st, in, env, nil
		}
	}
	return DocumentState{}, InboxEntry{}, nil, fmt.Errorf("%w: no received document %s", ErrNotFound, messageID)
}

// SignFor signs for (签收) a document this node received, recording who
// did, and sends the sender a signed receipt saying so through the outbox,
// in the same transaction. A document that was recalled, signed for or
// returned already is refused with a [*LifecycleError]
// (exchange.lifecycle.recalled, exchange.lifecycle.closed).
func (g *Gateway) SignFor(ctx context.Context, messageID string, by Person) (*Envelope, error) {
	return g.answer(ctx, messageID, ActionSignFor, by, "")
}

// Return returns (退回) a document this node received, with the reason
// (required: a [*PayloadError] with rule exchange.receipt.reason-required
// when blank) and, optionally, who returned it (a zero Person for none);
// the sender gets a signed receipt saying so, as for [Gateway.SignFor].
func (g *Gateway) Return(ctx context.Context, messageID string, by Person, reason string) (*Envelope, error) {
	return g.answer(ctx, messageID, ActionReturn, by, reason)
}

func (g *Gateway) answer(ctx context.Context, messageID string, a Action, by Person, reason string) (*Envelope, error) {
	st, in, doc, err := g.receivedDocument(ctx, messageID)
	if err != nil {
		return nil, err
	}
	now := g.now()
	if _, _, err := st.apply(Change{Action: a}, now); err != nil {
		return nil, err // refused before anything is signed or spooled
	}
	at := NewTime(now)
	rc := &Receipt{Status: ReceiptSignedFor, MessageID: messageID, Received: NewTime(in.Received), Digest: doc.Payload.Digest, At: &at, Reason: reason}
	if a == ActionReturn {
		rc.Status = ReceiptReturned
	}
	if by != (Person{}) {
		rc.By = &by
	}
	body, err := MarshalReceipt(rc)
	if err != nil {
		return nil, err
	}
	re := doc.Reply(KindReceipt, g.cfg.Self, now)
	return re, g.change(ctx, re, ReceiptMediaType, body, Change{MessageID: messageID, Role: RoleRecipient, Peers: []Party{doc.Sender}, Action: a, By: by, Reason: reason, At: now})
}

// change signs and spools the message re that carries c and applies c
// with it in one transaction.
func (g *Gateway) change(ctx context.Context, re *Envelope, mediaType string, body []byte, c Change) error {
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(body), docdoc.SHA256)
	if err != nil {
		return err
	}
	re.Payload = Payload{MediaType: mediaType, Size: int64(len(body)), Digest: d}
	entries, path, err := g.outbox.prepare(re, bytes.NewReader(body))
	if err != nil {
		return err
	}
	c.ReplyID, c.Enqueue = re.ID, entries
	if _, err := g.cfg.Store.Change(ctx, c); err != nil {
		if path != "" {
			os.Remove(path)
		}
		return err
	}
	g.outbox.signal()
	return nil
}

// Recall recalls (撤回) a document this node sent, from every recipient
// that has not yet signed for or returned it, with an optional note
// saying why; it returns the recall message, sent through the outbox.
// When no recipient is still awaiting, it is a [*LifecycleError]. A
// recipient that signed for the document before the recall reached it
// answers with its receipt, which then counts.
func (g *Gateway) Recall(ctx context.Context, messageID, note string) (*Envelope, error) {
	return g.notify(ctx, messageID, ActionRecall, note)
}

// Urge urges (催办) every recipient of a document this node sent that has
// not yet signed for or returned it, with an optional note; the recipient
// records the urge.
func (g *Gateway) Urge(ctx context.Context, messageID, note string) (*Envelope, error) {
	return g.notify(ctx, messageID, ActionUrge, note)
}

func (g *Gateway) notify(ctx context.Context, messageID string, a Action, note string) (*Envelope, error) {
	states, err := g.cfg.Store.Documents(ctx, messageID)
	if err != nil {
		return nil, err
	}
	var peers []Party
	var refusal error
	now := g.now()
	for _, st := range states {
		if st.Role != RoleSender {
			continue
		}
		if _, _, err := st.apply(Change{Action: a}, now); err != nil {
			refusal = err
			continue
		}
		peers = append(peers, st.Peer)
	}
	if len(peers) == 0 {
		if refusal == nil {
			refusal = fmt.Errorf("%w: this node sent no document %s", ErrNotFound, messageID)
		}
		return nil, refusal
	}
	out, err := g.cfg.Store.Outbox(ctx, messageID)
	if err != nil {
		return nil, err
	}
	doc, err := ParseEnvelopeBytes(out[0].Envelope)
	if err != nil {
		return nil, fmt.Errorf("exchange: stored envelope of %s: %w", messageID, err)
	}
	body, err := MarshalNotice(&Notice{MessageID: messageID, Note: note})
	if err != nil {
		return nil, err
	}
	env := NewEnvelope(a.Kind(), g.cfg.Self, now)
	env.ConversationID, env.ReplyTo, env.Recipients = doc.ConversationID, doc.ID, peers
	return env, g.change(ctx, env, NoticeMediaType, body, Change{MessageID: messageID, Role: RoleSender, Peers: peers, Action: a, Reason: note, At: now})
}

// RecipientState is the state of a message this node sent, at one
// recipient: its delivery (the outbox entry) and, for a document, its
// business state.
type RecipientState struct {
	Recipient Party
	// Delivery is StatePending, StateDelivered or StateDead, with the
	// attempts made and the last error (the dead letter's reason).
	Delivery  string
	Attempts  int
	LastError string
	// DeliveryReceipt is the recipient's signed delivery receipt (送达回执)
	// as verified on delivery, once delivered; its Created is when.
	DeliveryReceipt *Envelope
	// Acknowledgement is the delivery receipt's payload: the message id,
	// the payload digest the recipient received and when. Nil for an
	// entry stored before receipts were kept whole.
	Acknowledgement *Receipt
	// RefusalReceipt is the recipient's signed negative receipt (拒收回执)
	// as verified when it refused the message for good, for an entry
	// dead-lettered on that refusal; Refusal is its payload (the rule, the
	// reason, the envelope's digest). Nil otherwise.
	RefusalReceipt *Envelope
	Refusal        *Receipt
	// Document is the business state, for a document.
	Document DocumentState
}

// State summarises the recipient's state in one word: stored (not yet
// delivered), delivered (with a delivery receipt), signedFor, returned,
// recalled, or dead (dead-lettered; LastError says why).
func (r RecipientState) State() string {
	switch r.Document.Status {
	case StatusSignedFor, StatusReturned, StatusRecalled:
		return string(r.Document.Status)
	}
	switch r.Delivery {
	case StateDelivered:
		return StateDelivered
	case StateDead:
		return StateDead
	}
	return "stored"
}

// Sent returns the state of a message this node sent at each recipient.
func (g *Gateway) Sent(ctx context.Context, messageID string) ([]RecipientState, error) {
	entries, err := g.cfg.Store.Outbox(ctx, messageID)
	if err != nil {
		return nil, err
	}
	docs := map[Party]DocumentState{}
	if states, err := g.cfg.Store.Documents(ctx, messageID); err == nil {
		for _, st := range states {
			if st.Role == RoleSender {
				docs[st.Peer] = st
			}
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	out := make([]RecipientState, len(entries))
	for i, e := range entries {
		out[i] = RecipientState{Recipient: e.Recipient, Delivery: e.State, Attempts: e.Attempts, LastError: e.LastError, Document: docs[e.Recipient]}
		switch {
		case len(e.Receipt) == 0:
		case e.State == StateDead:
			_, re, rc, err := ParseSignedReceipt(e.Receipt)
			if err != nil {
				return nil, fmt.Errorf("exchange: stored negative receipt of %s to %s: %w", messageID, e.Recipient, err)
			}
			out[i].RefusalReceipt, out[i].Refusal = re, rc
		default:
			re, rc, err := openDeliveryReceipt(e.Receipt)
			if err != nil {
				return nil, fmt.Errorf("exchange: stored delivery receipt of %s to %s: %w", messageID, e.Recipient, err)
			}
			out[i].DeliveryReceipt, out[i].Acknowledgement = re, rc
		}
	}
	return out, nil
}

// openDeliveryReceipt reads a stored delivery receipt: a SignedReceipt,
// or the envelope alone as entries stored before receipts were kept whole
// hold it (no payload then).
func openDeliveryReceipt(raw []byte) (*Envelope, *Receipt, error) {
	_, re, rc, err := ParseSignedReceipt(raw)
	if err == nil {
		return re, rc, nil
	}
	if re, perr := ParseEnvelopeBytes(raw); perr == nil && re.Kind == KindReceipt {
		return re, nil, nil
	}
	return nil, nil, err
}

// ReceivedDocument is the state of a document this node received.
type ReceivedDocument struct {
	// Document is its business state; Peer is its sender.
	Document DocumentState
	// Envelope is the document's verified envelope; [Gateway.OpenPayload]
	// opens its payload.
	Envelope *Envelope
	Received time.Time
	// Reply is the delivery of the receipt this node sent when it signed
	// for or returned the document, one entry per recipient (the sender).
	Reply []OutboxEntry
}

// Received returns the state of a document this node received.
func (g *Gateway) Received(ctx context.Context, messageID string) (ReceivedDocument, error) {
	st, in, env, err := g.receivedDocument(ctx, messageID)
	if err != nil {
		return ReceivedDocument{}, err
	}
	rd := ReceivedDocument{Document: st, Envelope: env, Received: in.Received}
	if st.ReplyID != "" && (st.Status == StatusSignedFor || st.Status == StatusReturned) {
		rd.Reply, err = g.cfg.Store.Outbox(ctx, st.ReplyID)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return ReceivedDocument{}, err
		}
	}
	return rd, nil
}

// gatewayReceiver is a Gateway's [Receiver]: documents and data requests
// go to the inbox; receipts, recalls and urges change documents' states.
type gatewayReceiver struct{ g *Gateway }

func (r gatewayReceiver) Receive(ctx context.Context, env *Envelope, payload io.Reader) (bool, error) {
	switch env.Kind {
	case KindReceipt, KindRecall, KindUrge:
		return r.g.receiveLifecycle(ctx, env, payload)
	}
	return r.g.inbox.Receive(ctx, env, payload)
}

func refusePayload(rule, format string, args ...any) error {
	return refuse(rule, ErrInvalidPayload, format, args...)
}

// receiveLifecycle records a receipt, recall or urge from a peer.
func (g *Gateway) receiveLifecycle(ctx context.Context, env *Envelope, payload io.Reader) (bool, error) {
	if dup, err := storedAlready(ctx, g.cfg.Store, env); dup || err != nil {
		return dup, err
	}
	want := NoticeMediaType
	if env.Kind == KindReceipt {
		want = ReceiptMediaType
	}
	if env.Payload.MediaType != want {
		return false, refusePayload("exchange.refused.lifecycle-media-type", "a %s carries %s; expected %s", env.Kind, env.Payload.MediaType, want)
	}
	if env.Payload.Size > MaxLifecyclePayload {
		return false, refusePayload("exchange.refused.payload-size", "a %s payload of %d bytes; expected at most %d", env.Kind, env.Payload.Size, MaxLifecyclePayload)
	}
	body, err := io.ReadAll(payload)
	if err != nil {
		return false, err
	}
	c := Change{MessageID: env.ReplyTo, Peers: []Party{env.Sender}, ReplyID: env.ID}
	var about string
	switch env.Kind {
	case KindReceipt:
		rc, err := ParseReceipt(body)
		if err != nil {
			return false, refusePayload("exchange.refused.receipt", "%v", err)
		}
		switch rc.Status {
		case ReceiptSignedFor:
			c.Action = ActionSignFor
		case ReceiptReturned:
			c.Action = ActionReturn
		default:
			return false, refusePayload("exchange.refused.receipt", "a %s receipt sent as a message; expected signedFor or returned (a delivery receipt answers the document's request)", rc.Status)
		}
		if rc.MessageID != env.ReplyTo {
			return false, refusePayload("exchange.refused.reply-to", "the receipt is about %s, the envelope answers %s; expected the same message", rc.MessageID, env.ReplyTo)
		}
		if err := g.checkReceiptDigest(ctx, rc, env.Sender); err != nil {
			return false, err
		}
		c.Role, about, c.At, c.Reason = RoleSender, rc.MessageID, rc.At.Time, rc.Reason
		if rc.By != nil {
			c.By = *rc.By
		}
	default:
		n, err := ParseNotice(body)
		if err != nil {
			return false, refusePayload("exchange.refused.notice", "%v", err)
		}
		c.Action = ActionRecall
		if env.Kind == KindUrge {
			c.Action = ActionUrge
		}
		c.Role, about, c.At, c.Reason = RoleRecipient, n.MessageID, env.Created.Time, n.Note
	}
	if about != env.ReplyTo {
		return false, refusePayload("exchange.refused.reply-to", "the payload is about %s, the envelope answers %s; expected the same message", about, env.ReplyTo)
	}
	raw, err := Marshal(env)
	if err != nil {
		return false, err
	}
	// MaxLifecyclePayload ≤ InlinePayloadMax: the body is kept inline.
	c.Received = &InboxEntry{MessageID: env.ID, Sender: env.Sender, Kind: env.Kind, Envelope: raw, Payload: body, Received: g.now()}
	_, err = g.cfg.Store.Change(ctx, c)
	switch {
	case errors.Is(err, ErrDuplicate):
		return storedAlready(ctx, g.cfg.Store, env)
	case errors.Is(err, ErrNotFound):
		return false, refuse("exchange.refused.unknown-document", ErrUnknownDocument, "%s %s: %v", env.Kind, env.ID, err)
	}
	return false, err
}

// checkReceiptDigest checks that a receipt acknowledges the bytes this
// node sent to its sender.
func (g *Gateway) checkReceiptDigest(ctx context.Context, rc *Receipt, from Party) error {
	entries, err := g.cfg.Store.Outbox(ctx, rc.MessageID)
	if errors.Is(err, ErrNotFound) {
		return refuse("exchange.refused.unknown-document", ErrUnknownDocument, "receipt for %s, which this node did not send", rc.MessageID)
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Recipient != from {
			continue
		}
		doc, err := ParseEnvelopeBytes(e.Envelope)
		if err != nil {
			return err
		}
		if doc.Payload.Digest != rc.Digest {
			return refusePayload("exchange.refused.receipt-digest", "the receipt acknowledges digest %s, the document sent has %s", rc.Digest.Value, doc.Payload.Digest.Value)
		}
		return nil
	}
	return refuse("exchange.refused.unknown-document", ErrUnknownDocument, "receipt for %s from %s, which is not its recipient", rc.MessageID, from)
}
