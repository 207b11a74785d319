package e2e_test

import (
	"net/http"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
	"github.com/m9m/auth/usecase/revocation"
)

// rvNoWatch turns the denylist's once-a-second epoch watch down to hourly,
// for tests that count a request's Redis round trips: the watch is
// background traffic, not the request's.
func rvNoWatch() harness.Option {
	return harness.WithFx(fx.Decorate(func(revocation.Settings) revocation.Settings {
		return revocation.Settings{Watch: time.Hour}
	}))
}

// rvScenario is every kind of revocation the hot path relies on, made on two
// instances, with the credentials that must stay refused and those that
// must keep working.
type rvScenario struct {
	a, b    *harness.Server
	revoked map[string]string // what → token
	live    map[string]string
	// refreshedFrom is a token already rotated by a refresh; a second
	// refresh of it must never mint another successor.
	refreshedFrom string
}

// rvRevokeEverything logs in several users and revokes in every way:
// logout, session end, password change, refresh rotation, disable, delete,
// role change. Each revoking call is made on one instance and checked on the
// other, before Redis loses anything.
func rvRevokeEverything(t *testing.T, a, b *harness.Server) *rvScenario {
	t.Helper()
	sc := &rvScenario{a: a, b: b, revoked: map[string]string{}, live: map[string]string{}}
	admin := a.AdminToken(t)
	sc.live["admin"] = admin

	_, name, pw := a.CreateUser(t, admin, "editor")
	out := a.Login(t, name, pw)
	idWantStatus(t, a.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: out}), http.StatusNoContent, "")
	sc.revoked["logged out"] = out

	_, name, pw = a.CreateUser(t, admin, "editor")
	keeper, ended := a.Login(t, name, pw), b.Login(t, name, pw)
	_, claims := idClaims(t, ended)
	sid, _ := claims["sid"].(string)
	idWantStatus(t, b.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + sid, Bearer: keeper}), http.StatusNoContent, "")
	sc.revoked["ended session"], sc.live["session keeper"] = ended, keeper

	_, name, pw = a.CreateUser(t, admin, "viewer")
	changer, other := a.Login(t, name, pw), b.Login(t, name, pw)
	idWantStatus(t, a.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: changer,
		Body: map[string]string{"currentPassword": pw, "newPassword": "a brand new passphrase 17"},
	}), http.StatusNoContent, "")
	sc.revoked["other session after a password change"], sc.live["password changer"] = other, changer

	_, name, pw = a.CreateUser(t, admin, "viewer")
	old := a.Login(t, name, pw)
	r, next := idRefresh(t, b, old)
	idWantStatus(t, r, http.StatusOK, "")
	sc.revoked["refreshed token"], sc.live["its successor"], sc.refreshedFrom = old, next.Token, old

	id, name, pw := a.CreateUser(t, admin, "editor")
	disabled := b.Login(t, name, pw)
	idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"disabled": true})), http.StatusOK, "")
	sc.revoked["disabled user"] = disabled

	id, name, pw = a.CreateUser(t, admin, "viewer")
	deleted := b.Login(t, name, pw)
	idWantStatus(t, a.Do(t, idUserReq(http.MethodDelete, "/api/v1/users/"+id, admin, nil)), http.StatusNoContent, "")
	sc.revoked["deleted user"] = deleted // its session rows are gone; its not-before is not

	id, name, pw = a.CreateUser(t, admin, "viewer")
	demoted := b.Login(t, name, pw)
	idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"role": "admin"})), http.StatusOK, "")
	sc.revoked["token of the old role"] = demoted

	for what, tok := range sc.revoked {
		for _, s := range []*harness.Server{a, b} {
			if got := idMe(t, s, tok).Status; got != http.StatusUnauthorized {
				t.Fatalf("before the loss, %s: %d, want 401", what, got)
			}
		}
	}
	return sc
}

// refusedBy fails the test if any revoked credential is accepted (200) by
// either instance, or, when want is not 0, answered anything but want. A
// second refresh of the rotated token must be refused too.
func (sc *rvScenario) refusedBy(t *testing.T, when string, want int) {
	t.Helper()
	for _, s := range []*harness.Server{sc.a, sc.b} {
		for what, tok := range sc.revoked {
			got := idMe(t, s, tok).Status
			if got == http.StatusOK || (want != 0 && got != want) || (got != http.StatusUnauthorized && got != http.StatusServiceUnavailable) {
				t.Fatalf("%s, %s on %s: %d, want 401 or 503 (never 200)", when, what, s.URL, got)
			}
		}
		r, tok := idRefresh(t, s, sc.refreshedFrom)
		if r.Status == http.StatusOK || (want != 0 && r.Status != want) {
			t.Fatalf("%s, second refresh of a rotated token on %s: %d %q, want refused", when, s.URL, r.Status, tok.Token)
		}
	}
}

// rebuilt waits until every live credential works on both instances again
// (the cache was rebuilt), then checks that the revoked ones are 401.
func (sc *rvScenario) rebuilt(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range []*harness.Server{sc.a, sc.b} {
		for what, tok := range sc.live {
			for {
				got := idMe(t, s, tok).Status
				if got == http.StatusOK {
					break
				}
				if got != http.StatusServiceUnavailable || time.Now().After(deadline) {
					t.Fatalf("after the loss, live %s on %s: %d, want 503 until rebuilt, then 200", what, s.URL, got)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	sc.refusedBy(t, "after the rebuild", http.StatusUnauthorized)
	for _, s := range []*harness.Server{sc.a, sc.b} {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/ready"})
		idWantStatus(t, r, http.StatusOK, "")
	}
}

func TestRevocationsSurviveARedisRestart(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "Redis losing its memory; the embedded mode has no Redis (its restarts: TestEmbeddedRestartKeepsEverything)")
	rs := testenv.StartRedisServer(t)
	a := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Redis.URL = rs.URL() }))
	b := harness.Start(t, harness.SharedWith(a))
	sc := rvRevokeEverything(t, a, b)

	rs.Restart(t) // empty: --save "" --appendonly no
	sc.refusedBy(t, "right after the restart", 0)
	sc.rebuilt(t)
}

func TestRevocationsSurviveAFailoverToAnEmptyReplica(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "Redis losing its memory; the embedded mode has no Redis (its restarts: TestEmbeddedRestartKeepsEverything)")
	primary, replica := testenv.StartRedisServer(t), testenv.StartRedisServer(t)
	proxy := testenv.StartProxy(t, primary.Addr)
	a := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Redis.URL = "redis://" + proxy.Addr + "/0" }))
	b := harness.Start(t, harness.SharedWith(a))
	sc := rvRevokeEverything(t, a, b)

	proxy.SetTarget(replica.Addr) // the replica never received the primary's data
	sc.refusedBy(t, "right after the failover", 0)
	sc.rebuilt(t)
	if n, err := replica.Client(t).Exists(t.Context(), a.Config.Redis.KeyPrefix+"{deny}:epoch").Result(); err != nil || n != 1 {
		t.Fatalf("the replica was not rebuilt (epoch %d, %v)", n, err)
	}
}

// A Redis with RDB persistence comes back holding an old snapshot: its epoch
// marker was written by the previous process (another run_id), so it is
// dropped and the cache rebuilt within the rebuilder's watch (1 s), and a
// logout made after the snapshot is refused again.
func TestRevocationsSurviveARestoreOfAnOlderSnapshot(t *testing.T) {
	t.Parallel()
	harness.PostgresOnly(t, "Redis losing its memory; the embedded mode has no Redis (its restarts: TestEmbeddedRestartKeepsEverything)")
	rs := testenv.StartRedisServer(t)
	a := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Redis.URL = rs.URL() }))
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)
	_, name, pw := a.CreateUser(t, admin, "viewer")
	before, after := a.Login(t, name, pw), b.Login(t, name, pw)
	logout := func(s *harness.Server, tok string) {
		idWantStatus(t, s.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: tok}), http.StatusNoContent, "")
	}
	logout(a, before)
	rs.Snapshot(t)
	logout(b, after) // not in the snapshot
	rs.Restart(t)

	deadline := time.Now().Add(5 * time.Second)
	for _, s := range []*harness.Server{a, b} {
		for idMe(t, s, after).Status != http.StatusUnauthorized {
			if time.Now().After(deadline) {
				t.Fatalf("%s still accepts a token logged out after the snapshot", s.URL)
			}
			time.Sleep(50 * time.Millisecond)
		}
		idWantStatus(t, idMe(t, s, before), http.StatusUnauthorized, "AUTH_REQUIRED")
		idWantStatus(t, idMe(t, s, admin), http.StatusOK, "")
	}
}
