package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/egovkit/egovkit/deadline"
	"github.com/egovkit/egovkit/deadline/sqlstore"
	"github.com/egovkit/egovkit/deadline/storetest"
	"github.com/stretchr/testify/require"
)

func uniqueTable() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "cards_test_" + hex.EncodeToString(b)
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) func() deadline.Store {
		path := filepath.Join(t.TempDir(), "cards.db")
		table := uniqueTable()
		return func() deadline.Store {
			s, err := sqlstore.OpenSQLite(context.Background(), path, table)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("EGOVKIT_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("EGOVKIT_TEST_POSTGRES is not set")
	}
	storetest.Run(t, func(t *testing.T) func() deadline.Store {
		table := uniqueTable()
		t.Cleanup(func() {
			db, err := sql.Open("pgx", dsn)
			if err == nil {
				_, _ = db.Exec("DROP TABLE IF EXISTS " + table)
				db.Close()
			}
		})
		return func() deadline.Store {
			s, err := sqlstore.OpenPostgres(context.Background(), dsn, table)
			require.NoError(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		}
	})
}

func TestCorruptRow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := sqlstore.Open(ctx, "sqlite:"+path, "cards")
	require.NoError(t, err)
	defer s.Close()
	// Another program writes a row that is not a card.
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO cards VALUES ('x#red', 'x', 'd', 9, 1, '', 'not-a-date', 0, 0)`)
	require.NoError(t, err)
	_, err = s.Cards(ctx, "x")
	require.ErrorIs(t, err, sqlstore.ErrCorrupt)
	_, err = sqlstore.New(ctx, db, sqlstore.SQLite, "bad; DROP TABLE cards")
	require.Error(t, err)
	_, err = sqlstore.Open(ctx, "mysql://x", "cards")
	require.Error(t, err)
}
