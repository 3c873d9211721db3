package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/signature"
)

// The wire format of one message: POST MessagePath with Content-Type
// MessageMediaType and a body of the envelope's JSON on one line, a line
// feed, then exactly payload.size bytes of payload. The answer to an
// accepted message is 200 with a body of the same form: the receiving
// node's signed delivery receipt (送达回执) and its JSON payload.
const (
	MessagePath      = "/egovkit/v1/messages"
	MessageMediaType = "application/vnd.egovkit.message"
)

// Problem is the JSON body (application/problem+json) of a refused
// message. Receipt is the refusing node's signed negative receipt, on the
// refusals that the status codes below mark with R; a client that does not
// know the member can ignore it.
//
// The status codes of the message endpoint, where R marks the refusals
// that come with the node's signed negative receipt (拒收回执) in
// Problem.Receipt, when the node could identify the message (see below):
//
//	200 OK                     accepted (or a duplicate of an accepted message); the body is the receipt
//	400 Bad Request            malformed body or envelope (no receipt: there is no envelope to name)
//	403 Forbidden            R bad or missing signature (exchange.refused.signature, .unsigned), a
//	                           revoked, expired or not yet valid signing certificate
//	                           (.certificate-revoked, .certificate-expired, .certificate-not-yet-valid),
//	                           a signing certificate not the one the directory registers for the sender
//	                           node (.sender-certificate), an unknown sender (.unknown-sender), no grant
//	                           (.not-granted); without a receipt: no mutual TLS 1.3 (.tls), and a TLS
//	                           client certificate not the one the directory registers for the envelope's
//	                           sender node (.tls-peer)
//	404 Not Found            R a data request for a resource this node does not serve (.unknown-resource)
//	405 Method Not Allowed     not POST (no receipt)
//	409 Conflict               a receipt, recall or urge of a document this node has not (yet) exchanged
//	                           with the sender; Retry-After: the document may still be on its way; or a
//	                           data request whose id was answered already (.replay) (no receipt: not
//	                           final; a replayed document is answered with a delivery receipt again)
//	410 Gone                 R the message has expired (exchange.refused.expired)
//	413 Content Too Large    R the payload is over the limit (.payload-size); without a receipt: the
//	                           envelope line is (exchange.http.body)
//	415 Unsupported Media Type not MessageMediaType (no receipt)
//	421 Misdirected Request  R this node is not a recipient (.not-recipient)
//	422 Unprocessable Content R the payload does not match the envelope's size or digest (.payload), a
//	                           receipt, recall or urge payload is invalid (ParseReceipt, ParseNotice), or
//	                           the message id is stored with another envelope (.replayed-id)
//	429 Too Many Requests      the sender's rate limit; Retry-After says when to retry (no receipt: not final)
//	500 Internal Server Error  the message could not be stored; retry later (no receipt)
//	502 Bad Gateway            the data resource's handler failed (no receipt)
//	503 Service Unavailable    no valid directory (expired or not yet loaded), or no usable revocation
//	                           information here for the signing certificate when the node requires it
//	                           (exchange.refused.revocation-unavailable); Retry-After (no receipt)
//
// A negative receipt is the node's final word on one message: a receipt
// envelope signed by the node and addressed to the envelope's sender,
// answering the message (replyTo), whose payload ([Receipt], status
// [ReceiptRefused]) gives the rule and the detail of the refusal, the
// canonical SHA-256 of the envelope as received (envelopeDigest) and, for
// a payload that did not match its envelope, the digest of the bytes
// received. It comes with every refusal that is final (the sender's
// [SendError.Temporary] is false) once the envelope parsed, so that the
// message has an id, and nothing of the message is stored. No receipt
// comes where there is no message to name (wrong method or media type, no
// mutual TLS, an unreadable or invalid envelope), where the refusal is not
// final (409, 429, 5xx), and where the TLS client is not the node the
// directory registers for a sender it knows (exchange.refused.tls-peer):
// that message may be genuine and merely presented by another party, which
// the sender's own delivery would contradict.
//
// A node signs negative receipts for requests it cannot authenticate too:
// an unknown sender, such as an organ the node's edition of the directory
// does not list yet, learns from a verifiable refusal why its message was
// not taken. What that costs and tells is bounded: each negative receipt
// takes a token of the sender organ's rate limit ([TransportLimits]), and
// those for unknown senders share one bucket of that size, so a flood of
// refused requests costs at most Rate signatures a second per organ plus
// Rate for all unknown senders together, beyond which a refusal is answered
// as before, without a receipt. The answer goes only to the TLS client
// that asked, over the connection it opened, so it cannot be reflected at
// a third party; with a receipt a refusal's body is a few kilobytes (its
// signature carries the node's certificate chain). The receipt says
// nothing the Problem does not: the rule, the detail, the node's own
// identity, and digests of what the requester sent.
type Problem struct {
	Status     int            `json:"status"`
	Rule       string         `json:"rule"`
	Detail     string         `json:"detail"`
	Violations []Violation    `json:"violations,omitempty"`
	Receipt    *SignedReceipt `json:"receipt,omitempty"`
}

// Receiver stores accepted messages. Receive must store the envelope and
// the payload durably before it returns nil. The payload reader checks size
// and digest as it streams and fails at the end when they differ, with an
// error matching ErrPayloadMismatch: Receive must then discard what it read
// and return that error (wrapped or not). duplicate reports a message id
// already stored, whose payload it must not read or store again.
type Receiver interface {
	Receive(ctx context.Context, env *Envelope, payload io.Reader) (duplicate bool, err error)
}

// TransportLimits bound what a node accepts. Zero fields take the
// defaults of [DefaultTransportLimits].
type TransportLimits struct {
	// MaxPayload is the largest payload accepted, in bytes.
	MaxPayload int64
	// Rate and Burst limit each sending organ: Rate messages a second on
	// average, Burst at once.
	Rate  float64
	Burst int
}

// DefaultTransportLimits are the limits a zero field takes.
var DefaultTransportLimits = TransportLimits{MaxPayload: 2 << 30, Rate: 200, Burst: 400}

func (l TransportLimits) withDefaults() TransportLimits {
	d := DefaultTransportLimits
	if l.MaxPayload > 0 {
		d.MaxPayload = l.MaxPayload
	}
	if l.Rate > 0 {
		d.Rate = l.Rate
	}
	if l.Burst > 0 {
		d.Burst = l.Burst
	}
	return d
}

// TransportConfig configures a [Transport].
type TransportConfig struct {
	// Self is this node.
	Self Party
	// Directory returns the current directory, such as
	// DirectoryKeeper.Current.
	Directory func() (*Directory, error)
	// Verifier checks signatures against the trust anchors.
	Verifier *signature.Verifier
	// Signer signs this node's envelopes and receipts; its certificate
	// must be the directory's signing certificate for Self.
	Signer *signature.Signer
	// TLSCertificate is this node's TLS certificate and key, as the
	// directory registers it.
	TLSCertificate tls.Certificate
	// Receiver stores accepted messages.
	Receiver Receiver
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Limits bound what the node accepts.
	Limits TransportLimits
}

// Transport is one exchange node's transport: an http.Handler for the messages
// it receives and a client for those it sends, both over mutual TLS 1.3
// with certificates pinned to the directory.
type Transport struct {
	cfg    TransportConfig
	limits TransportLimits
	now    func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	resources map[string]ResourceHandler
	clients   map[string]*http.Client // by the peer's pinned TLS certificate
}

// NewTransport checks a configuration and returns the transport.
func NewTransport(cfg TransportConfig) (*Transport, error) {
	var missing []string
	if cfg.Self.OrgID == "" || cfg.Self.Node == "" {
		missing = append(missing, "Self")
	}
	if cfg.Directory == nil {
		missing = append(missing, "Directory")
	}
	if cfg.Verifier == nil {
		missing = append(missing, "Verifier")
	}
	if cfg.Signer == nil {
		missing = append(missing, "Signer")
	}
	if len(cfg.TLSCertificate.Certificate) == 0 {
		missing = append(missing, "TLSCertificate")
	}
	if cfg.Receiver == nil {
		missing = append(missing, "Receiver")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("exchange: transport configuration lacks %s", strings.Join(missing, ", "))
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Transport{cfg: cfg, limits: cfg.Limits.withDefaults(), now: now, buckets: map[string]*bucket{}, resources: map[string]ResourceHandler{}, clients: map[string]*http.Client{}}, nil
}

// ServerTLSConfig returns the TLS configuration for this node's server:
// TLS 1.3 only, a client certificate required. Which client certificate is
// acceptable depends on the sender the envelope names, so the handler
// checks it against the directory.
func (n *Transport) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{n.cfg.TLSCertificate},
		ClientAuth:   tls.RequireAnyClientCert,
	}
}

// clientTLSConfig pins the server's certificate to the directory's entry
// for the recipient node, instead of trusting any certificate for the
// host name.
func (n *Transport) clientTLSConfig(want []byte) *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{n.cfg.TLSCertificate},
		// Verification is the pin below; the directory is the trust root.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, want) {
				return errors.New("exchange: the server's TLS certificate is not the one the directory registers for the recipient node")
			}
			return nil
		},
	}
}

// clientFor returns the HTTP client for a peer whose TLS certificate the
// directory pins to want, keeping its connections open between messages
// (a TLS handshake per message would cost more than the message). A
// certificate the directory replaces gets a new client; the old one closes
// its idle connections.
//
// Messages travel over HTTP/1.1 on a pool of kept-alive connections, up to
// maxPeerConns idle per peer, not multiplexed over one HTTP/2 connection:
// there, one goroutine on each side reads, decrypts and writes every frame
// of every message in flight, and with 64 documents in flight between two
// nodes on one 2-core machine BenchmarkEndToEnd delivered half as many
// documents a second (about 400 against 840).
func (n *Transport) clientFor(want []byte) *http.Client {
	n.mu.Lock()
	defer n.mu.Unlock()
	if c, ok := n.clients[string(want)]; ok {
		return c
	}
	if len(n.clients) >= 1024 { // certificates replaced many times over
		for k, c := range n.clients {
			c.CloseIdleConnections()
			delete(n.clients, k)
		}
	}
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig:     n.clientTLSConfig(want),
		MaxIdleConnsPerHost: maxPeerConns,
		IdleConnTimeout:     90 * time.Second,
		// A non-nil, empty TLSNextProto keeps the client on HTTP/1.1.
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
	}}
	n.clients[string(want)] = c
	return c
}

// maxPeerConns is how many idle connections a transport keeps to one
// peer: enough for an outbox's deliveries in flight (DefaultConcurrency)
// and some data calls.
const maxPeerConns = 128

// Close closes the idle connections of the transport's clients.
func (n *Transport) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.clients {
		c.CloseIdleConnections()
	}
}

// Handler returns the http.Handler of the message endpoint, to mount at
// MessagePath on a server that uses ServerTLSConfig.
func (n *Transport) Handler() http.Handler { return http.HandlerFunc(n.serve) }

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

var refusalStatus = map[error]int{
	ErrUnknownSender:  http.StatusForbidden,
	ErrSenderCert:     http.StatusForbidden,
	ErrBadSignature:   http.StatusForbidden,
	ErrUnsigned:       http.StatusForbidden,
	ErrExpired:        http.StatusGone,
	ErrNotForThisNode: http.StatusMisdirectedRequest,
	// The node's own lack: retry later.
	ErrRevocationUnavailable: http.StatusServiceUnavailable,
	// Refusals of a Receiver, such as a Gateway's.
	ErrUnknownDocument: http.StatusConflict,
	ErrInvalidPayload:  http.StatusUnprocessableEntity,
	ErrReplayedID:      http.StatusUnprocessableEntity,
}

func (n *Transport) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, Problem{Status: http.StatusMethodNotAllowed, Rule: "exchange.http.method", Detail: "expected POST"})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != MessageMediaType {
		writeProblem(w, Problem{Status: http.StatusUnsupportedMediaType, Rule: "exchange.http.media-type", Detail: fmt.Sprintf("Content-Type %q; expected %s", ct, MessageMediaType)})
		return
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.Version < tls.VersionTLS13 {
		writeProblem(w, Problem{Status: http.StatusForbidden, Rule: "exchange.refused.tls", Detail: "expected mutual TLS 1.3 with a client certificate"})
		return
	}
	dir, err := n.cfg.Directory()
	if err != nil {
		w.Header().Set("Retry-After", "60")
		writeProblem(w, Problem{Status: http.StatusServiceUnavailable, Rule: "exchange.directory.unavailable", Detail: err.Error()})
		return
	}
	body := bufio.NewReaderSize(r.Body, 64<<10)
	line, err := readLine(body, MaxEnvelopeSize)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errTooLong) {
			status = http.StatusRequestEntityTooLarge
		}
		writeProblem(w, Problem{Status: status, Rule: "exchange.http.body", Detail: err.Error()})
		return
	}
	env, err := ParseEnvelopeBytes(line)
	if err != nil {
		var ee *EnvelopeError
		if errors.As(err, &ee) {
			writeProblem(w, Problem{Status: http.StatusBadRequest, Rule: "exchange.refused.envelope", Detail: "the envelope is invalid", Violations: ee.Violations})
			return
		}
		writeProblem(w, Problem{Status: http.StatusBadRequest, Rule: "exchange.refused.envelope", Detail: err.Error()})
		return
	}
	node := dir.Node(env.Sender)
	if node != nil && !bytes.Equal(r.TLS.PeerCertificates[0].Raw, node.TLSCertificate) {
		writeProblem(w, Problem{Status: http.StatusForbidden, Rule: "exchange.refused.tls-peer", Detail: fmt.Sprintf("the TLS client certificate is not the one the directory registers for %s", env.Sender)})
		return
	}
	// From here on the node can name the message in a negative receipt;
	// the TLS client is the sender's registered node, unless the sender
	// is unknown.
	m := refusedMessage{env: env, line: line, bucket: env.Sender.OrgID}
	if node == nil {
		m.bucket = unauthenticatedBucket
	}
	if err := VerifyEnvelope(r.Context(), env, dir, n.cfg.Verifier, n.cfg.Self, n.now()); err != nil {
		var re *RefusalError
		if errors.As(err, &re) {
			status := refusalStatus[re.Reason]
			if status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", "60")
			}
			n.refuse(w, m, Problem{Status: status, Rule: re.Rule, Detail: re.Error()})
			return
		}
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Rule: "exchange.internal", Detail: err.Error()})
		return
	}
	if env.Kind == KindDocument && !dir.MaySend(env.Sender.OrgID, n.cfg.Self.OrgID, env.DocumentType) {
		n.refuse(w, m, Problem{Status: http.StatusForbidden, Rule: "exchange.refused.not-granted", Detail: fmt.Sprintf("the directory does not let %s send a %s to %s", env.Sender.OrgID, env.DocumentType, n.cfg.Self.OrgID)})
		return
	}
	if env.Payload.Size > n.limits.MaxPayload {
		n.refuse(w, m, Problem{Status: http.StatusRequestEntityTooLarge, Rule: "exchange.refused.payload-size", Detail: fmt.Sprintf("payload of %d bytes; expected at most %d", env.Payload.Size, n.limits.MaxPayload)})
		return
	}
	if wait, ok := n.allow(env.Sender.OrgID); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		writeProblem(w, Problem{Status: http.StatusTooManyRequests, Rule: "exchange.refused.rate", Detail: fmt.Sprintf("%s sends more than %g messages a second", env.Sender.OrgID, n.limits.Rate)})
		return
	}
	h, err := docdoc.NewHash(env.Payload.Digest.Alg)
	if err != nil {
		n.refuse(w, m, Problem{Status: http.StatusBadRequest, Rule: "exchange.refused.envelope", Detail: err.Error()})
		return
	}
	if env.Kind == KindDataRequest {
		n.serveData(w, r, m, dir, &checkedReader{r: io.LimitReader(body, env.Payload.Size+1), size: env.Payload.Size, h: h, want: env.Payload.Digest.Value})
		return
	}
	payload := &checkedReader{r: io.LimitReader(body, env.Payload.Size+1), size: env.Payload.Size, h: h, want: env.Payload.Digest.Value}
	duplicate, err := n.cfg.Receiver.Receive(r.Context(), env, payload)
	m.sum = payload.sum
	if err != nil {
		if errors.Is(err, ErrPayloadMismatch) {
			n.refuse(w, m, Problem{Status: http.StatusUnprocessableEntity, Rule: "exchange.refused.payload", Detail: err.Error()})
			return
		}
		var re *RefusalError
		if errors.As(err, &re) {
			status := refusalStatus[re.Reason]
			if status == 0 {
				status = http.StatusBadRequest
			}
			if status == http.StatusConflict {
				w.Header().Set("Retry-After", "60")
			}
			n.refuse(w, m, Problem{Status: status, Rule: re.Rule, Detail: re.Error()})
			return
		}
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Rule: "exchange.store", Detail: "the message could not be stored; retry later"})
		return
	}
	if duplicate {
		// The sender retried a message already stored: check the payload
		// and answer with a receipt again, as AS4's duplicate detection does.
		if _, err := io.Copy(io.Discard, payload); err != nil {
			m.sum = payload.sum
			n.refuse(w, m, Problem{Status: http.StatusUnprocessableEntity, Rule: "exchange.refused.payload", Detail: err.Error()})
			return
		}
	}
	receipt, err := n.receiptFor(env, payload.sum)
	if err != nil {
		writeProblem(w, Problem{Status: http.StatusInternalServerError, Rule: "exchange.internal", Detail: err.Error()})
		return
	}
	w.Header().Set("Content-Type", MessageMediaType)
	_, _ = w.Write(receipt)
}

// ErrPayloadMismatch is the error a payload reader returns when the bytes
// read differ in size or digest from the envelope.
var ErrPayloadMismatch = errors.New("exchange: the payload does not match the envelope")

var errTooLong = errors.New("exchange: envelope line longer than the limit")

// readLine reads up to and not including '\n', at most max bytes.
func readLine(r *bufio.Reader, max int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > max+1 {
			return nil, errTooLong
		}
		switch {
		case err == nil:
			return line[:len(line)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, errors.New("exchange: the body ends before the envelope line does; expected the envelope JSON, a line feed, then the payload")
		default:
			return nil, err
		}
	}
}

// checkedReader streams a payload and fails at its end when the size or
// digest differ from the envelope's.
type checkedReader struct {
	r    io.Reader
	size int64
	h    hash.Hash
	want string
	n    int64
	sum  string
	err  error
}

func (c *checkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	k, err := c.r.Read(p)
	c.n += int64(k)
	c.h.Write(p[:k])
	switch {
	case c.n > c.size:
		c.err = fmt.Errorf("%w: more than the %d bytes the envelope says", ErrPayloadMismatch, c.size)
		return k, c.err
	case errors.Is(err, io.EOF):
		c.sum = fmt.Sprintf("%x", c.h.Sum(nil))
		switch {
		case c.n != c.size:
			c.err = fmt.Errorf("%w: %d bytes, the envelope says %d", ErrPayloadMismatch, c.n, c.size)
		case c.sum != c.want:
			c.err = fmt.Errorf("%w: digest %s, the envelope says %s", ErrPayloadMismatch, c.sum, c.want)
		default:
			c.err = io.EOF
		}
		return k, c.err
	}
	return k, err
}

// receiptFor returns the wire form of a signed delivery receipt for env.
func (n *Transport) receiptFor(env *Envelope, sum string) ([]byte, error) {
	now := n.now()
	line, body, err := n.signReceipt(env, &Receipt{Status: ReceiptDelivered, MessageID: env.ID, Received: NewTime(now), Digest: docdoc.Digest{Alg: env.Payload.Digest.Alg, Value: sum}}, now)
	if err != nil {
		return nil, err
	}
	return append(append(line, '\n'), body...), nil
}

// signReceipt returns the signed envelope (its JSON) and the payload of a
// receipt rc that answers env.
func (n *Transport) signReceipt(env *Envelope, rc *Receipt, now time.Time) (line, body []byte, err error) {
	body, err = MarshalReceipt(rc)
	if err != nil {
		return nil, nil, err
	}
	re := env.Reply(KindReceipt, n.cfg.Self, now)
	re.Resource = "" // a receipt of a refused data request calls no resource
	d, _, err := docdoc.ComputeDigest(bytes.NewReader(body), docdoc.SHA256)
	if err != nil {
		return nil, nil, err
	}
	re.Payload = Payload{MediaType: ReceiptMediaType, Size: int64(len(body)), Digest: d}
	if err := signEnvelope(re, n.cfg.Signer); err != nil {
		return nil, nil, err
	}
	line, err = Marshal(re)
	if err != nil {
		return nil, nil, err
	}
	return line, body, nil
}

// unauthenticatedBucket is the rate-limit bucket that the negative
// receipts for unknown senders share (no organ id is empty).
const unauthenticatedBucket = ""

// maxRefusalReason is the longest reason a negative receipt carries, in
// characters, as the receipt schema limits it.
const maxRefusalReason = 2000

// refusedMessage is what the endpoint knows of a message it refuses once
// the envelope has parsed.
type refusedMessage struct {
	env    *Envelope
	line   []byte // the envelope's JSON as received
	bucket string // the rate-limit bucket a negative receipt takes a token from
	sum    string // the digest of the payload received, once read to its end
}

// refuse answers a refusal p of the message m, with the node's signed
// negative receipt when the refusal is final and the bucket has a token
// left. A receipt that cannot be made leaves the refusal as it is.
func (n *Transport) refuse(w http.ResponseWriter, m refusedMessage, p Problem) {
	if !temporaryStatus(p.Status) {
		if _, ok := n.allow(m.bucket); ok {
			if sr, err := n.negativeReceipt(m, p); err == nil {
				p.Receipt = sr
			}
		}
	}
	writeProblem(w, p)
}

// negativeReceipt signs the receipt refusing m as p says.
func (n *Transport) negativeReceipt(m refusedMessage, p Problem) (*SignedReceipt, error) {
	ed, err := canonicalDigest(m.line, docdoc.SHA256)
	if err != nil {
		return nil, err
	}
	now := n.now()
	rc := &Receipt{Status: ReceiptRefused, MessageID: m.env.ID, Received: NewTime(now), EnvelopeDigest: &ed, Rule: p.Rule, Reason: refusalReason(p)}
	if m.sum != "" {
		rc.Digest = docdoc.Digest{Alg: m.env.Payload.Digest.Alg, Value: m.sum}
	}
	line, body, err := n.signReceipt(m.env, rc, now)
	if err != nil {
		return nil, err
	}
	return &SignedReceipt{Envelope: line, Payload: body}, nil
}

// refusalReason is a problem's detail as a negative receipt's reason:
// valid UTF-8, not blank, at most maxRefusalReason characters.
func refusalReason(p Problem) string {
	reason := strings.TrimSpace(strings.ToValidUTF8(p.Detail, "\uFFFD"))
	if reason == "" {
		reason = p.Rule
	}
	if utf8.RuneCountInString(reason) > maxRefusalReason {
		reason = string([]rune(reason)[:maxRefusalReason-1]) + "…"
	}
	return reason
}

// temporaryStatus reports whether a refusal with this status may succeed
// when retried (409, 429, 5xx); the others are final.
func temporaryStatus(status int) bool {
	return status == http.StatusConflict || status == http.StatusTooManyRequests || status >= 500
}

// bucket is a token bucket for one sender.
type bucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token from the sender's bucket, or says how long to wait.
func (n *Transport) allow(sender string) (time.Duration, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := n.now()
	b := n.buckets[sender]
	if b == nil {
		b = &bucket{tokens: float64(n.limits.Burst), last: now}
		n.buckets[sender] = b
	}
	b.tokens = min(float64(n.limits.Burst), b.tokens+now.Sub(b.last).Seconds()*n.limits.Rate)
	b.last = now
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) / n.limits.Rate * float64(time.Second)), false
	}
	b.tokens--
	return 0, true
}

// SendError is a refusal by the receiving node: its status and problem
// and, on a final refusal, the node's negative receipt (拒收回执) once
// verified.
type SendError struct {
	Status  int
	Problem Problem
	// Receipt is the receiving node's negative receipt, verified: a receipt
	// envelope signed with the signing certificate the directory registers
	// for the recipient node, addressed to this node, answering the message
	// sent; Refusal is its payload (status ReceiptRefused, with the rule of
	// the Problem, the reason, and the canonical digest of exactly the
	// envelope sent). Problem.Receipt then holds both as they came, to keep
	// ([OutboxEntry].Receipt). Nil when none came, or when it did not
	// verify.
	Receipt *Envelope
	Refusal *Receipt
	// ReceiptError says why a negative receipt that came with the refusal
	// was not trusted; the refusal stands, the receipt is dropped
	// (Problem.Receipt is nil).
	ReceiptError error
}

// Error implements error.
func (e *SendError) Error() string {
	msg := fmt.Sprintf("exchange: the recipient refused the message: %d %s: %s", e.Status, e.Problem.Rule, e.Problem.Detail)
	switch {
	case e.Receipt != nil:
		msg += fmt.Sprintf(" (signed negative receipt %s)", e.Receipt.ID)
	case e.ReceiptError != nil:
		msg += fmt.Sprintf(" (its negative receipt was not trusted: %v)", e.ReceiptError)
	}
	return msg
}

// Temporary reports whether a retry may succeed (409, 429, 500, 503): a
// 409 answers a recall or receipt that overtook its document.
func (e *SendError) Temporary() bool { return temporaryStatus(e.Status) }

// sendError reads the Problem of a refusal of env, whose JSON as sent is
// line, by the node to, and verifies its negative receipt if it has one.
func (n *Transport) sendError(ctx context.Context, status int, body io.Reader, dir *Directory, env *Envelope, line []byte, to Party) *SendError {
	var p Problem
	_ = json.NewDecoder(body).Decode(&p)
	se := &SendError{Status: status, Problem: p}
	if p.Receipt == nil {
		return se
	}
	se.Problem.Receipt = nil
	re, rc, err := n.verifyRefusal(ctx, p.Receipt, p, dir, env, line, to)
	if err != nil {
		se.ReceiptError = err
		return se
	}
	se.Problem.Receipt, se.Receipt, se.Refusal = p.Receipt, re, rc
	return se
}

// verifyRefusal checks that sr is the negative receipt of the refusal p of
// env (sent as line) by the node to: signed by to as the directory
// registers it, for this node, refusing env by p's rule, naming exactly
// the envelope sent.
func (n *Transport) verifyRefusal(ctx context.Context, sr *SignedReceipt, p Problem, dir *Directory, env *Envelope, line []byte, to Party) (*Envelope, *Receipt, error) {
	re, rc, err := sr.Open()
	if err != nil {
		return nil, nil, err
	}
	if err := VerifyEnvelope(ctx, re, dir, n.cfg.Verifier, n.cfg.Self, n.now()); err != nil {
		return nil, nil, fmt.Errorf("exchange: the negative receipt: %w", err)
	}
	switch {
	case re.Sender != to:
		return nil, nil, fmt.Errorf("exchange: the negative receipt is signed by %s; expected the recipient %s", re.Sender, to)
	case re.ReplyTo != env.ID:
		return nil, nil, fmt.Errorf("exchange: the negative receipt answers %s; expected %s", re.ReplyTo, env.ID)
	case rc.Status != ReceiptRefused:
		return nil, nil, fmt.Errorf("exchange: the receipt that came with the refusal is %s; expected %s", rc.Status, ReceiptRefused)
	case rc.Rule != p.Rule:
		return nil, nil, fmt.Errorf("exchange: the negative receipt refuses by rule %s, the problem by %s; expected the same rule", rc.Rule, p.Rule)
	}
	want, err := canonicalDigest(line, rc.EnvelopeDigest.Alg)
	if err != nil {
		return nil, nil, fmt.Errorf("exchange: the envelope sent: %w", err)
	}
	if want != *rc.EnvelopeDigest {
		return nil, nil, fmt.Errorf("exchange: the negative receipt names envelope digest %s, the envelope sent has %s; expected the envelope sent", rc.EnvelopeDigest.Value, want.Value)
	}
	return re, rc, nil
}

// Send signs env with this node's key and delivers it with its payload to
// one recipient node (see [Transport.Deliver]).
func (n *Transport) Send(ctx context.Context, env *Envelope, to Party, payload io.Reader) (*Envelope, *Receipt, error) {
	if err := n.Sign(env); err != nil {
		return nil, nil, err
	}
	return n.Deliver(ctx, env, to, payload)
}

// Sign signs env with this node's key.
func (n *Transport) Sign(env *Envelope) error { return SignEnvelope(env, n.cfg.Signer) }

// ErrUnknownRecipient is returned when the recipient node is not in the directory.
var ErrUnknownRecipient = errors.New("exchange: the recipient is not in the directory")

// Deliver sends an envelope this node has signed, as it is, with its
// payload to one recipient node, over mutual TLS with the recipient's
// certificate pinned to the directory, and returns the recipient's
// verified delivery receipt. payload must yield exactly env.Payload.Size
// bytes. A refusal by the recipient is a [*SendError], with the
// recipient's verified negative receipt when the refusal is final.
func (n *Transport) Deliver(ctx context.Context, env *Envelope, to Party, payload io.Reader) (*Envelope, *Receipt, error) {
	_, re, rc, err := n.deliver(ctx, env, to, payload)
	return re, rc, err
}

// deliver is Deliver that also returns the receipt as it came, envelope
// and payload, for the outbox to keep as evidence.
func (n *Transport) deliver(ctx context.Context, env *Envelope, to Party, payload io.Reader) (*SignedReceipt, *Envelope, *Receipt, error) {
	dir, err := n.cfg.Directory()
	if err != nil {
		return nil, nil, nil, err
	}
	node := dir.Node(to)
	if node == nil {
		return nil, nil, nil, fmt.Errorf("%w: %s", ErrUnknownRecipient, to)
	}
	if env.Signature == nil {
		return nil, nil, nil, fmt.Errorf("%w: message %s", ErrUnsigned, env.ID)
	}
	line, err := Marshal(env)
	if err != nil {
		return nil, nil, nil, err
	}
	body := io.MultiReader(bytes.NewReader(append(line, '\n')), io.LimitReader(payload, env.Payload.Size))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(node.Endpoint, "/")+MessagePath, body)
	if err != nil {
		return nil, nil, nil, err
	}
	req.ContentLength = int64(len(line)) + 1 + env.Payload.Size
	req.Header.Set("Content-Type", MessageMediaType)
	client := n.clientFor(node.TLSCertificate)
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, nil, err
	}
	defer resp.Body.Close()
	rb := bufio.NewReader(io.LimitReader(resp.Body, MaxEnvelopeSize+64<<10))
	if resp.StatusCode != http.StatusOK {
		return nil, nil, nil, n.sendError(ctx, resp.StatusCode, rb, dir, env, line, to)
	}
	return n.readReceipt(ctx, rb, dir, env)
}

// readReceipt reads and verifies a delivery receipt for env.
func (n *Transport) readReceipt(ctx context.Context, rb *bufio.Reader, dir *Directory, env *Envelope) (*SignedReceipt, *Envelope, *Receipt, error) {
	line, err := readLine(rb, MaxEnvelopeSize)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: reading the receipt: %w", err)
	}
	re, err := ParseEnvelopeBytes(line)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: the receipt envelope: %w", err)
	}
	if err := VerifyEnvelope(ctx, re, dir, n.cfg.Verifier, n.cfg.Self, n.now()); err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: the receipt: %w", err)
	}
	if re.Kind != KindReceipt || re.ReplyTo != env.ID {
		return nil, nil, nil, fmt.Errorf("exchange: the answer is a %s to %s; expected a receipt for %s", re.Kind, re.ReplyTo, env.ID)
	}
	h, err := docdoc.NewHash(re.Payload.Digest.Alg)
	if err != nil {
		return nil, nil, nil, err
	}
	cr := &checkedReader{r: io.LimitReader(rb, re.Payload.Size+1), size: re.Payload.Size, h: h, want: re.Payload.Digest.Value}
	body, err := io.ReadAll(cr)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: the receipt payload: %w", err)
	}
	rc, err := ParseReceipt(body)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("exchange: the receipt payload: %w", err)
	}
	if rc.Status != ReceiptDelivered || rc.MessageID != env.ID || rc.Digest.Value != env.Payload.Digest.Value {
		return nil, nil, nil, fmt.Errorf("exchange: the receipt acknowledges %s with digest %s; expected %s with %s", rc.MessageID, rc.Digest.Value, env.ID, env.Payload.Digest.Value)
	}
	return &SignedReceipt{Envelope: line, Payload: body}, re, rc, nil
}
