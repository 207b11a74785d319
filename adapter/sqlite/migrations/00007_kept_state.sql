-- What the in-process adapters of the embedded mode hold in memory and must
-- not lose in a restart (contract §13): token revocations (by jti, by sid,
-- a user's not-before), refresh claims, the webhook replay guard. Each row
-- lives until `until` (µs) and is swept after; kind names the map it
-- belongs to, num and text carry its value (a not-before, a successor).
-- +goose Up
CREATE TABLE kept_state (
    kind  TEXT NOT NULL,
    key   TEXT NOT NULL,
    num   INTEGER NOT NULL DEFAULT 0,
    text  TEXT NOT NULL DEFAULT '',
    until INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX kept_state_until_idx ON kept_state (until);

-- +goose Down
DROP TABLE kept_state;
