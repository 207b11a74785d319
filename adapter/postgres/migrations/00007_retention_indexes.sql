-- Indexes for the retention janitor (contract §14): each purge batch finds
-- its oldest rows through an index instead of scanning the table. Built
-- CONCURRENTLY, so adding them to a large live table does not block writes
-- (hence no transaction: CONCURRENTLY cannot run inside one).
-- +goose NO TRANSACTION
-- +goose Up
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_ended_at_idx ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_idle_idx ON sessions (last_refreshed_at) WHERE ended_at IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS executions_received_at_idx ON executions (received_at);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS executions_received_at_idx;
DROP INDEX CONCURRENTLY IF EXISTS sessions_idle_idx;
DROP INDEX CONCURRENTLY IF EXISTS sessions_ended_at_idx;
