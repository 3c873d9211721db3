package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// DefaultGroupSize is the most transactions one group commit holds when
// [DB.NewGroup] is given no size.
const DefaultGroupSize = 256

// ErrGroupClosed is returned by [Group.Do] after [Group.Close].
var ErrGroupClosed = errors.New("sqldb: the group committer is closed")

// Group commits the write transactions of concurrent callers together
// (group commit): one committer goroutine takes every transaction waiting
// when the previous commit ends, runs each in a savepoint of its own inside
// one database transaction, and commits them with one sync to disk. A
// transaction that fails rolls back to its savepoint and fails alone; the
// others commit. Each caller learns its own outcome once the shared commit
// has ended, so a nil from [Group.Do] means committed, exactly as from
// [DB.InTx].
//
// With synchronous=FULL (SQLite) or synchronous_commit=on (PostgreSQL) a
// commit costs a sync of the log, so N concurrent writers that share a
// commit pay one sync instead of N. Transactions in one group run one
// after another, so each sees the writes of those before it.
type Group struct {
	db   *DB
	max  int
	reqs chan *groupReq
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

type groupReq struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
}

// NewGroup starts a group committer on db whose commits hold at most max
// transactions (DefaultGroupSize when max ≤ 0). Close it before closing db.
func (db *DB) NewGroup(max int) *Group {
	if max <= 0 {
		max = DefaultGroupSize
	}
	g := &Group{db: db, max: max, reqs: make(chan *groupReq), quit: make(chan struct{})}
	g.wg.Add(1)
	go g.loop()
	return g
}

// Do runs fn inside the next group commit and returns nil once it is
// committed, fn's error when fn failed (its writes are rolled back and
// nothing else is affected), or the commit's error. fn must do all its
// work through tx and ctx (the context it is given, which is not the
// caller's: once taken, a transaction runs to its end, so that a caller
// whose ctx ends still learns whether it committed). ctx bounds only the
// wait to be taken.
func (g *Group) Do(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	req := &groupReq{fn: fn, done: make(chan error, 1)}
	select {
	case g.reqs <- req:
	case <-g.quit:
		return ErrGroupClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.done
}

// Close stops the committer once the commit in progress has ended; Do
// returns ErrGroupClosed afterwards.
func (g *Group) Close() {
	g.once.Do(func() { close(g.quit) })
	g.wg.Wait()
}

func (g *Group) loop() {
	defer g.wg.Done()
	batch := make([]*groupReq, 0, g.max)
	for {
		batch = batch[:0]
		select {
		case req := <-g.reqs:
			batch = append(batch, req)
		case <-g.quit:
			return
		}
	more:
		for len(batch) < g.max {
			select {
			case req := <-g.reqs:
				batch = append(batch, req)
			default:
				break more
			}
		}
		g.commit(batch)
	}
}

// commit runs a batch in one transaction, each request in a savepoint.
func (g *Group) commit(batch []*groupReq) {
	ctx := context.Background()
	errs := make([]error, len(batch))
	fail := func(err error) {
		for i, req := range batch {
			if errs[i] == nil {
				errs[i] = err
			}
			req.done <- errs[i]
		}
	}
	if len(batch) == 1 {
		// Nothing to share the commit with: no savepoint needed.
		err := g.db.InTx(ctx, func(tx *sql.Tx) error { return batch[0].fn(ctx, tx) })
		batch[0].done <- err
		return
	}
	tx, err := g.db.BeginTx(ctx, nil)
	if err != nil {
		fail(err)
		return
	}
	committed := 0
	for i, req := range batch {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT sqldb_group"); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("sqldb: group commit: %w", err))
			return
		}
		if err := req.fn(ctx, tx); err != nil {
			errs[i] = err
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT sqldb_group"); rerr != nil {
				// The transaction cannot go on: every request fails, none
				// committed.
				_ = tx.Rollback()
				fail(fmt.Errorf("sqldb: group commit: rolling back a failed transaction: %w (after %w)", rerr, err))
				return
			}
		} else {
			committed++
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT sqldb_group"); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("sqldb: group commit: %w", err))
			return
		}
	}
	if committed == 0 {
		_ = tx.Rollback()
	} else if err := tx.Commit(); err != nil {
		fail(err)
		return
	}
	for i, req := range batch {
		req.done <- errs[i]
	}
}
