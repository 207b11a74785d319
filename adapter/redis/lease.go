package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// LeaseValidity is the longest a lease handed out by Lease may be held: its
// ValidFor. Callers hold their slices for less (usecase/budget holds them
// for Slack × T, at most this); the leaser only states the outer bound, so
// that no slice outlives a second whoever holds it.
const LeaseValidity = time.Second

var _ port.BudgetLeaser = (*RateLimiter)(nil)

// leaseLua spends up to want units of the budget at KEYS[1] at once, with
// the GCRA of gcraLua (same TAT encoding, same Redis clock, same expiry):
// from a TAT ahead of now by ahead ≤ τ, the units that conform now are
// c = ⌊(τ − ahead) / T⌋ + 1 (the next one, then one per T of tolerance
// left); n = min(want, c) of them are granted, as n requests arriving
// together now would be, and the TAT moves by n × T. It returns {allowed,
// remaining, retryAfterµs, resetAfterµs, granted}: remaining is c − n (what
// still conforms now), and a budget with nothing that conforms grants 0
// with the wait until its next unit.
const leaseLua = `
local function lease(key, interval, tolerance, want)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tat = tonumber(redis.call('GET', key) or '')
  if tat then tat = math.floor(tat * 1000000 + 0.5) else tat = now end
  if tat < now then tat = now end
  local ahead = tat - now
  if ahead > tolerance then
    return {0, 0, ahead - tolerance, ahead, 0}
  end
  local conforming = math.floor((tolerance - ahead) / interval) + 1
  local n = want
  if n > conforming then n = conforming end
  local newTat = tat + n * interval
  redis.call('SET', key, string.format('%d.%06d', math.floor(newTat / 1000000), newTat % 1000000),
    'PX', math.ceil((newTat - now) / 1000))
  return {1, conforming - n, 0, newTat - now, n}
end
`

// leaseScript: KEYS[1] the budget; ARGV T, τ (µs), want (≥ 1).
var leaseScript = newScript(leaseLua + `
return lease(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
`)

// Lease spends up to want units of key's budget in one script call (one
// EVALSHA) and hands them to the caller: Granted = min(want, the units that
// conform now), each spent as a request arriving now would spend it, so a
// lease and Allow draw on one budget and n leased units cost exactly what n
// allowed requests cost. want below 1 is taken as 1. Decision is the budget
// after the grant (Allowed when Granted > 0; RetryAfter when it is 0). A
// Redis failure is returned as Allow returns it (domain.ErrUnavailable).
func (l *RateLimiter) Lease(ctx context.Context, key string, want int) (port.BudgetLease, error) {
	want = max(want, 1)
	res, err := leaseScript.Run(ctx, l.client, []string{l.key(key)}, l.gcra.interval, l.gcra.tolerance, want).Int64Slice()
	if err != nil {
		return port.BudgetLease{}, fmt.Errorf("rate limiter: %w", translate(err))
	}
	if len(res) != 5 || res[4] < 0 || res[4] > int64(want) {
		return port.BudgetLease{}, domain.Internal(fmt.Errorf("rate limiter: lease script returned %v", res))
	}
	d, err := l.gcra.decision(res[:4])
	if err != nil {
		return port.BudgetLease{}, err
	}
	return port.BudgetLease{Granted: int(res[4]), ValidFor: LeaseValidity, Decision: d}, nil
}
