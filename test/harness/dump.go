package harness

import (
	"context"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // the embedded mode's driver, for dumps

	"github.com/m9m/auth/test/testenv"
)

// Dump returns every row of the tables as text, the way an attacker holding
// a backup of this instance's database would see them: Postgres rows as
// their text form, SQLite rows as their values (blobs in hex, as Postgres
// prints bytea), one row a line.
func (s *Server) Dump(t testing.TB, tables ...string) string {
	t.Helper()
	ctx := context.Background()
	var lines []string
	if s.Config.Database.Embedded() {
		db, err := sqlx.Open("sqlite", s.Config.Database.SQLitePath()+"?_pragma=query_only(1)")
		if err != nil {
			t.Fatalf("harness: open the SQLite file: %v", err)
		}
		defer func() { _ = db.Close() }()
		dumpTable := func(table string) {
			rows, err := db.QueryxContext(ctx, "SELECT * FROM "+table) //nolint:gosec,sqlclosecheck // test tables; closed by the defer below
			if err != nil {
				t.Fatalf("harness: dump %s: %v", table, err)
			}
			defer func() { _ = rows.Close() }()
			for rows.Next() {
				vals, err := rows.SliceScan()
				if err != nil {
					t.Fatalf("harness: dump %s: %v", table, err)
				}
				parts := make([]string, len(vals))
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						parts[i] = `\x` + hex.EncodeToString(b)
						continue
					}
					parts[i] = fmt.Sprint(v)
				}
				lines = append(lines, "("+strings.Join(parts, ",")+")")
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("harness: dump %s: %v", table, err)
			}
		}
		for _, table := range tables {
			dumpTable(table)
		}
		return strings.Join(lines, "\n")
	}
	db := testenv.DB(t)
	for _, table := range tables {
		var rows []string
		if err := db.SelectContext(ctx, &rows, "SELECT t::text FROM "+table+" t"); err != nil {
			t.Fatalf("harness: dump %s: %v", table, err)
		}
		lines = append(lines, rows...)
	}
	return strings.Join(lines, "\n")
}

// ReadyChecks are the checks /ready names in this instance's mode.
func (s *Server) ReadyChecks() []string {
	if s.Config.Database.Embedded() {
		return []string{"sqlite"}
	}
	return []string{"postgres", "redis", "revocations"}
}

// ReadyOK reports whether checks (the "checks" of a /ready answer) are
// exactly this mode's checks, each "ok".
func (s *Server) ReadyOK(checks map[string]any) bool {
	want := s.ReadyChecks()
	if len(checks) != len(want) {
		return false
	}
	for _, c := range want {
		if checks[c] != "ok" {
			return false
		}
	}
	return true
}

// StoreEnv is the M9M_* environment that points a binary at fresh stores
// of this run's mode: a new SQLite file in the embedded mode; the package's
// Postgres database, Redis and a new key prefix otherwise.
func StoreEnv(t testing.TB) []string {
	t.Helper()
	if testenv.Embedded() {
		return []string{"M9M_DATABASE_URL=sqlite:" + filepath.Join(t.TempDir(), "m9m.db")}
	}
	return []string{
		"M9M_DATABASE_URL=" + testenv.DatabaseURL(t),
		"M9M_REDIS_URL=" + testenv.RedisURL(),
		"M9M_REDIS_KEY_PREFIX=" + testenv.RedisPrefix(),
	}
}

// Env is the M9M_* environment that points a binary at this instance's
// stores (same database, same Redis prefix).
func (s *Server) Env() []string {
	env := []string{"M9M_DATABASE_URL=" + s.Config.Database.URL}
	if s.Config.Redis.URL != "" {
		env = append(env, "M9M_REDIS_URL="+s.Config.Redis.URL, "M9M_REDIS_KEY_PREFIX="+s.Config.Redis.KeyPrefix)
	}
	return env
}
