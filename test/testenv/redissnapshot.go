package testenv

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// URL is the server's redis:// URL, for a service's redis.url.
func (s *RedisServer) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a client of this server, closed when the test ends.
func (s *RedisServer) Client(t testing.TB) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Snapshot writes the data as it is now to the server's directory (SAVE),
// and the next Restart loads it back: a Redis with RDB persistence coming
// back with an older snapshot.
func (s *RedisServer) Snapshot(t testing.TB) {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	defer func() { _ = c.Close() }()
	if err := c.Save(context.Background()).Err(); err != nil {
		t.Fatalf("SAVE on redis-server %s: %v", s.Addr, err)
	}
}
