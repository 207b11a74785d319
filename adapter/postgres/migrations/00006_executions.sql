-- Executions: accepted webhook deliveries (contract §8).
--
-- body is `json`, not `jsonb`, on purpose: it keeps the body exactly as
-- received (so an hmac signature can be re-checked against it), and it
-- accepts every body RFC 8259 allows, where jsonb refuses "\u0000" and
-- rewrites 1e300 as 301 digits (a 1 MiB body could come back hundreds of
-- times larger). Headers, which the service builds itself, are jsonb.
-- +goose Up
CREATE TABLE executions (
    id          text COLLATE "C" PRIMARY KEY,
    workflow_id text COLLATE "C" NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    received_at timestamptz NOT NULL,
    source_ip   text NOT NULL DEFAULT '',
    headers     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
    body        json NOT NULL
);

-- A workflow's deliveries, newest first (listing and pruning).
CREATE INDEX executions_workflow_received_idx ON executions (workflow_id, received_at DESC, id DESC);

-- +goose Down
DROP TABLE executions;
