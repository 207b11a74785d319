package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/m9m/auth/domain"
)

// translate maps a driver error to a domain error; every store here returns
// its errors through it. The original stays wrapped for logs.
//
//   - nil → nil; a *domain.Error passes through (an Update closure's own).
//   - sql.ErrNoRows → domain.ErrNotFound.
//   - a UNIQUE or PRIMARY KEY violation → domain.ErrConflict; a FOREIGN KEY
//     violation → domain.ErrConflict too, as on Postgres, and so is a
//     trigger's RAISE(ABORT) (a user who owns workflows, migration 00010).
//   - the file busy or locked past the busy timeout, full, unreadable, not
//     openable, read-only, or a cancelled or timed-out context →
//     domain.Unavailable: 503, worth retrying, never 401 — so SQLITE_BUSY
//     can never surface as a 500.
//   - anything else → domain.Internal.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound.Wrap(err)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch code := se.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return domain.ErrConflict.Wrap(err)
		case code == sqlite3.SQLITE_CONSTRAINT_TRIGGER: // a trigger's RAISE(ABORT): a user who owns workflows
			return domain.ErrConflict.Wrap(err)
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return domain.ErrConflict.WithMessage("Resource is referenced by or refers to another resource").Wrap(err)
		case unavailableCode(code & 0xff):
			return domain.Unavailable("sqlite", err)
		}
		return domain.Internal(err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return domain.Unavailable("sqlite", err)
	}
	return domain.Internal(err)
}

// unavailableCode reports whether a primary result code means the file
// cannot serve us right now rather than that the statement is wrong.
func unavailableCode(code int) bool {
	switch code {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_NOMEM,
		sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}
