package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

type idUser struct {
	ID, Username, Role   string
	Disabled             bool
	CreatedAt, UpdatedAt string
}

func idUserReq(method, path, token string, body any) harness.Req {
	return harness.Req{Method: method, Path: path, Bearer: token, Body: body}
}

func TestUsersCRUD(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)

	r := s.Do(t, idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]string{"username": " New.User ", "password": "new user passphrase", "role": "editor"}))
	idWantStatus(t, r, http.StatusCreated, "")
	var u idUser
	r.JSON(t, &u)
	if u.Username != "new.user" || u.Role != "editor" || u.Disabled || u.ID == "" {
		t.Fatalf("created = %+v", u)
	}
	if r.Header.Get("Location") != "/api/v1/users/"+u.ID {
		t.Fatalf("Location = %q", r.Header.Get("Location"))
	}
	if _, err := time.Parse(time.RFC3339, u.CreatedAt); err != nil || !strings.HasSuffix(u.UpdatedAt, "Z") {
		t.Fatalf("times = %q %q", u.CreatedAt, u.UpdatedAt)
	}
	if strings.Contains(string(r.Body), "argon2") || strings.Contains(string(r.Body), "passphrase") {
		t.Fatalf("answer leaks the password or its hash: %s", r.Body)
	}

	r = s.Do(t, idUserReq(http.MethodGet, "/api/v1/users/"+u.ID, admin, nil))
	idWantStatus(t, r, http.StatusOK, "")
	var got idUser
	r.JSON(t, &got)
	if got != u {
		t.Fatalf("get = %+v, want %+v", got, u)
	}

	// Pagination (the package database is shared with other tests, so
	// other users may be listed too): every user exactly once, the
	// bootstrap admin first, the last page's cursor null.
	all := idAllUsers(t, s, admin, 2)
	if all[0].Username != "admin" {
		t.Fatalf("first user = %+v, want the bootstrap admin", all[0])
	}
	found := 0
	for _, x := range all {
		if x.ID == u.ID {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("new user listed %d times", found)
	}

	r = s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+u.ID, admin, map[string]any{"role": "viewer", "disabled": true}))
	idWantStatus(t, r, http.StatusOK, "")
	r.JSON(t, &got)
	if got.Role != "viewer" || !got.Disabled || got.CreatedAt != u.CreatedAt {
		t.Fatalf("patched = %+v", got)
	}
	idWantStatus(t, s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+u.ID, admin, map[string]any{"disabled": false, "password": "another passphrase"})), http.StatusOK, "")
	s.Login(t, "new.user", "another passphrase")

	idWantStatus(t, s.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+u.ID, admin, nil)), http.StatusNoContent, "")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodGet, "/api/v1/users/"+u.ID, admin, nil)), http.StatusNotFound, "NOT_FOUND")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+u.ID, admin, nil)), http.StatusNotFound, "NOT_FOUND")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+u.ID, admin, map[string]any{"role": "admin"})), http.StatusNotFound, "NOT_FOUND")
}

// idAllUsers walks GET /api/v1/users page by page and checks that no user
// appears twice and that only the last page has a null cursor.
func idAllUsers(t *testing.T, s *harness.Server, token string, limit int) []idUser {
	t.Helper()
	var all []idUser
	seen := map[string]bool{}
	cursor := ""
	for range 10000 {
		path := fmt.Sprintf("/api/v1/users?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := s.Do(t, idUserReq(http.MethodGet, path, token, nil))
		idWantStatus(t, r, http.StatusOK, "")
		var page struct {
			Data       []idUser
			NextCursor *string `json:"nextCursor"`
		}
		r.JSON(t, &page)
		if len(page.Data) > limit {
			t.Fatalf("page of %d users for limit %d", len(page.Data), limit)
		}
		for _, u := range page.Data {
			if seen[u.ID] {
				t.Fatalf("user %s listed twice", u.ID)
			}
			seen[u.ID] = true
			all = append(all, u)
		}
		if page.NextCursor == nil {
			if !strings.Contains(string(r.Body), `"nextCursor":null`) {
				t.Fatalf("last page without an explicit null cursor: %s", r.Body)
			}
			return all
		}
		cursor = *page.NextCursor
	}
	t.Fatal("pagination did not end")
	return nil
}

func TestUsersErrors(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	adminID := func() string {
		var m struct{ User struct{ ID string } }
		idMe(t, s, admin).JSON(t, &m)
		return m.User.ID
	}()
	targetID, _, _ := s.CreateUser(t, admin, "viewer")
	tests := []struct {
		name   string
		req    harness.Req
		status int
		code   string
		fields []string
	}{
		{"create: every field invalid", idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]string{"username": "no spaces", "password": "short", "role": "root"}), 400, "INVALID_REQUEST", []string{"username", "password", "role"}},
		{"create: empty object", idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]string{}), 400, "INVALID_REQUEST", []string{"username", "password", "role"}},
		{"create: common password", idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]string{"username": "someone", "password": "qwertyuiop", "role": "viewer"}), 400, "INVALID_REQUEST", []string{"password"}},
		{"create: wrong type", idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]any{"username": "someone", "password": "long enough pass", "role": 3}), 400, "INVALID_REQUEST", []string{"role"}},
		{"create: unknown field", idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]any{"username": "someone", "password": "long enough pass", "role": "viewer", "admin": true}), 400, "INVALID_REQUEST", []string{"admin"}},
		{"create: malformed JSON", idUserReq(http.MethodPost, "/api/v1/users", admin, `{"username":`), 400, "INVALID_REQUEST", []string{"body"}},
		{"create: taken, other case", idUserReq(http.MethodPost, "/api/v1/users", admin, map[string]string{"username": "ADMIN", "password": "long enough pass", "role": "viewer"}), 409, "CONFLICT", nil},
		{"list: bad limit", idUserReq(http.MethodGet, "/api/v1/users?limit=abc", admin, nil), 400, "INVALID_REQUEST", []string{"limit"}},
		{"list: limit too big", idUserReq(http.MethodGet, "/api/v1/users?limit=101", admin, nil), 400, "INVALID_REQUEST", []string{"limit"}},
		{"list: limit zero", idUserReq(http.MethodGet, "/api/v1/users?limit=0", admin, nil), 400, "INVALID_REQUEST", []string{"limit"}},
		{"list: bad cursor", idUserReq(http.MethodGet, "/api/v1/users?cursor=!!!", admin, nil), 400, "INVALID_REQUEST", []string{"cursor"}},
		{"get: unknown", idUserReq(http.MethodGet, "/api/v1/users/nope", admin, nil), 404, "NOT_FOUND", nil},
		{"patch: empty", idUserReq(http.MethodPatch, "/api/v1/users/"+targetID, admin, map[string]any{}), 400, "INVALID_REQUEST", []string{"body"}},
		{"patch: bad role and password", idUserReq(http.MethodPatch, "/api/v1/users/"+targetID, admin, map[string]any{"role": "owner", "password": "1234"}), 400, "INVALID_REQUEST", []string{"role", "password"}},
		{"patch: wrong type", idUserReq(http.MethodPatch, "/api/v1/users/"+targetID, admin, map[string]any{"disabled": "yes"}), 400, "INVALID_REQUEST", []string{"disabled"}},
		{"patch: username is not patchable", idUserReq(http.MethodPatch, "/api/v1/users/"+targetID, admin, map[string]any{"username": "renamed"}), 400, "INVALID_REQUEST", []string{"username"}},
		{"patch: demote self", idUserReq(http.MethodPatch, "/api/v1/users/"+adminID, admin, map[string]any{"role": "viewer"}), 409, "CONFLICT", nil},
		{"patch: disable self", idUserReq(http.MethodPatch, "/api/v1/users/"+adminID, admin, map[string]any{"disabled": true}), 409, "CONFLICT", nil},
		{"delete: self", idUserReq(http.MethodDelete, "/api/v1/users/"+adminID, admin, nil), 409, "CONFLICT", nil},
		{"no credentials", idUserReq(http.MethodGet, "/api/v1/users", "", nil), 401, "AUTH_REQUIRED", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Do(t, tt.req)
			idWantStatus(t, r, tt.status, tt.code)
			for _, f := range tt.fields {
				if !strings.Contains(string(r.Body), `"field":"`+f+`"`) {
					t.Errorf("body %s does not name %q", r.Body, f)
				}
			}
		})
	}
	idMe(t, s, admin) // the admin survived all of it
	idWantStatus(t, idMe(t, s, admin), http.StatusOK, "")
}

func TestUsersNeedUsersManage(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	targetID, _, _ := s.CreateUser(t, admin, "viewer")
	for _, role := range []string{"editor", "viewer"} {
		_, name, pw := s.CreateUser(t, admin, role)
		tok := s.Login(t, name, pw)
		for _, req := range []harness.Req{
			idUserReq(http.MethodPost, "/api/v1/users", tok, map[string]string{"username": "sneaky", "password": "long enough pass", "role": "admin"}),
			idUserReq(http.MethodGet, "/api/v1/users", tok, nil),
			idUserReq(http.MethodGet, "/api/v1/users/"+targetID, tok, nil),
			idUserReq(http.MethodPatch, "/api/v1/users/"+targetID, tok, map[string]any{"role": "admin"}),
			idUserReq(http.MethodDelete, "/api/v1/users/"+targetID, tok, nil),
		} {
			idWantStatus(t, s.Do(t, req), http.StatusForbidden, "ACCESS_DENIED")
		}
	}
	idWantStatus(t, s.Do(t, idUserReq(http.MethodGet, "/api/v1/users/"+targetID, admin, nil)), http.StatusOK, "")
}

func TestDisableDeleteAndRoleChangeCutTokensAtOnce(t *testing.T) {
	t.Parallel()
	a := harness.Start(t)
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)

	// Disable: tokens die on every instance, login is refused, the refresh too.
	id, name, pw := a.CreateUser(t, admin, "editor")
	tok := b.Login(t, name, pw)
	idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"disabled": true})), http.StatusOK, "")
	idWantStatus(t, idMe(t, b, tok), http.StatusUnauthorized, "AUTH_REQUIRED")
	r, _ := idRefresh(t, b, tok)
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, b.Do(t, idLoginReq(name, pw)), http.StatusUnauthorized, "INVALID_CREDENTIALS")

	// Delete.
	id, name, pw = a.CreateUser(t, admin, "viewer")
	tok = b.Login(t, name, pw)
	idWantStatus(t, a.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+id, admin, nil)), http.StatusNoContent, "")
	idWantStatus(t, idMe(t, b, tok), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, b.Do(t, idLoginReq(name, pw)), http.StatusUnauthorized, "INVALID_CREDENTIALS")

	// Role change: the old token (old role) dies; a new login has the new role.
	id, name, pw = a.CreateUser(t, admin, "viewer")
	tok = b.Login(t, name, pw)
	idWantStatus(t, b.Do(t, idUserReq(http.MethodGet, "/api/v1/users", tok, nil)), http.StatusForbidden, "ACCESS_DENIED")
	idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"role": "admin"})), http.StatusOK, "")
	idWantStatus(t, idMe(t, b, tok), http.StatusUnauthorized, "AUTH_REQUIRED")
	promoted := b.Login(t, name, pw)
	idWantStatus(t, b.Do(t, idUserReq(http.MethodGet, "/api/v1/users", promoted, nil)), http.StatusOK, "")
	// ...and back down: the admin token stops at once.
	idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"role": "viewer"})), http.StatusOK, "")
	idWantStatus(t, b.Do(t, idUserReq(http.MethodGet, "/api/v1/users", promoted, nil)), http.StatusUnauthorized, "AUTH_REQUIRED")
}

func TestReenabledUserLogsInAgain(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(time.Now().UTC())
	s := harness.Start(t, harness.WithClock(clock))
	admin := s.AdminToken(t)
	id, name, pw := s.CreateUser(t, admin, "viewer")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"disabled": true})), http.StatusOK, "")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"disabled": false})), http.StatusOK, "")
	clock.Advance(2 * time.Second) // the cut-off covers the second it was made in
	idWantStatus(t, idMe(t, s, s.Login(t, name, pw)), http.StatusOK, "")
}

func TestBootstrapAdminOnlyOnce(t *testing.T) {
	t.Parallel()
	a := harness.Start(t)
	admin := a.AdminToken(t)
	// A second instance with another bootstrap admin configured: users
	// exist, so nothing is created.
	b := harness.Start(t, harness.SharedWith(a), harness.WithConfig(func(c *config.Config) {
		c.Security.BootstrapAdmin.Username = "second-admin"
	}))
	idWantStatus(t, b.Do(t, idLoginReq("second-admin", a.AdminPassword())), http.StatusUnauthorized, "INVALID_CREDENTIALS")
	for _, u := range idAllUsers(t, a, admin, 100) {
		if u.Username == "second-admin" {
			t.Fatal("a second bootstrap admin was created while users existed")
		}
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, name, pw := s.CreateUser(t, admin, "editor")
	tok := s.Login(t, name, pw)
	r, next := idRefresh(t, s, tok)
	idWantStatus(t, r, http.StatusOK, "")
	const newPW = "rotated passphrase 9000"
	s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: next.Token, Body: map[string]string{"currentPassword": pw, "newPassword": newPW}})
	s.Do(t, idLoginReq(name, "a-wrong-password-attempt"))
	s.Do(t, idLoginReq("ghost-user", "ghost-password-attempt"))
	s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+func() string {
		id, _, _ := s.CreateUser(t, admin, "viewer")
		return id
	}(), admin, map[string]any{"password": "reset passphrase 77"}))
	s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: next.Token})

	secrets := []string{pw, newPW, "a-wrong-password-attempt", "ghost-password-attempt", "reset passphrase 77",
		s.AdminPassword(), s.Config.Security.JWT.Secret, admin, tok, next.Token}
	for _, tk := range []string{admin, tok, next.Token} {
		secrets = append(secrets, strings.Split(tk, ".")[2]) // signatures alone
	}
	if leaked := harness.ContainsAny(s.Logs(), secrets...); len(leaked) > 0 {
		t.Fatalf("secrets in the logs: %q", leaked)
	}
}

func TestCLIUserCreate(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	env := binEnv(
		"M9M_DATABASE_URL="+testenv.DatabaseURL(t),
		"M9M_SECURITY_JWT_SECRET="+goodSecret,
	)
	name := fmt.Sprintf("cli-user-%d", time.Now().UnixNano()%1_000_000)
	const pw = "cli created passphrase"
	started := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	out, err := runM9M(t, env, "user", "create", "--username", name, "--password", pw, "--role", "editor")
	if err != nil {
		t.Fatalf("user create: %v\n%s", err, out)
	}
	id := createdUserID(t, out)
	if strings.Contains(out, pw) {
		t.Fatalf("output = %q shows the password", out)
	}
	var m struct {
		User struct{ ID, Role string }
	}
	idMe(t, s, s.Login(t, name, pw)).JSON(t, &m)
	if m.User.ID != id || m.User.Role != "editor" {
		t.Fatalf("me = %+v", m)
	}
	// The creation is audited, with the command as actor.
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/audit-events?action=user.create&limit=200&from=" + started, Bearer: s.AdminToken(t)})
	idWantStatus(t, r, http.StatusOK, "")
	if !strings.Contains(string(r.Body), `"targetId":"`+id+`"`) || !strings.Contains(string(r.Body), "m9m user create") {
		t.Fatalf("no audit event for the CLI-created user: %s", r.Body)
	}
	// Taken, weak password, bad role: a clear error, never the password.
	for _, args := range [][]string{
		{"--username", strings.ToUpper(name), "--password", pw, "--role", "viewer"},
		{"--username", name + "x", "--password", "iloveyou", "--role", "viewer"},
		{"--username", name + "y", "--password", pw, "--role", "superuser"},
	} {
		out, err := runM9M(t, env, append([]string{"user", "create"}, args...)...)
		if err == nil || strings.Contains(out, args[3]) {
			t.Fatalf("user create %v: err=%v out=%q", args, err, out)
		}
	}
	// --password-stdin keeps the password out of the process list.
	cmdOut, err := idRunWithStdin(t, env, "cli stdin passphrase\n", "user", "create", "--username", name+"-stdin", "--password-stdin", "--role", "viewer")
	if err != nil {
		t.Fatalf("--password-stdin: %v\n%s", err, cmdOut)
	}
	s.Login(t, name+"-stdin", "cli stdin passphrase")
}

// idRunWithStdin runs the m9m binary with stdin.
func idRunWithStdin(t *testing.T, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, m9mBinary(t), args...)
	cmd.Env = env
	cmd.Stdin = bytes.NewBufferString(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestIdentityEventsAreAudited checks that every event of this feature
// reaches the audit log (written in the background, so it is polled), with
// actor, target, IP and user agent, and never a password or token.
func TestIdentityEventsAreAudited(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	started := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	id, name, pw := s.CreateUser(t, admin, "editor")
	ua := map[string]string{"User-Agent": "audit-probe/1.0"}
	req := idLoginReq(name, "a wrong password here")
	req.Headers = ua
	s.Do(t, req)
	req = idLoginReq(name, pw)
	req.Headers = ua
	var tok idToken
	s.Do(t, req).JSON(t, &tok)
	other := s.Login(t, name, pw)
	r, next := idRefresh(t, s, tok.Token)
	idWantStatus(t, r, http.StatusOK, "")
	const newPW = "audited new passphrase"
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: next.Token, Body: map[string]string{"currentPassword": pw, "newPassword": newPW}}), http.StatusNoContent, "")
	third := s.Login(t, name, newPW)
	_, thirdClaims := idClaims(t, third)
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + thirdClaims["sid"].(string), Bearer: next.Token}), http.StatusNoContent, "")
	idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: next.Token}), http.StatusNoContent, "")
	for range 6 {
		s.Do(t, idLoginReq(name, "throttle me please"))
	}
	idWantStatus(t, s.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"role": "viewer"})), http.StatusOK, "")
	idWantStatus(t, s.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+id, admin, nil)), http.StatusNoContent, "")

	want := []string{"auth.login/failure", "auth.login/success", "auth.refresh/success", "auth.password_change/success",
		"auth.session_end/success", "auth.logout/success", "auth.throttled/denied", "user.create/success", "user.update/success", "user.delete/success"}
	var body []byte
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/audit-events?limit=200&from=" + started, Bearer: s.AdminToken(t)})
		idWantStatus(t, r, http.StatusOK, "")
		body = r.Body
		var page struct {
			Data []struct {
				Action, Outcome, ActorID, ActorName, TargetID, IP, UserAgent string
			}
		}
		r.JSON(t, &page)
		got := map[string]bool{}
		for _, e := range page.Data {
			if e.ActorID == id || e.TargetID == id || e.ActorName == name {
				got[e.Action+"/"+e.Outcome] = true
				if e.Action == "auth.login" && e.UserAgent == "audit-probe/1.0" && e.IP != "127.0.0.1" {
					t.Errorf("login event IP = %q", e.IP)
				}
			}
		}
		missing := []string{}
		for _, w := range want {
			if !got[w] {
				missing = append(missing, w)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit events missing: %v\n%s", missing, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if leaked := harness.ContainsAny(string(body), pw, newPW, tok.Token, next.Token, other, third, "a wrong password here"); len(leaked) > 0 {
		t.Fatalf("audit events carry secrets: %q", leaked)
	}
}
