package porttest

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// UserRemoverStores are the stores under test of one backend: the remover
// and the user and workflow stores it works on.
type UserRemoverStores struct {
	Remover    port.UserRemover
	Users      port.UserStore
	Workflows  port.WorkflowStore
	Lister     port.WorkflowLister
	Executions port.ExecutionStore
	// Audit is where the removal's events land.
	Audit port.AuditStore
}

// UserRemover runs the contract of port.UserRemover, and of
// port.UserStore.Delete for a user who owns workflows: no workflow is ever
// deleted or left without an owner unless the removal says so.
func UserRemover(t *testing.T, setup func(t *testing.T) UserRemoverStores) {
	ctx := context.Background()

	// owner creates a user of role with n workflows, the first with an
	// hmac webhook and one delivery; it returns the user and the workflows.
	owner := func(t *testing.T, s UserRemoverStores, role user.Role, n int) (*user.User, []*workflow.Workflow) {
		t.Helper()
		u := newUser("owner")
		u.Role = role
		noErr(t, s.Users.Create(ctx, u))
		var wfs []*workflow.Workflow
		for i := range n {
			var hook *workflow.Webhook
			if i == 0 {
				hook = hmacHook("remove/" + domain.NewID())
			}
			wf := newWorkflow(u.ID, hook)
			noErr(t, s.Workflows.Create(ctx, wf))
			wfs = append(wfs, wf)
		}
		if n > 0 {
			noErr(t, s.Executions.Create(ctx, newExecution(wfs[0].ID, base)))
		}
		return u, wfs
	}
	deliveries := func(t *testing.T, s UserRemoverStores, workflowID string) int {
		t.Helper()
		got, _, err := s.Executions.ListByWorkflow(ctx, workflowID, "", 10)
		noErr(t, err)
		return len(got)
	}
	count := func(t *testing.T, what string, n int, err error, want int) {
		t.Helper()
		noErr(t, err)
		if n != want {
			t.Fatalf("%s = %d, want %d", what, n, want)
		}
	}
	unchanged := func(t *testing.T, s UserRemoverStores, u *user.User, wfs []*workflow.Workflow) {
		t.Helper()
		got, err := s.Users.Get(ctx, u.ID)
		noErr(t, err)
		sameUser(t, got, u)
		for _, wf := range wfs {
			g, err := s.Workflows.Get(ctx, wf.ID)
			noErr(t, err)
			sameWorkflow(t, g, wf)
		}
		if n := deliveries(t, s, wfs[0].ID); n != 1 {
			t.Fatalf("%d deliveries left, want 1", n)
		}
	}

	t.Run("a user without workflows is deleted", func(t *testing.T) {
		s := setup(t)
		u, _ := owner(t, s, user.RoleEditor, 0)
		n, err := s.Remover.OwnedWorkflows(ctx, u.ID)
		count(t, "OwnedWorkflows", n, err, 0)
		n, err = s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID})
		count(t, "Remove", n, err, 0)
		_, err = s.Users.Get(ctx, u.ID)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID})
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("an owner of workflows is not deleted without a decision, not even by UserStore.Delete", func(t *testing.T) {
		s := setup(t)
		u, wfs := owner(t, s, user.RoleEditor, 3)
		n, err := s.Remover.OwnedWorkflows(ctx, u.ID)
		count(t, "OwnedWorkflows", n, err, 3)
		_, err = s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID})
		wantErr(t, err, domain.ErrConflict)
		if !errors.Is(err, port.ErrOwnsWorkflows) {
			t.Fatalf("error = %v, want it to wrap ErrOwnsWorkflows", err)
		}
		wantErr(t, s.Users.Delete(ctx, u.ID), domain.ErrConflict)
		unchanged(t, s, u, wfs)
	})

	t.Run("transfer moves every workflow with its webhook and deliveries, and nobody else's", func(t *testing.T) {
		s := setup(t)
		u, wfs := owner(t, s, user.RoleEditor, 3)
		target, _ := owner(t, s, user.RoleEditor, 0)
		bystander, theirs := owner(t, s, user.RoleEditor, 1)
		at := base.Add(time.Hour)
		n, err := s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID, TransferTo: target.ID, At: at})
		count(t, "Remove", n, err, 3)
		_, err = s.Users.Get(ctx, u.ID)
		wantErr(t, err, domain.ErrNotFound)
		for _, wf := range wfs {
			want := *wf
			want.OwnerID, want.UpdatedAt = target.ID, at
			got, err := s.Workflows.Get(ctx, wf.ID)
			noErr(t, err)
			sameWorkflow(t, got, &want)
		}
		got, err := s.Workflows.GetByWebhookPath(ctx, wfs[0].Webhook.Path)
		noErr(t, err)
		if got.ID != wfs[0].ID || got.OwnerID != target.ID {
			t.Fatalf("webhook resolves to %s of %s, want %s of %s", got.ID, got.OwnerID, wfs[0].ID, target.ID)
		}
		if d := deliveries(t, s, wfs[0].ID); d != 1 {
			t.Fatalf("%d deliveries after the transfer, want 1", d)
		}
		unchanged(t, s, bystander, theirs)
		n, err = s.Remover.OwnedWorkflows(ctx, target.ID)
		count(t, "OwnedWorkflows", n, err, 3)
	})

	t.Run("delete workflows deletes them and their deliveries, and frees their webhook paths", func(t *testing.T) {
		s := setup(t)
		u, wfs := owner(t, s, user.RoleViewer, 2)
		n, err := s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID, DeleteWorkflows: true})
		count(t, "Remove", n, err, 2)
		for _, wf := range wfs {
			_, err := s.Workflows.Get(ctx, wf.ID)
			wantErr(t, err, domain.ErrNotFound)
		}
		if d := deliveries(t, s, wfs[0].ID); d != 0 {
			t.Fatalf("%d deliveries left, want 0", d)
		}
		_, err = s.Workflows.GetByWebhookPath(ctx, wfs[0].Webhook.Path)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.Users.Get(ctx, u.ID)
		wantErr(t, err, domain.ErrNotFound)
	})

	t.Run("check sees the count and the target, and its error aborts everything", func(t *testing.T) {
		s := setup(t)
		u, wfs := owner(t, s, user.RoleEditor, 2)
		target, _ := owner(t, s, user.RoleViewer, 0)
		refused := errors.New("target may not own workflows")
		var seenOwned int
		var seenTarget *user.User
		_, err := s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID, TransferTo: target.ID, Check: func(owned int, t *user.User) error {
			seenOwned, seenTarget = owned, t
			return refused
		}})
		wantErr(t, err, refused)
		if seenOwned != 2 || seenTarget == nil || seenTarget.ID != target.ID || seenTarget.Role != user.RoleViewer {
			t.Fatalf("Check saw owned=%d target=%+v, want 2 and %s", seenOwned, seenTarget, target.ID)
		}
		_, err = s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID, DeleteWorkflows: true, Check: func(int, *user.User) error { return refused }})
		wantErr(t, err, refused)
		unchanged(t, s, u, wfs)
	})

	t.Run("an unknown target, or the user themselves, is not found and changes nothing", func(t *testing.T) {
		s := setup(t)
		u, wfs := owner(t, s, user.RoleEditor, 1)
		for _, to := range []string{domain.NewID(), u.ID} {
			var checked bool
			_, err := s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID, TransferTo: to, Check: func(owned int, t *user.User) error {
				checked = owned == 1 && t == nil
				return nil
			}})
			wantErr(t, err, domain.ErrNotFound)
			if !checked {
				t.Fatalf("transfer to %s: Check did not see owned=1 and no target", to)
			}
			unchanged(t, s, u, wfs)
		}
	})

	t.Run("the removal stores its events, completed by Check; a refused one stores none", func(t *testing.T) {
		s := setup(t)
		trail := AuditedStores{Audit: s.Audit}
		u, wfs := owner(t, s, user.RoleEditor, 2)
		refused := changeEvent(audit.ActionUserDelete, "user", u.ID)
		_, err := s.Remover.Remove(ctx, port.UserRemoval{UserID: u.ID, Events: []audit.Event{refused}})
		wantErr(t, err, domain.ErrConflict)
		wantNoEvents(t, trail, refused)
		unchanged(t, s, u, wfs)

		events := []audit.Event{changeEvent(audit.ActionUserDelete, "user", u.ID)}
		n, err := s.Remover.Remove(ctx, port.UserRemoval{
			UserID: u.ID, DeleteWorkflows: true, Events: events,
			Check: func(owned int, _ *user.User) error {
				events[0].Metadata = map[string]string{"workflows": strconv.Itoa(owned)}
				return nil
			},
		})
		count(t, "Remove", n, err, 2)
		want := events[0]
		want.Metadata = map[string]string{"workflows": "2"}
		wantEvents(t, trail, want)
	})

	// A workflow created by the user while they are removed is transferred
	// (or deleted) with the others, or its creation fails: never orphaned,
	// never silently deleted, and the count says exactly what happened.
	for _, deleteWorkflows := range []bool{false, true} {
		name := "a transfer racing workflow creations by the user leaves none behind"
		if deleteWorkflows {
			name = "a deletion racing workflow creations by the user counts every one"
		}
		t.Run(name, func(t *testing.T) {
			s := setup(t)
			const creators, rounds = 8, 5
			for range rounds {
				u, wfs := owner(t, s, user.RoleEditor, 1)
				target, _ := owner(t, s, user.RoleAdmin, 0)
				created := make([]*workflow.Workflow, creators+1)
				for i := 1; i <= creators; i++ {
					created[i] = newWorkflow(u.ID, nil)
				}
				removal := port.UserRemoval{UserID: u.ID, At: base.Add(time.Hour)}
				if deleteWorkflows {
					removal.DeleteWorkflows = true
				} else {
					removal.TransferTo = target.ID
				}
				counts, errs := allAtOnce(creators+1, func(i int) (int, error) {
					if i == 0 {
						return s.Remover.Remove(ctx, removal)
					}
					return 0, s.Workflows.Create(ctx, created[i])
				})
				noErr(t, errs[0])
				made := 0
				for i := 1; i <= creators; i++ {
					got, err := s.Workflows.Get(ctx, created[i].ID)
					switch {
					case errs[i] != nil:
						wantErr(t, errs[i], domain.ErrConflict)
						wantErr(t, err, domain.ErrNotFound)
					case deleteWorkflows:
						made++
						wantErr(t, err, domain.ErrNotFound)
					default:
						made++
						noErr(t, err)
						if got.OwnerID != target.ID {
							t.Fatalf("workflow created in the race is owned by %s, want the target %s", got.OwnerID, target.ID)
						}
					}
				}
				t.Logf("%d creations ran before the removal, %d after it (refused)", made, creators-made)
				if counts[0] != 1+made {
					t.Fatalf("Remove counted %d workflows, but 1 existed and %d were created", counts[0], made)
				}
				n, err := s.Remover.OwnedWorkflows(ctx, u.ID)
				count(t, "OwnedWorkflows", n, err, 0)
				if _, err := s.Workflows.Get(ctx, wfs[0].ID); deleteWorkflows {
					wantErr(t, err, domain.ErrNotFound)
				} else {
					noErr(t, err)
				}
			}
		})
	}
}
