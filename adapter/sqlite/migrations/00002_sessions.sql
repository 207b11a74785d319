-- Login sessions: the durable record behind access tokens.
-- +goose Up
CREATE TABLE sessions (
    id                TEXT PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at        INTEGER NOT NULL,
    last_refreshed_at INTEGER NOT NULL,
    ip                TEXT NOT NULL DEFAULT '',
    user_agent        TEXT NOT NULL DEFAULT '',
    ended_at          INTEGER
) STRICT;

-- A user's live sessions (list, end all); ended sessions are not indexed.
CREATE INDEX sessions_user_id_active_idx ON sessions (user_id) WHERE ended_at IS NULL;

-- +goose Down
DROP TABLE sessions;
