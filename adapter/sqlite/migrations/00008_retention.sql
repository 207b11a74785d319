-- Indexes for the retention janitor (contract §14): each purge batch finds
-- its rows through an index instead of scanning the table (audit events
-- already have one on occurred_at). Partial indexes keep them to the rows a
-- purge can match.
-- +goose Up
CREATE INDEX sessions_ended_at_idx ON sessions (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX sessions_idle_idx ON sessions (last_refreshed_at) WHERE ended_at IS NULL;
CREATE INDEX executions_received_at_idx ON executions (received_at);

-- +goose Down
DROP INDEX executions_received_at_idx;
DROP INDEX sessions_idle_idx;
DROP INDEX sessions_ended_at_idx;
