package users_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/users"
)

// deletionAudit returns the metadata of the last user.delete event, which
// must be the nth.
func (f *fixture) deletionAudit(t *testing.T, n int, target string) map[string]string {
	t.Helper()
	ev := f.audit.find(audit.ActionUserDelete)
	if len(ev) != n || ev[n-1].TargetID != target {
		t.Fatalf("user.delete events = %+v, want %d, the last of %s", ev, n, target)
	}
	return ev[n-1].Metadata
}

// ownWorkflows gives u n workflows and returns their IDs.
func (f *fixture) ownWorkflows(t *testing.T, u *user.User, n int) []string {
	t.Helper()
	var ids []string
	for range n {
		wf := &workflow.Workflow{
			ID: domain.NewID(), Name: "wf", Nodes: json.RawMessage(`[]`), Connections: json.RawMessage(`{}`),
			OwnerID: u.ID, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now(),
		}
		if err := f.workflows.Create(context.Background(), wf); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, wf.ID)
	}
	return ids
}

func TestDeleteOwnerOfWorkflowsIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner := f.create(t, "owner", user.RoleEditor)
	ids := f.ownWorkflows(t, owner, 3)
	tok := f.login(t, "owner", pw)

	err := f.svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{})
	wantErr(t, err, domain.ErrConflict)
	if !errors.Is(err, port.ErrOwnsWorkflows) {
		t.Fatalf("error = %v, want it to wrap ErrOwnsWorkflows", err)
	}
	msg := domain.As(err).Message
	for _, want := range []string{"3 workflows", "transferTo", "deleteWorkflows=true"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("message %q does not say %q", msg, want)
		}
	}
	// Nothing happened: the user, their workflows and their session live on.
	if _, err := f.svc.Get(ctx, owner.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := f.workflows.Get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	f.principal(t, tok)
	if ev := f.audit.find(audit.ActionUserDelete); len(ev) != 0 {
		t.Fatalf("audit = %+v, want no deletion", ev)
	}

	one := f.create(t, "single", user.RoleEditor)
	f.ownWorkflows(t, one, 1)
	err = f.svc.Delete(ctx, f.admin, client, one.ID, users.DeleteInput{})
	if !strings.Contains(domain.As(err).Message, "owns 1 workflow:") {
		t.Fatalf("message = %q, want the singular", domain.As(err).Message)
	}
}

func TestDeleteTransferMovesWorkflowsAndRecordsIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner := f.create(t, "leaver", user.RoleEditor)
	heir := f.create(t, "heir", user.RoleEditor)
	ids := f.ownWorkflows(t, owner, 2)
	tok := f.login(t, "leaver", pw)
	f.clock.Advance(time.Minute)

	if err := f.svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{TransferTo: heir.ID}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		wf, err := f.workflows.Get(ctx, id)
		if err != nil || wf.OwnerID != heir.ID || !wf.UpdatedAt.Equal(f.clock.Now()) {
			t.Fatalf("workflow %s = %+v (%v), want owned by %s, updated now", id, wf, err, heir.ID)
		}
	}
	_, err := f.authenticate(tok)
	wantErr(t, err, domain.ErrUnauthenticated)
	if m := f.deletionAudit(t, 1, owner.ID); m["workflows"] != "2" || m["workflowsTransferredTo"] != heir.ID || m["workflowsDeleted"] != "" {
		t.Fatalf("audit metadata = %v", m)
	}
}

func TestDeleteWithWorkflowsDeletesThemAndRecordsIt(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner := f.create(t, "leaver", user.RoleViewer)
	ids := f.ownWorkflows(t, owner, 2)
	if err := f.svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{DeleteWorkflows: true}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		_, err := f.workflows.Get(ctx, id)
		wantErr(t, err, domain.ErrNotFound)
	}
	if m := f.deletionAudit(t, 1, owner.ID); m["workflows"] != "2" || m["workflowsDeleted"] != "true" {
		t.Fatalf("audit metadata = %v", m)
	}
	// deleteWorkflows on a user without any is simply a deletion.
	empty := f.create(t, "empty", user.RoleViewer)
	if err := f.svc.Delete(ctx, f.admin, client, empty.ID, users.DeleteInput{DeleteWorkflows: true}); err != nil {
		t.Fatal(err)
	}
	if m := f.deletionAudit(t, 2, empty.ID); m["workflows"] != "0" || m["workflowsDeleted"] != "" {
		t.Fatalf("audit metadata = %v", m)
	}
}

func TestDeleteTransferTargetMustBeAnEnabledEditorOrAdmin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner := f.create(t, "owner", user.RoleEditor)
	ids := f.ownWorkflows(t, owner, 1)
	viewer := f.create(t, "viewer", user.RoleViewer)
	disabled := f.create(t, "disabled", user.RoleAdmin)
	if _, err := f.svc.Update(ctx, f.admin, client, disabled.ID, users.UpdateInput{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	tok := f.login(t, "owner", pw)
	for name, in := range map[string]users.DeleteInput{
		"unknown":  {TransferTo: domain.NewID()},
		"viewer":   {TransferTo: viewer.ID},
		"disabled": {TransferTo: disabled.ID},
		"self":     {TransferTo: owner.ID},
	} {
		err := f.svc.Delete(ctx, f.admin, client, owner.ID, in)
		if !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("%s: error = %v, want 400", name, err)
		}
		wantFields(t, err, "transferTo")
	}
	wantFields(t, f.svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{TransferTo: f.admin.UserID, DeleteWorkflows: true}),
		"transferTo", "deleteWorkflows")
	// The admin doing the deletion is a valid heir.
	f.principal(t, tok)
	if err := f.svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{TransferTo: f.admin.UserID}); err != nil {
		t.Fatal(err)
	}
	if wf, err := f.workflows.Get(ctx, ids[0]); err != nil || wf.OwnerID != f.admin.UserID {
		t.Fatalf("workflow = %+v (%v), want owned by the admin", wf, err)
	}
}

// TestDeleteJudgesTheTargetAgainUnderLock disables the target between the
// first judgement and the removal (inside the session revocation, which
// runs before the removal): the removal's own check refuses it.
func TestDeleteJudgesTheTargetAgainUnderLock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	owner := f.create(t, "owner", user.RoleEditor)
	f.ownWorkflows(t, owner, 1)
	heir := f.create(t, "heir", user.RoleEditor)
	remover := &disablingRemover{UserRemover: memory.NewUserRemover(f.store, f.workflows), store: f.store, disable: heir.ID}
	svc := users.New(users.Deps{Users: f.store, Lister: f.store, Remover: remover, Hasher: f.svc.Hasher, Revoker: f.auth.Revoker(), Audit: f.audit, Clock: f.clock})
	err := svc.Delete(ctx, f.admin, client, owner.ID, users.DeleteInput{TransferTo: heir.ID})
	wantFields(t, err, "transferTo")
	if _, err := f.svc.Get(ctx, owner.ID); err != nil {
		t.Fatalf("owner deleted despite the refusal: %v", err)
	}
}

// disablingRemover disables a user just before the real removal runs.
type disablingRemover struct {
	*memory.UserRemover
	store   *memory.UserStore
	disable string
}

func (r *disablingRemover) Remove(ctx context.Context, rm port.UserRemoval) (int, error) {
	if _, err := r.store.Update(ctx, r.disable, func(u *user.User) error { u.Disabled = true; return nil }); err != nil {
		return 0, err
	}
	return r.UserRemover.Remove(ctx, rm)
}
