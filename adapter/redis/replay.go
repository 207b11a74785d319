package redis

import (
	"context"
	"errors"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// ReplayGuard is the shared port.WebhookReplayGuard: one key per accepted
// signature digest,
//
//	<prefix>webhook:replay:<digest>  "<untilMs>"  TTL ttl
//
// written by one script call (one round trip, atomic like SET NX): the
// first caller records the digest, every caller until it expires is told
// it was seen. The value carries its own end, compared with the injected
// Clock, so tests can move time; the Redis TTL removes the key by itself
// in real time. The key is a single one, so this works on a cluster.
type ReplayGuard struct {
	client goredis.UniversalClient
	prefix string
	clock  port.Clock
}

var _ port.WebhookReplayGuard = (*ReplayGuard)(nil)

// NewReplayGuard returns a guard storing its keys under prefix.
func NewReplayGuard(client goredis.UniversalClient, prefix string, clock port.Clock) *ReplayGuard {
	return &ReplayGuard{client: client, prefix: prefix + "webhook:replay:", clock: clock}
}

// seenScript returns 1 when KEYS[1] holds an until (ms) later than now
// (ARGV[1]); otherwise it stores ARGV[2] with a TTL of ARGV[3] ms and
// returns 0.
var seenScript = newScript(`
local cur = tonumber(redis.call('GET', KEYS[1]))
if cur ~= nil and cur > tonumber(ARGV[1]) then
  return 1
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 0
`)

// Seen records digest for ttl and reports whether it was already recorded.
func (g *ReplayGuard) Seen(ctx context.Context, digest string, ttl time.Duration) (bool, error) {
	if digest == "" {
		return false, domain.Internal(errors.New("replay guard: empty digest"))
	}
	now := g.clock.Now()
	until := now.Add(ttl)
	ms := max(ttlMillis(until, now), 1)
	n, err := seenScript.Run(ctx, g.client, []string{g.prefix + digest}, now.UnixMilli(), until.UnixMilli(), ms).Int()
	if err != nil {
		return false, translate(err)
	}
	return n == 1, nil
}

// Forget deletes digest's key (one command, one key: cluster-safe).
func (g *ReplayGuard) Forget(ctx context.Context, digest string) error {
	if digest == "" {
		return nil
	}
	return translate(g.client.Del(ctx, g.prefix+digest).Err())
}
