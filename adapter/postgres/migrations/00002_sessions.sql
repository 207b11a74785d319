-- Login sessions: the durable record behind access tokens. Revocation itself
-- lives in Redis; this table answers "which sessions does this user have".
-- +goose Up
CREATE TABLE sessions (
    id                text COLLATE "C" PRIMARY KEY,
    user_id           text COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_refreshed_at timestamptz NOT NULL DEFAULT now(),
    ip                text NOT NULL DEFAULT '',
    user_agent        text NOT NULL DEFAULT '',
    ended_at          timestamptz
);

-- A user's live sessions (list, end all); ended sessions are not indexed.
CREATE INDEX sessions_user_id_active_idx ON sessions (user_id) WHERE ended_at IS NULL;

-- +goose Down
DROP TABLE sessions;
