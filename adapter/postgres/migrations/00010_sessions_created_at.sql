-- The login throttle's known clients are rebuilt from the sessions created
-- within known_client_ttl after Redis lost its memory (KnownClientSource):
-- this index serves its keyset pages over (created_at, id). Built
-- CONCURRENTLY, so adding it to a large live table does not block logins.
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_created_at_idx ON sessions (created_at, id);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS sessions_created_at_idx;
