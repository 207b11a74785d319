package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/test/testenv"
)

// binServer is one `m9m serve` process and a JSON client for it.
type binServer struct {
	cmd     *exec.Cmd
	base    string
	logFile string // the process writes its logs here; read with logs()
	client  *http.Client
}

// logs returns what the process logged so far.
func (s *binServer) logs() string {
	b, _ := os.ReadFile(s.logFile)
	return string(b)
}

func startBinary(t *testing.T, env []string) *binServer {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(m9mBinary(t), "serve")
	cmd.Env = append(env, "M9M_SERVER_HOST=127.0.0.1", fmt.Sprintf("M9M_SERVER_PORT=%d", port))
	return launch(t, cmd, port)
}

// launch starts cmd, a server that will listen on port, with its output in
// a log file, and waits until it answers /health.
func launch(t *testing.T, cmd *exec.Cmd, port int) *binServer {
	t.Helper()
	s := &binServer{
		cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), logFile: filepath.Join(t.TempDir(), "serve.log"),
		client: &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}},
	}
	f, err := os.Create(s.logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // the child keeps its own descriptor
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := s.client.Get(s.base + "/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy; logs:\n%s", s.logs())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *binServer) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v; logs:\n%s", err, s.logs())
	}
}

// call sends a JSON request and decodes a JSON answer into out (if not nil).
func (s *binServer) call(t *testing.T, method, path string, headers map[string]string, body any, out any) int {
	t.Helper()
	status, raw := sendJSON(t, s.client, method, s.base+path, headers, body)
	if out != nil && status < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return status
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

func (s *binServer) login(t *testing.T, user, pass string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if st := s.call(t, http.MethodPost, "/api/v1/auth/login", nil, map[string]string{"username": user, "password": pass}, &out); st != http.StatusOK {
		t.Fatalf("login: %d", st)
	}
	return out.Token
}

// want fails the test unless status is want.
func want(t *testing.T, what string, status, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: %d, want %d", what, status, want)
	}
}

// rowCount counts the rows of a table matching where.
func rowCount(t *testing.T, db *sqlx.DB, table, where string) int {
	t.Helper()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM `+table+` WHERE `+where); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// TestRetentionAgainstTheBinary: with 1 s retentions, `m9m purge` and the
// serving janitor delete ended sessions, revoked keys, old audit events and
// deliveries, print and export the counts, and leave the live session and
// the working key alone (both still authenticate, the session still
// refreshes). It owns its database: 1 s retentions would delete what other
// tests wrote.
func TestRetentionAgainstTheBinary(t *testing.T) {
	t.Parallel()
	stores, db := privateStores(t)
	const admin, adminPass = "retadmin", "retention-admin-password"
	env := binEnv(append(stores,
		"M9M_SECURITY_JWT_SECRET="+goodSecret,
		"M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME="+admin,
		"M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD="+adminPass,
		"M9M_PERFORMANCE_RATE_LIMIT_ENABLED=false",
		"M9M_SECURITY_PASSWORD_HASH_MEMORY_KIB=64",
		"M9M_SECURITY_PASSWORD_HASH_ITERATIONS=1",
		"M9M_AUDIT_FLUSH_INTERVAL=50ms",
	)...)
	oneSecond := []string{"M9M_RETENTION_SESSIONS=1s", "M9M_RETENTION_AUDIT_EVENTS=1s", "M9M_RETENTION_EXECUTIONS=1s"}

	// Phase 1, default retention: make a live session, an ended one, a
	// working key, a revoked key and a delivery.
	s := startBinary(t, env)
	live := s.login(t, admin, adminPass)
	ended := s.login(t, admin, adminPass)
	want(t, "logout", s.call(t, http.MethodPost, "/api/v1/auth/logout", bearer(ended), nil, nil), http.StatusNoContent)
	var working, revoked struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	}
	keyBody := map[string]any{"name": "ci", "scopes": []string{"workflows:read"}}
	want(t, "create key", s.call(t, http.MethodPost, "/api/v1/api-keys", bearer(live), keyBody, &working), http.StatusCreated)
	want(t, "create key", s.call(t, http.MethodPost, "/api/v1/api-keys", bearer(live), keyBody, &revoked), http.StatusCreated)
	want(t, "revoke key", s.call(t, http.MethodDelete, "/api/v1/api-keys/"+revoked.ID, bearer(live), nil, nil), http.StatusNoContent)
	hookPath := "retention-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	wf := map[string]any{"name": "hook", "active": true, "webhook": map[string]any{"path": hookPath, "auth": map[string]any{"type": "none"}}}
	want(t, "create workflow", s.call(t, http.MethodPost, "/api/v1/workflows", bearer(live), wf, nil), http.StatusCreated)
	want(t, "deliver", s.call(t, http.MethodPost, "/webhook/"+hookPath, nil, map[string]any{"n": 1}, nil), http.StatusAccepted)
	s.stop(t) // flushes the audit queue
	if n := rowCount(t, db, "audit_events", "true"); n < 5 {
		t.Fatalf("%d audit events before the purge, want the logins, logout, keys, workflow", n)
	}

	// m9m purge with 1 s retentions, once everything above is over a second old.
	time.Sleep(1100 * time.Millisecond)
	// While another instance holds the janitor lock (in the embedded mode:
	// while a server holds the file), purge deletes nothing and says so.
	release, refusal := holdJanitor(t, env, db)
	out, err := runM9M(t, append(env, oneSecond...), "purge")
	if err == nil || !strings.Contains(out, refusal) {
		t.Fatalf("purge while the lock is held: %v\n%s", err, out)
	}
	if n := rowCount(t, db, "executions", "true"); n != 1 {
		t.Fatalf("purge deleted while another instance held the lock: %d executions left, want 1", n)
	}
	release()
	out, err = runM9M(t, append(env, oneSecond...), "purge")
	if err != nil {
		t.Fatalf("purge: %v\n%s", err, out)
	}
	for kind, n := range map[string]string{"sessions": "1", "api_keys": "1", "executions": "1"} {
		if !regexp.MustCompile(`(?m)^` + kind + `\s+` + n + `\s+\d{4}-`).MatchString(out) {
			t.Fatalf("purge output lacks %q deleted %s:\n%s", kind, n, out)
		}
	}
	if m := regexp.MustCompile(`(?m)^audit_events\s+(\d+)\s`).FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatalf("purge output does not show audit events deleted:\n%s", out)
	}
	for table, left := range map[string]int{"sessions": 1, "api_keys": 1, "executions": 0, "audit_events": 0} {
		if n := rowCount(t, db, table, "true"); n != left {
			t.Fatalf("%s: %d rows after purge, want %d", table, n, left)
		}
	}

	// Phase 2, the janitor every second with 1 s retentions and metrics on.
	metricsPort := freePort(t)
	s = startBinary(t, append(env, append(oneSecond,
		"M9M_RETENTION_INTERVAL=1s",
		"M9M_MONITORING_METRICS_ENABLED=true",
		fmt.Sprintf("M9M_MONITORING_METRICS_LISTEN=127.0.0.1:%d", metricsPort))...))
	want(t, "live session", s.call(t, http.MethodGet, "/api/v1/auth/me", bearer(live), nil, nil), http.StatusOK)
	want(t, "working key", s.call(t, http.MethodGet, "/api/v1/auth/me", map[string]string{"X-API-Key": working.Key}, nil, nil), http.StatusOK)
	want(t, "revoked key", s.call(t, http.MethodGet, "/api/v1/auth/me", map[string]string{"X-API-Key": revoked.Key}, nil, nil), http.StatusUnauthorized)
	ended = s.login(t, admin, adminPass)
	want(t, "logout", s.call(t, http.MethodPost, "/api/v1/auth/logout", bearer(ended), nil, nil), http.StatusNoContent)
	want(t, "deliver", s.call(t, http.MethodPost, "/webhook/"+hookPath, nil, map[string]any{"n": 2}, nil), http.StatusAccepted)

	deadline := time.Now().Add(20 * time.Second)
	for rowCount(t, db, "sessions", "ended_at IS NOT NULL")+rowCount(t, db, "executions", "true") > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the janitor did not delete the ended session and the delivery; logs:\n%s", s.logs())
		}
		time.Sleep(200 * time.Millisecond)
	}
	var refreshed struct {
		Token string `json:"token"`
	}
	want(t, "refresh the live session", s.call(t, http.MethodPost, "/api/v1/auth/refresh", bearer(live), nil, &refreshed), http.StatusOK)
	want(t, "refreshed token", s.call(t, http.MethodGet, "/api/v1/auth/me", bearer(refreshed.Token), nil, nil), http.StatusOK)
	want(t, "working key", s.call(t, http.MethodGet, "/api/v1/auth/me", map[string]string{"X-API-Key": working.Key}, nil, nil), http.StatusOK)
	if n := rowCount(t, db, "sessions", "ended_at IS NULL"); n != 1 {
		t.Fatalf("%d live sessions, want the one refreshed", n)
	}

	scrape := (&binServer{base: fmt.Sprintf("http://127.0.0.1:%d", metricsPort), client: s.client})
	resp, err := scrape.client.Get(scrape.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	for _, series := range []string{`m9m_retention_deleted_total{kind="sessions"}`, `m9m_retention_deleted_total{kind="executions"}`, `m9m_retention_passes_total{outcome="done"}`} {
		m := regexp.MustCompile(regexp.QuoteMeta(series) + ` (\d+)`).FindSubmatch(body)
		if m == nil || string(m[1]) == "0" {
			t.Fatalf("metrics: %s is missing or 0:\n%s", series, grepLines(string(body), "m9m_retention"))
		}
	}
	if !strings.Contains(s.logs(), "retention pass") {
		t.Fatalf("the janitor logged no pass; logs:\n%s", s.logs())
	}
	s.stop(t)
}

// privateStores returns the environment of a database of the test's own in
// the run's mode (a private Postgres database with the run's Redis, or a
// fresh SQLite file) and a connection that reads it beside the server.
func privateStores(t *testing.T) ([]string, *sqlx.DB) {
	t.Helper()
	dbURL := privateDatabaseURL(t)
	if file, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		db, err := sqlite.Open(file, sqlite.Options{Readers: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.R.Close(); _ = db.W.Close() })
		return []string{"M9M_DATABASE_URL=" + dbURL}, db.R
	}
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return []string{"M9M_DATABASE_URL=" + dbURL, "M9M_REDIS_URL=" + testenv.RedisURL(), "M9M_REDIS_KEY_PREFIX=" + testenv.RedisPrefix()}, db
}

// privateDatabaseURL is a database.url of the test's own in the run's mode:
// a fresh SQLite file, or a private Postgres database.
func privateDatabaseURL(t *testing.T) string {
	t.Helper()
	if testenv.Embedded() {
		return "sqlite:" + filepath.Join(t.TempDir(), "m9m.db")
	}
	return testenv.PrivateDatabaseURL(t)
}

// holdJanitor keeps every other process from purging until release, and
// returns what a purge refused meanwhile says: with Postgres it holds the
// janitor's advisory lock, as another instance's pass would; in the
// embedded mode a server runs on the file, holding its lock.
func holdJanitor(t *testing.T, env []string, db *sqlx.DB) (release func(), refusal string) {
	t.Helper()
	if testenv.Embedded() {
		s := startBinary(t, env)
		return func() { s.stop(t) }, "is `m9m serve` running on it?"
	}
	release, ok, err := postgres.NewJanitorLock(db).TryAcquire(context.Background())
	if err != nil || !ok {
		t.Fatalf("take the janitor lock: %v %v", ok, err)
	}
	return release, "another instance is running a retention pass"
}

// grepLines returns the lines of s containing sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
