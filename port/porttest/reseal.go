package porttest

import (
	"bytes"
	"context"
	"testing"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// SealedSecretStore runs the contract of port.SealedSecretStore. setup
// returns the workflow stores and the sealed-secret store over the same data.
func SealedSecretStore(t *testing.T, setup func(t *testing.T) (WorkflowStores, port.SealedSecretStore)) {
	ctx := context.Background()
	hmacWith := func(path string, sealed []byte) *workflow.Webhook {
		h := hmacHook(path)
		h.Auth.HMACSecretSealed = sealed
		return h
	}

	t.Run("pages through every sealed secret by workflow id, and only those", func(t *testing.T) {
		ws, s := setup(t)
		owner := ws.NewOwner(t)
		mine := map[string][]byte{}
		for range 3 {
			sealed := []byte("sealed-" + domain.NewID())
			wf := newWorkflow(owner, hmacWith("reseal/"+domain.NewID(), sealed))
			noErr(t, ws.Workflows.Create(ctx, wf))
			mine[wf.ID] = sealed
		}
		plain := newWorkflow(owner, &workflow.Webhook{Path: "reseal/" + domain.NewID(), Auth: workflow.WebhookAuth{Type: workflow.AuthNone}})
		noErr(t, ws.Workflows.Create(ctx, plain))
		noHook := newWorkflow(owner, nil)
		noErr(t, ws.Workflows.Create(ctx, noHook))

		after, seen := "", 0
		for range 10_000 {
			page, err := s.ListSealedSecrets(ctx, after, 2)
			noErr(t, err)
			if len(page) > 2 {
				t.Fatalf("page of %d with limit 2", len(page))
			}
			for _, x := range page {
				if x.WorkflowID <= after {
					t.Fatalf("id %s listed after %s: not ascending", x.WorkflowID, after)
				}
				after = x.WorkflowID
				if x.WorkflowID == plain.ID || x.WorkflowID == noHook.ID {
					t.Fatalf("workflow %s without an hmac secret listed", x.WorkflowID)
				}
				if want, ok := mine[x.WorkflowID]; ok {
					if !bytes.Equal(x.Sealed, want) {
						t.Fatalf("sealed secret of %s = %q, want %q", x.WorkflowID, x.Sealed, want)
					}
					seen++
				}
			}
			if len(page) < 2 {
				break
			}
		}
		if seen != len(mine) {
			t.Fatalf("saw %d of my %d sealed secrets", seen, len(mine))
		}
		_, err := s.ListSealedSecrets(ctx, "", 0)
		wantInvalidField(t, err, "limit")
	})

	t.Run("replace swaps only a secret that is still the old one, and nothing else", func(t *testing.T) {
		ws, s := setup(t)
		old := []byte("sealed-old-" + domain.NewID())
		wf := newWorkflow(ws.NewOwner(t), hmacWith("reseal/"+domain.NewID(), old))
		noErr(t, ws.Workflows.Create(ctx, wf))

		ok, err := s.ReplaceSealedSecret(ctx, wf.ID, []byte("not-the-stored-value"), []byte("x"))
		noErr(t, err)
		if ok {
			t.Fatal("replaced a secret that was not the old one")
		}
		ok, err = s.ReplaceSealedSecret(ctx, domain.NewID(), old, []byte("x"))
		noErr(t, err)
		if ok {
			t.Fatal("replaced the secret of an unknown workflow")
		}
		resealed := []byte("sealed-new-" + domain.NewID())
		ok, err = s.ReplaceSealedSecret(ctx, wf.ID, old, resealed)
		noErr(t, err)
		if !ok {
			t.Fatal("did not replace the old secret")
		}
		got, err := ws.Workflows.Get(ctx, wf.ID)
		noErr(t, err)
		if !bytes.Equal(got.Webhook.Auth.HMACSecretSealed, resealed) {
			t.Fatalf("stored secret = %q, want %q", got.Webhook.Auth.HMACSecretSealed, resealed)
		}
		want := *wf
		hook := *wf.Webhook
		hook.Auth.HMACSecretSealed = resealed
		want.Webhook = &hook
		sameWorkflow(t, got, &want) // UpdatedAt and everything else unchanged
		ok, err = s.ReplaceSealedSecret(ctx, wf.ID, old, []byte("again"))
		noErr(t, err)
		if ok {
			t.Fatal("a second replace from the same old value won over the first")
		}
	})
}
