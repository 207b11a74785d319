package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Struct tags used by this package besides `yaml`:
//
//	secret:"true"  the value is a credential; it is masked by Redacted and
//	               never appears in an error message.
//	secret:"dsn"   the value is a connection URL that may embed a password;
//	               Redacted masks only the password.

// Config is the whole m9m configuration. Each component receives only the
// section it needs (cfg.Server, cfg.Security.JWT, ...).
type Config struct {
	// Server configures the public HTTP listener.
	Server ServerConfig `yaml:"server"`
	// Database configures the store: the embedded SQLite file (the default)
	// or Postgres.
	Database DatabaseConfig `yaml:"database"`
	// Redis configures the Redis connection shared by all instances.
	Redis RedisConfig `yaml:"redis"`
	// Log configures the process logger.
	Log LogConfig `yaml:"log"`
	// Security configures authentication, authorization and their safeguards.
	Security SecurityConfig `yaml:"security"`
	// Performance configures rate limiting and database pooling.
	Performance PerformanceConfig `yaml:"performance"`
	// Monitoring configures the metrics endpoint.
	Monitoring MonitoringConfig `yaml:"monitoring"`
	// Audit configures the asynchronous audit-log writer.
	Audit AuditConfig `yaml:"audit"`
	// Retention configures how long data is kept (contract §14).
	Retention RetentionConfig `yaml:"retention"`
}

// ServerConfig configures the public HTTP listener.
type ServerConfig struct {
	// Host is the address to listen on; 0.0.0.0 listens on every interface.
	Host string `yaml:"host"`
	// Port is the TCP port to listen on (1-65535).
	Port int `yaml:"port"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// ReadHeaderTimeout bounds reading request headers (slowloris defence).
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// WriteTimeout bounds writing a response.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout bounds how long a keep-alive connection may stay idle.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// ShutdownTimeout bounds draining in-flight requests after SIGTERM.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxBodyBytes is the largest request body accepted; larger gets 413.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// TrustedProxies lists the CIDRs (or bare IPs) of reverse proxies whose
	// X-Forwarded-For header is believed. Empty: the direct peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLS configures HTTPS on the listener.
	TLS TLSConfig `yaml:"tls"`
}

// Addr returns the host:port the server listens on.
func (s ServerConfig) Addr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// TrustedProxyPrefixes returns TrustedProxies parsed as prefixes; a bare
// address becomes a single-host prefix (/32 or /128). Validate has already
// rejected anything that does not parse.
func (s ServerConfig) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(s.TrustedProxies))
	for i, raw := range s.TrustedProxies {
		p, err := parsePrefix(raw)
		if err != nil {
			return nil, &FieldError{Key: fmt.Sprintf("server.trusted_proxies[%d]", i), Problem: err.Error()}
		}
		out = append(out, p)
	}
	return out, nil
}

// TLSConfig configures HTTPS on the public listener.
type TLSConfig struct {
	// Enabled turns HTTPS on; CertFile and KeyFile are then required.
	Enabled bool `yaml:"enabled"`
	// CertFile is the PEM certificate chain.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key.
	KeyFile string `yaml:"key_file"`
	// MinVersion is the lowest TLS version accepted: "1.2" or "1.3".
	MinVersion string `yaml:"min_version"`
}

// MinTLSVersion returns MinVersion as a crypto/tls version constant
// (tls.VersionTLS12 or tls.VersionTLS13).
func (t TLSConfig) MinTLSVersion() uint16 {
	if t.MinVersion == "1.3" {
		return tls.VersionTLS13
	}
	return tls.VersionTLS12
}

// DatabaseConfig configures the store. Unset URL or sqlite:PATH is the
// embedded mode (one process, one SQLite file, no services); a Postgres URL
// is the multi-instance mode, which also needs Redis (contract §13).
type DatabaseConfig struct {
	// URL is empty or sqlite:PATH (embedded: one SQLite file, default
	// data/m9m.db under the working directory), or a Postgres DSN
	// (postgres://user:pass@host:5432/db?sslmode=...).
	URL string `yaml:"url" secret:"dsn"`
	// URLFile names a file holding URL, for secret stores that mount files.
	URLFile string `yaml:"url_file"`
	// Password authenticates to Postgres when URL carries none, so the URL
	// can stay in plain configuration while the password comes from a
	// secret (PasswordFile).
	Password string `yaml:"password" secret:"true"`
	// PasswordFile names a file holding Password.
	PasswordFile string `yaml:"password_file"`
	// AutoMigrate applies pending migrations when serve starts.
	AutoMigrate bool `yaml:"auto_migrate"`
}

// Embedded reports whether the configuration selects the embedded mode:
// database.url unset or sqlite:PATH.
func (d DatabaseConfig) Embedded() bool {
	return d.URL == "" || strings.HasPrefix(d.URL, SQLiteScheme)
}

// SQLitePath is the embedded mode's database file: the PATH of
// sqlite:PATH, or DefaultSQLitePath when database.url is unset.
func (d DatabaseConfig) SQLitePath() string {
	if p := strings.TrimPrefix(d.URL, SQLiteScheme); p != "" && p != d.URL {
		return p
	}
	return DefaultSQLitePath
}

// SQLiteScheme prefixes a database.url that names an SQLite file.
const SQLiteScheme = "sqlite:"

// DefaultSQLitePath is the embedded mode's file when database.url is unset.
const DefaultSQLitePath = "data/m9m.db"

// Configured reports whether Redis is configured (redis.url or redis.addrs).
func (r RedisConfig) Configured() bool {
	return r.URL != "" || len(r.Addrs) > 0
}

// RedisConfig configures the Redis connection. Either URL (a single node) or
// Addrs (Sentinel or Cluster seeds) is used: when Addrs is non-empty, URL
// must be empty or left at its default, and is ignored.
type RedisConfig struct {
	// URL is a redis:// or rediss:// URL for a single node.
	URL string `yaml:"url" secret:"dsn"`
	// URLFile names a file holding URL.
	URLFile string `yaml:"url_file"`
	// Addrs lists host:port seeds of a Sentinel (with MasterName) or a Cluster.
	Addrs []string `yaml:"addrs"`
	// MasterName is the Sentinel master name; it requires Addrs.
	MasterName string `yaml:"master_name"`
	// Password authenticates to Redis when it is not given in URL.
	Password string `yaml:"password" secret:"true"`
	// PasswordFile names a file holding Password.
	PasswordFile string `yaml:"password_file"`
	// KeyPrefix is prepended to every key m9m writes, so several deployments
	// (or test packages) can share one Redis.
	KeyPrefix string `yaml:"key_prefix"`
	// RevocationLease is L (contract §15): an instance judges tokens and
	// API keys from its in-process copy, with no round trip, while its last
	// read of the revocation feed was sent less than L ago, and every
	// revoking call waits L before it answers (10ms-5s, default 250ms).
	RevocationLease time.Duration `yaml:"revocation_lease"`
}

// LogConfig configures the process logger.
type LogConfig struct {
	// Level is the lowest level written: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format is json (machines) or console (humans).
	Format string `yaml:"format"`
}

// SecurityConfig configures authentication and its safeguards.
type SecurityConfig struct {
	// JWT configures session tokens.
	JWT JWTConfig `yaml:"jwt"`
	// APIKeys configures API keys.
	APIKeys APIKeysConfig `yaml:"api_keys"`
	// BasicAuth configures the single static basic-auth credential.
	BasicAuth BasicAuthConfig `yaml:"basic_auth"`
	// CORS configures cross-origin requests from browsers.
	CORS CORSConfig `yaml:"cors"`
	// PasswordHash configures argon2id password hashing.
	PasswordHash PasswordHashConfig `yaml:"password_hash"`
	// LoginThrottle configures the limit on failed logins.
	LoginThrottle LoginThrottleConfig `yaml:"login_throttle"`
	// BootstrapAdmin creates the first admin user while no user exists.
	BootstrapAdmin BootstrapAdminConfig `yaml:"bootstrap_admin"`
	// WebhookEncryptionKey, when set, encrypts webhook secrets at rest
	// (at least 32 bytes).
	WebhookEncryptionKey string `yaml:"webhook_encryption_key" secret:"true"`
	// WebhookEncryptionKeyFile names a file holding WebhookEncryptionKey.
	WebhookEncryptionKeyFile string `yaml:"webhook_encryption_key_file"`
	// PreviousWebhookEncryptionKeys still open secrets sealed before a key
	// rotation but never seal new ones; `m9m webhooks reseal` moves every
	// secret to the current key, after which they can be dropped (each at
	// least 32 bytes).
	PreviousWebhookEncryptionKeys []string `yaml:"previous_webhook_encryption_keys" secret:"true"`
}

// JWTConfig configures HS256 session tokens.
type JWTConfig struct {
	// Enabled accepts Bearer tokens and enables login; Secret is then required.
	Enabled bool `yaml:"enabled"`
	// Secret signs and verifies tokens (at least 32 bytes).
	Secret string `yaml:"secret" secret:"true"`
	// SecretFile names a file holding Secret.
	SecretFile string `yaml:"secret_file"`
	// PreviousSecrets still verify tokens but never sign them (each at least
	// 32 bytes). A rotation goes through them twice: the new secret is first
	// added here on every instance (verify-only), then swapped with Secret,
	// then the old one is removed; each step is safe while instances differ.
	PreviousSecrets []string `yaml:"previous_secrets" secret:"true"`
	// PreviousSecretsFile names a file holding PreviousSecrets, one per line
	// (blank lines and # comments skipped).
	PreviousSecretsFile string `yaml:"previous_secrets_file"`
	// Expiration is a token's lifetime (more than 0, at most 720h).
	Expiration time.Duration `yaml:"expiration"`
	// Leeway is the clock skew tolerated on exp/nbf/iat (0-60s).
	Leeway time.Duration `yaml:"leeway"`
	// RefreshGrace is how long a repeated refresh of one token returns the same
	// successor instead of failing (0-60s).
	RefreshGrace time.Duration `yaml:"refresh_grace"`
	// MaxSession bounds how long after login a session can still be refreshed
	// (at least Expiration).
	MaxSession time.Duration `yaml:"max_session"`
}

// APIKeysConfig configures API keys.
type APIKeysConfig struct {
	// Enabled accepts X-API-Key and the key management endpoints.
	Enabled bool `yaml:"enabled"`
	// MaxPerUser caps the live keys one user may hold (1-10000).
	MaxPerUser int `yaml:"max_per_user"`
	// LastUsedInterval is how stale a key's lastUsedAt may get; it bounds
	// database writes to one per key per interval.
	LastUsedInterval time.Duration `yaml:"last_used_interval"`
}

// BasicAuthConfig configures the single static basic-auth credential, which
// acts as an admin principal.
type BasicAuthConfig struct {
	// Enabled accepts Authorization: Basic; Username and Password are then required.
	Enabled bool `yaml:"enabled"`
	// Username is the accepted user name (no ':').
	Username string `yaml:"username"`
	// Password is the accepted password (at least 12 characters).
	Password string `yaml:"password" secret:"true"`
	// PasswordFile names a file holding Password.
	PasswordFile string `yaml:"password_file"`
}

// CORSConfig configures cross-origin requests.
type CORSConfig struct {
	// Enabled answers CORS preflights and adds CORS headers.
	Enabled bool `yaml:"enabled"`
	// AllowedOrigins lists origins (scheme://host[:port]) or "*".
	AllowedOrigins []string `yaml:"allowed_origins"`
	// AllowedMethods lists the methods browsers may use.
	AllowedMethods []string `yaml:"allowed_methods"`
	// AllowedHeaders lists the request headers browsers may send.
	AllowedHeaders []string `yaml:"allowed_headers"`
	// AllowCredentials lets browsers send cookies and Authorization; it cannot
	// be combined with the "*" origin.
	AllowCredentials bool `yaml:"allow_credentials"`
	// MaxAge is how many seconds browsers may cache a preflight (0 or more).
	MaxAge int `yaml:"max_age"`
}

// PasswordHashConfig configures argon2id. The defaults follow the OWASP
// recommendation (19 MiB, 2 iterations, 1 lane).
type PasswordHashConfig struct {
	// MemoryKiB is the memory cost in KiB (at least 8 per lane).
	MemoryKiB int `yaml:"memory_kib"`
	// Iterations is the time cost (at least 1).
	Iterations int `yaml:"iterations"`
	// Parallelism is the number of lanes (1-255).
	Parallelism int `yaml:"parallelism"`
	// MaxConcurrent caps simultaneous hash computations, so a login flood
	// cannot exhaust memory; 0 means the number of CPUs.
	MaxConcurrent int `yaml:"max_concurrent"`
	// QueueTimeout bounds the wait for a hashing slot.
	QueueTimeout time.Duration `yaml:"queue_timeout"`
}

// EffectiveMaxConcurrent returns MaxConcurrent, or the number of CPUs when it is 0.
func (p PasswordHashConfig) EffectiveMaxConcurrent() int {
	if p.MaxConcurrent > 0 {
		return p.MaxConcurrent
	}
	return runtime.NumCPU()
}

// LoginThrottleConfig configures the limit on failed logins, shared across
// instances through Redis.
type LoginThrottleConfig struct {
	// Enabled turns the throttle on.
	Enabled bool `yaml:"enabled"`
	// MaxFailuresPerUser is how many failures one username may have per
	// Window from one client (an IPv4 address or an IPv6 /64).
	MaxFailuresPerUser int `yaml:"max_failures_per_user"`
	// MaxFailuresPerIP is how many failures one client (an IPv4 address or
	// an IPv6 /64) may have per Window, over all usernames.
	MaxFailuresPerIP int `yaml:"max_failures_per_ip"`
	// MaxFailuresPerUsername is how many failures one username may have per
	// Window from any number of clients; past it the account is protected:
	// only clients known to it (KnownClientTTL) may still try.
	MaxFailuresPerUsername int `yaml:"max_failures_per_username"`
	// KnownClientTTL is how long a client that logged in successfully stays
	// known to the account.
	KnownClientTTL time.Duration `yaml:"known_client_ttl"`
	// Window is the period over which failures are counted.
	Window time.Duration `yaml:"window"`
}

// BootstrapAdminConfig names the admin created at start while no user exists.
// The password is required only then (a password without a username is an
// error).
type BootstrapAdminConfig struct {
	// Username of the first admin.
	Username string `yaml:"username"`
	// Password of the first admin (at least 8 characters).
	Password string `yaml:"password" secret:"true"`
	// PasswordFile names a file holding Password.
	PasswordFile string `yaml:"password_file"`
}

// Enabled reports whether a bootstrap admin is configured. The password is
// needed only while no user exists: it may be removed after the first start.
func (b BootstrapAdminConfig) Enabled() bool {
	return b.Username != ""
}

// PerformanceConfig configures request rate limiting and database pooling.
type PerformanceConfig struct {
	// RateLimit configures the per-caller request budget.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// ConnectionPool configures the Postgres connection pool.
	ConnectionPool ConnectionPoolConfig `yaml:"connection_pool"`
}

// RateLimitConfig configures the GCRA request budget shared by all instances.
type RateLimitConfig struct {
	// Enabled turns rate limiting on.
	Enabled bool `yaml:"enabled"`
	// RequestsPerMinute is the sustained rate per caller (at least 1 when enabled).
	RequestsPerMinute int `yaml:"requests_per_minute"`
	// Burst is how many requests may arrive at once (at least 1 when enabled).
	Burst int `yaml:"burst"`
	// Slack is how many requests, at most, the budget shared by several
	// instances may admit in any window beyond what one exact GCRA would:
	// burst + W/T + slack in a window of length W (T = 1 min /
	// RequestsPerMinute). Each instance spends slices of a caller's budget
	// leased in advance (at most slack units, valid for slack × T, at most
	// 1 s; see usecase/budget), so that most requests cost no Redis round
	// trip. 0 disables leasing: one Redis call per request, exact. Not
	// negative; the default, 5, is burst/20 of the default burst: keep about
	// that ratio when changing the burst.
	Slack int `yaml:"slack"`
}

// ConnectionPoolConfig configures database/sql pooling.
type ConnectionPoolConfig struct {
	// MaxOpen caps open connections (at least 1).
	MaxOpen int `yaml:"max_open"`
	// MaxIdle caps idle connections (0 to MaxOpen).
	MaxIdle int `yaml:"max_idle"`
	// MaxLifetime recycles connections after this long; 0 keeps them forever.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
}

// MonitoringConfig configures observability endpoints.
type MonitoringConfig struct {
	// Metrics configures the Prometheus endpoint.
	Metrics MetricsConfig `yaml:"metrics"`
}

// MetricsConfig configures the Prometheus endpoint, served on its own
// listener so it is not exposed with the API.
type MetricsConfig struct {
	// Enabled starts the metrics listener.
	Enabled bool `yaml:"enabled"`
	// Listen is the host:port of the metrics listener.
	Listen string `yaml:"listen"`
	// Path is the URL path of the metrics endpoint.
	Path string `yaml:"path"`
}

// AuditConfig configures the asynchronous audit-log writer, which batches
// events so that writing them never adds a database round trip to a request.
type AuditConfig struct {
	// QueueSize is how many events may wait in memory (at least 1).
	QueueSize int `yaml:"queue_size"`
	// BatchSize is how many events one insert writes (1 to QueueSize).
	BatchSize int `yaml:"batch_size"`
	// FlushInterval is the longest an event waits before being written.
	FlushInterval time.Duration `yaml:"flush_interval"`
}

// RetentionConfig says how long ended data is kept. A janitor deletes what
// is older every Interval, on one instance at a time; `m9m purge` runs one
// pass at once. Live data (active sessions, working API keys) is never
// deleted, whatever its age.
type RetentionConfig struct {
	// Sessions is how long an ended or expired session is kept; API keys
	// that expired or were revoked are kept as long.
	Sessions time.Duration `yaml:"sessions"`
	// AuditEvents is how long an audit event is kept.
	AuditEvents time.Duration `yaml:"audit_events"`
	// Executions is how long a webhook delivery is kept.
	Executions time.Duration `yaml:"executions"`
	// Interval is the time between two janitor passes.
	Interval time.Duration `yaml:"interval"`
}

// Example URLs of the multi-instance mode (what `make up` and the README
// use). They are not defaults: with database.url and redis.url unset m9m
// runs embedded.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/m9m?sslmode=disable"
	DefaultRedisURL    = "redis://127.0.0.1:6379/0"
)

// Default returns the configuration used when neither the file nor the
// environment sets a key. It does not validate: the JWT secret has no default.
func Default() *Config {
	return &Config{
		Server: ServerConfig{
			Host:              "0.0.0.0",
			Port:              8080,
			ReadTimeout:       15 * time.Second,
			ReadHeaderTimeout: 5 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
			MaxBodyBytes:      1 << 20,
			TrustedProxies:    []string{},
			TLS:               TLSConfig{MinVersion: "1.2"},
		},
		Database: DatabaseConfig{AutoMigrate: true},
		Redis:    RedisConfig{Addrs: []string{}, KeyPrefix: "m9m:", RevocationLease: 250 * time.Millisecond},
		Log:      LogConfig{Level: "info", Format: "json"},
		Security: SecurityConfig{
			JWT: JWTConfig{
				Enabled:         true,
				PreviousSecrets: []string{},
				Expiration:      time.Hour,
				Leeway:          30 * time.Second,
				RefreshGrace:    10 * time.Second,
				MaxSession:      720 * time.Hour,
			},
			PreviousWebhookEncryptionKeys: []string{},
			APIKeys:                       APIKeysConfig{Enabled: true, MaxPerUser: 100, LastUsedInterval: time.Minute},
			CORS: CORSConfig{
				AllowedOrigins: []string{},
				AllowedMethods: []string{"GET", "POST", "PUT", "PATCH", "DELETE"},
				AllowedHeaders: []string{"Content-Type", "Authorization", "X-API-Key", "X-Request-ID"},
				MaxAge:         600,
			},
			PasswordHash: PasswordHashConfig{
				MemoryKiB:    19456,
				Iterations:   2,
				Parallelism:  1,
				QueueTimeout: 5 * time.Second,
			},
			LoginThrottle: LoginThrottleConfig{
				Enabled:            true,
				MaxFailuresPerUser: 5,
				MaxFailuresPerIP:   100,
				Window:             15 * time.Minute,

				MaxFailuresPerUsername: 20,
				KnownClientTTL:         30 * 24 * time.Hour,
			},
		},
		Performance: PerformanceConfig{
			RateLimit:      RateLimitConfig{Enabled: true, RequestsPerMinute: 600, Burst: 100, Slack: 5},
			ConnectionPool: ConnectionPoolConfig{MaxOpen: 20, MaxIdle: 20, MaxLifetime: 30 * time.Minute},
		},
		Monitoring: MonitoringConfig{Metrics: MetricsConfig{Listen: "127.0.0.1:9090", Path: "/metrics"}},
		Audit:      AuditConfig{QueueSize: 4096, BatchSize: 100, FlushInterval: time.Second},
		Retention: RetentionConfig{
			Sessions: 720 * time.Hour, AuditEvents: 8760 * time.Hour, Executions: 720 * time.Hour, Interval: time.Hour,
		},
	}
}

// parsePrefix parses a CIDR or a bare IP (as a single-host prefix).
func parsePrefix(raw string) (netip.Prefix, error) {
	s := strings.TrimSpace(raw)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an IP address", raw)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR or an IP address", raw)
	}
	a = a.Unmap().WithZone("")
	return netip.PrefixFrom(a, a.BitLen()), nil
}
