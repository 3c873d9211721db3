package exchange_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Two departments' gateways on loopback: NDRC sends a notice to the
// finance bureau, which signs for it (签收); NDRC sees who did.
func ExampleGateway() {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	tmp := must(os.MkdirTemp("", "egovkit-example"))
	defer os.RemoveAll(tmp)
	now := time.Now()

	// The platform operator, and each department's keys and certificates
	// (a test PKI here; a licensed CA in production).
	operator := signature.Identity{Name: "重庆市大数据应用发展管理局", OrgID: "11500000MB1541240B"}
	op := must(pki.NewTestChain(pki.Ed25519, operator, pki.Options{}))
	roots := []*x509.Certificate{op.Root.Certificate}
	type dept struct {
		party    exchange.Party
		signer   *signature.Signer
		tlsCert  tls.Certificate
		listener net.Listener
	}
	depts := map[string]*dept{}
	dir := &exchange.Directory{SpecVersion: exchange.DirectorySpecVersion, Serial: 1, Issued: exchange.NewTime(now.Add(-time.Hour)),
		Expires: exchange.NewTime(now.Add(24 * time.Hour)), Operator: operator}
	for _, m := range []struct{ name, orgID string }{{"重庆市发展和改革委员会", "11500000MB16089308"}, {"重庆市财政局", "11500000MB1972360U"}} {
		id := signature.Identity{Name: m.name, OrgID: m.orgID}
		tc := must(pki.NewTestChain(pki.Ed25519, id, pki.Options{}))
		key := must(pki.GenerateKey(pki.P256))
		cert := must(tc.Intermediate.IssueTLS(key.Public(), id, []string{"127.0.0.1"}, pki.Options{}))
		d := &dept{party: exchange.Party{OrgID: m.orgID, Node: "gw1"}, signer: must(tc.Signer()),
			tlsCert: tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}, listener: must(net.Listen("tcp", "127.0.0.1:0"))}
		depts[m.orgID] = d
		roots = append(roots, tc.Root.Certificate)
		dir.Members = append(dir.Members, exchange.Member{Name: m.name, OrgID: m.orgID, Nodes: []exchange.Node{{ID: "gw1",
			Endpoint: "https://" + d.listener.Addr().String(), TLSCertificate: cert.Raw, SigningCertificate: tc.Cert.Raw}}})
		dir.DocumentGrants = append(dir.DocumentGrants, exchange.DocumentGrant{From: m.orgID, To: "*"})
	}
	sealed := must(exchange.SealDirectory(must(exchange.MarshalDirectory(dir)), must(op.Signer())))
	verifier := must(signature.NewVerifier(roots))

	// One Gateway per department, each with its own store and spool.
	gws := map[string]*exchange.Gateway{}
	for org, d := range depts {
		keeper := must(exchange.NewDirectoryKeeper(func(context.Context) ([]byte, error) { return sealed, nil }, verifier, operator, time.Now))
		if err := keeper.Refresh(ctx); err != nil {
			panic(err)
		}
		store := must(exchange.OpenStore(ctx, "sqlite:"+filepath.Join(tmp, org+".db")))
		defer store.Close()
		g := must(exchange.NewGateway(exchange.GatewayConfig{Self: d.party, Directory: keeper, Verifier: verifier, Signer: d.signer,
			TLSCertificate: d.tlsCert, Store: store, Spool: must(exchange.OpenSpool(filepath.Join(tmp, org)))}))
		done := make(chan error, 1)
		go func() { done <- g.Serve(ctx, d.listener) }()
		defer func() { stop(); <-done }()
		gws[org] = g
	}
	ndrc, finance := gws["11500000MB16089308"], gws["11500000MB1972360U"]

	// NDRC sends a notice; Send returns once it is stored, DeliverDue
	// delivers it (Gateway.Run does so in the background).
	pkg := []byte("a docdoc package")
	env := exchange.NewEnvelope(exchange.KindDocument, ndrc.Self(), time.Now())
	env.Recipients = []exchange.Party{finance.Self()}
	env.DocumentType = docdoc.TypeNotice
	digest, size := must2(docdoc.ComputeDigest(bytes.NewReader(pkg), docdoc.SHA256))
	env.Payload = exchange.Payload{MediaType: docdoc.MediaType, Size: size, Digest: digest}
	if err := ndrc.Send(ctx, env, bytes.NewReader(pkg)); err != nil {
		panic(err)
	}
	must(ndrc.DeliverDue(ctx, 10))
	fmt.Println(must(ndrc.Sent(ctx, env.ID))[0].State())

	// The finance bureau signs for it; its receipt goes back signed.
	must(finance.SignFor(ctx, env.ID, exchange.Person{Name: "张三"}))
	must(finance.DeliverDue(ctx, 10))
	st := must(ndrc.Sent(ctx, env.ID))[0]
	fmt.Println(st.State(), "by", st.Document.By.Name)
	// Output:
	// delivered
	// signedFor by 张三
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}
