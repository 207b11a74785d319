package redis_test

import (
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestLoginThrottleContract(t *testing.T) {
	porttest.LoginThrottle(t, func(t *testing.T, clock *memory.Clock, l porttest.ThrottleLimits) port.LoginThrottle {
		client, prefix := testenv.Redis(t)
		cfg := redis.ThrottleConfig{MaxPerUser: l.MaxPerUser, MaxPerIP: l.MaxPerIP, Window: l.Window}
		return redis.NewLoginThrottle(client, prefix, cfg, clock)
	})
}

func TestThrottleConfigDefaults(t *testing.T) {
	t.Parallel()
	d := redis.DefaultThrottleConfig()
	if d.MaxPerUser != 5 || d.MaxPerIP != 100 || d.Window != 15*time.Minute {
		t.Fatalf("DefaultThrottleConfig = %+v", d)
	}
}
