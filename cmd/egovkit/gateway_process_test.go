package main

// Helpers for the tests that run egovkit as real processes: build the
// binary, start and kill gateways, observe their stores, read their memory.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/docdoc"
	"github.com/egovkit/egovkit/exchange"
	"github.com/egovkit/egovkit/internal/sqldb"
	"github.com/egovkit/egovkit/signature"
)

// startBuild starts building the egovkit command, without -race whatever
// the test runs with, into a temporary directory, and returns the function
// that waits for the build and returns the binary's path, so that a test
// can prepare its data meanwhile.
func startBuild(t *testing.T) (wait func() string) {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	require.NoError(t, err, "go env GOMOD: the process tests need the go command")
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	require.NotEqual(t, ".", root, "go env GOMOD printed %q; expected the path of egovkit's go.mod", gomod)
	bin := filepath.Join(t.TempDir(), "egovkit")
	build := exec.Command("go", "build", "-o", bin, "./cmd/egovkit")
	build.Dir = root
	var out bytes.Buffer
	build.Stdout, build.Stderr = &out, &out
	require.NoError(t, build.Start(), "go build ./cmd/egovkit in %s", root)
	done := make(chan error, 1)
	go func() { done <- build.Wait() }()
	t.Cleanup(func() {
		if build.ProcessState == nil {
			_ = build.Process.Kill()
			<-done
		}
	})
	return func() string {
		t.Helper()
		require.NoError(t, <-done, "go build ./cmd/egovkit in %s: %s", root, out.String())
		return bin
	}
}

// editConfig rewrites a gateway configuration file: edit changes its
// members.
func editConfig(t *testing.T, path string, edit func(m map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	edit(m)
	data, err = json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

// gatewayProcess is one run of "egovkit gateway --config FILE" as a child
// process. Its stderr, and its stdout after the first line, are appended
// to a log file that every run of the same node shares.
type gatewayProcess struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{} // closed when the process has been waited for
}

// startGatewayProcess starts a gateway and returns once it prints that it
// listens; the test's cleanup kills it if it still runs.
func startGatewayProcess(t *testing.T, bin, name, config, log string) *gatewayProcess {
	t.Helper()
	lf, err := os.OpenFile(log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	require.NoError(t, err)
	fmt.Fprintf(lf, "--- %s: egovkit gateway --config %s, started %s\n", name, config, time.Now().UTC().Format(time.RFC3339Nano))
	cmd := exec.Command(bin, "gateway", "--config", config)
	cmd.Stderr = lf
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start(), "starting the %s gateway", name)
	p := &gatewayProcess{name: name, cmd: cmd, log: log, done: make(chan struct{})}
	first := make(chan string, 1)
	go func() {
		defer close(p.done)
		defer lf.Close()
		br := bufio.NewReader(stdout)
		line, _ := br.ReadString('\n')
		first <- line
		_, _ = io.Copy(lf, br)
		_ = cmd.Wait() // after every read of stdout, as exec requires
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case line := <-first:
		require.Contains(t, line, "listening on https://", "the %s gateway did not start; its log:\n%s", name, tail(log, 4000))
	case <-time.After(time.Minute):
		t.Fatalf("the %s gateway printed nothing for a minute; its log:\n%s", name, tail(log, 4000))
	}
	return p
}

// kill ends the gateway with SIGKILL, as a crash would, and waits for it.
func (p *gatewayProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Kill(), "killing the %s gateway", p.name)
	<-p.done
	ws, _ := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the %s gateway ended with %v before SIGKILL reached it; its log:\n%s", p.name, p.cmd.ProcessState, tail(p.log, 4000))
}

// stop ends the gateway with SIGTERM and checks that it stopped cleanly.
func (p *gatewayProcess) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM), "stopping the %s gateway", p.name)
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		t.Fatalf("the %s gateway did not stop within a minute of SIGTERM; its log:\n%s", p.name, tail(p.log, 4000))
	}
	require.True(t, p.cmd.ProcessState.Success(), "the %s gateway ended with %v; its log:\n%s", p.name, p.cmd.ProcessState, tail(p.log, 4000))
	require.Contains(t, tail(p.log, 4000), "stopped", "the %s gateway did not say it stopped", p.name)
}

// peakRSS returns the process's peak resident set (VmHWM in
// /proc/PID/status), in bytes, while it runs.
func (p *gatewayProcess) peakRSS(t *testing.T) int64 {
	t.Helper()
	return procPeakRSS(t, p.cmd.Process.Pid)
}

func procPeakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	n, err := readPeakRSS(pid)
	require.NoError(t, err)
	return n
}

// readPeakRSS reads VmHWM from /proc/PID/status, in bytes.
func readPeakRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("reading the peak resident set of process %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("process %d: VmHWM line %q: %w", pid, line, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmHWM line (the process has exited)", pid)
}

// runMeasured runs a command that must succeed and returns its stdout and
// its peak resident set: VmHWM, read every 10 ms while it runs, the last
// reading before it exits. (Its rusage ru_maxrss would not do: Linux
// counts in it the memory of the parent, the test, at the exec.)
func runMeasured(t *testing.T, cmd *exec.Cmd) ([]byte, int64) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start(), "starting %s", cmd.Args)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if n, err := readPeakRSS(cmd.Process.Pid); err == nil {
			peak = max(peak, n)
		}
		select {
		case err := <-done:
			require.NoError(t, err, "%s: %s%s", cmd.Args, stdout.String(), stderr.String())
			require.Positive(t, peak, "%s exited before its memory could be read", cmd.Args)
			return stdout.Bytes(), peak
		case <-tick.C:
		}
	}
}

// tail returns the last n bytes of a file, for failure messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// storeObserver runs read-only counting queries on a node's store (SQLite
// or PostgreSQL) while its gateway runs, to drive a test by the state the
// gateway has committed. What a test asserts, it reads through the
// exchange API.
type storeObserver struct {
	db *sqldb.DB
}

func observeStore(t *testing.T, url string) *storeObserver {
	t.Helper()
	db, err := sqldb.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return &storeObserver{db: db}
}

// count runs a query (with ? placeholders) that returns one integer.
func (o *storeObserver) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, o.db.QueryRowContext(context.Background(), o.db.Rebind(q), args...).Scan(&n), "observing the store: %s", q)
	return n
}

// delivered is how many outbox entries hold their delivery receipt.
func (o *storeObserver) delivered(t *testing.T) int {
	return o.count(t, `SELECT COUNT(*) FROM exchange_outbox WHERE state = ?`, exchange.StateDelivered)
}

// failedAttempts is how many delivery attempts failed so far: every
// attempt counts in attempts, the one that succeeded included.
func (o *storeObserver) failedAttempts(t *testing.T) int {
	return o.count(t, `SELECT COALESCE(SUM(CASE WHEN state = ? THEN attempts - 1 ELSE attempts END), 0) FROM exchange_outbox`, exchange.StateDelivered)
}

// leased is how many pending entries a worker holds a lease on at now.
func (o *storeObserver) leased(t *testing.T, now time.Time) int {
	return o.count(t, `SELECT COUNT(*) FROM exchange_outbox WHERE state = ? AND lease_until > ?`, exchange.StatePending, now.UnixMilli())
}

// accepted is how many messages the node's inbox holds.
func (o *storeObserver) accepted(t *testing.T) int {
	return o.count(t, `SELECT COUNT(*) FROM exchange_inbox`)
}

// lock makes the node's writes to its outbox and inbox wait, and returns
// the function that lets them go on: on SQLite it takes the database's
// write lock (BEGIN IMMEDIATE), on PostgreSQL an EXCLUSIVE lock on both
// tables, which lets reads through.
func (o *storeObserver) lock(t *testing.T) (release func()) {
	t.Helper()
	tx, err := o.db.BeginTx(context.Background(), nil)
	require.NoError(t, err, "locking the store")
	q := `LOCK TABLE exchange_outbox, exchange_inbox IN EXCLUSIVE MODE`
	if o.db.Dialect == sqldb.SQLite {
		// BEGIN IMMEDIATE took the lock already; a write makes sure of it.
		q = `CREATE TABLE IF NOT EXISTS egovkit_test_lock (x INTEGER)`
	}
	_, err = tx.Exec(q)
	require.NoError(t, err, "locking the store")
	return func() { require.NoError(t, tx.Rollback()) }
}

// unrecordedSpooled counts the payloads in a receiver's spool
// (ID.RANDOM.in) whose message its store has not recorded.
func unrecordedSpooled(t *testing.T, dir string, store *storeObserver) int {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	n := 0
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".in")
		if !ok || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		id, _, _ := strings.Cut(name, ".")
		if store.count(t, `SELECT COUNT(*) FROM exchange_inbox WHERE message_id = ?`, id) == 0 {
			n++
		}
	}
	return n
}

// killWhenBlocked kills a gateway at a chosen point of its work: it locks
// the gateway's store (storeObserver.lock) until blocked reports that the
// gateway has done the first half of a step and waits on the lock for the
// second (a payload spooled but not yet recorded; a message accepted by
// the peer but its receipt not yet recorded), then kills the gateway and
// releases the lock. A gateway that does not get there within five seconds
// (it was between two batches) is given the lock back, and the test tries
// again.
func killWhenBlocked(t *testing.T, p *gatewayProcess, store *storeObserver, deadline time.Time, what string, blocked func() (bool, string), logs ...string) {
	t.Helper()
	for {
		release := store.lock(t)
		try := time.Now().Add(5 * time.Second)
		for time.Now().Before(try) {
			if ok, _ := blocked(); ok {
				p.kill(t)
				release()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
		release()
		_, state := blocked()
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, l := range logs {
				fmt.Fprintf(&b, "\n--- %s (last 3000 bytes):\n%s", filepath.Base(filepath.Dir(l))+"/"+filepath.Base(l), tail(l, 3000))
			}
			t.Fatalf("timed out waiting for the %s gateway to be %s; last seen: %s%s", p.name, what, state, b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitUntil polls cond until it holds or the deadline passes; then the
// test fails saying what it waited for and what state it saw last.
func waitUntil(t *testing.T, deadline time.Time, what string, cond func() (bool, string), logs ...string) {
	t.Helper()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			var b strings.Builder
			for _, l := range logs {
				fmt.Fprintf(&b, "\n--- %s (last 3000 bytes):\n%s", filepath.Base(filepath.Dir(l))+"/"+filepath.Base(l), tail(l, 3000))
			}
			t.Fatalf("timed out waiting for %s; last seen: %s%s", what, state, b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkDeliveryReceipt checks a delivery receipt (送达回执) as the sender
// stored it: a receipt envelope that verifies against the directory,
// signed by the recipient's node, addressed to the sender, answering the
// message, and whose payload is the receipt for exactly the message's id
// and payload digest. The sender keeps the receipt's envelope, not its
// payload; the payload is rebuilt from what the receipt must say (status
// delivered, the message id, received at the receipt's creation, the
// payload's digest) and its digest compared with the one the recipient
// signed, so a receipt for another message or other bytes fails.
func checkDeliveryReceipt(t *testing.T, raw []byte, dir *exchange.Directory, v *signature.Verifier, sender, recipient exchange.Party, messageID string, payload docdoc.Digest) {
	t.Helper()
	_, re, rc, err := exchange.ParseSignedReceipt(raw)
	require.NoError(t, err, "the stored receipt of %s: envelope and payload as they came", messageID)
	require.NoError(t, exchange.VerifyEnvelope(context.Background(), re, dir, v, sender, time.Now()), "the stored receipt of %s", messageID)
	require.Equal(t, exchange.KindReceipt, re.Kind, "the stored receipt of %s", messageID)
	require.Equal(t, recipient, re.Sender, "the receipt of %s is signed by another node", messageID)
	require.Equal(t, messageID, re.ReplyTo, "the receipt stored for %s answers another message", messageID)
	require.Equal(t, exchange.ReceiptDelivered, rc.Status)
	require.Equal(t, messageID, rc.MessageID, "the receipt stored for %s acknowledges another message", messageID)
	require.Equal(t, payload, rc.Digest, "the receipt of %s acknowledges other bytes", messageID)
}

// openDemoDirectory opens the directory of a setup that egovkit gateway
// demo-config wrote into dir, and returns it with a verifier on the
// setup's trust anchors.
func openDemoDirectory(t *testing.T, dir string) (*exchange.Directory, *signature.Verifier) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "roots.pem"))
	require.NoError(t, err)
	certs, err := signature.ParseCertificatesPEM(data)
	require.NoError(t, err)
	v, err := signature.NewVerifier(certs)
	require.NoError(t, err)
	keeper, err := exchange.NewDirectoryKeeper(exchange.FileSource(filepath.Join(dir, "directory.json")), v, demoOperator, time.Now)
	require.NoError(t, err)
	require.NoError(t, keeper.Refresh(context.Background()))
	d, err := keeper.Current()
	require.NoError(t, err)
	return d, v
}

// verifyAudit checks a store's audit chain with exchange.VerifyAudit and
// returns the entries.
func verifyAudit(t *testing.T, s exchange.Store, node string) []exchange.AuditEntry {
	t.Helper()
	entries, err := s.Audit(context.Background())
	require.NoError(t, err, "the %s audit log", node)
	var b bytes.Buffer
	require.NoError(t, exchange.WriteAudit(&b, entries))
	n, err := exchange.VerifyAudit(&b)
	require.NoError(t, err, "the %s audit log's chain", node)
	require.Equal(t, len(entries), n, "the %s audit log: entries verified", node)
	return entries
}
