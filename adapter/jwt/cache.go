package jwt

import (
	"strings"
	"sync"
	"time"

	"github.com/m9m/auth/domain/session"
)

// DefaultVerifiedCache is how many verified tokens a Service remembers
// unless Config.VerifiedCache says otherwise: about 8 MiB at most (a
// token, its claims and map overhead are under 1 KiB).
const DefaultVerifiedCache = 10_000

// verifiedCache remembers tokens whose signature and fixed claims (alg,
// typ, crit, kid, iss, aud, sub, sid, jti, the presence of the time claims)
// have been checked, keyed by the exact token string, so that presenting
// the same token again skips the JSON decoding and the HMAC. It never
// answers for a token past its exp (see Service.cached) and never holds a
// token that failed verification: an attacker cannot fill it with forgeries,
// and a token one byte away from a cached one is a miss. It does not
// remember revocations, which are checked after Verify, every time.
//
// It is bounded by two generations: inserts go to cur; when cur is full it
// becomes old (the previous old is dropped whole) and a new cur starts. A
// lookup reads both. Every operation is O(1), memory is at most twice half
// the bound, and a token still in use after its generation is dropped
// costs one full verification, after which it is cached again. (A bound of
// 1 keeps one generation of one token.)
type verifiedCache struct {
	gen     int  // entries per generation
	keepOld bool // false for a bound of 1: one generation only

	mu  sync.RWMutex
	cur map[string]session.Claims
	old map[string]session.Claims
}

func newVerifiedCache(size int) *verifiedCache {
	gen := max(size/2, 1)
	return &verifiedCache{gen: gen, keepOld: size >= 2, cur: make(map[string]session.Claims, gen)}
}

func (c *verifiedCache) get(token string) (session.Claims, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if v, ok := c.cur[token]; ok {
		return v, true
	}
	v, ok := c.old[token]
	return v, ok
}

func (c *verifiedCache) put(token string, claims session.Claims) {
	// The token may be a substring of a whole request header: keep a copy
	// of its own, not the header.
	token = strings.Clone(token)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cur) >= c.gen {
		if c.keepOld {
			c.old = c.cur
		}
		c.cur = make(map[string]session.Claims, c.gen)
	}
	c.cur[token] = claims
}

// len is how many tokens the cache holds (both generations).
func (c *verifiedCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}

// cached returns the claims of token when it was verified before and is
// still valid at now: before its exp (strictly: the leeway past exp is
// never served from the cache, the full verification decides there), and
// past its nbf and iat exactly as the parser judges them (with the leeway),
// which matters only if the clock went backwards.
func (s *Service) cached(token string, now time.Time) (session.Claims, bool) {
	if s.cache == nil {
		return session.Claims{}, false
	}
	c, ok := s.cache.get(token)
	if !ok || !now.Before(c.ExpiresAt) || now.Before(c.NotBefore.Add(-s.leeway)) || now.Before(c.IssuedAt.Add(-s.leeway)) {
		return session.Claims{}, false
	}
	return c, true
}

// remember caches a token Verify has just accepted at now, unless it is
// already within its exp leeway (it would never be served).
func (s *Service) remember(token string, c session.Claims, now time.Time) {
	if s.cache != nil && now.Before(c.ExpiresAt) {
		s.cache.put(token, c)
	}
}
