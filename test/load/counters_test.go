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
// after the settle, and the settle is enough.
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
	if late != checkStatements {
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
			if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
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
	if got != 3 {
		t.Errorf("a new connection, a committed and a rolled-back transaction of 3 statements each counted as %d, want 3", got)
	}

	if _, err := (&pgCounter{db: pc.db, name: "m9m_no_such_database"}).transactions(ctx); err == nil {
		t.Error("an unknown database was counted")
	}
}
