package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/infra/dial"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// Contract §15, with the in-process hot path (issue 14): when a revoking
// call has answered, no instance accepts the credential any more, although
// a fresh instance checks it with no round trip.

// ppFast is a short lease (so 1,000 revocations take seconds) and rate
// limiting on with a budget too large to trip, so that tokens go through
// the gate as in production.
func ppFast(lease time.Duration) harness.Option {
	return harness.WithConfig(func(c *config.Config) {
		c.Redis.RevocationLease = lease
		c.Performance.RateLimit.Enabled = true
		c.Performance.RateLimit.RequestsPerMinute = 60_000_000
		c.Performance.RateLimit.Burst = 1_000_000
		c.Security.LoginThrottle.MaxFailuresPerUser = 1_000_000
		c.Security.LoginThrottle.MaxFailuresPerIP = 1_000_000
	})
}

// ppCredential is one credential to revoke: a token or an API key.
type ppCredential struct {
	bearer, key string
}

func (c ppCredential) me(t *testing.T, s *harness.Server) int {
	t.Helper()
	return s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: c.bearer, APIKey: c.key}).Status
}

// ppWaitFresh waits until s answers the credential locally (its follower
// caught up after start).
func ppWaitFresh(t *testing.T, s *harness.Server, c ppCredential) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for c.me(t, s) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("%s never accepted a live credential", s.URL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// One instance revokes, in every way, and the other refuses the credential
// on its first request after the revoking call answered: 1,000 times, at
// random moments, with the other instance using the credential all along
// (so its caches fill while the revocation races them).
func TestRevocationReachesTheOtherInstanceBeforeTheCallAnswers(t *testing.T) {
	harness.PostgresOnly(t, "two instances sharing Redis")
	t.Parallel()
	a := harness.Start(t, ppFast(20*time.Millisecond))
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)
	ppWaitFresh(t, b, ppCredential{bearer: admin})

	const rounds = 1000
	kinds := []string{"logout", "session end", "key revoke", "logout", "session end", "key revoke"}
	var done atomic.Int64
	var failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 5 {
			t.Errorf(format, args...)
		}
	}
	// A few users, each with a password that stays the same: logins are cheap.
	type acct struct{ id, name, pw, token string }
	accts := make([]acct, 8)
	for i := range accts {
		accts[i].id, accts[i].name, accts[i].pw = a.CreateUser(t, admin, "editor")
		accts[i].token = a.Login(t, accts[i].name, accts[i].pw)
	}
	var wg sync.WaitGroup
	for w := range accts {
		wg.Go(func() {
			ac := accts[w]
			rng := rand.New(rand.NewPCG(uint64(w), 14))
			for done.Add(1) <= rounds && failures.Load() == 0 {
				kind := kinds[rng.IntN(len(kinds))]
				var cred ppCredential
				var revoke func() int
				switch kind {
				case "logout":
					tok := a.Login(t, ac.name, ac.pw)
					cred = ppCredential{bearer: tok}
					revoke = func() int {
						return a.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: tok}).Status
					}
				case "session end":
					tok := b.Login(t, ac.name, ac.pw)
					_, claims := idClaims(t, tok)
					sid, _ := claims["sid"].(string)
					cred = ppCredential{bearer: tok}
					revoke = func() int {
						return a.Do(t, harness.Req{Method: http.MethodDelete, Path: "/api/v1/auth/sessions/" + sid, Bearer: ac.token}).Status
					}
				case "key revoke":
					k := akCreate(t, a, ac.token, map[string]any{"name": "race"})
					cred = ppCredential{key: k.Key}
					revoke = func() int {
						return a.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + k.ID, Bearer: ac.token}).Status
					}
				}
				// b uses the credential before and during the revocation.
				for range rng.IntN(3) {
					cred.me(t, b)
				}
				var answered atomic.Int64 // unix nanos when a's call answered
				stop := make(chan struct{})
				hammer := make(chan struct{})
				go func() {
					defer close(hammer)
					for {
						select {
						case <-stop:
							return
						default:
						}
						start := time.Now().UnixNano()
						st := cred.me(t, b)
						if at := answered.Load(); at != 0 && start > at && st == http.StatusOK {
							fail("%s: b accepted the credential on a request sent %v after a answered", kind, time.Duration(start-at))
						}
						time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) // its own source: rng is the worker's
					}
				}()
				time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond)
				if st := revoke(); st != http.StatusNoContent {
					fail("%s on a: %d", kind, st)
				}
				answered.Store(time.Now().UnixNano())
				if st := cred.me(t, b); st != http.StatusUnauthorized {
					fail("%s: b's first request after a answered: %d, want 401", kind, st)
				}
				close(stop)
				<-hammer
			}
		})
	}
	wg.Wait()
	// And the heavy ones, less often: password change, disable, role change.
	for i := range 10 {
		id, name, pw := a.CreateUser(t, admin, "editor")
		other := b.Login(t, name, pw)
		key := akCreate(t, a, b.Login(t, name, pw), map[string]any{"name": "owner change"})
		ppWaitFresh(t, b, ppCredential{bearer: other})
		ppCredential{key: key.Key}.me(t, b)
		var r *harness.Response
		switch i % 3 {
		case 0:
			self := a.Login(t, name, pw)
			r = a.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/password", Bearer: self,
				Body: map[string]string{"currentPassword": pw, "newPassword": fmt.Sprintf("a brand new passphrase %d", i+17)}})
			if r.Status != http.StatusNoContent {
				t.Fatalf("password change: %d %s", r.Status, r.Body)
			}
		case 1:
			idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"disabled": true})), http.StatusOK, "")
			if st := (ppCredential{key: key.Key}).me(t, b); st != http.StatusUnauthorized {
				t.Fatalf("disable: b accepted the user's API key: %d", st)
			}
		case 2:
			idWantStatus(t, a.Do(t, idUserReq(http.MethodPatch, "/api/v1/users/"+id, admin, map[string]any{"role": "viewer"})), http.StatusOK, "")
			me := b.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", APIKey: key.Key})
			if me.Status == http.StatusOK && !strings.Contains(string(me.Body), `"viewer"`) {
				t.Fatalf("role change: b still serves the key with the old role: %s", me.Body)
			}
		}
		if st := (ppCredential{bearer: other}).me(t, b); st != http.StatusUnauthorized {
			t.Fatalf("change %d: b accepted the other session's token: %d", i%3, st)
		}
	}
}

// ppBehindProxy is b, sharing a's database and Redis prefix, but reaching
// Redis through p.
func ppBehindProxy(p *testenv.Proxy) harness.Option {
	return harness.WithConfig(func(c *config.Config) {
		c.Redis.URL = "redis://" + p.Addr + "/0"
		c.Redis.Addrs = nil
	})
}

// ppRefused waits for s to answer the credential with anything but 200
// and fails if it ever answers 200.
func ppNeverAccepted(t *testing.T, s *harness.Server, c ppCredential, when string) int {
	t.Helper()
	st := c.me(t, s)
	if st == http.StatusOK {
		t.Fatalf("%s: %s accepted a revoked credential", when, s.URL)
	}
	return st
}

// ppCutOff is a pair of instances where b reaches Redis through a proxy
// the test can cut, with a user's live token b accepts (keeper).
type ppCutOff struct {
	a, b   *harness.Server
	proxy  *testenv.Proxy
	redis  goredis.UniversalClient // straight to the Redis both use
	user   [2]string               // name, password
	keeper ppCredential
}

func ppStartCutOff(t *testing.T) *ppCutOff {
	t.Helper()
	a := harness.Start(t, ppFast(100*time.Millisecond))
	addr := redisAddr(t)
	p := testenv.StartProxy(t, addr)
	b := harness.Start(t, harness.SharedWith(a), ppBehindProxy(p))
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	_, name, pw := a.CreateUser(t, a.AdminToken(t), "editor")
	c := &ppCutOff{a: a, b: b, proxy: p, redis: rdb, user: [2]string{name, pw}}
	c.keeper = c.login(t)
	return c
}

// login returns a new token of the user that b accepts.
func (c *ppCutOff) login(t *testing.T) ppCredential {
	t.Helper()
	cred := ppCredential{bearer: c.a.Login(t, c.user[0], c.user[1])}
	ppWaitFresh(t, c.b, cred)
	return cred
}

// logout revokes cred on a.
func (c *ppCutOff) logout(t *testing.T, cred ppCredential) {
	t.Helper()
	idWantStatus(t, c.a.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: cred.bearer}), http.StatusNoContent, "")
}

// b's link to Redis is cut silently (a partition): b stops trusting its
// set within the lease, never accepts a credential revoked meanwhile on a,
// and recovers when the link heals. Then the same with the link killed
// (CLIENT KILL of b's connections).
func TestAPartitionedInstanceNeverAcceptsARevokedCredential(t *testing.T) {
	harness.PostgresOnly(t, "an instance cut off from Redis")
	t.Parallel()
	c := ppStartCutOff(t)
	revoked := c.login(t)
	c.proxy.Cut()
	c.logout(t, revoked)
	if st := ppNeverAccepted(t, c.b, revoked, "partitioned"); st != http.StatusServiceUnavailable && st != http.StatusUnauthorized {
		t.Fatalf("partitioned, revoked token: %d, want 503 (or 401)", st)
	}
	c.proxy.Heal()
	ppWaitFresh(t, c.b, c.keeper)
	if st := revoked.me(t, c.b); st != http.StatusUnauthorized {
		t.Fatalf("healed, revoked token: %d, want 401", st)
	}

	// CLIENT KILL of b's connections (those through the proxy), right
	// before a revokes.
	killed := c.login(t)
	for _, la := range c.proxy.Outbound() {
		_ = c.redis.ClientKillByFilter(context.Background(), "ADDR", la).Err()
	}
	c.logout(t, killed)
	if st := ppNeverAccepted(t, c.b, killed, "after CLIENT KILL"); st != http.StatusUnauthorized && st != http.StatusServiceUnavailable {
		t.Fatalf("after CLIENT KILL, revoked token: %d", st)
	}
	ppWaitFresh(t, c.b, c.keeper)
	if st := killed.me(t, c.b); st != http.StatusUnauthorized {
		t.Fatalf("after CLIENT KILL, recovered, revoked token: %d, want 401", st)
	}
}

// A gap in the feed (trimmed past b's position while b was cut off, and
// the entry's Redis key lost too) is detected and b reloads from the
// durable record: the revocation holds on b although neither the feed nor
// Redis's keys hold it any more.
func TestAFeedGapIsDetectedAndReloadedFromTheRecord(t *testing.T) {
	harness.PostgresOnly(t, "the Redis feed")
	t.Parallel()
	c := ppStartCutOff(t)
	a, b, p, rdb, keeper := c.a, c.b, c.proxy, c.redis, c.keeper
	revoked := c.login(t)
	_, claims := idClaims(t, revoked.bearer)
	jti, _ := claims["jti"].(string)

	p.Cut()
	c.logout(t, revoked)
	ctx := context.Background()
	prefix := a.Config.Redis.KeyPrefix
	log := prefix + "{deny}:log"
	msgs, err := rdb.XRange(ctx, log, "-", "+").Result()
	if err != nil || len(msgs) == 0 {
		t.Fatalf("feed entries: %d, %v", len(msgs), err)
	}
	for _, m := range msgs { // trimmed unread (the service trims with XDEL)
		if err := rdb.XDel(ctx, log, m.ID).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Del(ctx, prefix+"{deny}:jti:"+jti).Err(); err != nil { // and Redis's key lost
		t.Fatal(err)
	}
	p.Heal()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(b.Logs(), `"after_gap":true`) {
		if time.Now().After(deadline) {
			t.Fatalf("b did not reload after the gap; logs:\n%s", b.Logs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	ppWaitFresh(t, b, keeper)
	if st := revoked.me(t, b); st != http.StatusUnauthorized {
		t.Fatalf("after the reload, the revocation the feed lost: %d, want 401", st)
	}
}

// A fresh instance answers JWT and API-key requests with no call to Redis
// or Postgres: a counting dialer under both clients sees, during 2,000
// requests, no more writes than the same instance makes idle in the same
// time (its feed reads, the outbox relay), within 0.05 a request.
func TestTheHotPathMakesNoRoundTrip(t *testing.T) {
	harness.PostgresOnly(t, "Redis and Postgres round trips")
	t.Parallel()
	d := testenv.NewCountingDialer()
	s := harness.Start(t, ppFast(time.Second),
		harness.WithConfig(func(c *config.Config) { c.Performance.RateLimit.Slack = 500_000 }),
		harness.WithFx(fx.Provide(func() dial.Dialer { return d.Dial })))
	rAddr := redisAddr(t)
	pgAddr := "127.0.0.1:5432"
	admin := s.AdminToken(t)
	key := akCreate(t, s, admin, map[string]any{"name": "hot path"})
	creds := []ppCredential{{bearer: admin}, {key: key.Key}}
	for _, c := range creds {
		ppWaitFresh(t, s, c)
		for range 20 { // fill the caches, lease the first slices
			c.me(t, s)
		}
	}
	count := func() (int64, int64) { return d.Writes(rAddr), d.Writes(pgAddr) }

	r0, p0 := count()
	idle := time.Second
	time.Sleep(idle)
	r1, p1 := count()

	const perCredential = 1000
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range creds {
		for range 4 {
			wg.Go(func() {
				for range perCredential / 4 {
					if st := c.me(t, s); st != http.StatusOK {
						t.Errorf("hot path request: %d", st)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	took := time.Since(start)
	r2, p2 := count()
	requests := float64(perCredential * len(creds))
	scale := float64(took) / float64(idle)
	redisExcess := float64(r2-r1) - float64(r1-r0)*scale
	pgExcess := float64(p2-p1) - float64(p1-p0)*scale
	t.Logf("%d requests in %v: Redis writes %d (idle %d in %v), Postgres writes %d (idle %d): %.4f and %.4f a request beyond idle",
		int(requests), took, r2-r1, r1-r0, idle, p2-p1, p1-p0, redisExcess/requests, pgExcess/requests)
	if r1 == r0 {
		t.Fatalf("the dialer counted no Redis write while idle: it is not under the client (the feed is read all along)")
	}
	if redisExcess/requests >= 0.05 || pgExcess/requests >= 0.05 {
		t.Fatalf("the hot path made calls: %.4f Redis and %.4f Postgres writes a request beyond idle, want < 0.05", redisExcess/requests, pgExcess/requests)
	}
}
