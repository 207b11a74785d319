-- Workflows: the protected resource (contract §7) and their webhooks (§8).
--
-- owner_id cascades: deleting a user deletes the workflows they own (and,
-- through executions.workflow_id, their deliveries). The alternative, SET
-- NULL, would leave workflows that no editor could ever change again and
-- webhooks that keep firing for an account that no longer exists; an admin
-- who wants to keep a leaver's workflows recreates them before deleting
-- the user.
--
-- Webhook secrets are never stored in the clear: header values and basic
-- passwords as SHA-256 digests, the HMAC secret sealed with AES-256-GCM
-- under security.webhook_encryption_key.
-- +goose Up
CREATE TABLE workflows (
    id                            text COLLATE "C" PRIMARY KEY,
    name                          text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    active                        boolean NOT NULL DEFAULT false,
    nodes                         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(nodes) = 'array'),
    connections                   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(connections) = 'object'),
    owner_id                      text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    webhook_path                  text COLLATE "C",
    webhook_auth_type             text CHECK (webhook_auth_type IN ('none', 'header', 'basic', 'hmac')),
    webhook_header_name           text,
    webhook_header_value_digest   text,
    webhook_basic_username        text,
    webhook_basic_password_digest text,
    webhook_hmac_secret_sealed    bytea,
    created_at                    timestamptz NOT NULL DEFAULT now(),
    updated_at                    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflows_webhook_complete CHECK ((webhook_path IS NULL) = (webhook_auth_type IS NULL))
);

-- One workflow per webhook path; workflows without a webhook never clash.
CREATE UNIQUE INDEX workflows_webhook_path_key ON workflows (webhook_path) WHERE webhook_path IS NOT NULL;

-- Keyset pagination: ORDER BY created_at, id.
CREATE INDEX workflows_created_at_id_idx ON workflows (created_at, id);

-- The cascade from users, and "my workflows".
CREATE INDEX workflows_owner_id_idx ON workflows (owner_id);

-- +goose Down
DROP TABLE workflows;
