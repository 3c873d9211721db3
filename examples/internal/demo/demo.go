// Package demo sets up what egovkit's examples share: a platform operator
// with a sealed directory, and one exchange gateway per department, each
// with its own test PKI, SQLite store and spool, serving mutual TLS 1.3 on
// loopback in the calling process.
//
// It is for the programs under examples/ only (the internal path keeps it
// out of the SDK): a real deployment gets its certificates from its CAs, its
// directory from the platform operator, and runs "egovkit gateway" or embeds
// an exchange.Gateway configured from its own files. Everything here goes
// through the public packages, so each step is what a deployment would do.
package demo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// Department is one member organ of the demo network, as the operator
// registers it.
type Department struct {
	// Organ is the department's name and 统一社会信用代码.
	Organ docdoc.Organ
	// Seal is the algorithm of its seal and node signing key (印章);
	// pki.Ed25519 when empty.
	Seal pki.KeyAlgorithm
	// Node is its node's id in the directory; "gw1" when empty.
	Node string
	// Resources are the data resources its node publishes (the directory
	// lists them; grants are in Config.DataGrants).
	Resources []exchange.Resource
}

// Config is a demo network: the operator, the departments and the data
// grants. Every department may send every document type to every other
// (a DocumentGrant from each to "*").
type Config struct {
	// Dir holds every node's store (ORGID.db) and spool (ORGID/); the
	// caller creates it and removes it afterwards.
	Dir string
	// Operator is the platform operator who seals the directory.
	Operator signature.Identity
	// Departments are the members, one node each.
	Departments []Department
	// DataGrants say which organ may call which data resource.
	DataGrants []exchange.DataGrant
}

// Node is one department's node, serving.
type Node struct {
	// Organ is the department.
	Organ docdoc.Organ
	// Party is its node's address in the directory.
	Party exchange.Party
	// Sealer is the department's seal (its signing key and certificate
	// chain); the node signs its envelopes and receipts with it too.
	Sealer *signature.Signer
	// Chain is the department's test PKI: root, intermediate, seal
	// certificate.
	Chain *pki.TestChain
	// Gateway is the department's exchange gateway.
	Gateway *exchange.Gateway

	store *exchange.SQLStore
}

// Network is a running demo network. Close stops it.
type Network struct {
	// Operator is the platform operator.
	Operator signature.Identity
	// Directory is the edition the operator sealed and every node holds.
	Directory *exchange.Directory
	// Roots are the trust anchors: the operator's root and each
	// department's.
	Roots []*x509.Certificate
	// Verifier verifies seals and signatures under Roots.
	Verifier *signature.Verifier
	// Nodes are the departments' nodes, in the order of Config.Departments.
	Nodes []*Node

	stop    context.CancelFunc
	serving []chan error
}

// Start builds the test PKIs, the directory (sealed by the operator) and
// one gateway per department, and serves each on a fresh 127.0.0.1 port.
// Each node's TLS certificate (P-256: Go's TLS has no SM2) and signing
// certificate are registered in the directory, so that peers pin them.
// On error, whatever was started is stopped again.
func Start(ctx context.Context, cfg Config) (_ *Network, err error) {
	if cfg.Dir == "" {
		return nil, errors.New("demo: Config.Dir is empty, expected a directory for the stores and spools")
	}
	if len(cfg.Departments) == 0 {
		return nil, errors.New("demo: Config.Departments is empty, expected at least one department")
	}
	now := time.Now()
	op, err := pki.NewTestChain(pki.Ed25519, cfg.Operator, pki.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo: the operator's PKI: %w", err)
	}
	ctx, stop := context.WithCancel(ctx)
	n := &Network{Operator: cfg.Operator, Roots: []*x509.Certificate{op.Root.Certificate}, stop: stop}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	dir := &exchange.Directory{SpecVersion: exchange.DirectorySpecVersion, Serial: 1, Issued: exchange.NewTime(now.Add(-time.Hour)),
		Expires: exchange.NewTime(now.Add(24 * time.Hour)), Operator: cfg.Operator, DataGrants: cfg.DataGrants}
	var tlsCerts []tls.Certificate
	var listeners []net.Listener
	defer func() {
		if err != nil {
			for _, l := range listeners[len(n.serving):] {
				l.Close()
			}
		}
	}()
	for _, d := range cfg.Departments {
		alg, nodeID := d.Seal, d.Node
		if alg == "" {
			alg = pki.Ed25519
		}
		if nodeID == "" {
			nodeID = "gw1"
		}
		id := signature.Identity{Name: d.Organ.Name, OrgID: d.Organ.OrgID}
		tc, err := pki.NewTestChain(alg, id, pki.Options{})
		if err != nil {
			return nil, fmt.Errorf("demo: the PKI of %s: %w", d.Organ.Name, err)
		}
		sealer, err := tc.Signer()
		if err != nil {
			return nil, fmt.Errorf("demo: the seal of %s: %w", d.Organ.Name, err)
		}
		key, err := pki.GenerateKey(pki.P256)
		if err != nil {
			return nil, err
		}
		cert, err := tc.Intermediate.IssueTLS(key.Public(), id, []string{"127.0.0.1"}, pki.Options{})
		if err != nil {
			return nil, fmt.Errorf("demo: the TLS certificate of %s: %w", d.Organ.Name, err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("demo: a loopback port for %s: %w", d.Organ.Name, err)
		}
		listeners = append(listeners, l)
		tlsCerts = append(tlsCerts, tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert})
		n.Roots = append(n.Roots, tc.Root.Certificate)
		n.Nodes = append(n.Nodes, &Node{Organ: d.Organ, Party: exchange.Party{OrgID: d.Organ.OrgID, Node: nodeID}, Sealer: sealer, Chain: tc})
		dir.Members = append(dir.Members, exchange.Member{Name: d.Organ.Name, OrgID: d.Organ.OrgID, Resources: d.Resources,
			Nodes: []exchange.Node{{ID: nodeID, Endpoint: "https://" + l.Addr().String(), TLSCertificate: cert.Raw, SigningCertificate: tc.Cert.Raw}}})
		dir.DocumentGrants = append(dir.DocumentGrants, exchange.DocumentGrant{From: d.Organ.OrgID, To: "*"})
	}
	opSigner, err := op.Signer()
	if err != nil {
		return nil, err
	}
	plain, err := exchange.MarshalDirectory(dir)
	if err != nil {
		return nil, fmt.Errorf("demo: the directory: %w", err)
	}
	sealed, err := exchange.SealDirectory(plain, opSigner)
	if err != nil {
		return nil, fmt.Errorf("demo: sealing the directory: %w", err)
	}
	n.Directory = dir
	if n.Verifier, err = signature.NewVerifier(n.Roots); err != nil {
		return nil, err
	}

	for i, node := range n.Nodes {
		keeper, err := exchange.NewDirectoryKeeper(func(context.Context) ([]byte, error) { return sealed, nil }, n.Verifier, cfg.Operator, time.Now)
		if err != nil {
			return nil, err
		}
		if err := keeper.Refresh(ctx); err != nil {
			return nil, fmt.Errorf("demo: %s's node reading the directory: %w", node.Organ.Name, err)
		}
		if node.store, err = exchange.OpenStore(ctx, "sqlite:"+filepath.Join(cfg.Dir, node.Organ.OrgID+".db")); err != nil {
			return nil, fmt.Errorf("demo: %s's store: %w", node.Organ.Name, err)
		}
		spool, err := exchange.OpenSpool(filepath.Join(cfg.Dir, node.Organ.OrgID))
		if err != nil {
			return nil, fmt.Errorf("demo: %s's spool: %w", node.Organ.Name, err)
		}
		node.Gateway, err = exchange.NewGateway(exchange.GatewayConfig{Self: node.Party, Directory: keeper, Verifier: n.Verifier,
			Signer: node.Sealer, TLSCertificate: tlsCerts[i], Store: node.store, Spool: spool})
		if err != nil {
			return nil, fmt.Errorf("demo: %s's gateway: %w", node.Organ.Name, err)
		}
		done := make(chan error, 1)
		go func(g *exchange.Gateway, l net.Listener) { done <- g.Serve(ctx, l) }(node.Gateway, listeners[i])
		n.serving = append(n.serving, done)
	}
	return n, nil
}

// Close stops every gateway, waits for each server to finish, and closes
// the stores. It returns the first error a server or store reported.
func (n *Network) Close() error {
	n.stop()
	var first error
	for _, done := range n.serving {
		if err := <-done; err != nil && first == nil {
			first = err
		}
	}
	n.serving = nil
	for _, node := range n.Nodes {
		if node.store != nil {
			if err := node.store.Close(); err != nil && first == nil {
				first = err
			}
			node.store = nil
		}
	}
	return first
}

// Deliver has each node deliver what its outbox holds due now (documents,
// receipts, recalls), in the order given.
func Deliver(ctx context.Context, nodes ...*Node) error {
	for _, node := range nodes {
		if _, err := node.Gateway.DeliverDue(ctx, 100); err != nil {
			return fmt.Errorf("%s delivering its outbox: %w", node.Organ.Name, err)
		}
	}
	return nil
}

// SendFile sends the file at path from node to one recipient, delivers it
// at once, and returns the message and the recipient's state, which must
// hold the recipient's signed delivery receipt (送达回执): otherwise it is
// an error that says what state the message is in and why.
func (node *Node) SendFile(ctx context.Context, to *Node, t docdoc.Type, mediaType, path string) (*exchange.Envelope, exchange.RecipientState, error) {
	env, err := node.Gateway.SendFile(ctx, []exchange.Party{to.Party}, t, mediaType, path)
	if err != nil {
		return nil, exchange.RecipientState{}, fmt.Errorf("%s sending %s: %w", node.Organ.Name, filepath.Base(path), err)
	}
	if err := Deliver(ctx, node); err != nil {
		return nil, exchange.RecipientState{}, err
	}
	state, err := node.State(ctx, env.ID)
	if err != nil {
		return nil, exchange.RecipientState{}, err
	}
	if state.DeliveryReceipt == nil {
		return nil, state, fmt.Errorf("%s's message %s to %s was not delivered: %s (%s), expected a delivery receipt",
			node.Organ.Name, env.ID, to.Organ.Name, state.State(), state.LastError)
	}
	return env, state, nil
}

// State returns the state of a message node sent to one recipient.
func (node *Node) State(ctx context.Context, messageID string) (exchange.RecipientState, error) {
	states, err := node.Gateway.Sent(ctx, messageID)
	if err != nil {
		return exchange.RecipientState{}, fmt.Errorf("%s reading the state of message %s: %w", node.Organ.Name, messageID, err)
	}
	if len(states) != 1 {
		return exchange.RecipientState{}, fmt.Errorf("message %s at %s has %d recipients, expected 1", messageID, node.Organ.Name, len(states))
	}
	return states[0], nil
}

// Payload reads the payload of a message node received, whole (the demo's
// documents are small), with its media type.
func (node *Node) Payload(ctx context.Context, messageID string) ([]byte, string, error) {
	mediaType, rc, err := node.Gateway.OpenPayload(ctx, messageID)
	if err != nil {
		return nil, "", fmt.Errorf("%s opening message %s: %w", node.Organ.Name, messageID, err)
	}
	defer rc.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, rc); err != nil {
		return nil, "", fmt.Errorf("%s reading message %s: %w", node.Organ.Name, messageID, err)
	}
	return buf.Bytes(), mediaType, nil
}

// VerifyAudit exports the node's hash-chained audit log and verifies it as
// "egovkit audit verify" would; it returns the number of entries.
func (node *Node) VerifyAudit(ctx context.Context) (int, error) {
	entries, err := node.Gateway.Store().Audit(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s reading its audit log: %w", node.Organ.Name, err)
	}
	var buf bytes.Buffer
	if err := exchange.WriteAudit(&buf, entries); err != nil {
		return 0, err
	}
	count, err := exchange.VerifyAudit(&buf)
	if err != nil {
		return 0, fmt.Errorf("%s's audit log: %w", node.Organ.Name, err)
	}
	return count, nil
}

// SignFor has node sign for (签收) a document it received from sender, as by,
// delivers the signed receipt at once, and returns the document's state at
// the sender, which must then be signed for.
func (node *Node) SignFor(ctx context.Context, sender *Node, messageID string, by exchange.Person) (exchange.RecipientState, error) {
	if _, err := node.Gateway.SignFor(ctx, messageID, by); err != nil {
		return exchange.RecipientState{}, fmt.Errorf("%s signing for message %s: %w", node.Organ.Name, messageID, err)
	}
	if err := Deliver(ctx, node); err != nil {
		return exchange.RecipientState{}, err
	}
	state, err := sender.State(ctx, messageID)
	if err != nil {
		return exchange.RecipientState{}, err
	}
	if state.Document.Status != exchange.StatusSignedFor {
		return state, fmt.Errorf("message %s is %s at %s after %s signed for it, expected signedFor", messageID, state.State(), sender.Organ.Name, node.Organ.Name)
	}
	return state, nil
}
