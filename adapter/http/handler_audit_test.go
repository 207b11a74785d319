package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	auditdomain "github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/usecase/audit"
	"github.com/m9m/auth/usecase/authn"
)

var auditT0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

func TestParseAuditQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		raw     string
		want    auditdomain.Query
		wantBad []string
	}{
		{name: "nothing", raw: "", want: auditdomain.Query{}},
		{
			name: "everything",
			raw:  "actor=u1&action=auth.login&from=2026-01-27T10:00:00Z&to=2026-01-27T11:00:00.5%2B01:00&cursor=abc&limit=10",
			want: auditdomain.Query{ActorID: "u1", Action: "auth.login", From: auditT0, To: auditT0.Add(500 * time.Millisecond), Cursor: "abc", Limit: 10},
		},
		{name: "empty values are absent", raw: "actor=&action=&from=&limit=", want: auditdomain.Query{}},
		{name: "limit zero", raw: "limit=0", wantBad: []string{"limit"}},
		{name: "limit too big", raw: "limit=201", wantBad: []string{"limit"}},
		{name: "limit not a number", raw: "limit=ten", wantBad: []string{"limit"}},
		{name: "limit overflow", raw: "limit=99999999999999999999", wantBad: []string{"limit"}},
		{name: "bad from", raw: "from=yesterday", wantBad: []string{"from"}},
		{name: "unencoded plus", raw: "to=2026-01-27T10:00:00+01:00", wantBad: []string{"to"}},
		{name: "date only", raw: "from=2026-01-27", wantBad: []string{"from"}},
		{name: "unknown parameter", raw: "actorId=u1", wantBad: []string{"actorId"}},
		{name: "repeated parameter", raw: "actor=a&actor=b", wantBad: []string{"actor"}},
		{name: "all at once", raw: "limit=x&from=y&to=z&user=q", wantBad: []string{"user", "from", "to", "limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := url.ParseQuery(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseAuditQuery(v)
			if tc.wantBad != nil {
				if !errors.Is(err, domain.ErrInvalid) {
					t.Fatalf("err = %v, want INVALID_REQUEST", err)
				}
				var fields []string
				for _, d := range domain.As(err).Details {
					fields = append(fields, d.Field)
				}
				if strings.Join(fields, ",") != strings.Join(tc.wantBad, ",") {
					t.Fatalf("fields = %v, want %v", fields, tc.wantBad)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if got.ActorID != tc.want.ActorID || got.Action != tc.want.Action || !got.From.Equal(tc.want.From) ||
				!got.To.Equal(tc.want.To) || got.Cursor != tc.want.Cursor || got.Limit != tc.want.Limit {
				t.Fatalf("query = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// FuzzParseAuditQuery: the query string is untrusted. Parsing never panics,
// fails only with INVALID_REQUEST details that are printable, and what it
// accepts has a limit the use case accepts too.
func FuzzParseAuditQuery(f *testing.F) {
	f.Add("actor=u1&action=auth.login&from=2026-01-27T10:00:00Z&limit=10")
	f.Add("limit=-1&from=0000-00-00T00:00:00Z")
	f.Add("%ff%00=1&x=2&x=3")
	f.Add("to=2026-01-27T10:00:00.999999999%2B14:00&cursor=MjAyNg")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseAuditQuery(v)
		if err != nil {
			e := domain.As(err)
			if !errors.Is(err, domain.ErrInvalid) || len(e.Details) == 0 {
				t.Fatalf("error %v is not INVALID_REQUEST with details", err)
			}
			for _, d := range e.Details {
				if strings.ContainsAny(d.Field, "\x00\r\n") || len(d.Field) > 64 {
					t.Fatalf("unsafe field name %q", d.Field)
				}
			}
			return
		}
		if q.Limit < 0 || q.Limit > auditdomain.MaxLimit {
			t.Fatalf("accepted limit %d", q.Limit)
		}
	})
}

// auditServer runs the real edge (guard, error handler) with the audit route
// over an in-memory store; "Bearer admin" and "Bearer editor" authenticate.
func auditServer(t *testing.T) (http.Handler, *memory.AuditStore) {
	t.Helper()
	store := memory.NewAuditStore()
	chain := &authn.Chain{Bearer: authn.AuthenticatorFunc(func(_ context.Context, c authn.Credential, _ principal.Client) (principal.Principal, error) {
		role := user.Role(c.Secret)
		if !role.Valid() {
			return principal.Principal{}, domain.ErrUnauthenticated
		}
		return principal.Principal{UserID: c.Secret + "-id", Username: c.Secret, Role: role, Method: principal.MethodJWT, Permissions: role.Permissions()}, nil
	})}
	srv, err := Build(Settings{}, zap.NewNop(), chain, nil, nil, nil, AuditRoutes(audit.NewLister(store)))
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler(), store
}

func auditGet(t *testing.T, h http.Handler, token, query string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/v1/audit-events"+query, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return rec.Code, body
}

func auditSchema(t *testing.T, name string) *openapi3.Schema {
	t.Helper()
	raw, err := OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("OpenAPI document invalid: %v", err)
	}
	return doc.Components.Schemas[name].Value
}

func TestAuditListEndpoint(t *testing.T) {
	t.Parallel()
	h, store := auditServer(t)
	events := []auditdomain.Event{
		{ID: "e1", Time: auditT0, Action: auditdomain.ActionLogin, Outcome: auditdomain.OutcomeFailure, ActorName: "mallory", IP: "192.0.2.1", UserAgent: "curl/8"},
		{
			ID: "e2", Time: auditT0.Add(1500 * time.Microsecond), ActorID: "u1", ActorName: "alice", Action: auditdomain.ActionLogin, Outcome: auditdomain.OutcomeSuccess,
			TargetType: "session", TargetID: "s1", IP: "192.0.2.2", UserAgent: "Firefox", Metadata: map[string]string{"method": "jwt"},
		},
		{ID: "e3", Time: auditT0.Add(time.Hour), ActorID: "u1", Action: auditdomain.ActionLogout, Outcome: auditdomain.OutcomeSuccess},
	}
	if err := store.Insert(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	schema := auditSchema(t, "AuditEventList")

	code, body := auditGet(t, h, "admin", "?limit=2")
	if code != http.StatusOK {
		t.Fatalf("status %d: %v", code, body)
	}
	if err := schema.VisitJSON(body); err != nil {
		t.Fatalf("answer does not match AuditEventList: %v", err)
	}
	data := body["data"].([]any)
	if len(data) != 2 || body["nextCursor"] == nil {
		t.Fatalf("first page = %v", body)
	}
	second := data[1].(map[string]any)
	want := map[string]any{
		"id": "e2", "time": "2026-01-27T10:00:00.0015Z", "actorId": "u1", "actorName": "alice", "action": "auth.login",
		"targetType": "session", "targetId": "s1", "ip": "192.0.2.2", "userAgent": "Firefox", "outcome": "success",
		"metadata": map[string]any{"method": "jwt"},
	}
	if b1, b2 := mustJSON(t, second), mustJSON(t, want); b1 != b2 {
		t.Fatalf("event = %s\nwant    %s", b1, b2)
	}

	code, body = auditGet(t, h, "admin", "?limit=2&cursor="+url.QueryEscape(body["nextCursor"].(string)))
	if code != http.StatusOK || schema.VisitJSON(body) != nil {
		t.Fatalf("second page: %d %v", code, body)
	}
	last := body["data"].([]any)[0].(map[string]any)
	if last["id"] != "e1" || last["actorId"] != nil || last["targetId"] != nil || body["nextCursor"] != nil {
		t.Fatalf("second page = %v", body)
	}
	if m, ok := last["metadata"].(map[string]any); !ok || len(m) != 0 {
		t.Fatalf("metadata of an event without any = %v, want {}", last["metadata"])
	}

	code, body = auditGet(t, h, "admin", "?actor=u1&action=auth.logout")
	if code != http.StatusOK || len(body["data"].([]any)) != 1 {
		t.Fatalf("filtered: %d %v", code, body)
	}
	code, body = auditGet(t, h, "admin", "?from=2026-01-27T10:00:00.001Z&to=2026-01-27T10:30:00Z")
	if code != http.StatusOK || len(body["data"].([]any)) != 1 {
		t.Fatalf("time window: %d %v", code, body)
	}
}

func TestAuditListEndpointErrors(t *testing.T) {
	t.Parallel()
	h, _ := auditServer(t)
	tests := []struct {
		name, token, query string
		wantStatus         int
		wantCode           string
		wantField          string
	}{
		{"no credentials", "", "", http.StatusUnauthorized, domain.CodeAuthRequired, ""},
		{"editor", "editor", "", http.StatusForbidden, domain.CodeAccessDenied, ""},
		{"viewer", "viewer", "", http.StatusForbidden, domain.CodeAccessDenied, ""},
		{"bad limit", "admin", "?limit=500", http.StatusBadRequest, domain.CodeInvalidRequest, "limit"},
		{"bad from", "admin", "?from=now", http.StatusBadRequest, domain.CodeInvalidRequest, "from"},
		{"reversed range", "admin", "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", http.StatusBadRequest, domain.CodeInvalidRequest, "to"},
		{"bad cursor", "admin", "?cursor=garbage", http.StatusBadRequest, domain.CodeInvalidRequest, "cursor"},
		{"long action", "admin", "?action=" + strings.Repeat("a", 65), http.StatusBadRequest, domain.CodeInvalidRequest, "action"},
		{"NUL in actor", "admin", "?actor=a%00b", http.StatusBadRequest, domain.CodeInvalidRequest, "actor"},
		{"unknown parameter", "admin", "?since=2026-01-01T00:00:00Z", http.StatusBadRequest, domain.CodeInvalidRequest, "since"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, body := auditGet(t, h, tc.token, tc.query)
			if code != tc.wantStatus || body["code"] != tc.wantCode {
				t.Fatalf("got %d %v, want %d %s", code, body, tc.wantStatus, tc.wantCode)
			}
			if tc.wantField != "" {
				details, _ := body["details"].([]any)
				if len(details) == 0 || details[0].(map[string]any)["field"] != tc.wantField {
					t.Fatalf("details = %v, want field %q", body["details"], tc.wantField)
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
