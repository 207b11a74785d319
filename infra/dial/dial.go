// Package dial lets tests reach under the database and Redis clients: an
// optional Dialer, given to the app through fx, opens every connection the
// service makes to Postgres and Redis (a test counts what crosses them).
// Production provides none and the drivers dial as they always do.
package dial

import (
	"context"
	"net"
	"time"
)

// Dialer opens a connection to addr.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

// Postgres adapts d to lib/pq's dialer interfaces (pq.Dialer and
// pq.DialerContext).
type Postgres struct{ D Dialer }

// Dial opens a connection.
func (p Postgres) Dial(network, addr string) (net.Conn, error) {
	return p.D(context.Background(), network, addr)
}

// DialTimeout opens a connection within timeout.
func (p Postgres) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return p.D(ctx, network, addr)
}

// DialContext opens a connection within ctx.
func (p Postgres) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return p.D(ctx, network, addr)
}
