-- Workflows (contract §7) and their webhooks (§8). Deleting the owner
-- deletes the workflows, as on Postgres. Webhook secrets are stored as
-- digests, the HMAC secret sealed (AES-256-GCM). nodes and connections are
-- JSON the domain has validated (an array, an object), stored compacted;
-- no json_type() CHECK, because SQLite's JSON functions refuse nesting
-- deeper than 1000, which Postgres and the contract accept.
-- +goose Up
CREATE TABLE workflows (
    id                            TEXT PRIMARY KEY,
    name                          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    active                        INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),
    nodes                         TEXT NOT NULL DEFAULT '[]',
    connections                   TEXT NOT NULL DEFAULT '{}',
    owner_id                      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    webhook_path                  TEXT,
    webhook_auth_type             TEXT CHECK (webhook_auth_type IN ('none', 'header', 'basic', 'hmac')),
    webhook_header_name           TEXT,
    webhook_header_value_digest   TEXT,
    webhook_basic_username        TEXT,
    webhook_basic_password_digest TEXT,
    webhook_hmac_secret_sealed    BLOB,
    created_at                    INTEGER NOT NULL,
    updated_at                    INTEGER NOT NULL,
    CHECK ((webhook_path IS NULL) = (webhook_auth_type IS NULL))
) STRICT;

CREATE UNIQUE INDEX workflows_webhook_path_key ON workflows (webhook_path) WHERE webhook_path IS NOT NULL;
CREATE INDEX workflows_created_at_id_idx ON workflows (created_at, id);
CREATE INDEX workflows_owner_id_idx ON workflows (owner_id);

-- +goose Down
DROP TABLE workflows;
