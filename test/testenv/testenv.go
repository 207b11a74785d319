// Package testenv gives tests real infrastructure: a fresh, migrated Postgres
// database per test package and a private Redis key prefix per test. Tests
// that need a service and cannot reach it fail loudly, saying how to start it;
// they never skip.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // Postgres driver
	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/postgres"
)

// Defaults match the services the project's Makefile starts; override them
// with TEST_DATABASE_URL (a server-level DSN, any database) and TEST_REDIS_URL.
const (
	defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	defaultRedisURL    = "redis://127.0.0.1:6379/0"
)

const startPostgres = "start it with `make services` (or: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start), or point TEST_DATABASE_URL at a server"

const startRedis = "start it with `make services` (or: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no), or point TEST_REDIS_URL at a server"

var (
	dbOnce sync.Once
	dbURL  string
	dbErr  error
)

// ServerDatabaseURL is the DSN of the Postgres server used for tests.
func ServerDatabaseURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return defaultDatabaseURL
}

// RedisURL is the URL of the Redis server used for tests.
func RedisURL() string {
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		return v
	}
	return defaultRedisURL
}

// DatabaseURL returns the DSN of this test package's own database, creating
// and migrating it on first use. Each test binary (= package) gets one
// database named after it and its pid, so packages run in parallel safely;
// databases of test processes that no longer run are dropped on the way.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	skipIfShort(t, "Postgres")
	dbOnce.Do(func() { dbURL, dbErr = createPackageDatabase() })
	if dbErr != nil {
		t.Fatalf("testenv: Postgres at %s is not usable: %v\n%s", redactDSN(ServerDatabaseURL()), dbErr, startPostgres)
	}
	return dbURL
}

// DB returns a connection pool to this package's migrated database, closed
// when the test ends.
func DB(t testing.TB) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", DatabaseURL(t))
	if err != nil {
		t.Fatalf("testenv: open database: %v", err)
	}
	db.SetMaxOpenConns(20)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

func createPackageDatabase() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := sqlx.Open("postgres", ServerDatabaseURL())
	if err != nil {
		return "", err
	}
	defer func() { _ = admin.Close() }()
	if err := admin.PingContext(ctx); err != nil {
		return "", err
	}
	dropStaleDatabases(ctx, admin)

	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	base = nonIdent.ReplaceAllString(strings.ToLower(base), "_")
	if len(base) > 30 {
		base = base[:30]
	}
	dsn, err := createDatabase(ctx, admin, base)
	if err != nil {
		return "", err
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return "", err
	}
	defer func() { _ = db.Close() }()
	if err := postgres.Migrate(ctx, db.DB); err != nil {
		return "", fmt.Errorf("migrate %s: %w", redactDSN(dsn), err)
	}
	return dsn, nil
}

// createDatabase creates an empty database named after base and this
// process (so dropStaleDatabases finds it once the process is gone) and
// returns its DSN.
func createDatabase(ctx context.Context, admin *sqlx.DB, base string) (string, error) {
	name := fmt.Sprintf("m9m_t_%s_%d_%s", base, os.Getpid(), randomHex(3))
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(ServerDatabaseURL())
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

// PrivateDatabaseURL returns the DSN of a new, empty database (no tables:
// whoever uses it migrates it) for one test, dropped when the test ends.
// Use it when a test must own a whole database: one that deletes what
// other tests wrote (retention with 1 s periods), or that needs no user
// to exist (bootstrap).
func PrivateDatabaseURL(t testing.TB) string {
	t.Helper()
	skipIfShort(t, "Postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := sqlx.Open("postgres", ServerDatabaseURL())
	if err != nil {
		t.Fatalf("testenv: open Postgres: %v", err)
	}
	defer func() { _ = admin.Close() }()
	dsn, err := createDatabase(ctx, admin, "private")
	if err != nil {
		t.Fatalf("testenv: Postgres at %s is not usable: %v\n%s", redactDSN(ServerDatabaseURL()), err, startPostgres)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := sqlx.Open("postgres", ServerDatabaseURL())
		if err != nil {
			return
		}
		defer func() { _ = admin.Close() }()
		u, _ := url.Parse(dsn)
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+strings.TrimPrefix(u.Path, "/")+" WITH (FORCE)")
	})
	return dsn
}

var staleName = regexp.MustCompile(`^m9m_t_[a-z0-9_]*?_(\d+)_[0-9a-f]{6}$`)

// dropStaleDatabases removes databases left by test processes that have
// exited, so repeated runs do not accumulate them.
func dropStaleDatabases(ctx context.Context, admin *sqlx.DB) {
	var names []string
	if err := admin.SelectContext(ctx, &names, "SELECT datname FROM pg_database WHERE datname LIKE 'm9m_t_%'"); err != nil {
		return
	}
	for _, n := range names {
		m := staleName.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || processAlive(pid) {
			continue
		}
		_, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+n+" WITH (FORCE)")
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}

// skipIfShort is the one sanctioned skip: `go test -short` (make test-unit)
// asks for unit tests alone, so integration tests step aside there, and
// only there. Without -short a missing service fails the test loudly.
func skipIfShort(t testing.TB, service string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("needs %s: integration test, not run with -short (make test-unit); make test runs it", service)
	}
}

// Redis returns a client and a key prefix private to this test; every key
// under the prefix is deleted when the test ends.
func Redis(t testing.TB) (goredis.UniversalClient, string) {
	t.Helper()
	skipIfShort(t, "Redis")
	opts, err := goredis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testenv: bad TEST_REDIS_URL: %v", err)
	}
	client := goredis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		t.Fatalf("testenv: Redis at %s is not reachable: %v\n%s", opts.Addr, err, startRedis)
	}
	prefix := RedisPrefix()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			_ = client.Del(ctx, keys...).Err()
		}
		_ = client.Close()
	})
	return client, prefix
}

// RedisPrefix returns a fresh key prefix unique to this process and call.
func RedisPrefix() string {
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	return fmt.Sprintf("t:%s:%d:%s:", base, os.Getpid(), randomHex(4))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparseable DSN)"
	}
	return u.Redacted()
}
