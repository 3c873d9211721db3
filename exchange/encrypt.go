package exchange

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm4"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"github.com/egovkit/egovkit/internal/strictjson"
)

// EncryptedMediaType is the media type of an encrypted payload (加密载荷):
// a header line, then the content in authenticated chunks (see
// [EncryptPayload]).
const EncryptedMediaType = "application/vnd.egovkit.encrypted"

// EncryptedVersion is the version member of every encrypted payload's
// header.
const EncryptedVersion = "egovkit-encrypted/1"

// Suite is the algorithms of an encrypted payload.
type Suite string

// Suites.
const (
	// SuiteX25519 wraps the content key for each recipient with X25519
	// and HKDF-SHA256 and encrypts the content with ChaCha20-Poly1305.
	SuiteX25519 Suite = "X25519-HKDF-SHA256-ChaCha20Poly1305"
	// SuiteSM2 wraps the content key with SM2 public-key encryption (GB/T
	// 32918.4) and encrypts the content with SM4-GCM, for national-algorithm
	// (国密) deployments.
	SuiteSM2 Suite = "SM2-SM4GCM"
)

// encryptedChunk is the plaintext size of each chunk but the last.
const encryptedChunk = 64 << 10

const maxEncryptedHeader = 256 << 10

// encryptedHeader is the first line of an encrypted payload.
type encryptedHeader struct {
	Version     string           `json:"version"`
	Suite       Suite            `json:"suite"`
	ContentType string           `json:"contentType"`
	ChunkSize   int              `json:"chunkSize"`
	Recipients  []wrappedKeyJSON `json:"recipients"`
}

// wrappedKeyJSON is the content key wrapped for one recipient node.
type wrappedKeyJSON struct {
	Party
	EphemeralKey []byte `json:"epk,omitempty"` // X25519: the ephemeral public key
	WrappedKey   []byte `json:"wrappedKey"`
}

// ErrNotEncryptedFor is returned when this node is not among an encrypted payload's
// recipients, or cannot unwrap its key.
var ErrNotEncryptedFor = errors.New("exchange: the payload is not encrypted for this node")

// ErrEncryptedCorrupt is returned when an encrypted payload's header is malformed or its
// content fails authentication (tampered, truncated or reordered).
var ErrEncryptedCorrupt = errors.New("exchange: the encrypted payload is corrupt")

// ErrNoEncryptionKey is returned when a recipient node has no usable encryption key in the
// directory for the suite.
var ErrNoEncryptionKey = errors.New("exchange: the recipient has no encryption key for the suite")

// parseEncryptionKey parses a DER SubjectPublicKeyInfo of an X25519 or SM2
// key.
func parseEncryptionKey(der []byte) (crypto.PublicKey, error) {
	k, err := x509.ParsePKIXPublicKey(der) // X25519
	if err != nil {
		if k, err = smx509.ParsePKIXPublicKey(der); err != nil { // SM2
			return nil, err
		}
	}
	switch pub := k.(type) {
	case *ecdh.PublicKey:
		if pub.Curve() == ecdh.X25519() {
			return pub, nil
		}
	case *ecdsa.PublicKey:
		if sm2.IsSM2PublicKey(pub) {
			return pub, nil
		}
	}
	return nil, fmt.Errorf("a %T is not an X25519 or SM2 key", k)
}

// MarshalEncryptionKey returns the directory form (DER SubjectPublicKeyInfo)
// of an X25519 (*ecdh.PublicKey) or SM2 (*ecdsa.PublicKey) public key.
func MarshalEncryptionKey(pub crypto.PublicKey) ([]byte, error) {
	marshal := smx509.MarshalPKIXPublicKey
	if _, ok := pub.(*ecdh.PublicKey); ok {
		marshal = x509.MarshalPKIXPublicKey
	}
	der, err := marshal(pub)
	if err != nil {
		return nil, err
	}
	if _, err := parseEncryptionKey(der); err != nil {
		return nil, err
	}
	return der, nil
}

func suiteOf(pub crypto.PublicKey) Suite {
	switch pub.(type) {
	case *ecdh.PublicKey:
		return SuiteX25519
	case *ecdsa.PublicKey:
		return SuiteSM2
	}
	return ""
}

func x25519KEK(shared, epk, recipient []byte) ([]byte, error) {
	kek := make([]byte, chacha20poly1305.KeySize)
	salt := append(append([]byte(nil), epk...), recipient...)
	_, err := io.ReadFull(hkdf.New(sha256.New, shared, salt, []byte(EncryptedVersion+" X25519 key wrap")), kek)
	return kek, err
}

// contentAEAD returns the suite's AEAD for a content key.
func contentAEAD(s Suite, cek []byte) (cipher.AEAD, error) {
	switch s {
	case SuiteX25519:
		return chacha20poly1305.New(cek)
	case SuiteSM2:
		b, err := sm4.NewCipher(cek)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	}
	return nil, fmt.Errorf("%w: unknown suite %q", ErrEncryptedCorrupt, s)
}

// EncryptPayload encrypts the content read from r (of media type
// contentType) to each recipient node with the key the directory lists for
// it, and writes the encrypted payload to w, streaming: one fresh content
// key per payload, wrapped for each recipient; every recipient's key must
// be of the suite's kind (X25519 for [SuiteX25519], SM2 for [SuiteSM2]).
//
// The format: a header line (JSON: version, suite, contentType,
// chunkSize, and per recipient its orgId, node, wrappedKey and, for
// X25519, epk), then the content in chunks of chunkSize bytes, each sealed
// with the content key under the nonce counter‖last (11 bytes big-endian
// counter, then 1 on the last chunk, else 0) and the SHA-256 of the header
// line as additional data, so that a changed header, a changed, dropped,
// reordered or truncated chunk all fail to open.
func EncryptPayload(w io.Writer, r io.Reader, contentType string, suite Suite, recipients []Party, dir *Directory) error {
	var cek []byte
	switch suite {
	case SuiteX25519:
		cek = make([]byte, chacha20poly1305.KeySize)
	case SuiteSM2:
		cek = make([]byte, 16)
	default:
		return fmt.Errorf("exchange: unknown suite %q", suite)
	}
	if _, err := rand.Read(cek); err != nil {
		return err
	}
	h := encryptedHeader{Version: EncryptedVersion, Suite: suite, ContentType: contentType, ChunkSize: encryptedChunk}
	for _, p := range recipients {
		n := dir.Node(p)
		if n == nil {
			return fmt.Errorf("%w: %s", ErrUnknownRecipient, p)
		}
		pub := n.EncryptionPublicKey()
		if pub == nil || suiteOf(pub) != suite {
			return fmt.Errorf("%w: %s, suite %s", ErrNoEncryptionKey, p, suite)
		}
		wk := wrappedKeyJSON{Party: p}
		switch k := pub.(type) {
		case *ecdh.PublicKey:
			eph, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			shared, err := eph.ECDH(k)
			if err != nil {
				return err
			}
			kek, err := x25519KEK(shared, eph.PublicKey().Bytes(), k.Bytes())
			if err != nil {
				return err
			}
			aead, err := chacha20poly1305.New(kek)
			if err != nil {
				return err
			}
			wk.EphemeralKey = eph.PublicKey().Bytes()
			wk.WrappedKey = aead.Seal(nil, make([]byte, aead.NonceSize()), cek, []byte(p.String()))
		case *ecdsa.PublicKey:
			ct, err := sm2.EncryptASN1(rand.Reader, k, cek)
			if err != nil {
				return err
			}
			wk.WrappedKey = ct
		}
		h.Recipients = append(h.Recipients, wk)
	}
	line, err := marshalCompact(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	aead, err := contentAEAD(suite, cek)
	if err != nil {
		return err
	}
	aad := sha256.Sum256(line)
	buf := make([]byte, encryptedChunk+1)
	br := bufio.NewReaderSize(r, encryptedChunk+1)
	var counter uint64
	for {
		n, err := io.ReadFull(br, buf[:encryptedChunk])
		last := false
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			last = true
		case err != nil:
			return err
		default:
			if _, perr := br.Peek(1); errors.Is(perr, io.EOF) {
				last = true
			} else if perr != nil {
				return perr
			}
		}
		if _, err := w.Write(aead.Seal(nil, chunkNonce(aead.NonceSize(), counter, last), buf[:n], aad[:])); err != nil {
			return err
		}
		if last {
			return nil
		}
		counter++
	}
}

func chunkNonce(size int, counter uint64, last bool) []byte {
	nonce := make([]byte, size)
	binary.BigEndian.PutUint64(nonce[size-9:size-1], counter)
	if last {
		nonce[size-1] = 1
	}
	return nonce
}

// Decrypter opens the encrypted payloads addressed to one node with its
// private key.
type Decrypter struct {
	self Party
	x    *ecdh.PrivateKey
	sm   *sm2.PrivateKey
}

// NewDecrypter returns the decrypter of node self for key: an
// *ecdh.PrivateKey (X25519) or an *sm2.PrivateKey, as
// [ParseDecryptionKeyPEM] returns them.
func NewDecrypter(self Party, key crypto.PrivateKey) (*Decrypter, error) {
	switch k := key.(type) {
	case *ecdh.PrivateKey:
		if k.Curve() != ecdh.X25519() {
			return nil, errors.New("exchange: an ECDH decryption key must be X25519")
		}
		return &Decrypter{self: self, x: k}, nil
	case *sm2.PrivateKey:
		return &Decrypter{self: self, sm: k}, nil
	}
	return nil, fmt.Errorf("exchange: a %T cannot decrypt; expected an X25519 or SM2 private key", key)
}

// PublicKey returns the public key that the directory lists for the node.
func (d *Decrypter) PublicKey() crypto.PublicKey {
	if d.x != nil {
		return d.x.PublicKey()
	}
	return &d.sm.PublicKey
}

// ParseDecryptionKeyPEM parses a PKCS #8 PEM private key of X25519 or SM2.
func ParseDecryptionKeyPEM(data []byte) (crypto.PrivateKey, error) {
	block, rest := pemDecode(data)
	if block == nil || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("exchange: expected one PEM PRIVATE KEY block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block); err == nil { // X25519
		return k, nil
	}
	return smx509.ParsePKCS8PrivateKey(block) // SM2
}

// OpenPayload reads an encrypted payload's header from r, unwraps this
// node's content key, and returns the content's media type and a reader
// of the content that authenticates each chunk as it streams and fails
// with ErrEncryptedCorrupt on any change, reordering or truncation.
func (d *Decrypter) OpenPayload(r io.Reader) (string, io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := readLine(br, maxEncryptedHeader)
	if err != nil {
		return "", nil, fmt.Errorf("%w: header: %v", ErrEncryptedCorrupt, err)
	}
	h, err := parseEncryptedHeader(line)
	if err != nil {
		return "", nil, err
	}
	var mine *wrappedKeyJSON
	for i := range h.Recipients {
		if h.Recipients[i].Party == d.self {
			mine = &h.Recipients[i]
		}
	}
	if mine == nil {
		return "", nil, fmt.Errorf("%w: %s is not among its recipients", ErrNotEncryptedFor, d.self)
	}
	var cek []byte
	switch {
	case h.Suite == SuiteX25519 && d.x != nil:
		epk, err := ecdh.X25519().NewPublicKey(mine.EphemeralKey)
		if err != nil {
			return "", nil, fmt.Errorf("%w: epk: %v", ErrEncryptedCorrupt, err)
		}
		shared, err := d.x.ECDH(epk)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrNotEncryptedFor, err)
		}
		kek, err := x25519KEK(shared, mine.EphemeralKey, d.x.PublicKey().Bytes())
		if err != nil {
			return "", nil, err
		}
		aead, err := chacha20poly1305.New(kek)
		if err != nil {
			return "", nil, err
		}
		if cek, err = aead.Open(nil, make([]byte, aead.NonceSize()), mine.WrappedKey, []byte(d.self.String())); err != nil || len(cek) != chacha20poly1305.KeySize {
			return "", nil, fmt.Errorf("%w: the wrapped key does not open with this node's key", ErrNotEncryptedFor)
		}
	case h.Suite == SuiteSM2 && d.sm != nil:
		if cek, err = sm2.Decrypt(d.sm, mine.WrappedKey); err != nil || len(cek) != 16 {
			return "", nil, fmt.Errorf("%w: the wrapped key does not open with this node's key", ErrNotEncryptedFor)
		}
	default:
		return "", nil, fmt.Errorf("%w: suite %s needs another kind of key", ErrNotEncryptedFor, h.Suite)
	}
	aead, err := contentAEAD(h.Suite, cek)
	if err != nil {
		return "", nil, err
	}
	aad := sha256.Sum256(line)
	return h.ContentType, &chunkReader{r: br, aead: aead, aad: aad[:], chunk: h.ChunkSize}, nil
}

// parseEncryptedHeader reads a header line strictly.
func parseEncryptedHeader(line []byte) (*encryptedHeader, error) {
	if _, err := strictjson.Parse(line, strictjson.Limits{MaxBytes: maxEncryptedHeader, MaxDepth: 6}); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrEncryptedCorrupt, err)
	}
	var h encryptedHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrEncryptedCorrupt, err)
	}
	switch {
	case h.Version != EncryptedVersion:
		return nil, fmt.Errorf("%w: header version %q; expected %s", ErrEncryptedCorrupt, h.Version, EncryptedVersion)
	case h.Suite != SuiteX25519 && h.Suite != SuiteSM2:
		return nil, fmt.Errorf("%w: unknown suite %q", ErrEncryptedCorrupt, h.Suite)
	case h.ChunkSize < 1 || h.ChunkSize > 16<<20:
		return nil, fmt.Errorf("%w: chunk size %d; expected 1 to 16 MiB", ErrEncryptedCorrupt, h.ChunkSize)
	case len(h.Recipients) == 0 || len(h.Recipients) > 1000:
		return nil, fmt.Errorf("%w: %d recipients; expected 1 to 1000", ErrEncryptedCorrupt, len(h.Recipients))
	}
	return &h, nil
}

// chunkReader authenticates and decrypts chunks as they are read.
type chunkReader struct {
	r       *bufio.Reader
	aead    cipher.AEAD
	aad     []byte
	chunk   int
	counter uint64
	out     []byte
	done    bool
	err     error
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.done {
			return 0, io.EOF
		}
		c.next()
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

func (c *chunkReader) next() {
	buf := make([]byte, c.chunk+c.aead.Overhead())
	n, err := io.ReadFull(c.r, buf)
	last := false
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	case err != nil:
		c.err = err
		return
	default:
		if _, perr := c.r.Peek(1); errors.Is(perr, io.EOF) {
			last = true
		} else if perr != nil {
			c.err = perr
			return
		}
	}
	pt, err := c.aead.Open(buf[:0], chunkNonce(c.aead.NonceSize(), c.counter, last), buf[:n], c.aad)
	if err != nil {
		c.err = fmt.Errorf("%w: chunk %d does not authenticate", ErrEncryptedCorrupt, c.counter)
		return
	}
	c.out, c.done = pt, last
	c.counter++
}

// pemDecode returns the DER of the first PEM PRIVATE KEY block and the rest.
func pemDecode(data []byte) ([]byte, []byte) {
	b, rest := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, rest
	}
	return b.Bytes, rest
}

// EncodeDecryptionKeyPEM returns a PKCS #8 PEM of an X25519
// (*ecdh.PrivateKey) or SM2 (*sm2.PrivateKey) private key.
func EncodeDecryptionKeyPEM(key crypto.PrivateKey) ([]byte, error) {
	marshal := smx509.MarshalPKCS8PrivateKey
	if _, ok := key.(*ecdh.PrivateKey); ok {
		marshal = x509.MarshalPKCS8PrivateKey
	}
	der, err := marshal(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
