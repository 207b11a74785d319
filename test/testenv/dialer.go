package testenv

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
)

// CountingDialer dials as net.Dialer does and counts, per address dialed,
// the writes made on its connections: a client sends each command (or
// pipeline, or query) in one write or more, so a path that writes nothing
// made no call.
type CountingDialer struct {
	mu     sync.Mutex
	writes map[string]*atomic.Int64
}

// NewCountingDialer returns a dialer with every count at zero.
func NewCountingDialer() *CountingDialer {
	return &CountingDialer{writes: map[string]*atomic.Int64{}}
}

// Dial opens a counted connection to addr.
func (d *CountingDialer) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	c, err := nd.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return countedConn{Conn: c, writes: d.counter(addr)}, nil
}

func (d *CountingDialer) counter(addr string) *atomic.Int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	n, ok := d.writes[addr]
	if !ok {
		n = &atomic.Int64{}
		d.writes[addr] = n
	}
	return n
}

// Writes returns how many writes were made on connections to addr.
func (d *CountingDialer) Writes(addr string) int64 { return d.counter(addr).Load() }

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countedConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}
