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

func TestDeletingAUserDeletesItsWorkflowsAndExecutions(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users, wfs, execs := postgres.NewUserStore(db), postgres.NewWorkflowStore(db), postgres.NewExecutionStore(db)
	u := newUser(domain.NewID())
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	wf := storableWorkflow(u.ID, `[]`)
	wf.Webhook = &workflow.Webhook{Path: "cascade/" + domain.NewID(), Auth: workflow.WebhookAuth{Type: workflow.AuthNone}}
	if err := wfs.Create(ctx, wf); err != nil {
		t.Fatal(err)
	}
	e := &workflow.Execution{ID: domain.NewID(), WorkflowID: wf.ID, ReceivedAt: time.Now(), Body: json.RawMessage(`{}`)}
	if err := execs.Create(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := wfs.Get(ctx, wf.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("workflow of a deleted user: Get = %v, want ErrNotFound", err)
	}
	var n int
	if err := db.GetContext(ctx, &n, `SELECT count(*) FROM executions WHERE workflow_id = $1`, wf.ID); err != nil || n != 0 {
		t.Fatalf("executions of a deleted user's workflow: %d (%v), want 0", n, err)
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
