package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/m9m/auth/test/harness"
)

// Helpers of the workflow tests are prefixed "wf".

const wfPath = "/api/v1/workflows"

// wfWorkflow is a workflow as the API answers it.
type wfWorkflow struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Active      bool            `json:"active"`
	Nodes       json.RawMessage `json:"nodes"`
	Connections json.RawMessage `json:"connections"`
	Webhook     *struct {
		Path string `json:"path"`
		URL  string `json:"url"`
		Auth struct {
			Type       string `json:"type"`
			Name       string `json:"name"`
			Username   string `json:"username"`
			Configured bool   `json:"configured"`
		} `json:"auth"`
	} `json:"webhook"`
	OwnerID   string `json:"ownerId"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

type wfList struct {
	Data       []wfWorkflow `json:"data"`
	NextCursor *string      `json:"nextCursor"`
}

// wfCreate creates a workflow with the token and fails unless 201.
func wfCreate(t *testing.T, s *harness.Server, token string, body map[string]any) wfWorkflow {
	t.Helper()
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: wfPath, Bearer: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create workflow: %d %s", r.Status, r.Body)
	}
	var wf wfWorkflow
	r.JSON(t, &wf)
	if loc := r.Header.Get("Location"); loc != wfPath+"/"+wf.ID {
		t.Fatalf("Location = %q, want %s/%s", loc, wfPath, wf.ID)
	}
	return wf
}

// wfStatus sends a request with a bearer token and fails unless want.
func wfStatus(t *testing.T, s *harness.Server, method, path, token string, body any, want int) *harness.Response {
	t.Helper()
	r := s.Do(t, harness.Req{Method: method, Path: path, Bearer: token, Body: body})
	if r.Status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.Status, r.Body, want)
	}
	return r
}

func TestWorkflowsCRUD(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	editorID, editorName, editorPass := s.CreateUser(t, admin, "editor")
	editor := s.Login(t, editorName, editorPass)

	nodes := json.RawMessage(`[{"id":"n1","type":"http","params":{"url":"https://example.com"}}]`)
	created := wfCreate(t, s, editor, map[string]any{"name": "Nightly sync", "active": true, "nodes": nodes, "connections": map[string]any{"n1": []string{}}})
	if created.Name != "Nightly sync" || !created.Active || created.OwnerID != editorID || created.Webhook != nil {
		t.Fatalf("created %+v", created)
	}
	var gotNodes any
	if err := json.Unmarshal(created.Nodes, &gotNodes); err != nil || fmt.Sprint(gotNodes) != "[map[id:n1 params:map[url:https://example.com] type:http]]" {
		t.Fatalf("nodes = %s", created.Nodes)
	}

	minimal := wfCreate(t, s, editor, map[string]any{"name": "Defaults"})
	if minimal.Active || string(minimal.Nodes) != "[]" || string(minimal.Connections) != "{}" {
		t.Fatalf("defaults: %+v", minimal)
	}

	var got wfWorkflow
	wfStatus(t, s, http.MethodGet, wfPath+"/"+created.ID, editor, nil, http.StatusOK).JSON(t, &got)
	if got.ID != created.ID || got.CreatedAt != created.CreatedAt || got.Name != created.Name {
		t.Fatalf("get %+v, want %+v", got, created)
	}

	var updated wfWorkflow
	wfStatus(t, s, http.MethodPut, wfPath+"/"+created.ID, editor, map[string]any{"name": "Renamed", "nodes": []any{}}, http.StatusOK).JSON(t, &updated)
	if updated.Name != "Renamed" || updated.Active || string(updated.Nodes) != "[]" || updated.CreatedAt != created.CreatedAt || updated.OwnerID != editorID {
		t.Fatalf("updated %+v", updated)
	}

	wfStatus(t, s, http.MethodDelete, wfPath+"/"+created.ID, editor, nil, http.StatusNoContent)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if r := wfStatus(t, s, m, wfPath+"/"+created.ID, editor, nil, http.StatusNotFound); r.Code() != "NOT_FOUND" {
			t.Fatalf("%s deleted: code %s", m, r.Code())
		}
	}
	wfStatus(t, s, http.MethodPut, wfPath+"/"+created.ID, editor, map[string]any{"name": "x"}, http.StatusNotFound)
	wfStatus(t, s, http.MethodGet, wfPath+"/"+created.ID+"/executions", editor, nil, http.StatusNotFound)
}

func TestWorkflowsRolesAndOwnership(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, aName, aPass := s.CreateUser(t, admin, "editor")
	_, bName, bPass := s.CreateUser(t, admin, "editor")
	_, vName, vPass := s.CreateUser(t, admin, "viewer")
	alice, bob, viewer := s.Login(t, aName, aPass), s.Login(t, bName, bPass), s.Login(t, vName, vPass)

	wf := wfCreate(t, s, alice, map[string]any{"name": "Alice's"})
	one := wfPath + "/" + wf.ID
	put := map[string]any{"name": "changed"}

	// Everyone reads everything.
	for _, tok := range []string{admin, alice, bob, viewer} {
		wfStatus(t, s, http.MethodGet, one, tok, nil, http.StatusOK)
		wfStatus(t, s, http.MethodGet, wfPath, tok, nil, http.StatusOK)
		wfStatus(t, s, http.MethodGet, one+"/executions", tok, nil, http.StatusOK)
	}
	// Someone else's workflow: 403 for another editor, whatever the body.
	for _, body := range []any{put, map[string]any{"name": ""}} {
		if r := wfStatus(t, s, http.MethodPut, one, bob, body, http.StatusForbidden); r.Code() != "ACCESS_DENIED" {
			t.Fatalf("code %s", r.Code())
		}
	}
	wfStatus(t, s, http.MethodDelete, one, bob, nil, http.StatusForbidden)
	// Viewers only read.
	wfStatus(t, s, http.MethodPost, wfPath, viewer, map[string]any{"name": "v"}, http.StatusForbidden)
	wfStatus(t, s, http.MethodPut, one, viewer, put, http.StatusForbidden)
	wfStatus(t, s, http.MethodDelete, one, viewer, nil, http.StatusForbidden)
	var still wfWorkflow
	wfStatus(t, s, http.MethodGet, one, viewer, nil, http.StatusOK).JSON(t, &still)
	if still.Name != "Alice's" {
		t.Fatalf("refused writes changed the workflow: %+v", still)
	}
	// Admins change anyone's; the owner stays.
	var byAdmin wfWorkflow
	wfStatus(t, s, http.MethodPut, one, admin, put, http.StatusOK).JSON(t, &byAdmin)
	if byAdmin.OwnerID != wf.OwnerID {
		t.Fatalf("admin's update moved ownership: %+v", byAdmin)
	}
	wfStatus(t, s, http.MethodDelete, one, admin, nil, http.StatusNoContent)
	// No credentials: 401.
	r := s.Do(t, harness.Req{Method: http.MethodGet, Path: wfPath})
	if r.Status != http.StatusUnauthorized || r.Code() != "AUTH_REQUIRED" {
		t.Fatalf("anonymous list: %d %s", r.Status, r.Body)
	}
}

func TestWorkflowsAPIKeyScopes(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	_, eName, ePass := s.CreateUser(t, admin, "editor")
	_, vName, vPass := s.CreateUser(t, admin, "viewer")
	editor, viewer := s.Login(t, eName, ePass), s.Login(t, vName, vPass)

	readKey := akCreate(t, s, editor, map[string]any{"scopes": []string{"workflows:read"}}).Key
	writeKey := akCreate(t, s, editor, map[string]any{"scopes": []string{"workflows:read", "workflows:write"}}).Key
	viewerKey := akCreate(t, s, viewer, nil).Key
	theirs := wfCreate(t, s, admin, map[string]any{"name": "admin's"})

	do := func(key, method, path string, body any) int {
		return s.Do(t, harness.Req{Method: method, Path: path, APIKey: key, Body: body}).Status
	}
	if st := do(readKey, http.MethodGet, wfPath, nil); st != http.StatusOK {
		t.Fatalf("read key lists: %d", st)
	}
	if st := do(readKey, http.MethodPost, wfPath, map[string]any{"name": "k"}); st != http.StatusForbidden {
		t.Fatalf("read-only key creates: %d", st)
	}
	if st := do(viewerKey, http.MethodPost, wfPath, map[string]any{"name": "k"}); st != http.StatusForbidden {
		t.Fatalf("viewer's key creates: %d", st)
	}
	r := s.Do(t, harness.Req{Method: http.MethodPost, Path: wfPath, APIKey: writeKey, Body: map[string]any{"name": "by key"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("write key creates: %d %s", r.Status, r.Body)
	}
	var mine wfWorkflow
	r.JSON(t, &mine)
	if st := do(writeKey, http.MethodPut, wfPath+"/"+mine.ID, map[string]any{"name": "again"}); st != http.StatusOK {
		t.Fatalf("write key updates its owner's: %d", st)
	}
	if st := do(writeKey, http.MethodPut, wfPath+"/"+theirs.ID, map[string]any{"name": "x"}); st != http.StatusForbidden {
		t.Fatalf("editor's key updates someone else's: %d", st)
	}
	if st := do(readKey, http.MethodDelete, wfPath+"/"+mine.ID, nil); st != http.StatusForbidden {
		t.Fatalf("read-only key deletes: %d", st)
	}
}

func TestWorkflowsPagination(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	mine := map[string]bool{}
	for i := range 7 {
		mine[wfCreate(t, s, admin, map[string]any{"name": fmt.Sprintf("page %d", i)}).ID] = true
	}
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		path := wfPath + "?limit=3"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var page wfList
		wfStatus(t, s, http.MethodGet, path, admin, nil, http.StatusOK).JSON(t, &page)
		if len(page.Data) > 3 {
			t.Fatalf("page of %d with limit 3", len(page.Data))
		}
		pages++
		for _, wf := range page.Data {
			if seen[wf.ID] {
				t.Fatalf("workflow %s on two pages", wf.ID)
			}
			seen[wf.ID] = true
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	for id := range mine {
		if !seen[id] {
			t.Fatalf("workflow %s never listed", id)
		}
	}
	if pages < 3 {
		t.Fatalf("%d pages for ≥7 workflows at 3 a page", pages)
	}
	var all wfList
	wfStatus(t, s, http.MethodGet, wfPath+"?limit=250", admin, nil, http.StatusOK).JSON(t, &all)
	if len(all.Data) < 7 {
		t.Fatalf("limit 250 listed %d", len(all.Data))
	}
	for _, q := range []string{"limit=0", "limit=251", "limit=abc", "limit=-1", "cursor=not-a-cursor", "cursor=" + strings.Repeat("A", 600)} {
		r := wfStatus(t, s, http.MethodGet, wfPath+"?"+q, admin, nil, http.StatusBadRequest)
		if r.Code() != "INVALID_REQUEST" {
			t.Fatalf("?%s: %s", q, r.Body)
		}
	}
}

func TestWorkflowsValidation(t *testing.T) {
	s := harness.Start(t)
	admin := s.AdminToken(t)
	taken := wfCreate(t, s, admin, map[string]any{"name": "holder", "webhook": map[string]any{"path": "taken/path", "auth": map[string]any{"type": "none"}}})
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{}, "name"},
		{"long name", map[string]any{"name": strings.Repeat("n", 201)}, "name"},
		{"name not a string", map[string]any{"name": 5}, "name"},
		{"nodes an object", map[string]any{"name": "n", "nodes": map[string]any{}}, "nodes"},
		{"nodes null", map[string]any{"name": "n", "nodes": nil}, "nodes"},
		{"connections an array", map[string]any{"name": "n", "connections": []any{}}, "connections"},
		{"nodes with \\u0000", `{"name":"n","nodes":["\u0000"]}`, "nodes"},
		{"nodes with a lone surrogate", `{"name":"n","nodes":["\ud800"]}`, "nodes"},
		{"nodes with a huge number", `{"name":"n","nodes":[1e999999]}`, "nodes"},
		{"active not a boolean", map[string]any{"name": "n", "active": "yes"}, "active"},
		{"unknown field", map[string]any{"name": "n", "owner": "x"}, "owner"},
		{"malformed JSON", `{"name":`, "body"},
		{"two values", `{"name":"a"}{"name":"b"}`, "body"},
		{"bad webhook path", map[string]any{"name": "n", "webhook": map[string]any{"path": "../x", "auth": map[string]any{"type": "none"}}}, "webhook.path"},
		{"bad auth type", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "jwt"}}}, "webhook.auth.type"},
		{"no auth", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1"}}, "webhook.auth.type"},
		{"header without value", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "header", "name": "X-Token"}}}, "webhook.auth.value"},
		{"header on a reserved name", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "header", "name": "Host", "value": "value-0123456789"}}}, "webhook.auth.name"},
		{"basic without password", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "basic", "username": "u"}}}, "webhook.auth.password"},
		{"hmac without a server key", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "hmac", "secret": "s3cr3t-0123456789"}}}, "webhook.auth.type"},
		{"secret of another type", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "none", "secret": "secret-0123456789"}}}, "webhook.auth.secret"},
		{"unknown auth field", map[string]any{"name": "n", "webhook": map[string]any{"path": "p1", "auth": map[string]any{"type": "none", "token": "s"}}}, "token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := wfStatus(t, s, http.MethodPost, wfPath, admin, tt.body, http.StatusBadRequest)
			var env struct {
				Code    string `json:"code"`
				Details []struct {
					Field string `json:"field"`
				} `json:"details"`
			}
			r.JSON(t, &env)
			found := false
			for _, d := range env.Details {
				found = found || d.Field == tt.field
			}
			if env.Code != "INVALID_REQUEST" || !found {
				t.Fatalf("want INVALID_REQUEST naming %q, got %s", tt.field, r.Body)
			}
			if strings.Contains(string(r.Body), "s3cr3t") {
				t.Fatal("the error repeats the secret")
			}
			// PUT validates the same way.
			wfStatus(t, s, http.MethodPut, wfPath+"/"+taken.ID, admin, tt.body, http.StatusBadRequest)
		})
	}
	t.Run("webhook path taken", func(t *testing.T) {
		body := map[string]any{"name": "n", "webhook": map[string]any{"path": "taken/path", "auth": map[string]any{"type": "none"}}}
		if r := wfStatus(t, s, http.MethodPost, wfPath, admin, body, http.StatusConflict); r.Code() != "CONFLICT" {
			t.Fatalf("code %s", r.Code())
		}
		other := wfCreate(t, s, admin, map[string]any{"name": "other"})
		wfStatus(t, s, http.MethodPut, wfPath+"/"+other.ID, admin, body, http.StatusConflict)
	})
	t.Run("unknown and impossible ids", func(t *testing.T) {
		for _, id := range []string{"0123456789abcdef0123456789abcdef", "nope", strings.Repeat("a", 65), "%2e%2e", "a%00b", "%C3%A9"} {
			wfStatus(t, s, http.MethodGet, wfPath+"/"+id, admin, nil, http.StatusNotFound)
			wfStatus(t, s, http.MethodPut, wfPath+"/"+id, admin, map[string]any{"name": "x"}, http.StatusNotFound)
			wfStatus(t, s, http.MethodDelete, wfPath+"/"+id, admin, nil, http.StatusNotFound)
			wfStatus(t, s, http.MethodGet, wfPath+"/"+id+"/executions", admin, nil, http.StatusNotFound)
		}
	})
	t.Run("body over the limit", func(t *testing.T) {
		big := `{"name":"n","nodes":["` + strings.Repeat("x", 1<<20) + `"]}`
		wfStatus(t, s, http.MethodPost, wfPath, admin, big, http.StatusRequestEntityTooLarge)
	})
}
