package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/sqldb"
	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
)

func TestRebind(t *testing.T) {
	t.Parallel()
	q := "SELECT a FROM t WHERE b = ? AND c = ?"
	assert.Equal(t, q, sqldb.SQLite.Rebind(q))
	assert.Equal(t, "SELECT a FROM t WHERE b = $1 AND c = $2", sqldb.Postgres.Rebind(q))
}

func TestDatabases(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		db := open()
		_, err := db.ExecContext(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, db.Rebind("INSERT INTO kv (k, v) VALUES (?, ?)"), "a", "1")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, db.Rebind("INSERT INTO kv (k, v) VALUES (?, ?)"), "a", "2")
		assert.True(t, sqldb.IsUniqueViolation(err), "%v", err)
		assert.False(t, sqldb.IsUniqueViolation(errors.New("other")))

		failed := errors.New("fail")
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, db.Rebind("INSERT INTO kv (k, v) VALUES (?, ?)"), "b", "1"); err != nil {
				return err
			}
			return failed
		})
		assert.ErrorIs(t, err, failed)
		// A second handle, as another process would open it, sees what was
		// committed and not what was rolled back.
		other := open()
		var n int
		require.NoError(t, other.QueryRowContext(ctx, "SELECT COUNT(*) FROM kv").Scan(&n))
		assert.Equal(t, 1, n)
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	_, err := sqldb.Open(context.Background(), "mysql://x")
	assert.Error(t, err)
	db, err := sqldb.Open(context.Background(), "sqlite:"+t.TempDir()+"/x.db")
	require.NoError(t, err)
	defer db.Close()
	var mode string
	require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
	var sync int
	require.NoError(t, db.QueryRow("PRAGMA synchronous").Scan(&sync))
	assert.Equal(t, 2, sync, "FULL")
}
