package config_test

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/infra/config"
	"gopkg.in/yaml.v3"
)

// canary marks every secret value in these tests: no error message and no
// redacted rendering may ever contain it.
const canary = "CANARY"

// jwtSecret is a valid secret (at least 32 bytes) that is recognizable.
const jwtSecret = "CANARY-jwt-secret-0123456789abcdefghij"

// secretEnv is the environment entry that makes the defaults valid.
var secretEnv = "M9M_SECURITY_JWT_SECRET=" + jwtSecret

// writeFile writes content to a new file in a test temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// loadYAML writes doc to a temp file and loads it with environ.
func loadYAML(t *testing.T, doc string, environ ...string) (*config.Config, error) {
	t.Helper()
	return config.Load(writeFile(t, "config.yaml", doc), environ)
}

// keys returns the keys of the FieldErrors in err.
func keys(err error) []string {
	var out []string
	for _, fe := range config.FieldErrors(err) {
		out = append(out, fe.Key)
	}
	return out
}

// requireProblem fails unless err reports a problem for key (and, if
// fragment is not empty, with that text), and checks that no secret leaked.
func requireProblem(t *testing.T, err error, key, fragment string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a problem for %s, got no error", key)
	}
	assertNoCanary(t, err)
	for _, fe := range config.FieldErrors(err) {
		if fe.Key == key && strings.Contains(fe.Problem, fragment) {
			if !strings.Contains(err.Error(), key+": ") {
				t.Fatalf("message does not name %s:\n%v", key, err)
			}
			return
		}
	}
	t.Fatalf("want a problem for %s containing %q, got:\n%v", key, fragment, err)
}

// assertNoCanary fails if err's message contains a test secret.
func assertNoCanary(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), canary) {
		t.Fatalf("error leaks a secret value:\n%v", err)
	}
}

func TestDefaultsFailOnlyForMissingJWTSecret(t *testing.T) {
	t.Parallel()
	const want = "security.jwt.secret: required when security.jwt.enabled is true (at least 32 bytes)"

	_, err := config.Load("", nil)
	if err == nil || err.Error() != want {
		t.Fatalf("Load with defaults: got %v, want exactly %q", err, want)
	}
	if err := config.Default().Validate(); err == nil || err.Error() != want {
		t.Fatalf("Default().Validate(): got %v, want exactly %q", err, want)
	}
}

func TestDefaultsWithSecretAreValid(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", []string{secretEnv})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"server.host", cfg.Server.Host, "0.0.0.0"},
		{"server.port", cfg.Server.Port, 8080},
		{"server.read_timeout", cfg.Server.ReadTimeout, 15 * time.Second},
		{"server.read_header_timeout", cfg.Server.ReadHeaderTimeout, 5 * time.Second},
		{"server.write_timeout", cfg.Server.WriteTimeout, 30 * time.Second},
		{"server.idle_timeout", cfg.Server.IdleTimeout, 120 * time.Second},
		{"server.shutdown_timeout", cfg.Server.ShutdownTimeout, 20 * time.Second},
		{"server.max_body_bytes", cfg.Server.MaxBodyBytes, 1048576},
		{"server.tls.min_version", cfg.Server.TLS.MinVersion, "1.2"},
		{"database.url", cfg.Database.URL, ""},
		{"database embedded", cfg.Database.Embedded(), true},
		{"database sqlite path", cfg.Database.SQLitePath(), "data/m9m.db"},
		{"database.auto_migrate", cfg.Database.AutoMigrate, true},
		{"redis.url", cfg.Redis.URL, ""},
		{"redis.key_prefix", cfg.Redis.KeyPrefix, "m9m:"},
		{"redis.revocation_lease", cfg.Redis.RevocationLease, 250 * time.Millisecond},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, "json"},
		{"security.jwt.secret", cfg.Security.JWT.Secret, jwtSecret},
		{"security.jwt.expiration", cfg.Security.JWT.Expiration, time.Hour},
		{"security.jwt.leeway", cfg.Security.JWT.Leeway, 30 * time.Second},
		{"security.jwt.refresh_grace", cfg.Security.JWT.RefreshGrace, 10 * time.Second},
		{"security.jwt.max_session", cfg.Security.JWT.MaxSession, 720 * time.Hour},
		{"security.api_keys.max_per_user", cfg.Security.APIKeys.MaxPerUser, 100},
		{"security.api_keys.last_used_interval", cfg.Security.APIKeys.LastUsedInterval, time.Minute},
		{"security.basic_auth.enabled", cfg.Security.BasicAuth.Enabled, false},
		{"security.cors.allowed_methods", strings.Join(cfg.Security.CORS.AllowedMethods, ","), "GET,POST,PUT,PATCH,DELETE"},
		{"security.cors.allowed_headers", strings.Join(cfg.Security.CORS.AllowedHeaders, ","), "Content-Type,Authorization,X-API-Key,X-Request-ID"},
		{"security.cors.max_age", cfg.Security.CORS.MaxAge, 600},
		{"security.password_hash.memory_kib", cfg.Security.PasswordHash.MemoryKiB, 19456},
		{"security.password_hash.iterations", cfg.Security.PasswordHash.Iterations, 2},
		{"security.password_hash.parallelism", cfg.Security.PasswordHash.Parallelism, 1},
		{"security.password_hash.queue_timeout", cfg.Security.PasswordHash.QueueTimeout, 5 * time.Second},
		{"security.login_throttle.max_failures_per_user", cfg.Security.LoginThrottle.MaxFailuresPerUser, 5},
		{"security.login_throttle.max_failures_per_ip", cfg.Security.LoginThrottle.MaxFailuresPerIP, 100},
		{"security.login_throttle.window", cfg.Security.LoginThrottle.Window, 15 * time.Minute},
		{"performance.rate_limit.requests_per_minute", cfg.Performance.RateLimit.RequestsPerMinute, 600},
		{"performance.rate_limit.burst", cfg.Performance.RateLimit.Burst, 100},
		{"performance.rate_limit.slack", cfg.Performance.RateLimit.Slack, 5},
		{"performance.connection_pool.max_open", cfg.Performance.ConnectionPool.MaxOpen, 20},
		{"performance.connection_pool.max_idle", cfg.Performance.ConnectionPool.MaxIdle, 20},
		{"performance.connection_pool.max_lifetime", cfg.Performance.ConnectionPool.MaxLifetime, 30 * time.Minute},
		{"monitoring.metrics.listen", cfg.Monitoring.Metrics.Listen, "127.0.0.1:9090"},
		{"monitoring.metrics.path", cfg.Monitoring.Metrics.Path, "/metrics"},
		{"audit.queue_size", cfg.Audit.QueueSize, 4096},
		{"audit.batch_size", cfg.Audit.BatchSize, 100},
		{"audit.flush_interval", cfg.Audit.FlushInterval, time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if got := cfg.Server.Addr(); got != "0.0.0.0:8080" {
		t.Errorf("Addr() = %q", got)
	}
	if got := cfg.Security.PasswordHash.EffectiveMaxConcurrent(); got != runtime.NumCPU() {
		t.Errorf("EffectiveMaxConcurrent() = %d, want NumCPU %d", got, runtime.NumCPU())
	}
	if cfg.Security.BootstrapAdmin.Enabled() {
		t.Error("bootstrap admin enabled by default")
	}
}

func TestEnvVars(t *testing.T) {
	t.Parallel()
	vars := config.EnvVars()
	if !slices.IsSorted(vars) {
		t.Error("EnvVars() is not sorted")
	}
	if len(slices.Compact(slices.Clone(vars))) != len(vars) {
		t.Error("EnvVars() has duplicates")
	}
	for env, key := range map[string]string{
		"M9M_SERVER_PORT":              "server.port",
		"M9M_DATABASE_URL":             "database.url",
		"M9M_REDIS_URL":                "redis.url",
		"M9M_LOG_LEVEL":                "log.level",
		"M9M_LOG_FORMAT":               "log.format",
		"M9M_SECURITY_JWT_SECRET":      "security.jwt.secret",
		"M9M_SECURITY_JWT_SECRET_FILE": "security.jwt.secret_file",
		"M9M_PERFORMANCE_RATE_LIMIT_REQUESTS_PER_MINUTE": "performance.rate_limit.requests_per_minute",
		"M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME":          "security.bootstrap_admin.username",
		"M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD":          "security.bootstrap_admin.password",
		"M9M_SERVER_TLS_CERT_FILE":                       "server.tls.cert_file",
		"M9M_AUDIT_FLUSH_INTERVAL":                       "audit.flush_interval",
		"M9M_PERFORMANCE_RATE_LIMIT_SLACK":               "performance.rate_limit.slack",
	} {
		if !slices.Contains(vars, env) {
			t.Errorf("EnvVars() lacks %s", env)
		}
		if got, ok := config.KeyForEnv(env); !ok || got != key {
			t.Errorf("KeyForEnv(%s) = %q, %v; want %q", env, got, ok, key)
		}
	}
	for _, bad := range []string{"M9M_NOPE", "m9m_server_port", "M9M_SERVER", "M9M_SECURITY_JWT", "SERVER_PORT", ""} {
		if key, ok := config.KeyForEnv(bad); ok {
			t.Errorf("KeyForEnv(%q) = %q, want unknown", bad, key)
		}
	}
}

// leafKeys returns the dotted paths of the scalar and list leaves of a YAML mapping.
func leafKeys(n *yaml.Node, prefix string, out map[string]bool) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		if prefix != "" {
			k = prefix + "." + k
		}
		if v.Kind == yaml.MappingNode {
			leafKeys(v, k, out)
			continue
		}
		out[k] = true
	}
}

func TestExampleConfig(t *testing.T) {
	t.Parallel()
	const path = "../../config.example.yaml"

	cfg, err := config.Load(path, []string{secretEnv})
	if err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}

	// It sets every key to its default...
	def := config.Default()
	def.Security.JWT.Secret = jwtSecret
	if got, want := cfg.String(), def.String(); got != want {
		t.Errorf("config.example.yaml differs from the defaults:\n--- example\n%s\n--- defaults\n%s", got, want)
	}

	// ... and documents every key, and nothing else.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	leafKeys(doc.Content[0], "", documented)
	for _, env := range config.EnvVars() {
		key, _ := config.KeyForEnv(env)
		if !documented[key] {
			t.Errorf("config.example.yaml lacks %s", key)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("config.example.yaml has %s, which is not a config key", key)
	}
	if !strings.Contains(string(data), "# ") {
		t.Error("config.example.yaml has no comments")
	}
}

func TestStringRoundTrips(t *testing.T) {
	t.Parallel()
	def := config.Default()
	def.Server.TrustedProxies = []string{"10.0.0.0/8"}
	def.Security.CORS.AllowedOrigins = []string{"https://app.example.com"}
	def.Security.JWT.Secret = jwtSecret // rendered as REDACTED; the environment sets it back

	cfg, err := loadYAML(t, def.String(), secretEnv)
	if err != nil {
		t.Fatalf("String() output does not load back: %v\n%s", err, def.String())
	}
	if got, want := cfg.String(), def.String(); got != want {
		t.Errorf("round trip changed the config:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.Database.URL = "postgres://app:CANARY-db-pass@db.internal:5432/m9m?sslmode=require"
	cfg.Redis.URL = "rediss://:CANARY-redis-pass@cache.internal:6380/0"
	cfg.Redis.Password = "CANARY-redis-password"
	cfg.Security.JWT.Secret = jwtSecret
	cfg.Security.JWT.PreviousSecrets = []string{"CANARY-old-secret-1", "CANARY-old-secret-2"}
	cfg.Security.BasicAuth.Password = "CANARY-basic-pass"
	cfg.Security.BootstrapAdmin = config.BootstrapAdminConfig{Username: "root", Password: "CANARY-boot-pass"}
	cfg.Security.WebhookEncryptionKey = "CANARY-webhook-key"
	cfg.Security.JWT.SecretFile = "/run/secrets/jwt"

	out := cfg.String()
	if strings.Contains(out, canary) {
		t.Fatalf("String() leaks a secret:\n%s", out)
	}
	for _, want := range []string{
		"db.internal:5432", "app:REDACTED@", "cache.internal:6380", "/run/secrets/jwt", "username: root",
		"secret: REDACTED", "- REDACTED", "webhook_encryption_key: REDACTED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("String() lacks %q:\n%s", want, out)
		}
	}
	if cfg.Security.JWT.PreviousSecrets[0] != "CANARY-old-secret-1" || cfg.Security.JWT.Secret != jwtSecret {
		t.Error("Redacted modified the original config")
	}
	if r := cfg.Redacted(); r.Security.BasicAuth.Username != cfg.Security.BasicAuth.Username || r.Server.Port != cfg.Server.Port {
		t.Error("Redacted changed a value that is not secret")
	}

	dsns := []struct{ in, want string }{
		{"host=db user=app password=CANARY-kv dbname=m9m", "host=db user=app password=REDACTED dbname=m9m"},
		{"host=db password='CANARY quoted' dbname=m9m", "host=db password=REDACTED dbname=m9m"},
		{"postgres://db/m9m?password=CANARY-q&sslmode=disable", "postgres://db/m9m?password=REDACTED&sslmode=disable"},
		{"postgres://app@db/m9m", "postgres://app@db/m9m"},
		{"postgres://app:CANARY%zz@db/m9m", "REDACTED"},
	}
	for _, d := range dsns {
		c := config.Default()
		c.Database.URL = d.in
		if got := c.Redacted().Database.URL; got != d.want {
			t.Errorf("Redacted(%q) = %q, want %q", d.in, got, d.want)
		}
	}
}

func TestTrustedProxyPrefixes(t *testing.T) {
	t.Parallel()
	s := config.ServerConfig{TrustedProxies: []string{"10.1.2.3/8", "192.168.1.10", "::1", "2001:db8::/32", "::ffff:10.0.0.1"}}
	got, err := s.TrustedProxyPrefixes()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.0.0.0/8", "192.168.1.10/32", "::1/128", "2001:db8::/32", "10.0.0.1/32"}
	for i, p := range got {
		if p.String() != want[i] {
			t.Errorf("prefix %d = %s, want %s", i, p, want[i])
		}
	}
	if _, err := (config.ServerConfig{TrustedProxies: []string{"nope"}}).TrustedProxyPrefixes(); err == nil ||
		!strings.Contains(err.Error(), "server.trusted_proxies[0]") {
		t.Errorf("bad proxy: got %v", err)
	}
}

func TestMinTLSVersion(t *testing.T) {
	t.Parallel()
	if got := (config.TLSConfig{MinVersion: "1.2"}).MinTLSVersion(); got != 0x0303 {
		t.Errorf("1.2 -> %#x", got)
	}
	if got := (config.TLSConfig{MinVersion: "1.3"}).MinTLSVersion(); got != 0x0304 {
		t.Errorf("1.3 -> %#x", got)
	}
}
