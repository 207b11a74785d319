-- API keys. The key itself is never stored: digest is the hex SHA-256 of
-- the whole key (≈190 bits of entropy, so a fast unsalted hash cannot be
-- reversed or brute-forced), and prefix its first 10 characters for
-- display. A dump of this table yields no usable key.
-- +goose Up
CREATE TABLE api_keys (
    id           text COLLATE "C" PRIMARY KEY,
    owner_id     text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    digest       text COLLATE "C" NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    grace_until  timestamptz
);

-- The request path: one lookup by digest per API-key request.
CREATE UNIQUE INDEX api_keys_digest_key ON api_keys (digest);

-- Listing an owner's keys newest first (keyset over created_at, id) and
-- counting an owner's active keys.
CREATE INDEX api_keys_owner_created_idx ON api_keys (owner_id, created_at, id);

-- +goose Down
DROP TABLE api_keys;
