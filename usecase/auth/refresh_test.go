package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/auth"
)

func (f *fixture) refresh(token string) (*auth.Token, error) {
	return f.svc.Refresh(context.Background(), token, client)
}

func TestRefreshRotatesOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.addUser(t, "alice", user.RoleEditor, goodPW)
	res := f.login(t, "alice", goodPW)

	f.clock.Advance(5 * time.Minute)
	next, err := f.refresh(res.Token.Token)
	if err != nil {
		t.Fatal(err)
	}
	if next.Token == res.Token.Token || next.SessionID != res.SessionID {
		t.Fatalf("successor = %+v", next)
	}
	if want := t0.Add(5*time.Minute + time.Hour); !next.ExpiresAt.Equal(want) {
		t.Fatalf("expiresAt = %v, want %v", next.ExpiresAt, want)
	}
	p := f.principal(t, next.Token)
	if p.SessionID != res.SessionID || p.Role != user.RoleEditor || p.UserID != u.ID {
		t.Fatalf("successor principal = %+v", p)
	}
	// The old token is revoked at once for ordinary use.
	_, err = f.authenticate(res.Token.Token)
	wantErr(t, err, domain.ErrUnauthenticated)
	sess, _ := f.sessions.Get(context.Background(), res.SessionID)
	if !sess.LastRefreshedAt.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("lastRefreshedAt = %v", sess.LastRefreshedAt)
	}
	if n := len(f.audit.find(audit.ActionRefresh, audit.OutcomeSuccess)); n != 1 {
		t.Fatalf("refresh events = %d", n)
	}
}

func TestRefreshGrace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "bob", user.RoleViewer, goodPW)
	old := f.login(t, "bob", goodPW).Token.Token
	first, err := f.refresh(old)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(9 * time.Second)
	again, err := f.refresh(old)
	if err != nil {
		t.Fatalf("repeat within the grace: %v", err)
	}
	if again.Token != first.Token || !again.ExpiresAt.Equal(first.ExpiresAt) {
		t.Fatal("a repeat within the grace got a different successor")
	}
	if n := len(f.audit.find(audit.ActionRefresh, audit.OutcomeSuccess)); n != 1 {
		t.Fatalf("refresh events = %d, want 1 (one rotation)", n)
	}
	f.clock.Advance(2 * time.Second)
	_, err = f.refresh(old)
	wantErr(t, err, domain.ErrUnauthenticated)
	// The successor itself refreshes normally.
	if _, err := f.refresh(first.Token); err != nil {
		t.Fatalf("refresh successor: %v", err)
	}
}

func TestRefreshConcurrentYieldsOneSuccessor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "carol", user.RoleViewer, goodPW)
	old := f.login(t, "carol", goodPW).Token.Token
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	var errs []error
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := f.refresh(old)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			seen[tok.Token]++
		}()
	}
	wg.Wait()
	if len(errs) > 0 || len(seen) != 1 {
		t.Fatalf("%d distinct successors, errors %v", len(seen), errs)
	}
}

func TestRefreshRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture, res *auth.LoginResult) string
	}{
		{"garbage", func(*testing.T, *fixture, *auth.LoginResult) string { return "not-a-jwt" }},
		{"expired", func(_ *testing.T, f *fixture, r *auth.LoginResult) string {
			f.clock.Advance(time.Hour + 31*time.Second)
			return r.Token.Token
		}},
		{"logged out", func(t *testing.T, f *fixture, r *auth.LoginResult) string {
			if err := f.svc.Logout(context.Background(), f.principal(t, r.Token.Token), client); err != nil {
				t.Fatal(err)
			}
			return r.Token.Token
		}},
		{"session ended", func(t *testing.T, f *fixture, r *auth.LoginResult) string {
			if err := f.svc.Revoker().EndSession(context.Background(), r.SessionID); err != nil {
				t.Fatal(err)
			}
			return r.Token.Token
		}},
		{"user cut off, refreshed later", func(t *testing.T, f *fixture, r *auth.LoginResult) string {
			if err := f.svc.Revoker().CutOff(context.Background(), r.User.ID); err != nil {
				t.Fatal(err)
			}
			f.clock.Advance(5 * time.Second) // now past the not-before: a fresh token would pass
			return r.Token.Token
		}},
		{"session row gone", func(t *testing.T, f *fixture, r *auth.LoginResult) string {
			// A token whose sid was never stored (forged sid with our key is
			// impossible, but a lost row must not be refreshable).
			tok, err := f.tokens.Issue(session.Claims{
				TokenID: domain.NewID(), SessionID: domain.NewID(), UserID: r.User.ID,
				Username: r.User.Username, Role: r.User.Role, ExpiresAt: f.clock.Now().Add(time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"another user's session", func(t *testing.T, f *fixture, r *auth.LoginResult) string {
			tok, err := f.tokens.Issue(session.Claims{
				TokenID: domain.NewID(), SessionID: r.SessionID, UserID: "someone-else",
				Username: "mallory", Role: user.RoleAdmin, ExpiresAt: f.clock.Now().Add(time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{"no role claim", func(t *testing.T, f *fixture, r *auth.LoginResult) string {
			tok, err := f.tokens.Issue(session.Claims{
				TokenID: domain.NewID(), SessionID: r.SessionID, UserID: r.User.ID,
				Username: r.User.Username, ExpiresAt: f.clock.Now().Add(time.Hour),
			})
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.addUser(t, "dave", user.RoleViewer, goodPW)
			res := f.login(t, "dave", goodPW)
			_, err := f.refresh(tt.setup(t, f, res))
			wantErr(t, err, domain.ErrUnauthenticated)
		})
	}
}

func TestRefreshMaxSession(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(_ *auth.Deps, s *auth.Settings) { s.MaxSession = 90 * time.Minute })
	f.addUser(t, "erin", user.RoleViewer, goodPW)
	tok := f.login(t, "erin", goodPW).Token.Token

	f.clock.Advance(50 * time.Minute)
	next, err := f.refresh(tok)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(90 * time.Minute); !next.ExpiresAt.Equal(want) {
		t.Fatalf("successor expires %v, want the session bound %v", next.ExpiresAt, want)
	}
	// Within the verifier's leeway after exp, the token still verifies, but
	// the session is over.
	f.clock.Set(t0.Add(90*time.Minute + 10*time.Second))
	_, err = f.refresh(next.Token)
	wantErr(t, err, domain.ErrUnauthenticated)
}

func TestRefreshRedisDownIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addUser(t, "fred", user.RoleViewer, goodPW)
	tok := f.login(t, "fred", goodPW).Token.Token
	deps := f.deps
	deps.Denylist = failingDenylist{}
	_, err := auth.New(deps, testSettings).Refresh(context.Background(), tok, client)
	wantErr(t, err, domain.ErrUnavailable)
}
