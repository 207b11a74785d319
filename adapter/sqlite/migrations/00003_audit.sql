-- The security audit trail (contract §9), inserted in batches by the
-- background writer. actor_id is not a foreign key: events outlive users.
-- metadata is a JSON object as TEXT, or NULL.
-- +goose Up
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    occurred_at INTEGER NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL DEFAULT '',
    target_id   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL,
    metadata    TEXT CHECK (metadata IS NULL OR json_type(metadata) = 'object')
) STRICT;

CREATE INDEX audit_events_occurred_at_id_idx ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at DESC, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at DESC, id DESC);

-- +goose Down
DROP TABLE audit_events;
