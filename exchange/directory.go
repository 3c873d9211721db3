package exchange

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/schemacheck"
	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature"
)

//go:embed schema/directory.schema.json
var directorySchemaJSON []byte

// DirectorySchemaID is the $id of the directory schema.
const DirectorySchemaID = "https://schemas.egovkit.org/exchange/1/directory.schema.json"

// DirectorySpecVersion is the specVersion of every directory.
const DirectorySpecVersion = "exchange-directory/1"

// Limits on a directory's JSON form.
const (
	MaxDirectorySize  = 64 << 20
	MaxDirectoryDepth = 16
)

// DirectorySchema returns the JSON Schema (draft 2020-12) of directories.
// The returned slice is a copy.
func DirectorySchema() []byte { return append([]byte(nil), directorySchemaJSON...) }

var directorySchema = sync.OnceValues(func() (*schemacheck.Schema, error) {
	return schemacheck.CompileJSON(DirectorySchemaID, directorySchemaJSON, "exchange")
})

// Directory is one edition of the platform operator's list of members,
// their nodes, their data resources and the grants between them (交换目录).
// It is read-only once parsed and safe for concurrent use.
type Directory struct {
	SpecVersion    string             `json:"specVersion"`
	Serial         int64              `json:"serial"`
	Issued         Time               `json:"issued"`
	Expires        Time               `json:"expires"`
	Operator       signature.Identity `json:"operator"`
	Members        []Member           `json:"members"`
	DataGrants     []DataGrant        `json:"dataGrants,omitempty"`
	DocumentGrants []DocumentGrant    `json:"documentGrants,omitempty"`

	members   map[string]*Member
	resources map[string]resourceRef
	data      map[[2]string]bool // resource, consumer
}

// Member is a member organ.
type Member struct {
	Name      string     `json:"name"`
	OrgID     string     `json:"orgId"`
	Nodes     []Node     `json:"nodes"`
	Resources []Resource `json:"resources,omitempty"`
}

// Node is a node of a member: its endpoint and its two certificates.
type Node struct {
	ID                 string `json:"id"`
	Endpoint           string `json:"endpoint"`
	TLSCertificate     []byte `json:"tlsCertificate"`     // DER
	SigningCertificate []byte `json:"signingCertificate"` // DER
	// EncryptionKey is the DER SubjectPublicKeyInfo of the key that
	// classified documents are encrypted to (X25519 or SM2); optional.
	EncryptionKey []byte `json:"encryptionKey,omitempty"`

	tls, signing *x509.Certificate
	encryption   crypto.PublicKey
}

// EncryptionPublicKey returns the node's encryption key (an
// *ecdh.PublicKey for X25519, an *ecdsa.PublicKey on the SM2 curve), or
// nil when the directory lists none.
func (n *Node) EncryptionPublicKey() crypto.PublicKey { return n.encryption }

// TLSCert returns the certificate the node presents in mutual TLS.
func (n *Node) TLSCert() *x509.Certificate { return n.tls }

// SigningCert returns the certificate the node signs envelopes with.
func (n *Node) SigningCert() *x509.Certificate { return n.signing }

// Resource is a data resource a member publishes through one of its nodes.
type Resource struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Node string `json:"node"`
}

// DataGrant lets consumer call resource.
type DataGrant struct {
	Resource string `json:"resource"`
	Consumer string `json:"consumer"`
}

// DocumentGrant lets From send documents of Types (every type when empty)
// to To, or to every member when To is "*".
type DocumentGrant struct {
	From  string        `json:"from"`
	To    string        `json:"to"`
	Types []docdoc.Type `json:"types,omitempty"`
}

type resourceRef struct {
	member   *Member
	resource *Resource
}

// Member returns the member with the given 统一社会信用代码, or nil.
func (d *Directory) Member(orgID string) *Member { return d.members[orgID] }

// Node returns the node of a member, or nil.
func (d *Directory) Node(p Party) *Node {
	m := d.members[p.OrgID]
	if m == nil {
		return nil
	}
	for i := range m.Nodes {
		if m.Nodes[i].ID == p.Node {
			return &m.Nodes[i]
		}
	}
	return nil
}

// Resource returns a data resource and the party (organ and node) that
// provides it.
func (d *Directory) Resource(id string) (*Resource, Party, bool) {
	r, ok := d.resources[id]
	if !ok {
		return nil, Party{}, false
	}
	return r.resource, Party{OrgID: r.member.OrgID, Node: r.resource.Node}, true
}

// MayCall reports whether consumer holds a grant for resource. Publishing a
// resource grants nothing by itself; not even its provider is exempt.
func (d *Directory) MayCall(consumer, resource string) bool {
	return d.data[[2]string{resource, consumer}]
}

// MaySend reports whether from may send a document of type t to to.
func (d *Directory) MaySend(from, to string, t docdoc.Type) bool {
	if d.members[from] == nil || d.members[to] == nil {
		return false
	}
	for _, g := range d.DocumentGrants {
		if g.From != from || (g.To != to && g.To != "*") {
			continue
		}
		if len(g.Types) == 0 {
			return true
		}
		for _, gt := range g.Types {
			if gt == t {
				return true
			}
		}
	}
	return false
}

// Expired reports whether the edition no longer serves at now.
func (d *Directory) Expired(now time.Time) bool { return !now.Before(d.Expires.Time) }

// ErrInvalidDirectory matches every [*DirectoryError] with errors.Is.
var ErrInvalidDirectory = errors.New("exchange: invalid directory")

// DirectoryError holds every violation found in a directory.
type DirectoryError struct {
	Violations []Violation
}

// Error implements error.
func (e *DirectoryError) Error() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "exchange: invalid directory: %d violation(s)", len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  %s: %s: %s", v.Pointer, v.Rule, v.Message)
	}
	return b.String()
}

// Is reports whether target is [ErrInvalidDirectory].
func (e *DirectoryError) Is(target error) bool { return target == ErrInvalidDirectory }

var directoryLimits = strictjson.Limits{MaxBytes: MaxDirectorySize, MaxDepth: MaxDirectoryDepth}

// ParseDirectory reads a directory strictly, validates it against the
// schema and checks what a schema cannot: check characters, expires after
// issued, each organ, node and resource id once, resources served by a
// node of their member, grants that name existing resources and members,
// and certificates that parse (X.509, including SM2). It does not verify
// the operator's seal: [OpenDirectory] does.
func ParseDirectory(data []byte) (*Directory, error) {
	tree, err := strictjson.Parse(data, directoryLimits)
	if err != nil {
		var je *strictjson.Error
		if errors.As(err, &je) {
			return nil, &DirectoryError{Violations: []Violation{{Pointer: je.Pointer, Rule: "exchange.json." + je.Code.String(), Message: je.Error()[len("json: "):]}}}
		}
		return nil, err
	}
	sch, err := directorySchema()
	if err != nil {
		return nil, fmt.Errorf("exchange: embedded directory schema: %w", err)
	}
	vs := violations(sch.Validate(tree))
	var d Directory
	if len(vs) == 0 {
		// The schema holds, so every member has the shape the types need.
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("exchange: decoding directory: %w", err)
		}
		d.index(&vs)
	}
	if len(vs) > 0 {
		return nil, &DirectoryError{Violations: schemacheck.Sorted[Violation](vs)}
	}
	return &d, nil
}

func (d *Directory) index(vs *violations) {
	if !d.Expires.After(d.Issued.Time) {
		vs.Add("/expires", "exchange.time.order", "expires %s is not after issued %s; expected a later instant", d.Expires.Format(time.RFC3339), d.Issued.Format(time.RFC3339))
	}
	checkID := func(ptr, id string) {
		want, err := docdoc.OrgIDCheckCharacter(id[:17])
		if err == nil && id[17] != want {
			vs.Add(ptr, "exchange.org-id.check-digit", "unified social credit identifier %q has check character %c; expected %c (GB 32100-2015)", id, id[17], want)
		}
	}
	checkID("/operator/orgId", d.Operator.OrgID)
	d.members = map[string]*Member{}
	d.resources = map[string]resourceRef{}
	d.data = map[[2]string]bool{}
	for i := range d.Members {
		m := &d.Members[i]
		mp := "/members/" + strconv.Itoa(i)
		checkID(mp+"/orgId", m.OrgID)
		if _, dup := d.members[m.OrgID]; dup {
			vs.Add(mp+"/orgId", "exchange.directory.duplicate-member", "organ %s is listed twice; expected each member once", m.OrgID)
			continue
		}
		d.members[m.OrgID] = m
		nodes := map[string]bool{}
		for j := range m.Nodes {
			n := &m.Nodes[j]
			np := mp + "/nodes/" + strconv.Itoa(j)
			if nodes[n.ID] {
				vs.Add(np+"/id", "exchange.directory.duplicate-node", "node %q of %s is listed twice; expected each node once", n.ID, m.OrgID)
			}
			nodes[n.ID] = true
			var err error
			if n.tls, err = signature.ParseCertificate(n.TLSCertificate); err != nil {
				vs.Add(np+"/tlsCertificate", "exchange.certificate.invalid", "not an X.509 certificate: %v; expected base64 of a DER certificate", err)
			}
			if n.signing, err = signature.ParseCertificate(n.SigningCertificate); err != nil {
				vs.Add(np+"/signingCertificate", "exchange.certificate.invalid", "not an X.509 certificate: %v; expected base64 of a DER certificate", err)
			}
			if n.EncryptionKey != nil {
				if n.encryption, err = parseEncryptionKey(n.EncryptionKey); err != nil {
					vs.Add(np+"/encryptionKey", "exchange.encryption-key.invalid", "%v; expected base64 of the DER SubjectPublicKeyInfo of an X25519 or SM2 key", err)
				}
			}
		}
		for j := range m.Resources {
			r := &m.Resources[j]
			rp := mp + "/resources/" + strconv.Itoa(j)
			if _, dup := d.resources[r.ID]; dup {
				vs.Add(rp+"/id", "exchange.directory.duplicate-resource", "resource %q is already published by %s; expected each resource id once in the directory", r.ID, d.resources[r.ID].member.OrgID)
				continue
			}
			if !nodes[r.Node] {
				vs.Add(rp+"/node", "exchange.directory.resource-node", "resource %q is served by node %q, which %s does not have; expected one of its nodes", r.ID, r.Node, m.OrgID)
			}
			d.resources[r.ID] = resourceRef{member: m, resource: r}
		}
	}
	for i, g := range d.DataGrants {
		gp := "/dataGrants/" + strconv.Itoa(i)
		if _, ok := d.resources[g.Resource]; !ok {
			vs.Add(gp+"/resource", "exchange.directory.unknown-resource", "grant for resource %q, which no member publishes; expected a published resource", g.Resource)
		}
		if d.members[g.Consumer] == nil {
			vs.Add(gp+"/consumer", "exchange.directory.unknown-member", "grant to %s, which is not a member; expected a member organ", g.Consumer)
		}
		d.data[[2]string{g.Resource, g.Consumer}] = true
	}
	for i, g := range d.DocumentGrants {
		gp := "/documentGrants/" + strconv.Itoa(i)
		if d.members[g.From] == nil {
			vs.Add(gp+"/from", "exchange.directory.unknown-member", "grant from %s, which is not a member; expected a member organ", g.From)
		}
		if g.To != "*" && d.members[g.To] == nil {
			vs.Add(gp+"/to", "exchange.directory.unknown-member", "grant to %s, which is not a member; expected a member organ or *", g.To)
		}
	}
}

// MarshalDirectory returns a directory's JSON form (without seals) for the
// operator to seal with [SealDirectory].
func MarshalDirectory(d *Directory) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ErrNotOperator is returned when a directory is sealed, or expected to be
// sealed, by someone other than its operator.
var ErrNotOperator = errors.New("exchange: the directory's seal is not its operator's")

// SealDirectory checks a directory and returns it with the operator's seal
// by s, whose seal identity must be the directory's operator.
func SealDirectory(data []byte, s *signature.Signer) ([]byte, error) {
	d, err := ParseDirectory(data)
	if err != nil {
		return nil, err
	}
	if s.Identity() != d.Operator {
		return nil, fmt.Errorf("%w: the signer is %s, the operator %s", ErrNotOperator, s.Identity(), d.Operator)
	}
	return signature.SealDocument(data, s)
}

// Errors of [OpenDirectory] and [DirectoryKeeper].
var (
	// ErrDirectoryExpired: the edition has expired; nodes stop accepting
	// messages until they hold a newer one.
	ErrDirectoryExpired = errors.New("exchange: the directory has expired")
	// ErrDirectoryRollback: an edition older than the one held.
	ErrDirectoryRollback = errors.New("exchange: the directory is older than the one held")
)

// OpenDirectory parses a sealed directory, verifies that it carries a valid
// seal of operator (the identity the node is configured to trust, never
// the one the directory names) under v's trust anchors, and that it has
// not expired at now.
func OpenDirectory(ctx context.Context, data []byte, v *signature.Verifier, operator signature.Identity, now time.Time) (*Directory, error) {
	d, err := ParseDirectory(data)
	if err != nil {
		return nil, err
	}
	if d.Operator != operator {
		return nil, fmt.Errorf("%w: it names %s, this node trusts %s", ErrNotOperator, d.Operator, operator)
	}
	if _, err := signature.VerifyDocument(ctx, data, v, signature.Policy{RequiredIssuers: []signature.Identity{operator}}); err != nil {
		return nil, fmt.Errorf("exchange: directory seal: %w", err)
	}
	if d.Expired(now) {
		return nil, fmt.Errorf("%w: edition %d expired at %s", ErrDirectoryExpired, d.Serial, d.Expires.Format(time.RFC3339))
	}
	return d, nil
}

// DirectoryKeeper holds a node's current directory: it refreshes it from a
// source, keeps working on the last good edition when a refresh fails, never
// goes back to an older edition, and stops serving one that has expired.
// It is safe for concurrent use.
type DirectoryKeeper struct {
	fetch    func(ctx context.Context) ([]byte, error)
	verifier *signature.Verifier
	operator signature.Identity
	now      func() time.Time

	mu      sync.RWMutex
	current *Directory
	lastErr error
}

// NewDirectoryKeeper returns a keeper that fetches editions with fetch (see
// [FileSource]), verifies them with v as sealed by operator, and reads the
// time from now.
func NewDirectoryKeeper(fetch func(ctx context.Context) ([]byte, error), v *signature.Verifier, operator signature.Identity, now func() time.Time) (*DirectoryKeeper, error) {
	if fetch == nil || v == nil || now == nil {
		return nil, errors.New("exchange: a directory keeper needs a source, a verifier and a clock")
	}
	if operator.IsZero() {
		return nil, errors.New("exchange: a directory keeper needs the operator's identity to trust")
	}
	return &DirectoryKeeper{fetch: fetch, verifier: v, operator: operator, now: now}, nil
}

// Refresh fetches and verifies an edition and adopts it if it is newer than
// the one held. On any failure the held edition stays, and the error is
// returned (and kept for [DirectoryKeeper.LastError]).
func (k *DirectoryKeeper) Refresh(ctx context.Context) error {
	err := k.refresh(ctx)
	k.mu.Lock()
	k.lastErr = err
	k.mu.Unlock()
	return err
}

func (k *DirectoryKeeper) refresh(ctx context.Context) error {
	data, err := k.fetch(ctx)
	if err != nil {
		return fmt.Errorf("exchange: fetching the directory: %w", err)
	}
	d, err := OpenDirectory(ctx, data, k.verifier, k.operator, k.now())
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current != nil && d.Serial < k.current.Serial {
		return fmt.Errorf("%w: fetched edition %d, holding %d", ErrDirectoryRollback, d.Serial, k.current.Serial)
	}
	k.current = d
	return nil
}

// Current returns the edition held, or an error when there is none yet or
// it has expired ([ErrDirectoryExpired]).
func (k *DirectoryKeeper) Current() (*Directory, error) {
	k.mu.RLock()
	d, last := k.current, k.lastErr
	k.mu.RUnlock()
	if d == nil {
		if last != nil {
			return nil, fmt.Errorf("exchange: no directory yet: %w", last)
		}
		return nil, errors.New("exchange: no directory yet; call Refresh")
	}
	if d.Expired(k.now()) {
		return nil, fmt.Errorf("%w: edition %d expired at %s", ErrDirectoryExpired, d.Serial, d.Expires.Format(time.RFC3339))
	}
	return d, nil
}

// LastError returns the outcome of the last refresh (nil if it succeeded).
func (k *DirectoryKeeper) LastError() error {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.lastErr
}

// EncodeCertificate returns a certificate's directory form (base64 DER).
func EncodeCertificate(c *x509.Certificate) string {
	return base64.StdEncoding.EncodeToString(c.Raw)
}

// FileSource returns a directory source that reads a file.
func FileSource(path string) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return strictjson.ReadAll(f, directoryLimits)
	}
}

// URLSource returns a directory source that GETs url with client (nil for
// http.DefaultClient), accepting only status 200 and at most
// MaxDirectorySize bytes.
func URLSource(client *http.Client, url string) func(ctx context.Context) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	return func(ctx context.Context) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: status %s; expected 200 OK", url, resp.Status)
		}
		return strictjson.ReadAll(resp.Body, directoryLimits)
	}
}
