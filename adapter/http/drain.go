package httpapi

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// silentConnGrace is how long, once draining has begun, the server still
// waits for a connection that has not sent a single byte of a request.
//
// net/http's Shutdown waits for every connection that is not idle, and it
// counts a connection in StateNew (accepted, nothing read yet) as busy for
// its first 5 seconds. HTTP clients routinely dial spare connections for
// parallel requests and never use some of them (Go's Transport parks them
// in its idle pool), so a drain right after a burst waits out those 5
// seconds for requests that will never come, and a shutdown_timeout of 5 s
// or less fails. Such a connection carries no request, so closing it loses
// nothing: a client that was about to use it sees the connection closed
// before anything was written and, as for any idle keep-alive connection
// closed by a server, retries elsewhere. One second leaves a client that
// really is sending (a slow TLS handshake, a stalled first packet) time to
// get its first byte read.
const silentConnGrace = time.Second

// connTracker remembers when each connection that has not yet sent a request
// was accepted, so a drain can close the silent ones.
type connTracker struct {
	mu     sync.Mutex
	silent map[net.Conn]time.Time
}

func newConnTracker() *connTracker {
	return &connTracker{silent: map[net.Conn]time.Time{}}
}

// track is the http.Server ConnState hook.
func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st == http.StateNew {
		t.silent[c] = time.Now()
		return
	}
	// Active (a request is being read), idle, hijacked or closed: no longer
	// silent, and net/http's Shutdown handles it from here.
	delete(t.silent, c)
}

// closeSilent closes every connection that has sent nothing for at least
// grace since it was accepted and returns how many it closed.
func (t *connTracker) closeSilent(grace time.Duration) int {
	t.mu.Lock()
	var doomed []net.Conn
	now := time.Now()
	for c, at := range t.silent {
		if now.Sub(at) >= grace {
			doomed = append(doomed, c)
			delete(t.silent, c)
		}
	}
	t.mu.Unlock()
	for _, c := range doomed {
		_ = c.Close()
	}
	return len(doomed)
}

// reapSilent closes silent connections every interval until stop is closed,
// for the duration of a drain.
func (t *connTracker) reapSilent(stop <-chan struct{}, grace, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		t.closeSilent(grace)
		select {
		case <-stop:
			return
		case <-tick.C:
		}
	}
}
