// Package sqldb is the SQL plumbing that egovkit's stores share: opening
// SQLite (modernc.org/sqlite, pure Go) durably and PostgreSQL (pgx/v5),
// one placeholder style for both, transactions, and the errors stores
// branch on. Store packages keep their own schemas and queries.
//
// SQLite is opened in WAL mode with synchronous=FULL, so that a commit
// that returned survives a power loss, not only a process crash; a busy
// timeout lets several writers (goroutines or processes) queue instead of
// failing.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is the SQL dialect of a database.
type Dialect uint8

// Dialects.
const (
	SQLite Dialect = iota + 1
	Postgres
)

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "dialect(" + strconv.Itoa(int(d)) + ")"
}

// Rebind rewrites a query written with ? placeholders for the dialect
// ($1, $2, … for PostgreSQL). Queries must not contain ? elsewhere.
func (d Dialect) Rebind(q string) string {
	if d != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// DB is a database handle with its dialect.
type DB struct {
	*sql.DB
	Dialect Dialect
}

// Rebind rewrites a ? query for the database's dialect.
func (db *DB) Rebind(q string) string { return db.Dialect.Rebind(q) }

// OpenSQLite opens (creating if needed) the SQLite database at path, in
// WAL mode with synchronous=FULL, foreign keys on and a busy timeout. The
// path must be a non-empty file name without ? or #.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		// The path goes into a file: URI, where ? and # would start the
		// query and the fragment.
		return nil, fmt.Errorf("sqldb: SQLite path %q: expected a file name without ? or #", path)
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate") // writers take the lock at BEGIN, so they queue rather than deadlock
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqldb: opening %s: %w", path, err)
	}
	keepIdle(db)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: opening %s: %w", path, err)
	}
	return &DB{DB: db, Dialect: SQLite}, nil
}

// MaxIdleConns is how many idle connections a handle keeps. database/sql
// keeps 2 by default, so that under concurrent load most connections are
// closed after one use and opened again (a file open and the pragmas on
// SQLite, a TCP connection and authentication on PostgreSQL), which
// costs more than the queries.
const MaxIdleConns = 64

// keepIdle sets the pool's idle limit and lets idle connections go after
// a few minutes.
func keepIdle(db *sql.DB) {
	db.SetMaxIdleConns(MaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// OpenPostgres connects to PostgreSQL with a pgx connection string.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqldb: connecting: %w", err)
	}
	keepIdle(db)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqldb: connecting: %w", err)
	}
	return &DB{DB: db, Dialect: Postgres}, nil
}

// Open opens a database by URL: sqlite:PATH (or a path ending in .db) for
// SQLite, postgres://… or postgresql://… for PostgreSQL.
func Open(ctx context.Context, u string) (*DB, error) {
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return OpenPostgres(ctx, u)
	case strings.HasPrefix(u, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(u, "sqlite:"))
	case strings.HasSuffix(u, ".db"):
		return OpenSQLite(ctx, u)
	}
	return nil, fmt.Errorf("sqldb: %q is not a database URL; expected sqlite:PATH or postgres://…", u)
}

// InTx runs fn in a transaction and commits it, or rolls back when fn
// fails.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Migrate runs DDL statements (CREATE TABLE IF NOT EXISTS …) in one
// transaction. On PostgreSQL it first takes a transaction-scoped advisory
// lock, because concurrent CREATE TABLE IF NOT EXISTS of the same table can
// fail there; several processes opening one store at once then take turns.
func (db *DB) Migrate(ctx context.Context, ddl ...string) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(7405620851)"); err != nil {
				return err
			}
		}
		for _, q := range ddl {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("sqldb: %w", err)
			}
		}
		return nil
	})
}

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation, in either dialect.
func IsUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}
