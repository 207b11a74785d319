package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/test/harness"
	"github.com/m9m/auth/test/testenv"
)

// Helpers of the webhook tests are prefixed "wh".

// The webhook secrets of these tests: each must be absent from every API
// answer, from the logs and from a database dump.
const (
	whHeaderSecret = "whsec-header-7f3a9c1e5b"
	whBasicSecret  = "whsec-basic-2d8e4f6a0c"
	whHMACSecret   = "whsec-hmac-9b1c3e5f7a"
	whBody         = `{"event":"push","ref":"refs/heads/main","n":1}`
)

// whKey enables hmac webhooks on an instance.
func whKey() harness.Option {
	return harness.WithConfig(func(c *config.Config) {
		c.Security.WebhookEncryptionKey = "e2e-webhook-encryption-key-0123456789abcdef"
	})
}

// whServer starts an instance with hmac enabled, fast audit writes and a
// memory clock, and creates one workflow per auth type owned by an editor.
type whServer struct {
	*harness.Server
	clock  *memory.Clock
	admin  string
	editor string
	ids    map[string]string // auth type → workflow ID
	paths  map[string]string // auth type → webhook path
	bodies []string          // every API answer, to search for secrets
}

func whStart(t *testing.T, opts ...harness.Option) *whServer {
	t.Helper()
	clock := memory.NewClock(time.Now().UTC().Truncate(time.Second))
	s := harness.Start(t, append([]harness.Option{whKey(), auditFast(), harness.WithClock(clock)}, opts...)...)
	w := &whServer{Server: s, clock: clock, ids: map[string]string{}, paths: map[string]string{}}
	w.admin = s.AdminToken(t)
	_, name, pass := s.CreateUser(t, w.admin, "editor")
	w.editor = s.Login(t, name, pass)
	suffix := strings.ToLower(strconv.FormatInt(time.Now().UnixNano(), 36))
	for typ, auth := range map[string]map[string]any{
		"none":   {"type": "none"},
		"header": {"type": "header", "name": "X-Sender-Id", "value": whHeaderSecret},
		"basic":  {"type": "basic", "username": "hook-user", "password": whBasicSecret},
		"hmac":   {"type": "hmac", "secret": whHMACSecret},
	} {
		path := "e2e/" + suffix + "/" + typ
		r := w.do(t, harness.Req{
			Method: http.MethodPost, Path: wfPath, Bearer: w.editor,
			Body: map[string]any{"name": "hook " + typ, "active": true, "webhook": map[string]any{"path": path, "auth": auth}},
		})
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s webhook: %d %s", typ, r.Status, r.Body)
		}
		var wf wfWorkflow
		r.JSON(t, &wf)
		if wf.Webhook == nil || wf.Webhook.Path != path || wf.Webhook.URL != "/webhook/"+path || wf.Webhook.Auth.Type != typ ||
			wf.Webhook.Auth.Configured != (typ != "none") {
			t.Fatalf("%s webhook answered as %s", typ, r.Body)
		}
		w.ids[typ], w.paths[typ] = wf.ID, path
	}
	return w
}

// do sends r (checked against the OpenAPI document) and keeps the answer.
func (w *whServer) do(t *testing.T, r harness.Req) *harness.Response {
	t.Helper()
	resp := w.Do(t, r)
	w.bodies = append(w.bodies, string(resp.Body))
	return resp
}

// deliver POSTs body to the webhook of type typ. Nested paths cannot be
// matched by the OpenAPI router ({path} is one segment), so they go
// unchecked by it; the envelope is still checked on errors.
func (w *whServer) deliver(t *testing.T, typ, body string, headers map[string]string, basic [2]string) *harness.Response {
	t.Helper()
	return w.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + w.paths[typ], Body: body, Headers: headers, Basic: basic})
}

func whSign(secret, ts, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (w *whServer) signed(at time.Time, body string) map[string]string {
	ts := strconv.FormatInt(at.Unix(), 10)
	return map[string]string{"X-M9M-Timestamp": ts, "X-M9M-Signature": whSign(whHMACSecret, ts, body)}
}

func whWant(t *testing.T, r *harness.Response, status int, code string) {
	t.Helper()
	if r.Status != status || (code != "" && r.Code() != code) {
		t.Fatalf("answer %d %s, want %d %s", r.Status, r.Body, status, code)
	}
	if status == http.StatusAccepted {
		var out struct {
			ExecutionID string `json:"executionId"`
		}
		r.JSON(t, &out)
		if out.ExecutionID == "" {
			t.Fatalf("202 without executionId: %s", r.Body)
		}
	}
}

func TestWebhookEachAuthTypeGoodWrongMissing(t *testing.T) {
	w := whStart(t)
	none := [2]string{}
	tests := []struct {
		name    string
		typ     string
		headers func() map[string]string
		basic   [2]string
		status  int
	}{
		{"none", "none", nil, none, http.StatusAccepted},
		{"header good", "header", func() map[string]string { return map[string]string{"X-Sender-Id": whHeaderSecret} }, none, http.StatusAccepted},
		{"header good, name in lower case", "header", func() map[string]string { return map[string]string{"x-sender-id": whHeaderSecret} }, none, http.StatusAccepted},
		{"header wrong", "header", func() map[string]string { return map[string]string{"X-Sender-Id": whHeaderSecret + "0"} }, none, http.StatusUnauthorized},
		{"header missing", "header", nil, none, http.StatusUnauthorized},
		{"header sent as bearer", "header", func() map[string]string { return map[string]string{"Authorization": "Bearer " + whHeaderSecret} }, none, http.StatusUnauthorized},
		{"basic good", "basic", nil, [2]string{"hook-user", whBasicSecret}, http.StatusAccepted},
		{"basic wrong password", "basic", nil, [2]string{"hook-user", "guess"}, http.StatusUnauthorized},
		{"basic wrong user", "basic", nil, [2]string{"admin", whBasicSecret}, http.StatusUnauthorized},
		{"basic missing", "basic", nil, none, http.StatusUnauthorized},
		{"hmac good", "hmac", func() map[string]string { return w.signed(w.clock.Now(), whBody) }, none, http.StatusAccepted},
		{"hmac wrong secret", "hmac", func() map[string]string {
			ts := strconv.FormatInt(w.clock.Now().Unix(), 10)
			return map[string]string{"X-M9M-Timestamp": ts, "X-M9M-Signature": whSign("not-the-secret", ts, whBody)}
		}, none, http.StatusUnauthorized},
		{"hmac changed body", "hmac", func() map[string]string { return w.signed(w.clock.Now(), strings.Replace(whBody, "main", "evil", 1)) }, none, http.StatusUnauthorized},
		{"hmac timestamp 301 s old", "hmac", func() map[string]string { return w.signed(w.clock.Now().Add(-301*time.Second), whBody) }, none, http.StatusUnauthorized},
		{"hmac timestamp 301 s ahead", "hmac", func() map[string]string { return w.signed(w.clock.Now().Add(301*time.Second), whBody) }, none, http.StatusUnauthorized},
		{"hmac missing signature", "hmac", func() map[string]string {
			return map[string]string{"X-M9M-Timestamp": strconv.FormatInt(w.clock.Now().Unix(), 10)}
		}, none, http.StatusUnauthorized},
		{"hmac missing timestamp", "hmac", func() map[string]string {
			return map[string]string{"X-M9M-Signature": w.signed(w.clock.Now(), whBody)["X-M9M-Signature"]}
		}, none, http.StatusUnauthorized},
		{"hmac missing", "hmac", nil, none, http.StatusUnauthorized},
		{"hmac malformed signature", "hmac", func() map[string]string {
			h := w.signed(w.clock.Now(), whBody)
			h["X-M9M-Signature"] = "sha1=" + strings.TrimPrefix(h["X-M9M-Signature"], "sha256=")[:40]
			return h
		}, none, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h map[string]string
			if tt.headers != nil {
				h = tt.headers()
			}
			r := w.deliver(t, tt.typ, whBody, h, tt.basic)
			code := ""
			if tt.status == http.StatusUnauthorized {
				code = "AUTH_REQUIRED"
				if !strings.Contains(string(r.Body), "Missing or invalid webhook credentials") {
					t.Fatalf("401 body %s", r.Body)
				}
			}
			whWant(t, r, tt.status, code)
		})
	}
	// Exactly the accepted deliveries were stored.
	want := map[string]int{"none": 1, "header": 2, "basic": 1, "hmac": 1}
	for typ, n := range want {
		var page struct {
			Data []json.RawMessage `json:"data"`
		}
		w.do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "/" + w.ids[typ] + "/executions", Bearer: w.admin}).JSON(t, &page)
		if len(page.Data) != n {
			t.Errorf("%s: %d stored deliveries, want %d", typ, len(page.Data), n)
		}
	}
}

func TestWebhookHMACReplayAndClock(t *testing.T) {
	w := whStart(t)
	h := w.signed(w.clock.Now(), whBody)
	whWant(t, w.deliver(t, "hmac", whBody, h, [2]string{}), http.StatusAccepted, "")
	// The same signed delivery again, at once and later in the window: replay.
	whWant(t, w.deliver(t, "hmac", whBody, h, [2]string{}), http.StatusUnauthorized, "AUTH_REQUIRED")
	w.clock.Advance(4 * time.Minute)
	whWant(t, w.deliver(t, "hmac", whBody, h, [2]string{}), http.StatusUnauthorized, "AUTH_REQUIRED")
	// A second instance shares the replay memory.
	other := harness.Start(t, harness.SharedWith(w.Server), harness.WithClock(w.clock))
	r := other.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + w.paths["hmac"], Body: whBody, Headers: h})
	whWant(t, r, http.StatusUnauthorized, "AUTH_REQUIRED")
	// A fresh signature is fine on either; then time moves on and the old
	// timestamp is refused by the window.
	h2 := w.signed(w.clock.Now(), whBody)
	r = other.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + w.paths["hmac"], Body: whBody, Headers: h2})
	whWant(t, r, http.StatusAccepted, "")
	w.clock.Advance(301 * time.Second)
	whWant(t, w.deliver(t, "hmac", `{"other":true}`, w.signed(w.clock.Now().Add(-301*time.Second), `{"other":true}`), [2]string{}), http.StatusUnauthorized, "AUTH_REQUIRED")
	whWant(t, w.deliver(t, "hmac", `{"other":true}`, w.signed(w.clock.Now(), `{"other":true}`), [2]string{}), http.StatusAccepted, "")
}

func TestWebhookNotFoundInactiveAndPaths(t *testing.T) {
	w := whStart(t)
	r := w.do(t, harness.Req{
		Method: http.MethodPost, Path: wfPath, Bearer: w.editor,
		Body: map[string]any{"name": "off", "active": false, "webhook": map[string]any{"path": "single-" + w.ids["none"], "auth": map[string]any{"type": "none"}}},
	})
	if r.Status != http.StatusCreated {
		t.Fatalf("create inactive: %d %s", r.Status, r.Body)
	}
	var off wfWorkflow
	r.JSON(t, &off)
	// Single-segment paths are matched by the OpenAPI router, so s.Do checks them.
	whWant(t, w.Do(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + off.Webhook.Path, Body: whBody}), http.StatusNotFound, "NOT_FOUND")
	whWant(t, w.Do(t, harness.Req{Method: http.MethodPost, Path: "/webhook/no-such-hook", Body: whBody}), http.StatusNotFound, "NOT_FOUND")
	// Activate it: now it accepts deliveries, and answers as documented.
	r = w.do(t, harness.Req{
		Method: http.MethodPut, Path: wfPath + "/" + off.ID, Bearer: w.editor,
		Body: map[string]any{"name": "on", "active": true, "webhook": map[string]any{"path": off.Webhook.Path, "auth": map[string]any{"type": "none"}}},
	})
	if r.Status != http.StatusOK {
		t.Fatalf("activate: %d %s", r.Status, r.Body)
	}
	whWant(t, w.Do(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + off.Webhook.Path, Body: whBody}), http.StatusAccepted, "")
	// Nested paths, escaped or not, reach the same webhook; junk never does.
	nested := w.paths["none"]
	whWant(t, w.DoRaw(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + strings.ReplaceAll(nested, "/", "%2F"), Body: whBody}), http.StatusAccepted, "")
	for _, p := range []string{
		"/webhook/", "/webhook/" + nested + "/", "/webhook/" + strings.ToUpper(nested), "/webhook//" + nested,
		"/webhook/" + nested + "/..", "/webhook/a%25zz", "/webhook/a%2E%2Eb", "/webhook/" + strings.Repeat("a", 201),
	} {
		whWant(t, w.DoRaw(t, harness.Req{Method: http.MethodPost, Path: p, Body: whBody}), http.StatusNotFound, "NOT_FOUND")
	}
	// Only POST.
	if r := w.DoRaw(t, harness.Req{Method: http.MethodGet, Path: "/webhook/" + nested}); r.Status != http.StatusMethodNotAllowed {
		t.Fatalf("GET webhook: %d", r.Status)
	}
	// Deleting the workflow removes its webhook.
	if r := w.do(t, harness.Req{Method: http.MethodDelete, Path: wfPath + "/" + off.ID, Bearer: w.editor}); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}
	whWant(t, w.Do(t, harness.Req{Method: http.MethodPost, Path: "/webhook/" + off.Webhook.Path, Body: whBody}), http.StatusNotFound, "NOT_FOUND")
}

func TestWebhookBody(t *testing.T) {
	w := whStart(t)
	for _, b := range []string{"not json", `{"a":`, "", "{\"a\":\"\xff\"}"} {
		whWant(t, w.deliver(t, "none", b, nil, [2]string{}), http.StatusBadRequest, "INVALID_REQUEST")
		// Without the webhook's credentials the body is not even judged.
		whWant(t, w.deliver(t, "header", b, nil, [2]string{}), http.StatusUnauthorized, "AUTH_REQUIRED")
	}
	big := `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	whWant(t, w.deliver(t, "none", big, nil, [2]string{}), http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE")
	// Bodies that jsonb would refuse or blow up are kept as sent.
	for _, b := range []string{`{"nul":"\u0000"}`, `[1e300, 1e300]`, `"just a string"`, `null`} {
		whWant(t, w.deliver(t, "none", b, nil, [2]string{}), http.StatusAccepted, "")
	}
}

func TestWebhookExecutionsListTimeIPHeadersBody(t *testing.T) {
	w := whStart(t)
	at := w.clock.Now()
	h := map[string]string{"X-Sender-Id": whHeaderSecret, "X-Github-Event": "push", "Cookie": "session=abc", "X-Hub-Signature-256": "sha256=abc"}
	r := w.deliver(t, "header", whBody, h, [2]string{})
	whWant(t, r, http.StatusAccepted, "")
	var accepted struct {
		ExecutionID string `json:"executionId"`
	}
	r.JSON(t, &accepted)
	w.clock.Advance(2 * time.Second)
	whWant(t, w.deliver(t, "header", `{"second":true}`, map[string]string{"X-Sender-Id": whHeaderSecret}, [2]string{}), http.StatusAccepted, "")

	var page struct {
		Data []struct {
			ID         string            `json:"id"`
			WorkflowID string            `json:"workflowId"`
			ReceivedAt string            `json:"receivedAt"`
			SourceIP   string            `json:"sourceIp"`
			Headers    map[string]string `json:"headers"`
			Body       json.RawMessage   `json:"body"`
		} `json:"data"`
		NextCursor *string `json:"nextCursor"`
	}
	path := wfPath + "/" + w.ids["header"] + "/executions"
	w.do(t, harness.Req{Method: http.MethodGet, Path: path + "?limit=1", Bearer: w.editor}).JSON(t, &page)
	if len(page.Data) != 1 || string(page.Data[0].Body) != `{"second":true}` || page.NextCursor == nil {
		t.Fatalf("newest first, one per page: %+v", page)
	}
	w.do(t, harness.Req{Method: http.MethodGet, Path: path + "?limit=1&cursor=" + url.QueryEscape(*page.NextCursor), Bearer: w.editor}).JSON(t, &page)
	if len(page.Data) != 1 || page.NextCursor != nil {
		t.Fatalf("second page: %+v", page)
	}
	e := page.Data[0]
	if e.ID != accepted.ExecutionID || e.WorkflowID != w.ids["header"] || e.ReceivedAt != at.Format(time.RFC3339) || e.SourceIP != "127.0.0.1" {
		t.Fatalf("execution %+v, want id %s at %s from 127.0.0.1", e, accepted.ExecutionID, at.Format(time.RFC3339))
	}
	var gotBody, wantBody any
	if json.Unmarshal(e.Body, &gotBody) != nil || json.Unmarshal([]byte(whBody), &wantBody) != nil || !jsonEqual(gotBody, wantBody) {
		t.Fatalf("body %s, want %s", e.Body, whBody)
	}
	if e.Headers["X-Github-Event"] != "push" {
		t.Fatalf("headers %v lack X-Github-Event", e.Headers)
	}
	for name := range e.Headers {
		if name == "X-Sender-Id" || name == "Cookie" || name == "X-Hub-Signature-256" || name == "Authorization" {
			t.Fatalf("stored a credential header %s: %v", name, e.Headers)
		}
	}
	// A viewer reads deliveries too; anonymous callers do not.
	if r := w.Do(t, harness.Req{Method: http.MethodGet, Path: path}); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous executions: %d", r.Status)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestWebhookSecretsNeverLeak(t *testing.T) {
	w := whStart(t)
	// Deliveries of every kind, good and bad, with the secrets on the wire.
	whWant(t, w.deliver(t, "header", whBody, map[string]string{"X-Sender-Id": whHeaderSecret}, [2]string{}), http.StatusAccepted, "")
	whWant(t, w.deliver(t, "header", whBody, map[string]string{"X-Sender-Id": whBasicSecret}, [2]string{}), http.StatusUnauthorized, "")
	whWant(t, w.deliver(t, "basic", whBody, nil, [2]string{"hook-user", whBasicSecret}), http.StatusAccepted, "")
	whWant(t, w.deliver(t, "basic", whBody, nil, [2]string{"hook-user", whHMACSecret}), http.StatusUnauthorized, "")
	whWant(t, w.deliver(t, "hmac", whBody, w.signed(w.clock.Now(), whBody), [2]string{}), http.StatusAccepted, "")
	// Replace keeping the secrets, and every read.
	for typ, auth := range map[string]map[string]any{
		"header": {"type": "header", "name": "X-Sender-Id"},
		"basic":  {"type": "basic", "username": "hook-user"},
		"hmac":   {"type": "hmac"},
	} {
		r := w.do(t, harness.Req{
			Method: http.MethodPut, Path: wfPath + "/" + w.ids[typ], Bearer: w.editor,
			Body: map[string]any{"name": "kept " + typ, "active": true, "webhook": map[string]any{"path": w.paths[typ], "auth": auth}},
		})
		if r.Status != http.StatusOK {
			t.Fatalf("replace %s keeping the secret: %d %s", typ, r.Status, r.Body)
		}
		w.do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "/" + w.ids[typ], Bearer: w.admin})
		w.do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "/" + w.ids[typ] + "/executions", Bearer: w.admin})
	}
	w.do(t, harness.Req{Method: http.MethodGet, Path: wfPath + "?limit=250", Bearer: w.admin})
	// Kept secrets still work.
	whWant(t, w.deliver(t, "hmac", `{"k":1}`, w.signed(w.clock.Now(), `{"k":1}`), [2]string{}), http.StatusAccepted, "")
	whWant(t, w.deliver(t, "basic", whBody, nil, [2]string{"hook-user", whBasicSecret}), http.StatusAccepted, "")

	secrets := []string{whHeaderSecret, whBasicSecret, whHMACSecret}
	if found := harness.ContainsAny(strings.Join(w.bodies, "\n"), secrets...); len(found) > 0 {
		t.Fatalf("API answers contain secrets %v", found)
	}
	if found := harness.ContainsAny(w.Logs(), secrets...); len(found) > 0 {
		t.Fatalf("logs contain secrets %v", found)
	}
	db := testenv.DB(t)
	var dump []string
	for _, q := range []string{`SELECT w::text FROM workflows w`, `SELECT e::text FROM executions e`, `SELECT a::text FROM audit_events a`} {
		var rows []string
		if err := db.SelectContext(context.Background(), &rows, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		dump = append(dump, rows...)
	}
	all := strings.Join(dump, "\n")
	if !strings.Contains(all, w.ids["hmac"]) {
		t.Fatal("the dump does not even hold the workflows")
	}
	if found := harness.ContainsAny(all, secrets...); len(found) > 0 {
		t.Fatalf("database dump contains secrets %v", found)
	}
	// The hex of the secrets is not there either (bytea prints as hex).
	for _, s := range secrets {
		if strings.Contains(all, hex.EncodeToString([]byte(s))) {
			t.Fatalf("database dump contains %q hex-encoded", s)
		}
	}
}

func TestWebhookAuthFailuresAreSampledInTheAuditLog(t *testing.T) {
	w := whStart(t)
	for range 25 {
		whWant(t, w.deliver(t, "header", whBody, map[string]string{"X-Sender-Id": "guess"}, [2]string{}), http.StatusUnauthorized, "")
	}
	q := url.Values{"action": {"webhook.auth_failure"}}
	auditEventually(t, w.Server, w.admin, q, "a webhook auth failure", func(es []auditEvent) bool {
		for _, e := range es {
			if auditStr(e.TargetID) == w.ids["header"] {
				return true
			}
		}
		return false
	})
	time.Sleep(300 * time.Millisecond) // let any (wrongly) unsampled events land too
	events, body := auditAll(t, w.Server, w.admin, q)
	n := 0
	for _, e := range events {
		if auditStr(e.TargetID) == w.ids["header"] {
			n++
			if e.Outcome != "failure" || auditStr(e.IP) != "127.0.0.1" || e.Metadata["reason"] != "wrong" {
				t.Fatalf("event %+v", e)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d audit events for 25 failures within a minute, want 1: %s", n, body)
	}
	if strings.Contains(body, "guess") {
		t.Fatal("the audit log holds the presented credential")
	}
	// A minute later the next failure is audited, with the count it stood for.
	w.clock.Advance(time.Minute)
	whWant(t, w.deliver(t, "header", whBody, nil, [2]string{}), http.StatusUnauthorized, "")
	auditEventually(t, w.Server, w.admin, q, "the next sampled failure", func(es []auditEvent) bool {
		for _, e := range es {
			if auditStr(e.TargetID) == w.ids["header"] && e.Metadata["suppressed"] == "24" && e.Metadata["reason"] == "missing" {
				return true
			}
		}
		return false
	})
	// Workflow changes are audited too.
	auditEventually(t, w.Server, w.admin, url.Values{"action": {"workflow.create"}}, "workflow.create", func(es []auditEvent) bool {
		for _, e := range es {
			if auditStr(e.TargetID) == w.ids["hmac"] && e.Outcome == "success" && e.Metadata["webhookAuth"] == "hmac" {
				return true
			}
		}
		return false
	})
}

func TestWebhookHMACNeedsAnEncryptionKey(t *testing.T) {
	s := harness.Start(t) // no security.webhook_encryption_key
	admin := s.AdminToken(t)
	r := s.Do(t, harness.Req{
		Method: http.MethodPost, Path: wfPath, Bearer: admin,
		Body: map[string]any{"name": "h", "webhook": map[string]any{"path": "nokey-hmac", "auth": map[string]any{"type": "hmac", "secret": "secret-0123456789"}}},
	})
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "webhook_encryption_key") {
		t.Fatalf("hmac without a key: %d %s", r.Status, r.Body)
	}
	wfCreate(t, s, admin, map[string]any{"name": "h", "webhook": map[string]any{"path": "nokey-header", "auth": map[string]any{"type": "header", "name": "X-T", "value": "value-0123456789"}}})
}

func TestWebhookIsRateLimitedPerIP(t *testing.T) {
	// The per-IP budget is also spent by the public logins of the setup, so
	// only the total is known: within burst+1 deliveries one is refused.
	const burst = 10
	w := whStart(t, harness.WithConfig(func(c *config.Config) {
		c.Performance.RateLimit = config.RateLimitConfig{Enabled: true, RequestsPerMinute: 1, Burst: burst}
	}))
	accepted := 0
	for range burst + 1 {
		r := w.deliver(t, "none", whBody, nil, [2]string{})
		if r.Status == http.StatusAccepted {
			accepted++
			continue
		}
		whWant(t, r, http.StatusTooManyRequests, "RATE_LIMITED")
		if r.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		if accepted == 0 {
			t.Fatal("no delivery accepted before the limit")
		}
		return
	}
	t.Fatalf("%d deliveries from one IP accepted with a burst of %d", accepted, burst)
}
