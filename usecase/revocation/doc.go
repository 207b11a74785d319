// Package revocation keeps the token denylist durable: every revocation is
// written to the durable port.RevocationRecord (Postgres, or SQLite in the
// embedded mode) before the fast copy the hot path reads (Redis), and that
// copy is rebuilt from the record when it loses its memory (contract §15).
//
// The bound on staleness, stated: a revoking call answers only after both
// writes, so once it has answered every instance's next check refuses the
// credential; a copy that lost its memory is noticed by the very next check
// (its epoch marker is read in the same round trip) and answered 503 until
// the rebuild has finished. Nothing is ever accepted on a partial copy.
package revocation
