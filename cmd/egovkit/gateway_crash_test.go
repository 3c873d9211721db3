package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
)

// crashDocuments is how many documents TestGatewayCrash exchanges.
const crashDocuments = 1000

// TestGatewayCrash exchanges 1,000 documents between two real gateway
// processes and kills each of them with SIGKILL in the middle of the run:
// the receiving gateway once about a third of the documents are
// delivered, the sending gateway at about two thirds, each restarted at
// once on the same configuration, store and spool. Every document must
// end delivered exactly once: in the receiver's inbox and audit log once,
// with the payload that was sent, and at the sender with a delivery
// receipt that verifies and acknowledges the message's id and digest; no
// dead letters, and both audit chains intact. It runs with the nodes'
// stores on SQLite, and on PostgreSQL when EGOVKIT_TEST_POSTGRES is set.
func TestGatewayCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("starts gateway processes and exchanges 1,000 documents; not with -short")
	}
	began := time.Now()
	build := startBuild(t)

	// 1,000 packages, each with its own attachment, written on two
	// workers while the binary builds.
	docsDir := t.TempDir()
	files := make([]string, crashDocuments)
	digests := make([]docdoc.Digest, crashDocuments)
	errs := make(chan error, 2)
	for w := range 2 {
		go func() {
			for i := w; i < crashDocuments; i += 2 {
				var err error
				if files[i], digests[i], err = writeCrashPackage(docsDir, i); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		require.NoError(t, <-errs)
	}
	packed := time.Now()
	bin := build()
	t.Logf("%d packages written in %s, the binary built %s later", crashDocuments, packed.Sub(began).Round(time.Millisecond), time.Since(packed).Round(time.Millisecond))

	t.Run("sqlite", func(t *testing.T) {
		testGatewayCrash(t, bin, files, digests, func(dir, node string) string { return "sqlite:" + filepath.Join(dir, node, "node.db") })
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(sqldbtest.EnvPostgres) == "" {
			t.Skip(sqldbtest.EnvPostgres + " is not set")
		}
		testGatewayCrash(t, bin, files, digests, func(string, string) string {
			url, _ := sqldbtest.PostgresURL(t)
			return url
		})
	})
}

// testGatewayCrash runs TestGatewayCrash on a fresh two-node setup whose
// stores storeURL gives (for the node's directory under dir).
func testGatewayCrash(t *testing.T, bin string, files []string, digests []docdoc.Digest, storeURL func(dir, node string) string) {
	ctx := context.Background()
	dir := t.TempDir()
	r := runR(t, "", "gateway", "demo-config", "--out", dir)
	require.Equal(t, exitOK, r.code, r.stderr)
	senderCfg, receiverCfg := filepath.Join(dir, "ndrc", "gateway.json"), filepath.Join(dir, "finance", "gateway.json")
	senderURL, receiverURL := storeURL(dir, "ndrc"), storeURL(dir, "finance")
	for c, url := range map[string]string{senderCfg: senderURL, receiverCfg: receiverURL} {
		editConfig(t, c, func(m map[string]any) {
			m["store"] = url
			m["pollInterval"] = "50ms"
			// A killed process's claims end after the lease; the retries of
			// a receiver that is down come quickly, and do not give up
			// within the test's time.
			m["lease"] = "2s"
			m["retry"] = map[string]any{"base": "50ms", "max": "400ms", "attempts": 1000}
		})
	}
	senderParty := exchange.Party{OrgID: demoNodes[0].id.OrgID, Node: demoNodes[0].node}
	receiverParty := exchange.Party{OrgID: demoNodes[1].id.OrgID, Node: demoNodes[1].node}

	// One egovkit send stores the 1,000 packages in the sender's outbox;
	// the sender's gateway delivers them.
	stored := time.Now()
	send := runProcess(t, bin, append([]string{"send", "--config", senderCfg, "--to", receiverParty.OrgID, "--no-deliver", "--json"}, files...)...)
	var queued []sentJSON
	require.NoError(t, json.Unmarshal(send, &queued))
	require.Len(t, queued, crashDocuments)
	want := map[string]docdoc.Digest{} // message id → payload digest
	for i, q := range queued {
		require.Len(t, q.Recipients, 1)
		require.Equal(t, "stored", q.Recipients[0].State, "message %s before the gateways run", q.ID)
		want[q.ID] = digests[i]
	}
	require.Len(t, want, crashDocuments, "message ids repeat")

	sender, receiver := observeStore(t, senderURL), observeStore(t, receiverURL)
	senderLog, receiverLog := filepath.Join(dir, "ndrc", "gateway.log"), filepath.Join(dir, "finance", "gateway.log")
	progress := func() string {
		return fmt.Sprintf("the sender has %d of %d delivered after %d failed attempts, %d claimed; the receiver accepted %d",
			sender.delivered(t), crashDocuments, sender.failedAttempts(t), sender.leased(t, time.Now()), receiver.accepted(t))
	}
	deliveredAtLeast := func(n int) func() (bool, string) {
		return func() (bool, string) { return sender.delivered(t) >= n, progress() }
	}
	start := time.Now()
	t.Logf("egovkit send stored the %d documents in %s", crashDocuments, start.Sub(stored).Round(time.Millisecond))
	deadline := start.Add(3 * time.Minute)
	recvProc := startGatewayProcess(t, bin, "receiving", receiverCfg, receiverLog)
	sendProc := startGatewayProcess(t, bin, "sending", senderCfg, senderLog)

	// The receiver dies at a third, with a payload spooled that its store
	// has not recorded yet (and, its store being locked, the small
	// documents in flight held in memory), and the sender sees it down
	// before it comes back.
	receiverSpool := filepath.Join(dir, "finance", "spool")
	waitUntil(t, deadline, "a third of the documents delivered", deliveredAtLeast(crashDocuments/3), senderLog, receiverLog)
	killWhenBlocked(t, recvProc, receiver, deadline, "between spooling a payload and recording it", func() (bool, string) {
		return unrecordedSpooled(t, receiverSpool, receiver) > 0, progress()
	}, senderLog, receiverLog)
	killedReceiverAt, failedBefore := sender.delivered(t), sender.failedAttempts(t)
	spooledAtKill, acceptedAtReceiverKill := unrecordedSpooled(t, receiverSpool, receiver), receiver.accepted(t)
	require.Less(t, killedReceiverAt, crashDocuments, "every document was delivered before the receiver was killed: the run did not test a crash")
	waitUntil(t, deadline, "the sender to fail a delivery to the killed receiver", func() (bool, string) {
		return sender.failedAttempts(t) > failedBefore, progress()
	}, senderLog, receiverLog)
	recvProc = startGatewayProcess(t, bin, "receiving", receiverCfg, receiverLog)

	// The sender dies at two thirds, holding claims, after the receiver
	// accepted a message whose receipt the sender has not recorded.
	waitUntil(t, deadline, "two thirds of the documents delivered", deliveredAtLeast(2*crashDocuments/3), senderLog, receiverLog)
	killWhenBlocked(t, sendProc, sender, deadline, "between a delivery and recording its receipt", func() (bool, string) {
		return receiver.accepted(t) > sender.delivered(t), progress()
	}, senderLog, receiverLog)
	killedSenderAt, claimedAtKill, acceptedAtKill := sender.delivered(t), sender.leased(t, time.Now()), receiver.accepted(t)
	require.Less(t, killedSenderAt, crashDocuments, "every document was delivered before the sender was killed: the run did not test a crash")
	sendProc = startGatewayProcess(t, bin, "sending", senderCfg, senderLog)

	waitUntil(t, deadline, "every document delivered", deliveredAtLeast(crashDocuments), senderLog, receiverLog)
	elapsed := time.Since(start)
	sendProc.stop(t)
	recvProc.stop(t)
	t.Logf("%d documents delivered in %s, %d failed attempts in all", crashDocuments, elapsed.Round(time.Millisecond), sender.failedAttempts(t))
	t.Logf("receiver killed at %d delivered, with %d spooled payloads not recorded and %d messages recorded", killedReceiverAt, spooledAtKill, acceptedAtReceiverKill)
	t.Logf("sender killed at %d delivered and %d accepted by the receiver, holding %d claims", killedSenderAt, acceptedAtKill, claimedAtKill)

	checks := time.Now()

	// The sender: each message delivered once, with its receipt.
	senderStore, err := exchange.OpenStore(ctx, senderURL)
	require.NoError(t, err)
	defer senderStore.Close()
	directory, v := openDemoDirectory(t, dir)
	retried, retryReasons := 0, map[string]int{}
	for id, digest := range want {
		entries, err := senderStore.Outbox(ctx, id)
		require.NoError(t, err)
		require.Len(t, entries, 1, "outbox entries of %s", id)
		e := entries[0]
		require.Equal(t, exchange.StateDelivered, e.State, "message %s after %d attempts: %s", id, e.Attempts, e.LastError)
		require.Equal(t, receiverParty, e.Recipient)
		checkDeliveryReceipt(t, e.Receipt, directory, v, senderParty, receiverParty, id, digest)
		if e.Attempts > 1 {
			retried++
			why := e.LastError
			if len(why) > 90 {
				why = why[:90] + "…"
			}
			retryReasons[why]++
		}
	}
	assert.Positive(t, retried, "no message needed a second attempt: the crashes did not interrupt a delivery")
	t.Logf("%d messages took more than one attempt; their last errors: %v", retried, retryReasons)
	assert.Equal(t, crashDocuments, sender.count(t, `SELECT COUNT(*) FROM exchange_outbox`), "outbox entries: one per document, none added")
	sentDocs, err := senderStore.ListDocuments(ctx, exchange.RoleSender, 10*crashDocuments)
	require.NoError(t, err)
	assert.Len(t, sentDocs, crashDocuments, "the sender's document states")
	senderAudit := verifyAudit(t, senderStore, "sender's")
	assertAuditOnce(t, senderAudit, exchange.AuditSent, want, receiverParty)
	assertAuditOnce(t, senderAudit, exchange.AuditReceipt, want, receiverParty)

	// The receiver: each message in the inbox once, with the bytes sent,
	// and accepted once in its audit log.
	receiverStore, err := exchange.OpenStore(ctx, receiverURL)
	require.NoError(t, err)
	defer receiverStore.Close()
	assert.Equal(t, crashDocuments, receiver.accepted(t), "inbox entries")
	received, err := receiverStore.ListDocuments(ctx, exchange.RoleRecipient, 10*crashDocuments)
	require.NoError(t, err)
	require.Len(t, received, crashDocuments, "the receiver's document states")
	for _, d := range received {
		_, ok := want[d.MessageID]
		require.True(t, ok, "the receiver holds %s, which was not sent", d.MessageID)
		assert.Equal(t, exchange.StatusAwaiting, d.Status)
		assert.Equal(t, senderParty, d.Peer)
	}
	inline := 0
	for id, digest := range want {
		in, err := receiverStore.Inbox(ctx, id)
		require.NoError(t, err, "the receiver's inbox")
		require.Equal(t, senderParty, in.Sender)
		env, err := exchange.ParseEnvelopeBytes(in.Envelope)
		require.NoError(t, err)
		require.Equal(t, digest, env.Payload.Digest, "the envelope the receiver stored for %s", id)
		if in.PayloadPath == "" {
			inline++
		}
		rc, err := exchange.ReadPayload(in)
		require.NoError(t, err)
		data, err := io.ReadAll(rc)
		rc.Close()
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		require.Equal(t, digest.Value, hex.EncodeToString(sum[:]), "the payload the receiver kept for %s", id)
	}
	assert.Equal(t, crashDocuments*3/4, inline, "payloads kept inline in the receiver's store; the others spooled")
	assertAuditOnce(t, verifyAudit(t, receiverStore, "receiver's"), exchange.AuditReceived, want, senderParty)

	t.Logf("the checks took %s", time.Since(checks).Round(time.Millisecond))

	// A transfer that a kill cut short in the middle of its payload leaves
	// its partial file in the spool, which the gateway removes once it is
	// an hour old (TestGatewayRemovesStalePartials): reported, not a
	// delivery fault.
	for _, node := range []string{"ndrc", "finance"} {
		partial, err := filepath.Glob(filepath.Join(dir, node, "spool", ".*.partial"))
		require.NoError(t, err)
		if len(partial) > 0 {
			t.Logf("%s's spool keeps %d partial file(s) of interrupted transfers: %v", node, len(partial), partial)
		}
	}
}

// writeCrashPackage writes document package number i: a report from NDRC
// to the finance bureau with one attachment of its own, and returns the
// file's path and SHA-256.
func writeCrashPackage(dir string, i int) (string, docdoc.Digest, error) {
	doc := &docdoc.Document{
		SpecVersion:     docdoc.SpecVersion,
		ID:              uuid.Must(uuid.NewV7()).String(),
		Type:            docdoc.TypeReport,
		Issuers:         []docdoc.Organ{{Name: demoNodes[0].id.Name, OrgID: demoNodes[0].id.OrgID}},
		DocNumber:       fmt.Sprintf("渝发改〔2026〕%d号", i+1),
		Signers:         []string{"张三"},
		Title:           "重庆市发展和改革委员会关于项目资金使用情况的报告",
		MainRecipients:  []docdoc.Organ{{Name: demoNodes[1].id.Name, OrgID: demoNodes[1].id.OrgID}},
		Body:            docdoc.Body{MediaType: "text/plain", Text: "正文。"},
		AttachmentNotes: []string{"项目资金使用情况表"},
		Signatory:       []string{demoNodes[0].id.Name},
		Date:            "2026-03-18",
		Attachments:     []docdoc.Attachment{{Name: "项目资金使用情况表.csv", MediaType: "text/csv"}},
	}
	csv := fmt.Sprintf("序号,项目,金额（万元）\n%d,项目%04d,%d\n", i+1, i+1, 100+i)
	files := fstest.MapFS{"attachments/项目资金使用情况表.csv": {Data: []byte(csv)}}
	if i%4 == 3 {
		// Every fourth package carries 70 KiB that deflate cannot shrink,
		// so that it is over exchange.InlinePayloadMax and travels through
		// the spools; the others are kept inline in the stores.
		raw := make([]byte, 70<<10)
		_, _ = rand.NewChaCha8([32]byte{byte(i), byte(i >> 8)}).Read(raw)
		doc.AttachmentNotes = []string{"1．项目资金使用情况表", "2．原始监测数据"}
		doc.Attachments = append(doc.Attachments, docdoc.Attachment{Name: "原始监测数据.bin", MediaType: "application/octet-stream"})
		files["attachments/原始监测数据.bin"] = &fstest.MapFile{Data: raw}
	}
	var b bytes.Buffer
	if err := docdoc.Pack(&b, doc, files); err != nil {
		return "", docdoc.Digest{}, fmt.Errorf("package %d: %w", i+1, err)
	}
	path := filepath.Join(dir, fmt.Sprintf("%04d.egd", i+1))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return "", docdoc.Digest{}, err
	}
	sum := sha256.Sum256(b.Bytes())
	return path, docdoc.Digest{Alg: docdoc.SHA256, Value: hex.EncodeToString(sum[:])}, nil
}

// runProcess runs egovkit to its end and returns its stdout; it must
// succeed.
func runProcess(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "egovkit %s: %s", args[0], stderr.String())
	return out
}

// assertAuditOnce checks that the audit log records each message of want
// exactly once in direction, as a document exchanged with peer, and no
// other message in that direction.
func assertAuditOnce(t *testing.T, entries []exchange.AuditEntry, direction string, want map[string]docdoc.Digest, peer exchange.Party) {
	t.Helper()
	seen := map[string]int{}
	for _, e := range entries {
		if e.Direction != direction {
			continue
		}
		seen[e.MessageID]++
		_, sent := want[e.MessageID]
		require.True(t, sent, "the audit log records %s %s, which was not sent", direction, e.MessageID)
		require.Equal(t, peer.String(), e.Peer, "audit entry %d", e.Seq)
		kind := exchange.KindDocument
		if direction == exchange.AuditReceipt {
			kind = exchange.KindReceipt
		}
		require.Equal(t, kind, e.Kind, "audit entry %d", e.Seq)
	}
	for id := range want {
		require.Equal(t, 1, seen[id], "audit entries %q of %s", direction, id)
	}
}
