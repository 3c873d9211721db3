package signature_test

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/jcs"
	"github.com/egovkit/egovkit/signature/pki"
)

// jointSealed returns the joint notice sealed by the government (Ed25519)
// and the financial bureau (SM2), and a verifier trusting both roots.
func jointSealed(t *testing.T) ([]byte, *signature.Verifier) {
	t.Helper()
	gov := testChain(t, pki.Ed25519, orgGov)
	fin := testChain(t, pki.SM2, orgFinance)
	doc, err := signature.SealDocument([]byte(jointNotice), signer(t, gov))
	require.NoError(t, err)
	doc, err = signature.SealDocument(doc, signer(t, fin))
	require.NoError(t, err)
	return doc, verifier(t, []*x509.Certificate{gov.Root.Certificate, fin.Root.Certificate})
}

var bothIssuers = signature.Policy{RequiredIssuers: []signature.Identity{orgGov, orgFinance}}

func TestJointDocument(t *testing.T) {
	t.Parallel()
	doc, v := jointSealed(t)
	// The original bytes are kept; only the signatures array was added.
	assert.True(t, strings.HasPrefix(string(doc), jointNotice[:len(jointNotice)-2]))

	rep, err := signature.VerifyDocument(ctx, doc, v, bothIssuers)
	require.NoError(t, err)
	require.True(t, rep.Valid())
	require.Len(t, rep.Seals, 2)
	assert.Equal(t, orgGov, rep.Seals[0].Identity)
	assert.Equal(t, signature.EdDSA, rep.Seals[0].Algorithm)
	assert.Equal(t, orgFinance, rep.Seals[1].Identity)
	assert.Equal(t, signature.SM2SM3, rep.Seals[1].Algorithm)
	assert.Empty(t, rep.Missing)

	// Re-spaced and reordered, the same document still verifies.
	var tree map[string]any
	require.NoError(t, json.Unmarshal(doc, &tree))
	pretty, err := json.MarshalIndent(tree, "", "\t") // sorted keys, other spacing, escapes
	require.NoError(t, err)
	_, err = signature.VerifyDocument(ctx, pretty, v, bothIssuers)
	assert.NoError(t, err)
	escaped := strings.Replace(string(doc), `"title"`, `"\u0074itle"`, 1)
	_, err = signature.VerifyDocument(ctx, []byte(escaped), v, bothIssuers)
	assert.NoError(t, err)
	_, err = signature.VerifyDocument(ctx, []byte(strings.Replace(string(doc), `"copies": 3`, `"copies": 3.0e0`, 1)), v, bothIssuers)
	assert.NoError(t, err, "3.0e0 is the same number as 3")
}

// TestVerifySeals is the structured form docdoc wraps: the canonical
// payload and the parsed seals.
func TestVerifySeals(t *testing.T) {
	t.Parallel()
	doc, v := jointSealed(t)
	var c jcs.Canonicalizer
	payload, raw, err := c.AppendWithout(nil, doc, signature.SignaturesMember)
	require.NoError(t, err)
	var seals []signature.Signature
	require.NoError(t, json.Unmarshal(raw, &seals))
	require.Len(t, seals, 2)
	rep, err := signature.VerifySeals(ctx, payload, seals, v, bothIssuers)
	require.NoError(t, err)
	assert.True(t, rep.Valid())
	rep, err = signature.VerifySeals(ctx, payload, seals[1:], v, bothIssuers)
	assert.ErrorIs(t, err, signature.ErrMissingSeal)
	assert.Equal(t, []signature.Identity{orgGov}, rep.Missing)
	_, err = signature.VerifySeals(ctx, append(payload[:len(payload)-1:len(payload)-1], `,"x":1}`...), seals, v, bothIssuers)
	assert.ErrorIs(t, err, signature.ErrBadSignature)
	_, err = signature.VerifySeals(ctx, payload, nil, v, signature.Policy{})
	assert.ErrorIs(t, err, signature.ErrNoSeals)
	// Marshalled back, a seal is the same JSON object.
	b, err := json.Marshal(seals[0])
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), `{"protected":"`))
}

func TestJointDocumentStrippedSeal(t *testing.T) {
	t.Parallel()
	doc, v := jointSealed(t)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(doc, &tree))
	tree["signatures"] = tree["signatures"].([]any)[:1]
	stripped, err := json.Marshal(tree)
	require.NoError(t, err)

	rep, err := signature.VerifyDocument(ctx, stripped, v, bothIssuers)
	var missing *signature.MissingSealError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, orgFinance, missing.Identity)
	assert.ErrorIs(t, err, signature.ErrMissingSeal)
	assert.Equal(t, []signature.Identity{orgFinance}, rep.Missing)
	assert.NoError(t, rep.Seals[0].Err, "the remaining seal itself is valid")

	// Without the policy the one seal suffices.
	_, err = signature.VerifyDocument(ctx, stripped, v, signature.Policy{})
	assert.NoError(t, err)

	// No seals at all.
	delete(tree, "signatures")
	none, _ := json.Marshal(tree)
	_, err = signature.VerifyDocument(ctx, none, v, signature.Policy{})
	assert.ErrorIs(t, err, signature.ErrNoSeals)
	tree["signatures"] = []any{}
	none, _ = json.Marshal(tree)
	_, err = signature.VerifyDocument(ctx, none, v, signature.Policy{})
	assert.ErrorIs(t, err, signature.ErrNoSeals)
}

// TestTampering changes every signed member in value, type and presence:
// each change breaks both seals.
func TestTampering(t *testing.T) {
	t.Parallel()
	doc, v := jointSealed(t)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(doc, &tree))
	type edit struct {
		name string
		fn   func(m map[string]any)
	}
	var edits []edit
	for k, val := range tree {
		if k == "signatures" {
			continue
		}
		edits = append(edits,
			edit{k + " removed", func(m map[string]any) { delete(m, k) }},
			edit{k + " to null", func(m map[string]any) { m[k] = nil }},
			edit{k + " to string", func(m map[string]any) { m[k] = stringify(val) }},
		)
		switch x := val.(type) {
		case string:
			edits = append(edits, edit{k + " one character", func(m map[string]any) { m[k] = x + " " }})
		case float64:
			edits = append(edits, edit{k + " plus one", func(m map[string]any) { m[k] = x + 1 }})
		case bool:
			edits = append(edits, edit{k + " negated", func(m map[string]any) { m[k] = !x }})
		case []any:
			edits = append(edits, edit{k + " element dropped", func(m map[string]any) { m[k] = x[1:] }})
		}
	}
	edits = append(edits,
		edit{"member added", func(m map[string]any) { m["secret"] = "x" }},
		edit{"issuer orgId changed", func(m map[string]any) {
			m["issuers"] = []any{map[string]any{"name": "某某市人民政府", "orgId": "91350100M000100Y43"}, tree["issuers"].([]any)[1]}
		}},
		edit{"nested attachment hash", func(m map[string]any) {
			m["attachments"] = []any{map[string]any{"name": "检查方案.pdf", "sha256": strings.Repeat("0", 64)}}
		}},
	)
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			m := map[string]any{}
			for k, v := range tree {
				m[k] = v
			}
			e.fn(m)
			tampered, err := json.Marshal(m)
			require.NoError(t, err)
			rep, err := signature.VerifyDocument(ctx, tampered, v, bothIssuers)
			require.Error(t, err)
			require.Len(t, rep.Seals, 2)
			for _, s := range rep.Seals {
				assert.ErrorIs(t, s.Err, signature.ErrBadSignature)
			}
			var se *signature.SealError
			assert.ErrorAs(t, err, &se)
		})
	}
}

func stringify(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestSealMovedAndChainSwapped(t *testing.T) {
	t.Parallel()
	doc, v := jointSealed(t)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(doc, &tree))
	seals := tree["signatures"].([]any)

	// A seal moved onto another document.
	other := map[string]any{"title": "另一份通知", "issuers": tree["issuers"], "signatures": seals}
	moved, _ := json.Marshal(other)
	rep, err := signature.VerifyDocument(ctx, moved, v, bothIssuers)
	require.Error(t, err)
	for _, s := range rep.Seals {
		assert.ErrorIs(t, s.Err, signature.ErrBadSignature)
	}

	// The government's seal with the x5c chain of another organ (same
	// algorithm): the header changes, so its signature no longer verifies.
	gov := seals[0].(map[string]any)
	sig := signature.Signature{Protected: gov["protected"].(string), Signature: gov["signature"].(string)}
	h := decodeHeader(t, sig)
	otherChain := testChain(t, pki.Ed25519, orgFinance)
	h["x5c"] = decodeHeader(t, mustSign(t, otherChain, []byte(`{}`)))["x5c"]
	swapped := map[string]any{"protected": encodeHeader(t, h), "signature": gov["signature"]}
	m := map[string]any{}
	for k, val := range tree {
		m[k] = val
	}
	m["signatures"] = []any{swapped, seals[1]}
	sw, _ := json.Marshal(m)
	v2 := verifier(t, []*x509.Certificate{testChain(t, pki.Ed25519, orgGov).Root.Certificate, testChain(t, pki.SM2, orgFinance).Root.Certificate, otherChain.Root.Certificate})
	rep, err = signature.VerifyDocument(ctx, sw, v2, bothIssuers)
	require.Error(t, err)
	assert.ErrorIs(t, rep.Seals[0].Err, signature.ErrBadSignature)
	assert.NoError(t, rep.Seals[1].Err)
	assert.ErrorIs(t, err, signature.ErrMissingSeal)
}

func TestDocumentMalformed(t *testing.T) {
	t.Parallel()
	doc, v := jointSealed(t)
	for name, in := range map[string]string{
		"not JSON":            `{"a":`,
		"array":               `[1]`,
		"duplicate key":       `{"a":1,"a":2,"signatures":[]}`,
		"signatures object":   `{"signatures":{}}`,
		"signatures string":   `{"signatures":"x"}`,
		"entry not an object": `{"signatures":[1]}`,
		"too many seals":      `{"signatures":[` + strings.Repeat(`{},`, signature.MaxSeals) + `{}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			rep, err := signature.VerifyDocument(ctx, []byte(in), v, signature.Policy{})
			require.Error(t, err)
			if rep != nil {
				require.Len(t, rep.Seals, 1)
				assert.ErrorIs(t, rep.Seals[0].Err, signature.ErrMalformed)
			} else {
				assert.ErrorIs(t, err, signature.ErrMalformed)
			}
		})
	}
	// Truncated fields inside a real document.
	s := string(doc)
	i := strings.Index(s, `"protected":"`) + len(`"protected":"`)
	trunc := s[:i+20] + s[strings.Index(s[i:], `"`)+i:]
	rep, err := signature.VerifyDocument(ctx, []byte(trunc), v, bothIssuers)
	require.Error(t, err)
	assert.ErrorIs(t, rep.Seals[0].Err, signature.ErrMalformed)

	_, err = signature.SealDocument([]byte(`{"signatures":{}}`), signer(t, testChain(t, pki.Ed25519, orgGov)))
	assert.ErrorIs(t, err, signature.ErrMalformed)
	_, err = signature.SealDocument([]byte(`[]`), signer(t, testChain(t, pki.Ed25519, orgGov)))
	assert.ErrorIs(t, err, signature.ErrMalformed)
}

func TestSealDocumentSplice(t *testing.T) {
	t.Parallel()
	s := signer(t, testChain(t, pki.Ed25519, orgGov))
	for _, in := range []string{`{}`, ` { } `, `{"a":1}`, `{"signatures":[]}`, `{"a":{"signatures":[]},"signatures":[ ]}`, "{\n \"a\": [1],\n \"signatures\": []\n}\n"} {
		out, err := signature.SealDocument([]byte(in), s)
		require.NoError(t, err, in)
		var m map[string]any
		require.NoError(t, json.Unmarshal(out, &m), string(out))
		assert.Len(t, m["signatures"], 1, string(out))
		out2, err := signature.SealDocument(out, s)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(out2, &m), string(out2))
		assert.Len(t, m["signatures"], 2, string(out2))
		v := verifier(t, []*x509.Certificate{testChain(t, pki.Ed25519, orgGov).Root.Certificate})
		_, err = signature.VerifyDocument(ctx, out2, v, signature.Policy{RequiredIssuers: []signature.Identity{orgGov}})
		assert.NoError(t, err, string(out2))
	}
}

func TestSealWithoutIdentityRefusedInDocuments(t *testing.T) {
	t.Parallel()
	c := testChain(t, pki.Ed25519, orgGov)
	s := signature.NewSignerUnchecked(c.Key, c.Chain(), signature.Identity{}, clockAt(now))
	doc, err := signature.SealDocument([]byte(`{"a":1}`), s)
	require.NoError(t, err)
	rep, err := signature.VerifyDocument(ctx, doc, verifier(t, []*x509.Certificate{c.Root.Certificate}), signature.Policy{})
	require.Error(t, err)
	assert.True(t, errors.Is(rep.Seals[0].Err, signature.ErrIdentity))
}
