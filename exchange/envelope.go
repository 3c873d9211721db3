package exchange

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/schemacheck"
	"github.com/egovkit/egovkit/internal/strictjson"
)

//go:embed schema/envelope.schema.json
var envelopeSchemaJSON []byte

// EnvelopeSchemaID is the $id of the exchange/1 envelope schema.
const EnvelopeSchemaID = "https://schemas.egovkit.org/exchange/1/envelope.schema.json"

// SpecVersion is the specVersion of every exchange/1 envelope.
const SpecVersion = "exchange/1"

// Limits on an envelope's JSON form: an envelope is small, its payload
// travels beside it.
const (
	MaxEnvelopeSize  = 256 << 10
	MaxEnvelopeDepth = 16
)

// EnvelopeSchema returns the JSON Schema (draft 2020-12) of envelopes. The
// returned slice is a copy.
func EnvelopeSchema() []byte { return append([]byte(nil), envelopeSchemaJSON...) }

var envelopeSchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
	return schemacheck.CompileJSON(EnvelopeSchemaID, envelopeSchemaJSON, "exchange")
})

// Kind is what a message is.
type Kind string

// Message kinds.
const (
	KindDocument     Kind = "document"     // 公文
	KindReceipt      Kind = "receipt"      // 回执
	KindRecall       Kind = "recall"       // 撤回
	KindUrge         Kind = "urge"         // 催办
	KindDataRequest  Kind = "dataRequest"  // 数据共享调用
	KindDataResponse Kind = "dataResponse" // 数据共享响应
)

// known reports whether k is one of the message kinds; rules that depend
// on the kind apply only then (the schema reports an unknown kind).
func (k Kind) known() bool {
	switch k {
	case KindDocument, KindReceipt, KindRecall, KindUrge, KindDataRequest, KindDataResponse:
		return true
	}
	return false
}

// answers reports whether a message of this kind answers another one and
// so must name it in ReplyTo.
func (k Kind) answers() bool {
	return k == KindReceipt || k == KindRecall || k == KindUrge || k == KindDataResponse
}

// Party is an organ (by 统一社会信用代码) and one of its nodes.
type Party struct {
	OrgID string `json:"orgId"`
	Node  string `json:"node"`
}

// String renders the party as ORGID/NODE.
func (p Party) String() string { return p.OrgID + "/" + p.Node }

// Payload describes the bytes that travel beside the envelope.
type Payload struct {
	MediaType string        `json:"mediaType"`
	Size      int64         `json:"size"`
	Digest    docdoc.Digest `json:"digest"`
}

// Time is an instant written in RFC 3339 in UTC with millisecond precision,
// as envelopes carry it.
type Time struct{ time.Time }

// timeLayout is the envelope's time format.
const timeLayout = "2006-01-02T15:04:05.000Z"

// NewTime returns t in UTC, truncated to the millisecond.
func NewTime(t time.Time) Time { return Time{t.UTC().Truncate(time.Millisecond)} }

// MarshalJSON writes the instant in UTC with milliseconds.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + t.UTC().Format(timeLayout) + `"`), nil
}

// UnmarshalJSON reads an RFC 3339 instant.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("exchange: time %s is not a JSON string", b)
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("exchange: time %q: %w", s, err)
	}
	t.Time = v
	return nil
}

// Envelope is the envelope of one message between nodes (交换信封). Its JSON
// form is fixed by the schema that [EnvelopeSchema] returns.
type Envelope struct {
	SpecVersion    string            `json:"specVersion"`
	ID             string            `json:"id"`
	Kind           Kind              `json:"kind"`
	Sender         Party             `json:"sender"`
	Recipients     []Party           `json:"recipients"`
	ConversationID string            `json:"conversationId"`
	ReplyTo        string            `json:"replyTo,omitempty"`
	Created        Time              `json:"created"`
	Expires        *Time             `json:"expires,omitempty"`
	DocumentType   docdoc.Type       `json:"documentType,omitempty"`
	Resource       string            `json:"resource,omitempty"`
	Payload        Payload           `json:"payload"`
	Signature      *docdoc.Signature `json:"signature,omitempty"`
}

// NewEnvelope returns an envelope of kind k from sender with a fresh UUIDv7
// id that also opens a new conversation, created at now.
func NewEnvelope(k Kind, sender Party, now time.Time) *Envelope {
	id := uuid.Must(uuid.NewV7()).String()
	return &Envelope{SpecVersion: SpecVersion, ID: id, Kind: k, Sender: sender, ConversationID: id, Created: NewTime(now)}
}

// Reply returns an envelope of kind k that answers e: from the given
// sender to e's sender, in e's conversation.
func (e *Envelope) Reply(k Kind, sender Party, now time.Time) *Envelope {
	r := NewEnvelope(k, sender, now)
	r.ConversationID = e.ConversationID
	r.ReplyTo = e.ID
	r.Recipients = []Party{e.Sender}
	r.Resource = e.Resource
	return r
}

// Expired reports whether the envelope must no longer be accepted at now.
func (e *Envelope) Expired(now time.Time) bool {
	return e.Expires != nil && !now.Before(e.Expires.Time)
}

// Violation is one broken rule of an envelope.
type Violation struct {
	Pointer string `json:"pointer"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// ErrInvalidEnvelope matches every [*EnvelopeError] with errors.Is.
var ErrInvalidEnvelope = errors.New("exchange: invalid envelope")

// EnvelopeError holds every violation found in an envelope.
type EnvelopeError struct {
	Violations []Violation
}

// Error implements error.
func (e *EnvelopeError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exchange: invalid envelope: %d violation(s)", len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalidEnvelope].
func (e *EnvelopeError) Is(target error) bool { return target == ErrInvalidEnvelope }

// Rules returns the rule ids of the violations, in order.
func (e *EnvelopeError) Rules() []string {
	out := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		out[i] = v.Rule
	}
	return out
}

// violations collects an envelope's, a directory's or a payload's
// violations.
type violations = schemacheck.List

// envelopeError returns nil or the violations as an *EnvelopeError.
func envelopeError(vs violations) error {
	if len(vs) == 0 {
		return nil
	}
	return &EnvelopeError{Violations: schemacheck.Sorted[Violation](vs)}
}

var envelopeLimits = strictjson.Limits{MaxBytes: MaxEnvelopeSize, MaxDepth: MaxEnvelopeDepth}

// ParseEnvelope reads an envelope strictly, validates it against the schema
// and checks the rules a schema cannot express: check characters of every
// 统一社会信用代码, real instants with expires after created, replyTo on the
// kinds that answer a message, resource exactly on data calls, one
// recipient for a data call, no recipient twice, and no sender among the
// recipients, documentType exactly on documents. It does not check the signature; a node does that against
// its directory. Every problem is reported, as an [*EnvelopeError]; an
// error reading r is returned as it is.
func ParseEnvelope(r io.Reader) (*Envelope, error) {
	data, err := strictjson.ReadAll(r, envelopeLimits)
	if err != nil {
		return nil, readError(err)
	}
	return ParseEnvelopeBytes(data)
}

// ParseEnvelopeBytes is [ParseEnvelope] over a byte slice.
func ParseEnvelopeBytes(data []byte) (*Envelope, error) {
	tree, err := strictjson.Parse(data, envelopeLimits)
	if err != nil {
		return nil, readError(err)
	}
	sch, err := envelopeSchema()
	if err != nil {
		return nil, fmt.Errorf("exchange: embedded envelope schema: %w", err)
	}
	vs := violations(sch.Validate(tree))
	var e Envelope
	if len(vs) > 0 || json.Unmarshal(data, &e) != nil {
		// Some member has the wrong shape: decode what can be, so that
		// the rules see as much as there is.
		e = Envelope{}
		decodeLenient(data, tree, &e)
	}
	e.check(tree, &vs)
	if err := envelopeError(vs); err != nil {
		return nil, err
	}
	return &e, nil
}

// decodeLenient decodes data into e member by member, skipping members of
// the wrong shape (the schema has reported them), so that the rules see as
// much as there is.
func decodeLenient(data []byte, tree any, e *Envelope) {
	m, _ := tree.(map[string]any)
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil {
		return
	}
	fields := map[string]any{
		"specVersion": &e.SpecVersion, "id": &e.ID, "kind": &e.Kind, "sender": &e.Sender,
		"recipients": &e.Recipients, "conversationId": &e.ConversationID, "replyTo": &e.ReplyTo,
		"created": &e.Created, "documentType": &e.DocumentType, "resource": &e.Resource, "payload": &e.Payload, "signature": &e.Signature,
	}
	for name, dst := range fields {
		if b, ok := raw[name]; ok {
			_ = json.Unmarshal(b, dst) // wrong shapes stay zero
		}
	}
	if _, ok := m["expires"]; ok {
		var t Time
		if json.Unmarshal(raw["expires"], &t) == nil {
			e.Expires = &t
		}
	}
}

func readError(err error) error {
	var je *strictjson.Error
	if !errors.As(err, &je) {
		return err
	}
	return &EnvelopeError{Violations: []Violation{{Pointer: je.Pointer, Rule: "exchange.json." + je.Code.String(), Message: je.Error()[len("json: "):]}}}
}

func (e *Envelope) check(tree any, vs *violations) {
	m, _ := tree.(map[string]any)
	checkParty := func(ptr string, p Party) {
		if len(p.OrgID) != 18 {
			return // the schema reports the form
		}
		want, err := docdoc.OrgIDCheckCharacter(p.OrgID[:17])
		if err == nil && p.OrgID[17] != want {
			vs.Add(ptr+"/orgId", "exchange.org-id.check-digit", "unified social credit identifier %q has check character %c; expected %c (GB 32100-2015)", p.OrgID, p.OrgID[17], want)
		}
	}
	checkParty("/sender", e.Sender)
	seen := map[Party]int{}
	for i, p := range e.Recipients {
		ptr := "/recipients/" + strconv.Itoa(i)
		checkParty(ptr, p)
		if j, dup := seen[p]; dup {
			vs.Add(ptr, "exchange.recipients.unique", "recipient %d (%s) repeats recipient %d; expected each recipient once", i, p, j)
		}
		seen[p] = i
		if p == e.Sender && p.OrgID != "" {
			vs.Add(ptr, "exchange.recipients.sender", "recipient %d is the sender (%s); expected a message to other nodes", i, p)
		}
	}
	created, createdOK := instant(m, "created", vs)
	expires, expiresOK := instant(m, "expires", vs)
	if createdOK && expiresOK && !expires.After(created) {
		vs.Add("/expires", "exchange.time.order", "expires %s is not after created %s; expected a later instant", expires.Format(time.RFC3339), created.Format(time.RFC3339))
	}
	if !e.Kind.known() {
		return
	}
	_, hasReply := m["replyTo"]
	_, hasResource := m["resource"]
	switch {
	case e.Kind.answers() && !hasReply:
		vs.Add("/replyTo", "exchange.reply-to.required", "a %s answers a message; expected replyTo with that message's id", e.Kind)
	case !e.Kind.answers() && hasReply:
		vs.Add("/replyTo", "exchange.reply-to.unexpected", "a %s opens an exchange and answers nothing; expected no replyTo", e.Kind)
	}
	_, hasType := m["documentType"]
	switch {
	case e.Kind == KindDocument && !hasType:
		vs.Add("/documentType", "exchange.document-type.required", "a document message names the document's type; expected documentType, such as notice")
	case e.Kind != KindDocument && hasType:
		vs.Add("/documentType", "exchange.document-type.unexpected", "a %s carries no document; expected no documentType", e.Kind)
	}
	data := e.Kind == KindDataRequest || e.Kind == KindDataResponse
	switch {
	case data && !hasResource:
		vs.Add("/resource", "exchange.resource.required", "a %s names the data resource it calls; expected resource", e.Kind)
	case !data && hasResource:
		vs.Add("/resource", "exchange.resource.unexpected", "a %s calls no data resource; expected no resource", e.Kind)
	}
	if e.Kind == KindDataRequest && len(e.Recipients) > 1 {
		vs.Add("/recipients", "exchange.data.single-recipient", "a dataRequest has %d recipients; expected one, the provider of the resource", len(e.Recipients))
	}
}

// instant checks that a present time member is a real instant.
func instant(m map[string]any, key string, vs *violations) (time.Time, bool) {
	s, ok := m[key].(string)
	if !ok || !timeShape(s) {
		return time.Time{}, false // absent, or reported by the schema
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		vs.Add("/"+key, "exchange.time.invalid", "%q is not a real instant; expected RFC 3339 in UTC, such as 2025-03-18T08:30:00Z", s)
		return time.Time{}, false
	}
	return t, true
}

func timeShape(s string) bool {
	return len(s) >= 20 && s[4] == '-' && s[10] == 'T' && strings.HasSuffix(s, "Z")
}

// Marshal returns the envelope's JSON form without HTML escaping.
func Marshal(e *Envelope) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// Validate checks an envelope built in Go as [ParseEnvelope] checks one read
// from JSON.
func Validate(e *Envelope) error {
	data, err := Marshal(e)
	if err != nil {
		return err
	}
	_, err = ParseEnvelopeBytes(data)
	return err
}
