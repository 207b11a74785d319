package port

import (
	"context"
	"time"
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
