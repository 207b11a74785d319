// Package compose_test checks the container files (docker-compose.yml,
// .env.example, Dockerfile, .dockerignore) without Docker: compose-go loads
// the stack exactly as `docker compose` would interpolate it, and the app's
// environment is then fed through the real config loader.
package compose_test

import (
	"bufio"
	"context"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/m9m/auth/infra/config"
)

const root = "../.."

// secretFiles are the secrets docker-compose.yml mounts, each created by
// scripts/compose-secrets.sh, with the content a test gives them.
var secretFiles = map[string]string{
	"postgres_password":        "0123456789abcdef0123456789abcdef0123456789abcdef",
	"jwt_secret":               "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4+/",
	"bootstrap_admin_password": "Zm9vYmFyYmF6cXV4Zm9vYmFy",
	"webhook_encryption_key":   "d2ViaG9vay1rZXktZm9yLXRlc3RzLTAxMjM0NTY3ODlhYmNkZWY=",
}

// envExample returns the variables of .env.example as written.
func envExample(t *testing.T) map[string]string {
	t.Helper()
	env, err := dotenv.Read(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatalf(".env.example: %v", err)
	}
	return env
}

// filledEnv returns .env.example as a user's .env would be.
func filledEnv(t *testing.T) map[string]string {
	t.Helper()
	return envExample(t)
}

// loadProject loads docker-compose.yml with env as the interpolation environment.
func loadProject(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  abs,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(abs, "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("m9m", true) })
}

// project loads the stack with a filled-in .env.
func project(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadProject(t, filledEnv(t))
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// appEnviron returns the app service's environment as os.Environ-style entries.
func appEnviron(t *testing.T, app types.ServiceConfig) []string {
	t.Helper()
	var out []string
	for _, k := range slices.Sorted(maps.Keys(app.Environment)) {
		v := app.Environment[k]
		if v == nil {
			t.Fatalf("app environment %s has no value", k)
		}
		out = append(out, k+"="+*v)
	}
	return out
}

func TestServicesAndHealthchecks(t *testing.T) {
	t.Parallel()
	p := project(t)
	probes := map[string][]string{
		"app":      {"/m9m", "healthcheck"},
		"postgres": {"pg_isready"},
		"redis":    {"redis-cli", "ping"},
	}
	for name, words := range probes {
		s, ok := p.Services[name]
		if !ok {
			t.Errorf("service %s missing", name)
			continue
		}
		hc := s.HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 {
			t.Errorf("service %s has no healthcheck", name)
			continue
		}
		test := strings.Join(hc.Test, " ")
		for _, w := range words {
			if !strings.Contains(test, w) {
				t.Errorf("%s healthcheck %q lacks %q", name, test, w)
			}
		}
	}
	if pg := p.Services["postgres"]; pg.Image != "postgres:16-alpine" || ptr(pg.Environment["POSTGRES_DB"]) != "m9m" {
		t.Errorf("postgres: image %q, POSTGRES_DB %q", pg.Image, ptr(pg.Environment["POSTGRES_DB"]))
	}
	if r := p.Services["redis"]; r.Image != "redis:7-alpine" {
		t.Errorf("redis image %q", r.Image)
	}
}

func ptr(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func TestAppWiring(t *testing.T) {
	t.Parallel()
	app := project(t).Services["app"]

	for _, dep := range []string{"postgres", "redis"} {
		d, ok := app.DependsOn[dep]
		if !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("app depends_on %s: %+v, want condition service_healthy", dep, d)
		}
	}

	if app.Build == nil {
		t.Fatal("app has no build section")
	}
	abs, _ := filepath.Abs(root)
	dockerfile := app.Build.Dockerfile
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(app.Build.Context, dockerfile)
	}
	if dockerfile != filepath.Join(abs, "Dockerfile") {
		t.Errorf("app builds %s, want the repository's Dockerfile", dockerfile)
	}

	published := false
	for _, port := range app.Ports {
		if port.Target == 8080 && port.Published == "8080" {
			published = true
		}
	}
	if !published {
		t.Errorf("app ports %+v, want 8080:8080", app.Ports)
	}
}

func TestAppEnvironmentIsRealConfig(t *testing.T) {
	t.Parallel()
	app := project(t).Services["app"]
	environ := appEnviron(t, app)

	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := config.KeyForEnv(name); !ok {
			t.Errorf("app environment %s is not a config key", name)
		}
	}

	// The environment compose hands the container, with the secrets mounted
	// where it says, must be a valid m9m configuration on its own (no config
	// file in the image).
	environ = mountSecrets(t, app, environ)
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatalf("the app's compose environment is not a valid config:\n%v", err)
	}
	if !cfg.Security.JWT.Enabled || len(cfg.Security.JWT.Secret) < config.MinJWTSecretBytes {
		t.Error("app runs without a JWT secret")
	}
	if !cfg.Security.BootstrapAdmin.Enabled() || cfg.Security.BootstrapAdmin.Password != secretFiles["bootstrap_admin_password"] {
		t.Error("app runs without the bootstrap admin of its secret")
	}
	if cfg.Database.Password != secretFiles["postgres_password"] {
		t.Error("database.password is not the postgres_password secret")
	}
	if u, err := url.Parse(cfg.Database.URL); err != nil || u.User == nil {
		t.Errorf("database.url %s does not parse or names no user", cfg.Redacted().Database.URL)
	} else if _, has := u.User.Password(); has {
		t.Error("database.url carries the password: it would show in docker inspect")
	}
	// The healthcheck reads the same configuration: no port or scheme of its own.
	if hc := strings.Join(app.HealthCheck.Test, " "); strings.Contains(hc, "8080") || strings.Contains(hc, "http") {
		t.Errorf("app healthcheck %q hard-codes an address; m9m healthcheck reads the config", hc)
	}
	if !strings.Contains(cfg.Database.URL, "@postgres:5432/m9m") {
		t.Errorf("database.url %s does not point at the postgres service", cfg.Redacted().Database.URL)
	}
	if !strings.HasPrefix(cfg.Redis.URL, "redis://redis:6379") {
		t.Errorf("redis.url %s does not point at the redis service", cfg.Redacted().Redis.URL)
	}
	if cfg.Server.Port != 8080 {
		t.Errorf("server.port %d, but the healthcheck and ports use 8080", cfg.Server.Port)
	}
	if app.StopGracePeriod == nil || time.Duration(*app.StopGracePeriod) <= cfg.Server.ShutdownTimeout {
		t.Errorf("stop_grace_period must exceed server.shutdown_timeout (%s) so requests can drain", cfg.Server.ShutdownTimeout)
	}
}

// mountSecrets writes each secret the app uses to a file, as compose would
// mount it, and points the environment's /run/secrets paths at those files.
func mountSecrets(t *testing.T, app types.ServiceConfig, environ []string) []string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{}
	for _, s := range app.Secrets {
		target := s.Target
		if target == "" {
			target = s.Source
		}
		if !filepath.IsAbs(target) {
			target = "/run/secrets/" + target
		}
		content, ok := secretFiles[s.Source]
		if !ok {
			t.Fatalf("app uses secret %s, unknown to this test", s.Source)
		}
		f := filepath.Join(dir, s.Source)
		if err := os.WriteFile(f, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		paths[target] = f
	}
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		if f, ok := paths[val]; ok {
			val = f
		} else if strings.HasPrefix(val, "/run/secrets/") {
			t.Errorf("%s names %s, which no secret of the app mounts", name, val)
		}
		out = append(out, name+"="+val)
	}
	return out
}

// TestSecretsAreFilesNotEnvironment: every secret reaches the containers as
// a compose secret file, never as an environment variable (`docker inspect`
// shows those); the files come from ./secrets, which git and the image's
// build context both ignore, and scripts/compose-secrets.sh creates them.
func TestSecretsAreFilesNotEnvironment(t *testing.T) {
	t.Parallel()
	p := project(t)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "compose-secrets.sh"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(root)
	for name := range secretFiles {
		s, ok := p.Secrets[name]
		if !ok {
			t.Errorf("secret %s is not declared", name)
			continue
		}
		if s.File != filepath.Join(abs, "secrets", name) {
			t.Errorf("secret %s comes from %q, want ./secrets/%s", name, s.File, name)
		}
		if !strings.Contains(string(script), "make_secret "+name+" ") {
			t.Errorf("scripts/compose-secrets.sh does not create %s", name)
		}
	}
	for _, f := range []string{".gitignore", ".dockerignore"} {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(strings.Split(string(data), "\n"), func(l string) bool { return l == "secrets/" || l == "/secrets/" }) {
			t.Errorf("%s does not exclude secrets/", f)
		}
	}
	uses := map[string][]string{"app": {"postgres_password", "jwt_secret", "bootstrap_admin_password", "webhook_encryption_key"}, "postgres": {"postgres_password"}}
	for svc, want := range uses {
		var got []string
		for _, s := range p.Services[svc].Secrets {
			got = append(got, s.Source)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s uses secrets %v, want %v", svc, got, want)
		}
	}
	if pg := p.Services["postgres"]; ptr(pg.Environment["POSTGRES_PASSWORD_FILE"]) != "/run/secrets/postgres_password" || pg.Environment["POSTGRES_PASSWORD"] != nil {
		t.Errorf("postgres gets its password as %v / %v, want only POSTGRES_PASSWORD_FILE", pg.Environment["POSTGRES_PASSWORD"], ptr(pg.Environment["POSTGRES_PASSWORD_FILE"]))
	}
	// No value of the app's environment is a secret: each variable is set
	// to a probe, and the probe must survive redaction.
	for _, kv := range appEnviron(t, p.Services["app"]) {
		name, val, _ := strings.Cut(kv, "=")
		for _, secret := range secretFiles {
			if strings.Contains(val, secret) {
				t.Errorf("app environment %s carries a secret", name)
			}
		}
		const probe = "probe-value-0123456789abcdef0123456789"
		cfg, err := config.LoadFor("", []string{name + "=" + probe}, "none")
		if err != nil {
			continue // not a string key; values of other types are no secrets
		}
		if !strings.Contains(cfg.String(), probe) {
			t.Errorf("app environment sets %s, a secret key: use its _file key and a compose secret", name)
		}
	}
}

func TestEnvExample(t *testing.T) {
	t.Parallel()
	env := envExample(t)
	for name := range env {
		if strings.HasPrefix(name, config.EnvPrefix) {
			key, ok := config.KeyForEnv(name)
			if !ok {
				t.Errorf(".env.example: %s starts with %s but is not a config key (m9m would refuse it)", name, config.EnvPrefix)
			}
			if strings.Contains(key, "password") || strings.Contains(key, "secret") {
				t.Errorf(".env.example sets %s: secrets belong in ./secrets files", name)
			}
		}
	}

	// Every variable docker-compose.yml interpolates is documented in .env.example.
	data, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(data), -1) {
		if _, ok := env[m[1]]; !ok {
			t.Errorf("docker-compose.yml uses ${%s}, which .env.example does not document", m[1])
		}
	}

	raw, err := os.ReadFile(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "cp .env.example .env") || !strings.Contains(string(raw), "scripts/compose-secrets.sh") {
		t.Error(".env.example lacks the copy and secret-creation instructions")
	}
}

// instruction is one Dockerfile instruction with continuations joined.
type instruction struct {
	cmd, args string
}

// parseDockerfile splits a Dockerfile into stages of instructions.
func parseDockerfile(t *testing.T) [][]instruction {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var stages [][]instruction
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", in.cmd)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	return stages
}

// find returns the args of every instruction cmd in a stage.
func find(stage []instruction, cmd string) []string {
	var out []string
	for _, in := range stage {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	stages := parseDockerfile(t)
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a multi-stage build", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]

	if from := find(build, "FROM")[0]; !strings.HasPrefix(from, "golang:1.26") {
		t.Errorf("builder FROM %q, want golang:1.26", from)
	}
	runs := strings.Join(find(build, "RUN"), "\n")
	if !strings.Contains(runs, "CGO_ENABLED=0 go build") || !strings.Contains(runs, "-o /out/m9m ./cmd/m9m") {
		t.Errorf("builder does not run CGO_ENABLED=0 go build -o /out/m9m ./cmd/m9m:\n%s", runs)
	}

	if from := find(final, "FROM")[0]; !strings.HasPrefix(from, "alpine:") {
		t.Errorf("final FROM %q, want alpine", from)
	}
	users := find(final, "USER")
	if len(users) == 0 {
		t.Fatal("final stage sets no USER: the container would run as root")
	}
	user := users[len(users)-1]
	uid, _, _ := strings.Cut(user, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("final USER %q, want a numeric non-root UID", user)
	}
	if !slices.Contains(find(final, "EXPOSE"), "8080") {
		t.Error("final stage does not EXPOSE 8080")
	}
	if got := find(final, "ENTRYPOINT"); len(got) != 1 || got[0] != `["/m9m"]` {
		t.Errorf("ENTRYPOINT %q", got)
	}
	if got := find(final, "CMD"); len(got) != 1 || got[0] != `["serve"]` {
		t.Errorf("CMD %q", got)
	}
	if hc := strings.Join(find(final, "HEALTHCHECK"), "\n"); !strings.Contains(hc, `CMD ["/m9m", "healthcheck"]`) {
		t.Errorf("HEALTHCHECK %q, want CMD [\"/m9m\", \"healthcheck\"] (readiness, configured port and TLS)", hc)
	}
	if copies := strings.Join(find(final, "COPY"), "\n"); !strings.Contains(copies, "/out/m9m /m9m") {
		t.Errorf("final stage does not copy the binary to /m9m: %q", copies)
	}
}

func TestDockerignoreKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for _, want := range []string{".env", ".git"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore does not exclude %s", want)
		}
	}
	for _, line := range lines {
		if line == "go.mod" || line == "go.sum" || line == "cmd" || line == "cmd/" {
			t.Errorf(".dockerignore excludes %s, which the build needs", line)
		}
	}
}
