package app

import (
	"fmt"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/m9m/auth/adapter/crypto"
	httpapi "github.com/m9m/auth/adapter/http"
	"github.com/m9m/auth/adapter/metrics"
	pgadapter "github.com/m9m/auth/adapter/postgres"
	redisadapter "github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/infra/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/webhook"
	"github.com/m9m/auth/usecase/workflow"
)

// webhookEncryptionKey is security.webhook_encryption_key, supplied on its
// own so that the workflow wiring sees this one secret and nothing else of
// the security section. Empty means hmac webhooks are unavailable.
type webhookEncryptionKey string

// previousWebhookKeys is security.previous_webhook_encryption_keys: keys
// that still open secrets sealed before a rotation, never seal new ones.
type previousWebhookKeys []string

// WorkflowsModule wires workflows and webhooks (contract §7, §8): the
// Postgres workflow and execution stores, the Redis replay guard shared by
// every instance, the AES-GCM sealer for HMAC secrets (only when a webhook
// encryption key is configured), the use cases and their routes.
var WorkflowsModule = fx.Options(
	fx.Provide(
		fx.Annotate(pgadapter.NewWorkflowStore, fx.As(new(port.WorkflowStore)), fx.As(new(port.WorkflowLister))),
		fx.Annotate(pgadapter.NewExecutionStore, fx.As(new(port.ExecutionStore))),
		newReplayGuard,
		newSecretSealer,
		newWorkflowService,
		newWebhookTrigger,
		fx.Annotate(httpapi.WorkflowsRoutes, fx.ResultTags(`group:"routes"`)),
		fx.Annotate(httpapi.WebhookRoutes, fx.ResultTags(`group:"routes"`)),
	),
)

func newReplayGuard(rdb goredis.UniversalClient, prefix redis.Prefix, clock port.Clock) port.WebhookReplayGuard {
	return redisadapter.NewReplayGuard(rdb, string(prefix), clock)
}

// sealerOut carries the sealer, nil when no key is configured: creating an
// hmac webhook then answers 400 naming the missing key, other types work.
type sealerOut struct {
	fx.Out
	Sealer port.SecretSealer
}

func newSecretSealer(key webhookEncryptionKey, previous previousWebhookKeys, log *zap.Logger) (sealerOut, error) {
	if key == "" {
		log.Info("security.webhook_encryption_key is not set: hmac webhooks cannot be created")
		return sealerOut{}, nil
	}
	s, err := NewSealer(string(key), previous)
	if err != nil {
		return sealerOut{}, err
	}
	return sealerOut{Sealer: s}, nil
}

// NewSealer is the webhook secret sealer of security.webhook_encryption_key
// and security.previous_webhook_encryption_keys; `m9m webhooks reseal`
// uses it too.
func NewSealer(key string, previous []string) (*crypto.Sealer, error) {
	s, err := crypto.NewSealer(key, previous...)
	if err != nil {
		return nil, fmt.Errorf("security.webhook_encryption_key: %w", err)
	}
	return s, nil
}

type workflowParams struct {
	fx.In
	Store      port.WorkflowStore
	Lister     port.WorkflowLister
	Executions port.ExecutionStore
	Sealer     port.SecretSealer
	Clock      port.Clock
	Audit      port.AuditLog `optional:"true"`
	Stats      *metrics.Metrics
}

func newWorkflowService(p workflowParams) *workflow.Service {
	return workflow.New(workflow.Deps{
		Store: countWorkflows(p.Store, p.Stats), Lister: p.Lister, Executions: p.Executions,
		Sealer: p.Sealer, Clock: p.Clock, Audit: p.Audit,
	})
}

type webhookParams struct {
	fx.In
	Store      port.WorkflowStore
	Executions port.ExecutionStore
	Replay     port.WebhookReplayGuard
	Sealer     port.SecretSealer
	Clock      port.Clock
	Audit      port.AuditLog `optional:"true"`
	Log        *zap.Logger
}

func newWebhookTrigger(p webhookParams) *webhook.Trigger {
	l := p.Log.Named("webhook")
	return webhook.New(webhook.Deps{
		Workflows: p.Store, Executions: p.Executions, Replay: p.Replay,
		Sealer: p.Sealer, Clock: p.Clock, Audit: p.Audit,
	}, webhook.Settings{
		OnPruneError: func(workflowID string, err error) {
			l.Warn("pruning old webhook deliveries failed; will retry", zap.String("workflow_id", workflowID), zap.Error(err))
		},
	})
}
