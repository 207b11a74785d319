// Package compose_test checks the container files (docker-compose.yml,
// .env.example, Dockerfile, .dockerignore) without Docker: compose-go loads
// the stack exactly as `docker compose` would interpolate it, and the app's
// environment is then fed through the real config loader.
package compose_test

import (
	"bufio"
	"context"
	"maps"
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

// required are the .env variables compose must refuse to start without.
var required = []string{"POSTGRES_PASSWORD", "M9M_SECURITY_JWT_SECRET", "M9M_SECURITY_BOOTSTRAP_ADMIN_PASSWORD"}

// envExample returns the variables of .env.example as written.
func envExample(t *testing.T) map[string]string {
	t.Helper()
	env, err := dotenv.Read(filepath.Join(root, ".env.example"))
	if err != nil {
		t.Fatalf(".env.example: %v", err)
	}
	return env
}

// filledEnv returns .env.example with its empty values filled in the way its
// instructions say (openssl rand -hex 24 / -base64 48), as a user's .env would be.
func filledEnv(t *testing.T) map[string]string {
	t.Helper()
	env := envExample(t)
	for k, v := range env {
		if v != "" {
			continue
		}
		if k == "POSTGRES_PASSWORD" {
			env[k] = "0123456789abcdef0123456789abcdef0123456789abcdef"
		} else {
			env[k] = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4+/"
		}
	}
	return env
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
		"app":      {"wget", "http://127.0.0.1:8080/health"},
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

	// The environment compose hands the container must be a valid m9m
	// configuration on its own (no config file in the image).
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatalf("the app's compose environment is not a valid config:\n%v", err)
	}
	if !cfg.Security.JWT.Enabled || len(cfg.Security.JWT.Secret) < config.MinJWTSecretBytes {
		t.Error("app runs without a JWT secret")
	}
	if !cfg.Security.BootstrapAdmin.Enabled() {
		t.Error("app runs without a bootstrap admin")
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

func TestRequiredSecretsAreEnforced(t *testing.T) {
	t.Parallel()
	// .env.example as shipped (secrets empty) must not start.
	if _, err := loadProject(t, envExample(t)); err == nil {
		t.Error("docker-compose.yml loads with the empty secrets of .env.example")
	}
	for _, name := range required {
		env := filledEnv(t)
		if _, ok := env[name]; !ok {
			t.Errorf(".env.example lacks %s", name)
		}
		delete(env, name)
		_, err := loadProject(t, env)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: got %v, want an error naming it", name, err)
		}
	}
}

func TestEnvExample(t *testing.T) {
	t.Parallel()
	env := envExample(t)
	for name, v := range env {
		if strings.HasPrefix(name, config.EnvPrefix) {
			if _, ok := config.KeyForEnv(name); !ok {
				t.Errorf(".env.example: %s starts with %s but is not a config key (m9m would refuse it)", name, config.EnvPrefix)
			}
		}
		if slices.Contains(required, name) && v != "" {
			t.Errorf(".env.example ships a value for the secret %s", name)
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
	if !strings.Contains(string(raw), "cp .env.example .env") || !strings.Contains(string(raw), "openssl rand -base64 48") {
		t.Error(".env.example lacks the copy and secret-generation instructions")
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
		t.Errorf("final FROM %q, want alpine (busybox wget for the healthcheck)", from)
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
