package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/lib/pq"

	"github.com/m9m/auth/domain"
)

// translate maps a driver error to a domain error; every repository in this
// package returns its errors through it. The original error stays wrapped
// for logs (errors.Is/As still reach it) but never reaches a client.
//
//   - nil → nil; a *domain.Error passes through unchanged (an Update
//     closure's own error, for instance).
//   - sql.ErrNoRows → domain.ErrNotFound.
//   - unique_violation (23505) → domain.ErrConflict; foreign_key_violation
//     (23503) → domain.ErrConflict too (the row refers to, or is referred to
//     by, a row that is not there / still there).
//   - a connection that cannot be made or was lost, a server shutting down,
//     out of resources, refusing our credentials or database, a
//     serialization failure or deadlock, or a timeout → domain.Unavailable:
//     503, worth retrying, never 401.
//   - anything else (SQL errors, check violations the domain should have
//     caught) → domain.Internal.
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
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		code := pqErr.SQLState()
		switch {
		case code == "23505":
			return domain.ErrConflict.Wrap(err)
		case code == "23503":
			return domain.ErrConflict.WithMessage("Resource is referenced by or refers to another resource").Wrap(err)
		case unavailableState(code):
			return domain.Unavailable("postgres", err)
		}
		return domain.Internal(err)
	}
	if isConnectionError(err) {
		return domain.Unavailable("postgres", err)
	}
	return domain.Internal(err)
}

// unavailableState reports whether SQLSTATE code means the database cannot
// serve us right now rather than that our statement is wrong.
func unavailableState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), // connection exception
		strings.HasPrefix(code, "53"), // insufficient resources (too many connections, disk full)
		strings.HasPrefix(code, "57"), // operator intervention: shutdown, cannot connect now, statement timeout
		strings.HasPrefix(code, "28"), // invalid authorization (bad credentials)
		code == "3D000",               // database does not exist
		code == "40001",               // serialization failure
		code == "40P01",               // deadlock detected
		code == "55P03":               // lock not available (lock_timeout)
		return true
	}
	return false
}

// isConnectionError reports whether err means the connection could not be
// made or was lost.
func isConnectionError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, context.Canceled)
}
