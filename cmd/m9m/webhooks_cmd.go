package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/spf13/cobra"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/cmd/m9m/app"
	"github.com/m9m/auth/infra/config"
	"github.com/m9m/auth/usecase/webhook"
)

// resealRounds bounds how often reseal starts over because secrets changed
// under it (each round re-reads everything; a settled store needs one).
const resealRounds = 3

func newWebhooksCmd(flags *rootFlags) *cobra.Command {
	cmd := &cobra.Command{Use: "webhooks", Short: "Administer webhooks"}
	cmd.AddCommand(&cobra.Command{
		Use:   "reseal",
		Short: "Re-seal every hmac webhook secret with the current security.webhook_encryption_key",
		Long: "After a key rotation (the old key moved to security.previous_webhook_encryption_keys and every\n" +
			"instance restarted), re-seal every hmac secret with the current key, in batches. Safe while the\n" +
			"service runs and re-runnable. When it reports every secret resealed, the previous keys can be dropped.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDatabase(cmd, flags, func(ctx context.Context, cfg *config.Config, db *sqlx.DB) error {
				return runReseal(ctx, cmd, cfg, db)
			})
		},
	})
	return cmd
}

// runReseal reseals every secret, starting over while secrets change under it.
func runReseal(ctx context.Context, cmd *cobra.Command, cfg *config.Config, db *sqlx.DB) error {
	if cfg.Security.WebhookEncryptionKey == "" {
		return errors.New("security.webhook_encryption_key is not set: there is no key to reseal with")
	}
	sealer, err := app.NewSealer(cfg.Security.WebhookEncryptionKey, cfg.Security.PreviousWebhookEncryptionKeys)
	if err != nil {
		return err
	}
	store := pgadapter.NewWorkflowStore(db)
	var r webhook.ResealResult
	resealed := 0
	for range resealRounds {
		if r, err = webhook.Reseal(ctx, store, sealer, 0); err != nil {
			return err
		}
		resealed += r.Resealed
		if r.Changed == 0 {
			break
		}
	}
	_, _ = fmt.Fprintf(cmd.OutOrStdout(), "checked %d hmac secrets: %d resealed with the current key, %d already sealed with it\n",
		r.Checked, resealed, max(0, r.Checked-resealed-len(r.Unreadable)-r.Changed))
	switch {
	case len(r.Unreadable) > 0:
		return fmt.Errorf("%d secrets open with no configured key (workflows %s): keep the key that sealed them in "+
			"security.previous_webhook_encryption_keys, or give those webhooks a new secret", len(r.Unreadable), strings.Join(r.Unreadable, ", "))
	case r.Changed > 0:
		return fmt.Errorf("%d secrets kept changing while resealing; make sure every instance runs with the current key, then run again", r.Changed)
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), "every hmac secret is sealed with the current key: security.previous_webhook_encryption_keys can be emptied")
	return err
}
