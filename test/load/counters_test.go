package main

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/test/testenv"
)

// A private redis-server: on the shared one, every other test's commands
// would be counted too.
func TestRedisCounterCountsExactly(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedisServer(t)
	ctx := context.Background()
	rc, err := dialRedisCounter(ctx, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()

	res, err := countCheck(ctx, rc, nil, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !res.redisOK() || res.pg {
		t.Fatalf("count check = %+v, want an INFO to cost %d and one EVAL of %d calls %d", res, infoCost, checkScriptCalls, 1+checkScriptCalls)
	}

	// Another client's commands, as a server's would be.
	other := srv.Client(t)
	if err := other.Ping(ctx).Err(); err != nil { // connects: HELLO and the like, not counted below
		t.Fatal(err)
	}
	before, err := rc.commands()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 25 {
		if err := other.Set(ctx, "k", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	after, err := rc.commands()
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before - infoCost; d != 25 {
		t.Errorf("25 SETs counted as %d", d)
	}

	if _, err := rc.do("NOSUCHCOMMAND"); err == nil || !strings.HasPrefix(err.Error(), "redis: ERR") {
		t.Errorf("an error reply = %v", err)
	}
	if n, err := rc.commands(); err != nil || n <= after {
		t.Errorf("the counter after an error reply: %d, %v", n, err)
	}
}

// TestPGCounterCountsTheDatabasesTransactions runs work of a known count on
// a database of its own and reads it from pg_stat_database, as the bench
// does: statements on a connection that stays open reach the counter only
// after the settle, and the settle is enough. Counts may exceed the work by
// the empty catch-up transactions of idle backends when other tests change
// catalogs meanwhile (catchUpSlack); they may never fall short of it.
func TestPGCounterCountsTheDatabasesTransactions(t *testing.T) {
	t.Parallel()
	dsn := testenv.PrivateDatabaseURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pc, err := openPGCounter(ctx, dsn, name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()

	early, late, err := countStatements(ctx, pc, dsn, pgSettle)
	if err != nil {
		t.Fatal(err)
	}
	if late < checkStatements || late > checkStatements+catchUpSlack {
		t.Fatalf("%d statements counted as %d after %s (%d after %s)", checkStatements, late, pgSettle, early, earlyRead)
	}
	t.Logf("%d statements: %d visible after %s, %d after %s", checkStatements, early, earlyRead, late, pgSettle)

	// A transaction of several statements counts once; a rolled-back one too.
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	before, err := pc.transactions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, commit := range []bool{true, false} {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := tx.ExecContext(ctx, checkQuery); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// Closing the connections flushes their counts (a backend's exit does),
	// which lands shortly after the close returns: wait for it, boundedly.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	var got int64
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		n, err := pc.transactions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got = n - before; got >= 3 { // a connection (1) and two transactions
			break
		}
	}
	if got < 3 || got > 3+catchUpSlack {
		t.Errorf("a new connection, a committed and a rolled-back transaction of 3 statements each counted as %d, want 3", got)
	}

	if _, err := (&pgCounter{db: pc.db, name: "m9m_no_such_database"}).transactions(ctx); err == nil {
		t.Error("an unknown database was counted")
	}
}

// TestMeasureCountsWhatRunsInsideIt checks the window the bench uses
// around each wrk run: known work inside it, on connections that stay open
// as the server's do, is counted exactly (Redis less the INFO reads,
// Postgres after the settle).
func TestMeasureCountsWhatRunsInsideIt(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedisServer(t)
	dsn := testenv.PrivateDatabaseURL(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rc, err := dialRedisCounter(ctx, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rc.Close() }()
	pc, err := openPGCounter(ctx, dsn, strings.TrimPrefix(u.Path, "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()

	// The "server": one Redis client and one database connection, both
	// connected before the window opens.
	rdb := srv.Client(t)
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	// Let the connection's own transaction and the Ping reach the counters
	// before the window opens.
	if err := sleepCtx(ctx, pgSettle); err != nil {
		t.Fatal(err)
	}

	c := counters{redis: rc, pg: pc, settle: pgSettle}
	r := wrkResult{name: "known work"}

	if err := c.measure(ctx, &r, func() error {
		for i := range 7 {
			if err := rdb.Incr(ctx, "n").Err(); err != nil {
				return err
			}
			if i < 5 {
				if _, err := conn.ExecContext(ctx, checkQuery); err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if !r.redis || !r.pg || r.redisCmds != 7 || r.pgXacts < 5 || r.pgXacts > 5+catchUpSlack {
		t.Errorf("7 INCR and 5 queries counted as %d Redis commands and %d transactions (%+v)", r.redisCmds, r.pgXacts, r)
	}
}
