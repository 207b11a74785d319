// Package porttest holds one contract suite per port. Every adapter of a port
// runs its suite (the in-memory fakes and the real Postgres and Redis
// adapters alike), so a fake is only trusted because it behaves like the real
// thing.
//
// Suites run their subtests one after another and tolerate data left behind
// by earlier tests (they use fresh random names and IDs), but they assume
// nothing else writes to the same store while they run: call them from a
// top-level test that does not call t.Parallel.
package porttest

import (
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
)

// base is the suites' reference time; any fixed instant works because stores
// compute expirations relative to the clock they are given.
var base = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

// wantErr fails the test unless err matches target (errors.Is).
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

// noErr fails the test on any error.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantInvalidField fails the test unless err is INVALID_REQUEST naming field.
func wantInvalidField(t *testing.T, err error, field string) {
	t.Helper()
	wantErr(t, err, domain.ErrInvalid)
	e := domain.As(err)
	for _, d := range e.Details {
		if d.Field == field {
			return
		}
	}
	t.Fatalf("details = %+v, want one naming %q", e.Details, field)
}

// sameTime fails the test unless got and want are the same instant.
func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}
