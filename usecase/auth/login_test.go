package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
)

const goodPW = "correct horse battery staple"

func TestLoginSuccess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.addUser(t, "alice", user.RoleEditor, goodPW)

	res := f.login(t, "  ALICE ", goodPW) // normalized before lookup
	if res.User.ID != u.ID || res.User.Role != user.RoleEditor {
		t.Fatalf("user = %+v", res.User)
	}
	if want := t0.Add(time.Hour); !res.ExpiresAt.Equal(want) {
		t.Fatalf("expiresAt = %v, want %v", res.ExpiresAt, want)
	}
	p := f.principal(t, res.Token.Token)
	if p.UserID != u.ID || p.Username != "alice" || p.Role != user.RoleEditor || p.Method != principal.MethodJWT {
		t.Fatalf("principal = %+v", p)
	}
	if p.SessionID != res.SessionID || !p.Can(user.PermWorkflowsWrite) || p.Can(user.PermUsersManage) {
		t.Fatalf("principal session/permissions wrong: %+v", p)
	}
	sess, err := f.sessions.Get(context.Background(), res.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if sess.UserID != u.ID || sess.IP != client.IP || sess.UserAgent != client.UserAgent || !sess.CreatedAt.Equal(t0) {
		t.Fatalf("session = %+v", sess)
	}
	ok := f.audit.find(audit.ActionLogin, audit.OutcomeSuccess)
	if len(ok) != 1 || ok[0].ActorID != u.ID || ok[0].IP != client.IP || ok[0].UserAgent != client.UserAgent || ok[0].TargetID != res.SessionID {
		t.Fatalf("audit = %+v", ok)
	}
}

func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "bob", user.RoleViewer, goodPW)
	dis := f.addUser(t, "carol", user.RoleViewer, goodPW)
	if _, err := f.users.Update(context.Background(), dis.ID, func(u *user.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, username, password, reason string
	}{
		{"wrong password", "bob", "wrong horse battery staple", "wrong password"},
		{"unknown user", "nobody", goodPW, "unknown user"},
		{"disabled user, right password", "carol", goodPW, "account disabled"},
	}
	var messages []string
	for _, tt := range tests {
		before := f.hasher.judged.Load()
		_, err := f.svc.Login(context.Background(), auth.LoginInput{Username: tt.username, Password: tt.password, Client: client})
		wantErr(t, err, domain.ErrInvalidCredentials)
		messages = append(messages, domain.As(err).Error())
		if f.hasher.judged.Load() != before+1 {
			t.Errorf("%s: %d hashes judged, want exactly 1 (timing must not differ)", tt.name, f.hasher.judged.Load()-before)
		}
	}
	for _, m := range messages[1:] {
		if m != messages[0] {
			t.Fatalf("failures differ: %q vs %q", m, messages[0])
		}
	}
	fails := f.audit.find(audit.ActionLogin, audit.OutcomeFailure)
	if len(fails) != len(tests) {
		t.Fatalf("%d failure events, want %d", len(fails), len(tests))
	}
	for i, e := range fails {
		if e.Metadata["reason"] != tests[i].reason || e.ActorName != tests[i].username {
			t.Errorf("event %d = %+v, want reason %q", i, e, tests[i].reason)
		}
		for _, v := range e.Metadata {
			if strings.Contains(v, tests[i].password) {
				t.Errorf("audit metadata carries the password")
			}
		}
	}
}

func TestLoginValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tests := []struct {
		name, username, password string
		fields                   []string
	}{
		{"both empty", "", "", []string{"username", "password"}},
		{"blank username", "   ", "x", []string{"username"}},
		{"username too long", strings.Repeat("a", 65), "x", []string{"username"}},
		{"password too long", "alice", strings.Repeat("p", 1025), []string{"password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Login(context.Background(), auth.LoginInput{Username: tt.username, Password: tt.password, Client: client})
			for _, field := range tt.fields {
				wantField(t, err, field)
			}
			if n := len(domain.As(err).Details); n != len(tt.fields) {
				t.Fatalf("details = %+v", domain.As(err).Details)
			}
		})
	}
	if f.hasher.judged.Load() != 0 {
		t.Fatal("invalid input was hashed")
	}
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "dave", user.RoleViewer, goodPW)
	ctx := context.Background()
	in := auth.LoginInput{Username: "dave", Password: "not the password", Client: client}
	for i := range 5 {
		_, err := f.svc.Login(ctx, in)
		wantErr(t, err, domain.ErrInvalidCredentials)
		_ = i
	}
	_, err := f.svc.Login(ctx, in)
	wantErr(t, err, domain.ErrRateLimited)
	if ra := domain.As(err).RetryAfter; ra <= 0 || ra > 15*time.Minute {
		t.Fatalf("retry after = %v", ra)
	}
	// The right password while throttled: still 429, and not judged.
	before := f.hasher.judged.Load()
	_, err = f.svc.Login(ctx, auth.LoginInput{Username: "DAVE", Password: goodPW, Client: client})
	wantErr(t, err, domain.ErrRateLimited)
	if f.hasher.judged.Load() != before {
		t.Fatal("a throttled attempt was judged")
	}
	throttled := f.audit.find(audit.ActionLoginThrottled, audit.OutcomeDenied)
	if len(throttled) != 2 || throttled[1].ActorName != "dave" || throttled[1].IP != client.IP || throttled[1].Metadata["retryAfterSeconds"] == "" {
		t.Fatalf("throttled events = %+v, want 2 naming the attempted username", throttled)
	}
	// Another IP is not affected by this username+IP counter.
	other := client
	other.IP = "203.0.113.9"
	if _, err := f.svc.Login(ctx, auth.LoginInput{Username: "dave", Password: goodPW, Client: other}); err != nil {
		t.Fatalf("other IP: %v", err)
	}
	// Never permanent: the window ends.
	f.clock.Advance(15*time.Minute + time.Second)
	f.login(t, "dave", goodPW)
}

func TestLoginSuccessResetsUsernameCounter(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "erin", user.RoleViewer, goodPW)
	ctx := context.Background()
	bad := auth.LoginInput{Username: "erin", Password: "not the password", Client: client}
	for range 4 {
		_, _ = f.svc.Login(ctx, bad)
	}
	f.login(t, "erin", goodPW)
	for i := range 5 {
		if _, err := f.svc.Login(ctx, bad); !domainIs(err, domain.ErrInvalidCredentials) {
			t.Fatalf("failure %d after reset: %v", i+1, err)
		}
	}
}

func domainIs(err, target error) bool { return err != nil && domain.As(err).Is(target) }

func TestLoginConcurrentGuessesJudgedAtMostLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "frank", user.RoleViewer, goodPW)
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.svc.Login(context.Background(), auth.LoginInput{Username: "frank", Password: "guess-guess-guess", Client: client})
			mu.Lock()
			counts[domain.As(err).Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if n := f.hasher.judged.Load(); n > 5 {
		t.Fatalf("%d guesses judged, want at most the limit (5)", n)
	}
	if counts[domain.CodeInvalidCredentials] > 5 || counts[domain.CodeRateLimited] < 25 {
		t.Fatalf("outcomes = %v", counts)
	}
}

func TestLoginRehashesOutdatedHash(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	old := crypto.NewArgon2Hasher(crypto.HasherConfig{Params: crypto.Argon2Params{MemoryKiB: 32, Iterations: 2, Parallelism: 1}})
	hash, err := old.Hash(context.Background(), goodPW)
	if err != nil {
		t.Fatal(err)
	}
	u := &user.User{ID: domain.NewID(), Username: "gina", Role: user.RoleViewer, PasswordHash: hash, CreatedAt: t0, UpdatedAt: t0}
	if err := f.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	f.login(t, "gina", goodPW)
	got, _ := f.users.Get(context.Background(), u.ID)
	if got.PasswordHash == hash {
		t.Fatal("hash with outdated parameters was not upgraded")
	}
	ok, rehash, err := f.hasher.Verify(context.Background(), goodPW, got.PasswordHash)
	if err != nil || !ok || rehash {
		t.Fatalf("new hash: ok=%v rehash=%v err=%v", ok, rehash, err)
	}
}

func TestLoginRedisDownIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *auth.Deps, _ *auth.Settings) { d.Throttle = failingThrottle{} })
	f.addUser(t, "hank", user.RoleViewer, goodPW)
	_, err := f.svc.Login(context.Background(), auth.LoginInput{Username: "hank", Password: goodPW, Client: client})
	wantErr(t, err, domain.ErrUnavailable)
}

// disablingStore disables the user between the password check and the
// second read of login, as an admin acting at that moment would.
type disablingStore struct {
	port.UserStore
	target string
}

func (s *disablingStore) Get(ctx context.Context, id string) (*user.User, error) {
	if id == s.target {
		_, _ = s.Update(ctx, id, func(u *user.User) error { u.Disabled = true; return nil })
	}
	return s.UserStore.Get(ctx, id)
}

func TestLoginRacingDisableGetsNoToken(t *testing.T) {
	t.Parallel()
	store := &disablingStore{}
	f := newFixture(t, func(d *auth.Deps, _ *auth.Settings) { store.UserStore = d.Users; d.Users = store })
	u := f.addUser(t, "ivan", user.RoleViewer, goodPW)
	store.target = u.ID
	_, err := f.svc.Login(context.Background(), auth.LoginInput{Username: "ivan", Password: goodPW, Client: client})
	wantErr(t, err, domain.ErrInvalidCredentials)
	active, _ := f.sessions.ListActive(context.Background(), u.ID)
	if len(active) != 0 {
		t.Fatalf("the session of a refused login is still active: %+v", active)
	}
	// The session existed for a moment: its success event and its end, with the reason.
	ok, failed := f.audit.find(audit.ActionLogin, audit.OutcomeSuccess), f.audit.find(audit.ActionLogin, audit.OutcomeFailure)
	if len(ok) != 1 || len(failed) != 1 || failed[0].TargetID != ok[0].TargetID || failed[0].ID == ok[0].ID ||
		failed[0].Metadata["reason"] != "account changed during login" || ok[0].Metadata["reason"] != "" {
		t.Fatalf("audit: successes %+v, failures %+v", ok, failed)
	}
}

func TestLoginCancelledIsNeverACredentialError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "judy", user.RoleViewer, goodPW)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // stores, throttle and hasher all see a done context
	_, err := f.svc.Login(ctx, auth.LoginInput{Username: "judy", Password: goodPW, Client: client})
	if err == nil || domain.KindOf(err) == domain.KindInvalidCredentials || domain.KindOf(err) == domain.KindUnauthenticated {
		t.Fatalf("error = %v, want an infrastructure error, never a credential one", err)
	}
}
