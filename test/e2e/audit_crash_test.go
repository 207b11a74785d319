package e2e_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/test/testenv"
)

// Helpers of the crash test are prefixed "crash".

// crashChange is an acknowledged change and the one event it must leave.
type crashChange struct {
	action, actor, targetType, target string
}

// crashServer is one m9m serve process of the crash test.
type crashServer struct {
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	base   string
	client *http.Client
}

func crashStart(t *testing.T, env []string, port int) *crashServer {
	t.Helper()
	cmd := exec.Command(m9mBinary(t), "serve")
	cmd.Env = env
	logs := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, logs: logs, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 20 * time.Second}}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitHealthy(t, s.client, s.base, logs)
	return s
}

// do sends a JSON request and returns the status and body.
func (s *crashServer) do(t *testing.T, method, path, token string, body any) (int, []byte) {
	t.Helper()
	headers := map[string]string{"User-Agent": "crash-test/1.0"}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	return sendJSON(t, s.client, method, s.base+path, headers, body)
}

// must sends a request that must answer want, and decodes the body into into.
func (s *crashServer) must(t *testing.T, want int, method, path, token string, body, into any) {
	t.Helper()
	status, out := s.do(t, method, path, token, body)
	if status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, status, out, want)
	}
	if into != nil {
		if err := json.Unmarshal(out, into); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, out, err)
		}
	}
}

// login returns a token and its session ID (the sid claim, read without
// verifying: the server made it).
func (s *crashServer) login(t *testing.T, name, password string) (token, sid string) {
	t.Helper()
	var body struct {
		Token string `json:"token"`
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": name, "password": password}, &body)
	return body.Token, crashSID(t, body.Token)
}

func crashSID(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a JWT", token)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.SID == "" {
		t.Fatalf("claims %s: %v", raw, err)
	}
	return c.SID
}

// TestAcknowledgedChangesSurviveSIGKILL (issue 16): the audit queue flushes
// once an hour here, so only events written with their change can survive.
// A burst of changes, each answered 2xx, then SIGKILL right after the last
// answer, then a restart: every change has exactly one event with its actor,
// target and outcome, and the changes that failed have none.
func TestAcknowledgedChangesSurviveSIGKILL(t *testing.T) {
	t.Parallel()
	port := testenv.FreePort(t)
	env := serveEnv(t, port,
		"M9M_PERFORMANCE_RATE_LIMIT_ENABLED=false",
		"M9M_AUDIT_FLUSH_INTERVAL=1h",
		"M9M_SECURITY_PASSWORD_HASH_MEMORY_KIB=64",
		"M9M_SECURITY_PASSWORD_HASH_ITERATIONS=1",
	)
	suffix := domain.NewID()[:10]
	adminName, pw := "crash-admin-"+suffix, "crash-test-password-1"
	out, err := runM9M(t, env, "user", "create", "--username", adminName, "--password", pw, "--role", "admin")
	if err != nil {
		t.Fatalf("user create: %v %s", err, out)
	}
	adminID := createdUserID(t, out)
	s := crashStart(t, env, port)

	var mu sync.Mutex
	var want []crashChange
	expect := func(c crashChange) { mu.Lock(); want = append(want, c); mu.Unlock() }

	admin, adminSID := s.login(t, adminName, pw)
	expect(crashChange{"auth.login", adminID, "session", adminSID})

	// A burst of user and key creations, 8 at a time.
	type created struct {
		ID string `json:"id"`
	}
	userIDs := make([]string, 16)
	var wg sync.WaitGroup
	for i := range userIDs {
		wg.Go(func() {
			var u created
			s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/users", admin,
				map[string]string{"username": fmt.Sprintf("crash-%s-%02d", suffix, i), "password": pw, "role": "editor"}, &u)
			userIDs[i] = u.ID
			expect(crashChange{"user.create", adminID, "user", u.ID})
		})
	}
	keyIDs := make([]string, 8)
	for i := range keyIDs {
		wg.Go(func() {
			var k created
			s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/api-keys", admin, map[string]any{"name": fmt.Sprintf("crash key %d", i)}, &k)
			keyIDs[i] = k.ID
			expect(crashChange{"api_key.create", adminID, "api_key", k.ID})
		})
	}
	wg.Wait()

	// A failed change: the username is taken (409), so no second user.create.
	taken := fmt.Sprintf("crash-%s-00", suffix)
	s.must(t, http.StatusConflict, http.MethodPost, "/api/v1/users", admin, map[string]string{"username": taken, "password": pw, "role": "viewer"}, nil)

	// Key rotate and revoke; rotating a revoked key fails (409) and leaves nothing.
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/api-keys/"+keyIDs[0]+"/rotate", admin, map[string]int{"graceSeconds": 0}, nil)
	expect(crashChange{"api_key.rotate", adminID, "api_key", keyIDs[0]})
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/api-keys/"+keyIDs[1], admin, nil, nil)
	expect(crashChange{"api_key.revoke", adminID, "api_key", keyIDs[1]})
	s.must(t, http.StatusConflict, http.MethodPost, "/api/v1/api-keys/"+keyIDs[1]+"/rotate", admin, map[string]int{"graceSeconds": 0}, nil)

	// User update and delete.
	s.must(t, http.StatusOK, http.MethodPatch, "/api/v1/users/"+userIDs[1], admin, map[string]string{"role": "viewer"}, nil)
	expect(crashChange{"user.update", adminID, "user", userIDs[1]})
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/users/"+userIDs[2], admin, nil, nil)
	expect(crashChange{"user.delete", adminID, "user", userIDs[2]})

	// A user's session life: login, refresh, password change, session end, logout.
	name0 := fmt.Sprintf("crash-%s-00", suffix)
	tok, sid := s.login(t, name0, pw)
	expect(crashChange{"auth.login", userIDs[0], "session", sid})
	var refreshed struct {
		Token string `json:"token"`
	}
	s.must(t, http.StatusOK, http.MethodPost, "/api/v1/auth/refresh", tok, nil, &refreshed)
	expect(crashChange{"auth.refresh", userIDs[0], "session", sid})
	tok = refreshed.Token
	other, otherSID := s.login(t, name0, pw)
	expect(crashChange{"auth.login", userIDs[0], "session", otherSID})
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/auth/sessions/"+otherSID, tok, nil, nil)
	expect(crashChange{"auth.session_end", userIDs[0], "session", otherSID})
	if status, _ := s.do(t, http.MethodGet, "/api/v1/auth/me", other, nil); status != http.StatusUnauthorized {
		t.Fatalf("token of an ended session: %d, want 401", status)
	}
	s.must(t, http.StatusNoContent, http.MethodPost, "/api/v1/auth/password", tok,
		map[string]string{"currentPassword": pw, "newPassword": pw + "-new"}, nil)
	expect(crashChange{"auth.password_change", userIDs[0], "user", userIDs[0]})

	// Workflows: create, update, delete; a taken webhook path fails (409).
	path := "crash/" + suffix
	var wf created
	s.must(t, http.StatusCreated, http.MethodPost, "/api/v1/workflows", tok,
		map[string]any{"name": "crash", "nodes": []any{}, "webhook": map[string]any{"path": path, "auth": map[string]string{"type": "none"}}}, &wf)
	expect(crashChange{"workflow.create", userIDs[0], "workflow", wf.ID})
	s.must(t, http.StatusConflict, http.MethodPost, "/api/v1/workflows", tok,
		map[string]any{"name": "clash", "nodes": []any{}, "webhook": map[string]any{"path": path, "auth": map[string]string{"type": "none"}}}, nil)
	s.must(t, http.StatusOK, http.MethodPut, "/api/v1/workflows/"+wf.ID, tok, map[string]any{"name": "crash renamed", "nodes": []any{}}, nil)
	expect(crashChange{"workflow.update", userIDs[0], "workflow", wf.ID})
	s.must(t, http.StatusNoContent, http.MethodDelete, "/api/v1/workflows/"+wf.ID, tok, nil, nil)
	expect(crashChange{"workflow.delete", userIDs[0], "workflow", wf.ID})

	s.must(t, http.StatusNoContent, http.MethodPost, "/api/v1/auth/logout", tok, nil, nil)
	expect(crashChange{"auth.logout", userIDs[0], "session", sid})

	// A failed login records no change: its event is only queued.
	if status, _ := s.do(t, http.MethodPost, "/api/v1/auth/login", "", map[string]string{"username": adminName, "password": "wrong-" + pw}); status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d, want 401", status)
	}

	// The crash, right after the last answer.
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()

	s = crashStart(t, env, port)
	reader, _ := s.login(t, adminName, pw)
	got := map[crashChange]int{}
	var names []string // usernames of the user.create events
	for _, actor := range []string{adminID, userIDs[0]} {
		for _, e := range crashEvents(t, s, reader, actor) {
			if e.Action == "auth.login" && e.Outcome == "failure" {
				// The queue was flushed before the kill, so this run cannot
				// tell events written with their change from queued ones.
				t.Fatal("the queued failed-login event survived the kill: the test did not exercise a crash")
			}
			if e.Outcome != "success" {
				continue
			}
			got[crashChange{e.Action, auditStr(e.ActorID), auditStr(e.TargetType), auditStr(e.TargetID)}]++
			if e.Action == "user.create" {
				names = append(names, e.Metadata["username"])
			}
			if e.Action == "api_key.rotate" && auditStr(e.TargetID) == keyIDs[1] {
				t.Errorf("the failed rotation of a revoked key left an event: %+v", e)
			}
			if e.Action == "workflow.create" && e.Metadata["name"] == "clash" {
				t.Errorf("the failed workflow create left an event: %+v", e)
			}
		}
	}
	for _, c := range want {
		if n := got[c]; n != 1 {
			t.Errorf("%s by %s on %s %s: %d events after SIGKILL, want exactly 1", c.action, c.actor, c.targetType, c.target, n)
		}
	}
	takenCount := 0
	for _, n := range names {
		if n == taken {
			takenCount++
		}
	}
	if takenCount != 1 {
		t.Errorf("user.create events for %s: %d, want 1 (the second create failed)", taken, takenCount)
	}
	t.Logf("%d acknowledged changes, SIGKILL, restart: all %d events present", len(want), len(want))
}

// crashEvents returns every event of actor, through the API.
func crashEvents(t *testing.T, s *crashServer, token, actor string) []auditEvent {
	t.Helper()
	q := url.Values{"actor": {actor}, "limit": {"200"}}
	var all []auditEvent
	for {
		var p auditPage
		s.must(t, http.StatusOK, http.MethodGet, auditPath+"?"+q.Encode(), token, nil, &p)
		all = append(all, p.Data...)
		if p.NextCursor == nil {
			return all
		}
		q.Set("cursor", *p.NextCursor)
	}
}
