package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/infra/config"
)

// valid returns a configuration that passes Validate, with recognizable
// secrets everywhere a secret can be.
func valid() *config.Config {
	c := config.Default()
	c.Database.URL = config.DefaultDatabaseURL // the multi-instance mode: every key in play
	c.Redis.URL = config.DefaultRedisURL
	c.Security.JWT.Secret = jwtSecret
	c.Security.JWT.PreviousSecrets = []string{"CANARY-previous-0123456789abcdef0123456789"}
	c.Security.BootstrapAdmin = config.BootstrapAdminConfig{Username: "admin", Password: "CANARY-bootstrap"}
	c.Security.WebhookEncryptionKey = "CANARY-webhook-key-0123456789abcdefghij"
	c.Redis.Password = "CANARY-redis"
	return c
}

func TestValidBaseIsValid(t *testing.T) {
	t.Parallel()
	if err := valid().Validate(); err != nil {
		t.Fatal(err)
	}
}

// tlsFiles returns readable cert and key paths.
func tlsFiles(t *testing.T) (cert, key string) {
	t.Helper()
	return writeFile(t, "cert.pem", "cert"), writeFile(t, "key.pem", "key")
}

func TestValidationRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		mutate   func(t *testing.T, c *config.Config)
		key      string // "" means the mutation must be accepted
		fragment string
	}{
		// server
		{"port zero", func(_ *testing.T, c *config.Config) { c.Server.Port = 0 }, "server.port", "between 1 and 65535"},
		{"port too high", func(_ *testing.T, c *config.Config) { c.Server.Port = 65536 }, "server.port", "got 65536"},
		{"read timeout zero", func(_ *testing.T, c *config.Config) { c.Server.ReadTimeout = 0 }, "server.read_timeout", "greater than 0"},
		{"read header timeout negative", func(_ *testing.T, c *config.Config) { c.Server.ReadHeaderTimeout = -time.Second }, "server.read_header_timeout", "greater than 0"},
		{"write timeout zero", func(_ *testing.T, c *config.Config) { c.Server.WriteTimeout = 0 }, "server.write_timeout", "greater than 0"},
		{"idle timeout zero", func(_ *testing.T, c *config.Config) { c.Server.IdleTimeout = 0 }, "server.idle_timeout", "greater than 0"},
		{"shutdown timeout zero", func(_ *testing.T, c *config.Config) { c.Server.ShutdownTimeout = 0 }, "server.shutdown_timeout", "greater than 0"},
		{"max body zero", func(_ *testing.T, c *config.Config) { c.Server.MaxBodyBytes = 0 }, "server.max_body_bytes", "at least 1"},
		{"proxy bad CIDR", func(_ *testing.T, c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "10.0.0.0/33"} }, "server.trusted_proxies[1]", "not a CIDR or an IP address"},
		{"proxy hostname", func(_ *testing.T, c *config.Config) { c.Server.TrustedProxies = []string{"proxy.local"} }, "server.trusted_proxies[0]", `"proxy.local"`},
		{"proxy trusting everyone (IPv4)", func(_ *testing.T, c *config.Config) { c.Server.TrustedProxies = []string{"10.0.0.0/8", "0.0.0.0/0"} }, "server.trusted_proxies[1]", "trusts every client"},
		{"proxy trusting everyone (IPv6)", func(_ *testing.T, c *config.Config) { c.Server.TrustedProxies = []string{"::/0"} }, "server.trusted_proxies[0]", "trusts every client"},
		{"proxies valid", func(_ *testing.T, c *config.Config) {
			c.Server.TrustedProxies = []string{"10.0.0.0/8", "192.168.1.10", "::1", "2001:db8::/32"}
		}, "", ""},
		{"tls min version 1.1", func(_ *testing.T, c *config.Config) { c.Server.TLS.MinVersion = "1.1" }, "server.tls.min_version", `must be one of 1.2, 1.3, got "1.1"`},
		{"tls min version 1.3", func(_ *testing.T, c *config.Config) { c.Server.TLS.MinVersion = "1.3" }, "", ""},
		{"tls without cert", func(t *testing.T, c *config.Config) {
			_, key := tlsFiles(t)
			c.Server.TLS = config.TLSConfig{Enabled: true, KeyFile: key, MinVersion: "1.2"}
		}, "server.tls.cert_file", "required when server.tls.enabled is true"},
		{"tls without key", func(t *testing.T, c *config.Config) {
			cert, _ := tlsFiles(t)
			c.Server.TLS = config.TLSConfig{Enabled: true, CertFile: cert, MinVersion: "1.2"}
		}, "server.tls.key_file", "required when server.tls.enabled is true"},
		{"tls cert missing", func(t *testing.T, c *config.Config) {
			_, key := tlsFiles(t)
			c.Server.TLS = config.TLSConfig{Enabled: true, CertFile: filepath.Join(t.TempDir(), "absent.pem"), KeyFile: key, MinVersion: "1.2"}
		}, "server.tls.cert_file", "cannot be read"},
		{"tls key unreadable", func(t *testing.T, c *config.Config) {
			cert, key := tlsFiles(t)
			if err := os.Chmod(key, 0); err != nil {
				t.Fatal(err)
			}
			if f, err := os.Open(key); err == nil { // root reads anything: use a missing file instead
				_ = f.Close()
				key += ".absent"
			}
			c.Server.TLS = config.TLSConfig{Enabled: true, CertFile: cert, KeyFile: key, MinVersion: "1.2"}
		}, "server.tls.key_file", "cannot be read"},
		{"tls files readable", func(t *testing.T, c *config.Config) {
			cert, key := tlsFiles(t)
			c.Server.TLS = config.TLSConfig{Enabled: true, CertFile: cert, KeyFile: key, MinVersion: "1.3"}
		}, "", ""},
		{"tls disabled ignores files", func(_ *testing.T, c *config.Config) { c.Server.TLS.CertFile = "/absent" }, "", ""},

		// stores
		{"database url empty with redis", func(_ *testing.T, c *config.Config) { c.Database.URL = "" }, "redis.url", "not used with the embedded database"},
		{"embedded default", func(_ *testing.T, c *config.Config) { c.Database.URL, c.Redis.URL = "", "" }, "", ""},
		{"embedded sqlite path", func(_ *testing.T, c *config.Config) { c.Database.URL, c.Redis.URL = "sqlite:/var/lib/m9m/m9m.db", "" }, "", ""},
		{"embedded sqlite path with ?", func(_ *testing.T, c *config.Config) { c.Database.URL, c.Redis.URL = "sqlite:m9m.db?mode=ro", "" }, "database.url", "must not contain '?'"},
		{"embedded with redis addrs", func(_ *testing.T, c *config.Config) {
			c.Database.URL, c.Redis.URL, c.Redis.Addrs = "sqlite:m9m.db", "", []string{"s1:26379"}
		}, "redis.url", "unset redis.url and redis.addrs"},
		{"postgres without redis", func(_ *testing.T, c *config.Config) { c.Redis.URL = "" }, "redis.url", "revocations would not reach the other instances"},
		{"database url wrong scheme", func(_ *testing.T, c *config.Config) { c.Database.URL = "mysql://root:CANARY@db/m9m" }, "database.url", "postgres://"},
		{"database url unparsable", func(_ *testing.T, c *config.Config) { c.Database.URL = "postgres://u:CANARY%zz@db/m9m" }, "database.url", "postgres://"},
		{"database key=value DSN", func(_ *testing.T, c *config.Config) { c.Database.URL = "host=db user=app password=CANARY dbname=m9m" }, "", ""},
		{"redis url empty", func(_ *testing.T, c *config.Config) { c.Redis.URL = "" }, "redis.url", "required unless redis.addrs is set"},
		{"redis url wrong scheme", func(_ *testing.T, c *config.Config) { c.Redis.URL = "http://:CANARY@cache:6379" }, "redis.url", "redis://"},
		{"redis url and addrs", func(_ *testing.T, c *config.Config) {
			c.Redis.URL = "redis://cache:6379/0"
			c.Redis.Addrs = []string{"s1:26379"}
		}, "redis.url", "must be empty or left at its default when redis.addrs is set"},
		{"redis addrs with default url", func(_ *testing.T, c *config.Config) {
			c.Redis.Addrs = []string{"s1:26379", "[::1]:26379"}
			c.Redis.MasterName = "mymaster"
		}, "", ""},
		{"redis addrs with empty url", func(_ *testing.T, c *config.Config) {
			c.Redis.URL = ""
			c.Redis.Addrs = []string{"n1:6379"}
		}, "", ""},
		{"redis addr without port", func(_ *testing.T, c *config.Config) { c.Redis.Addrs = []string{"s1:26379", "s2"} }, "redis.addrs[1]", "host:port"},
		{"redis master without addrs", func(_ *testing.T, c *config.Config) { c.Redis.MasterName = "mymaster" }, "redis.master_name", "requires redis.addrs"},

		// log
		{"log level", func(_ *testing.T, c *config.Config) { c.Log.Level = "verbose" }, "log.level", "debug, info, warn, error"},
		{"log format", func(_ *testing.T, c *config.Config) { c.Log.Format = "xml" }, "log.format", "json, console"},

		// jwt
		{"jwt secret short", func(_ *testing.T, c *config.Config) { c.Security.JWT.Secret = "CANARY-short" }, "security.jwt.secret", "at least 32 bytes, got 12"},
		{"jwt secret 31 bytes", func(_ *testing.T, c *config.Config) { c.Security.JWT.Secret = "CANARY-" + strings.Repeat("x", 24) }, "security.jwt.secret", "at least 32 bytes"},
		{"jwt secret 32 bytes", func(_ *testing.T, c *config.Config) { c.Security.JWT.Secret = "CANARY-" + strings.Repeat("x", 25) }, "", ""},
		{"jwt disabled needs no secret", func(_ *testing.T, c *config.Config) {
			c.Security.JWT.Enabled = false
			c.Security.JWT.Secret = ""
		}, "", ""},
		{"jwt previous secret short", func(_ *testing.T, c *config.Config) {
			c.Security.JWT.PreviousSecrets = append(c.Security.JWT.PreviousSecrets, "CANARY-old")
		}, "security.jwt.previous_secrets[1]", "at least 32 bytes"},
		{"jwt expiration zero", func(_ *testing.T, c *config.Config) { c.Security.JWT.Expiration = 0 }, "security.jwt.expiration", "greater than 0"},
		{"jwt expiration too long", func(_ *testing.T, c *config.Config) {
			c.Security.JWT.Expiration = 721 * time.Hour
			c.Security.JWT.MaxSession = 800 * time.Hour
		}, "security.jwt.expiration", "at most 720h"},
		{"jwt expiration 720h", func(_ *testing.T, c *config.Config) { c.Security.JWT.Expiration = 720 * time.Hour }, "", ""},
		{"jwt leeway too long", func(_ *testing.T, c *config.Config) { c.Security.JWT.Leeway = 61 * time.Second }, "security.jwt.leeway", "between 0s and 1m0s"},
		{"jwt leeway negative", func(_ *testing.T, c *config.Config) { c.Security.JWT.Leeway = -time.Second }, "security.jwt.leeway", "between"},
		{"jwt leeway zero", func(_ *testing.T, c *config.Config) { c.Security.JWT.Leeway = 0 }, "", ""},
		{"jwt refresh grace too long", func(_ *testing.T, c *config.Config) { c.Security.JWT.RefreshGrace = 2 * time.Minute }, "security.jwt.refresh_grace", "between"},
		{"jwt max session below expiration", func(_ *testing.T, c *config.Config) {
			c.Security.JWT.Expiration = 2 * time.Hour
			c.Security.JWT.MaxSession = time.Hour
		}, "security.jwt.max_session", "at least security.jwt.expiration"},

		// api keys
		{"api keys max zero", func(_ *testing.T, c *config.Config) { c.Security.APIKeys.MaxPerUser = 0 }, "security.api_keys.max_per_user", "between 1 and 10000"},
		{"api keys max too high", func(_ *testing.T, c *config.Config) { c.Security.APIKeys.MaxPerUser = 10001 }, "security.api_keys.max_per_user", "between 1 and 10000"},
		{"api keys last used zero", func(_ *testing.T, c *config.Config) { c.Security.APIKeys.LastUsedInterval = 0 }, "security.api_keys.last_used_interval", "greater than 0"},

		// basic auth
		{"basic auth without username", func(_ *testing.T, c *config.Config) {
			c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Password: "CANARY-long-enough"}
		}, "security.basic_auth.username", "required when security.basic_auth.enabled is true"},
		{"basic auth username with colon", func(_ *testing.T, c *config.Config) {
			c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "a:b", Password: "CANARY-long-enough"}
		}, "security.basic_auth.username", "must not contain ':'"},
		{"basic auth without password", func(_ *testing.T, c *config.Config) {
			c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops"}
		}, "security.basic_auth.password", "required when security.basic_auth.enabled is true (at least 12 characters)"},
		{"basic auth short password", func(_ *testing.T, c *config.Config) {
			c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "CANARY-1234"}
		}, "security.basic_auth.password", "at least 12 characters, got 11"},
		{"basic auth password counts characters", func(_ *testing.T, c *config.Config) {
			c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "CANARY-ééé"}
		}, "security.basic_auth.password", "got 10"},
		{"basic auth valid", func(_ *testing.T, c *config.Config) {
			c.Security.BasicAuth = config.BasicAuthConfig{Enabled: true, Username: "ops", Password: "CANARY-12345"}
		}, "", ""},
		{"basic auth disabled ignores password", func(_ *testing.T, c *config.Config) { c.Security.BasicAuth.Password = "CANARY" }, "", ""},

		// cors
		{"cors wildcard with credentials", func(_ *testing.T, c *config.Config) {
			c.Security.CORS.AllowedOrigins = []string{"*"}
			c.Security.CORS.AllowCredentials = true
		}, "security.cors.allowed_origins", `"*" cannot be combined with security.cors.allow_credentials`},
		{"cors wildcard without credentials", func(_ *testing.T, c *config.Config) {
			c.Security.CORS.Enabled = true
			c.Security.CORS.AllowedOrigins = []string{"*"}
		}, "", ""},
		{"cors origin with path", func(_ *testing.T, c *config.Config) {
			c.Security.CORS.AllowedOrigins = []string{"https://app.example.com", "https://app.example.com/"}
		}, "security.cors.allowed_origins[1]", "scheme://host[:port] with no path"},
		{"cors origin without scheme", func(_ *testing.T, c *config.Config) { c.Security.CORS.AllowedOrigins = []string{"app.example.com"} }, "security.cors.allowed_origins[0]", "scheme://host"},
		{"cors origin with query", func(_ *testing.T, c *config.Config) {
			c.Security.CORS.AllowedOrigins = []string{"https://a.example?x=1"}
		}, "security.cors.allowed_origins[0]", "scheme://host"},
		{"cors origin with user", func(_ *testing.T, c *config.Config) { c.Security.CORS.AllowedOrigins = []string{"https://u@a.example"} }, "security.cors.allowed_origins[0]", "scheme://host"},
		{"cors origin bad port", func(_ *testing.T, c *config.Config) {
			c.Security.CORS.AllowedOrigins = []string{"https://a.example:99999"}
		}, "security.cors.allowed_origins[0]", "scheme://host"},
		{"cors origins valid", func(_ *testing.T, c *config.Config) {
			c.Security.CORS.Enabled = true
			c.Security.CORS.AllowCredentials = true
			c.Security.CORS.AllowedOrigins = []string{"https://app.example.com", "http://localhost:3000", "http://[::1]:8080"}
		}, "", ""},
		{"cors enabled without origins", func(_ *testing.T, c *config.Config) { c.Security.CORS.Enabled = true }, "security.cors.allowed_origins", "required when security.cors.enabled is true"},
		{"cors bad method", func(_ *testing.T, c *config.Config) { c.Security.CORS.AllowedMethods = []string{"GET", "GE T"} }, "security.cors.allowed_methods[1]", "not an HTTP method"},
		{"cors bad header", func(_ *testing.T, c *config.Config) { c.Security.CORS.AllowedHeaders = []string{"X-Ok", "X:Bad"} }, "security.cors.allowed_headers[1]", "not an HTTP header name"},
		{"cors negative max age", func(_ *testing.T, c *config.Config) { c.Security.CORS.MaxAge = -1 }, "security.cors.max_age", "at least 0"},
		{"cors zero max age", func(_ *testing.T, c *config.Config) { c.Security.CORS.MaxAge = 0 }, "", ""},

		// password hash
		{"argon memory too low", func(_ *testing.T, c *config.Config) { c.Security.PasswordHash.MemoryKiB = 7 }, "security.password_hash.memory_kib", "at least 8"},
		{"argon memory per lane", func(_ *testing.T, c *config.Config) {
			c.Security.PasswordHash.MemoryKiB = 16
			c.Security.PasswordHash.Parallelism = 4
		}, "security.password_hash.memory_kib", "at least 32"},
		{"argon iterations zero", func(_ *testing.T, c *config.Config) { c.Security.PasswordHash.Iterations = 0 }, "security.password_hash.iterations", "at least 1"},
		{"argon parallelism zero", func(_ *testing.T, c *config.Config) { c.Security.PasswordHash.Parallelism = 0 }, "security.password_hash.parallelism", "between 1 and 255"},
		{"argon parallelism too high", func(_ *testing.T, c *config.Config) {
			c.Security.PasswordHash.Parallelism = 256
			c.Security.PasswordHash.MemoryKiB = 1 << 20
		}, "security.password_hash.parallelism", "between 1 and 255"},
		{"argon max concurrent negative", func(_ *testing.T, c *config.Config) { c.Security.PasswordHash.MaxConcurrent = -1 }, "security.password_hash.max_concurrent", "at least 0"},
		{"argon queue timeout zero", func(_ *testing.T, c *config.Config) { c.Security.PasswordHash.QueueTimeout = 0 }, "security.password_hash.queue_timeout", "greater than 0"},

		// login throttle
		{"throttle per user zero", func(_ *testing.T, c *config.Config) { c.Security.LoginThrottle.MaxFailuresPerUser = 0 }, "security.login_throttle.max_failures_per_user", "at least 1"},
		{"throttle per ip zero", func(_ *testing.T, c *config.Config) { c.Security.LoginThrottle.MaxFailuresPerIP = 0 }, "security.login_throttle.max_failures_per_ip", "at least 1"},
		{"throttle window zero", func(_ *testing.T, c *config.Config) { c.Security.LoginThrottle.Window = 0 }, "security.login_throttle.window", "greater than 0"},

		// bootstrap admin
		{"bootstrap without username", func(_ *testing.T, c *config.Config) { c.Security.BootstrapAdmin.Username = "" }, "security.bootstrap_admin.username", "required when security.bootstrap_admin.password is set"},
		{"bootstrap short password", func(_ *testing.T, c *config.Config) { c.Security.BootstrapAdmin.Password = "CANARY" }, "security.bootstrap_admin.password", "at least 8 characters"},
		{"bootstrap neither", func(_ *testing.T, c *config.Config) { c.Security.BootstrapAdmin = config.BootstrapAdminConfig{} }, "", ""},

		// webhook key
		{"webhook key short", func(_ *testing.T, c *config.Config) { c.Security.WebhookEncryptionKey = "CANARY-short-key" }, "security.webhook_encryption_key", "at least 32 bytes"},
		{"webhook key absent", func(_ *testing.T, c *config.Config) { c.Security.WebhookEncryptionKey = "" }, "", ""},
		{"previous webhook key short", func(_ *testing.T, c *config.Config) {
			c.Security.PreviousWebhookEncryptionKeys = []string{"CANARY-previous-webhook-0123456789abcdef", "CANARY-short"}
		}, "security.previous_webhook_encryption_keys[1]", "at least 32 bytes"},
		{"previous webhook keys without a current one", func(_ *testing.T, c *config.Config) {
			c.Security.WebhookEncryptionKey = ""
			c.Security.PreviousWebhookEncryptionKeys = []string{"CANARY-previous-webhook-0123456789abcdef"}
		}, "security.previous_webhook_encryption_keys", "requires security.webhook_encryption_key"},
		{"previous webhook key valid", func(_ *testing.T, c *config.Config) {
			c.Security.PreviousWebhookEncryptionKeys = []string{"CANARY-previous-webhook-0123456789abcdef"}
		}, "", ""},
		// retention
		{"retention sessions zero", func(_ *testing.T, c *config.Config) { c.Retention.Sessions = 0 }, "retention.sessions", "greater than 0"},
		{"retention audit negative", func(_ *testing.T, c *config.Config) { c.Retention.AuditEvents = -time.Hour }, "retention.audit_events", "greater than 0"},
		{"retention executions zero", func(_ *testing.T, c *config.Config) { c.Retention.Executions = 0 }, "retention.executions", "greater than 0"},
		{"retention interval zero", func(_ *testing.T, c *config.Config) { c.Retention.Interval = 0 }, "retention.interval", "greater than 0"},
		{"retention one second", func(_ *testing.T, c *config.Config) {
			c.Retention = config.RetentionConfig{Sessions: time.Second, AuditEvents: time.Second, Executions: time.Second, Interval: time.Second}
		}, "", ""},

		// rate limit
		{"rate negative even when disabled", func(_ *testing.T, c *config.Config) {
			c.Performance.RateLimit.Enabled = false
			c.Performance.RateLimit.RequestsPerMinute = -1
		}, "performance.rate_limit.requests_per_minute", "must not be negative"},
		{"rate zero when enabled", func(_ *testing.T, c *config.Config) { c.Performance.RateLimit.RequestsPerMinute = 0 }, "performance.rate_limit.requests_per_minute", "at least 1 when performance.rate_limit.enabled is true"},
		{"rate zero when disabled", func(_ *testing.T, c *config.Config) {
			c.Performance.RateLimit = config.RateLimitConfig{Enabled: false}
		}, "", ""},
		{"burst negative even when disabled", func(_ *testing.T, c *config.Config) {
			c.Performance.RateLimit.Enabled = false
			c.Performance.RateLimit.Burst = -5
		}, "performance.rate_limit.burst", "must not be negative"},
		{"burst zero when enabled", func(_ *testing.T, c *config.Config) { c.Performance.RateLimit.Burst = 0 }, "performance.rate_limit.burst", "at least 1"},
		{"slack negative", func(_ *testing.T, c *config.Config) { c.Performance.RateLimit.Slack = -1 }, "performance.rate_limit.slack", "must not be negative, got -1"},
		{"slack negative even when disabled", func(_ *testing.T, c *config.Config) {
			c.Performance.RateLimit.Enabled = false
			c.Performance.RateLimit.Slack = -3
		}, "performance.rate_limit.slack", "must not be negative"},
		{"slack zero: no leasing", func(_ *testing.T, c *config.Config) { c.Performance.RateLimit.Slack = 0 }, "", ""},
		{"slack above the burst", func(_ *testing.T, c *config.Config) { c.Performance.RateLimit.Slack = 1000 }, "", ""},

		// connection pool
		{"pool max open zero", func(_ *testing.T, c *config.Config) {
			c.Performance.ConnectionPool.MaxOpen = 0
			c.Performance.ConnectionPool.MaxIdle = 0
		}, "performance.connection_pool.max_open", "at least 1"},
		{"pool idle above open", func(_ *testing.T, c *config.Config) { c.Performance.ConnectionPool.MaxIdle = 21 }, "performance.connection_pool.max_idle", "between 0 and performance.connection_pool.max_open (20)"},
		{"pool idle negative", func(_ *testing.T, c *config.Config) { c.Performance.ConnectionPool.MaxIdle = -1 }, "performance.connection_pool.max_idle", "between 0"},
		{"pool idle zero", func(_ *testing.T, c *config.Config) { c.Performance.ConnectionPool.MaxIdle = 0 }, "", ""},
		{"pool lifetime negative", func(_ *testing.T, c *config.Config) { c.Performance.ConnectionPool.MaxLifetime = -time.Minute }, "performance.connection_pool.max_lifetime", "must not be negative"},

		// monitoring
		{"metrics listen without port", func(_ *testing.T, c *config.Config) { c.Monitoring.Metrics.Listen = "localhost" }, "monitoring.metrics.listen", "host:port"},
		{"metrics listen all interfaces", func(_ *testing.T, c *config.Config) { c.Monitoring.Metrics.Listen = ":9090" }, "", ""},
		{"metrics path relative", func(_ *testing.T, c *config.Config) { c.Monitoring.Metrics.Path = "metrics" }, "monitoring.metrics.path", "must start with /"},

		// audit
		{"audit queue zero", func(_ *testing.T, c *config.Config) {
			c.Audit.QueueSize = 0
			c.Audit.BatchSize = 1
		}, "audit.queue_size", "at least 1"},
		{"audit batch zero", func(_ *testing.T, c *config.Config) { c.Audit.BatchSize = 0 }, "audit.batch_size", "between 1 and audit.queue_size"},
		{"audit batch above queue", func(_ *testing.T, c *config.Config) { c.Audit.BatchSize = 5000 }, "audit.batch_size", "between 1 and audit.queue_size (4096)"},
		{"audit flush zero", func(_ *testing.T, c *config.Config) { c.Audit.FlushInterval = 0 }, "audit.flush_interval", "greater than 0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			c.mutate(t, cfg)
			err := cfg.Validate()
			if c.key == "" {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			requireProblem(t, err, c.key, c.fragment)
			if got := config.FieldErrors(err); len(got) != 1 {
				t.Errorf("want exactly one problem, got %d:\n%v", len(got), err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	doc := `
server:
  port: 0
log:
  level: loud
security:
  jwt:
    secret: CANARY-too-short
`
	_, err := loadYAML(t, doc)
	if err == nil {
		t.Fatal("want an error")
	}
	assertNoCanary(t, err)
	want := []string{"server.port", "log.level", "security.jwt.secret"}
	if got := keys(err); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys = %v, want %v", got, want)
	}
	msg := err.Error()
	for _, k := range want {
		if !strings.Contains(msg, k+": ") {
			t.Errorf("message does not name %s:\n%s", k, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != 3 {
		t.Errorf("want one line per problem, got %d lines:\n%s", n, msg)
	}
}

func TestErrorsNeverContainSecrets(t *testing.T) {
	t.Parallel()
	// Every secret-bearing key, set to a bad value through YAML and through the
	// environment: the messages must name the keys without the values.
	doc := `
database:
  url: mysql://root:CANARY-db@db/m9m
redis:
  url: http://:CANARY-redis@cache
security:
  jwt:
    secret: CANARY-jwt
    previous_secrets: [CANARY-prev]
  basic_auth:
    enabled: true
    username: ops
    password: CANARY-ba
  bootstrap_admin:
    username: admin
    password: CANARY
  webhook_encryption_key: CANARY-webhook
  previous_webhook_encryption_keys: [CANARY-prevhook]
`
	_, err := loadYAML(t, doc)
	for _, k := range []string{
		"database.url", "redis.url", "security.jwt.secret", "security.jwt.previous_secrets[0]",
		"security.basic_auth.password", "security.bootstrap_admin.password", "security.webhook_encryption_key",
		"security.previous_webhook_encryption_keys[0]",
	} {
		requireProblem(t, err, k, "")
	}

	_, err = config.Load("", []string{
		"M9M_DATABASE_URL=mysql://root:CANARY-db@db/m9m",
		"M9M_SECURITY_JWT_SECRET=CANARY-jwt",
		"M9M_SECURITY_JWT_PREVIOUS_SECRETS=CANARY-prev,CANARY-prev2",
		"M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY=CANARY-webhook",
		"M9M_SECURITY_PREVIOUS_WEBHOOK_ENCRYPTION_KEYS=CANARY-prevhook",
		"M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD=CANARY",
		"M9M_SECRET=CANARY-unknown",
	})
	requireProblem(t, err, "M9M_SECRET", "unknown environment variable")
}
