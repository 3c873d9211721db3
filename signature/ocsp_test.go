package signature_test

import (
	"context"
	"crypto"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ocsp"

	"github.com/egovkit/egovkit/signature"
	"github.com/egovkit/egovkit/signature/pki"
)

// responder is an in-process OCSP responder for one CA, served over
// loopback HTTP; it signs with the CA's own key.
type responder struct {
	ca      *pki.CA
	mu      sync.Mutex
	revoked map[string]time.Time
	hits    atomic.Int32
}

func (r *responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.hits.Add(1)
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q, err := ocsp.ParseRequest(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: q.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}
	r.mu.Lock()
	if at, ok := r.revoked[q.SerialNumber.String()]; ok {
		tmpl.Status, tmpl.RevokedAt, tmpl.RevocationReason = ocsp.Revoked, at, ocsp.KeyCompromise
	}
	r.mu.Unlock()
	der, err := ocsp.CreateResponse(r.ca.Certificate, r.ca.Certificate, tmpl, r.ca.Key)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(der)
}

func TestOCSP(t *testing.T) {
	t.Parallel()
	for _, alg := range []pki.KeyAlgorithm{pki.P256, pki.RSA} {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			resp := &responder{revoked: map[string]time.Time{}}
			srv := httptest.NewServer(resp)
			defer srv.Close()

			var keys [3]crypto.Signer
			if alg == pki.RSA {
				copy(keys[:], rsaKeys(t))
			} else {
				for i := range keys {
					k, err := pki.GenerateKey(alg)
					require.NoError(t, err)
					keys[i] = k
				}
			}
			opt := pki.Options{NotBefore: now.AddDate(-1, 0, 0)}
			root, err := pki.NewRoot(keys[0], "OCSP 测试根 CA", opt)
			require.NoError(t, err)
			inter, err := root.NewIntermediate(keys[1], "OCSP 测试中级 CA", opt)
			require.NoError(t, err)
			resp.ca = inter
			opt.OCSPServer = []string{srv.URL}
			cert, err := inter.IssueSeal(keys[2].Public(), orgGov, opt)
			require.NoError(t, err)
			s, err := signature.NewSigner(keys[2], []*x509.Certificate{cert, inter.Certificate}, signature.WithSigningClock(clockAt(now.Add(-time.Hour))))
			require.NoError(t, err)
			payload := []byte(`{"ocsp":true}`)
			sig, err := s.Sign(payload)
			require.NoError(t, err)

			cache := signature.NewOCSPCache(0)
			v := verifier(t, []*x509.Certificate{root.Certificate},
				signature.WithOCSP(&signature.HTTPOCSPFetcher{Client: srv.Client()}, cache))
			_, err = v.Verify(ctx, sig, payload)
			require.NoError(t, err)
			_, err = v.Verify(ctx, sig, payload)
			require.NoError(t, err)
			assert.Equal(t, int32(1), resp.hits.Load(), "the second verification uses the cache")

			// Revoked: a fresh cache asks again and learns it.
			resp.mu.Lock()
			resp.revoked[cert.SerialNumber.String()] = now.Add(-30 * time.Minute)
			resp.mu.Unlock()
			v = verifier(t, []*x509.Certificate{root.Certificate}, signature.WithOCSP(&signature.HTTPOCSPFetcher{Client: srv.Client()}, nil))
			_, err = v.Verify(ctx, sig, payload)
			var rev *signature.RevokedError
			require.ErrorAs(t, err, &rev)
			assert.Equal(t, "ocsp", rev.Source)
			assert.Equal(t, ocsp.KeyCompromise, rev.Reason)

			// A response the caller supplies.
			der, err := ocsp.CreateResponse(inter.Certificate, inter.Certificate, ocsp.Response{Status: ocsp.Good, SerialNumber: cert.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}, inter.Key)
			require.NoError(t, err)
			static, err := signature.StaticOCSP(der)
			require.NoError(t, err)
			v = verifier(t, []*x509.Certificate{root.Certificate}, signature.WithOCSP(static, nil))
			_, err = v.Verify(ctx, sig, payload)
			assert.NoError(t, err)

			// A response signed by another CA is refused.
			otherKey, err := pki.GenerateKey(pki.P256)
			require.NoError(t, err)
			other, err := pki.NewRoot(otherKey, "冒名 CA", opt)
			require.NoError(t, err)
			bad, err := ocsp.CreateResponse(other.Certificate, other.Certificate, ocsp.Response{Status: ocsp.Good, SerialNumber: cert.SerialNumber, ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(time.Hour)}, other.Key)
			require.NoError(t, err)
			v = verifier(t, []*x509.Certificate{root.Certificate}, signature.WithOCSP(fetcherFunc(func() ([]byte, error) { return bad, nil }), nil))
			_, err = v.Verify(ctx, sig, payload)
			assert.ErrorIs(t, err, signature.ErrRevocationCheck)

			// The responder is down.
			srv.Close()
			v = verifier(t, []*x509.Certificate{root.Certificate}, signature.WithOCSP(&signature.HTTPOCSPFetcher{Client: srv.Client()}, nil))
			_, err = v.Verify(ctx, sig, payload)
			assert.ErrorIs(t, err, signature.ErrRevocationCheck)
		})
	}
}

type fetcherFunc func() ([]byte, error)

func (f fetcherFunc) FetchOCSP(_ context.Context, _, _ *x509.Certificate) ([]byte, error) {
	return f()
}
