// Package harness runs the real m9m service (the same fx composition as
// `m9m serve`) on a random loopback port against the real Postgres and
// Redis, and gives end-to-end tests an HTTP client that checks every answer
// against the OpenAPI document, so the document cannot drift from the code.
package harness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/test/testenv"
)

// Server is one running instance.
type Server struct {
	URL    string
	Config *config.Config
	http   *httpapi.Server
	app    *fx.App
	logs   *syncBuffer
	client *http.Client
	spec   *Spec
}

// Option adjusts the configuration or wiring of a test instance.
type Option func(*settings)

type settings struct {
	cfg   *config.Config
	extra []fx.Option
}

// WithConfig edits the configuration before start.
func WithConfig(f func(*config.Config)) Option {
	return func(s *settings) { f(s.cfg) }
}

// WithFx adds fx options (e.g. fx.Decorate) after the real composition.
func WithFx(opts ...fx.Option) Option {
	return func(s *settings) { s.extra = append(s.extra, opts...) }
}

// WithClock replaces the system clock, so tests move time without sleeping.
func WithClock(c port.Clock) Option {
	return WithFx(fx.Decorate(func(port.Clock) port.Clock { return c }))
}

// SharedWith makes a second instance of the same service: same database,
// Redis prefix and secrets, as several `serve` processes with one config.
func SharedWith(other *Server) Option {
	return func(s *settings) {
		port := s.cfg.Server.Port
		*s.cfg = *other.Config
		s.cfg.Server.Port = port
	}
}

// TestConfig is the configuration tests start from: valid, with the
// package's own database and a fresh Redis prefix, cheap password hashing
// (race-detector builds make argon2 slow), rate limiting off.
func TestConfig(t testing.TB) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Host = "127.0.0.1"
	cfg.Server.Port = 0
	cfg.Server.ShutdownTimeout = 5 * time.Second
	cfg.Database.URL = testenv.DatabaseURL(t)
	cfg.Redis.URL = testenv.RedisURL()
	cfg.Redis.KeyPrefix = testenv.RedisPrefix()
	cfg.Log.Level = "debug"
	cfg.Security.JWT.Secret = randomSecret()
	cfg.Security.PasswordHash.MemoryKiB = 64
	cfg.Security.PasswordHash.Iterations = 1
	cfg.Performance.RateLimit.Enabled = false
	cfg.Security.BootstrapAdmin.Username = AdminUsername
	cfg.Security.BootstrapAdmin.Password = adminPassword
	// Every instance shares the package database, and some run on clocks
	// far from the real one: a janitor keeping the defaults could delete
	// what another test just wrote. Retention is tested on private databases.
	cfg.Retention.Sessions, cfg.Retention.AuditEvents, cfg.Retention.Executions = century, century, century
	t.Cleanup(func() { cleanRedisPrefix(cfg.Redis.KeyPrefix) })
	return cfg
}

// century is the retention of test instances: nothing they write expires.
const century = 100 * 365 * 24 * time.Hour

// adminPassword is the bootstrap admin's password for the whole test
// process: the package database is shared by every instance, and the admin
// is created only by the first one (bootstrap runs only while no user
// exists), so a password drawn per instance would not log in on the others.
var adminPassword = "admin-" + randomSecret()[:24]

// Start runs an instance and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	st := &settings{cfg: TestConfig(t)}
	for _, o := range opts {
		o(st)
	}
	logs := &syncBuffer{}
	var srv *httpapi.Server
	extra := append([]fx.Option{
		fx.Decorate(func() *zap.Logger { return newCaptureLogger(logs) }),
		fx.Populate(&srv),
	}, st.extra...)
	fxApp := fx.New(app.Options(st.cfg, extra...), fx.NopLogger)
	if err := fxApp.Err(); err != nil {
		t.Fatalf("harness: build app: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := fxApp.Start(ctx); err != nil {
		t.Fatalf("harness: start app: %v\nlogs:\n%s", err, logs.String())
	}
	s := &Server{
		URL:    "http://" + srv.Addr(),
		Config: st.cfg,
		http:   srv,
		app:    fxApp,
		logs:   logs,
		// Its own transport, so Stop can close exactly this client's idle
		// connections (parallel requests leave spare ones behind).
		client: &http.Client{Timeout: 30 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()},
		spec:   LoadSpec(t),
	}
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// Stop drains and stops the instance (idempotent).
func (s *Server) Stop(t testing.TB) {
	if s.app == nil {
		return
	}
	// A well-behaved client hangs up its idle connections before the server
	// goes away; the server no longer waits for silent ones anyway.
	s.client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.app.Stop(ctx); err != nil {
		t.Errorf("harness: stop app: %v", err)
	}
	s.app = nil
}

// HTTP returns the in-process server (route table etc.).
func (s *Server) HTTP() *httpapi.Server { return s.http }

// Logs returns everything the instance logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// Response is a received answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %d body %q: %v", r.Status, r.Body, err)
	}
}

// Map decodes the body as a JSON object.
func (r *Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Code returns the envelope's code ("" when the body is not an envelope).
func (r *Response) Code() string {
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Code
}

// Req describes a request. Body may be a string/[]byte (sent as is) or any
// value (sent as JSON).
type Req struct {
	Method  string
	Path    string
	Body    any
	Headers map[string]string
	// Bearer, APIKey and Basic set the matching credential headers.
	Bearer string
	APIKey string
	Basic  [2]string
}

// Do sends r and checks the answer against the OpenAPI document.
func (s *Server) Do(t testing.TB, r Req) *Response {
	t.Helper()
	resp, req, body := s.send(t, r)
	s.spec.Check(t, req, resp.StatusCode, resp.Header, body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// DoRaw sends r without the OpenAPI check (for deliberately odd requests
// the document cannot describe); the envelope is still checked on errors.
func (s *Server) DoRaw(t testing.TB, r Req) *Response {
	t.Helper()
	resp, _, body := s.send(t, r)
	if resp.StatusCode >= 400 {
		s.spec.CheckEnvelope(t, resp.StatusCode, resp.Header, body)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

func (s *Server) send(t testing.TB, r Req) (*http.Response, *http.Request, []byte) {
	t.Helper()
	var rd io.Reader
	var raw []byte
	contentType := ""
	switch b := r.Body.(type) {
	case nil:
	case string:
		raw = []byte(b)
		contentType = "application/json"
	case []byte:
		raw = b
		contentType = "application/json"
	default:
		var err error
		raw, err = json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		contentType = "application/json"
	}
	if raw != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(context.Background(), r.Method, s.URL+r.Path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if r.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.Bearer)
	}
	if r.APIKey != "" {
		req.Header.Set("X-API-Key", r.APIKey)
	}
	if r.Basic[0] != "" {
		req.SetBasicAuth(r.Basic[0], r.Basic[1])
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	// Re-arm the request body for the validator.
	if raw != nil {
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	return resp, req, body
}

func randomSecret() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

func cleanRedisPrefix(prefix string) {
	opts, err := goredis.ParseURL(testenv.RedisURL())
	if err != nil {
		return
	}
	c := goredis.NewClient(opts)
	defer func() { _ = c.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		_ = c.Del(ctx, keys...).Err()
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Sync() error { return nil }

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newCaptureLogger(w *syncBuffer) *zap.Logger {
	enc := zap.NewProductionEncoderConfig()
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(w), zapcore.DebugLevel)
	return zap.New(core)
}

// ContainsAny reports which of needles occur in haystack (for secret-leak checks).
func ContainsAny(haystack string, needles ...string) []string {
	var found []string
	for _, n := range needles {
		if n != "" && strings.Contains(haystack, n) {
			found = append(found, n)
		}
	}
	return found
}
