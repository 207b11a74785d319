package apikey_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/authn"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

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

// all renders every event, to search it for secrets.
func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%+v", r.events)
}

// spyStore counts the calls on the request path and can fail them.
type spyStore struct {
	port.APIKeyAuthStore
	lookups atomic.Int64
	touches atomic.Int64
	fail    error
}

func (s *spyStore) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	s.lookups.Add(1)
	if s.fail != nil {
		return nil, s.fail
	}
	return s.APIKeyAuthStore.GetByDigest(ctx, digest)
}

func (s *spyStore) TouchLastUsed(ctx context.Context, seen map[string]time.Time) error {
	s.touches.Add(1)
	if s.fail != nil {
		return s.fail
	}
	return s.APIKeyAuthStore.TouchLastUsed(ctx, seen)
}

type fixture struct {
	clock *memory.Clock
	users *memory.UserStore
	keys  *memory.APIKeyStore
	spy   *spyStore
	audit *recorder
	svc   *apikey.Service
	usage *apikey.LastUsed
	auth  *apikey.Authenticator
}

func newFixture(t testing.TB, maxPerUser int) *fixture {
	t.Helper()
	f := &fixture{clock: memory.NewClock(t0), users: memory.NewUserStore(), audit: &recorder{}}
	f.keys = memory.NewAPIKeyStore(f.users)
	f.keys.AttachAudit(f.audit)
	f.spy = &spyStore{APIKeyAuthStore: f.keys}
	f.svc = apikey.New(apikey.Deps{
		Keys: f.keys, Users: f.users, Generate: crypto.NewAPIKey, Audit: f.audit, Clock: f.clock,
	}, apikey.Settings{MaxPerUser: maxPerUser})
	f.usage = apikey.NewLastUsed(f.spy, time.Minute, nil)
	f.auth = apikey.NewAuthenticator(f.spy, f.clock, f.usage)
	return f
}

// user stores a user with role and returns the principal of their session.
func (f *fixture) user(t testing.TB, role user.Role) principal.Principal {
	t.Helper()
	u := &user.User{
		ID: domain.NewID(), Username: "u-" + domain.NewID()[:10], Role: role,
		PasswordHash: "x", CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(),
	}
	if err := f.users.Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return principal.Principal{
		UserID: u.ID, Username: u.Username, Role: role, Method: principal.MethodJWT,
		Permissions: role.Permissions(), SessionID: "sid", TokenID: "jti",
	}
}

func (f *fixture) create(t *testing.T, p principal.Principal, in apikey.CreateInput) apikey.Issued {
	t.Helper()
	if in.Name == "" {
		in.Name = "test key"
	}
	issued, err := f.svc.Create(context.Background(), p, client, in)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return issued
}

func (f *fixture) authenticate(secret string) (principal.Principal, error) {
	return f.auth.Authenticate(context.Background(), authn.Credential{Kind: authn.KindAPIKey, Secret: secret}, client)
}

// mustAuth fails the test unless secret authenticates.
func (f *fixture) mustAuth(t *testing.T, secret string) principal.Principal {
	t.Helper()
	p, err := f.authenticate(secret)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

// mustRefuse fails the test unless secret gets 401.
func (f *fixture) mustRefuse(t *testing.T, secret string) {
	t.Helper()
	if _, err := f.authenticate(secret); !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("authenticate = %v, want ErrUnauthenticated", err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	wantErr(t, err, domain.ErrInvalid)
	for _, d := range domain.As(err).Details {
		if d.Field == field {
			return
		}
	}
	t.Fatalf("details %+v do not name %q", domain.As(err).Details, field)
}

// noSecret fails the test if s contains the key or its digest.
func noSecret(t *testing.T, what, s string, tok ak.Token) {
	t.Helper()
	body := tok.Secret()[len(ak.Prefix):]
	if strings.Contains(s, body) || strings.Contains(s, tok.Digest()) {
		t.Fatalf("%s contains the key or its digest", what)
	}
}
