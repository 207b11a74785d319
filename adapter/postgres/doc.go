// Package postgres implements the persistence ports on Postgres with sqlx and
// lib/pq, and carries the schema as embedded goose migrations, so the same
// SQL runs in tests and in production. Driver errors are translated into
// domain errors here, at the boundary, by translate.
package postgres
