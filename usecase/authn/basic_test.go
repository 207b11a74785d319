package authn_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/authn"
)

const (
	basicUser = "ops"
	basicPass = "correct horse battery"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

type auditLog struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *auditLog) Record(_ context.Context, e audit.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *auditLog) snapshot() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}

// brokenThrottle is a LoginThrottle whose store is down.
type brokenThrottle struct{}

func (brokenThrottle) Check(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, domain.Unavailable("redis", errors.New("down"))
}

func (brokenThrottle) Fail(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, domain.Unavailable("redis", errors.New("down"))
}

func (brokenThrottle) Reserve(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, domain.Unavailable("redis", errors.New("down"))
}

func (brokenThrottle) Forgive(context.Context, port.LoginAttempt) error    { return nil }
func (brokenThrottle) Release(context.Context, port.LoginAttempt) error    { return nil }
func (brokenThrottle) Remember(context.Context, ...port.KnownClient) error { return nil }

type basicFixture struct {
	clock    *memory.Clock
	users    *memory.UserStore
	throttle *memory.LoginThrottle
	audit    *auditLog
	basic    *authn.Basic
	errs     []error
}

func newBasic(t testing.TB, throttle port.LoginThrottle) *basicFixture {
	t.Helper()
	f := &basicFixture{clock: memory.NewClock(t0), users: memory.NewUserStore(), audit: &auditLog{}}
	f.throttle = memory.NewLoginThrottle(port.ThrottleLimits{MaxPerUser: 3, MaxPerIP: 10, Window: time.Minute}, f.clock)
	if throttle == nil {
		throttle = f.throttle
	}
	f.basic = authn.NewBasic(authn.BasicConfig{Username: basicUser, Password: basicPass}, authn.BasicDeps{
		Users: f.users, Throttle: throttle, Audit: f.audit, Clock: f.clock,
		OnError: func(err error) { f.errs = append(f.errs, err) },
	})
	return f
}

func (f *basicFixture) try(username, password, ip string) (principal.Principal, error) {
	return f.basic.Authenticate(context.Background(),
		authn.Credential{Kind: authn.KindBasic, Username: username, Password: password},
		principal.Client{IP: ip, UserAgent: "curl/8", RequestID: "r1"})
}

func TestBasicAcceptsOnlyTheConfiguredPair(t *testing.T) {
	t.Parallel()
	f := newBasic(t, nil)
	p, err := f.try(basicUser, basicPass, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != principal.MethodBasic || p.Role != user.RoleAdmin || p.Username != basicUser ||
		!slices.Equal(p.Permissions, user.AllPermissions) || p.UserID != "" || p.KeyID != "" {
		t.Fatalf("principal = %+v", p)
	}
	tests := []struct{ name, user, pass string }{
		{"wrong password", basicUser, "wrong horse battery"},
		{"wrong user", "admin", basicPass},
		{"case differs", "OPS", basicPass},
		{"password prefix", basicUser, basicPass[:12]},
		{"password longer", basicUser, basicPass + " "},
		{"empty password", basicUser, ""},
		{"swapped", basicPass, basicUser},
	}
	for _, tt := range tests {
		_, err := f.try(tt.user, tt.pass, "192.0.2.77")
		if !errors.Is(err, domain.ErrUnauthenticated) && !errors.Is(err, domain.ErrRateLimited) {
			t.Errorf("%s: err = %v, want 401", tt.name, err)
		}
	}
	for _, kind := range []authn.Kind{authn.KindNone, authn.KindBearer, authn.KindAPIKey} {
		_, err := f.basic.Authenticate(context.Background(), authn.Credential{Kind: kind, Username: basicUser, Password: basicPass}, principal.Client{})
		if !errors.Is(err, domain.ErrUnauthenticated) {
			t.Errorf("kind %v: err = %v", kind, err)
		}
	}
}

func TestBasicFailuresAreAuditedWithoutThePassword(t *testing.T) {
	t.Parallel()
	f := newBasic(t, nil)
	long := strings.Repeat("é", 200)
	_, _ = f.try(basicUser, "guess-number-one", "192.0.2.9")
	_, _ = f.try(long, "guess-number-two", "192.0.2.9")
	events := f.audit.snapshot()
	if len(events) != 2 {
		t.Fatalf("%d audit events, want 2", len(events))
	}
	e := events[0]
	if e.Action != audit.ActionBasicFailure || e.Outcome != audit.OutcomeFailure || e.ActorName != basicUser ||
		e.IP != "192.0.2.9" || e.UserAgent != "curl/8" || e.ActorID != "" || !e.Time.Equal(t0) {
		t.Fatalf("event = %+v", e)
	}
	if got := []rune(events[1].ActorName); len(got) != 64 {
		t.Fatalf("audited username has %d runes, want it cut to 64", len(got))
	}
	all := fmt.Sprintf("%+v", events)
	for _, secret := range []string{"guess-number-one", "guess-number-two", basicPass} {
		if strings.Contains(all, secret) {
			t.Fatalf("audit log contains a password: %s", secret)
		}
	}
	// A success is not audited (it would flood the log: basic is per request).
	_, _ = f.try(basicUser, basicPass, "192.0.2.9")
	if n := len(f.audit.snapshot()); n != 2 {
		t.Fatalf("%d events after a success, want 2", n)
	}
}

func TestBasicFailuresCountTowardTheLoginThrottle(t *testing.T) {
	t.Parallel()
	f := newBasic(t, nil)
	ip := "203.0.113.5"
	for i := range 3 {
		if _, err := f.try(basicUser, "nope", ip); !errors.Is(err, domain.ErrUnauthenticated) {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	// The fourth failure crosses the per-user limit of 3.
	_, err := f.try(basicUser, "nope", ip)
	wantRateLimited(t, err)
	// Throttled: even the right password is refused without being compared,
	// so a correct guess teaches nothing; and it is not audited again.
	before := len(f.audit.snapshot())
	_, err = f.try(basicUser, basicPass, ip)
	wantRateLimited(t, err)
	if len(f.audit.snapshot()) != before {
		t.Fatal("a throttled attempt was judged")
	}
	// Another address is not affected; the window ends by the clock.
	if _, err := f.try(basicUser, basicPass, "203.0.113.6"); err != nil {
		t.Fatalf("other IP: %v", err)
	}
	f.clock.Advance(time.Minute)
	if _, err := f.try(basicUser, basicPass, ip); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// Failures with any username count toward the per-IP limit (10
	// tolerated, the 11th crosses it).
	ip2 := "203.0.113.7"
	for i := range 11 {
		_, _ = f.try(fmt.Sprintf("user%d", i), "x", ip2)
	}
	_, err = f.try(basicUser, basicPass, ip2)
	wantRateLimited(t, err)
}

func TestBasicClientsInUseAreNotLockedOutByDistributedGuessing(t *testing.T) {
	t.Parallel()
	f := newBasic(t, nil)
	const inUse = "192.0.2.50"
	if _, err := f.try(basicUser, basicPass, inUse); err != nil {
		t.Fatalf("the client in use: %v", err)
	}
	// 7 clients x 3 failures: 21 on the configured username, past its 20.
	for c := range 7 {
		for range 3 {
			_, _ = f.try(basicUser, "nope", fmt.Sprintf("203.0.113.%d", 100+c))
		}
	}
	_, err := f.try(basicUser, basicPass, "203.0.113.200")
	wantRateLimited(t, err)
	if _, err := f.try(basicUser, basicPass, inUse); err != nil {
		t.Fatalf("the client in use after the attack: %v, want it to still work", err)
	}
}

func wantRateLimited(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, domain.ErrRateLimited) || domain.As(err).RetryAfter <= 0 {
		t.Fatalf("err = %v, want 429 with a retry delay", err)
	}
}

func TestBasicFailsOpenWhenTheThrottleIsDown(t *testing.T) {
	t.Parallel()
	f := newBasic(t, brokenThrottle{})
	if _, err := f.try(basicUser, basicPass, "192.0.2.1"); err != nil {
		t.Fatalf("right pair with throttle down: %v", err)
	}
	if _, err := f.try(basicUser, "nope", "192.0.2.1"); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("wrong pair with throttle down: %v", err)
	}
	if len(f.errs) != 3 {
		t.Fatalf("%d throttle errors reported, want 3 (two checks, one fail)", len(f.errs))
	}
}

func TestBasicLinksToTheUserOfTheSameName(t *testing.T) {
	t.Parallel()
	f := newBasic(t, nil)
	u := &user.User{ID: domain.NewID(), Username: basicUser, Role: user.RoleViewer, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	if err := f.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	p, err := f.try(basicUser, basicPass, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// Linked for ownership; still acting as admin (the credential's power).
	if p.UserID != u.ID || p.Role != user.RoleAdmin {
		t.Fatalf("principal = %+v", p)
	}
	_, _ = f.users.Update(context.Background(), u.ID, func(u *user.User) error { u.Disabled = true; return nil })
	p, err = f.try(basicUser, basicPass, "192.0.2.1")
	if err != nil || p.UserID != "" {
		t.Fatalf("disabled account still linked: %+v %v", p, err)
	}
}

// failingUsers is a UserStore that cannot be reached.
type failingUsers struct{ port.UserStore }

func (failingUsers) GetByUsername(context.Context, string) (*user.User, error) {
	return nil, errors.New("dial tcp: connection refused")
}

func TestBasicUserStoreDownIs503(t *testing.T) {
	t.Parallel()
	clock := memory.NewClock(t0)
	b := authn.NewBasic(authn.BasicConfig{Username: basicUser, Password: basicPass}, authn.BasicDeps{Users: failingUsers{}, Clock: clock})
	_, err := b.Authenticate(context.Background(), authn.Credential{Kind: authn.KindBasic, Username: basicUser, Password: basicPass}, principal.Client{})
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("err = %v, want 503", err)
	}
	// Without stores at all it still works (no link, no throttle, no audit).
	b = authn.NewBasic(authn.BasicConfig{Username: basicUser, Password: basicPass}, authn.BasicDeps{Clock: clock})
	if _, err := b.Authenticate(context.Background(), authn.Credential{Kind: authn.KindBasic, Username: basicUser, Password: basicPass}, principal.Client{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Authenticate(context.Background(), authn.Credential{Kind: authn.KindBasic, Username: basicUser, Password: "x"}, principal.Client{}); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatal(err)
	}
}

// FuzzBasic checks that no presented pair but the configured one passes.
func FuzzBasic(f *testing.F) {
	b := authn.NewBasic(authn.BasicConfig{Username: basicUser, Password: basicPass}, authn.BasicDeps{Clock: memory.NewClock(t0)})
	f.Add(basicUser, basicPass)
	f.Add(basicUser, basicPass+"\x00")
	f.Add(basicUser+"\x00", basicPass)
	f.Add("", "")
	f.Add(basicUser, strings.ToUpper(basicPass))
	f.Fuzz(func(t *testing.T, u, p string) {
		_, err := b.Authenticate(context.Background(), authn.Credential{Kind: authn.KindBasic, Username: u, Password: p}, principal.Client{})
		if (err == nil) != (u == basicUser && p == basicPass) {
			t.Fatalf("Authenticate(%q, %q) = %v", u, p, err)
		}
	})
}
