-- API keys. The key itself is never stored, only the hex SHA-256 digest of
-- the whole key and its display prefix. scopes is a JSON array of strings.
-- +goose Up
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    digest       TEXT NOT NULL CHECK (length(digest) = 64 AND digest NOT GLOB '*[^0-9a-f]*'),
    scopes       TEXT NOT NULL CHECK (json_type(scopes) = 'array'),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    grace_until  INTEGER
) STRICT;

-- The request path: one lookup by digest per API-key request.
CREATE UNIQUE INDEX api_keys_digest_key ON api_keys (digest);

-- Listing an owner's keys newest first and counting their active keys.
CREATE INDEX api_keys_owner_created_idx ON api_keys (owner_id, created_at, id);

-- +goose Down
DROP TABLE api_keys;
