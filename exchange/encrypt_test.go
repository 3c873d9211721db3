package exchange

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// encryptionDirectory returns the test network's directory with an X25519
// key for NDRC and finance and an SM2 key for econ, and their decrypters.
func encryptionDirectory(t *testing.T) (*Directory, map[Party]*Decrypter) {
	t.Helper()
	n := buildTestNet(t)
	keys := map[Party]crypto.PrivateKey{}
	for _, p := range []Party{ndrc, finance} {
		k, err := ecdh.X25519().GenerateKey(rand.Reader)
		require.NoError(t, err)
		keys[p] = k
	}
	sk, err := sm2.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keys[econ] = sk
	d := *n.dir
	d.Members = append([]Member(nil), n.dir.Members...)
	decs := map[Party]*Decrypter{}
	for i := range d.Members {
		m := &d.Members[i]
		m.Nodes = append([]Node(nil), m.Nodes...)
		p := Party{OrgID: m.OrgID, Node: m.Nodes[0].ID}
		// Through PEM, as a node's configuration holds the key.
		pemKey, err := EncodeDecryptionKeyPEM(keys[p])
		require.NoError(t, err)
		priv, err := ParseDecryptionKeyPEM(pemKey)
		require.NoError(t, err)
		dec, err := NewDecrypter(p, priv)
		require.NoError(t, err)
		decs[p] = dec
		m.Nodes[0].EncryptionKey, err = MarshalEncryptionKey(dec.PublicKey())
		require.NoError(t, err)
	}
	data, err := MarshalDirectory(&d)
	require.NoError(t, err)
	parsed, err := ParseDirectory(data)
	require.NoError(t, err)
	return parsed, decs
}

func TestEncryptPayload(t *testing.T) {
	t.Parallel()
	dir, decs := encryptionDirectory(t)
	sizes := []int{0, 1, encryptedChunk - 1, encryptedChunk, encryptedChunk + 1, 3*encryptedChunk + 5}
	cases := []struct {
		suite Suite
		to    []Party
	}{
		{SuiteX25519, []Party{finance, ndrc}},
		{SuiteSM2, []Party{econ}},
	}
	for _, c := range cases {
		for _, size := range sizes {
			plain := make([]byte, size)
			_, _ = rand.Read(plain)
			var enc bytes.Buffer
			require.NoError(t, EncryptPayload(&enc, bytes.NewReader(plain), "application/vnd.egovkit.docdoc+zip", c.suite, c.to, dir))
			assert.False(t, bytes.Contains(enc.Bytes(), plain[:min(size, 64)]) && size >= 16, "ciphertext hides the content")
			for _, p := range c.to {
				ct, r, err := decs[p].OpenPayload(bytes.NewReader(enc.Bytes()))
				require.NoError(t, err, "%s %d %s", c.suite, size, p)
				assert.Equal(t, "application/vnd.egovkit.docdoc+zip", ct)
				got, err := io.ReadAll(r)
				require.NoError(t, err, "%s %d %s", c.suite, size, p)
				assert.True(t, bytes.Equal(plain, got), "%s %d %s", c.suite, size, p)
			}
		}
	}

	// Only the recipients open it.
	var enc bytes.Buffer
	plain := bytes.Repeat([]byte("机密公文"), 3*encryptedChunk/12+7)
	require.NoError(t, EncryptPayload(&enc, bytes.NewReader(plain), "text/plain", SuiteX25519, []Party{finance}, dir))
	_, _, err := decs[ndrc].OpenPayload(bytes.NewReader(enc.Bytes()))
	assert.ErrorIs(t, err, ErrNotEncryptedFor)
	impostor, err := ecdh.X25519().GenerateKey(rand.Reader)
	require.NoError(t, err)
	stolen, err := NewDecrypter(finance, impostor)
	require.NoError(t, err)
	_, _, err = stolen.OpenPayload(bytes.NewReader(enc.Bytes()))
	assert.ErrorIs(t, err, ErrNotEncryptedFor, "finance's name without finance's key")

	// A recipient without a key of the suite.
	assert.ErrorIs(t, EncryptPayload(io.Discard, strings.NewReader("x"), "text/plain", SuiteSM2, []Party{finance}, dir), ErrNoEncryptionKey)
	assert.ErrorIs(t, EncryptPayload(io.Discard, strings.NewReader("x"), "text/plain", SuiteX25519, []Party{{OrgID: finance.OrgID, Node: "gw9"}}, dir), ErrUnknownRecipient)

	// Every change, truncation or reordering fails to open.
	data := enc.Bytes()
	headerEnd := bytes.IndexByte(data, '\n') + 1
	chunk := encryptedChunk + 16
	body := data[headerEnd:]
	tamper := map[string][]byte{
		"header byte": func() []byte {
			b := bytes.Clone(data)
			i := bytes.Index(b, []byte("text/plain"))
			b[i] = 'T'
			return b
		}(),
		"content byte":   func() []byte { b := bytes.Clone(data); b[headerEnd+chunk+10] ^= 1; return b }(),
		"last chunk cut": data[:headerEnd+3*chunk],
		"one byte cut":   data[:len(data)-1],
		"chunk dropped":  append(append(bytes.Clone(data[:headerEnd]), body[:chunk]...), body[2*chunk:]...),
		"chunks swapped": append(append(append(bytes.Clone(data[:headerEnd]), body[chunk:2*chunk]...), body[:chunk]...), body[2*chunk:]...),
		"no content":     data[:headerEnd],
		"appended":       append(bytes.Clone(data), 0),
	}
	for name, b := range tamper {
		_, r, err := decs[finance].OpenPayload(bytes.NewReader(b))
		if err == nil {
			_, err = io.ReadAll(r)
		}
		assert.ErrorIs(t, err, ErrEncryptedCorrupt, name)
	}

	// The directory refuses an encryption key that is not X25519 or SM2.
	_, err = parseEncryptionKey([]byte("not DER"))
	assert.Error(t, err)
	p256, err := ecdh.P256().GenerateKey(rand.Reader)
	require.NoError(t, err)
	_, err = MarshalEncryptionKey(p256.PublicKey())
	assert.Error(t, err)
}

// FuzzOpenPayload: opening arbitrary bytes never panics, and fails with
// a typed error.
func FuzzOpenPayload(f *testing.F) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	dec, err := NewDecrypter(finance, k)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"version":"egovkit-encrypted/1","suite":"X25519-HKDF-SHA256-ChaCha20Poly1305","contentType":"text/plain","chunkSize":16,"recipients":[{"orgId":"11500000MB1972360U","node":"gw1","epk":"AAAA","wrappedKey":"AAAA"}]}` + "\nxxxx"))
	f.Add([]byte("{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, r, err := dec.OpenPayload(bytes.NewReader(data))
		if err == nil {
			_, err = io.ReadAll(r)
		}
		if err != nil && !errors.Is(err, ErrEncryptedCorrupt) && !errors.Is(err, ErrNotEncryptedFor) {
			t.Fatalf("untyped error: %v", err)
		}
	})
}
