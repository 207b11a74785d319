package port

import (
	"context"
	"time"
)

// SessionClient is where one login session came from: the username of its
// user and the IP it was created from, at CreatedAt.
type SessionClient struct {
	Username  string
	IP        string
	CreatedAt time.Time
}

// KnownClientSource lists the clients of the sessions created since a time,
// so that the login throttle's known clients (contract §4) can be rebuilt
// after the store that keeps them (Redis) lost its memory. It lives with the
// durable sessions (Postgres). It is a port of its own, not a SessionStore
// method, so that a session store need not implement it.
type KnownClientSource interface {
	// SessionClients calls fn with pages of at most pageSize (≥ 1) clients,
	// one per session created after since (ended or not) whose user still
	// exists, in creation order, and stops at fn's first error, which it
	// returns. A client may appear once per session. A pageSize below 1 is
	// domain.ErrInvalid.
	SessionClients(ctx context.Context, since time.Time, pageSize int, fn func([]SessionClient) error) error
}
