-- The durable record of every revocation the Redis token denylist enforces
-- (contract §15): Redis is a cache rebuilt from this table when it loses its
-- memory. No foreign key to users: a deleted user's not-before must outlive
-- the user's row. Rows are worth keeping only while until is in the future.
-- +goose Up
CREATE TABLE revocations (
    kind       text NOT NULL CHECK (kind IN ('token', 'session', 'user')),
    id         text COLLATE "C" NOT NULL,
    until      timestamptz NOT NULL,
    not_before timestamptz,
    successor  text COLLATE "C",
    PRIMARY KEY (kind, id)
);

-- The rebuild reads what is still in force; the purge deletes the rest.
CREATE INDEX revocations_until_idx ON revocations (until);

-- +goose Down
DROP TABLE revocations;
