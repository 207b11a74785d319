package e2e_test

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// repoRoot is the module root (this file lives in test/e2e).
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller information")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// devRun runs scripts/dev-run.sh (what `make run` runs) from a copy of the
// repository layout it needs (scripts/ and bin/m9m) in dir, until healthy.
func devRun(t *testing.T, dir string, env []string) *binServer {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(repoRoot(t), "scripts", "dev-run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"scripts", "bin"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "scripts", "dev-run.sh"), script, 0o755); err != nil { //nolint:gosec // an executable script
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin", "m9m")
	if _, err := os.Lstat(bin); err != nil {
		if err := os.Symlink(m9mBinary(t), bin); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	cmd := exec.Command("bash", filepath.Join(dir, "scripts", "dev-run.sh"))
	cmd.Env = append(env, "M9M_SERVER_HOST=127.0.0.1", fmt.Sprintf("M9M_SERVER_PORT=%d", port))
	return launch(t, cmd, port)
}

// TestMakeRunShowsOnlyAPasswordInEffect: on a fresh database `make run`
// creates the development admin, shows its password (which logs in) and
// configures a webhook encryption key (hmac webhooks can be created). With
// .dev/ removed against the same database, it shows no password at all,
// says the admin exists and how to get one, and the new password it
// generated indeed does not log in.
func TestMakeRunShowsOnlyAPasswordInEffect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := binEnv(
		"M9M_DATABASE_URL="+testenv.PrivateDatabaseURL(t),
		"M9M_REDIS_URL="+testenv.RedisURL(),
		"M9M_REDIS_KEY_PREFIX="+testenv.RedisPrefix(),
		"M9M_SECURITY_PASSWORD_HASH_MEMORY_KIB=64",
		"M9M_SECURITY_PASSWORD_HASH_ITERATIONS=1",
	)
	readDev := func(name string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, ".dev", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	login := func(s *binServer, password string) (int, string) {
		var out struct {
			Token string `json:"token"`
		}
		st := s.call(t, http.MethodPost, "/api/v1/auth/login", nil, map[string]string{"username": "admin", "password": password}, &out)
		return st, out.Token
	}

	s := devRun(t, dir, env)
	first := readDev("admin_password")
	out := s.logs()
	m := regexp.MustCompile(`development admin created: username 'admin', password '([^']+)'`).FindStringSubmatch(out)
	if m == nil || m[1] != first {
		t.Fatalf("first make run did not show the password of .dev/admin_password; output:\n%s", out)
	}
	st, token := login(s, first)
	want(t, "login with the password shown", st, http.StatusOK)
	if key := readDev("webhook_encryption_key"); len(key) < config.MinWebhookKeyBytes {
		t.Fatalf("generated webhook key is %d bytes", len(key))
	}
	hook := map[string]any{"name": "dev", "active": true, "webhook": map[string]any{
		"path": "dev-hmac", "auth": map[string]any{"type": "hmac", "secret": "whsec-dev-run-0123456789"},
	}}
	want(t, "create an hmac webhook under make run", s.call(t, http.MethodPost, "/api/v1/workflows", bearer(token), hook, nil), http.StatusCreated)
	s.stop(t)

	if err := os.RemoveAll(filepath.Join(dir, ".dev")); err != nil {
		t.Fatal(err)
	}
	s = devRun(t, dir, env)
	second := readDev("admin_password")
	out = s.logs()
	if strings.Contains(out, second) || strings.Contains(out, first) || strings.Contains(out, "password '") {
		t.Fatalf("second make run showed a password; output:\n%s", out)
	}
	for _, wantText := range []string{"development admin 'admin' already exists", "bin/m9m user create --username NAME --role admin"} {
		if !strings.Contains(out, wantText) {
			t.Fatalf("second make run does not say %q; output:\n%s", wantText, out)
		}
	}
	st, _ = login(s, second)
	want(t, "login with the newly generated password", st, http.StatusUnauthorized)
	st, _ = login(s, first)
	want(t, "login with the password in effect", st, http.StatusOK)
	s.stop(t)
}

// TestBootstrapAdminSaysWhenItIsNotInEffect: the server logs that it
// created the bootstrap admin on an empty database; on one with users it
// logs that the configured password is not in effect, never the password.
func TestBootstrapAdminSaysWhenItIsNotInEffect(t *testing.T) {
	t.Parallel()
	dbURL := testenv.PrivateDatabaseURL(t)
	onPrivate := harness.WithConfig(func(c *config.Config) { c.Database.URL = dbURL })
	a := harness.Start(t, onPrivate)
	if !strings.Contains(a.Logs(), "bootstrap admin created") || strings.Contains(a.Logs(), "bootstrap admin not created") {
		t.Fatalf("first instance on an empty database; logs:\n%s", a.Logs())
	}
	const other = "other-bootstrap-password-123"
	b := harness.Start(t, onPrivate, harness.WithConfig(func(c *config.Config) {
		c.Security.BootstrapAdmin.Username, c.Security.BootstrapAdmin.Password = "second-admin", other
	}))
	logs := b.Logs()
	if !strings.Contains(logs, "bootstrap admin not created") || !strings.Contains(logs, "not in effect") ||
		!strings.Contains(logs, "m9m user create") || strings.Contains(logs, other) {
		t.Fatalf("instance on a database with users; logs:\n%s", logs)
	}
	if r := b.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/auth/login",
		Body: map[string]string{"username": "second-admin", "password": other},
	}); r.Status != http.StatusUnauthorized {
		t.Fatalf("the password said not to be in effect logs in: %d", r.Status)
	}
}
