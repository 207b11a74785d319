package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"

	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// createdUserID returns the id `m9m user create` printed on its "id:" line.
func createdUserID(t *testing.T, out string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^id:\s+([0-9a-f]{32})$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("user create output %q has no id: line", out)
	}
	return m[1]
}

// wantExit fails unless err is a non-zero exit of the binary.
func wantExit(t *testing.T, args []string, out string, err error) {
	t.Helper()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() == 0 {
		t.Fatalf("%v: %v, want a non-zero exit; output %q", args, err, out)
	}
}

func TestCLIUnknownSubcommandsFail(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args    []string
		suggest string
	}{
		{[]string{"migrate", "upp"}, "up"},
		{[]string{"user", "crate"}, "create"},
		{[]string{"config", "valdate"}, "validate"},
		{[]string{"migrate", "sideways"}, ""},
		{[]string{"bogus"}, ""},
	} {
		out, err := runM9M(t, binEnv(), c.args...)
		wantExit(t, c.args, out, err)
		if !strings.Contains(out, fmt.Sprintf("unknown command %q", c.args[len(c.args)-1])) {
			t.Errorf("%v: output does not name the unknown command: %q", c.args, out)
		}
		if c.suggest != "" && !strings.Contains(out, "Did you mean this?\n\t"+c.suggest) {
			t.Errorf("%v: no suggestion of %q: %q", c.args, c.suggest, out)
		}
	}
	// A bare group still prints its help.
	if out, err := runM9M(t, binEnv(), "migrate"); err != nil || !strings.Contains(out, "Available Commands") {
		t.Errorf("m9m migrate: %v %q", err, out)
	}
}

func TestCLIVersionFlag(t *testing.T) {
	t.Parallel()
	flag, err := runM9M(t, binEnv(), "--version")
	if err != nil {
		t.Fatalf("--version: %v %q", err, flag)
	}
	cmd, err := runM9M(t, binEnv(), "version")
	if err != nil || flag != cmd || !strings.HasPrefix(flag, "m9m ") {
		t.Fatalf("--version %q, version %q (%v): want the same line", flag, cmd, err)
	}
}

// freshDatabase creates an empty database (no migrations) for one test, named
// so that testenv drops it if this process dies before the cleanup.
func freshDatabase(t *testing.T, tag string) string {
	t.Helper()
	testenv.DatabaseURL(t) // the package database: proves the server is reachable
	admin, err := sqlx.Open("postgres", testenv.ServerDatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	name := fmt.Sprintf("m9m_t_%s_%d_%06x", tag, syscall.Getpid(), time.Now().UnixNano()&0xffffff)
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, err := url.Parse(testenv.ServerDatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

var appliedN = regexp.MustCompile(`applied (\d+) (pending )?migration\(s\)`)

// TestDatabaseCommandsNeedNoJWTSecret: migrate and user create validate the
// sections they use only, and say what they did to the schema.
func TestDatabaseCommandsNeedNoJWTSecret(t *testing.T) {
	t.Parallel()
	env := binEnv("M9M_DATABASE_URL="+freshDatabase(t, "climigrate"), "M9M_SECURITY_CORS_ENABLED=true")
	out, err := runM9M(t, env, "migrate", "up")
	if err != nil {
		t.Fatalf("migrate up without a JWT secret: %v %s", err, out)
	}
	if m := appliedN.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Fatalf("migrate up on an empty database: %q, want how many it applied", out)
	}
	if out, err = runM9M(t, env, "migrate", "up"); err != nil || !strings.Contains(out, "nothing to migrate") {
		t.Fatalf("second migrate up: %v %q, want it to say nothing was pending", err, out)
	}
	if out, err = runM9M(t, env, "migrate", "status"); err != nil || !strings.Contains(out, "00001_users.sql") {
		t.Fatalf("migrate status without a JWT secret: %v %q", err, out)
	}
	// Serve needs the secret, and says so with every other problem.
	out, err = runM9M(t, env, "config", "validate")
	wantExit(t, []string{"config", "validate"}, out, err)
	if !strings.Contains(out, "security.jwt.secret") || !strings.Contains(out, "security.cors.allowed_origins") {
		t.Errorf("config validate: %q", out)
	}

	// user create on another empty database migrates it first, and says so.
	env = binEnv("M9M_DATABASE_URL=" + freshDatabase(t, "cliuser"))
	name := fmt.Sprintf("Carol-%d", time.Now().UnixNano()%1_000_000)
	out, err = runM9M(t, env, "user", "create", "--username", name, "--password", "carol's long passphrase", "--role", "viewer")
	if err != nil {
		t.Fatalf("user create without a JWT secret: %v %s", err, out)
	}
	if m := appliedN.FindStringSubmatch(out); m == nil || m[1] == "0" {
		t.Errorf("user create on an empty database does not say it migrated: %q", out)
	}
	lower := strings.ToLower(name)
	if !strings.Contains(out, fmt.Sprintf("username %q was normalised to %q", name, lower)) {
		t.Errorf("normalisation not said: %q", out)
	}
	for _, want := range []string{"created user", "username: " + lower, "role:     viewer"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %q", want, out)
		}
	}
	createdUserID(t, out)
	if strings.Contains(out, "passphrase") {
		t.Errorf("output shows the password: %q", out)
	}
}

// TestMissingDatabaseSaidOnce: a database that does not exist is named as
// such, once, with how to create it, by every command that needs it.
func TestMissingDatabaseSaidOnce(t *testing.T) {
	t.Parallel()
	u, err := url.Parse(testenv.ServerDatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/m9m_no_such_db_" + strconv.Itoa(syscall.Getpid())
	env := binEnv("M9M_DATABASE_URL="+u.String(), "M9M_SECURITY_JWT_SECRET="+goodSecret,
		"M9M_SERVER_HOST=127.0.0.1", fmt.Sprintf("M9M_SERVER_PORT=%d", freePort(t)),
		"M9M_REDIS_URL="+testenv.RedisURL(), "M9M_REDIS_KEY_PREFIX="+testenv.RedisPrefix())
	for _, args := range [][]string{
		{"migrate", "up"},
		{"migrate", "status"},
		{"user", "create", "--username", "dave", "--password", "dave's long passphrase", "--role", "viewer"},
		{"serve"},
	} {
		out, err := runM9M(t, env, args...)
		wantExit(t, args, out, err)
		if n := strings.Count(out, "does not exist"); n != 1 {
			t.Errorf("%v: %q says 'does not exist' %d times, want once", args, out, n)
		}
		if !strings.Contains(out, "CREATE DATABASE "+strings.TrimPrefix(u.Path, "/")) || strings.Contains(out, "unreachable") {
			t.Errorf("%v: %q, want the missing database named with how to create it", args, out)
		}
	}
}

func TestConfigProblemsReportedAtOnce(t *testing.T) {
	t.Parallel()
	out, err := runM9M(t, binEnv("M9M_SECURITY_JWT_LEEWAY=30", "M9M_SERVER_PORT=0", "M9M_LOG_FORMAT=xml"), "config", "validate")
	wantExit(t, []string{"config", "validate"}, out, err)
	for _, key := range []string{"security.jwt.leeway", "server.port", "log.format", "security.jwt.secret"} {
		if !strings.Contains(out, key+": ") {
			t.Errorf("output does not name %s: %q", key, out)
		}
	}
}

// kubeServiceLinks is what Kubernetes injects into every pod of a namespace
// with a Service named m9m.
var kubeServiceLinks = []string{
	"M9M_SERVICE_HOST=10.96.0.20", "M9M_SERVICE_PORT=8080", "M9M_SERVICE_PORT_HTTP=8080",
	"M9M_PORT=tcp://10.96.0.20:8080", "M9M_PORT_8080_TCP=tcp://10.96.0.20:8080",
	"M9M_PORT_8080_TCP_PROTO=tcp", "M9M_PORT_8080_TCP_PORT=8080", "M9M_PORT_8080_TCP_ADDR=10.96.0.20",
}

// TestServeOperatorLines runs the binary as a Kubernetes pod would see it:
// the service-link variables are ignored with one debug line; start-up says
// version, mode, address and auth methods in one line; `m9m healthcheck`
// with the same environment probes readiness; HEAD /health answers without
// a body; shutdown ends with a line saying how many requests it drained.
func TestServeOperatorLines(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	env := serveEnv(t, port, append([]string{"M9M_LOG_LEVEL=debug"}, kubeServiceLinks...)...)

	// Any other unknown M9M_* is still refused.
	out, err := runM9M(t, append(env, "M9M_SERVICE_HOSTNAME=x"), "config", "validate")
	wantExit(t, []string{"config", "validate"}, out, err)
	if !strings.Contains(out, "M9M_SERVICE_HOSTNAME") || strings.Contains(out, "M9M_PORT_8080_TCP") {
		t.Errorf("config validate: %q", out)
	}

	cmd := exec.Command(m9mBinary(t), "serve")
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 10 * time.Second}
	waitHealthy(t, client, base, &logs)

	if out, err := runM9M(t, env, "healthcheck"); err != nil || !strings.Contains(out, "ready") {
		t.Errorf("healthcheck against the running server: %v %q", err, out)
	}
	other := append(env, fmt.Sprintf("M9M_SERVER_PORT=%d", freePort(t)))
	out, err = runM9M(t, other, "healthcheck")
	wantExit(t, []string{"healthcheck", "(nothing listening)"}, out, err)

	for _, path := range []string{"/health", "/ready"} {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodHead, base+path, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %d", path, resp.StatusCode)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve: %v\n%s", err, logs.String())
	}
	lines := jsonLines(t, logs.String())
	ignored := lines.with("msg", "ignoring Kubernetes service-link variables (not config keys)")
	if len(ignored) != 1 || ignored[0]["level"] != "debug" || len(ignored[0]["names"].([]any)) != len(kubeServiceLinks) {
		t.Errorf("service-link lines %v, want one debug line naming all %d", ignored, len(kubeServiceLinks))
	}
	started := lines.with("msg", "m9m started")
	if len(started) != 1 {
		t.Fatalf("%d start-up lines, want 1:\n%s", len(started), logs.String())
	}
	st := started[0]
	wantMode := "postgres+redis"
	if harness.Embedded() {
		wantMode = "embedded"
	}
	if !strings.HasPrefix(st["version"].(string), "dev") || st["mode"] != wantMode ||
		st["listen"] != fmt.Sprintf("127.0.0.1:%d", port) || fmt.Sprint(st["auth_methods"]) != "[jwt api_key]" {
		t.Errorf("start-up line %v", st)
	}
	stopped := lines.with("msg", "m9m stopped")
	if len(stopped) != 1 || stopped[0]["drained_requests"] == nil {
		t.Errorf("shutdown lines %v, want one with drained_requests", stopped)
	}
	if strings.Contains(logs.String(), goodSecret) {
		t.Error("serve logged the JWT secret")
	}
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.HasPrefix(l, "{") {
			t.Errorf("a log line is not JSON: %q", l)
		}
	}
}

type logLines []map[string]any

func jsonLines(t *testing.T, s string) logLines {
	t.Helper()
	var out logLines
	for _, l := range strings.Split(s, "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

func (ls logLines) with(key, value string) logLines {
	var out logLines
	for _, l := range ls {
		if l[key] == value {
			out = append(out, l)
		}
	}
	return out
}

// TestHealthcheckFollowsTLS: with server.tls on, `m9m healthcheck` probes
// HTTPS on the configured port and accepts only the configured certificate.
func TestHealthcheckFollowsTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	testenv.WriteCertPair(t, certFile, keyFile, 2001)
	port := freePort(t)
	harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Server.Port = port
		c.Server.TLS = config.TLSConfig{Enabled: true, CertFile: certFile, KeyFile: keyFile, MinVersion: "1.2"}
	}))
	env := binEnv(fmt.Sprintf("M9M_SERVER_PORT=%d", port), "M9M_SERVER_TLS_ENABLED=true",
		"M9M_SERVER_TLS_CERT_FILE="+certFile, "M9M_SERVER_TLS_KEY_FILE="+keyFile)
	if out, err := runM9M(t, env, "healthcheck"); err != nil || !strings.Contains(out, "ready") {
		t.Fatalf("healthcheck over TLS: %v %q", err, out)
	}
	// Plain HTTP to a TLS port fails.
	out, err := runM9M(t, binEnv(fmt.Sprintf("M9M_SERVER_PORT=%d", port)), "healthcheck")
	wantExit(t, []string{"healthcheck", "(plain HTTP)"}, out, err)
	// Another certificate than the served one fails.
	otherCert, otherKey := filepath.Join(dir, "other.crt"), filepath.Join(dir, "other.key")
	testenv.WriteCertPair(t, otherCert, otherKey, 2002)
	env = binEnv(fmt.Sprintf("M9M_SERVER_PORT=%d", port), "M9M_SERVER_TLS_ENABLED=true",
		"M9M_SERVER_TLS_CERT_FILE="+otherCert, "M9M_SERVER_TLS_KEY_FILE="+otherKey)
	out, err = runM9M(t, env, "healthcheck")
	wantExit(t, []string{"healthcheck", "(other certificate)"}, out, err)
	if !strings.Contains(out, "not the one in server.tls.cert_file") {
		t.Errorf("healthcheck with another certificate: %q", out)
	}
}

// TestBootstrapPasswordOnlyForFirstStart: on an empty database the start
// fails, naming the key, until the bootstrap password is set; once the
// admin exists, instances start without it.
func TestBootstrapPasswordOnlyForFirstStart(t *testing.T) {
	t.Parallel()
	dbURL := privateDatabaseURL(t) // an empty database of the run's mode
	cfg := harness.TestConfig(t)
	cfg.Database.URL = dbURL
	cfg.Security.BootstrapAdmin.Password = ""
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fxApp := fx.New(app.Options(cfg), fx.NopLogger)
	err := fxApp.Start(ctx)
	if err == nil {
		_ = fxApp.Stop(ctx)
		t.Fatal("started on an empty database without a bootstrap password")
	}
	if !strings.Contains(err.Error(), "security.bootstrap_admin.password is required while no user exists") {
		t.Fatalf("start error %v, want it to name the missing password", err)
	}

	first := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Database.URL = dbURL }))
	password := first.AdminPassword()
	first.Stop(t)
	later := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Database.URL = dbURL
		c.Security.BootstrapAdmin.Password = ""
	}))
	later.Login(t, harness.AdminUsername, password)
}
