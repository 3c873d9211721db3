package exchange

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/egovkit/egovkit/internal/sqldb"
)

// SQLStore is a [Store] on SQLite or PostgreSQL (see internal/sqldb for how
// each is opened). Claims use FOR UPDATE SKIP LOCKED on PostgreSQL, so
// several gateway processes of one organ deliver each entry once; SQLite
// serialises writers.
//
// Writes from concurrent callers share commits (group commit): every
// write waiting when a commit ends goes into the next one, each in a
// savepoint of its own, so that N concurrent messages cost one sync of the
// database log rather than N, and a write that fails fails alone. A write
// returns once its commit is durable, as without grouping.
type SQLStore struct {
	db    *sqldb.DB
	group *sqldb.Group
	st    *sqldb.Statements
}

// OpenStore opens a store by database URL (sqlite:PATH or postgres://…)
// and creates its tables if needed.
func OpenStore(ctx context.Context, url string) (*SQLStore, error) {
	db, err := sqldb.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	s, err := newSQLStore(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func newSQLStore(ctx context.Context, db *sqldb.DB) (*SQLStore, error) {
	if err := db.Migrate(ctx,
		`CREATE TABLE IF NOT EXISTS exchange_outbox (
	message_id   TEXT NOT NULL,
	recipient    TEXT NOT NULL,
	envelope     TEXT NOT NULL,
	payload_path TEXT NOT NULL,
	state        TEXT NOT NULL,
	attempts     INTEGER NOT NULL,
	next_attempt BIGINT NOT NULL,
	lease_owner  TEXT,
	lease_until  BIGINT,
	last_error   TEXT NOT NULL,
	receipt      TEXT,
	created      BIGINT NOT NULL,
	updated      BIGINT NOT NULL,
	PRIMARY KEY (message_id, recipient))`,
		`CREATE INDEX IF NOT EXISTS exchange_outbox_due ON exchange_outbox (state, next_attempt)`,
		`CREATE TABLE IF NOT EXISTS exchange_inbox (
	message_id   TEXT PRIMARY KEY,
	sender       TEXT NOT NULL,
	kind         TEXT NOT NULL,
	envelope     TEXT NOT NULL,
	payload_path TEXT NOT NULL,
	received     BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS exchange_audit (
	seq        BIGINT PRIMARY KEY,
	at         BIGINT NOT NULL,
	direction  TEXT NOT NULL,
	kind       TEXT NOT NULL,
	message_id TEXT NOT NULL,
	peer       TEXT NOT NULL,
	digest     TEXT NOT NULL,
	prev_hash  TEXT NOT NULL,
	hash       TEXT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS exchange_documents (
	message_id    TEXT NOT NULL,
	role          TEXT NOT NULL,
	peer          TEXT NOT NULL,
	document_type TEXT NOT NULL,
	status        TEXT NOT NULL,
	by_name       TEXT NOT NULL,
	by_id         TEXT NOT NULL,
	reason        TEXT NOT NULL,
	at            BIGINT NOT NULL,
	reply_id      TEXT NOT NULL,
	urges         INTEGER NOT NULL,
	last_urged    BIGINT NOT NULL,
	created       BIGINT NOT NULL,
	updated       BIGINT NOT NULL,
	PRIMARY KEY (message_id, role, peer))`,
		`CREATE INDEX IF NOT EXISTS exchange_documents_role ON exchange_documents (role, created)`,
	); err != nil {
		return nil, fmt.Errorf("exchange: creating tables: %w", err)
	}
	// Columns added after the first release: the audit entries' document
	// state, and inline payloads.
	blob := "BLOB"
	if db.Dialect == sqldb.Postgres {
		blob = "BYTEA"
	}
	for _, c := range []struct{ table, column, def string }{
		{"exchange_audit", "state", "TEXT NOT NULL DEFAULT ''"},
		{"exchange_outbox", "payload", blob},
		{"exchange_inbox", "payload", blob},
	} {
		if err := addColumn(ctx, db, c.table, c.column, c.def); err != nil {
			return nil, fmt.Errorf("exchange: adding %s.%s: %w", c.table, c.column, err)
		}
	}
	return &SQLStore{db: db, group: db.NewGroup(0), st: sqldb.NewStatements(db)}, nil
}

// addColumn adds a column to a table created before the column existed.
func addColumn(ctx context.Context, db *sqldb.DB, table, column, def string) error {
	if db.Dialect == sqldb.Postgres {
		return db.Migrate(ctx, `ALTER TABLE `+table+` ADD COLUMN IF NOT EXISTS `+column+` `+def)
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		_, err := tx.ExecContext(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+def)
		return err
	})
}

// Close stops the group committer once its commit in progress has ended,
// and closes the database.
func (s *SQLStore) Close() error {
	s.group.Close()
	return errors.Join(s.st.Close(), s.db.Close())
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func partyKey(p Party) string { return p.OrgID + "/" + p.Node }

func parseParty(s string) (Party, error) {
	org, node, ok := strings.Cut(s, "/")
	if !ok {
		return Party{}, fmt.Errorf("exchange: stored party %q is not ORGID/NODE", s)
	}
	return Party{OrgID: org, Node: node}, nil
}

// Enqueue implements [Store].
func (s *SQLStore) Enqueue(ctx context.Context, entries []OutboxEntry) error {
	facts, err := outboxFacts(entries)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.enqueueTx(ctx, tx, entries, facts) })
	if sqldb.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	}
	return err
}

// envFacts is what the audit log and the document states need of a stored
// envelope: its kind and document type, and its canonical digest. They
// are computed before a write goes to the group committer, which runs the
// store's writes one after another, so that its work is SQL alone.
type envFacts struct {
	meta   envMeta
	digest string
}

func factsOf(raw []byte) (envFacts, error) {
	d, err := envelopeDigest(raw)
	return envFacts{meta: envelopeMeta(raw), digest: d}, err
}

// outboxFacts are the facts of each entry's envelope; the recipients of
// one message share it.
func outboxFacts(entries []OutboxEntry) ([]envFacts, error) {
	facts := make([]envFacts, len(entries))
	for i, e := range entries {
		if i > 0 && bytes.Equal(e.Envelope, entries[i-1].Envelope) {
			facts[i] = facts[i-1]
			continue
		}
		f, err := factsOf(e.Envelope)
		if err != nil {
			return nil, err
		}
		facts[i] = f
	}
	return facts, nil
}

func (s *SQLStore) enqueueTx(ctx context.Context, tx *sql.Tx, entries []OutboxEntry, facts []envFacts) error {
	for i, e := range entries {
		m := facts[i].meta
		var owner, until any
		if e.LeaseOwner != "" {
			owner, until = e.LeaseOwner, ms(e.LeaseUntil)
		}
		if _, err := s.st.Exec(ctx, tx, enqueueSQL, e.MessageID, partyKey(e.Recipient), string(e.Envelope), e.PayloadPath, inline(e.Payload), StatePending,
			owner, until, ms(e.NextAttempt), ms(e.Created), ms(e.Created)); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, AuditSent, m.Kind, facts[i].digest, e.MessageID, e.Recipient, e.Created); err != nil {
			return err
		}
		if m.Kind == KindDocument {
			if err := s.insertDocument(ctx, tx, e.MessageID, RoleSender, e.Recipient, m.DocumentType, e.Created); err != nil {
				return err
			}
		}
	}
	return nil
}

const enqueueSQL = `INSERT INTO exchange_outbox (message_id, recipient, envelope, payload_path, payload, state, lease_owner, lease_until, attempts, next_attempt, last_error, created, updated)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, '', ?, ?)`

// inline is the value of a payload column: NULL for a spooled payload.
func inline(p []byte) any {
	if p == nil {
		return nil
	}
	return p
}

type envMeta struct {
	Kind         Kind   `json:"kind"`
	DocumentType string `json:"documentType"`
}

// envelopeMeta reads the kind and document type of a stored envelope;
// zero when it has none.
func envelopeMeta(raw []byte) envMeta {
	var m envMeta
	_ = json.Unmarshal(raw, &m)
	return m
}

func (s *SQLStore) insertDocument(ctx context.Context, tx *sql.Tx, id string, role Role, peer Party, docType string, at time.Time) error {
	_, err := s.st.Exec(ctx, tx, `INSERT INTO exchange_documents (message_id, role, peer, document_type, status, by_name, by_id, reason, at, reply_id, urges, last_urged, created, updated)
VALUES (?, ?, ?, ?, ?, '', '', '', 0, '', 0, 0, ?, ?)`, id, string(role), partyKey(peer), docType, string(StatusAwaiting), ms(at), ms(at))
	return err
}

// write runs fn in the next group commit, and again when a concurrent
// audit append took the same sequence number first (PostgreSQL, several
// processes).
func (s *SQLStore) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := s.group.Do(ctx, fn)
		if !errors.Is(err, errAuditRace) || attempt == 20 {
			if errors.Is(err, sqldb.ErrGroupClosed) {
				return ErrStoreClosed
			}
			return err
		}
	}
}

// ErrStoreClosed is returned by a store's writes after Close.
var ErrStoreClosed = errors.New("exchange: the store is closed")

var errAuditRace = errors.New("exchange: concurrent audit append")

// audit appends one audit entry, of an envelope with digest, inside tx.
func (s *SQLStore) audit(ctx context.Context, tx *sql.Tx, direction string, kind Kind, digest string, messageID string, peer Party, at time.Time) error {
	return s.appendAudit(ctx, tx, AuditEntry{At: NewTime(at), Direction: direction, Kind: kind, MessageID: messageID, Peer: partyKey(peer), Digest: digest})
}

// appendAudit chains e to the last entry and appends it inside tx.
func (s *SQLStore) appendAudit(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	var prev *AuditEntry
	last, err := s.lastAudit(ctx, tx)
	switch {
	case err == nil:
		prev = &last
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	if err := e.chain(prev); err != nil {
		return err
	}
	_, err = s.st.Exec(ctx, tx, `INSERT INTO exchange_audit (seq, at, direction, kind, message_id, peer, digest, state, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, ms(e.At.Time), e.Direction, string(e.Kind), e.MessageID, e.Peer, e.Digest, e.State, e.PrevHash, e.Hash)
	if sqldb.IsUniqueViolation(err) {
		return errAuditRace
	}
	return err
}

const auditColumns = "seq, at, direction, kind, message_id, peer, digest, state, prev_hash, hash"

func scanAudit(row interface{ Scan(...any) error }) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	var kind string
	err := row.Scan(&e.Seq, &at, &e.Direction, &kind, &e.MessageID, &e.Peer, &e.Digest, &e.State, &e.PrevHash, &e.Hash)
	e.At, e.Kind = NewTime(fromMS(at)), Kind(kind)
	return e, err
}

func (s *SQLStore) lastAudit(ctx context.Context, tx *sql.Tx) (AuditEntry, error) {
	return scanAudit(s.st.QueryRow(ctx, tx, `SELECT `+auditColumns+` FROM exchange_audit ORDER BY seq DESC LIMIT 1`))
}

// Audit implements [Store].
func (s *SQLStore) Audit(ctx context.Context) ([]AuditEntry, error) {
	rows, err := s.st.Query(ctx, nil, `SELECT `+auditColumns+` FROM exchange_audit ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

const outboxColumns = "message_id, recipient, envelope, payload_path, payload, state, lease_owner, lease_until, attempts, next_attempt, last_error, receipt, created, updated"

func scanOutbox(rows interface{ Scan(...any) error }) (OutboxEntry, error) {
	var e OutboxEntry
	var recipient, envelope string
	var receipt, owner sql.NullString
	var until sql.NullInt64
	var next, created, updated int64
	if err := rows.Scan(&e.MessageID, &recipient, &envelope, &e.PayloadPath, &e.Payload, &e.State, &owner, &until, &e.Attempts, &next, &e.LastError, &receipt, &created, &updated); err != nil {
		return OutboxEntry{}, err
	}
	p, err := parseParty(recipient)
	if err != nil {
		return OutboxEntry{}, err
	}
	e.Recipient, e.Envelope = p, []byte(envelope)
	if receipt.Valid {
		e.Receipt = []byte(receipt.String)
	}
	e.NextAttempt, e.Created, e.Updated = fromMS(next), fromMS(created), fromMS(updated)
	if owner.Valid && until.Valid {
		e.LeaseOwner, e.LeaseUntil = owner.String, fromMS(until.Int64)
	}
	return e, nil
}

// Claim implements [Store].
func (s *SQLStore) Claim(ctx context.Context, owner string, now time.Time, lease time.Duration, max int) ([]OutboxEntry, error) {
	lock := ""
	if s.db.Dialect == sqldb.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE exchange_outbox SET lease_owner = ?, lease_until = ?
WHERE (message_id, recipient) IN (
	SELECT message_id, recipient FROM exchange_outbox
	WHERE state = ? AND next_attempt <= ? AND (lease_until IS NULL OR lease_until <= ?)
	ORDER BY next_attempt LIMIT ?` + lock + `)
RETURNING ` + outboxColumns
	var out []OutboxEntry
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		rows, err := s.st.Query(ctx, tx, q, owner, ms(now.Add(lease)), StatePending, ms(now), ms(now), max)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			e, err := scanOutbox(rows)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("exchange: claiming outbox entries: %w", err)
	}
	return out, nil
}

// finish updates a claimed entry if owner still holds its lease.
func (s *SQLStore) finish(ctx context.Context, e OutboxEntry, owner, set string, args ...any) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.finishTx(ctx, tx, e, owner, set, args...) })
}

func (s *SQLStore) finishTx(ctx context.Context, tx *sql.Tx, e OutboxEntry, owner, set string, args ...any) error {
	q := `UPDATE exchange_outbox SET ` + set + `, lease_owner = NULL, lease_until = NULL
WHERE message_id = ? AND recipient = ? AND lease_owner = ? AND state = ?`
	args = append(args, e.MessageID, partyKey(e.Recipient), owner, StatePending)
	res, err := s.st.Exec(ctx, tx, q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("%w: %s to %s", ErrLeaseLost, e.MessageID, e.Recipient)
	}
	return nil
}

// Delivered implements [Store].
func (s *SQLStore) Delivered(ctx context.Context, e OutboxEntry, owner string, receipt []byte, now time.Time) error {
	digest, err := receiptDigest(receipt)
	if err != nil {
		return fmt.Errorf("exchange: delivering %s to %s: %w", e.MessageID, e.Recipient, err)
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.finishTx(ctx, tx, e, owner, "state = ?, receipt = ?, attempts = attempts + 1, updated = ?", StateDelivered, string(receipt), ms(now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditReceipt, KindReceipt, digest, e.MessageID, e.Recipient, now)
	})
}

// receiptDigest reads a signed receipt as a store keeps it ([SignedReceipt]
// JSON, which the outbox verified in full when it came) and returns the
// canonical digest of its envelope, which the audit log records. It
// checks the shape, not the signature: ParseSignedReceipt reads a stored
// receipt in full.
func receiptDigest(receipt []byte) (string, error) {
	var sr SignedReceipt
	dec := json.NewDecoder(bytes.NewReader(receipt))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sr); err != nil || len(sr.Envelope) == 0 || sr.Envelope[0] != '{' || len(sr.Payload) == 0 {
		return "", fmt.Errorf("%w: the receipt is not a signed receipt: expected {\"envelope\": {...}, \"payload\": \"BASE64\"}", ErrInvalidPayload)
	}
	return envelopeDigest(sr.Envelope)
}

// Retry implements [Store].
func (s *SQLStore) Retry(ctx context.Context, e OutboxEntry, owner string, next time.Time, lastErr string, now time.Time) error {
	return s.finish(ctx, e, owner, "attempts = attempts + 1, next_attempt = ?, last_error = ?, updated = ?", ms(next), lastErr, ms(now))
}

// Dead implements [Store].
func (s *SQLStore) Dead(ctx context.Context, e OutboxEntry, owner string, lastErr string, receipt []byte, now time.Time) error {
	if receipt == nil {
		return s.finish(ctx, e, owner, "state = ?, attempts = attempts + 1, last_error = ?, updated = ?", StateDead, lastErr, ms(now))
	}
	digest, err := receiptDigest(receipt)
	if err != nil {
		return fmt.Errorf("exchange: dead-lettering %s to %s: %w", e.MessageID, e.Recipient, err)
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.finishTx(ctx, tx, e, owner, "state = ?, receipt = ?, attempts = attempts + 1, last_error = ?, updated = ?", StateDead, string(receipt), lastErr, ms(now)); err != nil {
			return err
		}
		return s.audit(ctx, tx, AuditReceipt, KindReceipt, digest, e.MessageID, e.Recipient, now)
	})
}

// Outbox implements [Store].
func (s *SQLStore) Outbox(ctx context.Context, messageID string) ([]OutboxEntry, error) {
	rows, err := s.st.Query(ctx, nil, `SELECT `+outboxColumns+` FROM exchange_outbox WHERE message_id = ? ORDER BY recipient`, messageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OutboxEntry
	for rows.Next() {
		e, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, messageID)
	}
	return out, nil
}

// Accept implements [Store].
func (s *SQLStore) Accept(ctx context.Context, e InboxEntry) error {
	f, err := factsOf(e.Envelope)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.acceptTx(ctx, tx, e, f) })
	if sqldb.IsUniqueViolation(err) {
		return fmt.Errorf("%w: %s", ErrDuplicate, e.MessageID)
	}
	return err
}

// Inbox implements [Store].
func (s *SQLStore) Inbox(ctx context.Context, messageID string) (InboxEntry, error) {
	var e InboxEntry
	var sender, kind, envelope string
	var received int64
	err := s.st.QueryRow(ctx, nil, `SELECT message_id, sender, kind, envelope, payload_path, payload, received FROM exchange_inbox WHERE message_id = ?`, messageID).
		Scan(&e.MessageID, &sender, &kind, &envelope, &e.PayloadPath, &e.Payload, &received)
	if errors.Is(err, sql.ErrNoRows) {
		return InboxEntry{}, fmt.Errorf("%w: %s", ErrNotFound, messageID)
	}
	if err != nil {
		return InboxEntry{}, err
	}
	p, err := parseParty(sender)
	if err != nil {
		return InboxEntry{}, err
	}
	e.Sender, e.Kind, e.Envelope, e.Received = p, Kind(kind), []byte(envelope), fromMS(received)
	return e, nil
}

func (s *SQLStore) acceptTx(ctx context.Context, tx *sql.Tx, e InboxEntry, f envFacts) error {
	if _, err := s.st.Exec(ctx, tx, `INSERT INTO exchange_inbox (message_id, sender, kind, envelope, payload_path, payload, received) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.MessageID, partyKey(e.Sender), string(e.Kind), string(e.Envelope), e.PayloadPath, inline(e.Payload), ms(e.Received)); err != nil {
		return err
	}
	if err := s.audit(ctx, tx, AuditReceived, e.Kind, f.digest, e.MessageID, e.Sender, e.Received); err != nil {
		return err
	}
	if e.Kind == KindDocument {
		return s.insertDocument(ctx, tx, e.MessageID, RoleRecipient, e.Sender, f.meta.DocumentType, e.Received)
	}
	return nil
}

const documentColumns = "message_id, role, peer, document_type, status, by_name, by_id, reason, at, reply_id, urges, last_urged, created, updated"

func scanDocument(row interface{ Scan(...any) error }) (DocumentState, error) {
	var d DocumentState
	var role, peer, status string
	var at, urged, created, updated int64
	if err := row.Scan(&d.MessageID, &role, &peer, &d.DocumentType, &status, &d.By.Name, &d.By.ID, &d.Reason, &at, &d.ReplyID, &d.Urges, &urged, &created, &updated); err != nil {
		return DocumentState{}, err
	}
	p, err := parseParty(peer)
	if err != nil {
		return DocumentState{}, err
	}
	d.Role, d.Peer, d.Status = Role(role), p, DocStatus(status)
	optional := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return fromMS(v)
	}
	d.At, d.LastUrged, d.Created, d.Updated = optional(at), optional(urged), fromMS(created), fromMS(updated)
	return d, nil
}

func optionalMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return ms(t)
}

// stateRecord is what the audit log's digest of a state change covers.
type stateRecord struct {
	MessageID string `json:"messageId"`
	Role      Role   `json:"role"`
	Peer      string `json:"peer"`
	Action    Action `json:"action"`
	Status    string `json:"status"`
	By        Person `json:"by"`
	Reason    string `json:"reason"`
	At        Time   `json:"at"`
	ReplyID   string `json:"replyId"`
	Urges     int    `json:"urges"`
}

// Change implements [Store].
func (s *SQLStore) Change(ctx context.Context, c Change) ([]DocumentState, error) {
	if len(c.Peers) == 0 {
		return nil, errors.New("exchange: a change names at least one peer")
	}
	now := c.At
	if c.Received != nil {
		now = c.Received.Received
	}
	lock := ""
	if s.db.Dialect == sqldb.Postgres {
		lock = " FOR UPDATE"
	}
	var received envFacts
	if c.Received != nil {
		var err error
		if received, err = factsOf(c.Received.Envelope); err != nil {
			return nil, err
		}
	}
	enqueued, err := outboxFacts(c.Enqueue)
	if err != nil {
		return nil, err
	}
	var out []DocumentState
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = out[:0]
		if c.Received != nil {
			if err := s.acceptTx(ctx, tx, *c.Received, received); err != nil {
				return err
			}
		}
		for _, p := range c.Peers {
			st, err := scanDocument(s.st.QueryRow(ctx, tx, `SELECT `+documentColumns+` FROM exchange_documents WHERE message_id = ? AND role = ? AND peer = ?`+lock, c.MessageID, string(c.Role), partyKey(p)))
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: document %s %s with %s", ErrNotFound, c.MessageID, c.Role, p)
			}
			if err != nil {
				return err
			}
			next, applied, err := st.apply(c, now)
			if err != nil {
				return err
			}
			out = append(out, next)
			if !applied {
				continue
			}
			if _, err := s.st.Exec(ctx, tx, `UPDATE exchange_documents SET status = ?, by_name = ?, by_id = ?, reason = ?, at = ?, reply_id = ?, urges = ?, last_urged = ?, updated = ?
WHERE message_id = ? AND role = ? AND peer = ?`, string(next.Status), next.By.Name, next.By.ID, next.Reason, optionalMS(next.At), next.ReplyID, next.Urges, optionalMS(next.LastUrged), ms(next.Updated),
				c.MessageID, string(c.Role), partyKey(p)); err != nil {
				return err
			}
			raw, err := json.Marshal(stateRecord{MessageID: c.MessageID, Role: c.Role, Peer: partyKey(p), Action: c.Action, Status: string(next.Status), By: next.By, Reason: next.Reason, At: NewTime(c.At), ReplyID: c.ReplyID, Urges: next.Urges})
			if err != nil {
				return err
			}
			digest, err := envelopeDigest(raw)
			if err != nil {
				return err
			}
			if err := s.appendAudit(ctx, tx, AuditEntry{At: NewTime(now), Direction: AuditState, Kind: c.Action.Kind(), MessageID: c.MessageID, Peer: partyKey(p), Digest: digest, State: string(next.Status)}); err != nil {
				return err
			}
		}
		return s.enqueueTx(ctx, tx, c.Enqueue, enqueued)
	})
	if sqldb.IsUniqueViolation(err) {
		return nil, fmt.Errorf("%w: %v", ErrDuplicate, err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *SQLStore) queryDocuments(ctx context.Context, q string, args ...any) ([]DocumentState, error) {
	rows, err := s.st.Query(ctx, nil, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DocumentState
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Documents implements [Store].
func (s *SQLStore) Documents(ctx context.Context, messageID string) ([]DocumentState, error) {
	out, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM exchange_documents WHERE message_id = ? ORDER BY role, peer`, messageID)
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("%w: document %s", ErrNotFound, messageID)
	}
	return out, err
}

// ListDocuments implements [Store].
func (s *SQLStore) ListDocuments(ctx context.Context, role Role, limit int) ([]DocumentState, error) {
	return s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM exchange_documents WHERE role = ? ORDER BY created DESC, message_id DESC, peer LIMIT ?`, string(role), limit)
}
