package crypto

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/m9m/auth/domain/apikey"
)

// acceptBelow is the largest multiple of 62 that fits in a byte (62*4). Bytes
// at or above it are discarded, so every base62 symbol is drawn with exactly
// probability 1/62; taking b%62 of every byte would favour the first 8
// symbols (5/256 instead of 4/256).
const acceptBelow = 62 * 4

// NewAPIKey returns a fresh API key: apikey.Prefix, 32 uniformly random
// base62 characters from crypto/rand (≈190 bits), and their checksum. The
// result always passes apikey.Parse.
func NewAPIKey() (apikey.Token, error) { return newAPIKey(rand.Reader) }

// newAPIKey draws the body from r, so tests can check the sampler itself.
func newAPIKey(r io.Reader) (apikey.Token, error) {
	body, err := randomBase62(r, apikey.BodyLen)
	if err != nil {
		return apikey.Token{}, err
	}
	tok, err := apikey.Parse(apikey.Prefix + body + apikey.Checksum(body))
	if err != nil {
		// Unreachable unless the format and the generator disagree.
		return apikey.Token{}, fmt.Errorf("crypto: generated key does not parse: %w", err)
	}
	return tok, nil
}

// randomBase62 returns n base62 characters by rejection sampling bytes from r.
func randomBase62(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	// 248/256 of bytes are accepted, so n+n/8 bytes usually suffice in one read.
	buf := make([]byte, n+n/8+4)
	for len(out) < n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("crypto: reading randomness: %w", err)
		}
		for _, b := range buf {
			if b >= acceptBelow {
				continue
			}
			out = append(out, apikey.Alphabet[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}
