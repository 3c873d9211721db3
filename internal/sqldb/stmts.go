package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// Statements prepares each query once per database handle and reuses it,
// inside transactions or not: parsing and planning a statement again for
// every call costs more than running it on SQLite. Queries are written
// with ? placeholders and rebound for the dialect. It is safe for
// concurrent use.
type Statements struct {
	db *DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// NewStatements returns an empty statement cache on db. Close it before
// closing db.
func NewStatements(db *DB) *Statements {
	return &Statements{db: db, m: map[string]*sql.Stmt{}}
}

// Prepared returns the prepared form of query, preparing it on first use.
func (c *Statements) Prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	c.mu.Unlock()
	if ok {
		return st, nil
	}
	prepared, err := c.db.PrepareContext(ctx, c.db.Rebind(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, raced := c.m[query]; raced {
		prepared.Close()
		return old, nil
	}
	c.m[query] = prepared
	return prepared, nil
}

// stmt returns query's prepared statement, bound to tx when tx is not nil.
func (c *Statements) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	st, err := c.Prepared(ctx, query)
	if err != nil || tx == nil {
		return st, err
	}
	return tx.StmtContext(ctx, st), nil
}

// Exec runs query with args in tx (outside a transaction when tx is nil).
func (c *Statements) Exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// Query runs query with args in tx (outside a transaction when tx is nil).
func (c *Statements) Query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// Row is the result of [Statements.QueryRow]: a row, or the error that
// preparing its query met.
type Row struct {
	row *sql.Row
	err error
}

// Scan copies the row's columns into dest, as [sql.Row.Scan] does.
func (r Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

// QueryRow runs query with args in tx (outside a transaction when tx is
// nil) and returns its first row.
func (c *Statements) QueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) Row {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return Row{err: err}
	}
	return Row{row: st.QueryRowContext(ctx, args...)}
}

// Close closes the prepared statements.
func (c *Statements) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for q, st := range c.m {
		errs = append(errs, st.Close())
		delete(c.m, q)
	}
	return errors.Join(errs...)
}
