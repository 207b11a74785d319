package workflow_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/workflow"
)

var t0 = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

var client = principal.Client{IP: "198.51.100.7", UserAgent: "unit-test/1.0", RequestID: "req-1"}

// recorder is a port.AuditLog that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
}

func (r *recorder) Record(_ context.Context, e audit.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Insert takes the events of the memory stores' audited writes.
func (r *recorder) Insert(ctx context.Context, events []audit.Event) error {
	for _, e := range events {
		r.Record(ctx, e)
	}
	return nil
}

func (r *recorder) find(action audit.Action, outcome audit.Outcome) []audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audit.Event
	for _, e := range r.events {
		if e.Action == action && e.Outcome == outcome {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%+v", r.events)
}

type fixture struct {
	svc   *workflow.Service
	store *memory.WorkflowStore
	clock *memory.Clock
	audit *recorder
	seal  port.SecretSealer
}

func newFixture(t *testing.T, withSealer bool) *fixture {
	t.Helper()
	f := &fixture{store: memory.NewWorkflowStore(), clock: memory.NewClock(t0), audit: &recorder{}}
	f.store.AttachAudit(f.audit)
	deps := workflow.Deps{Store: f.store, Lister: f.store, Executions: f.store.Executions(), Clock: f.clock, Audit: f.audit}
	if withSealer {
		s, err := crypto.NewSealer(strings.Repeat("k", 32))
		if err != nil {
			t.Fatal(err)
		}
		f.seal, deps.Sealer = s, s
	}
	f.svc = workflow.New(deps)
	return f
}

func person(role user.Role, id string) principal.Principal {
	return principal.Principal{UserID: id, Username: "user-" + id, Role: role, Method: principal.MethodJWT, Permissions: role.Permissions()}
}

func apiKey(role user.Role, id string, scopes ...user.Permission) principal.Principal {
	p := person(role, id)
	p.Method, p.KeyID, p.Permissions = principal.MethodAPIKey, "key-"+id, nil
	for _, s := range scopes {
		if role.Has(s) {
			p.Permissions = append(p.Permissions, s)
		}
	}
	return p
}

var (
	admin   = person(user.RoleAdmin, "admin")
	alice   = person(user.RoleEditor, "alice")
	bob     = person(user.RoleEditor, "bob")
	viewer  = person(user.RoleViewer, "viewer")
	basicPr = principal.Principal{Username: "ops", Role: user.RoleAdmin, Method: principal.MethodBasic, Permissions: user.AllPermissions}
)

func str(s string) *string { return &s }

func input(name string) workflow.Input {
	return workflow.Input{Name: name}
}

func mustCreate(t *testing.T, f *fixture, p principal.Principal, in workflow.Input) string {
	t.Helper()
	wf, err := f.svc.Create(context.Background(), p, client, in)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return wf.ID
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// wantFields fails unless err is INVALID_REQUEST naming exactly fields.
func wantFields(t *testing.T, err error, fields ...string) {
	t.Helper()
	wantErr(t, err, domain.ErrInvalid)
	var got []string
	for _, d := range domain.As(err).Details {
		got = append(got, d.Field)
	}
	if strings.Join(got, ",") != strings.Join(fields, ",") {
		t.Fatalf("invalid fields = %v, want %v (%v)", got, fields, domain.As(err).Details)
	}
}
