package exchange

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/schemacheck"
	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature/jcs"
)

//go:embed schema/receipt.schema.json
var receiptSchemaJSON []byte

//go:embed schema/notice.schema.json
var noticeSchemaJSON []byte

// Schema ids of the payloads of receipts and of recalls and urges.
const (
	ReceiptSchemaID = "https://schemas.egovkit.org/exchange/1/receipt.schema.json"
	NoticeSchemaID  = "https://schemas.egovkit.org/exchange/1/notice.schema.json"
)

// Media types of the JSON payloads that the document lifecycle exchanges.
const (
	// ReceiptMediaType is the media type of a receipt's payload ([Receipt]).
	ReceiptMediaType = "application/vnd.egovkit.receipt+json"
	// NoticeMediaType is the media type of a recall's or urge's payload
	// ([Notice]).
	NoticeMediaType = "application/vnd.egovkit.notice+json"
)

// MaxLifecyclePayload is the largest receipt, recall or urge payload a
// node accepts, in bytes.
const MaxLifecyclePayload = 64 << 10

// ReceiptSchema returns the JSON Schema of receipt payloads. The returned
// slice is a copy.
func ReceiptSchema() []byte { return append([]byte(nil), receiptSchemaJSON...) }

// NoticeSchema returns the JSON Schema of recall and urge payloads. The
// returned slice is a copy.
func NoticeSchema() []byte { return append([]byte(nil), noticeSchemaJSON...) }

var (
	receiptSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
		return schemacheck.CompileJSON(ReceiptSchemaID, receiptSchemaJSON, "exchange")
	})
	noticeSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
		return schemacheck.CompileJSON(NoticeSchemaID, noticeSchemaJSON, "exchange")
	})
)

// Receipt statuses.
const (
	ReceiptDelivered = "delivered" // 送达: the recipient's node stored the document
	ReceiptRefused   = "refused"   // 拒收: the recipient's node refused the message for good, and says by which rule and why
	ReceiptSignedFor = "signedFor" // 签收: a person at the recipient signed for it
	ReceiptReturned  = "returned"  // 退回: the recipient sent it back, with the reason
)

// Person is who signed for (签收人) or returned (退回人) a document: a name
// and, optionally, the person's user id in the receiving organ's system.
type Person struct {
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
}

// String renders the person as NAME or NAME (ID).
func (p Person) String() string {
	if p.ID == "" {
		return p.Name
	}
	return p.Name + " (" + p.ID + ")"
}

// Receipt is the payload of a receipt message (回执), as the schema that
// [ReceiptSchema] returns fixes it: a delivery receipt (送达回执); a
// negative receipt (拒收回执, status [ReceiptRefused]) saying that the
// node refused the message for good, with the Rule and the Reason, the
// EnvelopeDigest of the envelope it refused and, when it read the payload
// before refusing, the Digest of the bytes it received; or a business
// receipt saying that the document was signed for (签收, with By and At) or
// returned (退回, with Reason and At).
type Receipt struct {
	Status    string `json:"status"`
	MessageID string `json:"messageId"`
	Received  Time   `json:"received"`
	// Digest is of the payload received; the zero Digest (left out of the
	// JSON) on a refused receipt whose node did not read the payload.
	Digest docdoc.Digest `json:"digest"`
	// EnvelopeDigest is, on a refused receipt, the SHA-256 of the canonical
	// form (RFC 8785) of the envelope refused, as received.
	EnvelopeDigest *docdoc.Digest `json:"envelopeDigest,omitempty"`
	// Rule is, on a refused receipt, the refusal's rule id, as in the
	// [Problem].
	Rule   string  `json:"rule,omitempty"`
	At     *Time   `json:"at,omitempty"`
	By     *Person `json:"by,omitempty"`
	Reason string  `json:"reason,omitempty"`
}

// MarshalJSON implements json.Marshaler: as the struct's fields, leaving
// out a zero Digest.
func (r Receipt) MarshalJSON() ([]byte, error) {
	type plain Receipt
	out := struct {
		plain
		Digest *docdoc.Digest `json:"digest,omitempty"`
	}{plain: plain(r)}
	if r.Digest != (docdoc.Digest{}) {
		out.Digest = &r.Digest
	}
	return marshalCompact(out)
}

// Notice is the payload of a recall (撤回) or urge (催办) of a document: the
// document's message id and an optional note (why it is recalled, what the
// urge asks).
type Notice struct {
	MessageID string `json:"messageId"`
	Note      string `json:"note,omitempty"`
}

// ErrInvalidPayload matches every [*PayloadError] with errors.Is.
var ErrInvalidPayload = errors.New("exchange: invalid payload")

// PayloadError holds every violation found in a receipt or notice payload.
type PayloadError struct {
	MediaType  string
	Violations []Violation
}

// Error implements error.
func (e *PayloadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exchange: invalid %s payload: %d violation(s)", e.MediaType, len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalidPayload].
func (e *PayloadError) Is(target error) bool { return target == ErrInvalidPayload }

// Rules returns the rule ids of the violations, in order.
func (e *PayloadError) Rules() []string {
	out := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		out[i] = v.Rule
	}
	return out
}

var lifecycleLimits = strictjson.Limits{MaxBytes: MaxLifecyclePayload, MaxDepth: 8}

// parseLifecycle reads data strictly against sch; on success it decodes
// into dst and lets check add the rules a schema cannot express.
func parseLifecycle(data []byte, mediaType string, sch func() (*schemacheck.Schema, error), dst any, check func(vs *violations)) error {
	fail := func(vs violations) error {
		return &PayloadError{MediaType: mediaType, Violations: schemacheck.Sorted[Violation](vs)}
	}
	tree, err := strictjson.Parse(data, lifecycleLimits)
	if err != nil {
		var je *strictjson.Error
		if !errors.As(err, &je) {
			return err
		}
		return fail(violations{{Pointer: je.Pointer, Rule: "exchange.json." + je.Code.String(), Message: je.Error()[len("json: "):]}})
	}
	s, err := sch()
	if err != nil {
		return fmt.Errorf("exchange: embedded schema: %w", err)
	}
	vs := violations(s.Validate(tree))
	m, _ := tree.(map[string]any)
	for _, key := range []string{"received", "at"} {
		instant(m, key, &vs)
	}
	if len(vs) == 0 {
		// The schema holds and the instants are real, so every member has
		// the shape the type needs.
		if err := json.Unmarshal(data, dst); err != nil {
			return fmt.Errorf("exchange: decoding %s: %w", mediaType, err)
		}
		check(&vs)
	}
	if len(vs) > 0 {
		return fail(vs)
	}
	return nil
}

// ParseReceipt reads a receipt payload strictly (valid UTF-8, no duplicate
// names, at most [MaxLifecyclePayload] bytes), validates it against the
// schema and checks what the schema cannot: a signedFor receipt names who
// signed for it and when; a returned one says why (a reason that is not
// blank) and when; a delivery receipt carries none of at, by and reason;
// a refused one names the rule, the reason and the envelope refused, and
// carries neither at nor by; every receipt but a refused one has a digest,
// and only a refused one a rule and an envelopeDigest.
// Every problem is reported, as a [*PayloadError].
func ParseReceipt(data []byte) (*Receipt, error) {
	var r Receipt
	err := parseLifecycle(data, ReceiptMediaType, receiptSchema, &r, func(vs *violations) { r.check(vs) })
	if err != nil {
		return nil, err
	}
	return &r, nil
}

func (r *Receipt) check(vs *violations) {
	noDigest := r.Digest == (docdoc.Digest{})
	if noDigest && r.Status != ReceiptRefused {
		vs.Add("/digest", "exchange.receipt.digest-required", "a %s receipt names the payload it acknowledges; expected digest", r.Status)
	}
	if r.Status != ReceiptRefused {
		if r.Rule != "" {
			vs.Add("/rule", "exchange.receipt.rule-unexpected", "a %s receipt names no refusal rule; expected rule only on refused", r.Status)
		}
		if r.EnvelopeDigest != nil {
			vs.Add("/envelopeDigest", "exchange.receipt.envelope-unexpected", "a %s receipt carries no envelopeDigest; expected it only on refused", r.Status)
		}
	}
	switch r.Status {
	case ReceiptDelivered:
		if r.At != nil || r.By != nil || r.Reason != "" {
			vs.Add("", "exchange.receipt.delivered-members", "a delivery receipt carries no at, by or reason; expected only status, messageId, received and digest")
		}
	case ReceiptRefused:
		if r.Rule == "" {
			vs.Add("/rule", "exchange.receipt.rule-required", "a refused receipt names the rule that refused the message; expected rule")
		}
		if strings.TrimSpace(r.Reason) == "" {
			vs.Add("/reason", "exchange.receipt.reason-required", "a refused receipt says why the message was refused; expected a reason that is not blank")
		}
		if r.EnvelopeDigest == nil {
			vs.Add("/envelopeDigest", "exchange.receipt.envelope-required", "a refused receipt names the envelope it refused; expected envelopeDigest")
		}
		if r.At != nil || r.By != nil {
			vs.Add("", "exchange.receipt.refused-members", "a refused receipt carries no at or by; expected status, messageId, received, rule, reason, envelopeDigest and, optionally, digest")
		}
	case ReceiptSignedFor:
		if r.By == nil {
			vs.Add("/by", "exchange.receipt.signed-by-required", "a signedFor receipt names who signed for the document (签收人); expected by")
		}
		if r.Reason != "" {
			vs.Add("/reason", "exchange.receipt.reason-unexpected", "a signedFor receipt gives no reason; expected reason only on returned")
		}
	case ReceiptReturned:
		if strings.TrimSpace(r.Reason) == "" {
			vs.Add("/reason", "exchange.receipt.reason-required", "a returned document carries the reason it was returned (退回理由); expected a reason that is not blank")
		}
	}
	if r.Status != ReceiptDelivered && r.Status != ReceiptRefused && r.At == nil {
		vs.Add("/at", "exchange.receipt.at-required", "a %s receipt says when; expected at", r.Status)
	}
	if r.At != nil && r.At.Before(r.Received.Time) {
		vs.Add("/at", "exchange.time.order", "at %s is before received %s; expected a document to be signed for or returned after it arrived", r.At.UTC().Format(timeLayout), r.Received.UTC().Format(timeLayout))
	}
}

// ParseNotice reads a recall or urge payload strictly and validates it
// against the schema that [NoticeSchema] returns; every problem is
// reported, as a [*PayloadError].
func ParseNotice(data []byte) (*Notice, error) {
	var n Notice
	err := parseLifecycle(data, NoticeMediaType, noticeSchema, &n, func(vs *violations) {
		if n.Note != "" && strings.TrimSpace(n.Note) == "" {
			vs.Add("/note", "exchange.notice.note-blank", "the note is blank; expected text, or no note")
		}
	})
	if err != nil {
		return nil, err
	}
	return &n, nil
}

func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// MarshalReceipt returns a receipt's JSON form after checking it as
// [ParseReceipt] checks one read.
func MarshalReceipt(r *Receipt) ([]byte, error) {
	data, err := marshalCompact(r)
	if err != nil {
		return nil, err
	}
	if _, err := ParseReceipt(data); err != nil {
		return nil, err
	}
	return data, nil
}

// MarshalNotice returns a notice's JSON form after checking it as
// [ParseNotice] checks one read.
func MarshalNotice(n *Notice) ([]byte, error) {
	data, err := marshalCompact(n)
	if err != nil {
		return nil, err
	}
	if _, err := ParseNotice(data); err != nil {
		return nil, err
	}
	return data, nil
}

// SignedReceipt is a signed receipt in one JSON object: the receipt's
// signed envelope and, base64 in JSON, the exact bytes of its payload (the
// receipt's JSON) that the envelope's size and digest describe. A final
// refusal carries the refusing node's negative receipt (拒收回执) this way,
// as [Problem].Receipt, and an outbox entry dead-lettered on that refusal
// keeps it this way in [OutboxEntry].Receipt, as evidence.
type SignedReceipt struct {
	Envelope json.RawMessage `json:"envelope"`
	Payload  []byte          `json:"payload"`
}

// Open reads the receipt's envelope and payload strictly and checks that
// the payload is a receipt ([ReceiptMediaType], at most
// [MaxLifecyclePayload] bytes) of exactly the size and digest the
// envelope gives, answering the message the receipt names. It does not
// check the signature, which takes the directory: see [VerifyEnvelope].
func (s *SignedReceipt) Open() (*Envelope, *Receipt, error) {
	env, err := ParseEnvelopeBytes(s.Envelope)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: the signed receipt's envelope: %w", err)
	}
	if env.Kind != KindReceipt || env.Payload.MediaType != ReceiptMediaType {
		return nil, nil, fmt.Errorf("exchange: the signed receipt's envelope is a %s carrying %s; expected a %s carrying %s", env.Kind, env.Payload.MediaType, KindReceipt, ReceiptMediaType)
	}
	if env.Payload.Size != int64(len(s.Payload)) || env.Payload.Size > MaxLifecyclePayload {
		return nil, nil, fmt.Errorf("exchange: the signed receipt's payload has %d bytes, its envelope says %d; expected equal sizes of at most %d", len(s.Payload), env.Payload.Size, MaxLifecyclePayload)
	}
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(s.Payload), env.Payload.Digest.Alg)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: the signed receipt's payload digest: %w", err)
	}
	if d != env.Payload.Digest {
		return nil, nil, fmt.Errorf("%w: the signed receipt's payload has digest %s, its envelope says %s", ErrPayloadMismatch, d.Value, env.Payload.Digest.Value)
	}
	rc, err := ParseReceipt(s.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: the signed receipt's payload: %w", err)
	}
	if rc.MessageID != env.ReplyTo {
		return nil, nil, fmt.Errorf("exchange: the signed receipt's payload is about %s, its envelope answers %s; expected the same message", rc.MessageID, env.ReplyTo)
	}
	return env, rc, nil
}

// ParseSignedReceipt reads a [SignedReceipt]'s JSON strictly, as
// [OutboxEntry].Receipt holds it for an entry dead-lettered on a refusal,
// and opens it ([SignedReceipt.Open]).
func ParseSignedReceipt(data []byte) (*SignedReceipt, *Envelope, *Receipt, error) {
	if _, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: 2*MaxEnvelopeSize + 2*MaxLifecyclePayload, MaxDepth: MaxEnvelopeDepth + 1}); err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: the signed receipt: %w", err)
	}
	var s SignedReceipt
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: the signed receipt: %w; expected {\"envelope\": {...}, \"payload\": \"BASE64\"}", err)
	}
	env, rc, err := s.Open()
	if err != nil {
		return nil, nil, nil, err
	}
	return &s, env, rc, nil
}

// canonicalDigest is the digest with alg of the RFC 8785 canonical form
// of an envelope's JSON: what a refused receipt's envelopeDigest names.
func canonicalDigest(raw []byte, alg docdoc.DigestAlgorithm) (docdoc.Digest, error) {
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		return docdoc.Digest{}, err
	}
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(canon), alg)
	return d, err
}
