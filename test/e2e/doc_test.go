// Package e2e_test drives the real m9m service over HTTP as a client would:
// the in-process fx app on a random port (test/harness) or the built binary,
// always against the real Postgres and Redis. Every answer received through
// harness.Server.Do is checked against the OpenAPI document.
package e2e_test
