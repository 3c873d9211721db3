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
// [ReceiptSchema] returns fixes it: a delivery receipt (送达回执), or a
// business receipt saying that the document was signed for (签收, with By
// and At) or returned (退回, with Reason and At).
type Receipt struct {
	Status    string        `json:"status"`
	MessageID string        `json:"messageId"`
	Received  Time          `json:"received"`
	Digest    docdoc.Digest `json:"digest"` // of the payload received
	At        *Time         `json:"at,omitempty"`
	By        *Person       `json:"by,omitempty"`
	Reason    string        `json:"reason,omitempty"`
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
// blank) and when; a delivery receipt carries none of at, by and reason.
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
	switch r.Status {
	case ReceiptDelivered:
		if r.At != nil || r.By != nil || r.Reason != "" {
			vs.Add("", "exchange.receipt.delivered-members", "a delivery receipt carries no at, by or reason; expected only status, messageId, received and digest")
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
	if r.Status != ReceiptDelivered && r.At == nil {
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
