package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// Gate is the Redis port.RequestGate: the token's revocation check and the
// spending of its principal's budget in one script, so an authenticated JWT
// request costs one round trip, and a revoked token spends nothing (a thief
// holding one cannot drain its victim's budget).
//
// It reuses the Denylist's keys and its judgement (the answer is always
// Denylist.judge's, on the values the script read) and the RateLimiter's
// keys and GCRA script body, so a budget is one budget whichever of the two
// spends it. All five keys (the denylist's epoch among them) carry the
// {deny} hash tag, so the script runs on Redis Cluster.
type Gate struct {
	deny *Denylist
	rate *RateLimiter
}

var _ port.RequestGate = (*Gate)(nil)

// NewGate returns a gate over the denylist and the budgets (perMinute,
// burst) stored under prefix, judging denylist entries by clock.
func NewGate(client goredis.UniversalClient, prefix string, clock port.Clock, perMinute, burst int) (*Gate, error) {
	rate, err := NewRateLimiter(client, prefix, perMinute, burst)
	if err != nil {
		return nil, err
	}
	return &Gate{deny: NewDenylist(client, prefix, clock), rate: rate}, nil
}

// gateScript: KEYS jti, sid, user deny entries, the epoch, then the budget; ARGV now
// (ms, the injected clock), the token's iat (unix s), T and τ (µs). It
// mirrors Denylist.judge to decide whether to spend (a value it cannot read
// counts as a denial: spend nothing; so does a missing epoch) and returns
// the four entries, then, when it spent, the GCRA result.
var gateScript = newScript(gcraLua + `
local now, iat = tonumber(ARGV[1]), tonumber(ARGV[2])
local v = redis.call('MGET', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
local function open()
  if not v[4] then return false end
  for i = 1, 2 do
    if v[i] then
      local u = tonumber(v[i])
      if not u or now < u then return false end
    end
  end
  if v[3] then
    local sep = string.find(v[3], ':', 1, true)
    if not sep then return false end
    local nbf, u = tonumber(string.sub(v[3], 1, sep - 1)), tonumber(string.sub(v[3], sep + 1))
    if not nbf or not u or (now < u and iat < nbf) then return false end
  end
  return true
end
if not open() then return {v[1], v[2], v[3], v[4]} end
local r = gcra(KEYS[5], tonumber(ARGV[3]), tonumber(ARGV[4]))
return {v[1], v[2], v[3], v[4], r[1], r[2], r[3], r[4]}
`)

// CheckAndSpend answers as Denylist.Check would, and when the token may be
// used, spends one unit of rateKey's budget (a principal budget, "user:" or
// "key:", never "ip:") and returns the decision.
func (g *Gate) CheckAndSpend(ctx context.Context, c session.Claims, rateKey string) (port.RateDecision, error) {
	keys, err := g.deny.checkKeys(c)
	if err != nil {
		return port.RateDecision{}, err
	}
	budget := g.rate.key(rateKey)
	if !strings.HasPrefix(budget, g.deny.prefix) {
		return port.RateDecision{}, domain.Internal(fmt.Errorf("gate: %q is not a principal budget", rateKey))
	}
	res, err := gateScript.Run(ctx, g.deny.client, append(keys, budget),
		g.deny.clock.Now().UnixMilli(), c.IssuedAt.Unix(), g.rate.gcra.interval, g.rate.gcra.tolerance).Slice()
	if err != nil {
		return port.RateDecision{}, translate(err)
	}
	if len(res) != len(keys) && len(res) != len(keys)+4 {
		return port.RateDecision{}, domain.Internal(fmt.Errorf("gate: script returned %d values", len(res)))
	}
	if err := g.deny.judge(c, keys, res[:len(keys)]); err != nil {
		return port.RateDecision{}, err
	}
	if len(res) == len(keys) {
		return port.RateDecision{}, domain.Internal(errors.New("gate: the script refused a token the denylist accepts"))
	}
	spent, err := int64s(res[len(keys):])
	if err != nil {
		return port.RateDecision{}, domain.Internal(fmt.Errorf("gate: %w", err))
	}
	return g.rate.gcra.decision(spent)
}

func int64s(vals []any) ([]int64, error) {
	out := make([]int64, len(vals))
	for i, v := range vals {
		n, ok := v.(int64)
		if !ok {
			return nil, errors.New("not an integer: " + strconv.Quote(fmt.Sprint(v)))
		}
		out[i] = n
	}
	return out, nil
}
