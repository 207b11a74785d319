package testenv

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// RedisServer is a redis-server process that a test started for itself on
// a free loopback port, in its own temporary directory, persisting nothing.
// Tests that must restart Redis, or need several servers (a cluster), use
// it instead of the shared server.
type RedisServer struct {
	// Addr is host:port of the server.
	Addr string
	// Port is its port.
	Port int
	dir  string
	args []string
	cmd  *exec.Cmd
}

// StartRedisServer starts redis-server with extra arguments appended, waits
// until it answers PING, and stops it when the test ends. Without a
// redis-server on PATH the test fails saying how to install it (make
// services installs it); under -short it steps aside like every
// integration test.
func StartRedisServer(t testing.TB, extra ...string) *RedisServer {
	t.Helper()
	skipIfShort(t, "redis-server")
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server not found on PATH: install it (apt-get install redis-server): %v", err)
	}
	port := FreePort(t)
	s := &RedisServer{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, dir: t.TempDir()}
	s.args = append([]string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", s.dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
	}, extra...)
	s.start(t)
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

func (s *RedisServer) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command("redis-server", s.args...) //nolint:gosec,noctx // fixed binary, test-chosen arguments; lives until Stop
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	s.cmd = cmd
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer func() { _ = c.Close() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not answer within 10s: %v", s.Addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it
// to exit. Stopping a stopped server does nothing.
func (s *RedisServer) Stop(t testing.TB) {
	t.Helper()
	if s.cmd == nil {
		return
	}
	cmd := s.cmd
	s.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Restart stops the server and starts it again on the same port: a Redis
// restart, which forgets everything (nothing is persisted), scripts included.
func (s *RedisServer) Restart(t testing.TB) {
	t.Helper()
	s.Stop(t)
	s.start(t)
}

// StartRedisCluster starts n redis-server processes with cluster mode on
// (each on free loopback ports for clients and the cluster bus, in its own
// directory, persisting nothing), joins them into a cluster of n masters
// with `redis-cli --cluster create`, waits until every node reports
// cluster_state:ok, and returns the nodes' addresses. The servers stop
// when the test ends.
func StartRedisCluster(t testing.TB, n int) []string {
	t.Helper()
	skipIfShort(t, "redis-server")
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatalf("redis-cli not found on PATH: install it (apt-get install redis-tools): %v", err)
	}
	addrs := make([]string, 0, n)
	for range n {
		srv := StartRedisServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(FreePort(t)), "--cluster-node-timeout", "5000")
		addrs = append(addrs, srv.Addr)
	}
	args := append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil { //nolint:gosec // fixed binary, test-chosen arguments
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		for {
			info, err := c.ClusterInfo(ctx).Result()
			if err == nil && strings.Contains(info, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				_ = c.Close()
				t.Fatalf("redis cluster node %s not ok within 30s: %v\n%s", addr, err, info)
			}
			time.Sleep(20 * time.Millisecond)
		}
		_ = c.Close()
	}
	return addrs
}
