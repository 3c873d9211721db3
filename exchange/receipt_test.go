package exchange

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sampleReceipt = `{"status":"signedFor","messageId":"01936f8e-7b2a-7c3d-9e4f-5a6b7c8d9e0f","received":"2025-03-18T08:30:00.000Z","digest":{"alg":"sha256","value":"` + "abababababababababababababababababababababababababababababababab" + `"},"at":"2025-03-18T09:00:00.000Z","by":{"name":"张三","id":"u1001"}}`

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
