// Package sqlstore keeps supervision cards ([deadline.Card]) in SQL: SQLite
// (modernc.org/sqlite, pure Go, WAL) as the embedded default and PostgreSQL
// (github.com/jackc/pgx/v5) for deployments with several nodes. Both satisfy
// [deadline.Store] and pass the deadline/storetest conformance suite.
//
// A card's key is the table's primary key and a record is a single
// INSERT ... ON CONFLICT DO NOTHING, so of any number of monitors, processes
// or nodes racing to issue the same card exactly one succeeds.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/internal/sqldb"
)

// Dialect is the SQL dialect of a database.
type Dialect uint8

// Dialects.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// ErrCorrupt is returned when a stored row is not a valid card.
var ErrCorrupt = errors.New("sqlstore: stored card is invalid")

// Store is a [deadline.Store] on a SQL database.
type Store struct {
	db      *sql.DB
	dialect Dialect
	table   string
	own     bool
	insert  string
	query   string
}

var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// New returns a store on db in table (created if missing), such as
// "deadline_cards". The table name must match ^[a-z_][a-z0-9_]{0,62}$; a
// per-tenant or per-test prefix keeps stores apart in one database. The
// caller keeps ownership of db.
func New(ctx context.Context, db *sql.DB, dialect Dialect, table string) (*Store, error) {
	if !tableName.MatchString(table) {
		return nil, fmt.Errorf("sqlstore: table name %q; expected ^[a-z_][a-z0-9_]{0,62}$", table)
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: unknown dialect %d; expected SQLite or Postgres", dialect)
	}
	s := &Store{db: db, dialect: dialect, table: table}
	ph := func(i int) string {
		if dialect == Postgres {
			return "$" + strconv.Itoa(i)
		}
		return "?"
	}
	var phs []string
	for i := 1; i <= 9; i++ {
		phs = append(phs, ph(i))
	}
	s.insert = "INSERT INTO " + table + " (card_key, clock_id, department, level, watch, step, due, fired_at, issued_at) VALUES (" +
		strings.Join(phs, ", ") + ") ON CONFLICT (card_key) DO NOTHING"
	s.query = "SELECT card_key, clock_id, department, level, watch, step, due, fired_at, issued_at FROM " + table +
		" WHERE clock_id = " + ph(1) + " ORDER BY level"
	ddl := []string{
		"CREATE TABLE IF NOT EXISTS " + table + ` (
	card_key   TEXT PRIMARY KEY,
	clock_id   TEXT NOT NULL,
	department TEXT NOT NULL,
	level      INTEGER NOT NULL,
	watch      INTEGER NOT NULL,
	step       TEXT NOT NULL,
	due        TEXT NOT NULL,
	fired_at   BIGINT NOT NULL,
	issued_at  BIGINT NOT NULL
)`,
		"CREATE INDEX IF NOT EXISTS " + table + "_clock ON " + table + " (clock_id)",
	}
	for _, q := range ddl {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("sqlstore: creating %s: %w", table, err)
		}
	}
	return s, nil
}

// OpenSQLite opens (creating if needed) the SQLite database file at path in
// WAL mode with a busy timeout, and returns a store on table in it. Close
// closes the database.
func OpenSQLite(ctx context.Context, path, table string) (*Store, error) {
	db, err := sqldb.OpenSQLite(ctx, path)
	return owned(ctx, db, err, table)
}

// OpenPostgres connects to the PostgreSQL database at dsn (a pgx
// connection string such as postgres://user@host:5432/db) and returns a
// store on table in it. Close closes the connection pool.
func OpenPostgres(ctx context.Context, dsn, table string) (*Store, error) {
	db, err := sqldb.OpenPostgres(ctx, dsn)
	return owned(ctx, db, err, table)
}

// Open opens a store on table by database URL, as the approval and
// exchange stores take it: sqlite:PATH for SQLite (see [OpenSQLite]),
// postgres://… for PostgreSQL (see [OpenPostgres]). Close closes the
// database.
func Open(ctx context.Context, url, table string) (*Store, error) {
	db, err := sqldb.Open(ctx, url)
	return owned(ctx, db, err, table)
}

// owned returns a store on table in a database the store opened (db, or
// err from opening it), which its Close closes.
func owned(ctx context.Context, db *sqldb.DB, err error, table string) (*Store, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	dialect := SQLite
	if db.Dialect == sqldb.Postgres {
		dialect = Postgres
	}
	s, err := New(ctx, db.DB, dialect, table)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// Close closes the database if the store opened it.
func (s *Store) Close() error {
	if s.own {
		return s.db.Close()
	}
	return nil
}

// RecordCard implements [deadline.Store].
func (s *Store) RecordCard(ctx context.Context, c deadline.Card) (bool, error) {
	if c.Key == "" || c.ClockID == "" || c.Level < deadline.LevelWarning || c.Level > deadline.LevelRed {
		return false, fmt.Errorf("sqlstore: card %q: expected a key, a clock id and a level", c.Key)
	}
	due := ""
	if !c.Due.IsZero() {
		due = c.Due.String()
	}
	res, err := s.db.ExecContext(ctx, s.insert, c.Key, c.ClockID, c.Department, int(c.Level), int(c.Watch), c.Step, due,
		c.FiredAt.UnixNano(), c.IssuedAt.UnixNano())
	if err != nil {
		return false, fmt.Errorf("sqlstore: recording card %s: %w", c.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: recording card %s: %w", c.Key, err)
	}
	return n == 1, nil
}

// Cards implements [deadline.Store]. A row that is not a valid card, as
// another process might have written it, is [ErrCorrupt].
func (s *Store) Cards(ctx context.Context, clockID string) ([]deadline.Card, error) {
	rows, err := s.db.QueryContext(ctx, s.query, clockID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading cards of %s: %w", clockID, err)
	}
	defer rows.Close()
	var out []deadline.Card
	loc := deadline.Shanghai()
	for rows.Next() {
		var c deadline.Card
		var level, watch int64
		var due string
		var fired, issued int64
		if err := rows.Scan(&c.Key, &c.ClockID, &c.Department, &level, &watch, &c.Step, &due, &fired, &issued); err != nil {
			return nil, fmt.Errorf("sqlstore: reading cards of %s: %w", clockID, err)
		}
		if level < int64(deadline.LevelWarning) || level > int64(deadline.LevelRed) || watch < 0 || watch > int64(deadline.WatchStep) ||
			c.Key != deadline.CardKey(c.ClockID, deadline.Level(level)) {
			return nil, fmt.Errorf("%w: row %q: level %d, watch %d", ErrCorrupt, c.Key, level, watch)
		}
		c.Level, c.Watch = deadline.Level(level), deadline.Watch(watch)
		if due != "" {
			if c.Due, err = deadline.ParseDate(due); err != nil {
				return nil, fmt.Errorf("%w: row %q: %v", ErrCorrupt, c.Key, err)
			}
		}
		c.FiredAt = time.Unix(0, fired).In(loc)
		c.IssuedAt = time.Unix(0, issued).In(loc)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading cards of %s: %w", clockID, err)
	}
	return out, nil
}

var _ deadline.Store = (*Store)(nil)
