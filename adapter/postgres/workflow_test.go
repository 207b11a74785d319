package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestWorkflowStore(t *testing.T) {
	db := testenv.DB(t)
	users := postgres.NewUserStore(db)
	porttest.WorkflowStore(t, func(*testing.T) porttest.WorkflowStores {
		s := postgres.NewWorkflowStore(db)
		return porttest.WorkflowStores{
			Workflows:  s,
			Lister:     s,
			Executions: postgres.NewExecutionStore(db),
			NewOwner: func(t *testing.T) string {
				t.Helper()
				u := newUser(domain.NewID())
				if err := users.Create(context.Background(), u); err != nil {
					t.Fatalf("seed owner: %v", err)
				}
				return u.ID
			},
		}
	})
}

func TestUserRemover(t *testing.T) {
	db := testenv.DB(t)
	porttest.UserRemover(t, func(*testing.T) porttest.UserRemoverStores {
		w := postgres.NewWorkflowStore(db)
		return porttest.UserRemoverStores{
			Remover: postgres.NewUserRemover(db), Users: postgres.NewUserStore(db),
			Workflows: w, Lister: w, Executions: postgres.NewExecutionStore(db), Audit: postgres.NewAuditStore(db),
		}
	})
}

// TestTheDatabaseRefusesToCascadeFromUsersToWorkflows proves the foreign
// key itself (migration 00009), not only the stores: a plain DELETE of a
// user who owns a workflow fails and leaves the workflow and its delivery.
func TestTheDatabaseRefusesToCascadeFromUsersToWorkflows(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users, wfs, execs := postgres.NewUserStore(db), postgres.NewWorkflowStore(db), postgres.NewExecutionStore(db)
	u := newUser(domain.NewID())
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	wf := storableWorkflow(u.ID, `[]`)
	wf.Webhook = &workflow.Webhook{Path: "restrict/" + domain.NewID(), Auth: workflow.WebhookAuth{Type: workflow.AuthNone}}
	if err := wfs.Create(ctx, wf); err != nil {
		t.Fatal(err)
	}
	e := &workflow.Execution{ID: domain.NewID(), WorkflowID: wf.ID, ReceivedAt: time.Now(), Body: json.RawMessage(`{}`)}
	if err := execs.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
	_, err := db.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, u.ID)
	if err == nil || !strings.Contains(err.Error(), "workflows_owner_id_fkey") {
		t.Fatalf("raw DELETE of an owner = %v, want a foreign key violation of workflows_owner_id_fkey", err)
	}
	if err := users.Delete(ctx, u.ID); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("UserStore.Delete of an owner = %v, want ErrConflict", err)
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM executions WHERE workflow_id = $1`, wf.ID); err != nil || n != 1 {
		t.Fatalf("executions of the owner's workflow: %d (%v), want 1", n, err)
	}
	// Workflows still take their deliveries with them.
	if err := wfs.Delete(ctx, wf.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM executions WHERE workflow_id = $1`, wf.ID); err != nil || n != 0 {
		t.Fatalf("executions of a deleted workflow: %d (%v), want 0", n, err)
	}
	if err := users.Delete(ctx, u.ID); err != nil {
		t.Fatalf("delete once the workflow is gone: %v", err)
	}
}

func TestWorkflowOfUnknownOwnerIsAConflict(t *testing.T) {
	err := postgres.NewWorkflowStore(testenv.DB(t)).Create(context.Background(), storableWorkflow(domain.NewID(), `[]`))
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("Create = %v, want ErrConflict", err)
	}
}

// TestWhatTheDomainAcceptsPostgresStores proves that workflow.CheckStorable
// is not too lenient: every document it accepts, jsonb stores, including
// the edges of its limits.
func TestWhatTheDomainAcceptsPostgresStores(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users, wfs := postgres.NewUserStore(db), postgres.NewWorkflowStore(db)
	u := newUser(domain.NewID())
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	docs := []string{
		`["\ud83d\ude00", "\\u0000", "é", "\u001f"]`,
		`[1e1000, -1E-1000, 0.000001e-1000]`,
		"[" + strings.Repeat("9", 1000) + "]",
		"[0." + strings.Repeat("1", 999) + "e-1000]",
		"[" + strings.TrimSuffix(strings.Repeat("1e900,", 72), ",") + "]",
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
	}
	for i, doc := range docs {
		if !json.Valid([]byte(doc)) {
			t.Fatalf("doc %d is not JSON", i)
		}
		if err := workflow.ValidateNodes(json.RawMessage(doc)); err != nil {
			t.Fatalf("doc %d refused by the domain: %v", i, err)
		}
		if err := wfs.Create(ctx, storableWorkflow(u.ID, doc)); err != nil {
			t.Errorf("doc %d accepted by the domain but not by Postgres: %v", i, err)
		}
	}
}

func storableWorkflow(owner, nodes string) *workflow.Workflow {
	now := time.Now().UTC()
	return &workflow.Workflow{
		ID: domain.NewID(), Name: "wf", Nodes: json.RawMessage(nodes), Connections: json.RawMessage(`{}`),
		OwnerID: owner, CreatedAt: now, UpdatedAt: now,
	}
}
