package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

// observedDB opens dsn through ObserveFailures and returns the pool and the
// count of failures it reported.
func observedDB(t *testing.T, dsn string) (*sqlx.DB, *atomic.Int64) {
	t.Helper()
	connector, err := pq.NewConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	db := sqlx.NewDb(sql.OpenDB(postgres.ObserveFailures(connector, func() { n.Add(1) })), "postgres")
	t.Cleanup(func() { _ = db.Close() })
	return db, &n
}

// The wrapper is transparent: the repositories' contract suites pass over
// it (prepared statements, transactions, arrays), and reporting nothing.
func TestObservedPoolPassesTheStoreContracts(t *testing.T) {
	db, failures := observedDB(t, testenv.DatabaseURL(t))
	porttest.UserStore(t, func(*testing.T) (port.UserStore, port.UserLister) {
		s := postgres.NewUserStore(db)
		return s, s
	})
	porttest.UserRemover(t, func(*testing.T) porttest.UserRemoverStores {
		w := postgres.NewWorkflowStore(db)
		return porttest.UserRemoverStores{
			Remover: postgres.NewUserRemover(db), Users: postgres.NewUserStore(db),
			Workflows: w, Lister: w, Executions: postgres.NewExecutionStore(db), Audit: postgres.NewAuditStore(db),
		}
	})
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d failures reported by a healthy database (conflicts and not-founds are not failures)", n)
	}
}

func TestObservedPoolReportsWhatMakesPostgresUnavailable(t *testing.T) {
	ctx := context.Background()

	t.Run("nothing listening", func(t *testing.T) {
		db, failures := observedDB(t, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
		_, err := postgres.NewUserStore(db).Get(ctx, "x")
		if !errors.Is(err, domain.ErrUnavailable) {
			t.Fatalf("Get = %v, want ErrUnavailable", err)
		}
		if n := failures.Load(); n != 1 {
			t.Fatalf("%d failures reported, want 1", n)
		}
	})

	t.Run("live database", func(t *testing.T) {
		db, failures := observedDB(t, testenv.DatabaseURL(t))
		want := func(what string, n int64) {
			t.Helper()
			if got := failures.Load(); got != n {
				t.Fatalf("after %s: %d failures reported, want %d", what, got, n)
			}
		}
		// Our own mistakes and a caller who gives up are not Postgres failures.
		_, err := db.ExecContext(ctx, `SELECT FROM no_such_table`)
		if err == nil {
			t.Fatal("query of a missing table succeeded")
		}
		want("an SQL error", 0)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_ = db.PingContext(cancelled)
		want("a cancelled context", 0)

		// A statement timeout, a terminated backend: Postgres cannot serve.
		conn, err := db.Connx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `SET statement_timeout = '20ms'`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.ExecContext(ctx, `SELECT pg_sleep(1)`); err == nil {
			t.Fatal("pg_sleep(1) beat a 20ms statement timeout")
		}
		want("a statement timeout", 1)
		_, err = conn.ExecContext(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
		if err == nil {
			t.Fatal("terminating our own backend succeeded")
		}
		_ = conn.Close()
		want("terminating the backend", 2)
		// The pool recovers by itself; healthy calls report nothing more.
		const before = 2
		for range 3 {
			if err := db.PingContext(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := failures.Load(); got != before {
			t.Fatalf("healthy pings reported %d failures", got-before)
		}
		tctx, stop := context.WithTimeout(ctx, 5*time.Second)
		defer stop()
		tx, err := db.BeginTxx(tctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(tctx, `SELECT 1`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		want("a transaction", before)
	})
}
