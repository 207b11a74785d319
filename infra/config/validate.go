package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Length floors of secrets and passwords.
const (
	MinJWTSecretBytes         = 32
	MinWebhookKeyBytes        = 32
	MinBasicAuthPasswordChars = 12
	MinBootstrapPasswordChars = 8
)

// maxExpiration caps security.jwt.expiration; tokens are meant to be short-lived.
const maxExpiration = 720 * time.Hour

// validator collects problems.
type validator struct{ errs []error }

func (v *validator) add(key, format string, args ...any) {
	v.errs = append(v.errs, fieldErr(key, fmt.Sprintf(format, args...)))
}

func (v *validator) intRange(key string, n, lo, hi int) {
	if n < lo || n > hi {
		v.add(key, "must be between %d and %d, got %d", lo, hi, n)
	}
}

func (v *validator) intMin(key string, n, lo int) {
	if n < lo {
		v.add(key, "must be at least %d, got %d", lo, n)
	}
}

func (v *validator) positive(key string, d time.Duration) {
	if d <= 0 {
		v.add(key, "must be greater than 0, got %s", d)
	}
}

func (v *validator) durRange(key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		v.add(key, "must be between %s and %s, got %s", lo, hi, d)
	}
}

func (v *validator) oneOf(key, val string, allowed ...string) {
	for _, a := range allowed {
		if val == a {
			return
		}
	}
	v.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), val)
}

// readable checks that a file exists and can be opened for reading.
func (v *validator) readable(key, path string) {
	f, err := os.Open(path) //nolint:gosec // the operator chooses these files
	if err != nil {
		v.add(key, "cannot be read: %v", err)
		return
	}
	_ = f.Close()
}

// Validate checks every rule and returns all problems at once, joined with
// errors.Join, each as "<dotted.key>: <problem>". It never quotes a secret.
// It reads the filesystem only to check that the TLS files are readable.
func (c *Config) Validate() error {
	v := &validator{}
	c.validateServer(v)
	c.validateStores(v)
	v.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", c.Log.Format, "json", "console")
	c.validateJWT(v)
	c.validateAuthMethods(v)
	c.validateCORS(v)
	c.validateSafeguards(v)
	c.validatePerformance(v)
	c.validateOperations(v)
	return errors.Join(v.errs...)
}

func (c *Config) validateServer(v *validator) {
	s := c.Server
	v.intRange("server.port", s.Port, 1, 65535)
	v.positive("server.read_timeout", s.ReadTimeout)
	v.positive("server.read_header_timeout", s.ReadHeaderTimeout)
	v.positive("server.write_timeout", s.WriteTimeout)
	v.positive("server.idle_timeout", s.IdleTimeout)
	v.positive("server.shutdown_timeout", s.ShutdownTimeout)
	v.intMin("server.max_body_bytes", s.MaxBodyBytes, 1)
	for i, p := range s.TrustedProxies {
		switch pfx, err := parsePrefix(p); {
		case err != nil:
			v.add(fmt.Sprintf("server.trusted_proxies[%d]", i), "%v", err)
		case pfx.Bits() == 0:
			// Trusting every peer lets every client choose its own IP in
			// X-Forwarded-For: its own rate budget and throttle counters.
			v.add(fmt.Sprintf("server.trusted_proxies[%d]", i),
				"%s trusts every client to name its own IP; list your proxies' addresses or networks instead", p)
		}
	}
	v.oneOf("server.tls.min_version", s.TLS.MinVersion, "1.2", "1.3")
	if s.TLS.Enabled {
		for _, f := range []struct{ key, path string }{
			{"server.tls.cert_file", s.TLS.CertFile},
			{"server.tls.key_file", s.TLS.KeyFile},
		} {
			if f.path == "" {
				v.add(f.key, "required when server.tls.enabled is true")
				continue
			}
			v.readable(f.key, f.path)
		}
	}
}

func (c *Config) validateStores(v *validator) {
	// A URL is never quoted: it may carry a password. url.Parse errors quote
	// their input, so they are not wrapped either.
	if c.Database.Embedded() {
		c.validateEmbedded(v)
		return
	}
	if !c.Redis.Configured() {
		v.add("redis.url", "required unless redis.addrs is set, with a Postgres database.url: without Redis, revocations would not reach the other instances; leave database.url unset (or sqlite:PATH) for the embedded mode")
	}
	switch u := c.Database.URL; {
	case strings.Contains(u, "://"):
		parsed, err := url.Parse(u)
		if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") || parsed.Host == "" {
			v.add("database.url", "must be a postgres://user:password@host:port/db URL (or a key=value DSN)")
		}
	}

	r := c.Redis
	if r.RevocationLease < 10*time.Millisecond || r.RevocationLease > 5*time.Second {
		v.add("redis.revocation_lease", "must be between 10ms and 5s (every revoking call waits it)")
	}
	if len(r.Addrs) > 0 {
		if r.URL != "" && r.URL != DefaultRedisURL {
			v.add("redis.url", "must be empty or left at its default when redis.addrs is set (redis.addrs takes precedence)")
		}
		for i, a := range r.Addrs {
			if !validHostPort(a) {
				v.add(fmt.Sprintf("redis.addrs[%d]", i), "%q must be host:port", a)
			}
		}
	} else {
		if r.URL == "" {
			return // reported above
		} else if parsed, err := url.Parse(r.URL); err != nil ||
			(parsed.Scheme != "redis" && parsed.Scheme != "rediss" && parsed.Scheme != "unix") {
			v.add("redis.url", "must be a redis://, rediss:// or unix:// URL")
		}
		if r.MasterName != "" {
			v.add("redis.master_name", "requires redis.addrs (the Sentinel addresses)")
		}
	}
}

// validateEmbedded checks the embedded mode: an SQLite path SQLite can
// open, and no Redis (its state is held in process; a Redis that one
// process alone used would only add a network hop and a way to fail).
func (c *Config) validateEmbedded(v *validator) {
	if p := c.Database.SQLitePath(); strings.ContainsAny(p, "?\x00") {
		v.add("database.url", "the sqlite: path must not contain '?' or NUL")
	}
	if c.Redis.Configured() {
		v.add("redis.url", "not used with the embedded database (database.url unset or sqlite:PATH): unset redis.url and redis.addrs, or set a Postgres database.url for the multi-instance mode")
	}
}

func (c *Config) validateJWT(v *validator) {
	j := c.Security.JWT
	if j.Enabled {
		switch {
		case j.Secret == "":
			v.add("security.jwt.secret", "required when security.jwt.enabled is true (at least %d bytes)", MinJWTSecretBytes)
		case len(j.Secret) < MinJWTSecretBytes:
			v.add("security.jwt.secret", "must be at least %d bytes, got %d", MinJWTSecretBytes, len(j.Secret))
		}
		for i, s := range j.PreviousSecrets {
			if len(s) < MinJWTSecretBytes {
				v.add(fmt.Sprintf("security.jwt.previous_secrets[%d]", i), "must be at least %d bytes, got %d", MinJWTSecretBytes, len(s))
			}
		}
	}
	v.positive("security.jwt.expiration", j.Expiration)
	if j.Expiration > maxExpiration {
		v.add("security.jwt.expiration", "must be at most %s, got %s", maxExpiration, j.Expiration)
	}
	v.durRange("security.jwt.leeway", j.Leeway, 0, time.Minute)
	v.durRange("security.jwt.refresh_grace", j.RefreshGrace, 0, time.Minute)
	if j.MaxSession < j.Expiration || j.MaxSession <= 0 {
		v.add("security.jwt.max_session", "must be at least security.jwt.expiration (%s), got %s", j.Expiration, j.MaxSession)
	}
}

func (c *Config) validateAuthMethods(v *validator) {
	k := c.Security.APIKeys
	v.intRange("security.api_keys.max_per_user", k.MaxPerUser, 1, 10000)
	v.positive("security.api_keys.last_used_interval", k.LastUsedInterval)

	b := c.Security.BasicAuth
	if b.Enabled {
		switch {
		case b.Username == "":
			v.add("security.basic_auth.username", "required when security.basic_auth.enabled is true")
		case strings.Contains(b.Username, ":"):
			v.add("security.basic_auth.username", "must not contain ':' (basic auth cannot carry it)")
		}
		switch n := utf8.RuneCountInString(b.Password); {
		case n == 0:
			v.add("security.basic_auth.password", "required when security.basic_auth.enabled is true (at least %d characters)", MinBasicAuthPasswordChars)
		case n < MinBasicAuthPasswordChars:
			v.add("security.basic_auth.password", "must be at least %d characters, got %d", MinBasicAuthPasswordChars, n)
		}
	}

	a := c.Security.BootstrapAdmin
	// The password is checked at start instead: it is needed only while no
	// user exists, so it may be removed after the first start.
	if a.Username == "" && a.Password != "" {
		v.add("security.bootstrap_admin.username", "required when security.bootstrap_admin.password is set")
	}
	if n := utf8.RuneCountInString(a.Password); n > 0 && n < MinBootstrapPasswordChars {
		v.add("security.bootstrap_admin.password", "must be at least %d characters, got %d", MinBootstrapPasswordChars, n)
	}

	if w := c.Security.WebhookEncryptionKey; w != "" && len(w) < MinWebhookKeyBytes {
		v.add("security.webhook_encryption_key", "must be at least %d bytes, got %d", MinWebhookKeyBytes, len(w))
	}
	for i, w := range c.Security.PreviousWebhookEncryptionKeys {
		if len(w) < MinWebhookKeyBytes {
			v.add(fmt.Sprintf("security.previous_webhook_encryption_keys[%d]", i), "must be at least %d bytes, got %d", MinWebhookKeyBytes, len(w))
		}
	}
	if len(c.Security.PreviousWebhookEncryptionKeys) > 0 && c.Security.WebhookEncryptionKey == "" {
		v.add("security.previous_webhook_encryption_keys", "requires security.webhook_encryption_key (the key new secrets are sealed with)")
	}
}

func (c *Config) validateCORS(v *validator) {
	cors := c.Security.CORS
	wildcard := false
	for i, o := range cors.AllowedOrigins {
		if o == "*" {
			wildcard = true
			continue
		}
		if !validOrigin(o) {
			v.add(fmt.Sprintf("security.cors.allowed_origins[%d]", i), `%q must be "*" or scheme://host[:port] with no path`, o)
		}
	}
	if wildcard && cors.AllowCredentials {
		v.add("security.cors.allowed_origins", `"*" cannot be combined with security.cors.allow_credentials: true; list the origins`)
	}
	if cors.Enabled && len(cors.AllowedOrigins) == 0 {
		v.add("security.cors.allowed_origins", "required when security.cors.enabled is true")
	}
	for i, m := range cors.AllowedMethods {
		if !isToken(m) {
			v.add(fmt.Sprintf("security.cors.allowed_methods[%d]", i), "%q is not an HTTP method", m)
		}
	}
	for i, h := range cors.AllowedHeaders {
		if !isToken(h) {
			v.add(fmt.Sprintf("security.cors.allowed_headers[%d]", i), "%q is not an HTTP header name", h)
		}
	}
	v.intMin("security.cors.max_age", cors.MaxAge, 0)
}

func (c *Config) validateSafeguards(v *validator) {
	h := c.Security.PasswordHash
	v.intRange("security.password_hash.parallelism", h.Parallelism, 1, 255)
	if floor := 8 * max(h.Parallelism, 1); h.MemoryKiB < floor {
		v.add("security.password_hash.memory_kib", "must be at least %d (8 per lane of security.password_hash.parallelism), got %d", floor, h.MemoryKiB)
	}
	v.intMin("security.password_hash.iterations", h.Iterations, 1)
	v.intMin("security.password_hash.max_concurrent", h.MaxConcurrent, 0)
	v.positive("security.password_hash.queue_timeout", h.QueueTimeout)

	t := c.Security.LoginThrottle
	v.intMin("security.login_throttle.max_failures_per_user", t.MaxFailuresPerUser, 1)
	v.intMin("security.login_throttle.max_failures_per_ip", t.MaxFailuresPerIP, 1)
	v.positive("security.login_throttle.window", t.Window)
	// 0 takes the default (port.DefaultThrottleLimits), so a config written
	// before these two keys existed keeps working.
	v.intMin("security.login_throttle.max_failures_per_username", t.MaxFailuresPerUsername, 0)
	if t.KnownClientTTL < 0 {
		v.add("security.login_throttle.known_client_ttl", "must not be negative, got %s", t.KnownClientTTL)
	}
}

func (c *Config) validatePerformance(v *validator) {
	r := c.Performance.RateLimit
	for _, f := range []struct {
		key string
		n   int
	}{
		{"performance.rate_limit.requests_per_minute", r.RequestsPerMinute},
		{"performance.rate_limit.burst", r.Burst},
	} {
		switch {
		case f.n < 0:
			v.add(f.key, "must not be negative, got %d", f.n)
		case r.Enabled && f.n < 1:
			v.add(f.key, "must be at least 1 when performance.rate_limit.enabled is true, got %d", f.n)
		}
	}
	// 0 is meaningful (no leasing), enabled or not.
	if r.Slack < 0 {
		v.add("performance.rate_limit.slack", "must not be negative, got %d", r.Slack)
	}

	p := c.Performance.ConnectionPool
	v.intMin("performance.connection_pool.max_open", p.MaxOpen, 1)
	if p.MaxIdle < 0 || p.MaxIdle > p.MaxOpen {
		v.add("performance.connection_pool.max_idle", "must be between 0 and performance.connection_pool.max_open (%d), got %d", p.MaxOpen, p.MaxIdle)
	}
	if p.MaxLifetime < 0 {
		v.add("performance.connection_pool.max_lifetime", "must not be negative, got %s", p.MaxLifetime)
	}
}

func (c *Config) validateOperations(v *validator) {
	m := c.Monitoring.Metrics
	if !validHostPort(m.Listen) {
		v.add("monitoring.metrics.listen", "%q must be host:port", m.Listen)
	}
	if !strings.HasPrefix(m.Path, "/") {
		v.add("monitoring.metrics.path", "must start with /, got %q", m.Path)
	}

	a := c.Audit
	v.intMin("audit.queue_size", a.QueueSize, 1)
	if a.BatchSize < 1 || a.BatchSize > max(a.QueueSize, 1) {
		v.add("audit.batch_size", "must be between 1 and audit.queue_size (%d), got %d", a.QueueSize, a.BatchSize)
	}
	v.positive("audit.flush_interval", a.FlushInterval)

	r := c.Retention
	v.positive("retention.sessions", r.Sessions)
	v.positive("retention.audit_events", r.AuditEvents)
	v.positive("retention.executions", r.Executions)
	v.positive("retention.interval", r.Interval)
}

// validHostPort reports whether s is host:port with a port in 1-65535 (the
// host may be empty, meaning every interface).
func validHostPort(s string) bool {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

// validOrigin reports whether s is a serialized origin: scheme://host[:port],
// with no user info, path, query or fragment.
func validOrigin(s string) bool {
	if strings.ContainsAny(s, "?#") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" || u.User != nil ||
		u.Path != "" || u.Opaque != "" {
		return false
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		return err == nil && n >= 1 && n <= 65535
	}
	return !strings.HasSuffix(u.Host, ":")
}

// isToken reports whether s is an RFC 9110 token (a method or header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
