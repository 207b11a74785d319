package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestReplayGuard(t *testing.T) {
	porttest.WebhookReplayGuard(t, func(t *testing.T, clock *memory.Clock) port.WebhookReplayGuard {
		client, prefix := testenv.Redis(t)
		return redis.NewReplayGuard(client, prefix, clock)
	})
}

// TestReplayGuardSetsARealTTL checks what the clock-driven contract cannot:
// the key really expires in Redis, so the guard never grows without bound.
func TestReplayGuardSetsARealTTL(t *testing.T) {
	ctx := context.Background()
	client, prefix := testenv.Redis(t)
	g := redis.NewReplayGuard(client, prefix, memory.NewClock(time.Now()))
	d := domain.NewID()
	if _, err := g.Seen(ctx, d, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	ttl, err := client.PTTL(ctx, prefix+"webhook:replay:"+d).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 9*time.Minute || ttl > 10*time.Minute {
		t.Fatalf("PTTL = %v, want just under 10m", ttl)
	}
}

func TestReplayGuardFailsClosedWhenRedisIsDown(t *testing.T) {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = client.Close() })
	g := redis.NewReplayGuard(client, "t:", memory.NewClock(time.Now()))
	_, err := g.Seen(context.Background(), domain.NewID(), time.Minute)
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Seen with Redis down = %v, want ErrUnavailable", err)
	}
}
