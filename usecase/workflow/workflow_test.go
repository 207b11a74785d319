package workflow_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	flow "github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/usecase/workflow"
)

var ctx = context.Background()

func TestCreateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    principal.Principal
		want error // nil: allowed
	}{
		{"admin", admin, nil},
		{"editor", alice, nil},
		{"viewer", viewer, domain.ErrForbidden},
		{"editor key with write", apiKey(user.RoleEditor, "alice", user.PermWorkflowsWrite), nil},
		{"editor key read only", apiKey(user.RoleEditor, "alice", user.PermWorkflowsRead), domain.ErrForbidden},
		{"viewer key claiming write", apiKey(user.RoleViewer, "viewer", user.PermWorkflowsWrite), domain.ErrForbidden},
		{"basic credential without a user", basicPr, domain.ErrForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, false)
			wf, err := f.svc.Create(ctx, tt.p, client, input("wf"))
			if tt.want != nil {
				wantErr(t, err, tt.want)
				if n := len(f.audit.find(audit.ActionWorkflowCreate, audit.OutcomeSuccess)); n != 0 {
					t.Fatalf("%d create events for a refused create", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			if wf.OwnerID != tt.p.UserID || !wf.CreatedAt.Equal(t0) || !wf.UpdatedAt.Equal(t0) {
				t.Fatalf("created %+v", wf)
			}
			if string(wf.Nodes) != "[]" || string(wf.Connections) != "{}" || wf.Active || wf.Webhook != nil {
				t.Fatalf("defaults: %+v", wf)
			}
			ev := f.audit.find(audit.ActionWorkflowCreate, audit.OutcomeSuccess)
			if len(ev) != 1 || ev[0].TargetID != wf.ID || ev[0].ActorID != tt.p.UserID || ev[0].IP != client.IP {
				t.Fatalf("audit events = %+v", ev)
			}
		})
	}
}

func TestCreateValidation(t *testing.T) {
	t.Parallel()
	hook := func(typ string, mutate func(*workflow.WebhookInput)) *workflow.WebhookInput {
		w := &workflow.WebhookInput{Path: "ok/path", Type: typ}
		if mutate != nil {
			mutate(w)
		}
		return w
	}
	tests := []struct {
		name   string
		in     workflow.Input
		sealer bool
		fields []string
	}{
		{
			"everything wrong at once",
			workflow.Input{
				Name: "", Nodes: json.RawMessage(`{}`), Connections: json.RawMessage(`[]`),
				Webhook: hook("nope", func(w *workflow.WebhookInput) { w.Path = "/bad" }),
			},
			true,
			[]string{"name", "nodes", "connections", "webhook.path", "webhook.auth.type"},
		},
		{
			"none with a stray secret",
			workflow.Input{Name: "n", Webhook: hook("none", func(w *workflow.WebhookInput) { w.Secret = str("secret-0123456789") })},
			true,
			[]string{"webhook.auth.secret"},
		},
		{
			"header without name or value",
			workflow.Input{Name: "n", Webhook: hook("header", nil)},
			true,
			[]string{"webhook.auth.name", "webhook.auth.value"},
		},
		{"header with a reserved name and an empty value", workflow.Input{Name: "n", Webhook: hook("header", func(w *workflow.WebhookInput) {
			w.HeaderName, w.HeaderValue = "Content-Type", str("")
		})}, true, []string{"webhook.auth.name", "webhook.auth.value"}},
		{"header with a password too", workflow.Input{Name: "n", Webhook: hook("header", func(w *workflow.WebhookInput) {
			w.HeaderName, w.HeaderValue, w.Password = "X-Token", str("value-0123456789"), str("password-0123456789")
		})}, true, []string{"webhook.auth.password"}},
		{
			"basic without password",
			workflow.Input{Name: "n", Webhook: hook("basic", func(w *workflow.WebhookInput) { w.Username = "u" })},
			true,
			[]string{"webhook.auth.password"},
		},
		{"basic with a colon in the username", workflow.Input{Name: "n", Webhook: hook("basic", func(w *workflow.WebhookInput) {
			w.Username, w.Password = "a:b", str("password-0123456789")
		})}, true, []string{"webhook.auth.username"}},
		{"hmac without secret", workflow.Input{Name: "n", Webhook: hook("hmac", nil)}, true, []string{"webhook.auth.secret"}},
		{"hmac with an oversized secret", workflow.Input{Name: "n", Webhook: hook("hmac", func(w *workflow.WebhookInput) {
			w.Secret = str(strings.Repeat("s", 1025))
		})}, true, []string{"webhook.auth.secret"}},
		{
			"hmac without an encryption key",
			workflow.Input{Name: "n", Webhook: hook("hmac", func(w *workflow.WebhookInput) { w.Secret = str("secret-0123456789") })},
			false,
			[]string{"webhook.auth.type"},
		},
		{"nodes with \\u0000", workflow.Input{Name: "n", Nodes: json.RawMessage(`["\u0000"]`)}, true, []string{"nodes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tt.sealer)
			_, err := f.svc.Create(ctx, alice, client, tt.in)
			wantFields(t, err, tt.fields...)
			if strings.Contains(err.Error(), strings.Repeat("s", 50)) {
				t.Fatal("the error repeats the secret")
			}
		})
	}
}

func TestHMACWithoutKeyExplainsWhy(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	_, err := f.svc.Create(ctx, alice, client, workflow.Input{Name: "n", Webhook: &workflow.WebhookInput{Path: "p", Type: "hmac", Secret: str("secret-0123456789")}})
	if d := domain.As(err).Details; len(d) != 1 || !strings.Contains(d[0].Message, "webhook_encryption_key") {
		t.Fatalf("details = %+v, want a message naming security.webhook_encryption_key", d)
	}
	// Other types still work without a key.
	mustCreate(t, f, alice, workflow.Input{Name: "n", Webhook: &workflow.WebhookInput{Path: "p", Type: "header", HeaderName: "x-token", HeaderValue: str("value-0123456789")}})
}

func TestSecretsAreStoredOnlyAsDigestsOrSealed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	const headerSecret, basicSecret, hmacSecret = "header-secret-value-1", "basic-secret-value-2", "hmac-secret-value-3"
	ins := []workflow.Input{
		{Name: "h", Webhook: &workflow.WebhookInput{Path: "h", Type: "header", HeaderName: "x-token", HeaderValue: str(headerSecret)}},
		{Name: "b", Webhook: &workflow.WebhookInput{Path: "b", Type: "basic", Username: "hook", Password: str(basicSecret)}},
		{Name: "m", Webhook: &workflow.WebhookInput{Path: "m", Type: "hmac", Secret: str(hmacSecret)}},
	}
	for _, in := range ins {
		wf, err := f.svc.Create(ctx, alice, client, in)
		if err != nil {
			t.Fatal(err)
		}
		stored, _ := f.store.Get(ctx, wf.ID)
		dump := fmt.Sprintf("%+v %s", *stored.Webhook, stored.Webhook.Auth.HMACSecretSealed)
		for _, s := range []string{headerSecret, basicSecret, hmacSecret} {
			if strings.Contains(dump, s) {
				t.Fatalf("stored webhook contains a plaintext secret: %s", dump)
			}
		}
		a := stored.Webhook.Auth
		switch a.Type {
		case flow.AuthHeader:
			if a.HeaderName != "X-Token" || a.HeaderValueDigest != flow.Digest(headerSecret) {
				t.Fatalf("header auth = %+v", a)
			}
		case flow.AuthBasic:
			if a.BasicUsername != "hook" || a.BasicPasswordDigest != flow.Digest(basicSecret) {
				t.Fatalf("basic auth = %+v", a)
			}
		case flow.AuthHMAC:
			plain, err := f.seal.Open(a.HMACSecretSealed)
			if err != nil || string(plain) != hmacSecret {
				t.Fatalf("sealed hmac secret opens to %q, %v", plain, err)
			}
		}
	}
	if all := f.audit.all(); strings.Contains(all, "secret-value") {
		t.Fatalf("audit events contain a secret: %s", all)
	}
}

func TestUpdateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		owner principal.Principal
		p     principal.Principal
		want  error
	}{
		{"editor own", alice, alice, nil},
		{"editor other's", alice, bob, domain.ErrForbidden},
		{"admin other's", alice, admin, nil},
		{"viewer", alice, viewer, domain.ErrForbidden},
		{"own key with write", alice, apiKey(user.RoleEditor, "alice", user.PermWorkflowsWrite), nil},
		{"own key read only", alice, apiKey(user.RoleEditor, "alice", user.PermWorkflowsRead), domain.ErrForbidden},
		{"admin key read only", alice, apiKey(user.RoleAdmin, "admin", user.PermWorkflowsRead), domain.ErrForbidden},
		{"basic admin on someone's", alice, basicPr, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, false)
			id := mustCreate(t, f, tt.owner, input("before"))
			f.clock.Advance(time.Minute)
			wf, err := f.svc.Update(ctx, tt.p, client, id, workflow.Input{Name: "after", Active: true})
			got, _ := f.store.Get(ctx, id)
			if tt.want != nil {
				wantErr(t, err, tt.want)
				if got.Name != "before" {
					t.Fatal("a refused update changed the workflow")
				}
				return
			}
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if wf.Name != "after" || !wf.Active || wf.OwnerID != tt.owner.UserID || !wf.CreatedAt.Equal(t0) || !wf.UpdatedAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("updated %+v", wf)
			}
		})
	}
}

func TestUpdateOfSomeoneElsesIsAuditedAsDenied(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := mustCreate(t, f, alice, input("a"))
	_, err := f.svc.Update(ctx, bob, client, id, input("b"))
	wantErr(t, err, domain.ErrForbidden)
	if ev := f.audit.find(audit.ActionWorkflowUpdate, audit.OutcomeDenied); len(ev) != 1 || ev[0].ActorID != bob.UserID {
		t.Fatalf("denied events = %+v", ev)
	}
	err = f.svc.Delete(ctx, bob, client, id)
	wantErr(t, err, domain.ErrForbidden)
	if ev := f.audit.find(audit.ActionWorkflowDelete, audit.OutcomeDenied); len(ev) != 1 {
		t.Fatalf("denied delete events = %+v", ev)
	}
}

func TestUpdateForbiddenBeforeValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := mustCreate(t, f, alice, input("a"))
	_, err := f.svc.Update(ctx, bob, client, id, workflow.Input{Name: ""})
	wantErr(t, err, domain.ErrForbidden)
}

func TestUpdateUnknownIsNotFound(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	_, err := f.svc.Update(ctx, admin, client, domain.NewID(), input("x"))
	wantErr(t, err, domain.ErrNotFound)
	wantErr(t, f.svc.Delete(ctx, admin, client, domain.NewID()), domain.ErrNotFound)
	_, err = f.svc.Get(ctx, admin, domain.NewID())
	wantErr(t, err, domain.ErrNotFound)
	_, err = f.svc.ListExecutions(ctx, admin, domain.NewID(), "", 0)
	wantErr(t, err, domain.ErrNotFound)
}

func TestUpdateKeepsOmittedSecretsOfTheSameType(t *testing.T) {
	t.Parallel()
	f := newFixture(t, true)
	hook := func(typ string, m func(*workflow.WebhookInput)) workflow.Input {
		w := &workflow.WebhookInput{Path: "keep/" + typ, Type: typ}
		m(w)
		return workflow.Input{Name: "n", Webhook: w}
	}
	cases := []struct {
		typ          string
		create, keep func(*workflow.WebhookInput)
	}{
		{
			"header",
			func(w *workflow.WebhookInput) { w.HeaderName, w.HeaderValue = "X-Token", str("value-0123456789-1") },
			func(w *workflow.WebhookInput) { w.HeaderName = "X-Other" },
		},
		{
			"basic",
			func(w *workflow.WebhookInput) { w.Username, w.Password = "u", str("password-0123456789") },
			func(w *workflow.WebhookInput) { w.Username = "u2" },
		},
		{
			"hmac",
			func(w *workflow.WebhookInput) { w.Secret = str("secret-0123456789-1") },
			func(*workflow.WebhookInput) {},
		},
	}
	for _, c := range cases {
		id := mustCreate(t, f, alice, hook(c.typ, c.create))
		before, _ := f.store.Get(ctx, id)
		after, err := f.svc.Update(ctx, alice, client, id, hook(c.typ, c.keep))
		if err != nil {
			t.Fatalf("%s: keep secret: %v", c.typ, err)
		}
		b, a := before.Webhook.Auth, after.Webhook.Auth
		if a.HeaderValueDigest != b.HeaderValueDigest || a.BasicPasswordDigest != b.BasicPasswordDigest || string(a.HMACSecretSealed) != string(b.HMACSecretSealed) {
			t.Fatalf("%s: secret not kept: %+v → %+v", c.typ, b, a)
		}
		if c.typ == "header" && a.HeaderName != "X-Other" || c.typ == "basic" && a.BasicUsername != "u2" {
			t.Fatalf("%s: non-secret field not updated: %+v", c.typ, a)
		}
	}
	// Changing the type needs the new type's secret: nothing to keep.
	id := mustCreate(t, f, alice, workflow.Input{Name: "n", Webhook: &workflow.WebhookInput{Path: "keep/y", Type: "header", HeaderName: "X-Token", HeaderValue: str("value-0123456789")}})
	_, err := f.svc.Update(ctx, alice, client, id, workflow.Input{Name: "n", Webhook: &workflow.WebhookInput{Path: "keep/x", Type: "basic", Username: "u"}})
	wantFields(t, err, "webhook.auth.password")
	// Removing the webhook and adding it back needs the secret again.
	_, err = f.svc.Update(ctx, alice, client, id, input("n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.Update(ctx, alice, client, id, workflow.Input{Name: "n", Webhook: &workflow.WebhookInput{Path: "keep/y", Type: "header", HeaderName: "X-Token"}})
	wantFields(t, err, "webhook.auth.value")
}

func TestWebhookPathConflict(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	in := workflow.Input{Name: "n", Webhook: &workflow.WebhookInput{Path: "taken", Type: "none"}}
	mustCreate(t, f, alice, in)
	_, err := f.svc.Create(ctx, bob, client, in)
	wantErr(t, err, domain.ErrConflict)
	if !strings.Contains(domain.As(err).Message, "Webhook path") {
		t.Fatalf("message = %q", domain.As(err).Message)
	}
	id := mustCreate(t, f, bob, input("other"))
	_, err = f.svc.Update(ctx, bob, client, id, in)
	wantErr(t, err, domain.ErrConflict)
}

func TestDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := mustCreate(t, f, alice, input("a"))
	wantErr(t, f.svc.Delete(ctx, viewer, client, id), domain.ErrForbidden)
	wantErr(t, f.svc.Delete(ctx, bob, client, id), domain.ErrForbidden)
	if err := f.svc.Delete(ctx, alice, client, id); err != nil {
		t.Fatal(err)
	}
	wantErr(t, f.svc.Delete(ctx, alice, client, id), domain.ErrNotFound)
	if ev := f.audit.find(audit.ActionWorkflowDelete, audit.OutcomeSuccess); len(ev) != 1 || ev[0].TargetID != id {
		t.Fatalf("delete events = %+v", ev)
	}
	id = mustCreate(t, f, alice, input("b"))
	if err := f.svc.Delete(ctx, admin, client, id); err != nil {
		t.Fatalf("admin deletes someone's: %v", err)
	}
}

func TestReadRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := mustCreate(t, f, alice, input("a"))
	for _, p := range []principal.Principal{admin, alice, bob, viewer, apiKey(user.RoleViewer, "viewer", user.PermWorkflowsRead)} {
		if _, err := f.svc.Get(ctx, p, id); err != nil {
			t.Errorf("%s reads: %v", p.Username, err)
		}
		if _, err := f.svc.List(ctx, p, "", 0); err != nil {
			t.Errorf("%s lists: %v", p.Username, err)
		}
		if _, err := f.svc.ListExecutions(ctx, p, id, "", 0); err != nil {
			t.Errorf("%s lists executions: %v", p.Username, err)
		}
	}
	noRead := apiKey(user.RoleAdmin, "admin", user.PermWorkflowsWrite)
	_, err := f.svc.Get(ctx, noRead, id)
	wantErr(t, err, domain.ErrForbidden)
	_, err = f.svc.List(ctx, noRead, "", 0)
	wantErr(t, err, domain.ErrForbidden)
	_, err = f.svc.ListExecutions(ctx, noRead, id, "", 0)
	wantErr(t, err, domain.ErrForbidden)
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	for i := range 7 {
		mustCreate(t, f, alice, input(fmt.Sprint(i)))
		f.clock.Advance(time.Second)
	}
	var names []string
	cursor := ""
	for {
		page, err := f.svc.List(ctx, viewer, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, wf := range page.Workflows {
			names = append(names, wf.Name)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if got := strings.Join(names, ""); got != "0123456" {
		t.Fatalf("listed %q, want 0123456", got)
	}
	for _, limit := range []int{-1, 251} {
		_, err := f.svc.List(ctx, viewer, "", limit)
		wantFields(t, err, "limit")
		_, err = f.svc.ListExecutions(ctx, viewer, "x", "", limit)
		if !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown workflow with a bad limit: %v", err)
		}
	}
	page, err := f.svc.List(ctx, viewer, "", 0)
	if err != nil || len(page.Workflows) != 7 || page.NextCursor != "" {
		t.Fatalf("default page: %v, %d workflows", err, len(page.Workflows))
	}
	_, err = f.svc.List(ctx, viewer, "garbage", 10)
	wantFields(t, err, "cursor")
}

func TestEmptyPagesAreEmptyListsNotNil(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	page, err := f.svc.List(ctx, viewer, "", 0)
	if err != nil || page.Workflows == nil {
		t.Fatalf("empty list: %v, %#v", err, page)
	}
	id := mustCreate(t, f, alice, input("a"))
	ex, err := f.svc.ListExecutions(ctx, viewer, id, "", 0)
	if err != nil || ex.Executions == nil {
		t.Fatalf("empty executions: %v, %#v", err, ex)
	}
}

func TestListExecutions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, false)
	id := mustCreate(t, f, alice, input("a"))
	ex := f.store.Executions()
	for i := range 3 {
		e := &flow.Execution{ID: domain.NewID(), WorkflowID: id, ReceivedAt: t0.Add(time.Duration(i) * time.Second), SourceIP: "192.0.2.1", Body: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
		if err := ex.Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	page, err := f.svc.ListExecutions(ctx, viewer, id, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Executions) != 2 || string(page.Executions[0].Body) != `{"n":2}` || page.NextCursor == "" {
		t.Fatalf("first page = %+v", page)
	}
	page, err = f.svc.ListExecutions(ctx, viewer, id, page.NextCursor, 2)
	if err != nil || len(page.Executions) != 1 || string(page.Executions[0].Body) != `{"n":0}` || page.NextCursor != "" {
		t.Fatalf("second page = %+v, %v", page, err)
	}
}
