package main

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
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature"
)

// gatewayConfigVersion is the configVersion of every gateway configuration.
const gatewayConfigVersion = "egovkit-gateway/1"

// gatewayConfig is the JSON configuration of one node (egovkit gateway
// --config FILE). Paths are relative to the file's directory.
type gatewayConfig struct {
	ConfigVersion   string             `json:"configVersion"`
	Self            exchange.Party     `json:"self"`
	Listen          string             `json:"listen"`
	Store           string             `json:"store"`
	Spool           string             `json:"spool"`
	Directory       configDirectory    `json:"directory"`
	Operator        signature.Identity `json:"operator"`
	TrustAnchors    string             `json:"trustAnchors"`
	Signing         configSigning      `json:"signing"`
	TLS             configTLS          `json:"tls"`
	PollInterval    string             `json:"pollInterval,omitempty"`
	RefreshInterval string             `json:"refreshInterval,omitempty"`
	Lease           string             `json:"lease,omitempty"`
	Retry           *configRetry       `json:"retry,omitempty"`
	Limits          *configLimits      `json:"limits,omitempty"`
	Encryption      *configEncryption  `json:"encryption,omitempty"`

	limits        *exchange.TransportLimits
	dir           string // the file's directory
	poll, refresh time.Duration
	lease         time.Duration // zero: the outbox's default
	policy        exchange.RetryPolicy
}

type configDirectory struct {
	File string `json:"file,omitempty"`
	URL  string `json:"url,omitempty"`
}

type configSigning struct {
	Key   string `json:"key"`
	Chain string `json:"chain"`
}

type configTLS struct {
	Key         string `json:"key"`
	Certificate string `json:"certificate"`
}

type configEncryption struct {
	Key string `json:"key"`
}

type configRetry struct {
	Base     string `json:"base"`
	Max      string `json:"max"`
	Attempts int    `json:"attempts"`
}

type configLimits struct {
	MaxPayload int64   `json:"maxPayload,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Burst      int     `json:"burst,omitempty"`
}

// configError holds every problem of a gateway configuration.
type configError struct {
	file       string
	violations []exchange.Violation
}

func (e *configError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: invalid gateway configuration: %d problem(s)", e.file, len(e.violations))
	for _, v := range e.violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

var nodePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{0,62}$`)

// parseGatewayConfig reads a configuration strictly: strict JSON (no
// duplicate names, valid UTF-8, at most 1 MB), no unknown members, and
// every member checked; every problem is reported.
func parseGatewayConfig(data []byte, file string) (*gatewayConfig, error) {
	var vs []exchange.Violation
	add := func(ptr, rule, format string, args ...any) {
		vs = append(vs, exchange.Violation{Pointer: ptr, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	fail := func() error { return &configError{file: file, violations: vs} }
	if _, err := strictjson.Parse(data, strictjson.Limits{MaxBytes: 1 << 20, MaxDepth: 8}); err != nil {
		var je *strictjson.Error
		if errors.As(err, &je) {
			add(je.Pointer, "gateway.config.json."+je.Code.String(), "%s", strings.TrimPrefix(je.Error(), "json: "))
			return nil, fail()
		}
		return nil, err
	}
	var c gatewayConfig
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		add("", "gateway.config.shape", "%v; expected the members that the README's gateway section lists, with their types", err)
		return nil, fail()
	}
	c.dir = filepath.Dir(file)
	if c.ConfigVersion != gatewayConfigVersion {
		add("/configVersion", "gateway.config.version", "configVersion %q; expected %q", c.ConfigVersion, gatewayConfigVersion)
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
	c.policy = exchange.DefaultRetryPolicy
	if c.Retry != nil {
		c.policy = exchange.RetryPolicy{Base: duration("/retry/base", c.Retry.Base, 0), Max: duration("/retry/max", c.Retry.Max, 0), Attempts: c.Retry.Attempts}
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
		c.limits = &exchange.TransportLimits{MaxPayload: l.MaxPayload, Rate: l.Rate, Burst: l.Burst}
	}
	if c.Encryption != nil && c.Encryption.Key == "" {
		add("/encryption/key", "gateway.config.required", "expected the path of the node's X25519 or SM2 decryption key (PKCS #8 PEM)")
	}
	if len(vs) > 0 {
		return nil, fail()
	}
	return &c, nil
}

// path resolves a configured path against the configuration's directory.
func (c *gatewayConfig) path(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// storeURL resolves a relative sqlite: path.
func (c *gatewayConfig) storeURL() string {
	if p, ok := strings.CutPrefix(c.Store, "sqlite:"); ok {
		return "sqlite:" + c.path(p)
	}
	return c.Store
}

// node is a gateway opened from its configuration.
type node struct {
	cfg   *gatewayConfig
	gw    *exchange.Gateway
	store *exchange.SQLStore
	spool *exchange.Spool
	dir   *exchange.DirectoryKeeper
}

func (n *node) Close() error { return n.store.Close() }

// openNode reads a configuration and opens its node: keys, certificates,
// the directory (which must open now), the store and the spool.
func openNode(ctx context.Context, file string, logger *slog.Logger) (*node, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	c, err := parseGatewayConfig(data, file)
	if err != nil {
		return nil, err
	}
	read := func(what, p string) ([]byte, error) {
		b, err := os.ReadFile(c.path(p))
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
	tlsCert, err := tls.LoadX509KeyPair(c.path(c.TLS.Certificate), c.path(c.TLS.Key))
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	source := exchange.FileSource(c.path(c.Directory.File))
	if c.Directory.URL != "" {
		source = exchange.URLSource(nil, c.Directory.URL)
	}
	keeper, err := exchange.NewDirectoryKeeper(source, v, c.Operator, time.Now)
	if err != nil {
		return nil, err
	}
	if err := keeper.Refresh(ctx); err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	spool, err := exchange.OpenSpool(c.path(c.Spool))
	if err != nil {
		return nil, err
	}
	store, err := exchange.OpenStore(ctx, c.storeURL())
	if err != nil {
		return nil, err
	}
	var dec *exchange.Decrypter
	if c.Encryption != nil {
		if dec, err = openDecrypter(c, keeper); err != nil {
			return nil, err
		}
	}
	gc := exchange.GatewayConfig{Decrypter: dec, Self: c.Self, Directory: keeper, Verifier: v, Signer: signer, TLSCertificate: tlsCert, Store: store, Spool: spool, Policy: c.policy, Lease: c.lease, Logger: logger}
	if c.limits != nil {
		gc.Limits = *c.limits
	}
	gw, err := exchange.NewGateway(gc)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &node{cfg: c, gw: gw, store: store, spool: spool, dir: keeper}, nil
}

// openDecrypter reads the node's decryption key and checks that it is the
// one the directory lists for the node.
func openDecrypter(c *gatewayConfig, keeper *exchange.DirectoryKeeper) (*exchange.Decrypter, error) {
	data, err := os.ReadFile(c.path(c.Encryption.Key))
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	key, err := exchange.ParseDecryptionKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	dec, err := exchange.NewDecrypter(c.Self, key)
	if err != nil {
		return nil, fmt.Errorf("encryption.key: %w", err)
	}
	pub, err := exchange.MarshalEncryptionKey(dec.PublicKey())
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
