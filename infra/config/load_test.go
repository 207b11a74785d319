package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/infra/config"
)

func TestLoadYAMLProblems(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		doc      string
		key      string
		fragment string
	}{
		{"unknown top-level key", "serverr:\n  port: 1\n", "serverr", `unknown key (did you mean "server"?)`},
		{"unknown nested key", "security:\n  jwt:\n    secrte: CANARY-typo-value-0123456789abcdef\n", "security.jwt.secrte", "unknown key"},
		{"unknown deep key", "server:\n  tls:\n    cert: /x\n", "server.tls.cert", "unknown key"},
		{"duplicate key", "log:\n  level: info\n  level: debug\n", "log.level", "duplicate key, first set on line 2"},
		{"string for int", "server:\n  port: eighty\n", "server.port", `expected an integer, got "eighty"`},
		{"list for int", "server:\n  port: [1]\n", "server.port", "expected a single value, got a list"},
		{"float for int", "server:\n  port: 80.5\n", "server.port", "expected an integer"},
		{"string for bool", "database:\n  auto_migrate: sometimes\n", "database.auto_migrate", "expected true or false"},
		{"bad duration", "server:\n  read_timeout: 15x\n", "server.read_timeout", `invalid duration "15x"`},
		{"bare number duration", "security:\n  jwt:\n    expiration: 3600\n", "security.jwt.expiration", "a bare number has no unit"},
		{"bool duration", "audit:\n  flush_interval: true\n", "audit.flush_interval", "expected a duration"},
		{"scalar for list", "server:\n  trusted_proxies: 10.0.0.1\n", "server.trusted_proxies", "expected a list"},
		{"mapping in list", "server:\n  trusted_proxies:\n    - {a: 1}\n", "server.trusted_proxies[0]", "expected a string, got a mapping"},
		{"null in list", "security:\n  cors:\n    allowed_origins: [~]\n", "security.cors.allowed_origins[0]", "expected a string, got null"},
		{"scalar for section", "server: 8080\n", "server", "expected a mapping of keys"},
		{"list for root", "- a\n- b\n", "(root)", "expected a mapping of keys"},
		{"mapping for secret", "security:\n  jwt:\n    secret: {CANARY-key: CANARY-value}\n", "security.jwt.secret", "expected a single value, got a mapping"},
		{"list for secret", "security:\n  jwt:\n    secret: [CANARY-a]\n", "security.jwt.secret", "expected a single value, got a list"},
		{"unknown key with anchor", "base: &b {port: 1}\n", "base", "unknown key"},
		{"merge key in section", "server:\n  <<: {port: 1}\n", "server.<<", "merge keys are not supported"},
		{"line number", "log:\n  level: info\n  colour: red\n", "log.colour", "unknown key (line 3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, c.doc, secretEnv)
			requireProblem(t, err, c.key, c.fragment)
		})
	}
}

func TestLoadYAMLUnknownKeyMessage(t *testing.T) {
	t.Parallel()
	_, err := loadYAML(t, "security:\n  jwt:\n    secrte: CANARY-0123456789abcdef0123456789abcdef\n", secretEnv)
	if err == nil || !strings.Contains(err.Error(), "security.jwt.secrte: unknown key") {
		t.Fatalf("got %v", err)
	}
	assertNoCanary(t, err)
}

func TestLoadYAMLReportsEveryDecodeProblem(t *testing.T) {
	t.Parallel()
	doc := `
server:
  prot: 8080
  read_timeout: soon
security:
  jwt:
    secrte: x
log:
  colour: red
`
	_, err := loadYAML(t, doc, secretEnv, "M9M_NOPE=1", "M9M_SERVER_PORT=http")
	want := []string{"server.prot", "server.read_timeout", "security.jwt.secrte", "log.colour", "M9M_NOPE", "server.port"}
	got := keys(err)
	if len(got) != len(want) {
		t.Fatalf("got %d problems %v, want %v:\n%v", len(got), got, want, err)
	}
	for _, k := range want {
		if !strings.Contains(err.Error(), k+": ") {
			t.Errorf("message does not name %s:\n%v", k, err)
		}
	}
}

func TestLoadYAMLSyntax(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, doc, fragment string }{
		{"broken indentation", "server:\n  port: 1\n host: x\n", "invalid YAML"},
		{"unclosed flow", "server: {port: 1\n", "invalid YAML"},
		{"two documents", "log: {level: info}\n---\nlog: {level: debug}\n", "more than one document"},
		{"tab indentation", "server:\n\tport: 1\n", "invalid YAML"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadYAML(t, c.doc, secretEnv)
			if err == nil || !strings.Contains(err.Error(), c.fragment) {
				t.Fatalf("got %v, want an error containing %q", err, c.fragment)
			}
		})
	}
}

func TestLoadYAMLValues(t *testing.T) {
	t.Parallel()
	doc := `
# comments, nulls, anchors and quoting behave as in any YAML file
server:
  host: 127.0.0.1
  port: 9000
  read_timeout: 1m30s
  write_timeout:            # null keeps the default
  trusted_proxies: &proxies ["10.0.0.0/8", 192.168.1.10]
security:
  jwt:
    secret: "` + jwtSecret + `"
    previous_secrets:
      - CANARY-previous-secret-0123456789abcdef
    expiration: 2h
  basic_auth:
    password: 123456789012   # a number is a valid string
  cors:
    allowed_origins: *proxies
    allowed_methods: []
database:
  auto_migrate: false
`
	_, err := loadYAML(t, doc)
	if err == nil {
		t.Fatal("want the origins taken from the alias to be rejected as origins")
	}
	requireProblem(t, err, "security.cors.allowed_origins[0]", "scheme://host")

	cfg, err := loadYAML(t, strings.Replace(doc, "allowed_origins: *proxies", "allowed_origins: [https://app.example.com]", 1))
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Server
	if s.Host != "127.0.0.1" || s.Port != 9000 || s.ReadTimeout != 90*time.Second || s.WriteTimeout != 30*time.Second {
		t.Errorf("server = %+v", s)
	}
	if strings.Join(s.TrustedProxies, ",") != "10.0.0.0/8,192.168.1.10" {
		t.Errorf("trusted_proxies = %q", s.TrustedProxies)
	}
	j := cfg.Security.JWT
	if j.Secret != jwtSecret || len(j.PreviousSecrets) != 1 || j.Expiration != 2*time.Hour {
		t.Errorf("jwt: expiration %s, %d previous secrets", j.Expiration, len(j.PreviousSecrets))
	}
	if cfg.Security.BasicAuth.Password != "123456789012" {
		t.Errorf("basic_auth.password = %q", cfg.Security.BasicAuth.Password)
	}
	if m := cfg.Security.CORS.AllowedMethods; m == nil || len(m) != 0 {
		t.Errorf("allowed_methods: [] should give an empty list, got %#v", m)
	}
	if cfg.Database.AutoMigrate {
		t.Error("auto_migrate: false ignored")
	}
}

func TestLoadEmptyFiles(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "# only a comment\n", "~\n", "---\n"} {
		cfg, err := loadYAML(t, doc, secretEnv)
		if err != nil {
			t.Errorf("%q: %v", doc, err)
			continue
		}
		if cfg.Server.Port != 8080 {
			t.Errorf("%q: port %d", doc, cfg.Server.Port)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := config.Load(filepath.Join(t.TempDir(), "absent.yaml"), []string{secretEnv})
	if err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Fatalf("got %v", err)
	}
}

func TestEnvOverrides(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		env   string
		check func(*config.Config) bool
	}{
		{"string", "M9M_SERVER_HOST=127.0.0.1", func(c *config.Config) bool { return c.Server.Host == "127.0.0.1" }},
		{"string with =", "M9M_DATABASE_URL=sqlite:data/a=b.db", func(c *config.Config) bool {
			return c.Database.URL == "sqlite:data/a=b.db"
		}},
		{"int", "M9M_SERVER_PORT=9000", func(c *config.Config) bool { return c.Server.Port == 9000 }},
		{"nested int", "M9M_PERFORMANCE_RATE_LIMIT_REQUESTS_PER_MINUTE=60", func(c *config.Config) bool {
			return c.Performance.RateLimit.RequestsPerMinute == 60
		}},
		{"bool", "M9M_DATABASE_AUTO_MIGRATE=false", func(c *config.Config) bool { return !c.Database.AutoMigrate }},
		{"bool 1", "M9M_MONITORING_METRICS_ENABLED=1", func(c *config.Config) bool { return c.Monitoring.Metrics.Enabled }},
		{"duration", "M9M_SECURITY_JWT_EXPIRATION=2h30m", func(c *config.Config) bool {
			return c.Security.JWT.Expiration == 150*time.Minute
		}},
		{"zero duration", "M9M_SECURITY_JWT_LEEWAY=0", func(c *config.Config) bool { return c.Security.JWT.Leeway == 0 }},
		{"list", "M9M_SERVER_TRUSTED_PROXIES= 10.0.0.0/8, 192.168.1.10 ,,", func(c *config.Config) bool {
			return strings.Join(c.Server.TrustedProxies, "|") == "10.0.0.0/8|192.168.1.10"
		}},
		{"empty list", "M9M_SECURITY_CORS_ALLOWED_HEADERS=", func(c *config.Config) bool {
			return c.Security.CORS.AllowedHeaders != nil && len(c.Security.CORS.AllowedHeaders) == 0
		}},
		{"secret list", "M9M_SECURITY_JWT_PREVIOUS_SECRETS=CANARY-old-0123456789abcdef0123456789,CANARY-older-0123456789abcdef012345", func(c *config.Config) bool {
			return len(c.Security.JWT.PreviousSecrets) == 2
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := config.Load("", []string{secretEnv, c.env})
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(cfg) {
				t.Errorf("%s not applied", c.env)
			}
		})
	}
}

func TestEnvOverridesFile(t *testing.T) {
	t.Parallel()
	cfg, err := loadYAML(t, "server:\n  port: 7000\n  host: 10.0.0.1\n", secretEnv, "M9M_SERVER_PORT=9000")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Port != 9000 || cfg.Server.Host != "10.0.0.1" {
		t.Errorf("port %d host %s: want the env port and the file host", cfg.Server.Port, cfg.Server.Host)
	}
}

func TestEnvLastEntryWinsAndOthersIgnored(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", []string{
		secretEnv, "M9M_SERVER_PORT=1", "M9M_SERVER_PORT=2",
		"PATH=/usr/bin", "m9m_server_port=3", "M9M", "NOT_M9M_SERVER_PORT=4", "=weird",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Port != 2 {
		t.Errorf("port %d, want 2", cfg.Server.Port)
	}
}

func TestEnvProblems(t *testing.T) {
	t.Parallel()
	cases := []struct{ env, key, fragment string }{
		{"M9M_SERVER_PROT=8080", "M9M_SERVER_PROT", "unknown environment variable: no config key maps to it (did you mean M9M_SERVER_PORT?)"},
		{"M9M_JWT_SECRET=CANARY-0123456789abcdef0123456789abcdef", "M9M_JWT_SECRET", "unknown environment variable"},
		{"M9M_SERVER_PORT=http", "server.port", `expected an integer, got "http" (from M9M_SERVER_PORT)`},
		{"M9M_SERVER_PORT=", "server.port", "expected an integer"},
		{"M9M_SECURITY_CORS_ENABLED=maybe", "security.cors.enabled", `expected true or false, got "maybe" (from M9M_SECURITY_CORS_ENABLED)`},
		{"M9M_SERVER_IDLE_TIMEOUT=2 minutes", "server.idle_timeout", `invalid duration "2 minutes"`},
		{"M9M_AUDIT_FLUSH_INTERVAL=5", "audit.flush_interval", "a bare number has no unit"},
	}
	for _, c := range cases {
		t.Run(c.env, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load("", []string{secretEnv, c.env})
			requireProblem(t, err, c.key, c.fragment)
		})
	}
}

func TestSecretFiles(t *testing.T) {
	t.Parallel()
	const (
		secret   = "CANARY-file-secret-0123456789abcdefghij"
		password = "CANARY-file-password"
	)
	cases := []struct {
		name    string
		envName string // the _file variable
		content string
		check   func(*config.Config) bool
	}{
		{"jwt secret, newline trimmed", "M9M_SECURITY_JWT_SECRET_FILE", secret + "\n", func(c *config.Config) bool {
			return c.Security.JWT.Secret == secret
		}},
		{"CRLF trimmed", "M9M_SECURITY_JWT_SECRET_FILE", secret + "\r\n", func(c *config.Config) bool {
			return c.Security.JWT.Secret == secret
		}},
		{"inner spaces kept", "M9M_SECURITY_BASIC_AUTH_PASSWORD_FILE", " " + password + " \n", func(c *config.Config) bool {
			return c.Security.BasicAuth.Password == " "+password+" "
		}},
		{"bootstrap password", "M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD_FILE", password, func(c *config.Config) bool {
			return c.Security.BootstrapAdmin.Password == password
		}},
		{"redis password", "M9M_REDIS_PASSWORD_FILE", password, func(c *config.Config) bool { return c.Redis.Password == password }},
		{"webhook key", "M9M_SECURITY_WEBHOOK_ENCRYPTION_KEY_FILE", secret, func(c *config.Config) bool {
			return c.Security.WebhookEncryptionKey == secret
		}},
		{"database url replaces the default", "M9M_DATABASE_URL_FILE", "postgres://app:CANARY@db/m9m\n", func(c *config.Config) bool {
			return c.Database.URL == "postgres://app:CANARY@db/m9m"
		}},
		{"redis url replaces the default", "M9M_REDIS_URL_FILE", "redis://:CANARY@cache:6379/1", func(c *config.Config) bool {
			return c.Redis.URL == "redis://:CANARY@cache:6379/1"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, "secret", c.content)
			env := []string{c.envName + "=" + file, "M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME=admin"}
			if c.envName != "M9M_SECURITY_JWT_SECRET_FILE" {
				env = append(env, secretEnv)
			}
			if c.envName != "M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD_FILE" {
				env = append(env, "M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD=bootstrap-pass")
			}
			switch c.envName { // the other half of the multi-instance mode
			case "M9M_DATABASE_URL_FILE":
				env = append(env, "M9M_REDIS_URL=redis://cache:6379/0")
			case "M9M_REDIS_URL_FILE":
				env = append(env, "M9M_DATABASE_URL=postgres://app@db/m9m")
			}
			if c.envName == "M9M_SECURITY_BASIC_AUTH_PASSWORD_FILE" {
				env = append(env, "M9M_SECURITY_BASIC_AUTH_ENABLED=true", "M9M_SECURITY_BASIC_AUTH_USERNAME=ops")
			}
			cfg, err := config.Load("", env)
			if err != nil {
				t.Fatal(err)
			}
			if !c.check(cfg) {
				t.Error("file content not applied")
			}
		})
	}
}

func TestSecretFileFromYAML(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "jwt", jwtSecret+"\n")
	cfg, err := loadYAML(t, "security:\n  jwt:\n    secret: \"\"\n    secret_file: "+file+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Security.JWT.Secret != jwtSecret {
		t.Error("secret_file from YAML not applied")
	}
}

func TestSecretFileProblems(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "jwt")
	if err := os.WriteFile(secretFile, []byte(jwtSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 65<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		env      []string
		key      string
		fragment string
	}{
		{
			"both secret and secret_file",
			[]string{secretEnv, "M9M_SECURITY_JWT_SECRET_FILE=" + secretFile},
			"security.jwt.secret", "set either security.jwt.secret or security.jwt.secret_file, not both",
		},
		{
			"both database url and url_file",
			[]string{secretEnv, "M9M_DATABASE_URL=postgres://u:CANARY@db/m9m", "M9M_DATABASE_URL_FILE=" + secretFile},
			"database.url", "not both",
		},
		{
			"missing file",
			[]string{"M9M_SECURITY_JWT_SECRET_FILE=" + filepath.Join(dir, "absent")},
			"security.jwt.secret_file", "cannot read secret file",
		},
		{
			"directory",
			[]string{"M9M_SECURITY_JWT_SECRET_FILE=" + dir},
			"security.jwt.secret_file", "cannot read secret file",
		},
		{
			"too large",
			[]string{"M9M_SECURITY_JWT_SECRET_FILE=" + big},
			"security.jwt.secret_file", "larger than",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load("", c.env)
			requireProblem(t, err, c.key, c.fragment)
		})
	}

	// YAML secret plus an environment _file is a conflict too.
	_, err := loadYAML(t, "security:\n  jwt:\n    secret: "+jwtSecret+"\n", "M9M_SECURITY_JWT_SECRET_FILE="+secretFile)
	requireProblem(t, err, "security.jwt.secret", "not both")
}
