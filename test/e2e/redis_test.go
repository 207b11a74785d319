package e2e_test

import (
	"context"
	"regexp"
	"strconv"
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
