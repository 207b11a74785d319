package redis

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// ttlMillis returns until-now in whole milliseconds, rounded up, or 0 when
// until is not in the future. Every TTL this package sets comes from it, so
// no entry outlives its until by more than a millisecond.
func ttlMillis(until, now time.Time) int64 {
	d := until.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// digest returns a short hex digest of s. Throttle keys carry digests, not
// raw usernames and IPs: fixed length, no separators to confuse, and no
// personal data readable in Redis.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}
