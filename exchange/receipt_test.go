package exchange

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/egovkit/egovkit/docdoc"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleReceipt = `{"status":"signedFor","messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","received":"2025-03-18T08:30:00.000Z","digest":{"alg":"sha256","value":"` + "abababababababababababababababababababababababababababababababab" + `"},"at":"2025-03-18T09:00:00.000Z","by":{"name":"张三","id":"u1001"}}`

const sampleRefused = `{"status":"refused","messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","received":"2025-03-18T08:30:00.000Z","envelopeDigest":{"alg":"sha256","value":"` + "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd" + `"},"rule":"exchange.refused.expired","reason":"exchange: the message has expired: message 01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f expired at 2025-03-18T08:00:00Z"}`

func TestParseRefusedReceipt(t *testing.T) {
	t.Parallel()
	r, err := ParseReceipt([]byte(sampleRefused))
	require.NoError(t, err)
	assert.Equal(t, ReceiptRefused, r.Status)
	assert.Equal(t, "exchange.refused.expired", r.Rule)
	assert.Zero(t, r.Digest, "no payload was read")
	out, err := MarshalReceipt(r)
	require.NoError(t, err)
	assert.JSONEq(t, sampleRefused, string(out), "a zero digest is left out")

	// With the digest of a payload that did not match its envelope.
	r.Digest = docdoc.Digest{Alg: docdoc.SM3, Value: strings.Repeat("ef", 32)}
	out, err = MarshalReceipt(r)
	require.NoError(t, err)
	back, err := ParseReceipt(out)
	require.NoError(t, err)
	assert.Equal(t, r, back)

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(sampleRefused), &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"without rule", edit(func(m map[string]any) { delete(m, "rule") }), []string{"exchange.receipt.rule-required"}},
		{"a rule that is no rule id", edit(func(m map[string]any) { m["rule"] = "Expired!" }), []string{"exchange.receipt.rule"}},
		{"without reason", edit(func(m map[string]any) { delete(m, "reason") }), []string{"exchange.receipt.reason-required"}},
		{"a blank reason", edit(func(m map[string]any) { m["reason"] = "  " }), []string{"exchange.receipt.reason-required"}},
		{"without envelopeDigest", edit(func(m map[string]any) { delete(m, "envelopeDigest") }), []string{"exchange.receipt.envelope-required"}},
		{"an envelopeDigest that is no digest", edit(func(m map[string]any) { m["envelopeDigest"] = map[string]any{"alg": "md5", "value": "x"} }), []string{"exchange.digest.alg", "exchange.digest.format"}},
		{"with at and by", edit(func(m map[string]any) {
			m["at"] = "2025-03-18T09:00:00Z"
			m["by"] = map[string]any{"name": "张三"}
		}), []string{"exchange.receipt.refused-members"}},
		{"delivered with rule and envelopeDigest", edit(func(m map[string]any) {
			m["status"] = "delivered"
			m["digest"] = m["envelopeDigest"]
			delete(m, "reason")
		}), []string{"exchange.receipt.envelope-unexpected", "exchange.receipt.rule-unexpected"}},
		{"delivered without digest", []byte(`{"status":"delivered","messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","received":"2025-03-18T08:30:00Z"}`), []string{"exchange.receipt.digest-required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseReceipt(c.data)
			var pe *PayloadError
			require.ErrorAs(t, err, &pe, "%v", err)
			assert.Equal(t, c.want, pe.Rules())
		})
	}
}

func TestParseSignedReceipt(t *testing.T) {
	t.Parallel()
	n := buildTestNet(t)
	fin := n.nodes[finance.OrgID]
	tr, err := NewTransport(TransportConfig{Self: finance, Directory: func() (*Directory, error) { return n.dir, nil }, Verifier: n.verifier, Signer: fin.signer,
		TLSCertificate: fin.tlsCert, Receiver: fin.receiver})
	require.NoError(t, err)
	env := documentEnvelope(n.nodes[ndrc.OrgID], finance, []byte("x"))
	require.NoError(t, SignEnvelope(env, n.nodes[ndrc.OrgID].signer))
	line, err := Marshal(env)
	require.NoError(t, err)
	sr, err := tr.negativeReceipt(refusedMessage{env: env, line: line}, Problem{Status: 410, Rule: "exchange.refused.expired", Detail: "  <too> late & " + strings.Repeat("迟", 3000)})
	require.NoError(t, err)
	raw, err := json.Marshal(sr)
	require.NoError(t, err)
	got, re, rc, err := ParseSignedReceipt(raw)
	require.NoError(t, err)
	assert.Equal(t, sr.Payload, got.Payload)
	assert.Equal(t, env.ID, re.ReplyTo)
	assert.Equal(t, finance, re.Sender)
	assert.Empty(t, re.Resource)
	assert.Equal(t, []rune("<too> late & "), []rune(rc.Reason)[:13], "trimmed, not escaped")
	assert.Equal(t, maxRefusalReason, utf8.RuneCountInString(rc.Reason), "cut to the schema's limit")
	require.NoError(t, VerifyEnvelope(context.Background(), re, n.dir, n.verifier, ndrc, time.Now()))

	for name, data := range map[string]string{
		"not JSON":          "{",
		"a duplicate name":  `{"payload":"","payload":""}`,
		"an unknown member": strings.Replace(string(raw), `"payload"`, `"extra":1,"payload"`, 1),
		"not base64":        strings.Replace(string(raw), `"payload":"`, `"payload":"!`, 1),
		"another payload":   strings.Replace(string(raw), `"payload":"`, `"payload":"AAAA`, 1),
		"no envelope":       `{"payload":""}`,
	} {
		_, _, _, err := ParseSignedReceipt([]byte(data))
		assert.Error(t, err, name)
	}
}

func TestParseReceipt(t *testing.T) {
	t.Parallel()
	r, err := ParseReceipt([]byte(sampleReceipt))
	require.NoError(t, err)
	assert.Equal(t, ReceiptSignedFor, r.Status)
	assert.Equal(t, "张三 (u1001)", r.By.String())
	out, err := MarshalReceipt(r)
	require.NoError(t, err)
	assert.JSONEq(t, sampleReceipt, string(out))

	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(sampleReceipt), &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return b
	}
	cases := []struct {
		name string
		data []byte
		want []string
	}{
		{"signedFor without by", edit(func(m map[string]any) { delete(m, "by") }), []string{"exchange.receipt.signed-by-required"}},
		{"signedFor with a reason", edit(func(m map[string]any) { m["reason"] = "x" }), []string{"exchange.receipt.reason-unexpected"}},
		{"returned without reason", edit(func(m map[string]any) { m["status"] = "returned" }), []string{"exchange.receipt.reason-required"}},
		{"returned with a blank reason", edit(func(m map[string]any) { m["status"], m["reason"] = "returned", " \t" }), []string{"exchange.receipt.reason-required"}},
		{"without at", edit(func(m map[string]any) { delete(m, "at") }), []string{"exchange.receipt.at-required"}},
		{"at before received", edit(func(m map[string]any) { m["at"] = "2025-03-18T08:00:00Z" }), []string{"exchange.time.order"}},
		{"not an instant", edit(func(m map[string]any) { m["at"] = "2025-02-30T08:00:00Z" }), []string{"exchange.time.invalid"}},
		{"delivered with by", edit(func(m map[string]any) { m["status"] = "delivered"; delete(m, "at") }), []string{"exchange.receipt.delivered-members"}},
		{"unknown status", edit(func(m map[string]any) { m["status"] = "read" }), []string{"exchange.receipt.status"}},
		{"unknown member", edit(func(m map[string]any) { m["seen"] = true }), []string{"exchange.schema.unknown-member"}},
		{"empty name", edit(func(m map[string]any) { m["by"] = map[string]any{"name": ""} }), []string{"exchange.person.name"}},
		{"duplicate name", []byte(`{"status":"delivered","status":"delivered"}`), []string{"exchange.json.duplicate-name"}},
		{"not UTF-8", []byte("{\"status\":\"\xff\"}"), []string{"exchange.json.invalid-utf8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseReceipt(c.data)
			var pe *PayloadError
			require.ErrorAs(t, err, &pe, "%v", err)
			assert.ErrorIs(t, err, ErrInvalidPayload)
			assert.Equal(t, c.want, pe.Rules())
		})
	}
}

func TestParseNotice(t *testing.T) {
	t.Parallel()
	n, err := ParseNotice([]byte(`{"messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","note":"请尽快签收"}`))
	require.NoError(t, err)
	assert.Equal(t, "请尽快签收", n.Note)
	for data, rule := range map[string]string{
		`{"messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","note":" "}`: "exchange.notice.note-blank",
		`{"messageId":"x"}`: "exchange.id.uuid7",
		`{"messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","reason":"x"}`: "exchange.schema.unknown-member",
		`[]`: "exchange.schema.type",
	} {
		_, err := ParseNotice([]byte(data))
		var pe *PayloadError
		require.ErrorAs(t, err, &pe, data)
		assert.Equal(t, []string{rule}, pe.Rules(), data)
	}
	_, err = MarshalNotice(&Notice{MessageID: "x"})
	assert.ErrorIs(t, err, ErrInvalidPayload)
}

// FuzzParseReceipt: ParseReceipt never panics; rejections are
// PayloadErrors; an accepted receipt survives MarshalReceipt.
func FuzzParseReceipt(f *testing.F) {
	f.Add([]byte(sampleReceipt))
	f.Add([]byte(strings.Replace(sampleReceipt, "signedFor", "returned", 1)))
	f.Add([]byte(`{"status":"delivered"}`))
	f.Add([]byte(sampleRefused))
	f.Add([]byte(strings.Replace(sampleRefused, `"rule"`, `"digest":{"alg":"sm3","value":"`+strings.Repeat("0", 64)+`"},"rule"`, 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReceipt(data)
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) || len(pe.Violations) == 0 {
				t.Fatalf("rejection is not a PayloadError: %v", err)
			}
			return
		}
		if _, err := MarshalReceipt(r); err != nil {
			t.Fatalf("an accepted receipt does not marshal: %v", err)
		}
	})
}

// FuzzParseNotice: ParseNotice never panics; rejections are PayloadErrors;
// an accepted notice survives MarshalNotice.
func FuzzParseNotice(f *testing.F) {
	f.Add([]byte(`{"messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","note":"请尽快签收"}`))
	f.Add([]byte(`{"messageId":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, err := ParseNotice(data)
		if err != nil {
			var pe *PayloadError
			if !errors.As(err, &pe) || len(pe.Violations) == 0 {
				t.Fatalf("rejection is not a PayloadError: %v", err)
			}
			return
		}
		if _, err := MarshalNotice(n); err != nil {
			t.Fatalf("an accepted notice does not marshal: %v", err)
		}
	})
}

// FuzzParseSignedReceipt: ParseSignedReceipt never panics, and what it
// accepts marshals back to a signed receipt that it accepts alike.
func FuzzParseSignedReceipt(f *testing.F) {
	n := buildTestNet(f)
	fin := n.nodes[finance.OrgID]
	tr, err := NewTransport(TransportConfig{Self: finance, Directory: func() (*Directory, error) { return n.dir, nil }, Verifier: n.verifier, Signer: fin.signer,
		TLSCertificate: fin.tlsCert, Receiver: fin.receiver})
	if err != nil {
		f.Fatal(err)
	}
	env := documentEnvelope(n.nodes[ndrc.OrgID], finance, []byte("x"))
	line, err := Marshal(env)
	if err != nil {
		f.Fatal(err)
	}
	sr, err := tr.negativeReceipt(refusedMessage{env: env, line: line, sum: strings.Repeat("ab", 32)}, Problem{Status: 422, Rule: "exchange.refused.payload", Detail: "摘要不符"})
	if err != nil {
		f.Fatal(err)
	}
	raw, err := json.Marshal(sr)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(`{"envelope":{},"payload":""}`))
	f.Add([]byte(`{"envelope":{"kind":"receipt"},"payload":"e30="}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sr, env, rc, err := ParseSignedReceipt(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(sr)
		if err != nil {
			t.Fatalf("an accepted signed receipt does not marshal: %v", err)
		}
		_, env2, rc2, err := ParseSignedReceipt(again)
		if err != nil {
			t.Fatalf("an accepted signed receipt, marshalled again, is refused: %v", err)
		}
		if env2.ID != env.ID || rc2.MessageID != rc.MessageID || rc2.Status != rc.Status {
			t.Fatalf("marshalled again, the signed receipt changed: %s %s %s, was %s %s %s", env2.ID, rc2.MessageID, rc2.Status, env.ID, rc.MessageID, rc.Status)
		}
	})
}
