package redis_test

import (
	"testing"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestLoginThrottleContract(t *testing.T) {
	porttest.LoginThrottle(t, func(t *testing.T, clock *memory.Clock, l port.ThrottleLimits) port.LoginThrottle {
		client, prefix := testenv.Redis(t)
		return redis.NewLoginThrottle(client, prefix, l, clock)
	})
}
