package postgres

import (
	"context"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"
)

// ObserveFailures wraps the driver connector c so that onFailure runs once
// for every failed call that means Postgres cannot serve us (what translate
// reports as domain.Unavailable: refused or lost connections, shutdown,
// too many connections, timeouts, serialization failures): connecting,
// executing, querying, preparing, beginning and committing. That is where
// every repository of this package meets the database, so counting here
// reports the failures of all of them without any repository knowing.
//
// A connection found dead (driver.ErrBadConn) counts even when
// database/sql then retries on another connection and succeeds: a Postgres
// restart shows as one failure per pooled connection it killed. Not
// counted: a caller who gave up (context.Canceled) and errors that are ours
// (SQL errors, constraint violations). Errors met while reading rows
// already returned are not seen here; a dead server fails the next call.
func ObserveFailures(c driver.Connector, onFailure func()) driver.Connector {
	if onFailure == nil {
		return c
	}
	return observedConnector{Connector: c, o: observer(onFailure)}
}

// observer calls itself for the errors ObserveFailures counts and returns
// the error unchanged.
type observer func()

func (o observer) see(err error) error {
	if err != nil && !errors.Is(err, driver.ErrSkip) && !errors.Is(err, context.Canceled) && unavailable(err) {
		o()
	}
	return err
}

// unavailable reports whether err means Postgres cannot serve us right now,
// by the rules translate applies.
func unavailable(err error) bool {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return unavailableState(pqErr.SQLState())
	}
	return isConnectionError(err)
}

type observedConnector struct {
	driver.Connector
	o observer
}

func (c observedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, c.o.see(err)
	}
	return &observedConn{conn: conn, o: c.o}, nil
}

// observedConn forwards every optional interface lib/pq's connection
// implements, so database/sql uses the wrapped connection exactly as it
// would use the driver's.
type observedConn struct {
	conn driver.Conn
	o    observer
}

var (
	_ driver.ConnBeginTx        = (*observedConn)(nil)
	_ driver.ConnPrepareContext = (*observedConn)(nil)
	_ driver.ExecerContext      = (*observedConn)(nil)
	_ driver.QueryerContext     = (*observedConn)(nil)
	_ driver.Pinger             = (*observedConn)(nil)
	_ driver.SessionResetter    = (*observedConn)(nil)
	_ driver.Validator          = (*observedConn)(nil)
	_ driver.NamedValueChecker  = (*observedConn)(nil)
)

func (c *observedConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *observedConn) Close() error { return c.conn.Close() }

func (c *observedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *observedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	var tx driver.Tx
	var err error
	if b, ok := c.conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else {
		tx, err = c.conn.Begin() //nolint:staticcheck // the fallback database/sql itself would use
	}
	if err != nil {
		return nil, c.o.see(err)
	}
	return observedTx{tx: tx, o: c.o}, nil
}

func (c *observedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var st driver.Stmt
	var err error
	if p, ok := c.conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.conn.Prepare(query)
	}
	if err != nil {
		return nil, c.o.see(err)
	}
	return &observedStmt{stmt: st, o: c.o}, nil
}

func (c *observedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	res, err := e.ExecContext(ctx, query, args)
	return res, c.o.see(err)
}

func (c *observedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	rows, err := q.QueryContext(ctx, query, args)
	return rows, c.o.see(err)
}

func (c *observedConn) Ping(ctx context.Context) error {
	if p, ok := c.conn.(driver.Pinger); ok {
		return c.o.see(p.Ping(ctx))
	}
	return nil
}

func (c *observedConn) ResetSession(ctx context.Context) error {
	if r, ok := c.conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *observedConn) IsValid() bool {
	if v, ok := c.conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *observedConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

type observedTx struct {
	tx driver.Tx
	o  observer
}

func (t observedTx) Commit() error   { return t.o.see(t.tx.Commit()) }
func (t observedTx) Rollback() error { return t.tx.Rollback() }

type observedStmt struct {
	stmt driver.Stmt
	o    observer
}

var (
	_ driver.StmtExecContext  = (*observedStmt)(nil)
	_ driver.StmtQueryContext = (*observedStmt)(nil)
)

func (s *observedStmt) Close() error  { return s.stmt.Close() }
func (s *observedStmt) NumInput() int { return s.stmt.NumInput() }

func (s *observedStmt) Exec(args []driver.Value) (driver.Result, error) {
	res, err := s.stmt.Exec(args) //nolint:staticcheck // forwarding the legacy method
	return res, s.o.see(err)
}

func (s *observedStmt) Query(args []driver.Value) (driver.Rows, error) {
	rows, err := s.stmt.Query(args) //nolint:staticcheck // forwarding the legacy method
	return rows, s.o.see(err)
}

func (s *observedStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.stmt.(driver.StmtExecContext)
	if !ok {
		return s.Exec(values(args))
	}
	res, err := e.ExecContext(ctx, args)
	return res, s.o.see(err)
}

func (s *observedStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.stmt.(driver.StmtQueryContext)
	if !ok {
		return s.Query(values(args))
	}
	rows, err := q.QueryContext(ctx, args)
	return rows, s.o.see(err)
}

// values turns named arguments into positional ones for a legacy Stmt.
func values(args []driver.NamedValue) []driver.Value {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}
