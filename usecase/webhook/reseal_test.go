package webhook_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/crypto"
	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/webhook"
)

const (
	k1 = "reseal-test-key-one-0123456789abcdef"
	k2 = "reseal-test-key-two-fedcba9876543210"
)

func sealerOf(t *testing.T, key string, previous ...string) *crypto.Sealer {
	t.Helper()
	s, err := crypto.NewSealer(key, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func hmacWorkflow(t *testing.T, store *memory.WorkflowStore, sealer port.SecretSealer, secret string) string {
	t.Helper()
	sealed, err := sealer.Seal([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	wf := &workflow.Workflow{
		ID: domain.NewID(), Name: "w", OwnerID: domain.NewID(), CreatedAt: now, UpdatedAt: now,
		Webhook: &workflow.Webhook{Path: "p/" + domain.NewID(), Auth: workflow.WebhookAuth{Type: workflow.AuthHMAC, HMACSecretSealed: sealed}},
	}
	if err := store.Create(context.Background(), wf); err != nil {
		t.Fatal(err)
	}
	return wf.ID
}

func TestResealMovesEverySecretToTheCurrentKeyAndIsReRunnable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := memory.NewWorkflowStore()
	old, rotated := sealerOf(t, k1), sealerOf(t, k2, k1)
	var ids []string
	for i := range 7 {
		ids = append(ids, hmacWorkflow(t, store, old, "secret-number-"+string(rune('a'+i))))
	}
	ids = append(ids, hmacWorkflow(t, store, rotated, "already-current"))
	lost := hmacWorkflow(t, store, sealerOf(t, "a-key-nobody-has-any-more-0123456789"), "lost")

	r, err := webhook.Reseal(ctx, store, rotated, 3)
	if err != nil {
		t.Fatal(err)
	}
	if r.Checked != 9 || r.Resealed != 7 || r.Changed != 0 || !slices.Equal(r.Unreadable, []string{lost}) {
		t.Fatalf("first run = %+v, want 9 checked, 7 resealed, %s unreadable", r, lost)
	}
	current := sealerOf(t, k2)
	for _, id := range ids {
		wf, err := store.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := current.Open(wf.Webhook.Auth.HMACSecretSealed); err != nil {
			t.Fatalf("workflow %s does not open with the current key alone after reseal: %v", id, err)
		}
	}
	r, err = webhook.Reseal(ctx, store, rotated, 0)
	if err != nil || r.Checked != 9 || r.Resealed != 0 {
		t.Fatalf("second run = %+v, %v; want nothing left to reseal", r, err)
	}
}

// racingStore changes every secret between the reseal's read and its write,
// as a concurrent update would.
type racingStore struct{ *memory.WorkflowStore }

func (s racingStore) ReplaceSealedSecret(ctx context.Context, id string, old, sealed []byte) (bool, error) {
	if _, err := s.WorkflowStore.ReplaceSealedSecret(ctx, id, old, []byte("written-by-a-concurrent-update")); err != nil {
		return false, err
	}
	return s.WorkflowStore.ReplaceSealedSecret(ctx, id, old, sealed)
}

func TestResealLetsAConcurrentUpdateWin(t *testing.T) {
	t.Parallel()
	store := memory.NewWorkflowStore()
	id := hmacWorkflow(t, store, sealerOf(t, k1), "s")
	r, err := webhook.Reseal(context.Background(), racingStore{store}, sealerOf(t, k2, k1), 0)
	if err != nil || r.Resealed != 0 || r.Changed != 1 {
		t.Fatalf("reseal = %+v, %v; want the concurrent update counted, not overwritten", r, err)
	}
	wf, err := store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if string(wf.Webhook.Auth.HMACSecretSealed) != "written-by-a-concurrent-update" {
		t.Fatal("the reseal overwrote a concurrent update")
	}
}
