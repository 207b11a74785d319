-- Executions: accepted webhook deliveries (contract §8). body is the
-- received JSON byte for byte (a BLOB, so nothing rewrites it); headers a
-- JSON object the service built itself.
-- +goose Up
CREATE TABLE executions (
    id          TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    received_at INTEGER NOT NULL,
    source_ip   TEXT NOT NULL DEFAULT '',
    headers     TEXT NOT NULL DEFAULT '{}' CHECK (json_type(headers) = 'object'),
    body        BLOB NOT NULL
) STRICT;

CREATE INDEX executions_workflow_received_idx ON executions (workflow_id, received_at DESC, id DESC);

-- +goose Down
DROP TABLE executions;
