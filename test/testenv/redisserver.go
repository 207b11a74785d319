package testenv

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server of the test's own on a free loopback port,
// keeping nothing on disk (--save "" --appendonly no), as many teams run
// Redis as a cache: so a test can restart it empty, or switch to another one,
// without touching the shared Redis other tests use.
type RedisServer struct {
	t    testing.TB
	Port int
	dir  string // where SAVE writes its snapshot, loaded again at a restart
	cmd  *exec.Cmd
}

// StartRedisServer starts a private redis-server and stops it when the test
// ends. It fails the test when redis-server is not installed.
func StartRedisServer(t testing.TB) *RedisServer {
	t.Helper()
	skipIfShort(t, "redis-server")
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("testenv: redis-server is not installed: %v\n%s", err, startRedis)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: find a free port: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &RedisServer{t: t, Port: port, dir: t.TempDir()}
	s.start()
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *RedisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is the server's redis:// URL.
func (s *RedisServer) URL() string { return "redis://" + s.Addr() + "/0" }

func (s *RedisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", //nolint:gosec // fixed binary, test-chosen port
		"--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("testenv: start redis-server on %d: %v", s.Port, err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("testenv: redis-server on %d did not answer: %v", s.Port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server (idempotent): everything it held is gone.
func (s *RedisServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart kills the server and starts an empty one on the same port, as a
// Redis without persistence comes back after a crash or a restart (or, after
// Snapshot, one holding that snapshot, as a Redis with RDB persistence).
func (s *RedisServer) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Snapshot writes the data as it is now to disk (SAVE); the next Restart
// loads it.
func (s *RedisServer) Snapshot() {
	s.t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	defer func() { _ = c.Close() }()
	if err := c.Save(context.Background()).Err(); err != nil {
		s.t.Fatalf("testenv: SAVE on %s: %v", s, err)
	}
}

// Client returns a client of this server, closed when the test ends.
func (s *RedisServer) Client() goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr()})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// String names the server in failure messages.
func (s *RedisServer) String() string { return fmt.Sprintf("redis-server :%d", s.Port) }
