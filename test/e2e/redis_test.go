package e2e_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// cachedScripts reads number_of_cached_scripts from INFO memory.
func cachedScripts(t *testing.T, c goredis.UniversalClient) int {
	t.Helper()
	info, err := c.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`number_of_cached_scripts:(\d+)`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("INFO memory has no number_of_cached_scripts:\n%s", info)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestRedisScriptsAreLoadedAtStart starts the service on a Redis of its
// own: the scripts are cached before the first request, and a login (whose
// throttle runs a script) adds none, because it found its script loaded.
func TestRedisScriptsAreLoadedAtStart(t *testing.T) {
	t.Parallel()
	srv := testenv.StartRedisServer(t)
	probe := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = probe.Close() })
	if n := cachedScripts(t, probe); n != 0 {
		t.Fatalf("a fresh Redis caches %d scripts", n)
	}
	s := harness.Start(t, harness.WithConfig(func(c *config.Config) { c.Redis.URL = "redis://" + srv.Addr }))
	loaded := cachedScripts(t, probe)
	if loaded < 5 {
		t.Fatalf("%d scripts cached after start, want all of the Redis adapters' scripts", loaded)
	}
	s.AdminToken(t) // login: throttle reservation and forgiveness scripts
	if n := cachedScripts(t, probe); n != loaded {
		t.Fatalf("a login made Redis cache %d more scripts: they were not all loaded at start", n-loaded)
	}
}

// clusterRedis points an instance at the Redis Cluster addrs (redis.addrs).
func clusterRedis(addrs []string) harness.Option {
	return harness.WithConfig(func(c *config.Config) {
		c.Redis.URL = ""
		c.Redis.Addrs = addrs
	})
}

// TestRedisCluster runs what lives in Redis against a real three-master
// Redis Cluster the test starts on loopback (issue 11 item 5): sessions
// across two instances (login, refresh, logout), API keys, the login
// throttle, and — on a second pair with rate limiting on — one budget
// shared by both instances, spent in the gate's one script.
func TestRedisCluster(t *testing.T) {
	t.Parallel()
	addrs := testenv.StartRedisCluster(t, 3)
	a := harness.Start(t, clusterRedis(addrs))
	b := harness.Start(t, harness.SharedWith(a))
	admin := a.AdminToken(t)

	// Sessions: login on a, refresh on b, the old token dies on a, logout
	// on b, the new token dies on a.
	_, name, pw := a.CreateUser(t, admin, "editor")
	first := a.Login(t, name, pw)
	idWantStatus(t, idMe(t, b, first), http.StatusOK, "")
	r, next := idRefresh(t, b, first)
	idWantStatus(t, r, http.StatusOK, "")
	idWantStatus(t, idMe(t, a, first), http.StatusUnauthorized, "AUTH_REQUIRED")
	idWantStatus(t, idMe(t, a, next.Token), http.StatusOK, "")
	idWantStatus(t, b.Do(t, harness.Req{Method: http.MethodPost, Path: "/api/v1/auth/logout", Bearer: next.Token}), http.StatusNoContent, "")
	idWantStatus(t, idMe(t, a, next.Token), http.StatusUnauthorized, "AUTH_REQUIRED")
	r, _ = idRefresh(t, a, next.Token)
	idWantStatus(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")

	// API keys: created on a, used on b, revoked on b, refused on a.
	key := akCreate(t, a, admin, nil)
	akWantStatus(t, akMe(t, b, key.Key), http.StatusOK, "")
	akWantStatus(t, b.Do(t, harness.Req{Method: http.MethodDelete, Path: akPath + "/" + key.ID, Bearer: admin}), http.StatusNoContent, "")
	akWantStatus(t, akMe(t, a, key.Key), http.StatusUnauthorized, "AUTH_REQUIRED")

	// Login throttle: five failures spread over both instances, then both
	// refuse even the right password.
	_, victim, victimPW := a.CreateUser(t, admin, "viewer")
	for i := range 5 {
		s := a
		if i%2 == 1 {
			s = b
		}
		idWantStatus(t, s.Do(t, idLoginReq(victim, "not the password at all")), http.StatusUnauthorized, "INVALID_CREDENTIALS")
	}
	idWantStatus(t, b.Do(t, idLoginReq(victim, "not the password at all")), http.StatusTooManyRequests, "RATE_LIMITED")
	idWantStatus(t, a.Do(t, idLoginReq(victim, victimPW)), http.StatusTooManyRequests, "RATE_LIMITED")

	// One rate budget over both instances (burst 4, refilled once a
	// minute): four authenticated requests alternating a and b pass, the
	// fifth is refused on either.
	const burst = 4
	c := harness.Start(t, harness.SharedWith(a), edgeRateLimit(burst))
	d := harness.Start(t, harness.SharedWith(c))
	tok := c.Login(t, name, pw)
	for i := range burst {
		s := c
		if i%2 == 1 {
			s = d
		}
		idWantStatus(t, idMe(t, s, tok), http.StatusOK, "")
	}
	idWantStatus(t, idMe(t, c, tok), http.StatusTooManyRequests, "RATE_LIMITED")
	idWantStatus(t, idMe(t, d, tok), http.StatusTooManyRequests, "RATE_LIMITED")

	// The keys really are spread over the cluster's masters.
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: addrs})
	t.Cleanup(func() { _ = cc.Close() })
	var holding atomic.Int32
	err := cc.ForEachMaster(context.Background(), func(ctx context.Context, m *goredis.Client) error {
		n, err := m.DBSize(ctx).Result()
		if n > 0 {
			holding.Add(1)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if holding.Load() < 2 {
		t.Fatalf("only %d of 3 masters hold keys: the test did not exercise the cluster", holding.Load())
	}
}
