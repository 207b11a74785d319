// Package jwt issues and verifies m9m's access tokens (golang-jwt v5) behind
// port.TokenIssuer and port.TokenVerifier.
//
// Tokens are HS256 JWS with header typ "at+jwt" and a kid naming the signing
// secret. Verification pins everything an attacker could otherwise choose:
// the algorithm (HS256 only), the key (looked up by kid among configured
// secrets only; jku, x5u and jwk headers are never read, so nothing is ever
// fetched), the token type, issuer, audience and time claims. It does no
// I/O; revocation is the denylist's job.
package jwt

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

var (
	_ port.TokenIssuer   = (*Service)(nil)
	_ port.TokenVerifier = (*Service)(nil)
)

// Defaults and limits of the contract (§4).
const (
	DefaultIssuer   = "m9m"
	DefaultAudience = "m9m-api"
	DefaultLeeway   = 30 * time.Second
	MaxLeeway       = 60 * time.Second
	// MinSecretLen is the shortest accepted HMAC secret (256 bits).
	MinSecretLen = 32
	// MaxTokenLen bounds what Verify will decode at all; ours are ~400 bytes.
	MaxTokenLen = 8 << 10
	// MinTokenIDLen is the shortest jti accepted: 22 base64 characters or
	// 32 hex characters carry at least 128 random bits.
	MinTokenIDLen = 22
	// TokenType is the JOSE typ of an access token (RFC 9068), so an ID token
	// or any other JWT signed with a shared secret cannot pass as one.
	TokenType = "at+jwt"
)

const kidDomain = "m9m-jwt-kid:"

// Secret is an HMAC signing secret and the key ID that names it in tokens.
type Secret struct {
	// KID names the secret in token headers; empty means KIDFor(Key).
	KID string
	// Key is the raw secret, at least MinSecretLen bytes.
	Key []byte
}

// String is redacted, so a Secret (or a Config holding one) that reaches a
// log shows its kid and length, never the key.
func (s Secret) String() string {
	return fmt.Sprintf("jwt.Secret{KID:%q, Key:[%d bytes redacted]}", s.KID, len(s.Key))
}

// GoString keeps %#v redacted too.
func (s Secret) GoString() string { return s.String() }

// Format makes every fmt verb print the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = fmt.Fprint(f, s.String()) }

// Config configures a Service.
type Config struct {
	// Current signs new tokens and verifies them.
	Current Secret
	// Previous secrets only verify, so tokens signed before a rotation keep
	// working until they expire; drop a secret once MaxSession has passed.
	Previous []Secret
	// Issuer is the iss claim; empty means DefaultIssuer.
	Issuer string
	// Audience is the aud claim; empty means DefaultAudience.
	Audience string
	// Leeway tolerates clock skew on exp, nbf and iat: 0 means
	// DefaultLeeway; at most MaxLeeway.
	Leeway time.Duration
	// VerifiedCache is how many verified tokens Verify remembers, so the
	// same token presented again skips decoding and the HMAC (until its
	// exp, never past it; revocation is checked by the caller every time):
	// 0 means DefaultVerifiedCache, a negative value turns the cache off.
	VerifiedCache int
}

// KIDFor derives a key ID from a secret: the first 16 hex characters (64
// bits) of SHA-256("m9m-jwt-kid:" + secret). Operators then rotate by moving
// the old secret to the previous list, with no IDs to manage, and every
// instance derives the same kid.
//
// Publishing it does not weaken the secret: SHA-256 is preimage-resistant, a
// ≥256-bit secret cannot be searched for, and the domain prefix keeps this
// value unrelated to any other hash of the secret. A weak, guessable secret
// would be exposed to offline guessing anyway by any token it signs (the
// HMAC is itself a check for guesses); the kid adds no such oracle.
func KIDFor(secret []byte) string {
	h := sha256.New()
	h.Write([]byte(kidDomain))
	h.Write(secret)
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Service issues and verifies access tokens.
type Service struct {
	current  Secret
	keys     map[string]any // kid → secret ([]byte, boxed once for keyFor), current and previous
	issuer   string
	audience string
	leeway   time.Duration
	clock    port.Clock
	parser   *gojwt.Parser
	cache    *verifiedCache // nil: off
}

// New checks cfg and returns a Service. It reports every problem at once:
// a secret shorter than MinSecretLen, duplicate key IDs, a leeway outside
// 0..MaxLeeway, a nil clock. Messages name the secret by position and kid,
// never by value.
func New(cfg Config, clock port.Clock) (*Service, error) {
	var errs []error
	if clock == nil {
		errs = append(errs, errors.New("jwt: a clock is required"))
	}
	leeway := cfg.Leeway
	switch {
	case leeway == 0:
		leeway = DefaultLeeway
	case leeway < 0 || leeway > MaxLeeway:
		errs = append(errs, fmt.Errorf("jwt: leeway must be between 0 and %s", MaxLeeway))
	}
	issuer := cmp.Or(cfg.Issuer, DefaultIssuer)
	audience := cmp.Or(cfg.Audience, DefaultAudience)

	s := &Service{keys: map[string]any{}, issuer: issuer, audience: audience, leeway: leeway, clock: clock}
	add := func(name string, sec Secret) Secret {
		if len(sec.Key) < MinSecretLen {
			errs = append(errs, fmt.Errorf("jwt: %s is %d bytes; at least %d are required", name, len(sec.Key), MinSecretLen))
			return sec
		}
		sec.Key = append([]byte(nil), sec.Key...) // the caller's slice may be reused
		if sec.KID == "" {
			sec.KID = KIDFor(sec.Key)
		}
		if _, dup := s.keys[sec.KID]; dup {
			errs = append(errs, fmt.Errorf("jwt: %s has kid %q, which another secret already uses", name, sec.KID))
			return sec
		}
		s.keys[sec.KID] = sec.Key
		return sec
	}
	s.current = add("current secret", cfg.Current)
	for i, p := range cfg.Previous {
		add(fmt.Sprintf("previous secret #%d", i+1), p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	switch {
	case cfg.VerifiedCache == 0:
		s.cache = newVerifiedCache(DefaultVerifiedCache)
	case cfg.VerifiedCache > 0:
		s.cache = newVerifiedCache(cfg.VerifiedCache)
	}

	s.parser = gojwt.NewParser(
		gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg()}),
		gojwt.WithIssuer(issuer),
		gojwt.WithAudience(audience),
		gojwt.WithExpirationRequired(),
		gojwt.WithNotBeforeRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithLeeway(leeway),
		gojwt.WithTimeFunc(clock.Now),
		// Reject non-canonical base64 (stray trailing bits), so a token has
		// exactly one accepted spelling.
		gojwt.WithStrictDecoding(),
	)
	return s, nil
}

// Issue signs claims as an HS256 access token with the current secret.
// Times are truncated to seconds. A zero IssuedAt means now and a zero
// NotBefore means IssuedAt. Claims that Verify would refuse (empty
// UserID or SessionID, a TokenID shorter than MinTokenIDLen, ExpiresAt not
// after IssuedAt) are a domain.Internal error: they are a caller bug.
func (s *Service) Issue(c session.Claims) (string, error) {
	iat := c.IssuedAt
	if iat.IsZero() {
		iat = s.clock.Now()
	}
	nbf := c.NotBefore
	if nbf.IsZero() {
		nbf = iat
	}
	switch {
	case c.UserID == "":
		return "", domain.Internal(errors.New("jwt: issue: empty user id"))
	case c.SessionID == "":
		return "", domain.Internal(errors.New("jwt: issue: empty session id"))
	case len(c.TokenID) < MinTokenIDLen:
		return "", domain.Internal(fmt.Errorf("jwt: issue: token id shorter than %d characters", MinTokenIDLen))
	case !c.ExpiresAt.Truncate(time.Second).After(iat.Truncate(time.Second)):
		return "", domain.Internal(errors.New("jwt: issue: expiry not after issue time"))
	}
	claims := issuedClaims{
		Issuer:    s.issuer,
		Audience:  s.audience,
		Subject:   c.UserID,
		SessionID: c.SessionID,
		ID:        c.TokenID,
		Username:  c.Username,
		Role:      string(c.Role),
		IssuedAt:  numericDate(iat),
		NotBefore: numericDate(nbf),
		ExpiresAt: numericDate(c.ExpiresAt),
	}
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims)
	tok.Header["typ"] = TokenType
	tok.Header["kid"] = s.current.KID
	signed, err := tok.SignedString(s.current.Key)
	if err != nil {
		return "", domain.Internal(fmt.Errorf("jwt: issue: %w", err))
	}
	if len(signed) > MaxTokenLen {
		return "", domain.Internal(errors.New("jwt: issue: token longer than MaxTokenLen"))
	}
	return signed, nil
}

// Verify checks token and returns its claims. Every failure is
// domain.ErrUnauthenticated, wrapping the reason for logs (never the token).
// A token accepted before is answered from the verified-token cache while
// it is before its exp (see verifiedCache): the same answer a full check
// would give, without decoding it or computing its HMAC again.
func (s *Service) Verify(token string) (session.Claims, error) {
	if len(token) > MaxTokenLen {
		return session.Claims{}, unauthenticated(errTooLong)
	}
	var now time.Time
	if s.cache != nil {
		now = s.clock.Now()
		if c, ok := s.cached(token, now); ok {
			return c, nil
		}
	}
	if !compactJWSChars(token) {
		// The base64 decoder skips CR/LF; refusing them (and anything else
		// outside the compact alphabet) keeps one spelling per token.
		return session.Claims{}, unauthenticated(errCharset)
	}
	var vc verifiedClaims
	if _, err := s.parser.ParseWithClaims(token, &vc, s.keyFor); err != nil {
		return session.Claims{}, unauthenticated(err)
	}
	switch {
	case vc.Subject == "":
		return session.Claims{}, unauthenticated(errors.New("missing sub"))
	case vc.SessionID == "":
		return session.Claims{}, unauthenticated(errors.New("missing sid"))
	case len(vc.ID) < MinTokenIDLen:
		return session.Claims{}, unauthenticated(errors.New("missing or short jti"))
	case vc.IssuedAt == nil:
		return session.Claims{}, unauthenticated(errors.New("missing iat"))
	}
	c := session.Claims{
		TokenID:   vc.ID,
		SessionID: vc.SessionID,
		UserID:    vc.Subject,
		Username:  vc.Username,
		Role:      user.Role(vc.Role),
		IssuedAt:  vc.IssuedAt.UTC(),
		NotBefore: vc.NotBefore.UTC(),
		ExpiresAt: vc.ExpiresAt.UTC(),
	}
	s.remember(token, c, now)
	return c, nil
}

var (
	errTooLong    = fmt.Errorf("token longer than %d bytes", MaxTokenLen)
	errCharset    = errors.New("token has characters outside the compact JWS alphabet")
	errType       = errors.New(`header typ is not "at+jwt"`)
	errCrit       = errors.New("header crit is not supported")
	errKIDType    = errors.New("header kid is not a string")
	errUnknownKID = errors.New("header kid names no configured secret")
)

// keyFor picks the verification key. golang-jwt has already checked alg
// against WithValidMethods. Only typ, crit and kid are read; jku, x5u, jwk
// and x5c are ignored, so a token can never nominate its own key.
func (s *Service) keyFor(t *gojwt.Token) (any, error) {
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, TokenType) && !strings.EqualFold(typ, "application/"+TokenType) {
		return nil, errType
	}
	// RFC 7515 §4.1.11: extensions listed in crit must be understood; we
	// understand none.
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit
	}
	raw, ok := t.Header["kid"]
	if !ok {
		return s.keys[s.current.KID], nil
	}
	kid, ok := raw.(string)
	if !ok {
		return nil, errKIDType
	}
	key, ok := s.keys[kid]
	if !ok {
		return nil, errUnknownKID
	}
	return key, nil
}

func unauthenticated(cause error) error {
	return domain.ErrUnauthenticated.Wrap(fmt.Errorf("jwt: %w", cause))
}

// compactJWSChars reports whether s uses only base64url characters and dots.
func compactJWSChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
		default:
			return false
		}
	}
	return true
}

func numericDate(t time.Time) *gojwt.NumericDate {
	return gojwt.NewNumericDate(t.Truncate(time.Second))
}
