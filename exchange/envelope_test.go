package exchange

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
)

var (
	ndrc    = Party{OrgID: "11500000MB16089308", Node: "gw1"}
	finance = Party{OrgID: "11500000MB1972360U", Node: "gw1"}
	econ    = Party{OrgID: "11500000MB1802110J", Node: "gw2"}
	t0      = time.Date(2025, 3, 18, 8, 30, 0, 123456789, time.UTC)
)

func sampleEnvelope() *Envelope {
	e := NewEnvelope(KindDocument, ndrc, t0)
	e.Recipients = []Party{finance, econ}
	e.DocumentType = docdoc.TypeNotice
	exp := NewTime(t0.Add(72 * time.Hour))
	e.Expires = &exp
	e.Payload = Payload{MediaType: docdoc.MediaType, Size: 1284, Digest: docdoc.Digest{Alg: docdoc.SHA256, Value: strings.Repeat("ab", 32)}}
	return e
}

func TestEnvelopeRoundTrip(t *testing.T) {
	t.Parallel()
	e := sampleEnvelope()
	require.NoError(t, Validate(e))
	data, err := Marshal(e)
	require.NoError(t, err)
	assert.Contains(t, string(data), `"created":"2025-03-18T08:30:00.123Z"`)
	got, err := ParseEnvelopeBytes(data)
	require.NoError(t, err)
	assert.Equal(t, e.ID, got.ID)
	assert.True(t, e.Created.Equal(got.Created.Time))
	assert.Equal(t, e.Recipients, got.Recipients)
	assert.False(t, got.Expired(t0))
	assert.True(t, got.Expired(t0.Add(72*time.Hour)))

	r := got.Reply(KindReceipt, finance, t0.Add(time.Minute))
	r.Payload = Payload{MediaType: "application/json", Size: 2, Digest: e.Payload.Digest}
	require.NoError(t, Validate(r))
	assert.Equal(t, e.ConversationID, r.ConversationID)
	assert.Equal(t, e.ID, r.ReplyTo)
	assert.Equal(t, []Party{ndrc}, r.Recipients)
}

func TestEnvelopeViolations(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		f    func(m map[string]any)
		want []string
	}{
		{"check digit", func(m map[string]any) {
			m["sender"] = map[string]any{"orgId": "11500000MB16089309", "node": "gw1"}
		}, []string{"/sender/orgId exchange.org-id.check-digit"}},
		{"bad org id", func(m map[string]any) {
			m["recipients"] = []any{map[string]any{"orgId": "115", "node": "gw1"}}
		}, []string{"/recipients/0/orgId exchange.org-id.format"}},
		{"duplicate recipient", func(m map[string]any) {
			r := m["recipients"].([]any)
			m["recipients"] = append(r, r[0])
		}, []string{"/recipients/2 exchange.recipients.unique"}},
		{"sender among recipients", func(m map[string]any) {
			m["recipients"] = append(m["recipients"].([]any), m["sender"])
		}, []string{"/recipients/2 exchange.recipients.sender"}},
		{"expires before created", func(m map[string]any) { m["expires"] = "2025-03-18T08:29:59Z" }, []string{"/expires exchange.time.order"}},
		{"not an instant", func(m map[string]any) { m["created"] = "2025-02-30T08:30:00Z" }, []string{"/created exchange.time.invalid"}},
		{"local time", func(m map[string]any) { m["created"] = "2025-03-18T16:30:00+08:00" }, []string{"/created exchange.time.format"}},
		{"receipt without replyTo", func(m map[string]any) {
			m["kind"] = "receipt"
			delete(m, "documentType")
		}, []string{"/replyTo exchange.reply-to.required"}},
		{"document without type", func(m map[string]any) { delete(m, "documentType") }, []string{"/documentType exchange.document-type.required"}},
		{"receipt with a type", func(m map[string]any) {
			m["kind"] = "urge"
			m["replyTo"] = m["id"]
		}, []string{"/documentType exchange.document-type.unexpected"}},
		{"document with replyTo", func(m map[string]any) { m["replyTo"] = m["id"] }, []string{"/replyTo exchange.reply-to.unexpected"}},
		{"data request without resource", func(m map[string]any) {
			m["kind"] = "dataRequest"
			delete(m, "documentType")
			m["recipients"] = m["recipients"].([]any)[:1]
		}, []string{"/resource exchange.resource.required"}},
		{"data request to two", func(m map[string]any) {
			m["kind"] = "dataRequest"
			delete(m, "documentType")
			m["resource"] = "market.enterprise-registration"
		}, []string{"/recipients exchange.data.single-recipient"}},
		{"document with resource", func(m map[string]any) { m["resource"] = "x" }, []string{"/resource exchange.resource.unexpected"}},
		{"unknown kind", func(m map[string]any) { m["kind"] = "fax" }, []string{"/kind exchange.kind"}},
		{"id not v7", func(m map[string]any) { m["id"] = "3b241101-e2bb-4255-8caf-4136c566a962" }, []string{"/id exchange.id.uuid7"}},
		{"unknown member", func(m map[string]any) { m["priority"] = "high" }, []string{"/priority exchange.schema.unknown-member"}},
		{"missing payload", func(m map[string]any) { delete(m, "payload") }, []string{"/payload exchange.schema.required"}},
		{"digest uppercase", func(m map[string]any) {
			m["payload"].(map[string]any)["digest"].(map[string]any)["value"] = strings.Repeat("AB", 32)
		}, []string{"/payload/digest/value exchange.digest.format"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := Marshal(sampleEnvelope())
			require.NoError(t, err)
			tree, err := strictjson.Parse(data, strictjson.Limits{})
			require.NoError(t, err)
			tc.f(tree.(map[string]any))
			data, err = json.Marshal(tree)
			require.NoError(t, err)
			_, err = ParseEnvelopeBytes(data)
			var ee *EnvelopeError
			require.ErrorAs(t, err, &ee)
			assert.True(t, errors.Is(err, ErrInvalidEnvelope))
			var got []string
			for _, v := range ee.Violations {
				got = append(got, v.Pointer+" "+v.Rule)
				assert.NotEmpty(t, v.Message)
			}
			assert.Equal(t, tc.want, got, "%v", ee.Violations)
		})
	}
}

func TestEnvelopeStrictReading(t *testing.T) {
	t.Parallel()
	data, err := Marshal(sampleEnvelope())
	require.NoError(t, err)
	dup := strings.Replace(string(data), `"kind":"document"`, `"kind":"document","kind":"receipt"`, 1)
	_, err = ParseEnvelope(strings.NewReader(dup))
	var ee *EnvelopeError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []string{"exchange.json.duplicate-name"}, ee.Rules())

	_, err = ParseEnvelope(strings.NewReader(strings.Repeat(" ", MaxEnvelopeSize+1)))
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []string{"exchange.json.too-large"}, ee.Rules())
}

// FuzzParseEnvelope: ParseEnvelope never panics; rejections are
// EnvelopeErrors; an accepted envelope survives Marshal and parse.
func FuzzParseEnvelope(f *testing.F) {
	data, err := Marshal(sampleEnvelope())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"kind":"receipt","replyTo":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEnvelopeBytes(data)
		if err != nil {
			var ee *EnvelopeError
			if !errors.As(err, &ee) || len(ee.Violations) == 0 {
				t.Fatalf("rejection is not an EnvelopeError: %v", err)
			}
			return
		}
		out, err := Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseEnvelopeBytes(out); err != nil {
			t.Fatalf("a marshalled valid envelope is invalid: %v\n%s", err, out)
		}
	})
}
