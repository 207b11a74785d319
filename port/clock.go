package port

import "time"

// Clock tells the time. Injected everywhere expiry or TTLs are computed so
// tests can move time without sleeping.
type Clock interface {
	Now() time.Time
}
