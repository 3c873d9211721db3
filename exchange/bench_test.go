package exchange

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkEndToEnd sends one 4 KB document per iteration from one node's
// durable outbox to another node's durable inbox (both SQLite with
// synchronous=FULL) over mutual TLS: signing, spooling, delivery, the
// receiver's verification, grant check and fsyncs, and the signed delivery
// receipt back into the sender's store. It reports documents per second
// and the p50 and p99 latency of one document. BenchmarkBareHTTP posts the
// same bytes with plain net/http, no signing, TLS or storage: the limit.
//
//	go test -run '^$' -bench 'EndToEnd|BareHTTP' -benchtime 200x ./exchange
func BenchmarkEndToEnd(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	n := newTestNetWith(b, TransportLimits{Rate: 1e9, Burst: 1 << 30}, func(p Party) Receiver {
		s, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, p.OrgID+"-in.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		spool, err := OpenSpool(filepath.Join(dir, p.OrgID+"-in"))
		if err != nil {
			b.Fatal(err)
		}
		return NewInbox(s, spool, nil)
	})
	sender := n.nodes[ndrc.OrgID]
	store, err := OpenStore(ctx, "sqlite:"+filepath.Join(dir, "out.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	spool, err := OpenSpool(filepath.Join(dir, "out"))
	if err != nil {
		b.Fatal(err)
	}
	ob, err := NewOutbox(OutboxConfig{Store: store, Spool: spool, Transport: sender.transport, Owner: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	payload := bytes.Repeat([]byte("公文"), 4096/6)
	lat := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		env := documentEnvelope(sender, finance, payload)
		if err := ob.Send(ctx, env, bytes.NewReader(payload)); err != nil {
			b.Fatal(err)
		}
		if d, err := ob.DeliverDue(ctx, 10); err != nil || d != 1 {
			b.Fatalf("delivered %d: %v", d, err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat, time.Since(start))
}

func BenchmarkBareHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	payload := bytes.Repeat([]byte("公文"), 4096/6)
	lat := make([]time.Duration, 0, b.N)
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		resp, err := srv.Client().Post(srv.URL, "application/octet-stream", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat, time.Since(start))
}

func reportLatency(b *testing.B, lat []time.Duration, total time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/total.Seconds(), "docs/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
