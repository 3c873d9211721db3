package approval

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/internal/sqldb"
)

// SQLStore is a Store in a SQL database: SQLite through [OpenSQLite] (the
// embedded default) or PostgreSQL through [OpenPostgres] (for several
// engine nodes sharing one database). Each event is one row of
// approval_events with the primary key (case_id, seq) and a unique
// (case_id, idem_key), so the version rule holds across connections and
// processes; the event's canonical encoding is stored as it was hashed,
// and read back through [DecodeEvent]. The case summary (approval_cases)
// and pending tasks (approval_tasks) are written in the same transaction.
type SQLStore struct {
	db    *sqldb.DB
	group *sqldb.Group      // concurrent appends share commits
	st    *sqldb.Statements // prepared once, so that appends do not parse SQL
}

// exec runs a prepared ? query in tx.
func (s *SQLStore) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	_, err := s.st.Exec(ctx, tx, query, args...)
	return err
}

const sqlSchema = `
CREATE TABLE IF NOT EXISTS approval_events (
	case_id   TEXT    NOT NULL,
	seq       INTEGER NOT NULL,
	idem_key  TEXT,
	body      TEXT    NOT NULL,
	hash      TEXT    NOT NULL,
	signature TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (case_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS approval_events_key ON approval_events (case_id, idem_key) WHERE idem_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS approval_cases (
	case_id            TEXT    PRIMARY KEY,
	definition         TEXT    NOT NULL,
	definition_version INTEGER NOT NULL,
	department         TEXT    NOT NULL,
	applicant          TEXT    NOT NULL,
	status             TEXT    NOT NULL,
	step               TEXT    NOT NULL,
	version            INTEGER NOT NULL,
	started_at         TEXT    NOT NULL,
	updated_at         TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS approval_cases_status ON approval_cases (status, department, updated_at);
CREATE TABLE IF NOT EXISTS approval_cards (
	case_id    TEXT PRIMARY KEY,
	warning_at TEXT NOT NULL,
	yellow_at  TEXT NOT NULL,
	red_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approval_tasks (
	case_id  TEXT NOT NULL,
	task_id  TEXT NOT NULL,
	step     TEXT NOT NULL,
	kind     TEXT NOT NULL,
	value    TEXT NOT NULL,
	since    TEXT NOT NULL,
	excluded TEXT NOT NULL,
	PRIMARY KEY (case_id, task_id)
);
CREATE INDEX IF NOT EXISTS approval_tasks_assignee ON approval_tasks (kind, value);
`

// OpenSQLite opens (creating if needed) a SQLite store in the file at
// path through internal/sqldb: WAL mode with synchronous=FULL, so that a
// command that returned has been synced to disk, and write transactions
// that take the write lock at once (BEGIN IMMEDIATE) and wait up to 10 s
// for it; concurrent appends share commits (see Append). Several
// processes may open the same file.
func OpenSQLite(ctx context.Context, path string) (*SQLStore, error) {
	db, err := sqldb.OpenSQLite(ctx, path)
	if err != nil {
		return nil, err
	}
	return newSQLStore(ctx, db)
}

// OpenPostgres opens a PostgreSQL store (pgx) with a connection string
// such as postgres://user@host:5432/db?sslmode=disable and creates its
// tables if needed. Add search_path=SCHEMA to the connection string to
// keep the tables in a schema of their own.
func OpenPostgres(ctx context.Context, dsn string) (*SQLStore, error) {
	db, err := sqldb.OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return newSQLStore(ctx, db)
}

// OpenStore opens a store by database URL, as the exchange and deadline
// stores take it: sqlite:PATH for SQLite (see [OpenSQLite]) or
// postgres://… for PostgreSQL (see [OpenPostgres]).
func OpenStore(ctx context.Context, url string) (*SQLStore, error) {
	db, err := sqldb.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	return newSQLStore(ctx, db)
}

// newSQLStore creates the tables (sqldb.Migrate serialises concurrent
// creators on PostgreSQL) and starts the group committer.
func newSQLStore(ctx context.Context, db *sqldb.DB) (*SQLStore, error) {
	var ddl []string
	for _, stmt := range strings.Split(sqlSchema, ";") {
		if strings.TrimSpace(stmt) != "" {
			ddl = append(ddl, stmt)
		}
	}
	if err := db.Migrate(ctx, ddl...); err != nil {
		db.Close()
		return nil, fmt.Errorf("approval: creating tables: %w", err)
	}
	return &SQLStore{db: db, group: db.NewGroup(MaxGroupCommit), st: sqldb.NewStatements(db)}, nil
}

// timeText is a fixed-width UTC form, so that text order is time order.
const timeText = "2006-01-02T15:04:05.000000000Z"

func assigneeKind(a Assignee) (kind, value string) {
	switch {
	case a.User != "":
		return "user", a.User
	case a.Role != "":
		return "role", a.Role
	}
	return "org", a.Org
}

// Append implements Store. Appends from concurrent callers are committed
// together (group commit, see internal/sqldb.Group): one transaction, so
// one sync to disk, for every append waiting when the previous commit
// ends, each in a savepoint of its own so that a conflict refuses only its
// own event. An append returns once its transaction is committed.
func (s *SQLStore) Append(ctx context.Context, r Record) error {
	err := s.group.Do(ctx, func(ctx context.Context, tx *sql.Tx) error { return s.appendTx(ctx, tx, &r) })
	switch {
	case errors.Is(err, sqldb.ErrGroupClosed):
		return ErrStoreClosed
	case sqldb.IsUniqueViolation(err):
		return ErrVersionConflict
	}
	return err
}

// ErrStoreClosed is returned by a store's methods after Close.
var ErrStoreClosed = errors.New("approval: store closed")

// MaxGroupCommit is the most appends one group commit holds.
const MaxGroupCommit = 256

// appendTx writes one record in a transaction.
func (s *SQLStore) appendTx(ctx context.Context, tx *sql.Tx, r *Record) error {
	se, err := encodeStored(&r.Event)
	if err != nil {
		return err
	}
	var key any
	if se.key != "" {
		key = se.key
	}
	ev, sum := &r.Event, &r.Summary
	if ev.Seq > 1 {
		var one int
		err := s.st.QueryRow(ctx, tx, "SELECT 1 FROM approval_events WHERE case_id = ? AND seq = ?", ev.CaseID, ev.Seq-1).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrVersionConflict
		}
		if err != nil {
			return err
		}
	}
	if err := s.exec(ctx, tx, "INSERT INTO approval_events (case_id, seq, idem_key, body, hash, signature) VALUES (?, ?, ?, ?, ?, ?)",
		ev.CaseID, ev.Seq, key, string(se.body), se.hash, se.sig); err != nil {
		if sqldb.IsUniqueViolation(err) {
			return ErrVersionConflict
		}
		return err
	}
	if err := s.exec(ctx, tx, `INSERT INTO approval_cases (case_id, definition, definition_version, department, applicant, status, step, version, started_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (case_id) DO UPDATE SET status = excluded.status, step = excluded.step, version = excluded.version, updated_at = excluded.updated_at`,
		sum.ID, sum.Definition, sum.DefinitionVersion, sum.Department, sum.Applicant, string(sum.Status), sum.Step, sum.Version,
		sum.StartedAt.UTC().Format(timeText), sum.UpdatedAt.UTC().Format(timeText)); err != nil {
		return err
	}
	ct := sum.Cards
	if err := s.exec(ctx, tx, `INSERT INTO approval_cards (case_id, warning_at, yellow_at, red_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (case_id) DO UPDATE SET warning_at = excluded.warning_at, yellow_at = excluded.yellow_at, red_at = excluded.red_at`,
		sum.ID, cardText(ct.Warning), cardText(ct.Yellow), cardText(ct.Red)); err != nil {
		return err
	}
	if err := s.exec(ctx, tx, "DELETE FROM approval_tasks WHERE case_id = ?", ev.CaseID); err != nil {
		return err
	}
	for _, t := range r.Tasks {
		kind, value := assigneeKind(t.Assignee)
		excl, err := json.Marshal(t.Excluded)
		if err != nil {
			return err
		}
		if err := s.exec(ctx, tx, "INSERT INTO approval_tasks (case_id, task_id, step, kind, value, since, excluded) VALUES (?, ?, ?, ?, ?, ?, ?)",
			t.CaseID, t.TaskID, t.Step, kind, value, t.Since.UTC().Format(timeText), string(excl)); err != nil {
			return err
		}
	}
	return nil
}

// Events implements Store.
func (s *SQLStore) Events(ctx context.Context, caseID string) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT seq, body, hash, signature FROM approval_events WHERE case_id = ? ORDER BY seq"), caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var seq int
		var body, hash, sig string
		if err := rows.Scan(&seq, &body, &hash, &sig); err != nil {
			return nil, err
		}
		e, err := DecodeEvent([]byte(body), hash, sig)
		if err != nil {
			return nil, err
		}
		if e.Seq != seq || e.CaseID != caseID {
			return nil, &ChainError{CaseID: caseID, Seq: seq, Reason: fmt.Sprintf("row (%s, %d) holds event (%s, %d)", caseID, seq, e.CaseID, e.Seq)}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrCaseNotFound
	}
	return out, nil
}

// cardText is a card instant as stored: timeText, or "" for none, so
// that text order is time order and "" is never reached.
func cardText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeText)
}

func parseCard(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(timeText, s)
}

// Cases implements Store. Cases written before card times were kept
// (no approval_cards row) have no card until their next command.
func (s *SQLStore) Cases(ctx context.Context, f CaseFilter) ([]CaseSummary, error) {
	query := `SELECT c.case_id, c.definition, c.definition_version, c.department, c.applicant, c.status, c.step, c.version, c.started_at, c.updated_at,
		COALESCE(k.warning_at, ''), COALESCE(k.yellow_at, ''), COALESCE(k.red_at, '')
		FROM approval_cases c LEFT JOIN approval_cards k ON k.case_id = c.case_id WHERE 1 = 1`
	var args []any
	for _, cv := range []struct{ col, v string }{{"c.status", string(f.Status)}, {"c.department", f.Department}, {"c.definition", f.Definition}} {
		if cv.v != "" {
			query += " AND " + cv.col + " = ?"
			args = append(args, cv.v)
		}
	}
	if f.Card != deadline.LevelNone {
		at := f.CardAt.UTC().Format(timeText)
		reached := func(col string) string {
			args = append(args, at)
			return "(COALESCE(k." + col + ", '') <> '' AND k." + col + " <= ?)"
		}
		switch f.Card {
		case deadline.LevelWarning:
			query += " AND " + reached("warning_at") + " AND NOT " + reached("yellow_at") + " AND NOT " + reached("red_at")
		case deadline.LevelYellow:
			query += " AND " + reached("yellow_at") + " AND NOT " + reached("red_at")
		case deadline.LevelRed:
			query += " AND " + reached("red_at")
		default:
			query += " AND 1 = 0"
		}
	}
	query += " ORDER BY c.updated_at DESC, c.case_id LIMIT " + strconv.Itoa(f.limit())
	rows, err := s.db.QueryContext(ctx, s.db.Rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CaseSummary
	for rows.Next() {
		var c CaseSummary
		var status, started, updated, warn, yellow, red string
		if err := rows.Scan(&c.ID, &c.Definition, &c.DefinitionVersion, &c.Department, &c.Applicant, &status, &c.Step, &c.Version, &started, &updated, &warn, &yellow, &red); err != nil {
			return nil, err
		}
		c.Status = Status(status)
		if c.StartedAt, err = time.Parse(timeText, started); err != nil {
			return nil, err
		}
		if c.UpdatedAt, err = time.Parse(timeText, updated); err != nil {
			return nil, err
		}
		for _, p := range []struct {
			s string
			t *time.Time
		}{{warn, &c.Cards.Warning}, {yellow, &c.Cards.Yellow}, {red, &c.Cards.Red}} {
			if *p.t, err = parseCard(p.s); err != nil {
				return nil, fmt.Errorf("approval: case %s: card time %q: %w", c.ID, p.s, err)
			}
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Tasks implements Store.
func (s *SQLStore) Tasks(ctx context.Context, f TaskFilter) ([]TaskRef, error) {
	conds := []string{"(kind = 'user' AND value = ?)"}
	args := []any{f.User}
	for kind, vs := range map[string][]string{"role": f.Roles, "org": f.Orgs} {
		if len(vs) == 0 {
			continue
		}
		conds = append(conds, "(kind = '"+kind+"' AND value IN (?"+strings.Repeat(", ?", len(vs)-1)+"))")
		for _, v := range vs {
			args = append(args, v)
		}
	}
	rows, err := s.db.QueryContext(ctx, s.db.Rebind("SELECT case_id, task_id, step, kind, value, since, excluded FROM approval_tasks WHERE "+strings.Join(conds, " OR ")), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TaskRef
	for rows.Next() {
		var t TaskRef
		var kind, value, since, excl string
		if err := rows.Scan(&t.CaseID, &t.TaskID, &t.Step, &kind, &value, &since, &excl); err != nil {
			return nil, err
		}
		switch kind {
		case "user":
			t.Assignee.User = value
		case "role":
			t.Assignee.Role = value
		default:
			t.Assignee.Org = value
		}
		if t.Since, err = time.Parse(timeText, since); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(excl), &t.Excluded); err != nil {
			return nil, fmt.Errorf("approval: task %s/%s: excluded: %w", t.CaseID, t.TaskID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sortTasks(out)
	return out, nil
}

// Groups implements Store.
func (s *SQLStore) Groups(ctx context.Context) (roles, orgs []string, err error) {
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT kind, value FROM approval_tasks WHERE kind IN ('role', 'org') ORDER BY kind, value")
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, value string
		if err := rows.Scan(&kind, &value); err != nil {
			return nil, nil, err
		}
		if kind == "role" {
			roles = append(roles, value)
		} else {
			orgs = append(orgs, value)
		}
	}
	return roles, orgs, rows.Err()
}

// Close implements Store: it waits for the commit in progress, refuses
// later appends with ErrStoreClosed, and closes the database.
func (s *SQLStore) Close() error {
	s.group.Close()
	return errors.Join(s.st.Close(), s.db.Close())
}
