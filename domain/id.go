package domain

import (
	"crypto/rand"
	"encoding/hex"
)

// randomHex returns n random bytes hex-encoded. crypto/rand.Read never fails
// on supported platforms (Go ≥1.24 panics internally instead), so there is
// no error to return.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
