package exchange

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature"
)

// GatewayFileVersion is the configVersion of a gateway file.
const GatewayFileVersion = "egovkit-gateway/1"

// GatewayFile is the JSON configuration file of one node, as "egovkit
// gateway --config FILE" and its client commands read it, and as a
// department system that embeds its node reads it with [ReadGatewayFile]
// and [GatewayFile.Open]. Paths in it are relative to the file's
// directory. The README's "For an integrator" section documents each
// member; [ParseGatewayFile] checks them all.
type GatewayFile struct {
	// ConfigVersion is GatewayFileVersion.
	ConfigVersion string `json:"configVersion"`
	// Self is this node, as the directory lists it.
	Self Party `json:"self"`
	// Listen is the HOST:PORT the node's server listens on.
	Listen string `json:"listen"`
	// Store is the store's URL: sqlite:PATH or postgres://….
	Store string `json:"store"`
	// Spool is the directory of payloads too large to keep in the store.
	Spool string `json:"spool"`
	// Directory is where the operator's sealed directory comes from.
	Directory GatewayFileDirectory `json:"directory"`
	// Operator is the platform operator whose seal the directory must bear.
	Operator signature.Identity `json:"operator"`
	// TrustAnchors is a PEM file of the root certificates trusted for
	// seals and signatures.
	TrustAnchors string `json:"trustAnchors"`
	// Signing is the node's signing key and certificate chain (PEM).
	Signing GatewayFileKey `json:"signing"`
	// TLS is the node's TLS key and certificate (PEM).
	TLS GatewayFileTLS `json:"tls"`
	// PollInterval is how often the outbox looks for retries that came
	// due (2s when empty); RefreshInterval how often the directory is
	// refreshed (5m); Lease how long a claimed outbox entry stays this
	// process's (2m). Go durations.
	PollInterval    string `json:"pollInterval,omitempty"`
	RefreshInterval string `json:"refreshInterval,omitempty"`
	Lease           string `json:"lease,omitempty"`
	// Retry is the outbox's retry policy (DefaultRetryPolicy when absent).
	Retry *GatewayFileRetry `json:"retry,omitempty"`
	// Limits bound what the node accepts (TransportLimits' defaults when
	// absent).
	Limits *GatewayFileLimits `json:"limits,omitempty"`
	// Encryption is the node's decryption key, for a node that receives
	// classified documents.
	Encryption *GatewayFileEncryption `json:"encryption,omitempty"`

	limits        *TransportLimits
	file          string // the file's path
	dir           string // the file's directory
	poll, refresh time.Duration
	lease         time.Duration // zero: the outbox's default
	policy        RetryPolicy
}

// GatewayFileDirectory names the source of the directory: exactly one of
// a file and an http(s) URL.
type GatewayFileDirectory struct {
	File string `json:"file,omitempty"`
	URL  string `json:"url,omitempty"`
}

// GatewayFileKey is a signing key and its certificate chain, PEM files.
type GatewayFileKey struct {
	Key   string `json:"key"`
	Chain string `json:"chain"`
}

// GatewayFileTLS is a TLS key and certificate, PEM files.
type GatewayFileTLS struct {
	Key         string `json:"key"`
	Certificate string `json:"certificate"`
}

// GatewayFileEncryption is the node's decryption key (PKCS #8 PEM, X25519
// or SM2).
type GatewayFileEncryption struct {
	Key string `json:"key"`
}

// GatewayFileRetry is a retry policy: durations and the attempts (1 to
// 1000).
type GatewayFileRetry struct {
	Base     string `json:"base"`
	Max      string `json:"max"`
	Attempts int    `json:"attempts"`
}

// GatewayFileLimits are the transport's limits; zero takes the default.
type GatewayFileLimits struct {
	MaxPayload int64   `json:"maxPayload,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Burst      int     `json:"burst,omitempty"`
}

// GatewayFileError holds every problem of a gateway file, each with its
// JSON Pointer, rule id (gateway.config.…) and message.
type GatewayFileError struct {
	File       string
	Violations []Violation
}

// Error lists the problems, one a line.
func (e *GatewayFileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: invalid gateway configuration: %d problem(s)", e.File, len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

var nodePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,62}$`)

// ReadGatewayFile reads and checks the gateway file at path (see
// [ParseGatewayFile]).
func ReadGatewayFile(path string) (*GatewayFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseGatewayFile(data, path)
}

// ParseGatewayFile reads a gateway file's bytes strictly: strict JSON (no
// duplicate names, valid UTF-8, at most 1 MB), no unknown members, and
// every member checked. Every problem is reported, in a
// [*GatewayFileError]. path names the file in messages and is what
// relative paths in it are resolved against.
func ParseGatewayFile(data []byte, path string) (*GatewayFile, error) {
	file := path
	var vs []Violation
	add := func(ptr, rule, format string, args ...any) {
		vs = append(vs, Violation{Pointer: ptr, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	fail := func() error { return &GatewayFileError{File: file, Violations: vs} }
	if _, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: 1 << 20, MaxDepth: 8}); err != nil {
		var je *strictjson.Error
		if errors.As(err, &je) {
			add(je.Pointer, "gateway.config.json."+je.Code.String(), "%s", strings.TrimPrefix(je.Error(), "json: "))
			return nil, fail()
		}
		return nil, err
	}
	var c GatewayFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		add("", "gateway.config.shape", "%v; expected the members that the README's gateway section lists, with their types", err)
		return nil, fail()
	}
	c.file, c.dir = file, filepath.Dir(file)
	if c.ConfigVersion != GatewayFileVersion {
		add("/configVersion", "gateway.config.version", "configVersion %q; expected %q", c.ConfigVersion, GatewayFileVersion)
	}
	if err := docdoc.CheckOrgID(c.Self.OrgID); err != nil {
		add("/self/orgId", "gateway.config.org-id", "%v; expected this organ's 统一社会信用代码", err)
	}
	if !nodePattern.MatchString(c.Self.Node) {
		add("/self/node", "gateway.config.node", "node %q; expected the node's id as the directory lists it, such as gw1", c.Self.Node)
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		add("/listen", "gateway.config.listen", "listen %q: %v; expected HOST:PORT, such as 127.0.0.1:8443 (port 0 picks a free one)", c.Listen, err)
	}
	if c.Store == "" {
		add("/store", "gateway.config.required", "expected the store's URL: sqlite:PATH or postgres://...")
	} else if !strings.HasPrefix(c.Store, "sqlite:") && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		add("/store", "gateway.config.store", "store %q; expected sqlite:PATH or postgres://...", c.Store)
	}
	required := map[string]string{"/spool": c.Spool, "/trustAnchors": c.TrustAnchors, "/signing/key": c.Signing.Key, "/signing/chain": c.Signing.Chain,
		"/tls/key": c.TLS.Key, "/tls/certificate": c.TLS.Certificate}
	for _, ptr := range []string{"/spool", "/trustAnchors", "/signing/key", "/signing/chain", "/tls/key", "/tls/certificate"} {
		if required[ptr] == "" {
			add(ptr, "gateway.config.required", "expected a path (relative to the configuration's directory)")
		}
	}
	switch {
	case (c.Directory.File == "") == (c.Directory.URL == ""):
		add("/directory", "gateway.config.directory", "expected exactly one of file and url")
	case c.Directory.URL != "" && !strings.HasPrefix(c.Directory.URL, "https://") && !strings.HasPrefix(c.Directory.URL, "http://"):
		add("/directory/url", "gateway.config.directory", "url %q; expected an http(s) URL", c.Directory.URL)
	}
	if err := docdoc.CheckOrgID(c.Operator.OrgID); err != nil || c.Operator.Name == "" {
		add("/operator", "gateway.config.operator", "expected the platform operator's identity to trust: its name and 统一社会信用代码")
	}
	duration := func(ptr, s string, def time.Duration) time.Duration {
		if s == "" {
			return def
		}
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			add(ptr, "gateway.config.duration", "%q; expected a positive Go duration, such as 2s or 5m", s)
			return def
		}
		return d
	}
	c.poll = duration("/pollInterval", c.PollInterval, 2*time.Second)
	c.refresh = duration("/refreshInterval", c.RefreshInterval, 5*time.Minute)
	// The outbox lease: how long an entry a worker claimed stays its. After
	// a crash, the entries the dead process had claimed are delivered again
	// once their lease ends.
	c.lease = duration("/lease", c.Lease, 0)
	c.policy = DefaultRetryPolicy
	if c.Retry != nil {
		c.policy = RetryPolicy{Base: duration("/retry/base", c.Retry.Base, 0), Max: duration("/retry/max", c.Retry.Max, 0), Attempts: c.Retry.Attempts}
		if c.Retry.Attempts < 1 || c.Retry.Attempts > 1000 {
			add("/retry/attempts", "gateway.config.retry", "attempts %d; expected 1 to 1000", c.Retry.Attempts)
		}
		if c.policy.Base > c.policy.Max {
			add("/retry", "gateway.config.retry", "base %s is above max %s; expected base <= max", c.policy.Base, c.policy.Max)
		}
	}
	if l := c.Limits; l != nil {
		if l.MaxPayload < 0 || l.Rate < 0 || l.Burst < 0 {
			add("/limits", "gateway.config.limits", "expected limits that are not negative (zero takes the default)")
		}
		c.limits = &TransportLimits{MaxPayload: l.MaxPayload, Rate: l.Rate, Burst: l.Burst}
	}
	if c.Encryption != nil && c.Encryption.Key == "" {
		add("/encryption/key", "gateway.config.required", "expected the path of the node's X25519 or SM2 decryption key (PKCS #8 PEM)")
	}
	if len(vs) > 0 {
		return nil, fail()
	}
	return &c, nil
}

// Path resolves a path of the file against the file's directory.
func (c *GatewayFile) Path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// StoreURL is the store's URL, a relative sqlite: path resolved.
func (c *GatewayFile) StoreURL() string {
	if p, ok := strings.CutPrefix(c.Store, "sqlite:"); ok {
		return "sqlite:" + c.Path(p)
	}
	return c.Store
}

// Intervals returns the outbox's poll interval and the directory's
// refresh interval, defaults applied: what [Gateway.Run] takes.
func (c *GatewayFile) Intervals() (poll, refresh time.Duration) { return c.poll, c.refresh }

// Open opens the node the file configures: it reads the keys and
// certificates, loads and verifies the directory (which must open now),
// and opens the store and the spool. The gateway owns what it opened:
// [Gateway.Close] closes it. logger receives the gateway's background
// outcomes (discarded when nil).
func (c *GatewayFile) Open(ctx context.Context, logger *slog.Logger) (*Gateway, error) {
	read := func(what, p string) ([]byte, error) {
		b, err := os.ReadFile(c.Path(p))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return b, nil
	}
	anchors, err := read("trustAnchors", c.TrustAnchors)
	if err != nil {
		return nil, err
	}
	roots, err := signature.ParseCertificatesPEM(anchors)
	if err != nil {
		return nil, fmt.Errorf("trustAnchors: %w", err)
	}
	v, err := signature.NewVerifier(roots)
	if err != nil {
		return nil, err
	}
	keyPEM, err := read("signing.key", c.Signing.Key)
	if err != nil {
		return nil, err
	}
	key, err := signature.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("signing.key: %w", err)
	}
	chainPEM, err := read("signing.chain", c.Signing.Chain)
	if err != nil {
		return nil, err
	}
	chain, err := signature.ParseCertificatesPEM(chainPEM)
	if err != nil {
		return nil, fmt.Errorf("signing.chain: %w", err)
	}
	signer, err := signature.NewSigner(key, chain)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	tlsCert, err := tls.LoadX509KeyPair(c.Path(c.TLS.Certificate), c.Path(c.TLS.Key))
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	source := FileSource(c.Path(c.Directory.File))
	if c.Directory.URL != "" {
		source = URLSource(nil, c.Directory.URL)
	}
	keeper, err := NewDirectoryKeeper(source, v, c.Operator, time.Now)
	if err != nil {
		return nil, err
	}
	if err := keeper.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	spool, err := OpenSpool(c.Path(c.Spool))
	if err != nil {
		return nil, err
	}
	var dec *Decrypter
	if c.Encryption != nil {
		if dec, err = c.openDecrypter(keeper); err != nil {
			return nil, err
		}
	}
	store, err := OpenStore(ctx, c.StoreURL())
	if err != nil {
		return nil, err
	}
	gc := GatewayConfig{Decrypter: dec, Self: c.Self, Directory: keeper, Verifier: v, Signer: signer, TLSCertificate: tlsCert, Store: store, Spool: spool,
		Policy: c.policy, Lease: c.lease, Logger: logger}
	if c.limits != nil {
		gc.Limits = *c.limits
	}
	g, err := NewGateway(gc)
	if err != nil {
		store.Close()
		return nil, err
	}
	g.closers = append(g.closers, store.Close)
	return g, nil
}

// openDecrypter reads the node's decryption key and checks that it is the
// one the directory lists for the node.
func (c *GatewayFile) openDecrypter(keeper *DirectoryKeeper) (*Decrypter, error) {
	data, err := os.ReadFile(c.Path(c.Encryption.Key))
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	key, err := ParseDecryptionKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	dec, err := NewDecrypter(c.Self, key)
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	pub, err := MarshalEncryptionKey(dec.PublicKey())
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	dir, err := keeper.Current()
	if err != nil {
		return nil, err
	}
	if n := dir.Node(c.Self); n == nil || !bytes.Equal(n.EncryptionKey, pub) {
		return nil, fmt.Errorf("encryption.key: not the key the directory lists for %s", c.Self)
	}
	return dec, nil
}
