-- The security audit trail (contract §9). Rows are only ever inserted, in
-- batches, by the background audit writer. actor_id is deliberately not a
-- foreign key: events must outlive the users they name. IDs use the "C"
-- collation (byte order), the order the keyset cursor and the in-memory
-- store use for ties.
-- +goose Up
CREATE TABLE audit_events (
    id          text COLLATE "C" PRIMARY KEY,
    occurred_at timestamptz NOT NULL,
    actor_id    text COLLATE "C",
    actor_name  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    target_type text NOT NULL DEFAULT '',
    target_id   text NOT NULL DEFAULT '',
    ip          text NOT NULL DEFAULT '',
    user_agent  text NOT NULL DEFAULT '',
    outcome     text NOT NULL,
    metadata    jsonb
);

-- Listing order (newest first, then id) and its keyset cursor, unfiltered
-- and under each filter; the id column in every index lets a filtered page
-- resume from a cursor without a sort.
CREATE INDEX audit_events_occurred_at_id_idx ON audit_events (occurred_at DESC, id DESC);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, occurred_at DESC, id DESC) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at DESC, id DESC);

-- +goose Down
DROP TABLE audit_events;
