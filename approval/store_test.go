package approval

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/egovkit/egovkit/internal/sqldb/sqldbtest"
)

// A database maker gives each test a database of its own, and a connect
// function that opens a new connection (a new Store) to it, as another
// process would. The SQL databases come from sqldbtest: a fresh SQLite
// file, and a fresh PostgreSQL schema when EGOVKIT_TEST_POSTGRES is set.
type dbMaker struct {
	name string
	make func(t *testing.T) (connect func() Store)
}

func sqlMaker(t *testing.T, open sqldbtest.Opener) func() Store {
	return func() Store {
		s, err := newSQLStore(context.Background(), open())
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func dbMakers(t *testing.T) []dbMaker {
	makers := []dbMaker{
		{"memory", func(t *testing.T) func() Store {
			s := NewMemoryStore()
			return func() Store { return s }
		}},
		{"sqlite", func(t *testing.T) func() Store { return sqlMaker(t, sqldbtest.SQLite(t)) }},
	}
	if os.Getenv(sqldbtest.EnvPostgres) != "" {
		makers = append(makers, dbMaker{"postgres", func(t *testing.T) func() Store {
			open, _ := sqldbtest.Postgres(t)
			return sqlMaker(t, open)
		}})
	}
	return makers
}

// postgresSchema creates a schema of the benchmark's own, dropped at the
// end, so that parallel runs never meet (sqldbtest serves tests only).
func postgresSchema(t testing.TB, dsn string) func() Store {
	ctx := context.Background()
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	schema := "approval_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	_, err = admin.ExecContext(ctx, "CREATE SCHEMA "+schema)
	require.NoError(t, err, "PostgreSQL at EGOVKIT_TEST_POSTGRES")
	t.Cleanup(func() {
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return func() Store {
		s, err := OpenPostgres(ctx, dsn+sep+"search_path="+schema)
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestStoreConformance runs one suite against every store.
func TestStoreConformance(t *testing.T) {
	t.Parallel()
	for _, m := range dbMakers(t) {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			t.Run("queries", func(t *testing.T) {
				t.Parallel()
				queries(t, m.make(t)())
			})
			t.Run("append rules", func(t *testing.T) {
				t.Parallel()
				appendRules(t, m.make(t)())
			})
			t.Run("concurrent votes across connections", func(t *testing.T) {
				t.Parallel()
				connect := m.make(t)
				def := mustDef(t, fmt.Sprintf(modesDef, "all", ""))
				h := newHarness(t, def, connect())
				h.start(`{}`)
				c := h.must(Command{Kind: CmdAccept, Actor: "clerk"})
				var engines []*Engine
				for range 3 {
					e, err := New(Config{Store: connect(), Directory: h.dir, Clock: h.clock.Now}, def)
					require.NoError(t, err)
					engines = append(engines, e)
				}
				concurrentVotesOn(t, engines, c.ID, c.Version)
			})
			t.Run("no lost update under contention", func(t *testing.T) {
				t.Parallel()
				noLostUpdate(t, m.make(t))
			})
			t.Run("durable and tamper-evident", func(t *testing.T) {
				t.Parallel()
				durable(t, m.make(t))
			})
		})
	}
}

func concurrentVotesOn(t *testing.T, engines []*Engine, id string, version int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, len(engines))
	users := []string{"u1", "u2", "u3"}
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.Execute(context.Background(), Command{Kind: CmdApprove, CaseID: id, Actor: users[i%3], ExpectedVersion: version})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.True(t, errors.Is(err, ErrStaleVersion), "%v", err)
		}
	}
	assert.Equal(t, 1, ok, "exactly one of the concurrent commands wins")
	c, err := engines[0].Case(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, version+1, c.Version)
	approved := 0
	for _, task := range c.Tasks {
		if task.State == TaskApproved {
			approved++
		}
	}
	assert.Equal(t, 1, approved, "no lost update, no double apply")
}

// appendRules: the store refuses a taken sequence number, a gap and a
// reused idempotency key, and keeps the log as it was given.
func appendRules(t *testing.T, s Store) {
	ctx := context.Background()
	h := newHarness(t, sampleDef(t), s)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1", IdempotencyKey: "k-accept"})
	events, err := s.Events(ctx, h.id)
	require.NoError(t, err)
	require.Len(t, events, 2)
	require.NoError(t, VerifyChain(events))

	c, err := Replay(h.def, events)
	require.NoError(t, err)
	rec := func(e Event) Record { return Record{Event: e, Summary: summaryOf(c), Tasks: tasksOf(c)} }
	again := events[1]
	assert.ErrorIs(t, s.Append(ctx, rec(again)), ErrVersionConflict, "seq 2 is taken")
	first := events[0]
	assert.ErrorIs(t, s.Append(ctx, rec(first)), ErrVersionConflict, "seq 1 is taken")
	gap := events[1]
	gap.Seq, gap.IdempotencyKey = 4, ""
	assert.ErrorIs(t, s.Append(ctx, rec(gap)), ErrVersionConflict, "seq 3 is missing")
	dupKey := events[1]
	dupKey.Seq, dupKey.Type = 3, EventCommented
	assert.ErrorIs(t, s.Append(ctx, rec(dupKey)), ErrVersionConflict, "key k-accept is used")

	after, err := s.Events(ctx, h.id)
	require.NoError(t, err)
	assert.Equal(t, events, after)
	_, err = s.Events(ctx, "no-such-case")
	assert.ErrorIs(t, err, ErrCaseNotFound)
	roles, orgs, err := s.Groups(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"reviewer"}, roles)
	assert.Empty(t, orgs)
}

// noLostUpdate: four writers on separate connections add ten comments
// each to one case, retrying on conflicts; every comment lands once.
func noLostUpdate(t *testing.T, connect func() Store) {
	def := sampleDef(t)
	h := newHarness(t, def, connect())
	h.start(smallApp)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		e, err := New(Config{Store: connect(), Directory: h.dir, Clock: h.clock.Now}, def)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for i := range each {
				for {
					c, err := e.Case(ctx, h.id)
					if !assert.NoError(t, err) {
						return
					}
					_, err = e.Execute(ctx, Command{Kind: CmdComment, CaseID: h.id, Actor: "alice", ExpectedVersion: c.Version, Comment: fmt.Sprintf("w%d-%d", w, i), IdempotencyKey: fmt.Sprintf("w%d-%d", w, i)})
					if err == nil {
						break
					}
					if !assert.ErrorIs(t, err, ErrStaleVersion) {
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	c, err := h.e.Case(context.Background(), h.id)
	require.NoError(t, err)
	assert.Equal(t, 1+writers*each, c.Version)
	seen := map[string]bool{}
	for _, cm := range c.Comments {
		assert.False(t, seen[cm.Text], "comment %s twice", cm.Text)
		seen[cm.Text] = true
	}
	assert.Len(t, seen, writers*each)
	require.NoError(t, h.e.Verify(context.Background(), h.id))
}

// durable: what one connection committed, a new one reads; a row changed
// behind the store's back is detected.
func durable(t *testing.T, connect func() Store) {
	ctx := context.Background()
	s := connect()
	h := newHarness(t, sampleDef(t), s)
	h.start(smallApp)
	h.must(Command{Kind: CmdAccept, Actor: "clerk1"})
	want, err := s.Events(ctx, h.id)
	require.NoError(t, err)
	if _, memory := s.(*MemoryStore); !memory {
		require.NoError(t, s.Close())
	}
	s2 := connect()
	got, err := s2.Events(ctx, h.id)
	require.NoError(t, err)
	assert.Equal(t, want, got)

	switch st := s2.(type) {
	case *SQLStore:
		_, err = st.db.ExecContext(ctx, st.db.Rebind("UPDATE approval_events SET body = REPLACE(body, 'clerk1', 'clerk2') WHERE case_id = ? AND seq = 2"), h.id)
		require.NoError(t, err)
	case *MemoryStore:
		st.mu.Lock()
		st.events[h.id][1].body = []byte(strings.Replace(string(st.events[h.id][1].body), "clerk1", "clerk2", 1))
		st.mu.Unlock()
	}
	_, err = s2.Events(ctx, h.id)
	assert.ErrorIs(t, err, ErrCorrupt)
}

// TestSQLiteGroupCommit: many callers at once, some racing on one case;
// each append is committed or refused alone, and a closed store refuses.
func TestSQLiteGroupCommit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := OpenStore(ctx, "sqlite:"+filepath.Join(t.TempDir(), "group.db"))
	require.NoError(t, err)
	_, err = OpenStore(ctx, "mysql://x")
	require.Error(t, err, "an unknown database URL")
	def := sampleDef(t)
	h := newHarness(t, def, s)
	h.start(smallApp)
	shared := h.id
	const callers = 24
	var wg sync.WaitGroup
	results := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 == 0 { // race on the shared case at version 1
				_, results[i] = h.e.Execute(ctx, Command{Kind: CmdComment, CaseID: shared, Actor: "alice", ExpectedVersion: 1, Comment: fmt.Sprint(i)})
				return
			}
			r, err := h.e.Start(ctx, StartCommand{Definition: def.ID, Applicant: "alice", Application: app(t, smallApp)})
			if err == nil {
				_, err = h.e.Execute(ctx, Command{Kind: CmdAccept, CaseID: r.Case.ID, Actor: "clerk1", ExpectedVersion: 1})
			}
			results[i] = err
		}()
	}
	wg.Wait()
	won := 0
	for i, err := range results {
		if i%3 != 0 {
			assert.NoError(t, err)
			continue
		}
		if err == nil {
			won++
		} else {
			assert.ErrorIs(t, err, ErrStaleVersion)
		}
	}
	assert.Equal(t, 1, won, "one comment wins the race on the shared case")
	cases, err := h.e.Cases(ctx, CaseFilter{Status: StatusInReview})
	require.NoError(t, err)
	assert.Len(t, cases, callers-callers/3)

	require.NoError(t, s.Close())
	_, err = h.e.Execute(ctx, Command{Kind: CmdComment, CaseID: shared, Actor: "alice", ExpectedVersion: 2, Comment: "late"})
	assert.Error(t, err)
	assert.ErrorIs(t, s.Append(ctx, Record{Event: Event{CaseID: "x", Seq: 1, Type: EventStarted}}), ErrStoreClosed)
}
