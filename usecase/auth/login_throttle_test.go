package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/auth"
)

func TestLoginDistributedGuessingProtectsTheAccount(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "owner", user.RoleViewer, goodPW)
	f.addUser(t, "neighbour", user.RoleViewer, goodPW)
	ctx := context.Background()
	from := func(ip string) principal.Client { return principal.Client{IP: ip, UserAgent: "unit-test/1.0"} }
	// The owner logged in from home before the attack.
	home := from("192.0.2.1")
	if _, err := f.svc.Login(ctx, auth.LoginInput{Username: "owner", Password: goodPW, Client: home}); err != nil {
		t.Fatalf("owner's login: %v", err)
	}
	for c := 1; c <= 5; c++ {
		for i := range 5 {
			_, err := f.svc.Login(ctx, auth.LoginInput{Username: "owner", Password: fmt.Sprintf("guess-%d-%d", c, i), Client: from(fmt.Sprintf("203.0.113.%d", c))})
			if !errors.Is(err, domain.ErrInvalidCredentials) && !errors.Is(err, domain.ErrRateLimited) {
				t.Fatalf("guess %d from client %d: %v", i, c, err)
			}
		}
	}
	// A sixth client with the RIGHT password: 429, without the password judged.
	before := f.hasher.judged.Load()
	_, err := f.svc.Login(ctx, auth.LoginInput{Username: "owner", Password: goodPW, Client: from("203.0.113.6")})
	wantErr(t, err, domain.ErrRateLimited)
	if domain.As(err).RetryAfter <= 0 {
		t.Fatalf("retry after = %v, want > 0", domain.As(err).RetryAfter)
	}
	if f.hasher.judged.Load() != before {
		t.Fatal("an attempt on a protected account from an unknown client was judged")
	}
	// The owner, from a client known to the account, still gets in.
	if _, err := f.svc.Login(ctx, auth.LoginInput{Username: "owner", Password: goodPW, Client: home}); err != nil {
		t.Fatalf("the owner from a known client: %v, want a session", err)
	}
	// Another account is not affected.
	if _, err := f.svc.Login(ctx, auth.LoginInput{Username: "neighbour", Password: goodPW, Client: from("203.0.113.6")}); err != nil {
		t.Fatalf("another account: %v", err)
	}
}

func TestLoginOneIPv6SlashSixtyFourIsOneClient(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "ivy", user.RoleViewer, goodPW)
	ctx := context.Background()
	codes := map[string]int{}
	for i := 1; i <= 8; i++ {
		c := principal.Client{IP: fmt.Sprintf("2001:db8:7:7:%x::1", i), UserAgent: "unit-test/1.0"}
		_, err := f.svc.Login(ctx, auth.LoginInput{Username: "ivy", Password: "not the password", Client: c})
		codes[domain.As(err).Code]++
	}
	if codes[domain.CodeInvalidCredentials] != 5 || codes[domain.CodeRateLimited] != 3 {
		t.Fatalf("8 addresses of one /64: outcomes %v, want 5 judged and 3 throttled (one counter)", codes)
	}
}

// flakySessions is a session store whose Create fails while down is set.
type flakySessions struct {
	port.SessionStore
	down atomic.Bool
}

func (s *flakySessions) Create(ctx context.Context, sess session.Session, events ...audit.Event) error {
	if s.down.Load() {
		return domain.Unavailable("sessions", errors.New("connection refused"))
	}
	return s.SessionStore.Create(ctx, sess, events...)
}

func TestLoginServerFailureGivesTheThrottleUnitBack(t *testing.T) {
	t.Parallel()
	var sessions *flakySessions
	f := newFixture(t, func(d *auth.Deps, _ *auth.Settings) {
		sessions = &flakySessions{SessionStore: d.Sessions}
		d.Sessions = sessions
	})
	f.addUser(t, "jack", user.RoleViewer, goodPW)
	ctx := context.Background()
	sessions.down.Store(true)
	for i := range 10 { // twice the username+client limit
		_, err := f.svc.Login(ctx, auth.LoginInput{Username: "jack", Password: goodPW, Client: client})
		wantErr(t, err, domain.ErrUnavailable)
		_ = i
	}
	sessions.down.Store(false)
	f.login(t, "jack", goodPW) // not 429: the failed attempts were given back
}
