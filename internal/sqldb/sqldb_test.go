package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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
	for _, path := range []string{"", "a?mode=ro.db", "a#b.db"} {
		_, err := sqldb.OpenSQLite(context.Background(), path)
		assert.ErrorContains(t, err, "without ? or #", "path %q: it would go into the file: URI's query or fragment", path)
	}
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

func TestGroup(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		db := open()
		_, err := db.ExecContext(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
		require.NoError(t, err)
		g := db.NewGroup(16)
		insert := db.Rebind("INSERT INTO kv (k, v) VALUES (?, ?)")
		_, err = db.ExecContext(ctx, insert, "taken", "0")
		require.NoError(t, err)
		failed := errors.New("refused by the caller")
		// 200 concurrent transactions: each writes two rows; every fifth
		// collides with a stored key and every seventh fails after
		// writing. Those fail alone, with nothing of theirs kept.
		const n = 200
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				errs[i] = g.Do(ctx, func(ctx context.Context, tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, insert, fmt.Sprintf("k%d", i), "a"); err != nil {
						return err
					}
					key := fmt.Sprintf("x%d", i)
					if i%5 == 4 {
						key = "taken"
					}
					if _, err := tx.ExecContext(ctx, insert, key, "b"); err != nil {
						return err
					}
					if i%7 == 6 {
						return failed
					}
					return nil
				})
			})
		}
		wg.Wait()
		want := map[string]bool{"taken": true}
		for i, err := range errs {
			switch {
			case i%5 == 4:
				assert.True(t, sqldb.IsUniqueViolation(err), "transaction %d: %v", i, err)
			case i%7 == 6:
				assert.ErrorIs(t, err, failed, "transaction %d", i)
			default:
				require.NoError(t, err, "transaction %d", i)
				want[fmt.Sprintf("k%d", i)], want[fmt.Sprintf("x%d", i)] = true, true
			}
		}
		rows, err := open().QueryContext(ctx, "SELECT k FROM kv")
		require.NoError(t, err)
		defer rows.Close()
		got := map[string]bool{}
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			got[k] = true
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, want, got, "a second handle sees exactly the committed transactions")

		g.Close()
		assert.ErrorIs(t, g.Do(ctx, func(context.Context, *sql.Tx) error { return nil }), sqldb.ErrGroupClosed)
	})
}

func TestStatements(t *testing.T) {
	t.Parallel()
	sqldbtest.ForEach(t, func(t *testing.T, open sqldbtest.Opener) {
		ctx := context.Background()
		db := open()
		_, err := db.ExecContext(ctx, "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
		require.NoError(t, err)
		st := sqldb.NewStatements(db)
		defer st.Close()
		const insert = "INSERT INTO kv (k, v) VALUES (?, ?)"
		for i := range 3 {
			require.NoError(t, db.InTx(ctx, func(tx *sql.Tx) error {
				_, err := st.Exec(ctx, tx, insert, fmt.Sprint("k", i), "v")
				return err
			}))
		}
		_, err = st.Exec(ctx, nil, insert, "k0", "again")
		assert.True(t, sqldb.IsUniqueViolation(err), "%v", err)
		first, err := st.Prepared(ctx, insert)
		require.NoError(t, err)
		again, err := st.Prepared(ctx, insert)
		require.NoError(t, err)
		assert.Same(t, first, again, "prepared once")

		var n int
		require.NoError(t, st.QueryRow(ctx, nil, "SELECT COUNT(*) FROM kv WHERE v = ?", "v").Scan(&n))
		assert.Equal(t, 3, n)
		rows, err := st.Query(ctx, nil, "SELECT k FROM kv ORDER BY k")
		require.NoError(t, err)
		var keys []string
		for rows.Next() {
			var k string
			require.NoError(t, rows.Scan(&k))
			keys = append(keys, k)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		assert.Equal(t, []string{"k0", "k1", "k2"}, keys)
		assert.Error(t, st.QueryRow(ctx, nil, "SELECT nonsense FROM").Scan(&n), "a query that does not prepare fails on Scan")
	})
}
