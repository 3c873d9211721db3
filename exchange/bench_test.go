package exchange

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchConcurrency is how many documents are in flight at once in the
// concurrent benchmarks: producers sending and deliveries running.
var benchConcurrency = []int{1, 16, 64}

// BenchmarkEndToEnd sends 4 KB documents between two gateways on loopback,
// end to end: the sender's Send (signing, the durable outbox), delivery
// over mutual TLS 1.3, the recipient's verification of the seal on the
// envelope against the directory, its grant check, its durable inbox and
// audit log, the signed delivery receipt, and the sender's verification
// and durable record of the receipt. Stores are SQLite (WAL,
// synchronous=FULL) or PostgreSQL (EGOVKIT_TEST_POSTGRES), one per
// gateway; writes share group commits. conc documents are in flight at
// once. It reports documents per second and the p50 and p99 latency from
// Send to the stored receipt. BenchmarkBareHTTP posts the same bytes with
// plain net/http at the same concurrency: no TLS, signing or storage, the
// limit beside it.
//
//	go test -run '^$' -bench 'EndToEnd|BareHTTP' -benchtime 2000x ./exchange
func BenchmarkEndToEnd(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, conc := range benchConcurrency {
			b.Run(fmt.Sprintf("store=%s/conc=%d", db, conc), func(b *testing.B) {
				benchmarkEndToEnd(b, freshStores(b, db), conc)
			})
		}
	}
}

func benchmarkEndToEnd(b *testing.B, open func() Store, conc int) {
	ctx := context.Background()
	// Each producer sends one document and waits for its receipt before
	// the next: conc documents in flight, so latency is the exchange's,
	// not a queue's.
	var waiting sync.Map // message id → chan OutboxEntry
	_, gws := newGatewaysWith(b, time.Now, func(string) Store { return open() }, func(c *GatewayConfig) {
		c.Limits = TransportLimits{Rate: 1e9, Burst: 1 << 30}
		c.Concurrency = conc
		c.OnDone = func(e OutboxEntry) {
			if ch, ok := waiting.LoadAndDelete(e.MessageID); ok {
				ch.(chan OutboxEntry) <- e
			}
		}
	})
	sender, to := gws[ndrc.OrgID], gws[finance.OrgID].Self()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- sender.Run(runCtx, time.Second, time.Hour) }()
	defer func() { stop(); <-ran }()

	payload := bytes.Repeat([]byte("公文"), 4096/6)
	b.SetBytes(int64(len(payload)))
	runClosedLoop(b, conc, func() error {
		e := documentEnvelopeFrom(sender.Self(), to, payload)
		ch := make(chan OutboxEntry, 1)
		waiting.Store(e.ID, ch)
		if err := sender.Send(ctx, e, bytes.NewReader(payload)); err != nil {
			return err
		}
		select {
		case out := <-ch:
			if out.State != StateDelivered {
				return fmt.Errorf("message %s: %s: %s", out.MessageID, out.State, out.LastError)
			}
			return nil
		case <-time.After(time.Minute):
			return fmt.Errorf("message %s: no receipt after a minute", e.ID)
		}
	})
}

func BenchmarkBareHTTP(b *testing.B) {
	for _, conc := range benchConcurrency {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
			defer client.CloseIdleConnections()
			payload := bytes.Repeat([]byte("公文"), 4096/6)
			b.SetBytes(int64(len(payload)))
			runClosedLoop(b, conc, func() error {
				resp, err := client.Post(srv.URL, "application/octet-stream", bytes.NewReader(payload))
				if err != nil {
					return err
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				return resp.Body.Close()
			})
		})
	}
}

// runClosedLoop runs b.N calls of one from conc goroutines, each call
// after the previous one of its goroutine has returned (conc in flight),
// and reports documents per second and the p50 and p99 latency of a call.
func runClosedLoop(b *testing.B, conc int, one func() error) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := one(); err != nil {
					failed.Store(err)
					return
				}
				lat[i] = time.Since(t0)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	reportLatency(b, lat, elapsed)
}

func reportLatency(b *testing.B, lat []time.Duration, total time.Duration) {
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/total.Seconds(), "docs/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
