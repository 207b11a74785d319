-- Users. Times are INTEGER microseconds since the Unix epoch (UTC): exact,
-- the precision the Postgres schema keeps, and ordered as numbers, so the
-- keyset cursors compare correctly (SQLite has no timestamp type). IDs
-- compare in byte order (BINARY), the order every other store uses.
-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- Usernames are unique without regard to case (they are ASCII by the domain
-- rule, so NOCASE is exact); lookups use the same collation.
CREATE UNIQUE INDEX users_username_key ON users (username COLLATE NOCASE);

-- Keyset pagination: ORDER BY created_at, id.
CREATE INDEX users_created_at_id_idx ON users (created_at, id);

-- +goose Down
DROP TABLE users;
