package exchange

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/egovkit/egovkit/internal/strictjson"
	"github.com/egovkit/egovkit/signature/jcs"
)

// Audit directions.
const (
	AuditSent     = "sent"     // a message this node stored for sending
	AuditReceived = "received" // a message this node accepted
	AuditReceipt  = "receipt"  // a delivery receipt, or the negative receipt of a final refusal, this node received for a message it sent
	AuditState    = "state"    // a document's state changed (签收, 退回, 撤回, 催办); State says to what
)

// AuditEntry is one entry of a node's audit log: an append-only,
// hash-chained record of every message and receipt sent or received. Each
// entry's Hash is the SHA-256 of its canonical form (RFC 8785, without
// Hash) which includes the previous entry's hash, so that editing,
// deleting, inserting or reordering any entry breaks the chain from there
// on, and [VerifyAudit] names the first entry that does not fit.
type AuditEntry struct {
	Seq       int64  `json:"seq"`
	At        Time   `json:"at"`
	Direction string `json:"direction"`
	Kind      Kind   `json:"kind"`
	MessageID string `json:"messageId"`
	Peer      string `json:"peer"`            // the other party, ORGID/NODE
	Digest    string `json:"digest"`          // SHA-256 of the envelope's canonical form (of the state record for AuditState)
	State     string `json:"state,omitempty"` // for AuditState: the document's new status
	PrevHash  string `json:"prevHash"`
	Hash      string `json:"hash"`
}

// auditGenesis is the PrevHash of the first entry.
const auditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// hashOf computes an entry's hash over its canonical form without Hash.
func (e AuditEntry) hashOf() (string, error) {
	e.Hash = ""
	raw, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	var c jcs.Canonicalizer
	canon, _, err := c.AppendWithout(nil, raw, "hash")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// envelopeDigest is the SHA-256 of an envelope's canonical form, as the
// audit log records it.
func envelopeDigest(raw []byte) (string, error) {
	canon, err := jcs.Canonicalize(raw)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return hex.EncodeToString(sum[:]), nil
}

// chain fills in Seq, PrevHash and Hash of e as the entry after prev (nil
// for the first).
func (e *AuditEntry) chain(prev *AuditEntry) error {
	e.Seq, e.PrevHash = 1, auditGenesis
	if prev != nil {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	h, err := e.hashOf()
	if err != nil {
		return err
	}
	e.Hash = h
	return nil
}

// ErrAuditBroken matches every [*AuditError].
var ErrAuditBroken = errors.New("exchange: the audit log's chain is broken")

// AuditError names the first entry of an audit log that does not fit the
// chain, and how.
type AuditError struct {
	Seq     int64  // the entry's sequence number as stored
	Index   int    // its position in the log, from 0
	Problem string // edited, inserted or reordered, deleted before it, ...
}

// Error implements error.
func (e *AuditError) Error() string {
	return fmt.Sprintf("exchange: audit log entry %d (position %d): %s", e.Seq, e.Index, e.Problem)
}

// Is reports whether target is [ErrAuditBroken].
func (e *AuditError) Is(target error) bool { return target == ErrAuditBroken }

// AuditVerifier checks entries one at a time, in log order.
type AuditVerifier struct {
	prev  *AuditEntry
	index int
}

// Add checks the next entry; the first failure is an [*AuditError].
func (v *AuditVerifier) Add(e AuditEntry) error {
	defer func() { v.index++ }()
	want, err := e.hashOf()
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return &AuditError{Seq: e.Seq, Index: v.index, Problem: fmt.Sprintf(format, args...)}
	}
	if e.Hash != want {
		return fail("its content does not match its hash: the entry was edited")
	}
	switch {
	case v.prev == nil && (e.Seq != 1 || e.PrevHash != auditGenesis):
		return fail("the log does not start at entry 1: entries before it were deleted")
	case v.prev != nil && e.Seq != v.prev.Seq+1:
		if e.Seq > v.prev.Seq+1 {
			return fail("follows entry %d: entries %d to %d were deleted", v.prev.Seq, v.prev.Seq+1, e.Seq-1)
		}
		return fail("follows entry %d: the entry was inserted or the log reordered", v.prev.Seq)
	case v.prev != nil && e.PrevHash != v.prev.Hash:
		return fail("does not chain to entry %d: the entry was inserted, replaced or reordered", v.prev.Seq)
	}
	c := e
	v.prev = &c
	return nil
}

// VerifyAudit checks a whole log read as JSON Lines (one entry per line,
// as [WriteAudit] writes them) and returns how many entries it checked.
func VerifyAudit(r io.Reader) (int, error) {
	var v AuditVerifier
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var e AuditEntry
		if _, err := strictjson.Parse(line, strictjson.Limits{MaxBytes: 1 << 20, MaxDepth: 4}); err != nil {
			return n, &AuditError{Index: n, Problem: "line " + strconv.Itoa(n+1) + " is not strict JSON: " + err.Error()}
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&e); err != nil {
			return n, &AuditError{Index: n, Problem: "line " + strconv.Itoa(n+1) + " is not an audit entry: " + err.Error()}
		}
		if err := v.Add(e); err != nil {
			return n, err
		}
		n++
	}
	return n, sc.Err()
}

// WriteAudit writes entries as JSON Lines.
func WriteAudit(w io.Writer, entries []AuditEntry) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
