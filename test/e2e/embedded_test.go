package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/test/harness"
)

// The tests of this file run the real binary in the embedded mode (one
// SQLite file, no service) whatever TEST_MODE says; they run once, in the
// embedded pass.

// embeddedProc is one `m9m serve` process on an SQLite file.
type embeddedProc struct {
	cmd  *exec.Cmd
	base string
	logs *bytes.Buffer
	http *http.Client
}

const embeddedAdminPassword = "embedded-admin-password-1"

func embeddedEnv(t *testing.T, file string, port int, extra ...string) []string {
	t.Helper()
	return binEnv(append([]string{
		"M9M_DATABASE_URL=sqlite:" + file,
		"M9M_SECURITY_JWT_SECRET=" + goodSecret,
		"M9M_SERVER_HOST=127.0.0.1",
		fmt.Sprintf("M9M_SERVER_PORT=%d", port),
		"M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME=admin",
		"M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD=" + embeddedAdminPassword,
		"M9M_SECURITY_PASSWORD_HASH_MEMORY_KIB=64",
		"M9M_SECURITY_PASSWORD_HASH_ITERATIONS=1",
		"M9M_SECURITY_API_KEYS_MAX_PER_USER=10000",
		"M9M_AUDIT_FLUSH_INTERVAL=50ms",
	}, extra...)...)
}

func startEmbedded(t *testing.T, env []string) *embeddedProc {
	t.Helper()
	p := &embeddedProc{logs: &bytes.Buffer{}, http: &http.Client{Timeout: 20 * time.Second}}
	p.cmd = exec.Command(m9mBinary(t), "serve")
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "M9M_SERVER_PORT="); ok {
			p.base = "http://127.0.0.1:" + v
		}
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	waitHealthy(t, p.http, p.base, p.logs)
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *embeddedProc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("serve exited with %v after SIGTERM; logs:\n%s", err, p.logs)
	}
}

func (p *embeddedProc) do(t *testing.T, method, path, bearer, apiKey string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if apiKey != "" {
		req.Header.Set("X-API-Key", apiKey)
	}
	resp, err := p.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

func (p *embeddedProc) login(t *testing.T, user, pw string) string {
	t.Helper()
	st, m := p.do(t, http.MethodPost, "/api/v1/auth/login", "", "", map[string]string{"username": user, "password": pw})
	if st != http.StatusOK {
		t.Fatalf("login %s: %d %v", user, st, m)
	}
	return m["token"].(string)
}

func mustStatus(t *testing.T, what string, got, want int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: %d %v, want %d", what, got, body, want)
	}
}

// TestEmbeddedRestartKeepsEverything: users, API keys, revocations, refresh
// claims and the audit trail written by one `m9m serve` on an SQLite file
// are all there for the next one; a second process on the file while the
// first runs is refused with a message naming the file.
func TestEmbeddedRestartKeepsEverything(t *testing.T) {
	t.Parallel()
	harness.EmbeddedOnly(t)
	file := filepath.Join(t.TempDir(), "data", "m9m.db")
	env := embeddedEnv(t, file, freePort(t))
	a := startEmbedded(t, env)

	admin := a.login(t, "admin", embeddedAdminPassword)
	st, u := a.do(t, http.MethodPost, "/api/v1/users", admin, "", map[string]string{"username": "bob", "password": "bob-password-123", "role": "editor"})
	mustStatus(t, "create bob", st, http.StatusCreated, u)
	st, key := a.do(t, http.MethodPost, "/api/v1/api-keys", admin, "", map[string]string{"name": "survives"})
	mustStatus(t, "create key", st, http.StatusCreated, key)
	revokedKeyStatus, revokedKey := a.do(t, http.MethodPost, "/api/v1/api-keys", admin, "", map[string]string{"name": "revoked"})
	mustStatus(t, "create key 2", revokedKeyStatus, http.StatusCreated, revokedKey)
	st, m := a.do(t, http.MethodDelete, "/api/v1/api-keys/"+revokedKey["id"].(string), admin, "", nil)
	mustStatus(t, "revoke key 2", st, http.StatusNoContent, m)
	loggedOut := a.login(t, "bob", "bob-password-123")
	st, m = a.do(t, http.MethodPost, "/api/v1/auth/logout", loggedOut, "", nil)
	mustStatus(t, "logout", st, http.StatusNoContent, m)
	refreshed := a.login(t, "bob", "bob-password-123")
	st, m = a.do(t, http.MethodPost, "/api/v1/auth/refresh", refreshed, "", nil)
	mustStatus(t, "refresh", st, http.StatusOK, m)
	successor := m["token"].(string)

	// A second process on the same file is refused, naming it.
	out, err := runM9M(t, embeddedEnv(t, file, freePort(t)), "serve")
	if err == nil || !strings.Contains(out, file) {
		t.Fatalf("a second serve on %s: %v\n%s\nwant a non-zero exit naming the file", file, err, out)
	}
	time.Sleep(200 * time.Millisecond) // let the audit writer flush (50ms)
	a.stop(t)

	b := startEmbedded(t, env)
	st, m = b.do(t, http.MethodGet, "/api/v1/auth/me", "", key["key"].(string), nil)
	mustStatus(t, "the API key after a restart", st, http.StatusOK, m)
	st, m = b.do(t, http.MethodGet, "/api/v1/auth/me", "", revokedKey["key"].(string), nil)
	mustStatus(t, "a revoked API key after a restart", st, http.StatusUnauthorized, m)
	st, m = b.do(t, http.MethodGet, "/api/v1/auth/me", loggedOut, "", nil)
	mustStatus(t, "a logged-out token after a restart", st, http.StatusUnauthorized, m)
	st, m = b.do(t, http.MethodGet, "/api/v1/auth/me", refreshed, "", nil)
	mustStatus(t, "a refreshed (replaced) token after a restart", st, http.StatusUnauthorized, m)
	st, m = b.do(t, http.MethodGet, "/api/v1/auth/me", successor, "", nil)
	mustStatus(t, "the successor after a restart", st, http.StatusOK, m)
	st, m = b.do(t, http.MethodGet, "/api/v1/auth/me", admin, "", nil)
	mustStatus(t, "a live token after a restart", st, http.StatusOK, m)
	b.login(t, "bob", "bob-password-123") // the user survived
	st, m = b.do(t, http.MethodGet, "/api/v1/audit-events?action=auth.logout", admin, "", nil)
	mustStatus(t, "audit after a restart", st, http.StatusOK, m)
	if data, _ := m["data"].([]any); len(data) == 0 {
		t.Fatalf("the logout recorded before the restart is not in the audit log: %v", m)
	}
	b.stop(t)
}

// TestEmbeddedCrashLosesNothingAcknowledged kills the server (SIGKILL)
// during a burst of API key creations: the file opens cleanly afterwards
// (integrity_check ok) and every key whose 201 was received works.
func TestEmbeddedCrashLosesNothingAcknowledged(t *testing.T) {
	t.Parallel()
	harness.EmbeddedOnly(t)
	file := filepath.Join(t.TempDir(), "m9m.db")
	env := embeddedEnv(t, file, freePort(t))
	a := startEmbedded(t, env)
	admin := a.login(t, "admin", embeddedAdminPassword)

	var mu sync.Mutex
	var acked []string
	var stop atomic.Bool
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				body := strings.NewReader(fmt.Sprintf(`{"name":"crash-%d-%d"}`, w, i))
				req, _ := http.NewRequest(http.MethodPost, a.base+"/api/v1/api-keys", body)
				req.Header.Set("Authorization", "Bearer "+admin)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					return // the server died
				}
				raw, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					var k struct{ Key string }
					_ = json.Unmarshal(raw, &k)
					mu.Lock()
					acked = append(acked, k.Key)
					mu.Unlock()
				}
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 150 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	stop.Store(true)
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d keys acknowledged before the kill: the burst proves little", len(acked))
	}

	db, err := sqlx.Open("sqlite", file)
	if err != nil {
		t.Fatal(err)
	}
	var check string
	if err := db.Get(&check, `PRAGMA integrity_check`); err != nil || check != "ok" {
		t.Fatalf("integrity_check after SIGKILL = %q, %v", check, err)
	}
	_ = db.Close()

	b := startEmbedded(t, env)
	for i, k := range acked {
		if st, m := b.do(t, http.MethodGet, "/api/v1/auth/me", "", k, nil); st != http.StatusOK {
			t.Fatalf("acknowledged key %d of %d does not work after the crash: %d %v", i+1, len(acked), st, m)
		}
	}
	t.Logf("%d acknowledged keys, all present after SIGKILL", len(acked))
	b.stop(t)
}

// TestEmbeddedProcessOpensNoTCPConnection drives logins, keys, JWT and
// API-key requests with rate limiting on, then lists the process's own
// sockets (its fds against /proc/net/{tcp,tcp6,udp,udp6}): every TCP socket
// is the listener or a connection accepted on its port, and there is no
// UDP socket (no DNS) — nothing leaves the process.
func TestEmbeddedProcessOpensNoTCPConnection(t *testing.T) {
	t.Parallel()
	harness.EmbeddedOnly(t)
	port := freePort(t)
	p := startEmbedded(t, embeddedEnv(t, filepath.Join(t.TempDir(), "m9m.db"), port,
		"M9M_PERFORMANCE_RATE_LIMIT_ENABLED=true", "M9M_PERFORMANCE_RATE_LIMIT_BURST=1000"))
	admin := p.login(t, "admin", embeddedAdminPassword)
	_, key := p.do(t, http.MethodPost, "/api/v1/api-keys", admin, "", map[string]string{"name": "k"})
	for range 20 {
		p.do(t, http.MethodGet, "/api/v1/auth/me", admin, "", nil)
		p.do(t, http.MethodGet, "/api/v1/auth/me", "", key["key"].(string), nil)
	}
	p.do(t, http.MethodPost, "/api/v1/auth/refresh", admin, "", nil)
	p.do(t, http.MethodGet, "/ready", "", "", nil)

	pid := p.cmd.Process.Pid
	inodes := socketInodes(t, pid)
	if len(inodes) == 0 {
		t.Fatal("the process has no socket at all: the listener should be one")
	}
	listener := false
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		for _, s := range procNet(t, pid, proto) {
			if !inodes[s.inode] {
				continue
			}
			if strings.HasPrefix(proto, "udp") {
				t.Errorf("the embedded process holds a UDP socket %+v", s)
				continue
			}
			if s.localPort != port {
				t.Errorf("the embedded process holds a TCP socket not on its listening port %d: %+v (an outbound connection)", port, s)
			}
			if s.state == "0A" {
				listener = true
			}
		}
	}
	if !listener {
		t.Fatal("found no listening socket of the process: the check is looking in the wrong place")
	}
	p.stop(t)
}

type procSocket struct {
	localPort int
	remote    string
	state     string
	inode     string
}

// socketInodes returns the inodes of the sockets among pid's open files.
func socketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	fds, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(dir, fd.Name()))
		if err != nil {
			continue
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			out[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return out
}

// procNet parses /proc/<pid>/net/<proto>.
func procNet(t *testing.T, pid int, proto string) []procSocket {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, proto))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []procSocket
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		_, portHex, _ := strings.Cut(fields[1], ":")
		lp, _ := strconv.ParseInt(portHex, 16, 32)
		out = append(out, procSocket{localPort: int(lp), remote: fields[2], state: fields[3], inode: fields[9]})
	}
	return out
}
