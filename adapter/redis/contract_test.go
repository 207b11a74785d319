package redis_test

import (
	"testing"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

// The Redis limiter keeps time by Redis's own clock, so the suite's budget
// (one a minute) refills nothing while it runs; the clock given is ignored.
func TestRateLimiterContract(t *testing.T) {
	porttest.RateLimiter(t, func(t *testing.T, _ *memory.Clock, perMinute, burst int) port.RateLimiter {
		rdb, prefix := testenv.Redis(t)
		return newLimiter(t, rdb, prefix, perMinute, burst)
	})
}

func TestRequestGateContract(t *testing.T) {
	porttest.RequestGate(t, func(t *testing.T, clock *memory.Clock, perMinute, burst int) porttest.RequestGates {
		rdb, prefix := testenv.Redis(t)
		g, err := redis.NewGate(rdb, prefix, clock, perMinute, burst)
		if err != nil {
			t.Fatal(err)
		}
		return porttest.RequestGates{
			Gate: g, Denylist: readyDenylist(t, rdb, prefix, clock), Limiter: newLimiter(t, rdb, prefix, perMinute, burst),
		}
	})
}
