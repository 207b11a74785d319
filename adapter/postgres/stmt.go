package postgres

import (
	"context"
	"sync"

	"github.com/jmoiron/sqlx"
)

// stmtCache prepares hot-path queries once per pool, lazily (the database
// may be down when a store is built). With lib/pq a parameterized query
// that is not prepared costs two round trips and a fresh plan (Parse and
// Describe, then Bind and Execute); a prepared one costs one. sqlx.Stmt
// re-prepares on each pooled connection by itself.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sqlx.Stmt
}

// get returns query prepared on db, preparing it on first use. The
// statements live as long as the pool and close with it.
func (c *stmtCache) get(ctx context.Context, db *sqlx.DB, query string) (*sqlx.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := db.PreparexContext(ctx, query) //nolint:sqlclosecheck // long-lived, closed with the pool
	if err != nil {
		return nil, translate(err)
	}
	if c.stmts == nil {
		c.stmts = map[string]*sqlx.Stmt{}
	}
	c.stmts[query] = st
	return st, nil
}
