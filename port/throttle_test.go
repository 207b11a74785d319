package port_test

import (
	"testing"
	"time"

	"github.com/m9m/auth/port"
)

func TestThrottleLimitsDefaults(t *testing.T) {
	t.Parallel()
	d := port.DefaultThrottleLimits()
	if d.MaxPerUser != 5 || d.MaxPerIP != 100 || d.MaxPerUsername != 20 || d.Window != 15*time.Minute || d.KnownClientTTL != 30*24*time.Hour {
		t.Fatalf("DefaultThrottleLimits = %+v, want the contract's 5 / 100 / 20 / 15m / 30 days", d)
	}
	if got := (port.ThrottleLimits{MaxPerIP: 7}).WithDefaults(); got.MaxPerUser != 5 || got.MaxPerIP != 7 || got.Window != 15*time.Minute {
		t.Fatalf("WithDefaults = %+v, want zero fields defaulted and MaxPerIP kept", got)
	}
}
