package principal

import "time"

// RateBudget is the outcome of spending one unit of the caller's rate
// budget, carried on the Principal when authentication already spent it, so
// the edge can answer with the budget headers or a 429 without asking again.
type RateBudget struct {
	Allowed    bool
	Limit      int           // requests per minute
	Remaining  int           // requests left in the current burst
	ResetAfter time.Duration // until the budget is full again
	RetryAfter time.Duration // when denied: until the next request would pass
}
