package users_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
	"github.com/m9m/auth/usecase/users"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

var client = principal.Client{IP: "198.51.100.7", UserAgent: "unit-test/1.0", RequestID: "req-1"}

const pw = "correct horse battery staple"

type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Record(_ context.Context, e audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Insert takes the events of the memory stores' audited writes.
func (r *recorder) Insert(ctx context.Context, events []audit.Event) error {
	for _, e := range events {
		r.Record(ctx, e)
	}
	return nil
}

func (r *recorder) find(action audit.Action) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// fixture wires user administration with the session use cases over the
// in-memory fakes, so tests can log users in and watch their tokens die.
type fixture struct {
	clock     *memory.Clock
	store     *memory.UserStore
	workflows *memory.WorkflowStore
	sessions  *memory.SessionStore
	audit     *recorder
	auth      *auth.Service
	authn     *auth.Authenticator
	svc       *users.Service
	admin     principal.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: memory.NewClock(t0), store: memory.NewUserStore(), workflows: memory.NewWorkflowStore(), sessions: memory.NewSessionStore(), audit: &recorder{}}
	remover := memory.NewUserRemover(f.store, f.workflows)
	f.store.AttachAudit(f.audit)
	f.sessions.AttachAudit(f.audit)
	deny := memory.NewDenylist(f.clock)
	hasher := crypto.NewArgon2Hasher(crypto.HasherConfig{Params: crypto.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}})
	tokens, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: []byte("unit-test-secret-0123456789-abcdefghij")}}, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.auth = auth.New(auth.Deps{
		Users: f.store, Sessions: f.sessions, Ender: f.sessions, Hasher: hasher, Issuer: tokens, Verifier: tokens,
		Denylist: deny, Throttle: memory.NewLoginThrottle(port.ThrottleLimits{}, f.clock), Audit: f.audit, Clock: f.clock,
	}, auth.Settings{TokenTTL: time.Hour, Leeway: 30 * time.Second, RefreshGrace: 10 * time.Second, MaxSession: 720 * time.Hour})
	f.authn = auth.NewAuthenticator(tokens, deny)
	f.svc = users.New(users.Deps{Users: f.store, Lister: f.store, Remover: remover, Hasher: hasher, Revoker: f.auth.Revoker(), Audit: f.audit, Clock: f.clock})
	if _, err := f.svc.Bootstrap(context.Background(), "root", pw); err != nil {
		t.Fatal(err)
	}
	f.admin = f.principal(t, f.login(t, "root", pw))
	return f
}

func (f *fixture) create(t *testing.T, name string, role user.Role) *user.User {
	t.Helper()
	u, err := f.svc.Create(context.Background(), f.admin, client, users.CreateInput{Username: name, Password: pw, Role: string(role)})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func (f *fixture) login(t *testing.T, name, password string) string {
	t.Helper()
	res, err := f.auth.Login(context.Background(), auth.LoginInput{Username: name, Password: password, Client: client})
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return res.Token.Token
}

func (f *fixture) authenticate(tok string) (principal.Principal, error) {
	return f.authn.Authenticate(context.Background(), authn.Credential{Kind: authn.KindBearer, Secret: tok}, client)
}

func (f *fixture) principal(t *testing.T, tok string) principal.Principal {
	t.Helper()
	p, err := f.authenticate(tok)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantErr(t, err, domain.ErrInvalid)
	got := map[string]bool{}
	for _, d := range domain.As(err).Details {
		got[d.Field] = true
	}
	for _, f := range fields {
		if !got[f] {
			t.Fatalf("details = %+v, want %q", domain.As(err).Details, f)
		}
	}
	if len(got) != len(fields) {
		t.Fatalf("details = %+v, want exactly %v", domain.As(err).Details, fields)
	}
}

func TestCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u, err := f.svc.Create(context.Background(), f.admin, client, users.CreateInput{Username: "  Alice.Smith ", Password: pw, Role: "editor"})
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "alice.smith" || u.Role != user.RoleEditor || u.Disabled || u.ID == "" || !u.CreatedAt.Equal(t0) {
		t.Fatalf("user = %+v", u)
	}
	if strings.Contains(u.PasswordHash, pw) || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("password not hashed: %q", u.PasswordHash)
	}
	f.login(t, "ALICE.SMITH", pw)
	ev := f.audit.find(audit.ActionUserCreate)
	last := ev[len(ev)-1]
	if last.ActorID != f.admin.UserID || last.TargetID != u.ID || last.Metadata["username"] != "alice.smith" {
		t.Fatalf("audit = %+v", last)
	}
	for _, v := range last.Metadata {
		if strings.Contains(v, pw) {
			t.Fatal("audit carries the password")
		}
	}
	_, err = f.svc.Create(context.Background(), f.admin, client, users.CreateInput{Username: "ALICE.smith", Password: pw, Role: "viewer"})
	wantErr(t, err, domain.ErrConflict)
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name   string
		in     users.CreateInput
		fields []string
	}{
		{"everything wrong", users.CreateInput{Username: "a b", Password: "short", Role: "root"}, []string{"username", "password", "role"}},
		{"empty", users.CreateInput{}, []string{"username", "password", "role"}},
		{"common password", users.CreateInput{Username: "bob", Password: "iloveyou", Role: "viewer"}, []string{"password"}},
		{"username too short", users.CreateInput{Username: "bo", Password: pw, Role: "viewer"}, []string{"username"}},
		{"role case matters", users.CreateInput{Username: "bob", Password: pw, Role: "Admin"}, []string{"role"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Create(context.Background(), f.admin, client, tt.in)
			wantFields(t, err, tt.fields...)
		})
	}
}

func TestListAndGet(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var ids []string
	for i, n := range []string{"u-one", "u-two", "u-three"} {
		f.clock.Set(t0.Add(time.Duration(i+1) * time.Minute))
		ids = append(ids, f.create(t, n, user.RoleViewer).ID)
	}
	page, err := f.svc.List(context.Background(), "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Users) != 2 || page.Users[0].Username != "root" || page.Users[1].ID != ids[0] || page.NextCursor == "" {
		t.Fatalf("page 1 = %+v", page)
	}
	page, err = f.svc.List(context.Background(), page.NextCursor, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Users) != 2 || page.Users[0].ID != ids[1] || page.Users[1].ID != ids[2] || page.NextCursor != "" {
		t.Fatalf("page 2 = %+v", page)
	}
	page, err = f.svc.List(context.Background(), "", 0)
	if err != nil || len(page.Users) != 4 {
		t.Fatalf("default page: %v %v", page, err)
	}
	for _, bad := range []int{-1, 101} {
		_, err := f.svc.List(context.Background(), "", bad)
		wantFields(t, err, "limit")
	}
	_, err = f.svc.List(context.Background(), "%%%", 10)
	wantFields(t, err, "cursor")

	got, err := f.svc.Get(context.Background(), ids[1])
	if err != nil || got.Username != "u-two" {
		t.Fatalf("get = %+v %v", got, err)
	}
	_, err = f.svc.Get(context.Background(), "nope")
	wantErr(t, err, domain.ErrNotFound)
}

func ptr[T any](v T) *T { return &v }

func TestUpdateCutsTokensWhenItMatters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      users.UpdateInput
		revoked bool
		check   func(t *testing.T, u *user.User)
	}{
		{"role change", users.UpdateInput{Role: ptr("viewer")}, true, func(t *testing.T, u *user.User) {
			if u.Role != user.RoleViewer {
				t.Fatalf("role = %s", u.Role)
			}
		}},
		{"disable", users.UpdateInput{Disabled: ptr(true)}, true, func(t *testing.T, u *user.User) {
			if !u.Disabled {
				t.Fatal("not disabled")
			}
		}},
		{"password reset", users.UpdateInput{Password: ptr("a brand new passphrase")}, true, nil},
		{"same role", users.UpdateInput{Role: ptr("editor")}, false, nil},
		{"enable", users.UpdateInput{Disabled: ptr(false)}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			target := f.create(t, "target", user.RoleEditor)
			tok := f.login(t, "target", pw)
			f.clock.Advance(3 * time.Second)
			u, err := f.svc.Update(context.Background(), f.admin, client, target.ID, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !u.UpdatedAt.Equal(f.clock.Now()) {
				t.Fatalf("updatedAt = %v", u.UpdatedAt)
			}
			if tt.check != nil {
				tt.check(t, u)
			}
			_, err = f.authenticate(tok)
			if tt.revoked {
				wantErr(t, err, domain.ErrUnauthenticated)
			} else if err != nil {
				t.Fatalf("token revoked by a harmless change: %v", err)
			}
			f.principal(t, f.login(t, "root", pw)) // the admin is unaffected
			ev := f.audit.find(audit.ActionUserUpdate)
			if len(ev) != 1 || ev[0].TargetID != target.ID {
				t.Fatalf("audit = %+v", ev)
			}
			for _, v := range ev[0].Metadata {
				if strings.Contains(v, "brand new") {
					t.Fatal("audit carries the password")
				}
			}
		})
	}
}

func TestRoleChangeAppliesAtNextLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.create(t, "promoted", user.RoleViewer)
	if _, err := f.svc.Update(context.Background(), f.admin, client, target.ID, users.UpdateInput{Role: ptr("admin")}); err != nil {
		t.Fatal(err)
	}
	p := f.principal(t, f.login(t, "promoted", pw))
	if p.Role != user.RoleAdmin || !p.Can(user.PermUsersManage) {
		t.Fatalf("principal = %+v", p)
	}
}

func TestDisabledUserCannotLogIn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.create(t, "gone", user.RoleViewer)
	if _, err := f.svc.Update(context.Background(), f.admin, client, target.ID, users.UpdateInput{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	_, err := f.auth.Login(context.Background(), auth.LoginInput{Username: "gone", Password: pw, Client: client})
	wantErr(t, err, domain.ErrInvalidCredentials)
	if _, err := f.svc.Update(context.Background(), f.admin, client, target.ID, users.UpdateInput{Disabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(2 * time.Second) // the cut-off covers the second it was made in
	f.principal(t, f.login(t, "gone", pw))
}

func TestUpdateRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.create(t, "someone", user.RoleViewer)
	ctx := context.Background()
	_, err := f.svc.Update(ctx, f.admin, client, target.ID, users.UpdateInput{})
	wantFields(t, err, "body")
	_, err = f.svc.Update(ctx, f.admin, client, target.ID, users.UpdateInput{Role: ptr("god"), Password: ptr("short")})
	wantFields(t, err, "role", "password")
	_, err = f.svc.Update(ctx, f.admin, client, "nope", users.UpdateInput{Disabled: ptr(true)})
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.svc.Update(ctx, f.admin, client, f.admin.UserID, users.UpdateInput{Role: ptr("viewer")})
	wantErr(t, err, domain.ErrConflict)
	_, err = f.svc.Update(ctx, f.admin, client, f.admin.UserID, users.UpdateInput{Disabled: ptr(true)})
	wantErr(t, err, domain.ErrConflict)
	// Setting one's own unchanged role is harmless and allowed.
	if _, err := f.svc.Update(ctx, f.admin, client, f.admin.UserID, users.UpdateInput{Role: ptr("admin")}); err != nil {
		t.Fatal(err)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := f.create(t, "leaver", user.RoleEditor)
	tok := f.login(t, "leaver", pw)
	ctx := context.Background()
	if err := f.svc.Delete(ctx, f.admin, client, target.ID, users.DeleteInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := f.authenticate(tok)
	wantErr(t, err, domain.ErrUnauthenticated)
	_, err = f.svc.Get(ctx, target.ID)
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.svc.Delete(ctx, f.admin, client, target.ID, users.DeleteInput{}), domain.ErrNotFound)
	wantErr(t, f.svc.Delete(ctx, f.admin, client, f.admin.UserID, users.DeleteInput{}), domain.ErrConflict)
	if ev := f.audit.find(audit.ActionUserDelete); len(ev) != 1 || ev[0].TargetID != target.ID {
		t.Fatalf("audit = %+v", ev)
	}
	// A user created again under the name is a new account with fresh tokens.
	f.clock.Advance(2 * time.Second)
	f.create(t, "leaver", user.RoleViewer)
	f.principal(t, f.login(t, "leaver", pw))
}

func TestBootstrap(t *testing.T) {
	t.Parallel()
	store := memory.NewUserStore()
	trail := memory.NewAuditStore()
	store.AttachAudit(trail)
	clock := memory.NewClock(t0)
	hasher := crypto.NewArgon2Hasher(crypto.HasherConfig{Params: crypto.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}})
	svc := users.New(users.Deps{Users: store, Lister: store, Hasher: hasher, Clock: clock})
	ctx := context.Background()

	_, err := svc.Bootstrap(ctx, "admin", "iloveyou")
	if err == nil || !strings.Contains(err.Error(), "security.bootstrap_admin.password") || strings.Contains(err.Error(), "iloveyou") {
		t.Fatalf("weak bootstrap password: %v", err)
	}

	// Several instances starting at once: exactly one admin.
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := svc.Bootstrap(ctx, "Admin", pw)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if n, _ := store.Count(ctx); n != 1 || created != 1 {
		t.Fatalf("%d users, %d reported created; want exactly 1", n, created)
	}
	u, err := store.GetByUsername(ctx, "admin")
	if err != nil || u.Role != user.RoleAdmin {
		t.Fatalf("bootstrap admin = %+v %v", u, err)
	}
	// The losers of the race wrote no event: one user, one user.create.
	page, err := trail.List(ctx, audit.Query{Action: audit.ActionUserCreate})
	if err != nil || len(page.Events) != 1 || page.Events[0].TargetID != u.ID || page.Events[0].Metadata["source"] != "security.bootstrap_admin" {
		t.Fatalf("bootstrap audit = %+v %v; want one user.create of %s", page.Events, err, u.ID)
	}
	// Only while no user exists: a different name later creates nothing.
	if ok, err := svc.Bootstrap(ctx, "second", pw); ok || err != nil {
		t.Fatalf("bootstrap with users present: %v %v", ok, err)
	}
}
