-- The embedded mode's durable record of revocations (contract §15), the same
-- port.RevocationRecord as Postgres's: the in-process denylist is rebuilt
-- from it at start. kept_state now holds the webhook replay guard only.
-- Times are µs; not_before only for a user's revocation, successor only for
-- a token a refresh rotated. No foreign key: a deleted user's not-before
-- must outlive the user's row.
-- +goose Up
CREATE TABLE revocations (
    kind       TEXT NOT NULL CHECK (kind IN ('token', 'session', 'user')),
    id         TEXT NOT NULL,
    until      INTEGER NOT NULL,
    not_before INTEGER,
    successor  TEXT,
    PRIMARY KEY (kind, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX revocations_until_idx ON revocations (until);

-- +goose Down
DROP TABLE revocations;
