package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/test/harness"
)

// Helpers of the audit tests are prefixed "audit".

const auditPath = "/api/v1/audit-events"

// auditEvent is one event of GET /api/v1/audit-events.
type auditEvent struct {
	ID         string            `json:"id"`
	Time       string            `json:"time"`
	ActorID    *string           `json:"actorId"`
	ActorName  *string           `json:"actorName"`
	Action     string            `json:"action"`
	TargetType *string           `json:"targetType"`
	TargetID   *string           `json:"targetId"`
	IP         *string           `json:"ip"`
	UserAgent  *string           `json:"userAgent"`
	Outcome    string            `json:"outcome"`
	Metadata   map[string]string `json:"metadata"`
}

type auditPage struct {
	Data       []auditEvent `json:"data"`
	NextCursor *string      `json:"nextCursor"`
}

// auditFast writes events within milliseconds, so tests wait little.
func auditFast() harness.Option {
	return harness.WithConfig(func(c *config.Config) { c.Audit.FlushInterval = 10 * time.Millisecond })
}

func auditList(t *testing.T, s *harness.Server, token string, q url.Values) (auditPage, *harness.Response) {
	t.Helper()
	path := auditPath
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: path, Bearer: token})
	var p auditPage
	if r.Status == http.StatusOK {
		r.JSON(t, &p)
	}
	return p, r
}

// auditAll pages through every event matching q (limit 200 per page).
func auditAll(t *testing.T, s *harness.Server, token string, q url.Values) ([]auditEvent, string) {
	t.Helper()
	q = auditCloneValues(q)
	q.Set("limit", "200")
	var all []auditEvent
	var bodies strings.Builder
	for {
		p, r := auditList(t, s, token, q)
		if r.Status != http.StatusOK {
			t.Fatalf("list %v: %d %s", q, r.Status, r.Body)
		}
		all = append(all, p.Data...)
		bodies.Write(r.Body)
		if p.NextCursor == nil {
			return all, bodies.String()
		}
		q.Set("cursor", *p.NextCursor)
	}
}

// auditEventually lists q until pred holds on the events (they are written
// in the background), failing after a few seconds.
func auditEventually(t *testing.T, s *harness.Server, token string, q url.Values, what string, pred func([]auditEvent) bool) ([]auditEvent, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		events, body := auditAll(t, s, token, q)
		if pred(events) {
			return events, body
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log never showed %s; got %d events: %s", what, len(events), body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func auditCloneValues(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func auditStr(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func auditFind(events []auditEvent, action, outcome, actorName string) *auditEvent {
	for i, e := range events {
		if e.Action == action && e.Outcome == outcome && auditStr(e.ActorName) == actorName {
			return &events[i]
		}
	}
	return nil
}

func auditLogin(t *testing.T, s *harness.Server, username, password, ua string) *harness.Response {
	t.Helper()
	return s.Do(t, harness.Req{
		Method: http.MethodPost, Path: "/api/v1/auth/login",
		Body:    map[string]string{"username": username, "password": password},
		Headers: map[string]string{"User-Agent": ua},
	})
}

func TestAuditRecordsLoginsForAdmins(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, auditFast())
	admin := s.AdminToken(t)
	userID, name, password := s.CreateUser(t, admin, "editor")
	wrong := "wrong-" + password
	ghost := "ghost-" + strings.ToLower(userID[:8])
	started := time.Now().UTC().Add(-time.Second)

	ok := auditLogin(t, s, name, password, "audit-e2e/ok")
	if ok.Status != http.StatusOK {
		t.Fatalf("login: %d %s", ok.Status, ok.Body)
	}
	var tok struct{ Token string }
	ok.JSON(t, &tok)
	if r := auditLogin(t, s, name, wrong, "audit-e2e/bad"); r.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.Status)
	}
	if r := auditLogin(t, s, ghost, wrong, "audit-e2e/ghost"); r.Status != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", r.Status)
	}

	byActor := url.Values{"actor": {userID}}
	events, body := auditEventually(t, s, admin, byActor, "the user's success and failure", func(es []auditEvent) bool {
		return auditFind(es, "auth.login", "success", name) != nil && auditFind(es, "auth.login", "failure", name) != nil
	})
	for _, c := range []struct{ outcome, ua string }{{"success", "audit-e2e/ok"}, {"failure", "audit-e2e/bad"}} {
		e := auditFind(events, "auth.login", c.outcome, name)
		if auditStr(e.ActorID) != userID || auditStr(e.IP) != "127.0.0.1" || auditStr(e.UserAgent) != c.ua {
			t.Errorf("%s login event = %+v", c.outcome, e)
		}
		at, err := time.Parse(time.RFC3339Nano, e.Time)
		if err != nil || !strings.HasSuffix(e.Time, "Z") || at.Before(started) || at.After(time.Now().Add(time.Second)) {
			t.Errorf("%s login time = %q (%v)", c.outcome, e.Time, err)
		}
	}
	for _, e := range events {
		if auditStr(e.ActorID) != userID {
			t.Fatalf("actor filter let through %+v", e)
		}
	}

	// The unknown user's attempt: no actor id, the tried name kept.
	q := url.Values{"action": {"auth.login"}, "from": {started.Format(time.RFC3339Nano)}}
	anon, body2 := auditEventually(t, s, admin, q, "the unknown user's attempt", func(es []auditEvent) bool {
		return auditFind(es, "auth.login", "failure", ghost) != nil
	})
	if e := auditFind(anon, "auth.login", "failure", ghost); e.ActorID != nil || auditStr(e.UserAgent) != "audit-e2e/ghost" {
		t.Errorf("unknown-user event = %+v", e)
	}

	// No password or token ever reaches the audit log or the logs.
	for _, where := range []struct{ name, text string }{{"audit answers", body + body2}, {"logs", s.Logs()}} {
		if leaked := harness.ContainsAny(where.text, password, wrong, tok.Token, admin); len(leaked) > 0 {
			t.Errorf("%s contain a secret (%d of them)", where.name, len(leaked))
		}
	}
}

func TestAuditFiltersAndPagination(t *testing.T) {
	t.Parallel()
	s := harness.Start(t, auditFast())
	admin := s.AdminToken(t)
	userID, name, password := s.CreateUser(t, admin, "viewer")
	for range 4 {
		auditLogin(t, s, name, password, "audit-e2e/pages")
	}
	auditLogin(t, s, name, "wrong-"+password, "audit-e2e/pages")
	byActor := url.Values{"actor": {userID}}
	all, _ := auditEventually(t, s, admin, byActor, "five logins", func(es []auditEvent) bool { return len(es) >= 5 })

	// Pages of 2 walk the same events in the same order, without repeats.
	var walked []string
	q := url.Values{"actor": {userID}, "limit": {"2"}}
	for pages := 0; ; pages++ {
		if pages > len(all) {
			t.Fatal("pagination does not end")
		}
		p, r := auditList(t, s, admin, q)
		if r.Status != http.StatusOK || len(p.Data) > 2 {
			t.Fatalf("page: %d, %d events", r.Status, len(p.Data))
		}
		for _, e := range p.Data {
			walked = append(walked, e.ID)
		}
		if p.NextCursor == nil {
			break
		}
		q.Set("cursor", *p.NextCursor)
	}
	var want []string
	for i, e := range all {
		want = append(want, e.ID)
		if i > 0 && auditTime(t, e).After(auditTime(t, all[i-1])) {
			t.Fatalf("not newest first: %s after %s", e.Time, all[i-1].Time)
		}
	}
	if strings.Join(walked, ",") != strings.Join(want, ",") {
		t.Fatalf("pages of 2 = %v, want %v", walked, want)
	}

	failures, _ := auditAll(t, s, admin, url.Values{"actor": {userID}, "action": {"auth.login"}})
	onlyFail := 0
	for _, e := range failures {
		if e.Outcome == "failure" {
			onlyFail++
		}
	}
	if len(failures) != 5 || onlyFail != 1 {
		t.Fatalf("actor+action: %d events, %d failures; want 5 and 1", len(failures), onlyFail)
	}
	none, _ := auditAll(t, s, admin, url.Values{"actor": {userID}, "action": {"api_key.create"}})
	if len(none) != 0 {
		t.Fatalf("action filter: %d api_key.create events of a user who made none", len(none))
	}
	newest := auditTime(t, all[0])
	after, _ := auditAll(t, s, admin, url.Values{"actor": {userID}, "from": {newest.Add(time.Microsecond).Format(time.RFC3339Nano)}})
	upTo, _ := auditAll(t, s, admin, url.Values{"actor": {userID}, "to": {newest.Format(time.RFC3339Nano)}})
	exact, _ := auditAll(t, s, admin, url.Values{"actor": {userID}, "from": {all[0].Time}, "to": {newest.Add(time.Microsecond).Format(time.RFC3339Nano)}})
	if len(after) != 0 || len(upTo) != len(all)-1 || len(exact) != 1 || exact[0].ID != all[0].ID {
		t.Fatalf("time filters: after=%d upTo=%d exact=%d; want 0, %d, 1", len(after), len(upTo), len(exact), len(all)-1)
	}
}

func TestAuditIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	for _, role := range []string{"editor", "viewer"} {
		_, name, password := s.CreateUser(t, admin, role)
		_, r := auditList(t, s, s.Login(t, name, password), nil)
		if r.Status != http.StatusForbidden || r.Code() != "ACCESS_DENIED" {
			t.Errorf("%s: %d %s, want 403 ACCESS_DENIED", role, r.Status, r.Body)
		}
	}
	_, r := auditList(t, s, "", nil)
	if r.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", r.Status)
	}
	_, r = auditList(t, s, admin, nil)
	if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("admin: %d, Cache-Control %q; want 200 and no-store (the trail is sensitive)", r.Status, r.Header.Get("Cache-Control"))
	}
}

func TestAuditBadParameters(t *testing.T) {
	t.Parallel()
	s := harness.Start(t)
	admin := s.AdminToken(t)
	tests := []struct{ query, field string }{
		{"limit=0", "limit"},
		{"limit=201", "limit"},
		{"limit=many", "limit"},
		{"from=yesterday", "from"},
		{"to=2026-01-27", "to"},
		{"from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"},
		{"cursor=not-a-cursor", "cursor"},
		{"action=" + strings.Repeat("x", 65), "action"},
		{"actor=a%00b", "actor"},
		{"actorId=x", "actorId"},
		{"actor=a&actor=b", "actor"},
	}
	for _, tc := range tests {
		r := s.Do(t, harness.Req{Method: http.MethodGet, Path: auditPath + "?" + tc.query, Bearer: admin})
		var env struct {
			Code    string
			Details []struct{ Field string }
		}
		r.JSON(t, &env)
		if r.Status != http.StatusBadRequest || env.Code != "INVALID_REQUEST" || len(env.Details) == 0 || env.Details[0].Field != tc.field {
			t.Errorf("?%s: %d %s, want 400 naming %q", tc.query, r.Status, r.Body, tc.field)
		}
	}
}

// TestAuditFlushedOnShutdown: events still queued when an instance stops
// are written before its database pool closes.
func TestAuditFlushedOnShutdown(t *testing.T) {
	t.Parallel()
	a := harness.Start(t, harness.WithConfig(func(c *config.Config) {
		c.Audit.FlushInterval = time.Hour // only Stop can write them
		c.Audit.BatchSize = 1000
	}))
	name := fmt.Sprintf("gone-%d", time.Now().UnixNano())
	if r := auditLogin(t, a, name, "whatever-password", "audit-e2e/shutdown"); r.Status != http.StatusUnauthorized {
		t.Fatalf("login: %d", r.Status)
	}
	a.Stop(t)
	b := harness.Start(t, harness.SharedWith(a), auditFast())
	events, _ := auditAll(t, b, b.AdminToken(t), url.Values{"action": {"auth.login"}})
	if auditFind(events, "auth.login", "failure", name) == nil {
		t.Fatal("the failed login recorded just before shutdown was lost")
	}
	if strings.Contains(a.Logs(), "audit events dropped") {
		t.Fatalf("events dropped on shutdown:\n%s", a.Logs())
	}
}

// gatedAuditStore blocks every Insert until open is closed, to prove that
// requests never wait for the audit store.
type gatedAuditStore struct {
	port.AuditStore
	open    chan struct{}
	entered atomic.Int32
	done    atomic.Int32
}

func (g *gatedAuditStore) Insert(ctx context.Context, events []audit.Event) error {
	g.entered.Add(1)
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer g.done.Add(1)
	return g.AuditStore.Insert(ctx, events)
}

// TestAuditAddsNoSynchronousRoundTrip (§9): with the background writer's
// store blocked, failed logins (queued), logins (their event is written with
// the session row, not through the queue) and authenticated reads still
// answer at once; the queued events are written when the store comes back.
func TestAuditAddsNoSynchronousRoundTrip(t *testing.T) {
	t.Parallel()
	gate := &gatedAuditStore{open: make(chan struct{})}
	s := harness.Start(t, auditFast(), harness.WithFx(fx.Decorate(func(real port.AuditStore) port.AuditStore {
		gate.AuditStore = real
		return gate
	})))
	released := false
	release := func() {
		if !released {
			released = true
			close(gate.open)
		}
	}
	t.Cleanup(release)

	admin := s.AdminToken(t)
	userID, name, password := s.CreateUser(t, admin, "viewer")
	// A failed login changes nothing: its event is queued, and the writer
	// blocks inserting it.
	if r := auditLogin(t, s, name, "wrong-"+password, "audit-e2e/gate"); r.Status != http.StatusUnauthorized {
		t.Fatalf("failed login: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for gate.entered.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the writer never tried to insert")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	// Three more failures: a fifth would trip the login throttle (5 per user+IP).
	for range 3 {
		if r := auditLogin(t, s, name, "wrong-"+password, "audit-e2e/gate"); r.Status != http.StatusUnauthorized {
			t.Fatalf("failed login: %d %s", r.Status, r.Body)
		}
		if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: admin}); r.Status != http.StatusOK {
			t.Fatalf("me: %d", r.Status)
		}
	}
	token := s.Login(t, name, password)
	if r := s.Do(t, harness.Req{Method: http.MethodGet, Path: "/api/v1/auth/me", Bearer: token}); r.Status != http.StatusOK {
		t.Fatalf("me: %d", r.Status)
	}
	if gate.done.Load() != 0 {
		t.Fatal("an insert finished while the store was blocked: the gate does not hold")
	}
	t.Logf("8 requests answered in %v with the audit store blocked", time.Since(start))
	release()
	events, _ := auditEventually(t, s, admin, url.Values{"actor": {userID}}, "the 5 logins", func(es []auditEvent) bool { return len(es) >= 5 })
	if len(events) != 5 {
		t.Fatalf("%d events for 5 logins", len(events))
	}
}

func auditTime(t *testing.T, e auditEvent) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, e.Time)
	if err != nil {
		t.Fatalf("event time %q: %v", e.Time, err)
	}
	return at
}
