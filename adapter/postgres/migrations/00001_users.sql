-- Users. IDs are opaque ASCII, so they use the "C" collation: byte order,
-- the same order the keyset cursor and every other store use.
-- +goose Up
CREATE TABLE users (
    id            text COLLATE "C" PRIMARY KEY,
    username      text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Usernames are unique without regard to case; lookups use the same expression.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));

-- Keyset pagination: ORDER BY created_at, id.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

-- +goose Down
DROP TABLE users;
