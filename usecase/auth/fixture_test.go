package auth_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
	"github.com/m9m/auth/usecase/authn"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

var testSettings = auth.Settings{
	TokenTTL:     time.Hour,
	Leeway:       30 * time.Second,
	RefreshGrace: 10 * time.Second,
	MaxSession:   720 * time.Hour,
}

var client = principal.Client{IP: "198.51.100.7", UserAgent: "unit-test/1.0", RequestID: "req-1"}

// recorder is a port.AuditLog that keeps what it is given.
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

// find returns the events with action and outcome.
func (r *recorder) find(action audit.Action, outcome audit.Outcome) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if e.Action == action && e.Outcome == outcome {
			out = append(out, e)
		}
	}
	return out
}

// countingHasher counts password verifications (real or dummy), i.e. how
// many guesses were judged.
type countingHasher struct {
	port.PasswordHasher
	judged atomic.Int64
}

func (h *countingHasher) Verify(ctx context.Context, pw, enc string) (bool, bool, error) {
	h.judged.Add(1)
	return h.PasswordHasher.Verify(ctx, pw, enc)
}

func (h *countingHasher) VerifyDummy(ctx context.Context, pw string) error {
	h.judged.Add(1)
	return h.PasswordHasher.VerifyDummy(ctx, pw)
}

type fixture struct {
	clock    *memory.Clock
	users    *memory.UserStore
	sessions *memory.SessionStore
	deny     *memory.Denylist
	throttle *memory.LoginThrottle
	hasher   *countingHasher
	tokens   *jwt.Service
	audit    *recorder
	svc      *auth.Service
	authn    *auth.Authenticator
	deps     auth.Deps
}

// cheapParams keep hashing fast under -race; rehash tests use others.
var cheapParams = crypto.Argon2Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

func newFixture(t testing.TB, mods ...func(*auth.Deps, *auth.Settings)) *fixture {
	t.Helper()
	f := &fixture{
		clock:    memory.NewClock(t0),
		users:    memory.NewUserStore(),
		sessions: memory.NewSessionStore(),
		audit:    &recorder{},
	}
	f.users.AttachAudit(f.audit)
	f.sessions.AttachAudit(f.audit)
	f.deny = memory.NewDenylist(f.clock)
	f.throttle = memory.NewLoginThrottle(port.DefaultThrottleLimits(), f.clock)
	f.hasher = &countingHasher{PasswordHasher: crypto.NewArgon2Hasher(crypto.HasherConfig{Params: cheapParams, MaxConcurrent: 4})}
	tokens, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: []byte("unit-test-secret-0123456789-abcdefghij")}, Leeway: testSettings.Leeway}, f.clock)
	if err != nil {
		t.Fatal(err)
	}
	f.tokens = tokens
	deps := auth.Deps{
		Users: f.users, Sessions: f.sessions, Ender: f.sessions, Hasher: f.hasher,
		Issuer: tokens, Verifier: tokens, Denylist: f.deny, Throttle: f.throttle,
		Audit: f.audit, Clock: f.clock,
	}
	settings := testSettings
	for _, m := range mods {
		m(&deps, &settings)
	}
	f.deps = deps
	f.svc = auth.New(deps, settings)
	f.authn = auth.NewAuthenticator(deps.Verifier, deps.Denylist)
	return f
}

// addUser stores a user with password pw and returns it.
func (f *fixture) addUser(t *testing.T, name string, role user.Role, pw string) *user.User {
	t.Helper()
	hash, err := f.hasher.Hash(context.Background(), pw)
	if err != nil {
		t.Fatal(err)
	}
	u := &user.User{ID: domain.NewID(), Username: name, Role: role, PasswordHash: hash, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
	if err := f.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// login logs in and fails the test otherwise.
func (f *fixture) login(t *testing.T, name, pw string) *auth.LoginResult {
	t.Helper()
	res, err := f.svc.Login(context.Background(), auth.LoginInput{Username: name, Password: pw, Client: client})
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return res
}

// principal authenticates token and fails the test otherwise.
func (f *fixture) principal(t *testing.T, token string) principal.Principal {
	t.Helper()
	p, err := f.authenticate(token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

func (f *fixture) authenticate(token string) (principal.Principal, error) {
	return f.authn.Authenticate(context.Background(), authn.Credential{Kind: authn.KindBearer, Secret: token}, client)
}

// wantErr fails unless err matches target.
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// wantField fails unless err is INVALID_REQUEST naming field.
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	wantErr(t, err, domain.ErrInvalid)
	for _, d := range domain.As(err).Details {
		if d.Field == field {
			return
		}
	}
	t.Fatalf("details = %+v, want one naming %q", domain.As(err).Details, field)
}

// failingDenylist and failingThrottle stand for Redis being down.
type failingDenylist struct{ port.TokenDenylist }

var errDown = domain.Unavailable("redis", errors.New("dial tcp 127.0.0.1:1: connection refused"))

func (failingDenylist) Check(context.Context, session.Claims) error { return errDown }
func (failingDenylist) ClaimRefresh(context.Context, string, string, time.Duration, time.Time) (string, error) {
	return "", errDown
}
func (failingDenylist) DenyToken(context.Context, string, time.Time) error   { return errDown }
func (failingDenylist) DenySession(context.Context, string, time.Time) error { return errDown }

type failingThrottle struct{ port.LoginThrottle }

func (failingThrottle) Check(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, errDown
}

func (failingThrottle) Fail(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, errDown
}

func (failingThrottle) Reserve(context.Context, port.LoginAttempt) (time.Duration, error) {
	return 0, errDown
}
