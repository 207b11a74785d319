-- API-key invalidations owed to the revocation feed (contract §15). A row is
-- written in the transaction of the change it describes (insertEvents
-- derives it from the change's audit events), so a process that commits and
-- dies before publishing loses nothing: the relay publishes what is left and
-- deletes it. Exactly one of key_id (that key's cached grants must go) and
-- owner_id (every key of that user) is set, as in port.FeedEntry. No foreign
-- keys: the row must outlive a deleted key or user.
-- +goose Up
CREATE TABLE invalidation_outbox (
    id         bigserial PRIMARY KEY,
    key_id     text COLLATE "C",
    owner_id   text COLLATE "C",
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK (num_nonnulls(key_id, owner_id) = 1)
);

-- +goose Down
DROP TABLE invalidation_outbox;
