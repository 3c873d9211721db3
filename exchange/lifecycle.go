package exchange

import (
	"errors"
	"fmt"
	"time"
)

// Role says on which side of a document a node keeps its state.
type Role string

// Roles.
const (
	RoleSender    Role = "sent"     // this node sent the document; the peer is a recipient
	RoleRecipient Role = "received" // this node received the document; the peer is its sender
)

// DocStatus is the business state of a document between its sender and
// one recipient (公文状态).
type DocStatus string

// Document statuses. A document starts awaiting; signedFor, returned and
// recalled are final, except that a recipient's receipt that reaches the
// sender after the sender recalled the document still counts: the
// recipient refuses to sign for a document once it holds the recall, so
// such a receipt was made before.
const (
	StatusAwaiting  DocStatus = "awaiting"  // 待签收: not yet signed for or returned
	StatusSignedFor DocStatus = "signedFor" // 已签收
	StatusReturned  DocStatus = "returned"  // 已退回
	StatusRecalled  DocStatus = "recalled"  // 已撤回
)

// Action is a change of a document's state.
type Action string

// Actions, and the message kind that carries each.
const (
	ActionSignFor Action = "signFor" // 签收, by the recipient: a receipt
	ActionReturn  Action = "return"  // 退回, by the recipient: a receipt
	ActionRecall  Action = "recall"  // 撤回, by the sender: a recall
	ActionUrge    Action = "urge"    // 催办, by the sender: an urge
)

// Kind returns the message kind that carries the action.
func (a Action) Kind() Kind {
	switch a {
	case ActionRecall:
		return KindRecall
	case ActionUrge:
		return KindUrge
	}
	return KindReceipt
}

// DocumentState is what a node knows of one document and one peer: on the
// sending side, one per recipient; on the receiving side, one, with the
// sender as peer.
type DocumentState struct {
	MessageID    string
	Role         Role
	Peer         Party
	DocumentType string
	Status       DocStatus
	By           Person    // who signed for or returned it
	Reason       string    // why it was returned, or recalled
	At           time.Time // when it was signed for, returned or recalled
	ReplyID      string    // the receipt or recall message that carried the change
	Urges        int       // urges sent (sender) or received (recipient)
	LastUrged    time.Time
	Created      time.Time
	Updated      time.Time
}

// Change is one lifecycle change of a document, for [Store.Change]: an
// action on the states of the document with some peers, applied in one
// transaction with the message that carries it (Enqueue, when this node
// acts) or that brought it (Received, when a peer acted).
type Change struct {
	MessageID string
	Role      Role
	Peers     []Party
	Action    Action
	By        Person
	Reason    string
	At        time.Time
	// ReplyID is the id of the message that carries or brought the change.
	ReplyID string
	// Enqueue are the outbox entries of the message this node sends.
	Enqueue []OutboxEntry
	// Received is the message a peer sent. A change it brings that no
	// longer applies (a recall of a document already signed for, say)
	// leaves the state as it is, but the message is still accepted and
	// audited, so that its sender is answered and does not retry.
	Received *InboxEntry
}

// ErrLifecycle matches every [*LifecycleError].
var ErrLifecycle = errors.New("exchange: the document's state does not allow this")

// LifecycleError is an action that a document's state does not allow,
// with a stable rule id.
type LifecycleError struct {
	Rule      string
	MessageID string
	Peer      Party
	Status    DocStatus
	Action    Action
}

// Error implements error.
func (e *LifecycleError) Error() string {
	return fmt.Sprintf("exchange: %s: document %s with %s is %s; %s is not possible", e.Rule, e.MessageID, e.Peer, e.Status, e.Action)
}

// Is reports whether target is [ErrLifecycle].
func (e *LifecycleError) Is(target error) bool { return target == ErrLifecycle }

// apply computes the state after c. applied is false when the change does
// not apply; err says why for a change this node makes (a received one is
// then recorded without changing the state).
func (st DocumentState) apply(c Change, now time.Time) (next DocumentState, applied bool, err error) {
	refuse := func(rule string) (DocumentState, bool, error) {
		if c.Received != nil {
			return st, false, nil
		}
		return st, false, &LifecycleError{Rule: rule, MessageID: st.MessageID, Peer: st.Peer, Status: st.Status, Action: c.Action}
	}
	wantRole := RoleRecipient
	if c.Action == ActionRecall || c.Action == ActionUrge {
		wantRole = RoleSender
	}
	if c.Received != nil {
		// A peer's action is recorded on the other side.
		if wantRole == RoleSender {
			wantRole = RoleRecipient
		} else {
			wantRole = RoleSender
		}
	}
	if st.Role != wantRole {
		return st, false, &LifecycleError{Rule: "exchange.lifecycle.role", MessageID: st.MessageID, Peer: st.Peer, Status: st.Status, Action: c.Action}
	}
	next = st
	next.Updated = now
	switch st.Status {
	case StatusAwaiting:
	case StatusRecalled:
		late := c.Received != nil && (c.Action == ActionSignFor || c.Action == ActionReturn)
		if !late {
			return refuse("exchange.lifecycle.recalled")
		}
	default:
		return refuse("exchange.lifecycle.closed")
	}
	switch c.Action {
	case ActionSignFor:
		next.Status, next.By, next.Reason = StatusSignedFor, c.By, ""
	case ActionReturn:
		next.Status, next.By, next.Reason = StatusReturned, c.By, c.Reason
	case ActionRecall:
		next.Status, next.By, next.Reason = StatusRecalled, Person{}, c.Reason
	case ActionUrge:
		next.Urges++
		next.LastUrged = c.At
		return next, true, nil
	default:
		return st, false, fmt.Errorf("exchange: unknown lifecycle action %q", c.Action)
	}
	next.At, next.ReplyID = c.At, c.ReplyID
	return next, true, nil
}
