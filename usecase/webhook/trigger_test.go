package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	flow "github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/webhook"
)

var (
	ctx    = context.Background()
	t0     = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)
	client = principal.Client{IP: "203.0.113.9", UserAgent: "hook-sender/1", RequestID: "rid-1"}
)

const (
	headerValue  = "header-secret-0123"
	basicUser    = "hook-user"
	basicPass    = "basic-secret-4567"
	hmacSecret   = "hmac-secret-89ab"
	body         = `{"event":"push","n":1}`
	sealerKeyStr = "0123456789abcdef0123456789abcdef"
)

type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Record(_ context.Context, e audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) list() []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]audit.Event(nil), r.events...)
}

// spyStore counts path lookups, to prove junk paths cost none.
type spyStore struct {
	port.WorkflowStore
	mu      sync.Mutex
	lookups int
}

func (s *spyStore) GetByWebhookPath(ctx context.Context, path string) (*flow.Workflow, error) {
	s.mu.Lock()
	s.lookups++
	s.mu.Unlock()
	return s.WorkflowStore.GetByWebhookPath(ctx, path)
}

type failingGuard struct{}

func (failingGuard) Seen(context.Context, string, time.Duration) (bool, error) {
	return false, domain.Unavailable("redis", errors.New("connection refused"))
}

func (failingGuard) Forget(context.Context, string) error {
	return domain.Unavailable("redis", errors.New("connection refused"))
}

// flakyExecutions is an execution store whose Create fails while down.
type flakyExecutions struct {
	port.ExecutionStore
	down atomic.Bool
}

func (s *flakyExecutions) Create(ctx context.Context, e *flow.Execution) error {
	if s.down.Load() {
		return domain.Unavailable("postgres", errors.New("connection refused"))
	}
	return s.ExecutionStore.Create(ctx, e)
}

type fixture struct {
	trig   *webhook.Trigger
	store  *memory.WorkflowStore
	spy    *spyStore
	clock  *memory.Clock
	audit  *recorder
	sealer *crypto.Sealer
	ids    map[flow.AuthType]string
}

func newFixture(t testing.TB, mutate func(*webhook.Deps, *webhook.Settings)) *fixture {
	t.Helper()
	sealer, err := crypto.NewSealer(sealerKeyStr)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: memory.NewWorkflowStore(), clock: memory.NewClock(t0), audit: &recorder{}, sealer: sealer, ids: map[flow.AuthType]string{}}
	f.spy = &spyStore{WorkflowStore: f.store}
	sealed, err := sealer.Seal([]byte(hmacSecret))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []flow.WebhookAuth{
		{Type: flow.AuthNone},
		{Type: flow.AuthHeader, HeaderName: "X-Webhook-Token", HeaderValueDigest: flow.Digest(headerValue)},
		{Type: flow.AuthBasic, BasicUsername: basicUser, BasicPasswordDigest: flow.Digest(basicPass)},
		{Type: flow.AuthHMAC, HMACSecretSealed: sealed},
	} {
		f.ids[a.Type] = f.add(t, "hooks/"+string(a.Type), true, a)
	}
	deps := webhook.Deps{Workflows: f.spy, Executions: f.store.Executions(), Replay: memory.NewReplayGuard(f.clock), Sealer: sealer, Clock: f.clock, Audit: f.audit}
	st := webhook.Settings{}
	if mutate != nil {
		mutate(&deps, &st)
	}
	f.trig = webhook.New(deps, st)
	return f
}

func (f *fixture) add(t testing.TB, path string, active bool, a flow.WebhookAuth) string {
	t.Helper()
	wf := &flow.Workflow{
		ID: domain.NewID(), Name: path, Active: active, Nodes: flow.EmptyNodes, Connections: flow.EmptyConnections,
		Webhook: &flow.Webhook{Path: path, Auth: a}, OwnerID: "owner", CreatedAt: t0, UpdatedAt: t0,
	}
	if err := f.store.Create(ctx, wf); err != nil {
		t.Fatal(err)
	}
	return wf.ID
}

func sign(secret, ts, b string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + b))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func req(path string, headers map[string]string, b string) webhook.Request {
	h := map[string][]string{"Content-Type": {"application/json"}, "User-Agent": {"hook-sender/1"}}
	for k, v := range headers {
		h[textproto.CanonicalMIMEHeaderKey(k)] = []string{v} // as net/http hands them over
	}
	return webhook.Request{Path: path, Header: h, Body: []byte(b), Client: client}
}

func signed(clock port.Clock, b string) map[string]string {
	ts := strconv.FormatInt(clock.Now().Unix(), 10)
	return map[string]string{"X-M9m-Timestamp": ts, "X-M9m-Signature": sign(hmacSecret, ts, b)}
}

func TestEachAuthTypeGoodWrongMissing(t *testing.T) {
	t.Parallel()
	basic := func(u, p string) func(*webhook.Request) {
		return func(r *webhook.Request) { r.Basic = &webhook.BasicCredential{Username: u, Password: p} }
	}
	type tc struct {
		name    string
		path    string
		headers func(port.Clock) map[string]string
		mutate  func(*webhook.Request)
		want    error // nil: accepted
	}
	none := func(port.Clock) map[string]string { return nil }
	tests := []tc{
		{"none", "hooks/none", none, nil, nil},
		{"header good", "hooks/header", func(port.Clock) map[string]string { return map[string]string{"X-Webhook-Token": headerValue} }, nil, nil},
		{"header good, lower-case name", "hooks/header", func(port.Clock) map[string]string { return map[string]string{"x-webhook-token": headerValue} }, nil, nil},
		{"header wrong", "hooks/header", func(port.Clock) map[string]string { return map[string]string{"X-Webhook-Token": headerValue + "x"} }, nil, webhook.ErrUnauthorized},
		{"header prefix of the secret", "hooks/header", func(port.Clock) map[string]string { return map[string]string{"X-Webhook-Token": headerValue[:5]} }, nil, webhook.ErrUnauthorized},
		{"header missing", "hooks/header", none, nil, webhook.ErrUnauthorized},
		{"header in another header", "hooks/header", func(port.Clock) map[string]string { return map[string]string{"Authorization": headerValue} }, nil, webhook.ErrUnauthorized},
		{"basic good", "hooks/basic", none, basic(basicUser, basicPass), nil},
		{"basic wrong password", "hooks/basic", none, basic(basicUser, "nope"), webhook.ErrUnauthorized},
		{"basic wrong user", "hooks/basic", none, basic("someone", basicPass), webhook.ErrUnauthorized},
		{"basic missing", "hooks/basic", none, nil, webhook.ErrUnauthorized},
		{"hmac good", "hooks/hmac", func(c port.Clock) map[string]string { return signed(c, body) }, nil, nil},
		{"hmac wrong secret", "hooks/hmac", func(c port.Clock) map[string]string {
			ts := strconv.FormatInt(c.Now().Unix(), 10)
			return map[string]string{"X-M9m-Timestamp": ts, "X-M9m-Signature": sign("other", ts, body)}
		}, nil, webhook.ErrUnauthorized},
		{"hmac signature for another body", "hooks/hmac", func(c port.Clock) map[string]string { return signed(c, body+" ") }, nil, webhook.ErrUnauthorized},
		{"hmac missing signature", "hooks/hmac", func(c port.Clock) map[string]string {
			return map[string]string{"X-M9m-Timestamp": strconv.FormatInt(c.Now().Unix(), 10)}
		}, nil, webhook.ErrUnauthorized},
		{"hmac missing timestamp", "hooks/hmac", func(c port.Clock) map[string]string {
			return map[string]string{"X-M9m-Signature": signed(c, body)["X-M9m-Signature"]}
		}, nil, webhook.ErrUnauthorized},
		{"hmac malformed signature", "hooks/hmac", func(c port.Clock) map[string]string {
			h := signed(c, body)
			h["X-M9m-Signature"] = strings.TrimPrefix(h["X-M9m-Signature"], "sha256=")
			return h
		}, nil, webhook.ErrUnauthorized},
		{"hmac timestamp with a different spelling", "hooks/hmac", func(c port.Clock) map[string]string {
			ts := "0" + strconv.FormatInt(c.Now().Unix(), 10)
			return map[string]string{"X-M9m-Timestamp": ts, "X-M9m-Signature": sign(hmacSecret, ts, body)}
		}, nil, webhook.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			r := req(tt.path, tt.headers(f.clock), body)
			if tt.mutate != nil {
				tt.mutate(&r)
			}
			id, err := f.trig.Trigger(ctx, r)
			list, _, lerr := f.store.Executions().ListByWorkflow(ctx, f.ids[flow.AuthType(strings.TrimPrefix(tt.path, "hooks/"))], "", 10)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if tt.want != nil {
				if !errors.Is(err, tt.want) || domain.As(err).Message != webhook.ErrUnauthorized.Message {
					t.Fatalf("Trigger = %v, want %v", err, tt.want)
				}
				if len(list) != 0 {
					t.Fatal("a refused delivery was stored")
				}
				return
			}
			if err != nil {
				t.Fatalf("Trigger: %v", err)
			}
			if len(list) != 1 || list[0].ID != id || string(list[0].Body) != body || list[0].SourceIP != client.IP || !list[0].ReceivedAt.Equal(t0) {
				t.Fatalf("stored %+v", list)
			}
		})
	}
}

func TestHMACTimestampWindow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		skew time.Duration
		ok   bool
	}{{0, true}, {300 * time.Second, true}, {-300 * time.Second, true}, {301 * time.Second, false}, {-301 * time.Second, false}, {24 * time.Hour, false}} {
		f := newFixture(t, nil)
		h := signed(memory.NewClock(t0.Add(tt.skew)), body) // signed at t0+skew, received at t0
		_, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body))
		if (err == nil) != tt.ok {
			t.Errorf("timestamp skew %v: Trigger = %v, want ok=%v", tt.skew, err, tt.ok)
		}
	}
}

func TestHMACReplayIsRefusedInsideTheWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := signed(f.clock, body)
	if _, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body)); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, time.Second, 299 * time.Second} {
		f.clock.Set(t0.Add(d))
		_, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body))
		wantErr(t, err, webhook.ErrUnauthorized)
	}
	// Past the window the timestamp refuses it; a fresh signature still works.
	f.clock.Set(t0.Add(301 * time.Second))
	_, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body))
	wantErr(t, err, webhook.ErrUnauthorized)
	if _, err := f.trig.Trigger(ctx, req("hooks/hmac", signed(f.clock, body), body)); err != nil {
		t.Fatalf("fresh signature: %v", err)
	}
	if f.trig.ReplayTTL() < 2*webhook.DefaultWindow {
		t.Fatalf("ReplayTTL %v does not cover the window ±%v", f.trig.ReplayTTL(), webhook.DefaultWindow)
	}
}

// A signature counts as used only once its delivery is stored: a delivery
// the server failed to store (503) is accepted when the sender retries it
// with the same signature, and a replay after that is still refused.
func TestHMACRetryAfterAStoreFailureIsAccepted(t *testing.T) {
	t.Parallel()
	var execs *flakyExecutions
	f := newFixture(t, func(d *webhook.Deps, _ *webhook.Settings) {
		execs = &flakyExecutions{ExecutionStore: d.Executions}
		d.Executions = execs
	})
	h := signed(f.clock, body)
	execs.down.Store(true)
	_, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body))
	wantErr(t, err, domain.ErrUnavailable)
	execs.down.Store(false)
	if _, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body)); err != nil {
		t.Fatalf("the sender's retry after a 503: %v, want it stored", err)
	}
	_, err = f.trig.Trigger(ctx, req("hooks/hmac", h, body))
	wantErr(t, err, webhook.ErrUnauthorized)
	// A body refused after the signature was checked does not burn it either.
	bad := "not json"
	hb := signed(f.clock, bad)
	_, err = f.trig.Trigger(ctx, req("hooks/hmac", hb, bad))
	wantErr(t, err, domain.ErrInvalid)
	_, err = f.trig.Trigger(ctx, req("hooks/hmac", hb, bad))
	wantErr(t, err, domain.ErrInvalid)
}

func TestConcurrentReplaysAcceptExactlyOne(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := signed(f.clock, body)
	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.trig.Trigger(ctx, req("hooks/hmac", h, body)); err == nil {
				mu.Lock()
				accepted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if accepted != 1 {
		t.Fatalf("%d of %d concurrent copies accepted, want 1", accepted, n)
	}
}

func TestReplayGuardDownFailsClosed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *webhook.Deps, _ *webhook.Settings) { d.Replay = failingGuard{} })
	_, err := f.trig.Trigger(ctx, req("hooks/hmac", signed(f.clock, body), body))
	wantErr(t, err, domain.ErrUnavailable)
	// Other types do not need the guard.
	if _, err := f.trig.Trigger(ctx, req("hooks/none", nil, body)); err != nil {
		t.Fatal(err)
	}
}

func TestHMACWithoutSealerIsAServerError(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(d *webhook.Deps, _ *webhook.Settings) { d.Sealer = nil })
	_, err := f.trig.Trigger(ctx, req("hooks/hmac", signed(f.clock, body), body))
	if domain.KindOf(err) != domain.KindInternal {
		t.Fatalf("Trigger = %v, want an internal error (never 401)", err)
	}
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.add(t, "hooks/off", false, flow.WebhookAuth{Type: flow.AuthNone})
	for _, p := range []string{"hooks/unknown", "hooks/off", "HOOKS/NONE", "hooks/none/"} {
		_, err := f.trig.Trigger(ctx, req(p, nil, body))
		wantErr(t, err, webhook.ErrNotFound)
	}
	before := f.spy.lookups
	for _, p := range []string{"", "/hooks/none", "hooks//none", "../etc/passwd", "hooks/%6eone", strings.Repeat("a", 201)} {
		_, err := f.trig.Trigger(ctx, req(p, nil, body))
		wantErr(t, err, webhook.ErrNotFound)
	}
	if f.spy.lookups != before {
		t.Fatalf("impossible paths cost %d store lookups", f.spy.lookups-before)
	}
}

func TestBodyMustBeJSONAfterAuth(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for _, b := range []string{"", "not json", `{"a":`, "{\"a\":\"\xff\"}", `{} {}`} {
		_, err := f.trig.Trigger(ctx, req("hooks/none", nil, b))
		if !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("body %q: Trigger = %v, want 400", b, err)
		}
		// Unauthenticated callers learn nothing about the body rule.
		_, err = f.trig.Trigger(ctx, req("hooks/header", nil, b))
		wantErr(t, err, webhook.ErrUnauthorized)
	}
	for _, b := range []string{`[]`, `"s"`, `1`, `null`, `{"a":"\u0000"}`, ` {"a":1e400} `} {
		if _, err := f.trig.Trigger(ctx, req("hooks/none", nil, b)); err != nil {
			t.Errorf("body %q: %v", b, err)
		}
	}
}

func TestStoredHeadersDropCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	h := map[string]string{
		"X-Webhook-Token": headerValue, "Authorization": "Bearer abc", "Cookie": "s=1",
		"X-Hub-Signature-256": "sha256=00", "X-Gitlab-Token": "t", "X-Api-Key": "k", "X-Custom-Secret": "s",
		"X-Github-Event": "push", "X-Request-Id": "r-1",
	}
	id, err := f.trig.Trigger(ctx, req("hooks/header", h, body))
	if err != nil {
		t.Fatal(err)
	}
	list, _, _ := f.store.Executions().ListByWorkflow(ctx, f.ids[flow.AuthHeader], "", 1)
	if len(list) != 1 || list[0].ID != id {
		t.Fatal("delivery not stored")
	}
	got := list[0].Headers
	for _, kept := range []string{"X-Github-Event", "X-Request-Id", "User-Agent", "Content-Type"} {
		if got[kept] == "" {
			t.Errorf("header %s dropped", kept)
		}
	}
	dump := fmt.Sprint(got)
	for _, secret := range []string{headerValue, "Bearer abc", "s=1", "sha256=00", "X-Gitlab-Token", "X-Api-Key", "X-Custom-Secret"} {
		if strings.Contains(dump, secret) {
			t.Errorf("stored headers contain %q: %s", secret, dump)
		}
	}
}

func TestStoredHeadersAreBounded(t *testing.T) {
	t.Parallel()
	h := map[string][]string{}
	for i := range 200 {
		h[fmt.Sprintf("X-H%03d", i)] = []string{strings.Repeat("v", 5000)}
	}
	h["X-Utf8"] = []string{strings.Repeat("é", 1000)}
	got := webhook.StoredHeaders(h, "")
	if len(got) != webhook.MaxStoredHeaders {
		t.Fatalf("%d headers kept, want %d", len(got), webhook.MaxStoredHeaders)
	}
	for k, v := range got {
		if len(v) > webhook.MaxStoredHeaderBytes {
			t.Fatalf("header %s kept %d bytes", k, len(v))
		}
	}
	u := webhook.StoredHeaders(map[string][]string{"X-Utf8": {strings.Repeat("é", 1000)}}, "")["X-Utf8"]
	if !strings.HasPrefix(u, "éé") || strings.ContainsRune(strings.TrimRight(u, "\uFFFD"), '\uFFFD') || len(u) > webhook.MaxStoredHeaderBytes+3 {
		t.Fatalf("cut value is not clean UTF-8: %q", u[len(u)-8:])
	}
}

func TestAuthFailuresAreSampledIntoTheAuditLog(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	for range 100 {
		_, err := f.trig.Trigger(ctx, req("hooks/header", map[string]string{"X-Webhook-Token": "guess"}, body))
		wantErr(t, err, webhook.ErrUnauthorized)
	}
	_, _ = f.trig.Trigger(ctx, req("hooks/basic", nil, body)) // another workflow has its own budget
	ev := f.audit.list()
	if len(ev) != 2 {
		t.Fatalf("%d audit events for 101 failures on 2 workflows in one minute, want 2", len(ev))
	}
	first := ev[0]
	if first.Action != audit.ActionWebhookAuthFail || first.Outcome != audit.OutcomeFailure || first.TargetID != f.ids[flow.AuthHeader] ||
		first.IP != client.IP || first.Metadata["reason"] != "wrong" || first.Metadata["suppressed"] != "0" {
		t.Fatalf("first event = %+v", first)
	}
	if strings.Contains(fmt.Sprint(ev), "guess") {
		t.Fatal("the audit log holds the presented credential")
	}
	f.clock.Advance(time.Minute)
	_, _ = f.trig.Trigger(ctx, req("hooks/header", nil, body))
	ev = f.audit.list()
	if len(ev) != 3 || ev[2].Metadata["suppressed"] != "99" || ev[2].Metadata["reason"] != "missing" {
		t.Fatalf("after a minute: %d events, last %+v", len(ev), ev[len(ev)-1])
	}
	if n := f.trig.AuthFailures(); n != 102 {
		t.Fatalf("AuthFailures = %d, want 102", n)
	}
}

func TestDeliveriesArePruned(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(_ *webhook.Deps, st *webhook.Settings) { st.KeepExecutions, st.PruneEvery = 3, 4 })
	for i := range 9 {
		f.clock.Advance(time.Second)
		if _, err := f.trig.Trigger(ctx, req("hooks/none", nil, fmt.Sprintf(`{"i":%d}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	// Pruned after deliveries 4 and 8 down to 3; delivery 9 came after.
	list, _, _ := f.store.Executions().ListByWorkflow(ctx, f.ids[flow.AuthNone], "", 100)
	if len(list) != 4 || string(list[0].Body) != `{"i":8}` || string(list[3].Body) != `{"i":5}` {
		t.Fatalf("after 9 deliveries: %d kept, newest %s", len(list), list[0].Body)
	}
}

func TestDeliveryToADeletedWorkflowIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	wf, err := f.store.GetByWebhookPath(ctx, "hooks/none")
	if err != nil {
		t.Fatal(err)
	}
	// Deleted between lookup and insert: the insert's conflict is a 404.
	deps := webhook.Deps{Workflows: staleStore{f.store, wf}, Executions: f.store.Executions(), Replay: memory.NewReplayGuard(f.clock), Clock: f.clock}
	if err := f.store.Delete(ctx, wf.ID); err != nil {
		t.Fatal(err)
	}
	_, err = webhook.New(deps, webhook.Settings{}).Trigger(ctx, req("hooks/none", nil, body))
	wantErr(t, err, webhook.ErrNotFound)
}

type staleStore struct {
	*memory.WorkflowStore
	wf *flow.Workflow
}

func (s staleStore) GetByWebhookPath(context.Context, string) (*flow.Workflow, error) {
	return s.wf, nil
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// BenchmarkTrigger measures one accepted delivery per auth type with the
// in-memory stores: the cost of the auth checks themselves (hmac: open the
// sealed secret, one HMAC, one replay-guard call).
func BenchmarkTrigger(b *testing.B) {
	for _, typ := range []flow.AuthType{flow.AuthNone, flow.AuthHeader, flow.AuthBasic, flow.AuthHMAC} {
		b.Run(string(typ), func(b *testing.B) {
			f := newFixture(b, func(_ *webhook.Deps, st *webhook.Settings) { st.PruneEvery = 1 << 30 })
			i := 0
			for b.Loop() {
				i++
				var r webhook.Request
				switch typ {
				case flow.AuthHMAC:
					payload := fmt.Sprintf(`{"i":%d}`, i) // a fresh signature each time
					r = req("hooks/hmac", signed(f.clock, payload), payload)
				case flow.AuthHeader:
					r = req("hooks/header", map[string]string{"X-Webhook-Token": headerValue}, body)
				case flow.AuthBasic:
					r = req("hooks/basic", nil, body)
					r.Basic = &webhook.BasicCredential{Username: basicUser, Password: basicPass}
				default:
					r = req("hooks/none", nil, body)
				}
				if _, err := f.trig.Trigger(ctx, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
