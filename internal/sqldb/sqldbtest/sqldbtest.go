// Package sqldbtest runs a store's conformance suite against every
// database egovkit supports: SQLite always, PostgreSQL when
// EGOVKIT_TEST_POSTGRES holds a connection string (CI sets it). Each test
// gets its own SQLite file or its own PostgreSQL schema, so tests and
// parallel CI runs never see each other's rows.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/egovkit/egovkit/internal/sqldb"
)

// EnvPostgres names the variable holding the PostgreSQL test DSN.
const EnvPostgres = "EGOVKIT_TEST_POSTGRES"

// Opener opens a new handle on one test database; calling it again opens
// another connection pool on the same data, as a second process would.
type Opener func() *sqldb.DB

// ForEach runs f as a subtest per database, named sqlite and postgres.
func ForEach(t *testing.T, f func(t *testing.T, open Opener)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		f(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		open, ok := Postgres(t)
		if !ok {
			t.Skip(EnvPostgres + " is not set")
		}
		f(t, open)
	})
}

// SQLite returns an opener of a fresh SQLite file in t's temporary
// directory.
func SQLite(t testing.TB) Opener {
	path := filepath.Join(t.TempDir(), "test.db")
	return func() *sqldb.DB {
		db, err := sqldb.OpenSQLite(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// Postgres returns an opener of a fresh schema in the test database, and
// false when EGOVKIT_TEST_POSTGRES is not set. The schema is dropped when
// the test ends.
func Postgres(t testing.TB) (Opener, bool) {
	dsn, ok := PostgresURL(t)
	if !ok {
		return nil, false
	}
	return func() *sqldb.DB {
		db, err := sqldb.OpenPostgres(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}, true
}

// PostgresURL creates a fresh schema in the test database and returns the
// connection string that works in it (its search_path), for a store that
// another process opens; false when EGOVKIT_TEST_POSTGRES is not set. The
// schema is dropped when the test ends.
func PostgresURL(t testing.TB) (string, bool) {
	dsn := os.Getenv(EnvPostgres)
	if dsn == "" {
		return "", false
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sqldb.OpenPostgres(context.Background(), dsn)
	if err != nil {
		t.Fatalf("%s: %v", EnvPostgres, err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), true
}
