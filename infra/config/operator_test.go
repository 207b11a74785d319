package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/m9m/auth/infra/config"
)

// TestParseAndValidationProblemsReportedTogether: a value that does not
// parse no longer hides the validation problems of other keys.
func TestParseAndValidationProblemsReportedTogether(t *testing.T) {
	t.Parallel()
	_, err := config.Load("", []string{
		"M9M_SECURITY_JWT_LEEWAY=30", // parse: a bare number has no unit
		"M9M_SERVER_PORT=0",          // validation
		"M9M_SECURITY_JWT_SECRET=CANARY-short",
		"M9M_LOG_LEVEL=loud",
		"M9M_SERVER_PORTT=1", // unknown
	})
	got := keys(err)
	want := []string{"M9M_SERVER_PORTT", "log.level", "security.jwt.leeway", "security.jwt.secret", "server.port"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("problems %v, want %v:\n%v", got, want, err)
	}
	requireProblem(t, err, "security.jwt.leeway", "a bare number has no unit")
	assertNoCanary(t, err)
}

// TestUnreadKeyNotReportedTwice: a key whose value or file could not be read
// is reported once, not again as "required" by Validate.
func TestUnreadKeyNotReportedTwice(t *testing.T) {
	t.Parallel()
	_, err := config.Load("", []string{
		"M9M_SECURITY_JWT_SECRET_FILE=/nonexistent/jwt",
		"M9M_SERVER_TRUSTED_PROXIES=10.0.0.0/8",
		"M9M_SERVER_PORT=http",
	})
	got := keys(err)
	slices.Sort(got)
	if want := []string{"security.jwt.secret_file", "server.port"}; !slices.Equal(got, want) {
		t.Fatalf("problems %v, want %v:\n%v", got, want, err)
	}
}

func TestLoadForValidatesOnlyTheNamedSections(t *testing.T) {
	t.Parallel()
	// No JWT secret, an invalid CORS setting: irrelevant to migrate.
	env := []string{"M9M_SECURITY_CORS_ENABLED=true", "M9M_DATABASE_URL=postgres://u@db:5432/m9m"}
	cfg, err := config.LoadFor("", env, "database", "performance.connection_pool")
	if err != nil {
		t.Fatalf("LoadFor(database): %v", err)
	}
	if cfg.Database.URL != "postgres://u@db:5432/m9m" {
		t.Errorf("database.url = %q", cfg.Database.URL)
	}
	// The same environment for serve names both.
	_, err = config.Load("", env)
	got := keys(err)
	slices.Sort(got)
	if want := []string{"security.cors.allowed_origins", "security.jwt.secret"}; !slices.Equal(got, want) {
		t.Fatalf("Load problems %v, want %v", got, want)
	}
	// A section's own rules still apply.
	_, err = config.LoadFor("", []string{"M9M_PERFORMANCE_CONNECTION_POOL_MAX_OPEN=0"}, "database", "performance.connection_pool")
	requireProblem(t, err, "performance.connection_pool.max_open", "at least 1")
	// Mistakes in what was written are reported whatever the section.
	_, err = config.LoadFor("", []string{"M9M_SECURITY_JWT_LEEWAY=30", "M9M_DATBASE_URL=x"}, "database")
	got = keys(err)
	slices.Sort(got)
	if want := []string{"M9M_DATBASE_URL", "security.jwt.leeway"}; !slices.Equal(got, want) {
		t.Fatalf("LoadFor parse problems %v, want %v", got, want)
	}
}

// kubeLinks is what Kubernetes injects for a Service named m9m with a port
// named http (8080/TCP) and one named metrics (9090/TCP).
var kubeLinks = []string{
	"M9M_SERVICE_HOST=10.96.12.7",
	"M9M_SERVICE_PORT=8080",
	"M9M_SERVICE_PORT_HTTP=8080",
	"M9M_SERVICE_PORT_METRICS=9090",
	"M9M_PORT=tcp://10.96.12.7:8080",
	"M9M_PORT_8080_TCP=tcp://10.96.12.7:8080",
	"M9M_PORT_8080_TCP_PROTO=tcp",
	"M9M_PORT_8080_TCP_PORT=8080",
	"M9M_PORT_8080_TCP_ADDR=10.96.12.7",
	"M9M_PORT_9090_TCP=tcp://10.96.12.7:9090",
	"M9M_PORT_53_UDP_ADDR=fd00::a",
	"M9M_PORT_53_UDP=udp://[fd00::a]:53",
}

func TestKubernetesServiceLinksIgnored(t *testing.T) {
	t.Parallel()
	env := append([]string{secretEnv}, kubeLinks...)
	if _, err := config.Load("", env); err != nil {
		t.Fatalf("service-link variables refused:\n%v", err)
	}
	got := config.ServiceLinkVars(env)
	if len(got) != len(kubeLinks) {
		t.Errorf("ServiceLinkVars = %v, want all %d", got, len(kubeLinks))
	}
	if slices.Contains(got, "M9M_SECURITY_JWT_SECRET") {
		t.Error("a config variable reported as a service link")
	}
}

func TestNearServiceLinksStillRefused(t *testing.T) {
	t.Parallel()
	for _, kv := range []string{
		"M9M_SERVICE_HOST=db.internal",           // not an IP
		"M9M_SERVICE_PORT=http",                  // not a port
		"M9M_SERVICE_PORT_HTTP=99999",            // out of range
		"M9M_SERVICE_PORT_=8080",                 // no port name
		"M9M_PORT=8080",                          // not proto://ip:port
		"M9M_PORT=http://10.0.0.1:8080",          // not tcp/udp/sctp
		"M9M_PORT_8080_TCP=tcp://10.0.0.1:9090",  // port disagrees with the name
		"M9M_PORT_8080_TCP=udp://10.0.0.1:8080",  // protocol disagrees
		"M9M_PORT_8080_TCP_PROTO=udp",            // protocol disagrees
		"M9M_PORT_8080_TCP_PORT=80",              // port disagrees
		"M9M_PORT_8080_TCP_ADDR=localhost",       // not an IP
		"M9M_PORT_8080_HTTP=tcp://10.0.0.1:8080", // not a protocol
		"M9M_PORT_8080_TCP_HOST=10.0.0.1",        // no such suffix
		"M9M_SERVICE_HOSTS=10.0.0.1",             // not the shape
		"M9M_SERVER_PROT=8080",                   // an ordinary typo
	} {
		name, _, _ := strings.Cut(kv, "=")
		_, err := config.Load("", []string{secretEnv, kv})
		requireProblem(t, err, name, "unknown environment variable")
		if got := config.ServiceLinkVars([]string{kv}); len(got) != 0 {
			t.Errorf("%s reported as a service link", kv)
		}
	}
}

func TestPreviousSecretsFile(t *testing.T) {
	t.Parallel()
	const a, b = "CANARY-previous-a-0123456789abcdefghij", "CANARY-previous-b-0123456789abcdefghij"
	file := writeFile(t, "previous", "# rotated out 2026-11\n"+a+"\n\n  "+b+"  \r\n")
	cfg, err := config.Load("", []string{secretEnv, "M9M_SECURITY_JWT_PREVIOUS_SECRETS_FILE=" + file})
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Security.JWT.PreviousSecrets; !slices.Equal(got, []string{a, b}) {
		t.Errorf("previous secrets = %d items, want the 2 of the file", len(got))
	}
	if strings.Contains(cfg.String(), a) {
		t.Error("String shows a previous secret")
	}

	_, err = config.Load("", []string{secretEnv, "M9M_SECURITY_JWT_PREVIOUS_SECRETS=" + a, "M9M_SECURITY_JWT_PREVIOUS_SECRETS_FILE=" + file})
	requireProblem(t, err, "security.jwt.previous_secrets", "not both")

	short := writeFile(t, "short", "CANARY-short\n")
	_, err = config.Load("", []string{secretEnv, "M9M_SECURITY_JWT_PREVIOUS_SECRETS_FILE=" + short})
	requireProblem(t, err, "security.jwt.previous_secrets[0]", "at least 32 bytes")
	assertNoCanary(t, err)
}

func TestBootstrapPasswordOptional(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load("", []string{secretEnv, "M9M_SECURITY_BOOTSTRAP_ADMIN_USERNAME=admin"})
	if err != nil {
		t.Fatalf("bootstrap username without password refused: %v", err)
	}
	if !cfg.Security.BootstrapAdmin.Enabled() {
		t.Error("bootstrap admin with a username is not enabled")
	}
	_, err = config.Load("", []string{secretEnv, "M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD=long-enough-pw"})
	requireProblem(t, err, "security.bootstrap_admin.username", "required when security.bootstrap_admin.password is set")
}
