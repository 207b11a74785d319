package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// m9mBinary builds cmd/m9m once per test run, as `make build` does.
func m9mBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "m9m-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "m9m")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/m9m/auth/cmd/m9m")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

const goodSecret = "0123456789abcdef0123456789abcdef-test-secret"

// binEnv is a clean environment: no M9M_* leaks in from the developer's shell.
func binEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	return append(env, extra...)
}

func runM9M(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	bin := m9mBinary(t) // built before the clock starts: a cold build is slow
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCLIVersion(t *testing.T) {
	t.Parallel()
	out, err := runM9M(t, binEnv(), "version")
	if err != nil || !strings.HasPrefix(out, "m9m ") {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestConfigValidateAndServeRefuseBadConfigs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, key string
	}{
		{"unknown key", "security:\n  jwt:\n    secret: " + goodSecret + "\n    secrte: x\n", "security.jwt.secrte"},
		{"short secret", "security:\n  jwt:\n    secret: too-short\n", "security.jwt.secret"},
		{"missing secret", "server:\n  port: 8080\n", "security.jwt.secret"},
		{"bad duration", "security:\n  jwt:\n    secret: " + goodSecret + "\n    expiration: forever\n", "security.jwt.expiration"},
		{"negative rate", "security:\n  jwt:\n    secret: " + goodSecret + "\nperformance:\n  rate_limit:\n    requests_per_minute: -5\n", "performance.rate_limit.requests_per_minute"},
		{"missing tls files", "security:\n  jwt:\n    secret: " + goodSecret + "\nserver:\n  tls:\n    enabled: true\n    cert_file: /nonexistent/cert.pem\n    key_file: /nonexistent/key.pem\n", "server.tls.cert_file"},
		{"wildcard cors with credentials", "security:\n  jwt:\n    secret: " + goodSecret + "\n  cors:\n    enabled: true\n    allowed_origins: [\"*\"]\n    allow_credentials: true\n", "security.cors.allowed_origins"},
		{"basic auth short password", "security:\n  jwt:\n    secret: " + goodSecret + "\n  basic_auth:\n    enabled: true\n    username: ops\n    password: short\n", "security.basic_auth.password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, tc.yaml)
			for _, args := range [][]string{{"config", "validate", "--config", path}, {"serve", "--config", path}} {
				out, err := runM9M(t, binEnv(), args...)
				var exit *exec.ExitError
				if !errors.As(err, &exit) || exit.ExitCode() == 0 {
					t.Fatalf("%v: exit %v, want non-zero; output %q", args, err, out)
				}
				if !strings.Contains(out, tc.key) {
					t.Errorf("%v: output does not name %s: %q", args, tc.key, out)
				}
				if strings.Contains(out, "too-short") || strings.Contains(out, goodSecret) {
					t.Errorf("%v: output leaks a secret: %q", args, out)
				}
			}
		})
	}
}

func TestConfigValidateAcceptsGoodConfigAndEnv(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, "server:\n  port: 9000\nsecurity:\n  jwt:\n    secret: "+goodSecret+"\n")
	if out, err := runM9M(t, binEnv(), "config", "validate", "--config", path); err != nil {
		t.Fatalf("good config refused: %v %s", err, out)
	}
	// No file at all: defaults plus the environment.
	if out, err := runM9M(t, binEnv("M9M_SECURITY_JWT_SECRET="+goodSecret, "M9M_SERVER_PORT=8099"), "config", "validate"); err != nil {
		t.Fatalf("env-only config refused: %v %s", err, out)
	}
	out, err := runM9M(t, binEnv("M9M_SECURITY_JWT_SECRET="+goodSecret, "M9M_SERVER_PORTT=1"), "config", "validate")
	if err == nil || !strings.Contains(out, "M9M_SERVER_PORTT") {
		t.Fatalf("unknown env var accepted: %v %q", err, out)
	}
}

func TestMigrateUpAndStatus(t *testing.T) {
	t.Parallel()
	env := binEnv(append(harness.StoreEnv(t), "M9M_SECURITY_JWT_SECRET="+goodSecret)...)
	if out, err := runM9M(t, env, "migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v %s", err, out)
	}
	out, err := runM9M(t, env, "migrate", "status")
	if err != nil || !strings.Contains(out, "00001_users.sql") || strings.Contains(out, "pending") {
		t.Fatalf("migrate status: %v %s", err, out)
	}
}

// freePort is testenv.FreePort, for the binary tests' listeners.
func freePort(t *testing.T) int { return testenv.FreePort(t) }

// serveEnv is the environment of `m9m serve` on 127.0.0.1:port with this
// test process's database and Redis prefix, plus extra.
func serveEnv(t *testing.T, port int, extra ...string) []string {
	t.Helper()
	return binEnv(append(append(harness.StoreEnv(t),
		"M9M_SECURITY_JWT_SECRET="+goodSecret,
		"M9M_SERVER_HOST=127.0.0.1",
		fmt.Sprintf("M9M_SERVER_PORT=%d", port),
	), extra...)...)
}

// TestServeDrainsOnSIGTERM: requests in flight when SIGTERM arrives finish
// with real answers, and the process exits 0.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	t.Parallel()
	port := testenv.FreePort(t)
	adminPassword := "drain-test-password-123"
	env := serveEnv(t, port,
		"M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME=drainadmin",
		"M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD="+adminPassword,
		"M9M_PERFORMANCE_RATE_LIMIT_ENABLED=false",
		// Every login below hashes (argon2id, default cost), so requests are
		// really in flight when SIGTERM lands; no throttle short-cuts them.
		"M9M_SECURITY_LOGIN_THROTTLE_ENABLED=false",
		// Hashes queue behind the concurrency cap; on a busy CI machine the
		// default queue timeout could answer 503 for reasons unrelated to drain.
		"M9M_SECURITY_PASSWORD_HASH_QUEUE_TIMEOUT=60s",
	)
	cmd := exec.Command(m9mBinary(t), "serve")
	cmd.Env = env
	var logs bytes.Buffer
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitHealthy(t, client, base, &logs)

	// 32 one-shot logins, each an argon2id hash at the default cost behind
	// a cap of NumCPU concurrent hashes: they take far longer than the
	// 300 ms before SIGTERM, so most are in flight (accepted, queued or
	// hashing) when it lands. Each must finish with its real answer. No new
	// requests are sent after SIGTERM: a connection still in the kernel's
	// accept backlog when the listener closes is reset by the kernel, which
	// no server can drain.
	const inFlight = 32
	statuses := make(chan int, inFlight)
	failures := make(chan error, inFlight)
	var sigtermAt atomic.Int64     // unix nanos, 0 until SIGTERM is sent
	var answeredAfter atomic.Int64 // answers received after SIGTERM
	var wg sync.WaitGroup
	for i := 0; i < inFlight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.NewReader(`{"username":"drainadmin","password":"wrong-password-x"}`)
			resp, err := client.Post(base+"/api/v1/auth/login", "application/json", body)
			if err != nil {
				failures <- err
				return
			}
			_ = resp.Body.Close()
			if at := sigtermAt.Load(); at != 0 && time.Now().UnixNano() > at {
				answeredAfter.Add(1)
			}
			statuses <- resp.StatusCode
		}()
	}
	time.Sleep(300 * time.Millisecond)
	sigtermAt.Store(time.Now().UnixNano())
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	wg.Wait()
	close(statuses)
	close(failures)
	if err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; logs:\n%s", err, logs.String())
	}
	for err := range failures {
		t.Errorf("a request in flight failed during drain: %v", err)
	}
	n := 0
	for st := range statuses {
		n++
		if st != http.StatusUnauthorized {
			t.Errorf("a request in flight answered %d during drain, want its real answer 401", st)
		}
	}
	if n != inFlight {
		t.Fatalf("%d of %d requests answered", n, inFlight)
	}
	if answeredAfter.Load() == 0 {
		t.Fatalf("every request finished before SIGTERM, so the drain was not exercised")
	}
	if _, err := client.Get(base + "/health"); err == nil {
		t.Fatalf("server still answering after exit")
	}
	if strings.Contains(logs.String(), adminPassword) || strings.Contains(logs.String(), goodSecret) {
		t.Fatalf("serve logged a secret")
	}
	// The last line says how many requests the drain waited for.
	stopped := jsonLines(t, logs.String()).with("msg", "m9m stopped")
	if len(stopped) != 1 {
		t.Fatalf("%d 'm9m stopped' lines, want 1", len(stopped))
	}
	if d, _ := stopped[0]["drained_requests"].(float64); d < 1 || d > inFlight {
		t.Fatalf("drained_requests = %v, want 1..%d (some requests were in flight at SIGTERM)", stopped[0]["drained_requests"], inFlight)
	}
}

// TestServeSIGTERMClosesSilentConnections: a connection that never sent a
// request (a client's parked spare) does not hold the process after SIGTERM
// for net/http's 5 s, let alone server.shutdown_timeout: the process exits 0
// about a second after the signal and the connection is closed.
func TestServeSIGTERMClosesSilentConnections(t *testing.T) {
	t.Parallel()
	port := testenv.FreePort(t)
	cmd := exec.Command(m9mBinary(t), "serve")
	cmd.Env = serveEnv(t, port, "M9M_SERVER_SHUTDOWN_TIMEOUT=30s")
	var logs bytes.Buffer
	cmd.Stdout = &logs
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	waitHealthy(t, client, base, &logs)

	var d net.Dialer
	silent, err := d.DialContext(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = silent.Close() }()
	time.Sleep(100 * time.Millisecond) // accepted by the server, nothing sent

	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; logs:\n%s", err, logs.String())
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("serve took %v to exit with one silent connection open, want about 1 s (shutdown_timeout is 30 s)", took)
	}
	_ = silent.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatalf("silent connection still open after exit")
	}
}

func waitHealthy(t *testing.T, client *http.Client, base string, logs *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(base + "/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server did not become healthy; logs:\n%s", logs.String())
}

// sendJSON sends body (nil for none) as JSON with headers to a server the
// test runs as a process, and returns the status and the whole answer.
func sendJSON(t *testing.T, client *http.Client, method, url string, headers map[string]string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd) // the client's timeout bounds it; usable in a Cleanup too
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, raw
}
