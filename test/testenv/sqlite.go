package testenv

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/m9m/auth/adapter/sqlite"
)

// SQLite returns a fresh, migrated SQLite database in a file of the test's
// own temporary directory, closed when the test ends. It needs no service,
// so it runs under -short too.
func SQLite(t testing.TB) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m9m.db")
	db, err := sqlite.Open(path, sqlite.Options{})
	if err != nil {
		t.Fatalf("testenv: open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := sqlite.Migrate(context.Background(), db); err != nil {
		t.Fatalf("testenv: migrate sqlite: %v", err)
	}
	return db
}

// Embedded reports whether the end-to-end tests run in the embedded mode
// (TEST_MODE=embedded: SQLite file, everything in process) rather than the
// multi-instance mode (Postgres and Redis, the default). `make test` runs
// the end-to-end suite in both.
func Embedded() bool { return os.Getenv("TEST_MODE") == "embedded" }
