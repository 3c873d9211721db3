package docdoc

import (
	"encoding/json"
	"errors"
	"io"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// Limits on a document's JSON form. A 公文's own JSON is small; large
// content travels as package attachments.
const (
	// MaxDocumentSize is the largest document JSON accepted, in bytes.
	MaxDocumentSize = 4 << 20
	// MaxDepth is the deepest nesting of objects and arrays accepted. The
	// format itself needs 4 levels; the rest is room for signature headers.
	MaxDepth = 32
)

var limits = strictjson.Limits{MaxBytes: MaxDocumentSize, MaxDepth: MaxDepth}

// Parse reads one document from r and validates it: strict reading (valid
// UTF-8, no duplicate member names, no lone surrogates, numbers a double
// can hold, at most [MaxDocumentSize] bytes and [MaxDepth] levels), the
// schema, and the rules of RULES.md.
//
// An invalid document gives a [*ValidationError] holding every violation
// (errors.Is(err, ErrInvalid) holds); the returned document is then nil.
// An error reading r is returned as it is.
func Parse(r io.Reader) (*Document, error) {
	tree, err := ReadTree(r)
	if err != nil {
		return nil, err
	}
	return FromTree(tree)
}

// ParseBytes is [Parse] over a byte slice.
func ParseBytes(data []byte) (*Document, error) {
	tree, err := readTree(data)
	if err != nil {
		return nil, err
	}
	return FromTree(tree)
}

// FromTree validates a document already read as a generic JSON tree (as
// produced by a strict reader: map[string]any, []any, string, json.Number,
// bool, nil) and returns its typed form. It applies the schema and the
// rules, not the strict-reading checks, which belong to the reader.
func FromTree(tree any) (*Document, error) {
	var vs violations
	schemaViolations(tree, &vs)
	doc := documentOf(tree)
	checkRules(doc, tree, &vs)
	if err := validationError(vs); err != nil {
		return nil, err
	}
	return doc, nil
}

// Validate checks a document built in Go exactly as [Parse] checks one
// read from JSON, by validating its JSON form.
func Validate(doc *Document) error {
	if doc == nil {
		return &ValidationError{Violations: []Violation{{Rule: "docdoc.schema.type", Message: "document is nil; expected a document"}}}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = ParseBytes(data)
	return err
}

var jsonRules = map[strictjson.Code]string{
	strictjson.CodeSyntax:        "docdoc.json.syntax",
	strictjson.CodeInvalidUTF8:   "docdoc.json.utf8",
	strictjson.CodeLoneSurrogate: "docdoc.json.lone-surrogate",
	strictjson.CodeNumberRange:   "docdoc.json.number-range",
	strictjson.CodeDuplicateName: "docdoc.json.duplicate-key",
	strictjson.CodeTooLarge:      "docdoc.json.too-large",
	strictjson.CodeTooDeep:       "docdoc.json.too-deep",
}

func jsonViolation(e *strictjson.Error) error {
	msg := e.Msg
	if e.Line > 0 {
		msg = e.Error()[len("json: "):]
	}
	rule := jsonRules[e.Code]
	if rule == "" {
		rule = "docdoc.json.syntax"
	}
	return &ValidationError{Violations: []Violation{{Pointer: e.Pointer, Rule: rule, Message: msg}}}
}

// documentOf maps a tree to a Document, skipping values of the wrong type:
// the schema has already reported them, and the rules see what is left.
func documentOf(tree any) *Document {
	m, _ := tree.(map[string]any)
	d := &Document{
		SpecVersion:     str(m, "specVersion"),
		ID:              str(m, "id"),
		Type:            Type(str(m, "type")),
		CopyNumber:      str(m, "copyNumber"),
		Urgency:         Urgency(str(m, "urgency")),
		Issuers:         organs(m["issuers"]),
		DocNumber:       str(m, "docNumber"),
		Signers:         strs(m["signers"]),
		Title:           str(m, "title"),
		MainRecipients:  organs(m["mainRecipients"]),
		AttachmentNotes: strs(m["attachmentNotes"]),
		Signatory:       strs(m["signatory"]),
		Date:            str(m, "date"),
		Notes:           str(m, "notes"),
		CC:              organs(m["cc"]),
		PrintedBy:       str(m, "printedBy"),
		PrintDate:       str(m, "printDate"),
	}
	if c, ok := m["classification"].(map[string]any); ok {
		d.Classification = &Classification{Level: Level(str(c, "level")), Period: str(c, "period")}
	}
	if b, ok := m["body"].(map[string]any); ok {
		d.Body = Body{MediaType: str(b, "mediaType"), Text: str(b, "text"), File: str(b, "file"), Digest: digestOf(b["digest"])}
		if n, ok := integer(b["size"]); ok {
			d.Body.Size = &n
		}
	}
	if as, ok := m["attachments"].([]any); ok {
		d.Attachments = make([]Attachment, 0, len(as))
		for _, a := range as {
			am, _ := a.(map[string]any)
			n, _ := integer(am["size"])
			d.Attachments = append(d.Attachments, Attachment{Name: str(am, "name"), MediaType: str(am, "mediaType"), Size: n, Digest: digestOf(am["digest"])})
		}
	}
	if ss, ok := m["signatures"].([]any); ok && len(ss) > 0 { // an empty list is no list
		d.Signatures = make([]Signature, 0, len(ss))
		for _, s := range ss {
			sm, _ := s.(map[string]any)
			h, _ := sm["header"].(map[string]any)
			d.Signatures = append(d.Signatures, Signature{Protected: str(sm, "protected"), Signature: str(sm, "signature"), Header: h})
		}
	}
	return d
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func strs(v any) []string {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, len(a))
	for i, e := range a {
		out[i], _ = e.(string)
	}
	return out
}

func organs(v any) []Organ {
	a, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]Organ, len(a))
	for i, e := range a {
		m, _ := e.(map[string]any)
		out[i] = Organ{Name: str(m, "name"), OrgID: str(m, "orgId")}
	}
	return out
}

func digestOf(v any) *Digest {
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	return &Digest{Alg: DigestAlgorithm(str(m, "alg")), Value: str(m, "value")}
}

func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64() // 1.0 and 1e3 are integers to JSON Schema
	if err != nil || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// ReadTree reads a JSON text from r with the same strict reader and limits
// as [Parse] and returns its generic tree, for callers (such as a packer
// filling in attachment digests) that must edit a draft before validating
// it with [FromTree]. Strict-reading failures are a [*ValidationError]; an
// error reading r is returned as it is.
func ReadTree(r io.Reader) (any, error) {
	data, err := strictjson.ReadAll(r, limits)
	if err != nil {
		return nil, readError(err)
	}
	return readTree(data)
}

func readTree(data []byte) (any, error) {
	tree, err := strictjson.Parse(data, limits)
	if err != nil {
		return nil, readError(err)
	}
	return tree, nil
}

// readError turns a strict-reading failure into a one-violation
// *ValidationError and returns any other error (from the reader) as it is.
func readError(err error) error {
	var je *strictjson.Error
	if errors.As(err, &je) {
		return jsonViolation(je)
	}
	return err
}
