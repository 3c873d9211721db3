package main

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

func init() {
	register(&command{name: "gateway", summary: "run an exchange node, or write a two-node demo setup (gateway --config FILE | gateway demo-config --out DIR)", run: runGateway})
}

const gatewayDetails = `
Runs one exchange node (交换网关) from its configuration file (see the
README's "For an integrator" section for the format): the HTTPS endpoint
of the message transport over mutual TLS 1.3 on the configured listen
address, the outbox worker that delivers stored messages with retries every
pollInterval (what a process that crashed had claimed is delivered again
once its claim ends, after lease: 2m by default), and the refresh of the
operator's directory every refreshInterval (keeping the last good edition
when a refresh fails). At start and then every hour, it removes from the
spool the partial files of transfers that a crash cut short (those
untouched for an hour). When it listens, it prints

  egovkit gateway: ORGID/NODE listening on https://ADDRESS

(with listen 127.0.0.1:0 the address is the port the system chose; --addr-file
also writes it to a file). SIGINT or SIGTERM stops it cleanly: the server
finishes requests in flight, and what is stored stays stored.

The client commands (send, outbox, inbox, sign-for, return, recall, urge)
open the same configuration and work directly on the node's store and
spool, so they run on the node's machine, beside or without the gateway.`

func runGateway(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "demo-config" {
		return runGatewayDemo(e, args[1:])
	}
	fs := flagSet(e, "gateway", "gateway --config FILE [--addr-file FILE]\n       egovkit gateway demo-config --out DIR", gatewayDetails)
	config := fs.String("config", "", "the node's configuration `FILE` (required)")
	addrFile := fs.String("addr-file", "", "write the address listened on to `FILE`")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if *config == "" || len(pos) != 0 {
		return usageError(e, fs, "--config FILE is required, and nothing else")
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	n, err := openNode(ctx, *config, logger)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit gateway: %v\n", err)
		return exitUsage
	}
	defer n.Close()
	removeStalePartials(n, logger)
	l, err := net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "egovkit gateway: %v\n", err)
		return exitUsage
	}
	if *addrFile != "" {
		if err := writeFiles(filepath.Dir(*addrFile), true, map[string]fileContent{filepath.Base(*addrFile): {[]byte(l.Addr().String() + "\n"), 0o644}}); err != nil {
			l.Close()
			fmt.Fprintf(e.stderr, "egovkit gateway: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintf(e.stdout, "egovkit gateway: %s listening on https://%s\n", n.cfg.Self, l.Addr())
	var wg sync.WaitGroup
	var serveErr error
	runCtx, cancel := context.WithCancel(ctx)
	wg.Add(3)
	go func() {
		defer wg.Done()
		serveErr = n.gw.Serve(runCtx, l)
		cancel() // a server that failed stops the node
	}()
	go func() {
		defer wg.Done()
		t := time.NewTicker(stalePartialAge)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				removeStalePartials(n, logger)
			}
		}
	}()
	go func() {
		defer wg.Done()
		poll, refresh := n.cfg.Intervals()
		_ = n.gw.Run(runCtx, poll, refresh)
	}()
	wg.Wait()
	cancel()
	if serveErr != nil && ctx.Err() == nil {
		fmt.Fprintf(e.stderr, "egovkit gateway: %v\n", serveErr)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "egovkit gateway: %s stopped\n", n.cfg.Self)
	return exitOK
}

// stalePartialAge is how long a partial file in the spool stays untouched
// before the gateway takes it for the leftover of a crash, and how often it
// looks for them.
const stalePartialAge = time.Hour

// removeStalePartials removes the spool's stale partial files and logs
// what it removed.
func removeStalePartials(n *node, logger *slog.Logger) {
	files, size, err := n.gw.Spool().RemoveStale(stalePartialAge, time.Now())
	if files > 0 {
		logger.Info("egovkit gateway: removed the partial files of interrupted transfers from the spool", "files", files, "bytes", size)
	}
	if err != nil {
		logger.Warn("egovkit gateway: cleaning the spool", "err", err)
	}
}

// The demo's organs and operator.
var (
	demoOperator = signature.Identity{Name: "重庆市大数据应用发展管理局", OrgID: "11500000MB1541240B"}
	demoNodes    = []struct {
		dir  string
		id   signature.Identity
		alg  pki.KeyAlgorithm
		node string
		sm2  bool // the encryption key: SM2, or X25519
	}{
		{"ndrc", signature.Identity{Name: "重庆市发展和改革委员会", OrgID: "11500000MB16089308"}, pki.Ed25519, "gw1", false},
		{"finance", signature.Identity{Name: "重庆市财政局", OrgID: "11500000MB1972360U"}, pki.SM2, "gw1", true},
	}
)

func runGatewayDemo(e *env, args []string) int {
	fs := flagSet(e, "gateway demo-config", "gateway demo-config --out DIR [--force]", `
Writes a ready two-department setup for loopback into DIR:

  DIR/roots.pem           the demo CA (the trust anchor of every node)
  DIR/directory.json      the directory, sealed by the demo operator
                          (重庆市大数据应用发展管理局): two members, 重庆市发展和改革委员会
                          (ndrc, Ed25519 signing key) and 重庆市财政局 (finance, SM2),
                          each with one node gw1 on a free 127.0.0.1 port, and
                          grants that let each send every document type to the other,
                          and encryption keys for classified documents (ndrc X25519,
                          finance SM2)
  DIR/ndrc/gateway.json   ndrc's node configuration, with its keys and
  DIR/finance/gateway.json certificates beside it; the store and spool are
                          created there when the gateway first runs

Then, in two terminals:

  egovkit gateway --config DIR/ndrc/gateway.json
  egovkit gateway --config DIR/finance/gateway.json

and send a document from one to the other with egovkit send. The keys are
for development only. The directory expires after a year.`)
	out := fs.String("out", "", "output `DIR` (required)")
	force := fs.Bool("force", false, "overwrite existing files")
	pos, code, ok := flagsOrExit(e, fs, args)
	if !ok {
		return code
	}
	if *out == "" || len(pos) != 0 {
		return usageError(e, fs, "--out DIR is required, and nothing else")
	}
	if err := writeDemo(*out, *force, time.Now()); err != nil {
		fmt.Fprintf(e.stderr, "egovkit gateway demo-config: %v\n", err)
		return exitUsage
	}
	for _, d := range demoNodes {
		fmt.Fprintf(e.stdout, "%s %s/%s: %s\n", d.id.Name, d.id.OrgID, d.node, filepath.Join(*out, d.dir, "gateway.json"))
	}
	return exitOK
}

// freePorts asks the system for n free loopback ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

func writeDemo(out string, force bool, now time.Time) error {
	caKey, err := pki.GenerateKey(pki.Ed25519)
	if err != nil {
		return err
	}
	ca, err := pki.NewRoot(caKey, "egovkit demo CA", pki.Options{NotBefore: now.Add(-time.Hour)})
	if err != nil {
		return err
	}
	opKey, err := pki.GenerateKey(pki.Ed25519)
	if err != nil {
		return err
	}
	opCert, err := ca.IssueSeal(opKey.Public(), demoOperator, pki.Options{NotBefore: now.Add(-time.Hour)})
	if err != nil {
		return err
	}
	opSigner, err := signature.NewSigner(opKey, []*x509.Certificate{opCert})
	if err != nil {
		return err
	}
	ports, err := freePorts(len(demoNodes))
	if err != nil {
		return err
	}
	dir := &exchange.Directory{SpecVersion: exchange.DirectorySpecVersion, Serial: 1, Issued: exchange.NewTime(now.Add(-time.Hour)), Expires: exchange.NewTime(now.AddDate(1, 0, 0)), Operator: demoOperator}
	files := map[string]map[string]fileContent{}
	for i, d := range demoNodes {
		sealKey, err := pki.GenerateKey(d.alg)
		if err != nil {
			return err
		}
		sealCert, err := ca.IssueSeal(sealKey.Public(), d.id, pki.Options{NotBefore: now.Add(-time.Hour)})
		if err != nil {
			return err
		}
		tlsKey, err := pki.GenerateKey(pki.P256)
		if err != nil {
			return err
		}
		tlsCert, err := ca.IssueTLS(tlsKey.Public(), d.id, []string{"127.0.0.1"}, pki.Options{NotBefore: now.Add(-time.Hour)})
		if err != nil {
			return err
		}
		sealPEM, err := signature.EncodePrivateKeyPEM(sealKey)
		if err != nil {
			return err
		}
		tlsPEM, err := signature.EncodePrivateKeyPEM(tlsKey)
		if err != nil {
			return err
		}
		var encKey crypto.PrivateKey
		var encPub crypto.PublicKey
		if d.sm2 {
			k, err := sm2.GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			encKey, encPub = k, &k.PublicKey
		} else {
			k, err := ecdh.X25519().GenerateKey(rand.Reader)
			if err != nil {
				return err
			}
			encKey, encPub = k, k.PublicKey()
		}
		encDER, err := exchange.MarshalEncryptionKey(encPub)
		if err != nil {
			return err
		}
		encPEM, err := exchange.EncodeDecryptionKeyPEM(encKey)
		if err != nil {
			return err
		}
		listen := "127.0.0.1:" + strconv.Itoa(ports[i])
		dir.Members = append(dir.Members, exchange.Member{Name: d.id.Name, OrgID: d.id.OrgID, Nodes: []exchange.Node{{ID: d.node, Endpoint: "https://" + listen, TLSCertificate: tlsCert.Raw, SigningCertificate: sealCert.Raw, EncryptionKey: encDER}}})
		dir.DocumentGrants = append(dir.DocumentGrants, exchange.DocumentGrant{From: d.id.OrgID, To: "*"})
		cfg := fmt.Sprintf(`{
  "configVersion": %q,
  "self": {"orgId": %q, "node": %q},
  "listen": %q,
  "store": "sqlite:node.db",
  "spool": "spool",
  "directory": {"file": "../directory.json"},
  "operator": {"name": %q, "orgId": %q},
  "trustAnchors": "../roots.pem",
  "signing": {"key": "sign.key.pem", "chain": "sign.chain.pem"},
  "tls": {"key": "tls.key.pem", "certificate": "tls.cert.pem"},
  "encryption": {"key": "enc.key.pem"},
  "pollInterval": "2s",
  "refreshInterval": "5m",
  "retry": {"base": "2s", "max": "10m", "attempts": 12}
}
`, exchange.GatewayFileVersion, d.id.OrgID, d.node, listen, demoOperator.Name, demoOperator.OrgID)
		files[d.dir] = map[string]fileContent{
			"gateway.json":   {[]byte(cfg), 0o644},
			"sign.key.pem":   {sealPEM, 0o600},
			"sign.chain.pem": {signature.EncodeCertificatesPEM(sealCert), 0o644},
			"tls.key.pem":    {tlsPEM, 0o600},
			"tls.cert.pem":   {signature.EncodeCertificatesPEM(tlsCert), 0o644},
			"enc.key.pem":    {encPEM, 0o600},
		}
	}
	data, err := exchange.MarshalDirectory(dir)
	if err != nil {
		return err
	}
	sealed, err := exchange.SealDirectory(data, opSigner)
	if err != nil {
		return err
	}
	if err := writeFiles(out, force, map[string]fileContent{"roots.pem": {signature.EncodeCertificatesPEM(ca.Certificate), 0o644}, "directory.json": {sealed, 0o644}}); err != nil {
		return err
	}
	for sub, fs := range files {
		if err := writeFiles(filepath.Join(out, sub), force, fs); err != nil {
			return err
		}
	}
	return nil
}

// recipientsFor resolves --to values (ORGID or ORGID/NODE) against the
// directory: an organ alone means its first node.
func recipientsFor(dir *exchange.Directory, to []string) ([]exchange.Party, error) {
	var out []exchange.Party
	for _, t := range to {
		org, nodeID, hasNode := cutParty(t)
		m := dir.Member(org)
		if m == nil {
			return nil, fmt.Errorf("--to %s: no such member in the directory", t)
		}
		if !hasNode {
			if len(m.Nodes) == 0 {
				return nil, fmt.Errorf("--to %s: the member has no node", t)
			}
			nodeID = m.Nodes[0].ID
		}
		p := exchange.Party{OrgID: org, Node: nodeID}
		if dir.Node(p) == nil {
			return nil, fmt.Errorf("--to %s: the directory lists no node %q for %s", t, nodeID, org)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, errors.New("at least one --to ORG-ID is required")
	}
	return out, nil
}

func cutParty(s string) (org, node string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
