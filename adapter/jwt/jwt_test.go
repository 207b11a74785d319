package jwt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/m9m/auth/adapter/jwt"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
)

// fakeClock is a settable port.Clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

var (
	t0        = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	secretA   = []byte("0123456789abcdef0123456789abcdef") // 32 bytes
	secretB   = []byte("ffffffffffffffffffffffffffffffff-second")
	secretOld = []byte("an-older-secret-that-was-rotated-out")
)

const jti = "0123456789abcdef0123456789abcdef" // 32 hex chars = 128 bits

func newService(t testing.TB, cfg jwt.Config) (*jwt.Service, *fakeClock) {
	t.Helper()
	clk := &fakeClock{now: t0}
	if cfg.Current.Key == nil {
		cfg.Current.Key = secretA
	}
	s, err := jwt.New(cfg, clk)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, clk
}

func claimsAt(now time.Time) session.Claims {
	return session.Claims{
		TokenID: jti, SessionID: "sess-1", UserID: "user-1",
		IssuedAt: now, NotBefore: now, ExpiresAt: now.Add(15 * time.Minute),
	}
}

// --- hand-built tokens, so every header and claim is under test control ---

func b64(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hmacSign(h func() hash.Hash, key []byte, input string) string {
	m := hmac.New(h, key)
	m.Write([]byte(input))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// forge signs header and payload with HMAC (hashFn chooses HS256/384/512).
func forge(header, payload map[string]any, hashFn func() hash.Hash, key []byte) string {
	input := b64(header) + "." + b64(payload)
	return input + "." + hmacSign(hashFn, key, input)
}

func goodHeader() map[string]any {
	return map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": jwt.KIDFor(secretA)}
}

func goodPayload(now time.Time) map[string]any {
	return map[string]any{
		"iss": "m9m", "aud": "m9m-api", "sub": "user-1", "sid": "sess-1", "jti": jti,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(),
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

// del marks a key for removal in with().
var del any = nil

func assertRejected(t *testing.T, s *jwt.Service, token string) {
	t.Helper()
	c, err := s.Verify(token)
	if err == nil {
		t.Fatalf("Verify accepted the token: %+v", c)
	}
	if !errors.Is(err, domain.ErrUnauthenticated) {
		t.Fatalf("err = %v, want ErrUnauthenticated", err)
	}
	if c != (session.Claims{}) {
		t.Fatalf("rejected Verify returned claims %+v", c)
	}
	if len(token) > 10 && strings.Contains(err.Error(), token) {
		t.Fatal("error contains the token")
	}
	if parts := strings.Split(token, "."); len(parts) == 3 && len(parts[2]) > 10 && strings.Contains(err.Error(), parts[2]) {
		t.Fatal("error contains the signature")
	}
}

// assertAccepted verifies token twice: the second answer comes from the
// verified-token cache (on by default), and must be the first one.
func assertAccepted(t *testing.T, s *jwt.Service, token string) session.Claims {
	t.Helper()
	c, err := s.Verify(token)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	again, err := s.Verify(token)
	if err != nil || again != c {
		t.Fatalf("second Verify = %+v, %v; first %+v", again, err, c)
	}
	return c
}

// --- tests ---

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, jwt.Config{})
	in := claimsAt(t0.Add(123456789 * time.Nanosecond)) // sub-second parts are dropped
	tok, err := s.Issue(in)
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	got := assertAccepted(t, s, tok)
	want := session.Claims{
		TokenID: jti, SessionID: "sess-1", UserID: "user-1",
		IssuedAt: t0, NotBefore: t0, ExpiresAt: t0.Add(15 * time.Minute),
	}
	if got != want {
		t.Fatalf("claims = %+v, want %+v", got, want)
	}

	parts := strings.Split(tok, ".")
	var header, payload map[string]any
	mustDecode(t, parts[0], &header)
	mustDecode(t, parts[1], &payload)
	wantHeader := map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": jwt.KIDFor(secretA)}
	if fmt.Sprint(header) != fmt.Sprint(wantHeader) {
		t.Errorf("header = %v, want %v", header, wantHeader)
	}
	if payload["aud"] != "m9m-api" {
		t.Errorf("aud = %#v, want the single string \"m9m-api\"", payload["aud"])
	}
	if payload["iss"] != "m9m" || payload["sub"] != "user-1" || payload["sid"] != "sess-1" || payload["jti"] != jti {
		t.Errorf("payload = %v", payload)
	}
	rawPayload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	for k, want := range map[string]time.Time{"iat": t0, "nbf": t0, "exp": t0.Add(15 * time.Minute)} {
		if frag := fmt.Sprintf(`"%s":%d`, k, want.Unix()); !strings.Contains(string(rawPayload)+",", frag+",") &&
			!strings.Contains(string(rawPayload), frag+"}") {
			t.Errorf("payload %s lacks %s as whole seconds", rawPayload, frag)
		}
	}
	if len(payload) != 8 {
		t.Errorf("payload has unexpected claims: %v", payload)
	}
}

func mustDecode(t *testing.T, seg string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func TestIssueDefaultsTimes(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, jwt.Config{})
	tok, err := s.Issue(session.Claims{TokenID: jti, SessionID: "s", UserID: "u", ExpiresAt: t0.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	c := assertAccepted(t, s, tok)
	if !c.IssuedAt.Equal(t0) || !c.NotBefore.Equal(t0) {
		t.Fatalf("zero iat/nbf should default to the clock: %+v", c)
	}
}

func TestIssueRefusesIncompleteClaims(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, jwt.Config{})
	good := claimsAt(t0)
	tests := map[string]func(*session.Claims){
		"no user":        func(c *session.Claims) { c.UserID = "" },
		"no session":     func(c *session.Claims) { c.SessionID = "" },
		"short jti":      func(c *session.Claims) { c.TokenID = jti[:21] },
		"no expiry":      func(c *session.Claims) { c.ExpiresAt = time.Time{} },
		"exp equals iat": func(c *session.Claims) { c.ExpiresAt = c.IssuedAt },
		"exp within iat second": func(c *session.Claims) {
			c.ExpiresAt = c.IssuedAt.Add(500 * time.Millisecond)
		},
	}
	for name, mutate := range tests {
		c := good
		mutate(&c)
		tok, err := s.Issue(c)
		if err == nil || tok != "" {
			t.Errorf("%s: Issue succeeded", name)
			continue
		}
		if domain.KindOf(err) != domain.KindInternal {
			t.Errorf("%s: err kind %v, want internal", name, domain.KindOf(err))
		}
	}
	// A 22-character jti is the shortest accepted.
	c := good
	c.TokenID = jti[:22]
	tok, err := s.Issue(c)
	if err != nil {
		t.Fatal(err)
	}
	assertAccepted(t, s, tok)
}

func TestTimeClaims(t *testing.T) {
	t.Parallel()
	const leeway = 30 * time.Second // the default
	exp := t0.Add(15 * time.Minute)
	tests := []struct {
		name   string
		claims func() session.Claims
		at     time.Time
		ok     bool
	}{
		{"fresh", func() session.Claims { return claimsAt(t0) }, t0, true},
		{"just before exp", func() session.Claims { return claimsAt(t0) }, exp.Add(-time.Second), true},
		{"expired, inside leeway", func() session.Claims { return claimsAt(t0) }, exp.Add(leeway - time.Second), true},
		{"expired, leeway edge", func() session.Claims { return claimsAt(t0) }, exp.Add(leeway), false},
		{"expired long ago", func() session.Claims { return claimsAt(t0) }, exp.Add(time.Hour), false},
		{"nbf in future", func() session.Claims {
			c := claimsAt(t0)
			c.NotBefore = t0.Add(10 * time.Minute)
			return c
		}, t0, false},
		{"nbf in future, inside leeway", func() session.Claims {
			c := claimsAt(t0)
			c.NotBefore = t0.Add(leeway)
			return c
		}, t0, true},
		{"nbf just beyond leeway", func() session.Claims {
			c := claimsAt(t0)
			c.NotBefore = t0.Add(leeway + time.Second)
			return c
		}, t0, false},
		{"iat in future", func() session.Claims {
			c := claimsAt(t0.Add(5 * time.Minute))
			c.NotBefore = t0
			return c
		}, t0, false},
		{"iat in future, inside leeway", func() session.Claims {
			c := claimsAt(t0.Add(leeway))
			c.NotBefore = t0
			return c
		}, t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, clk := newService(t, jwt.Config{})
			tok, err := s.Issue(tt.claims())
			if err != nil {
				t.Fatal(err)
			}
			clk.Set(tt.at)
			if tt.ok {
				assertAccepted(t, s, tok)
			} else {
				assertRejected(t, s, tok)
			}
		})
	}
}

func TestLeewayConfig(t *testing.T) {
	t.Parallel()
	exp := t0.Add(15 * time.Minute)
	s, clk := newService(t, jwt.Config{Leeway: 5 * time.Second})
	tok, err := s.Issue(claimsAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(exp.Add(4 * time.Second))
	assertAccepted(t, s, tok)
	clk.Set(exp.Add(5 * time.Second))
	assertRejected(t, s, tok)
}

func TestForgedTokens(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, jwt.Config{Previous: []jwt.Secret{{Key: secretOld}}})
	h, p := goodHeader(), goodPayload(t0)

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signWith := func(m gojwt.SigningMethod, key any, header map[string]any) string {
		tok := gojwt.NewWithClaims(m, gojwt.MapClaims(p))
		for k, v := range header {
			tok.Header[k] = v
		}
		tok.Header["alg"] = m.Alg()
		out, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	valid := forge(h, p, sha256.New, secretA)
	vparts := strings.Split(valid, ".")
	tamperedPayload := b64(with(p, "sub", "admin"))

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		// Baselines: the forging helper itself makes acceptable tokens.
		{"baseline", valid, true},
		{"baseline, no kid: current secret", forge(with(h, "kid", del), p, sha256.New, secretA), true},
		{"baseline, previous kid", forge(with(h, "kid", jwt.KIDFor(secretOld)), p, sha256.New, secretOld), true},
		{"typ case-insensitive", forge(with(h, "typ", "AT+JWT"), p, sha256.New, secretA), true},
		{"typ media type form", forge(with(h, "typ", "application/at+jwt"), p, sha256.New, secretA), true},
		{"aud as array", forge(h, with(p, "aud", []string{"other", "m9m-api"}), sha256.New, secretA), true},

		// Algorithms.
		{"alg none, no signature", b64(with(h, "alg", "none")) + "." + b64(p) + ".", false},
		{"alg none, kept signature", b64(with(h, "alg", "none")) + "." + b64(p) + "." + vparts[2], false},
		{"alg None", b64(with(h, "alg", "None")) + "." + b64(p) + ".", false},
		{"alg missing", forge(with(h, "alg", del), p, sha256.New, secretA), false},
		{"alg lowercase hs256", forge(with(h, "alg", "hs256"), p, sha256.New, secretA), false},
		{"HS384 same secret", forge(with(h, "alg", "HS384"), p, sha512.New384, secretA), false},
		{"HS512 same secret", forge(with(h, "alg", "HS512"), p, sha512.New, secretA), false},
		{"RS256", signWith(gojwt.SigningMethodRS256, rsaKey, h), false},
		{"ES256", signWith(gojwt.SigningMethodES256, ecKey, h), false},
		{"RS256 header, HMAC signature", forge(with(h, "alg", "RS256"), p, sha256.New, secretA), false},

		// Keys.
		{"wrong secret", forge(h, p, sha256.New, secretB), false},
		{"unknown kid", forge(with(h, "kid", "deadbeefdeadbeef"), p, sha256.New, secretA), false},
		{"kid of a secret we never had", forge(with(h, "kid", jwt.KIDFor(secretB)), p, sha256.New, secretB), false},
		{"empty kid", forge(with(h, "kid", ""), p, sha256.New, secretA), false},
		{"numeric kid", forge(with(h, "kid", 1), p, sha256.New, secretA), false},
		{"current kid, previous secret", forge(h, p, sha256.New, secretOld), false},
		{"previous kid, current secret", forge(with(h, "kid", jwt.KIDFor(secretOld)), p, sha256.New, secretA), false},
		{"no kid, previous secret", forge(with(h, "kid", del), p, sha256.New, secretOld), false},
		{"jwk header with attacker key", forge(with(h, "kid", del, "jwk", map[string]any{
			"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(secretB),
		}), p, sha256.New, secretB), false},

		// Type and critical headers.
		{"typ JWT", forge(with(h, "typ", "JWT"), p, sha256.New, secretA), false},
		{"typ missing", forge(with(h, "typ", del), p, sha256.New, secretA), false},
		{"typ numeric", forge(with(h, "typ", 1), p, sha256.New, secretA), false},
		{"typ with spaces", forge(with(h, "typ", " at+jwt"), p, sha256.New, secretA), false},
		{"crit header", forge(with(h, "crit", []string{"b64"}, "b64", false), p, sha256.New, secretA), false},

		// Claims.
		{"wrong issuer", forge(h, with(p, "iss", "evil"), sha256.New, secretA), false},
		{"missing issuer", forge(h, with(p, "iss", del), sha256.New, secretA), false},
		{"wrong audience", forge(h, with(p, "aud", "m9m-admin"), sha256.New, secretA), false},
		{"missing audience", forge(h, with(p, "aud", del), sha256.New, secretA), false},
		{"missing exp", forge(h, with(p, "exp", del), sha256.New, secretA), false},
		{"exp not a number", forge(h, with(p, "exp", "tomorrow"), sha256.New, secretA), false},
		{"exp as object", forge(h, with(p, "exp", map[string]any{"t": 1}), sha256.New, secretA), false},
		{"missing nbf", forge(h, with(p, "nbf", del), sha256.New, secretA), false},
		{"missing iat", forge(h, with(p, "iat", del), sha256.New, secretA), false},
		{"missing sub", forge(h, with(p, "sub", del), sha256.New, secretA), false},
		{"empty sub", forge(h, with(p, "sub", ""), sha256.New, secretA), false},
		{"numeric sub", forge(h, with(p, "sub", 7), sha256.New, secretA), false},
		{"missing sid", forge(h, with(p, "sid", del), sha256.New, secretA), false},
		{"missing jti", forge(h, with(p, "jti", del), sha256.New, secretA), false},
		{"short jti", forge(h, with(p, "jti", jti[:21]), sha256.New, secretA), false},

		// Tampering and encoding.
		{"tampered payload", vparts[0] + "." + tamperedPayload + "." + vparts[2], false},
		{"tampered header", b64(with(h, "kid", jwt.KIDFor(secretOld))) + "." + vparts[1] + "." + vparts[2], false},
		{"signature truncated", valid[:len(valid)-1], false},
		{"signature trailing bits changed", vparts[0] + "." + vparts[1] + "." + flipLowBits(vparts[2]), false},
		{"newline in signature", vparts[0] + "." + vparts[1] + "." + vparts[2][:10] + "\n" + vparts[2][10:], false},
		{"padded segments", vparts[0] + "==." + vparts[1] + "." + vparts[2], false},
		{"std base64 signature", vparts[0] + "." + vparts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(vparts[2]) + "+", false},
		{"extra segment", valid + ".", false},
		{"JWE-like five segments", valid + ".a.b", false},
		{"signature dropped", vparts[0] + "." + vparts[1] + ".", false},
		{"too long", forge(h, with(p, "pad", strings.Repeat("x", jwt.MaxTokenLen)), sha256.New, secretA), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.ok {
				assertAccepted(t, s, tt.token)
			} else {
				assertRejected(t, s, tt.token)
			}
		})
	}
}

// flipLowBits changes the unused low bits of the last base64url character
// of a 32-byte signature: lax decoders read the same bytes.
func flipLowBits(sig string) string {
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alpha, sig[len(sig)-1])
	return sig[:len(sig)-1] + string(alpha[last^1])
}

func TestKeyURLHeadersAreNeverFetched(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = fmt.Fprintf(w, `{"keys":[{"kty":"oct","k":%q}]}`, base64.RawURLEncoding.EncodeToString(secretB))
	}))
	defer srv.Close()

	s, _ := newService(t, jwt.Config{})
	h := with(goodHeader(),
		"jku", srv.URL+"/jwks.json",
		"x5u", srv.URL+"/cert.pem",
		"jwk", map[string]any{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(secretB)},
		"x5c", []string{"MIIB"},
	)
	p := goodPayload(t0)
	// Signed by our secret: verified by our secret alone, headers ignored.
	assertAccepted(t, s, forge(h, p, sha256.New, secretA))
	// Signed by the key those headers offer: rejected.
	assertRejected(t, s, forge(h, p, sha256.New, secretB))
	assertRejected(t, s, forge(with(h, "kid", del), p, sha256.New, secretB))
	if n := hits.Load(); n != 0 {
		t.Fatalf("verifier fetched key URLs %d times", n)
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	before, _ := newService(t, jwt.Config{Current: jwt.Secret{Key: secretOld}})
	tok, err := before.Issue(claimsAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := newService(t, jwt.Config{Current: jwt.Secret{Key: secretA}, Previous: []jwt.Secret{{Key: secretOld}}})
	assertAccepted(t, after, tok)

	fresh, err := after.Issue(claimsAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	var header map[string]any
	mustDecode(t, strings.Split(fresh, ".")[0], &header)
	if header["kid"] != jwt.KIDFor(secretA) {
		t.Fatalf("new tokens must be signed with the current secret, kid = %v", header["kid"])
	}
	assertAccepted(t, after, fresh)
	// Old instances do not know the new kid.
	assertRejected(t, before, fresh)
	// Once the old secret is dropped, its tokens stop working.
	dropped, _ := newService(t, jwt.Config{Current: jwt.Secret{Key: secretA}})
	assertRejected(t, dropped, tok)

	// Explicit kids work the same way.
	named, _ := newService(t, jwt.Config{Current: jwt.Secret{KID: "2025-06", Key: secretA}, Previous: []jwt.Secret{{KID: "2025-01", Key: secretOld}}})
	assertAccepted(t, named, forge(with(goodHeader(), "kid", "2025-01"), goodPayload(t0), sha256.New, secretOld))
	assertRejected(t, named, forge(with(goodHeader(), "kid", "2025-01"), goodPayload(t0), sha256.New, secretA))
}

func TestGarbage(t *testing.T) {
	t.Parallel()
	s, _ := newService(t, jwt.Config{})
	for _, g := range []string{
		"", ".", "..", "...", "a.b.c", "Bearer x.y.z", "null", "{}", "eyJ", "eyJhbGciOiJIUzI1NiJ9",
		"eyJhbGciOiJIUzI1NiJ9..", "....", "\x00.\x00.\x00", "ä.ö.ü",
		"e30.e30.", "bnVsbA.bnVsbA.", "W10.W10.", "IiI.IiI.",
		strings.Repeat("A", jwt.MaxTokenLen+1),
		strings.Repeat(".", 10000),
	} {
		assertRejected(t, s, g)
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	short := []byte("only-31-bytes-of-secret-materia")
	if len(short) != 31 {
		t.Fatalf("fixture is %d bytes", len(short))
	}
	clk := &fakeClock{now: t0}
	tests := []struct {
		name  string
		cfg   jwt.Config
		clock *fakeClock
		want  string
	}{
		{"missing secret", jwt.Config{}, clk, "current secret is 0 bytes"},
		{"short secret", jwt.Config{Current: jwt.Secret{Key: short}}, clk, "current secret is 31 bytes"},
		{"short previous", jwt.Config{Current: jwt.Secret{Key: secretA}, Previous: []jwt.Secret{{Key: short}}}, clk, "previous secret #1 is 31 bytes"},
		{"duplicate secret", jwt.Config{Current: jwt.Secret{Key: secretA}, Previous: []jwt.Secret{{Key: secretA}}}, clk, "already uses"},
		{"duplicate kid", jwt.Config{Current: jwt.Secret{KID: "k", Key: secretA}, Previous: []jwt.Secret{{KID: "k", Key: secretB}}}, clk, "already uses"},
		{"leeway too big", jwt.Config{Current: jwt.Secret{Key: secretA}, Leeway: 61 * time.Second}, clk, "leeway"},
		{"negative leeway", jwt.Config{Current: jwt.Secret{Key: secretA}, Leeway: -time.Second}, clk, "leeway"},
		{"nil clock", jwt.Config{Current: jwt.Secret{Key: secretA}}, nil, "clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s *jwt.Service
			var err error
			if tt.clock == nil {
				s, err = jwt.New(tt.cfg, nil)
			} else {
				s, err = jwt.New(tt.cfg, tt.clock)
			}
			if err == nil || s != nil {
				t.Fatal("New accepted an invalid config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to mention %q", err, tt.want)
			}
			for _, sec := range [][]byte{short, secretA, secretB} {
				if strings.Contains(err.Error(), string(sec)) {
					t.Fatal("error contains a secret")
				}
			}
		})
	}
	// Every problem at once.
	_, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: short}, Leeway: time.Hour}, nil)
	if err == nil || !strings.Contains(err.Error(), "clock") || !strings.Contains(err.Error(), "leeway") || !strings.Contains(err.Error(), "31 bytes") {
		t.Fatalf("err = %v, want all three problems", err)
	}
	// Exactly 32 bytes and a 60 s leeway are fine.
	if _, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: secretA}, Leeway: 60 * time.Second}, clk); err != nil {
		t.Fatalf("New(32-byte secret): %v", err)
	}
}

func TestNewCopiesSecrets(t *testing.T) {
	t.Parallel()
	key := append([]byte(nil), secretA...)
	s, _ := newService(t, jwt.Config{Current: jwt.Secret{Key: key}})
	tok, err := s.Issue(claimsAt(t0))
	if err != nil {
		t.Fatal(err)
	}
	for i := range key {
		key[i] = 0
	}
	assertAccepted(t, s, tok)
}

func TestKIDFor(t *testing.T) {
	t.Parallel()
	// Expected values computed independently: sha256(b"m9m-jwt-kid:" + secret)[:16] in Python.
	if got := jwt.KIDFor(secretA); got != "fe3695fa9658810a" {
		t.Errorf("KIDFor(secretA) = %q", got)
	}
	if got := jwt.KIDFor([]byte(strings.Repeat("a", 32))); got != "9424152dbbc97c3d" {
		t.Errorf("KIDFor(a*32) = %q", got)
	}
	if jwt.KIDFor(secretA) == jwt.KIDFor(secretB) {
		t.Error("different secrets share a kid")
	}
	plain := sha256.Sum256(secretA)
	if strings.HasPrefix(fmt.Sprintf("%x", plain), jwt.KIDFor(secretA)) {
		t.Error("kid is a bare hash of the secret; it must be domain-separated")
	}
}

func TestSecretIsRedacted(t *testing.T) {
	t.Parallel()
	cfg := jwt.Config{Current: jwt.Secret{KID: "k1", Key: secretA}, Previous: []jwt.Secret{{Key: secretB}}}
	for _, out := range []string{
		fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg.Current),
		fmt.Sprintf("%x", cfg.Current), fmt.Sprintf("%v", &cfg), cfg.Current.String(),
	} {
		if strings.Contains(out, string(secretA)) || strings.Contains(out, string(secretB)) ||
			strings.Contains(out, fmt.Sprintf("%x", secretA)) || strings.Contains(out, fmt.Sprintf("%d", secretA)) {
			t.Fatalf("secret leaked: %s", out)
		}
	}
	if !strings.Contains(cfg.Current.String(), "k1") {
		t.Error("redacted form should still show the kid")
	}
}

// FuzzVerify: no input panics, every failure is ErrUnauthenticated, and any
// accepted token is byte-for-byte one we issued, with the claims we issued.
func FuzzVerify(f *testing.F) {
	clk := &fakeClock{now: t0}
	s, err := jwt.New(jwt.Config{Current: jwt.Secret{Key: secretA}, Previous: []jwt.Secret{{Key: secretOld}}}, clk)
	if err != nil {
		f.Fatal(err)
	}
	issued := map[string]session.Claims{}
	for i := range 3 {
		c := claimsAt(t0)
		c.TokenID = fmt.Sprintf("%s%d", jti, i)
		tok, err := s.Issue(c)
		if err != nil {
			f.Fatal(err)
		}
		c.IssuedAt, c.NotBefore, c.ExpiresAt = t0, t0, t0.Add(15*time.Minute)
		issued[tok] = c
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok[:len(tok)/2])
		parts := strings.Split(tok, ".")
		f.Add(b64(with(goodHeader(), "alg", "none")) + "." + parts[1] + ".")
		f.Add(parts[0] + "." + parts[1] + "." + flipLowBits(parts[2]))
		f.Add(parts[0] + "." + b64(with(goodPayload(t0), "sub", "admin")) + "." + parts[2])
	}
	f.Add(forge(with(goodHeader(), "alg", "HS512"), goodPayload(t0), sha512.New, secretA))
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := s.Verify(token)
		if err != nil {
			if !errors.Is(err, domain.ErrUnauthenticated) {
				t.Fatalf("err = %v, want ErrUnauthenticated", err)
			}
			return
		}
		want, ok := issued[token]
		if !ok {
			t.Fatalf("accepted a token we never issued: %q", token)
		}
		if c != want {
			t.Fatalf("claims = %+v, want %+v", c, want)
		}
	})
}
