package port

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/session"
)

// RateDecision is the outcome of one rate-limit check, with what the
// X-RateLimit-* headers report.
type RateDecision struct {
	Allowed    bool
	Limit      int           // requests per minute
	Remaining  int           // requests left in the current burst
	ResetAfter time.Duration // until the budget is full again
	RetryAfter time.Duration // when denied: until the next request would pass
}

// RateLimiter spends one unit of a caller's shared budget. key identifies
// the budget (principal or client IP); every instance sees the same budget.
type RateLimiter interface {
	Allow(ctx context.Context, key string) (RateDecision, error)
}

// RequestGate is the hot path of an authenticated token request in one
// round trip: the revocation check of TokenDenylist.Check and the spending
// of the caller's budget, atomically, so that a revoked token spends nothing
// (a thief holding one cannot drain its victim's budget).
type RequestGate interface {
	// CheckAndSpend returns domain.ErrUnauthenticated, spending nothing, when
	// TokenDenylist.Check would; domain.ErrUnavailable when the store cannot
	// be reached (fail closed, as for the denylist); otherwise the decision
	// of spending one unit of rateKey's budget, the same budget RateLimiter
	// spends for that key.
	CheckAndSpend(ctx context.Context, c session.Claims, rateKey string) (RateDecision, error)
}
