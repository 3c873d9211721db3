package signature

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/ocsp"
)

// CRL is a certificate revocation list supplied by the caller (RFC 5280
// §5). Its signature is checked against the issuer of the certificate
// being checked, so a CRL from another CA is never applied.
type CRL struct {
	list    *x509.RevocationList
	raw     []byte
	revoked map[string]x509.RevocationListEntry

	mu       sync.Mutex
	verified map[*x509.Certificate]error
}

// ParseCRL parses a CRL in DER or PEM ("X509 CRL") form, signed with any
// algorithm of this package, SM2 with SM3 included.
func ParseCRL(data []byte) (*CRL, error) {
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("signature: PEM block %q where an X509 CRL was expected", b.Type)
		}
		data = b.Bytes
	}
	l, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("signature: parsing CRL: %w", err)
	}
	c := &CRL{list: l, raw: append([]byte(nil), data...), revoked: map[string]x509.RevocationListEntry{},
		verified: map[*x509.Certificate]error{}}
	for _, e := range l.RevokedCertificateEntries {
		c.revoked[e.SerialNumber.String()] = e
	}
	return c, nil
}

// RevocationList returns the parsed list.
func (c *CRL) RevocationList() *x509.RevocationList { return c.list }

// checkSignature checks the CRL's signature by issuer, once per issuer.
func (c *CRL) checkSignature(issuer *x509.Certificate) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err, ok := c.verified[issuer]; ok {
		return err
	}
	var err error
	if sm2.IsSM2PublicKey(issuer.PublicKey) {
		cl, perr := smx509.ParseDERCRL(c.raw)
		if perr != nil {
			err = perr
		} else {
			err = (*smx509.Certificate)(issuer).CheckCRLSignature(cl)
		}
	} else {
		err = c.list.CheckSignatureFrom(issuer)
	}
	if len(c.verified) > 64 {
		clear(c.verified)
	}
	c.verified[issuer] = err
	return err
}

// checkRevocation checks every certificate of chain but the root at time at.
func (v *Verifier) checkRevocation(ctx context.Context, chain []*x509.Certificate, at time.Time) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		known := false
		for _, crl := range v.crls {
			if !bytes.Equal(crl.list.RawIssuer, issuer.RawSubject) {
				continue
			}
			if err := crl.checkSignature(issuer); err != nil {
				return &RevocationCheckError{Cert: cert, Source: "crl", Reason: "CRL signature does not verify with the issuer's key", Err: err}
			}
			if crl.list.ThisUpdate.After(at) {
				// Issued after the verification time: it says nothing
				// about that time, but a revocation it lists may.
				if e, ok := crl.revoked[cert.SerialNumber.String()]; ok && !e.RevocationTime.After(at) {
					return &RevokedError{Cert: cert, RevokedAt: e.RevocationTime, Reason: e.ReasonCode, Source: "crl"}
				}
				continue
			}
			known = true
			if e, ok := crl.revoked[cert.SerialNumber.String()]; ok && !e.RevocationTime.After(at) {
				return &RevokedError{Cert: cert, RevokedAt: e.RevocationTime, Reason: e.ReasonCode, Source: "crl"}
			}
		}
		if v.ocsp != nil {
			ok, err := v.checkOCSP(ctx, cert, issuer, at)
			if err != nil {
				return err
			}
			known = known || ok
		}
		if v.requireRevocation && !known {
			return &RevocationCheckError{Cert: cert, Source: "crl", Reason: "no CRL or OCSP response covers this certificate"}
		}
	}
	return nil
}

// OCSPFetcher obtains a DER OCSP response (RFC 6960) for cert, issued by
// issuer. It returns (nil, nil) when it has none, so that other
// revocation sources decide.
type OCSPFetcher interface {
	FetchOCSP(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, error)
}

// HTTPOCSPFetcher asks the responder named in the certificate's Authority
// Information Access extension, by HTTP POST (RFC 6960 Appendix A.1).
type HTTPOCSPFetcher struct {
	// Client is the HTTP client; nil means a client with a 10 s timeout.
	Client *http.Client
	// MaxResponseBytes bounds the response; zero means 64 KiB.
	MaxResponseBytes int64
}

var defaultOCSPClient = &http.Client{Timeout: 10 * time.Second}

// FetchOCSP implements [OCSPFetcher].
func (f *HTTPOCSPFetcher) FetchOCSP(ctx context.Context, cert, issuer *x509.Certificate) ([]byte, error) {
	if len(cert.OCSPServer) == 0 {
		return nil, nil
	}
	req, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		return nil, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, cert.OCSPServer[0], bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "application/ocsp-request")
	hreq.Header.Set("Accept", "application/ocsp-response")
	client := f.Client
	if client == nil {
		client = defaultOCSPClient
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("OCSP responder answered HTTP %d", resp.StatusCode)
	}
	max := f.MaxResponseBytes
	if max <= 0 {
		max = 64 << 10
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("OCSP response larger than %d bytes", max)
	}
	return body, nil
}

// StaticOCSP returns a fetcher that serves the given DER responses, for
// callers that obtained them themselves (stapled to a message, say). A
// response is served for the certificate whose serial number it names; its
// signature is checked when it is used.
func StaticOCSP(responses ...[]byte) (OCSPFetcher, error) {
	s := staticOCSP{}
	for i, r := range responses {
		p, err := ocsp.ParseResponse(r, nil)
		if err != nil {
			return nil, fmt.Errorf("signature: OCSP response %d: %w", i, err)
		}
		s[p.SerialNumber.String()] = append(s[p.SerialNumber.String()], r)
	}
	return s, nil
}

type staticOCSP map[string][][]byte

// FetchOCSP implements [OCSPFetcher].
func (s staticOCSP) FetchOCSP(_ context.Context, cert, issuer *x509.Certificate) ([]byte, error) {
	for _, r := range s[cert.SerialNumber.String()] {
		if _, err := ocsp.ParseResponseForCert(r, cert, issuer); err == nil {
			return r, nil
		}
	}
	return nil, nil
}

// OCSPCache keeps parsed OCSP responses until their nextUpdate (or for an
// hour when they have none). It is safe for concurrent use and may be
// shared by verifiers.
type OCSPCache struct {
	mu  sync.Mutex
	m   map[[32]byte]*ocsp.Response
	max int
}

// NewOCSPCache returns a cache of at most max responses (0 means 4096).
func NewOCSPCache(max int) *OCSPCache {
	if max <= 0 {
		max = 4096
	}
	return &OCSPCache{m: map[[32]byte]*ocsp.Response{}, max: max}
}

func ocspKey(cert, issuer *x509.Certificate) [32]byte {
	h := sha256.New()
	h.Write(issuer.Raw)
	h.Write(cert.SerialNumber.Bytes())
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (c *OCSPCache) get(k [32]byte, now time.Time) *ocsp.Response {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.m[k]
	if r == nil {
		return nil
	}
	if exp := ocspExpiry(r); now.After(exp) {
		delete(c.m, k)
		return nil
	}
	return r
}

func ocspExpiry(r *ocsp.Response) time.Time {
	if !r.NextUpdate.IsZero() {
		return r.NextUpdate
	}
	return r.ThisUpdate.Add(time.Hour)
}

func (c *OCSPCache) put(k [32]byte, r *ocsp.Response) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[k] = r
}

// checkOCSP reports whether OCSP gave a status for cert; a revoked status
// is a *RevokedError.
func (v *Verifier) checkOCSP(ctx context.Context, cert, issuer *x509.Certificate, at time.Time) (bool, error) {
	if sm2.IsSM2PublicKey(issuer.PublicKey) {
		// golang.org/x/crypto/ocsp checks response signatures with
		// crypto/x509, which has no SM2: SM2 chains rely on CRLs.
		return false, nil
	}
	k := ocspKey(cert, issuer)
	now := v.clock()
	r := v.ocspCache.get(k, now)
	if r == nil {
		der, err := v.ocsp.FetchOCSP(ctx, cert, issuer)
		if err != nil {
			return false, &RevocationCheckError{Cert: cert, Source: "ocsp", Reason: "fetching the OCSP response failed", Err: err}
		}
		if der == nil {
			return false, nil
		}
		r, err = ocsp.ParseResponseForCert(der, cert, issuer)
		if err != nil {
			return false, &RevocationCheckError{Cert: cert, Source: "ocsp", Reason: "OCSP response invalid", Err: err}
		}
		if r.ThisUpdate.After(now.Add(v.skew)) {
			return false, &RevocationCheckError{Cert: cert, Source: "ocsp", Reason: "OCSP response produced in the future"}
		}
		if !r.NextUpdate.IsZero() && now.After(r.NextUpdate) {
			return false, &RevocationCheckError{Cert: cert, Source: "ocsp", Reason: "OCSP response is stale (past its nextUpdate)"}
		}
		v.ocspCache.put(k, r)
	}
	switch r.Status {
	case ocsp.Good:
		return true, nil
	case ocsp.Revoked:
		if !r.RevokedAt.After(at) {
			return true, &RevokedError{Cert: cert, RevokedAt: r.RevokedAt, Reason: r.RevocationReason, Source: "ocsp"}
		}
		return true, nil
	}
	return false, &RevocationCheckError{Cert: cert, Source: "ocsp", Reason: "the responder does not know the certificate", Err: errors.New("status unknown")}
}
