package approval

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/egovkit/egovkit/signature/jcs"
)

// EventType names what happened to a case. Each command that succeeds
// appends exactly one event; everything else (the next step, the tasks,
// the end of the case) is derived from the events by [Replay].
type EventType string

// Event types, one per command.
const (
	EventStarted             EventType = "started"             // 申请提交
	EventAccepted            EventType = "accepted"            // 受理
	EventRefused             EventType = "refused"             // 不予受理
	EventCorrectionRequested EventType = "correctionRequested" // 补正告知
	EventResubmitted         EventType = "resubmitted"         // 补正后重新提交
	EventApproved            EventType = "approved"            // 同意
	EventRejected            EventType = "rejected"            // 不同意
	EventReturned            EventType = "returned"            // 退回
	EventWithdrawn           EventType = "withdrawn"           // 撤回
	EventTransferred         EventType = "transferred"         // 转交
	EventSignerAdded         EventType = "signerAdded"         // 加签
	EventCommented           EventType = "commented"           // 意见
	EventCopied              EventType = "copied"              // 抄送
	EventUrged               EventType = "urged"               // 催办
	EventExtended            EventType = "extended"            // 延长期限
	EventDecided             EventType = "decided"             // 决定
)

// IsDecision reports whether events of this type decide something (a
// vote, a refusal, a final decision) and so may carry a signature.
func (t EventType) IsDecision() bool {
	switch t {
	case EventAccepted, EventRefused, EventApproved, EventRejected, EventReturned, EventDecided, EventExtended:
		return true
	}
	return false
}

// Event is one entry of a case's append-only log (办件日志). Seq counts
// from 1 and is the case's version once the event is applied. PrevHash is
// the Hash of the event before (empty for the first), so the log is a hash
// chain: see [Event.Canonical] and [VerifyChain].
type Event struct {
	CaseID         string    `json:"caseId"`
	Seq            int       `json:"seq"`
	Type           EventType `json:"type"`
	Actor          string    `json:"actor"`
	At             time.Time `json:"at"`
	IdempotencyKey string    `json:"key,omitempty"`
	PrevHash       string    `json:"prevHash,omitempty"`
	// Signed says the event carries its actor's signature (Signature). It
	// is part of the canonical encoding, so a signature cannot be removed
	// or added afterwards without breaking the hash chain.
	Signed bool      `json:"signed,omitempty"`
	Data   EventData `json:"data"`

	// Hash is the lowercase hex SHA-256 of Canonical. It is not part of
	// the canonical encoding.
	Hash string `json:"hash"`
	// Signature is a detached JWS (RFC 7515 appendix F: compact
	// serialisation with an empty payload, see [EncodeSignature]) over
	// Canonical, made with the actor's key, on decision events
	// ([EventType.IsDecision]) whose command carried a Signer. It is not
	// part of the canonical encoding (it signs it); Signed is. Stores
	// persist it; [VerifySignatures] checks it.
	Signature string `json:"signature,omitempty"`
}

// EventData holds the facts of an event; which fields are set depends on
// the type.
type EventData struct {
	Definition  *DefinitionRef `json:"definition,omitempty"`  // started
	Department  *Organ         `json:"department,omitempty"`  // started: the handling department chosen at start
	Application map[string]any `json:"application,omitempty"` // started, resubmitted
	Task        string         `json:"task,omitempty"`        // the task acted on
	Step        string         `json:"step,omitempty"`        // the step acted at
	To          string         `json:"to,omitempty"`          // returned: target step; transferred: new user
	ToApplicant bool           `json:"toApplicant,omitempty"` // returned to the applicant (退回申请人)
	Users       []string       `json:"users,omitempty"`       // signerAdded, copied
	Position    Position       `json:"position,omitempty"`    // signerAdded
	Decision    Outcome        `json:"decision,omitempty"`    // decided
	Reason      string         `json:"reason,omitempty"`      // 理由
	Comment     string         `json:"comment,omitempty"`     // 意见
	Approver    string         `json:"approver,omitempty"`    // extended: the head who approved (批准人)
	Extension   string         `json:"extension,omitempty"`   // extended: the length, such as 10wd
}

// DefinitionRef names the definition version a case runs on, with the
// SHA-256 of the definition's JSON, so that a case replayed on a
// different definition under the same version is detected.
type DefinitionRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Hash    string `json:"hash"`
}

// Canonical returns the canonical encoding of the event that Hash covers
// and a signature signs: the event as JSON without its hash and signature,
// with empty members left out, the time as RFC 3339 in UTC with trailing
// zeros of the fraction dropped, in the RFC 8785 (JCS) canonical form of
// package signature/jcs: members sorted by their UTF-16 code units, no
// insignificant whitespace, strings escaped minimally, numbers of the
// application written as ECMAScript writes a double.
//
// Logs written before the switch to JCS used encoding/json's form of the
// same map (keys in UTF-8 byte order, U+2028 and U+2029 escaped, numbers
// as their literal text), which is the same bytes for the ASCII keys and
// integer numbers that almost every event has; [DecodeEvent] and
// [VerifyChain] accept an event stored in that form when its hash is the
// hash of that form, so old logs stay verifiable. New events, and every
// signature, use JCS.
func (e *Event) Canonical() ([]byte, error) {
	legacy, err := e.legacyCanonical()
	if err != nil {
		return nil, err
	}
	out, err := jcs.Canonicalize(legacy)
	if err != nil {
		return nil, fmt.Errorf("approval: event %d is not I-JSON: %w", e.Seq, err)
	}
	return out, nil
}

// legacyCanonical is the encoding/json form of the event's canonical map.
func (e *Event) legacyCanonical() ([]byte, error) {
	m := map[string]any{
		"caseId": e.CaseID,
		"seq":    e.Seq,
		"type":   string(e.Type),
		"actor":  e.Actor,
		"at":     e.At.UTC().Format(time.RFC3339Nano),
		"data":   e.Data.canonical(),
	}
	if e.IdempotencyKey != "" {
		m["key"] = e.IdempotencyKey
	}
	if e.PrevHash != "" {
		m["prevHash"] = e.PrevHash
	}
	if e.Signed {
		m["signed"] = true
	}
	return marshalCanonical(m)
}

func (d *EventData) canonical() map[string]any {
	m := map[string]any{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	if d.Definition != nil {
		m["definition"] = map[string]any{"id": d.Definition.ID, "version": d.Definition.Version, "hash": d.Definition.Hash}
	}
	if d.Department != nil {
		m["department"] = map[string]any{"name": d.Department.Name, "orgId": d.Department.OrgID}
	}
	if d.Application != nil {
		m["application"] = d.Application
	}
	put("task", d.Task)
	put("step", d.Step)
	put("to", d.To)
	if d.ToApplicant {
		m["toApplicant"] = true
	}
	if len(d.Users) > 0 {
		m["users"] = d.Users
	}
	put("position", string(d.Position))
	put("decision", string(d.Decision))
	put("reason", d.Reason)
	put("comment", d.Comment)
	put("approver", d.Approver)
	put("extension", d.Extension)
	return m
}

func marshalCanonical(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// legacyHash reports whether hash is the SHA-256 of the event's
// pre-JCS encoding (see Canonical), for an unsigned event.
func (e *Event) legacyHash(hash string) bool {
	if e.Signed {
		return false
	}
	old, err := e.legacyCanonical()
	if err != nil {
		return false
	}
	sum := sha256.Sum256(old)
	return hex.EncodeToString(sum[:]) == hash
}

// ComputeHash returns the lowercase hex SHA-256 of the canonical encoding.
func (e *Event) ComputeHash() (string, error) {
	c, err := e.Canonical()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(c)
	return hex.EncodeToString(sum[:]), nil
}

// ErrCorrupt matches every [*ChainError] with errors.Is: a log whose hash
// chain does not hold, or a stored event that does not decode to its
// canonical encoding.
var ErrCorrupt = errors.New("approval: case log is corrupt")

// ChainError says where a case's log breaks.
type ChainError struct {
	CaseID string
	Seq    int    // the first event that does not fit
	Reason string // what does not fit
	Err    error  // the cause, if any
}

// Error implements error.
func (e *ChainError) Error() string {
	return fmt.Sprintf("approval: case %s: event %d: %s", e.CaseID, e.Seq, e.Reason)
}

// Is reports whether target is [ErrCorrupt].
func (e *ChainError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the cause.
func (e *ChainError) Unwrap() error { return e.Err }

// VerifyChain checks a case's whole log: one case, sequence numbers 1, 2,
// 3… without gaps, each hash the SHA-256 of its event's canonical
// encoding, and each PrevHash the hash of the event before. An altered,
// removed, inserted or reordered event fails with a [*ChainError]. A log
// cut short at its end still verifies: compare the last hash with one
// kept elsewhere (the case's Head, a receipt, a signed checkpoint) to
// detect that.
func VerifyChain(events []Event) error {
	prev := ""
	for i := range events {
		e := &events[i]
		fail := func(format string, args ...any) error {
			return &ChainError{CaseID: events[0].CaseID, Seq: i + 1, Reason: fmt.Sprintf(format, args...)}
		}
		if e.CaseID != events[0].CaseID {
			return fail("belongs to case %s", e.CaseID)
		}
		if e.Seq != i+1 {
			return fail("has sequence number %d; expected %d", e.Seq, i+1)
		}
		if (i == 0) != (e.Type == EventStarted) {
			return fail("is of type %s; expected started first and only first", e.Type)
		}
		h, err := e.ComputeHash()
		if err != nil {
			return fail("does not encode: %v", err)
		}
		if h != e.Hash && !e.legacyHash(e.Hash) {
			return fail("hash %s does not match its content (%s)", e.Hash, h)
		}
		if e.PrevHash != prev {
			return fail("previous hash %s does not match the hash of event %d (%s)", e.PrevHash, i, prev)
		}
		prev = e.Hash
	}
	return nil
}

// DecodeEvent reads an event from its canonical encoding, as a store keeps
// it, with the hash and signature kept beside it. The input is treated as
// hostile: unknown fields are refused, and the event must encode back to
// exactly the same bytes, whose SHA-256 must be hash; otherwise the error
// is a [*ChainError].
func DecodeEvent(canonical []byte, hash, signature string) (Event, error) {
	var e Event
	fail := func(format string, args ...any) (Event, error) {
		return Event{}, &ChainError{CaseID: e.CaseID, Seq: e.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	if len(canonical) > MaxEventSize {
		return fail("is %d bytes; expected at most %d", len(canonical), MaxEventSize)
	}
	dec := json.NewDecoder(bytes.NewReader(canonical))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return fail("does not decode: %v", err)
	}
	if e.Hash != "" || e.Signature != "" {
		return fail("carries a hash or signature inside its canonical encoding")
	}
	again, err := e.Canonical()
	if err != nil {
		return fail("is not in canonical form: %v", err)
	}
	if !bytes.Equal(again, canonical) {
		// A log written before the switch to JCS (see Canonical).
		old, err := e.legacyCanonical()
		if err != nil || e.Signed || !bytes.Equal(old, canonical) {
			return fail("is not in canonical form")
		}
	}
	sum := sha256.Sum256(canonical)
	if got := hex.EncodeToString(sum[:]); got != hash {
		return fail("hash %s does not match its content (%s)", hash, got)
	}
	e.Hash, e.Signature = hash, signature
	return e, nil
}

// MaxEventSize is the largest canonical encoding of one event, in bytes.
const MaxEventSize = 2 << 20
