package exchange

import (
	"context"
	"errors"
	"time"
)

// Delivery states of an outbox entry.
const (
	StatePending   = "pending"   // waiting for (another) delivery attempt
	StateDelivered = "delivered" // the recipient's delivery receipt is stored
	StateDead      = "dead"      // given up after the last attempt: dead-lettered, visibly
)

// OutboxEntry is one message to one recipient node.
type OutboxEntry struct {
	MessageID string
	Recipient Party
	Envelope  []byte // the signed envelope, sent as it is on every attempt
	// The payload is either held inline (Payload, for payloads of at most
	// InlinePayloadMax bytes, which the store's commit makes durable) or
	// spooled (PayloadPath, a file that was synced before the entry was
	// stored).
	Payload     []byte
	PayloadPath string
	State       string
	// LeaseOwner holds the entry until LeaseUntil, while it attempts it
	// (empty when no one does). An entry given to Enqueue with a lease is
	// stored already claimed, by the outbox that attempts it at once.
	LeaseOwner  string
	LeaseUntil  time.Time
	Attempts    int
	NextAttempt time.Time
	LastError   string
	// Receipt is the recipient's signed receipt, envelope and payload as
	// they came ([SignedReceipt] JSON, [ParseSignedReceipt]): once
	// delivered, the delivery receipt (送达回执); dead on a refusal, the
	// negative receipt (拒收回执); otherwise nil. (Stores written before
	// receipts were kept whole hold a delivery receipt's envelope alone.)
	Receipt []byte
	Created time.Time
	Updated time.Time
}

// InboxEntry is one accepted message.
type InboxEntry struct {
	MessageID string
	Sender    Party
	Kind      Kind
	Envelope  []byte
	// The payload, inline (Payload) or spooled (PayloadPath), as in
	// [OutboxEntry]; [ReadPayload] opens either.
	Payload     []byte
	PayloadPath string
	Received    time.Time
}

// InlinePayloadMax is the largest payload an outbox or inbox keeps in the
// store itself rather than in a spool file. An inline payload is durable
// with the row that holds it, so a small message costs no file sync of its
// own and shares its store's group commit with other messages; larger
// payloads stream through the spool and are never held in memory.
const InlinePayloadMax = 64 << 10

// Store errors.
var (
	// ErrDuplicate: a message id (with recipient, in the outbox) already stored.
	ErrDuplicate = errors.New("exchange: message already stored")
	// ErrLeaseLost: the entry was claimed by another worker, or its lease expired.
	ErrLeaseLost = errors.New("exchange: the delivery lease was lost")
	// ErrNotFound: no such message.
	ErrNotFound = errors.New("exchange: no such message")
)

// Store keeps a node's outbox and inbox durably: a call that returns nil
// has committed. Several processes may share one store; claims are leases,
// so each pending entry is attempted by one worker at a time, and an
// entry whose worker died is claimed again when its lease ends.
type Store interface {
	// Enqueue adds outbox entries (one per recipient) in one transaction;
	// ErrDuplicate if any message id and recipient is already stored.
	Enqueue(ctx context.Context, entries []OutboxEntry) error
	// Claim leases up to max pending entries due at now to owner until
	// now+lease, oldest due first.
	Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, max int) ([]OutboxEntry, error)
	// Delivered records the delivery receipt of a claimed entry, as
	// [SignedReceipt] JSON.
	Delivered(ctx context.Context, e OutboxEntry, owner string, receipt []byte, now time.Time) error
	// Retry records a failed attempt and when to try again.
	Retry(ctx context.Context, e OutboxEntry, owner string, next time.Time, lastErr string, now time.Time) error
	// Dead dead-letters a claimed entry. receipt is nil, or the JSON of
	// the recipient's verified negative receipt ([SignedReceipt]) when a
	// final refusal came with one: it is kept in OutboxEntry.Receipt as
	// evidence and appended to the audit log (AuditReceipt, the digest of
	// its envelope) in the same transaction.
	Dead(ctx context.Context, e OutboxEntry, owner string, lastErr string, receipt []byte, now time.Time) error
	// Outbox returns the entries of a message, one per recipient.
	Outbox(ctx context.Context, messageID string) ([]OutboxEntry, error)
	// Accept stores an inbox entry; ErrDuplicate if its id is stored.
	Accept(ctx context.Context, e InboxEntry) error
	// Inbox returns an inbox entry, or ErrNotFound.
	Inbox(ctx context.Context, messageID string) (InboxEntry, error)
	// Change applies a lifecycle change of a document (see [Change]) in one
	// transaction with the message that carries or brought it, and returns
	// the states after it. The states of the document with c.Peers must
	// exist (ErrNotFound otherwise); an action that a state does not allow
	// is a [*LifecycleError] for a change this node makes, and nothing is
	// stored. With c.Received, ErrDuplicate when the message is stored
	// already, and nothing changes.
	Change(ctx context.Context, c Change) ([]DocumentState, error)
	// Documents returns the states of a document, one per peer, or
	// ErrNotFound. Enqueue creates them, awaiting, for a document this node
	// sends (one per recipient); Accept creates one for a document it
	// receives.
	Documents(ctx context.Context, messageID string) ([]DocumentState, error)
	// ListDocuments returns up to limit document states of a role, the
	// newest document first.
	ListDocuments(ctx context.Context, role Role, limit int) ([]DocumentState, error)
	// Audit returns the audit log, in order. Enqueue, Accept, Delivered,
	// Dead with a receipt, and Change append to it in the same transaction as the change they
	// record.
	Audit(ctx context.Context) ([]AuditEntry, error)
	// Close releases the store.
	Close() error
}
