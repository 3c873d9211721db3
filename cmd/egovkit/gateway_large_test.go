package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/exchange"
)

const (
	// largeAttachment is the size of the attachment of TestGatewayLargePackage:
	// 1 GiB, the largest entry docdoc.DefaultPackageLimits accept.
	largeAttachment = 1 << 30
	// largeRSSLimit is the peak resident set each process may reach while
	// the package goes through it: 100 MB.
	largeRSSLimit = 100_000_000
	// largeDiskNeed is the free space the test needs: the attachment and
	// the package at once at first, then the package in both spools (each
	// file is removed when nothing needs it any more), and a margin.
	largeDiskNeed = 3 << 30
)

// TestGatewayLargePackage exchanges a document package of a little over
// 1 GiB (its attachment is 1 GiB of pseudo-random bytes, so that deflate
// does not shrink it) from a real sending gateway process to a real
// receiving one, and checks that the package streams through every process
// that handles it: egovkit pack, egovkit send and both gateways each stay
// under 100 MB of peak resident memory (VmHWM). The receiver's spooled payload has the digest sent, and
// opens as a package. It writes several GB, so it runs only with
// EGOVKIT_TEST_LARGE=1; then a lack of disk space fails it.
func TestGatewayLargePackage(t *testing.T) {
	if os.Getenv("EGOVKIT_TEST_LARGE") != "1" {
		t.Skip("exchanges a 1 GiB package between gateway processes, writing about 4 GiB to the temporary directory (2 GiB at most at once); set EGOVKIT_TEST_LARGE=1 to run it")
	}
	ctx := context.Background()
	dir := t.TempDir()
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(dir, &st))
	free := int64(st.Bavail) * st.Bsize
	require.GreaterOrEqual(t, free, int64(largeDiskNeed), "%s has %d MiB free; the 1 GiB package test needs %d MiB (set TMPDIR to a larger disk)", dir, free>>20, largeDiskNeed>>20)
	began := time.Now()
	build := startBuild(t)

	// The attachment, generated as a stream into its file; the document
	// that lists it.
	name := "2026年项目影像资料.bin"
	work := filepath.Join(dir, "work")
	require.NoError(t, os.Mkdir(work, 0o755))
	attachment := filepath.Join(work, name)
	attachmentDigest := writeGenerated(t, attachment, largeAttachment)
	doc := map[string]any{
		"specVersion":     docdoc.SpecVersion,
		"id":              uuid.Must(uuid.NewV7()).String(),
		"type":            "report",
		"issuers":         []any{map[string]any{"name": demoNodes[0].id.Name, "orgId": demoNodes[0].id.OrgID}},
		"docNumber":       "渝发改〔2026〕1号",
		"signers":         []string{"张三"},
		"title":           "重庆市发展和改革委员会关于报送项目影像资料的报告",
		"mainRecipients":  []any{map[string]any{"name": demoNodes[1].id.Name, "orgId": demoNodes[1].id.OrgID}},
		"body":            map[string]any{"mediaType": "text/plain", "text": "正文。"},
		"attachmentNotes": []string{"2026年项目影像资料"},
		"signatory":       []string{demoNodes[0].id.Name},
		"date":            "2026-03-18",
		"attachments":     []any{map[string]any{"name": name, "mediaType": "application/octet-stream"}},
	}
	docJSON, err := json.Marshal(doc)
	require.NoError(t, err)
	docFile := filepath.Join(work, "document.json")
	require.NoError(t, os.WriteFile(docFile, docJSON, 0o644))
	generated := time.Now()
	bin := build()

	// egovkit pack streams the attachment into the package (docdoc.Pack).
	pkg := filepath.Join(work, "large.egd")
	packStart := time.Now()
	_, packRSS := runMeasured(t, exec.Command(bin, "pack", "--out", pkg, docFile, attachment))
	packTime := time.Since(packStart)
	peakDisk := diskUsed(t, dir)
	require.NoError(t, os.Remove(attachment))
	pkgInfo, err := os.Stat(pkg)
	require.NoError(t, err)
	pkgDigest := fileDigest(t, pkg)
	p, err := openPackageFile(pkg)
	require.NoError(t, err)
	require.Len(t, p.Document.Attachments, 1)
	require.Equal(t, attachmentDigest, *p.Document.Attachments[0].Digest, "the attachment's digest in the package")
	require.Equal(t, int64(largeAttachment), p.Document.Attachments[0].Size)

	// Two gateways; egovkit send stores the package in the sender's outbox
	// and leaves its delivery to the sending gateway.
	r := runR(t, "", "gateway", "demo-config", "--out", filepath.Join(dir, "nodes"))
	require.Equal(t, exitOK, r.code, r.stderr)
	nodes := filepath.Join(dir, "nodes")
	senderCfg, receiverCfg := filepath.Join(nodes, "ndrc", "gateway.json"), filepath.Join(nodes, "finance", "gateway.json")
	for _, c := range []string{senderCfg, receiverCfg} {
		editConfig(t, c, func(m map[string]any) { m["pollInterval"] = "200ms" })
	}
	senderLog, receiverLog := filepath.Join(nodes, "ndrc", "gateway.log"), filepath.Join(nodes, "finance", "gateway.log")
	recvProc := startGatewayProcess(t, bin, "receiving", receiverCfg, receiverLog)
	sendProc := startGatewayProcess(t, bin, "sending", senderCfg, senderLog)
	sendStart := time.Now()
	out, sendRSS := runMeasured(t, exec.Command(bin, "send", "--config", senderCfg, "--to", demoNodes[1].id.OrgID, "--no-deliver", "--json", pkg))
	sendTime := time.Since(sendStart)
	var sent sentJSON
	require.NoError(t, json.Unmarshal(out, &sent), "%s", out)
	peakDisk = max(peakDisk, diskUsed(t, dir))
	require.NoError(t, os.Remove(pkg)) // the sender's spool holds its copy

	sender := observeStore(t, "sqlite:"+filepath.Join(nodes, "ndrc", "node.db"))
	transferStart := time.Now()
	waitUntil(t, transferStart.Add(10*time.Minute), "the package delivered", func() (bool, string) {
		return sender.delivered(t) == 1, fmt.Sprintf("%d delivered after %d failed attempts", sender.delivered(t), sender.failedAttempts(t))
	}, senderLog, receiverLog)
	transferTime := time.Since(transferStart)
	peakDisk = max(peakDisk, diskUsed(t, dir))
	senderHWM, receiverHWM := sendProc.peakRSS(t), recvProc.peakRSS(t)
	sendProc.stop(t)
	recvProc.stop(t)

	t.Logf("package: %d bytes (attachment %d bytes), generated in %s, packed by egovkit pack in %s",
		pkgInfo.Size(), largeAttachment, generated.Sub(began).Round(time.Millisecond), packTime.Round(time.Millisecond))
	t.Logf("egovkit send stored it in %s; the sending gateway delivered it in %s (%.0f MB/s)",
		sendTime.Round(time.Millisecond), transferTime.Round(time.Millisecond), float64(pkgInfo.Size())/1e6/transferTime.Seconds())
	t.Logf("peak resident set (VmHWM): egovkit pack %.1f MB, egovkit send %.1f MB, sending gateway %.1f MB, receiving gateway %.1f MB",
		mb(packRSS), mb(sendRSS), mb(senderHWM), mb(receiverHWM))
	t.Logf("disk: at most %.0f MB in the test's directory at once (%s)", mb(peakDisk), dir)
	for what, rss := range map[string]int64{"egovkit pack": packRSS, "egovkit send": sendRSS, "the sending gateway": senderHWM, "the receiving gateway": receiverHWM} {
		assert.Less(t, rss, int64(largeRSSLimit), "%s reached a peak resident set of %.1f MB with a %d-byte package; expected under 100 MB", what, mb(rss), pkgInfo.Size())
	}

	// The sender holds the delivery receipt for the package's digest; the
	// receiver holds the package, byte for byte, and it opens.
	senderStore, err := exchange.OpenStore(ctx, "sqlite:"+filepath.Join(nodes, "ndrc", "node.db"))
	require.NoError(t, err)
	defer senderStore.Close()
	entries, err := senderStore.Outbox(ctx, sent.ID)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, exchange.StateDelivered, entries[0].State, entries[0].LastError)
	directory, v := openDemoDirectory(t, nodes)
	senderParty := exchange.Party{OrgID: demoNodes[0].id.OrgID, Node: demoNodes[0].node}
	receiverParty := exchange.Party{OrgID: demoNodes[1].id.OrgID, Node: demoNodes[1].node}
	checkDeliveryReceipt(t, entries[0].Receipt, directory, v, senderParty, receiverParty, sent.ID, pkgDigest)

	receiverStore, err := exchange.OpenStore(ctx, "sqlite:"+filepath.Join(nodes, "finance", "node.db"))
	require.NoError(t, err)
	defer receiverStore.Close()
	in, err := receiverStore.Inbox(ctx, sent.ID)
	require.NoError(t, err)
	env, err := exchange.ParseEnvelopeBytes(in.Envelope)
	require.NoError(t, err)
	assert.Equal(t, pkgDigest, env.Payload.Digest)
	assert.Equal(t, docdoc.MediaType, env.Payload.MediaType)
	assert.Equal(t, pkgDigest, fileDigest(t, in.PayloadPath), "the payload the receiver spooled")
	got, err := openPackageFile(in.PayloadPath)
	require.NoError(t, err, "the receiver's package")
	require.Len(t, got.Document.Attachments, 1)
	assert.Equal(t, attachmentDigest, *got.Document.Attachments[0].Digest)
	assert.Equal(t, p.DocumentJSON, got.DocumentJSON)
}

// writeGenerated writes size pseudo-random bytes (ChaCha8 with a fixed
// seed, so the same every run) to path as a stream, and returns their
// SHA-256.
func writeGenerated(t *testing.T, path string, size int64) docdoc.Digest {
	t.Helper()
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	seed := [32]byte{'e', 'g', 'o', 'v', 'k', 'i', 't'}
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(rand.NewChaCha8(seed), size))
	require.NoError(t, err)
	require.Equal(t, size, n)
	require.NoError(t, f.Close())
	return docdoc.Digest{Alg: docdoc.SHA256, Value: hex.EncodeToString(h.Sum(nil))}
}

// fileDigest returns the SHA-256 of a file, streamed.
func fileDigest(t *testing.T, path string) docdoc.Digest {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	d, _, err := docdoc.ComputeDigest(f, docdoc.SHA256)
	require.NoError(t, err)
	return d
}

// openPackageFile checks a package file with docdoc.OpenPackage and the
// default limits.
func openPackageFile(path string) (*docdoc.Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return docdoc.OpenPackage(f, st.Size(), docdoc.DefaultPackageLimits)
}

// diskUsed is the disk space the files under dir take (their blocks).
func diskUsed(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
		return nil
	}))
	return n
}

func mb(n int64) float64 { return float64(n) / 1e6 }
