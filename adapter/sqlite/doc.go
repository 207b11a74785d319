// Package sqlite implements the persistence ports of the embedded mode
// (contract §13) on one SQLite file, with modernc.org/sqlite (pure Go: no
// cgo, so the binary stays static and cross-compiles) through sqlx, and
// carries its own embedded goose migrations.
//
// It is a second, idiomatic implementation beside adapter/postgres rather
// than one repository set over a dialect seam: nearly every statement that
// matters differs (row locks vs one writer, unnest and arrays vs json_each,
// timestamptz vs integer microseconds, advisory locks vs a file lock), and
// the Postgres adapter keeps its own wins (prepared hot queries, unnest
// batches) untouched. What both must agree on is pinned by the contract
// suites in port/porttest, which every store here passes.
//
// Concurrency: the file is opened in WAL mode with foreign keys on and a
// busy timeout, through two pools. Writes go through a pool of exactly one
// connection and start with BEGIN IMMEDIATE, so writers queue in Go (never
// SQLITE_BUSY between them) and every read-modify-write transaction (a
// key-limit check and its insert, an Update closure) is serialized as a
// Postgres row lock would serialize it. Reads go through a small pool of
// read-only connections, which WAL lets run beside the writer.
package sqlite
