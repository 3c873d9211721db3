package exchange

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

var operatorID = signature.Identity{Name: "重庆市大数据应用发展管理局", OrgID: "11500000MB1541240B"}

type testPKI struct {
	operator *signature.Signer
	roots    []*x509.Certificate
	certs    map[string]*x509.Certificate // by orgId
	signers  map[string]*signature.Signer // by orgId
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	p := &testPKI{certs: map[string]*x509.Certificate{}, signers: map[string]*signature.Signer{}}
	op, err := pki.NewTestChain(pki.Ed25519, operatorID, pki.Options{})
	require.NoError(t, err)
	p.operator, err = op.Signer()
	require.NoError(t, err)
	p.roots = append(p.roots, op.Root.Certificate)
	for _, m := range []struct {
		party Party
		name  string
		alg   pki.KeyAlgorithm
	}{{ndrc, "重庆市发展和改革委员会", pki.Ed25519}, {finance, "重庆市财政局", pki.SM2}, {econ, "重庆市经济和信息化委员会", pki.P256}} {
		tc, err := pki.NewTestChain(m.alg, signature.Identity{Name: m.name, OrgID: m.party.OrgID}, pki.Options{})
		require.NoError(t, err)
		p.certs[m.party.OrgID] = tc.Cert
		p.signers[m.party.OrgID], err = tc.Signer()
		require.NoError(t, err)
		p.roots = append(p.roots, tc.Root.Certificate)
	}
	return p
}

func (p *testPKI) directory(serial int64, issued time.Time) *Directory {
	node := func(party Party, port string) Node {
		c := p.certs[party.OrgID]
		return Node{ID: party.Node, Endpoint: "https://127.0.0.1:" + port, TLSCertificate: c.Raw, SigningCertificate: c.Raw}
	}
	return &Directory{
		SpecVersion: DirectorySpecVersion,
		Serial:      serial,
		Issued:      NewTime(issued),
		Expires:     NewTime(issued.Add(7 * 24 * time.Hour)),
		Operator:    operatorID,
		Members: []Member{
			{Name: "重庆市发展和改革委员会", OrgID: ndrc.OrgID, Nodes: []Node{node(ndrc, "8441")}},
			{Name: "重庆市财政局", OrgID: finance.OrgID, Nodes: []Node{node(finance, "8442")},
				Resources: []Resource{{ID: "finance.budget-execution", Name: "预算执行数据", Node: "gw1"}}},
			{Name: "重庆市经济和信息化委员会", OrgID: econ.OrgID, Nodes: []Node{node(econ, "8443")}},
		},
		DataGrants: []DataGrant{{Resource: "finance.budget-execution", Consumer: ndrc.OrgID}},
		DocumentGrants: []DocumentGrant{
			{From: ndrc.OrgID, To: "*"},
			{From: finance.OrgID, To: ndrc.OrgID, Types: []docdoc.Type{docdoc.TypeReport, docdoc.TypeLetter}},
		},
	}
}

func (p *testPKI) sealed(t *testing.T, d *Directory) []byte {
	t.Helper()
	data, err := MarshalDirectory(d)
	require.NoError(t, err)
	sealed, err := SealDirectory(data, p.operator)
	require.NoError(t, err)
	return sealed
}

func TestDirectory(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
	v, err := signature.NewVerifier(p.roots)
	require.NoError(t, err)
	data := p.sealed(t, p.directory(1, now))

	d, err := OpenDirectory(context.Background(), data, v, operatorID, now.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, int64(1), d.Serial)
	n := d.Node(finance)
	require.NotNil(t, n)
	assert.Equal(t, "https://127.0.0.1:8442", n.Endpoint)
	assert.Equal(t, p.certs[finance.OrgID].Raw, n.SigningCert().Raw, "SM2 certificates parse too")
	assert.Nil(t, d.Node(Party{OrgID: finance.OrgID, Node: "gw9"}))

	r, provider, ok := d.Resource("finance.budget-execution")
	require.True(t, ok)
	assert.Equal(t, "预算执行数据", r.Name)
	assert.Equal(t, finance, provider)
	assert.True(t, d.MayCall(ndrc.OrgID, "finance.budget-execution"))
	assert.False(t, d.MayCall(econ.OrgID, "finance.budget-execution"), "publishing grants nothing")
	assert.False(t, d.MayCall(finance.OrgID, "finance.budget-execution"), "not even to the provider")

	assert.True(t, d.MaySend(ndrc.OrgID, econ.OrgID, docdoc.TypeNotice))
	assert.True(t, d.MaySend(finance.OrgID, ndrc.OrgID, docdoc.TypeReport))
	assert.False(t, d.MaySend(finance.OrgID, ndrc.OrgID, docdoc.TypeNotice))
	assert.False(t, d.MaySend(econ.OrgID, ndrc.OrgID, docdoc.TypeLetter))
	assert.False(t, d.MaySend(ndrc.OrgID, "91500000MA5U7X3P0D", docdoc.TypeNotice), "not a member")

	// Expired, tampered, sealed by someone else, or naming another operator.
	_, err = OpenDirectory(context.Background(), data, v, operatorID, now.Add(8*24*time.Hour))
	assert.ErrorIs(t, err, ErrDirectoryExpired)
	tree, err := strictjson.Parse(data, strictjson.Limits{})
	require.NoError(t, err)
	tree.(map[string]any)["dataGrants"] = append(tree.(map[string]any)["dataGrants"].([]any), map[string]any{"resource": "finance.budget-execution", "consumer": econ.OrgID})
	tampered, err := json.Marshal(tree)
	require.NoError(t, err)
	_, err = OpenDirectory(context.Background(), tampered, v, operatorID, now)
	assert.Error(t, err, "an added grant breaks the seal")
	_, err = OpenDirectory(context.Background(), data, v, signature.Identity{Name: "别的单位", OrgID: econ.OrgID}, now)
	assert.ErrorIs(t, err, ErrNotOperator)

	imposter, err := pki.NewTestChain(pki.Ed25519, signature.Identity{Name: "重庆市经济和信息化委员会", OrgID: econ.OrgID}, pki.Options{})
	require.NoError(t, err)
	is, err := imposter.Signer()
	require.NoError(t, err)
	plain, err := MarshalDirectory(p.directory(1, now))
	require.NoError(t, err)
	_, err = SealDirectory(plain, is)
	assert.ErrorIs(t, err, ErrNotOperator)
	unsealed, err := OpenDirectory(context.Background(), plain, v, operatorID, now)
	assert.Nil(t, unsealed)
	assert.Error(t, err, "an unsealed directory is refused")
}

func TestDirectoryViolations(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	now := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		f    func(d *Directory)
		want []string
	}{
		{"duplicate member", func(d *Directory) { d.Members = append(d.Members, d.Members[0]) }, []string{"/members/3/orgId exchange.directory.duplicate-member"}},
		{"duplicate node", func(d *Directory) { d.Members[0].Nodes = append(d.Members[0].Nodes, d.Members[0].Nodes[0]) }, []string{"/members/0/nodes/1/id exchange.directory.duplicate-node"}},
		{"resource on unknown node", func(d *Directory) { d.Members[1].Resources[0].Node = "gw2" }, []string{"/members/1/resources/0/node exchange.directory.resource-node"}},
		{"duplicate resource", func(d *Directory) { d.Members[2].Resources = d.Members[1].Resources }, []string{"/members/2/resources/0/id exchange.directory.duplicate-resource"}},
		{"grant of unknown resource", func(d *Directory) { d.DataGrants[0].Resource = "nope" }, []string{"/dataGrants/0/resource exchange.directory.unknown-resource"}},
		{"grant to non-member", func(d *Directory) { d.DataGrants[0].Consumer = "91500000MA5U7X3P0D" }, []string{"/dataGrants/0/consumer exchange.directory.unknown-member"}},
		{"document grant from non-member", func(d *Directory) { d.DocumentGrants[0].From = "91500000MA5U7X3P0D" }, []string{"/documentGrants/0/from exchange.directory.unknown-member"}},
		{"bad certificate", func(d *Directory) { d.Members[0].Nodes[0].TLSCertificate = []byte("not a certificate") }, []string{"/members/0/nodes/0/tlsCertificate exchange.certificate.invalid"}},
		{"expires before issued", func(d *Directory) { d.Expires = d.Issued }, []string{"/expires exchange.time.order"}},
		{"check digit", func(d *Directory) { d.Members[2].OrgID = "11500000MB1802110K"; d.Members[2].Resources = nil }, []string{"/members/2/orgId exchange.org-id.check-digit"}},
		{"http endpoint", func(d *Directory) { d.Members[0].Nodes[0].Endpoint = "http://127.0.0.1:8441" }, []string{"/members/0/nodes/0/endpoint exchange.endpoint.format"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := p.directory(1, now)
			tc.f(d)
			data, err := MarshalDirectory(d)
			require.NoError(t, err)
			_, err = ParseDirectory(data)
			var de *DirectoryError
			require.ErrorAs(t, err, &de)
			assert.True(t, errors.Is(err, ErrInvalidDirectory))
			var got []string
			for _, v := range de.Violations {
				got = append(got, v.Pointer+" "+v.Rule)
			}
			assert.Equal(t, tc.want, got, "%v", de.Violations)
		})
	}
}

func TestDirectoryKeeper(t *testing.T) {
	t.Parallel()
	p := newTestPKI(t)
	start := time.Date(2025, 3, 18, 8, 0, 0, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(start.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	v, err := signature.NewVerifier(p.roots)
	require.NoError(t, err)

	var served atomic.Value
	served.Store(p.sealed(t, p.directory(1, start)))
	var fail atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(served.Load().([]byte))
	}))
	defer srv.Close()

	k, err := NewDirectoryKeeper(URLSource(srv.Client(), srv.URL), v, operatorID, now)
	require.NoError(t, err)
	_, err = k.Current()
	require.Error(t, err, "nothing before the first refresh")
	require.NoError(t, k.Refresh(context.Background()))
	d, err := k.Current()
	require.NoError(t, err)
	assert.Equal(t, int64(1), d.Serial)

	// A failed refresh keeps the last good edition.
	fail.Store(true)
	require.Error(t, k.Refresh(context.Background()))
	assert.Error(t, k.LastError())
	d, err = k.Current()
	require.NoError(t, err)
	assert.Equal(t, int64(1), d.Serial)
	fail.Store(false)

	// A newer edition is adopted; an older one is refused.
	served.Store(p.sealed(t, p.directory(2, start.Add(time.Hour))))
	clock.Store(start.Add(2 * time.Hour).UnixNano())
	require.NoError(t, k.Refresh(context.Background()))
	d, _ = k.Current()
	assert.Equal(t, int64(2), d.Serial)
	served.Store(p.sealed(t, p.directory(1, start)))
	assert.ErrorIs(t, k.Refresh(context.Background()), ErrDirectoryRollback)
	d, _ = k.Current()
	assert.Equal(t, int64(2), d.Serial)

	// Past its expiry the held edition no longer serves.
	clock.Store(start.Add(30 * 24 * time.Hour).UnixNano())
	_, err = k.Current()
	assert.ErrorIs(t, err, ErrDirectoryExpired)

	// A file source works the same way.
	file := filepath.Join(t.TempDir(), "directory.json")
	require.NoError(t, os.WriteFile(file, p.sealed(t, p.directory(3, start.Add(29*24*time.Hour))), 0o644))
	fk, err := NewDirectoryKeeper(FileSource(file), v, operatorID, now)
	require.NoError(t, err)
	require.NoError(t, fk.Refresh(context.Background()))

	_, err = NewDirectoryKeeper(nil, v, operatorID, now)
	assert.Error(t, err)
	_, err = NewDirectoryKeeper(FileSource(file), v, signature.Identity{}, now)
	assert.Error(t, err)
}
