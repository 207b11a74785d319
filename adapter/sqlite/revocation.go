package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// RevocationRecord is the SQLite port.RevocationRecord: one row per (kind,
// id), merged by upserts on the one writer connection. The embedded mode's
// in-process denylist is its cache, rebuilt from it at start.
type RevocationRecord struct{ db *DB }

var _ port.RevocationRecord = (*RevocationRecord)(nil)

// NewRevocationRecord returns the record stored in db.
func NewRevocationRecord(db *DB) *RevocationRecord { return &RevocationRecord{db: db} }

// Revoke merges r into its row: the later until and not-before win (SQLite's
// max() of a NULL is NULL, hence the CASE), a recorded successor is kept.
func (s *RevocationRecord) Revoke(ctx context.Context, r session.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var nb sql.NullInt64
	if r.Kind == session.RevokeUser {
		nb = sql.NullInt64{Int64: micros(r.NotBefore), Valid: true}
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO revocations (kind, id, until, not_before, successor)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET
			until = max(until, excluded.until),
			not_before = CASE WHEN not_before IS NULL OR excluded.not_before > not_before
				THEN excluded.not_before ELSE not_before END,
			successor = coalesce(successor, excluded.successor)`,
		string(r.Kind), r.ID, micros(r.Until), nb, sql.NullString{String: r.Successor, Valid: r.Successor != ""})
	return translate(err)
}

// ClaimRefresh records jti's one successor in one upsert that matches an
// existing row only when it names the same successor: a row of another
// successor, or of a logout (none), changes nothing and the claim fails.
func (s *RevocationRecord) ClaimRefresh(ctx context.Context, jti, successor string, until time.Time) error {
	if jti == "" || successor == "" {
		return domain.Invalid(domain.FieldError{Field: "jti", Message: "jti and successor are required"})
	}
	err := oneRow(s.db.W.ExecContext(ctx, `INSERT INTO revocations (kind, id, until, successor) VALUES ('token', ?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET until = max(until, excluded.until) WHERE successor = excluded.successor`,
		jti, micros(until), successor))
	if errors.Is(err, domain.ErrNotFound) {
		return domain.ErrUnauthenticated
	}
	return err
}

type revocationRec struct {
	Kind      string         `db:"kind"`
	ID        string         `db:"id"`
	Until     int64          `db:"until"`
	NotBefore sql.NullInt64  `db:"not_before"`
	Successor sql.NullString `db:"successor"`
}

// InForce streams the revocations whose until is after now (the until
// index) from a reader to fn.
func (s *RevocationRecord) InForce(ctx context.Context, now time.Time, fn func(session.Revocation) error) error {
	rows, err := s.db.R.QueryxContext(ctx,
		`SELECT kind, id, until, not_before, successor FROM revocations WHERE until > ?`, micros(now))
	if err != nil {
		return translate(err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r revocationRec
		if err := rows.StructScan(&r); err != nil {
			return translate(err)
		}
		rev := session.Revocation{Kind: session.RevocationKind(r.Kind), ID: r.ID, Until: fromMicros(r.Until), Successor: r.Successor.String}
		if r.NotBefore.Valid {
			rev.NotBefore = fromMicros(r.NotBefore.Int64)
		}
		if err := fn(rev); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// Purge deletes the revocations whose until is not after before.
func (s *RevocationRecord) Purge(ctx context.Context, before time.Time) (int64, error) {
	n, err := affected(s.db.W.ExecContext(ctx, `DELETE FROM revocations WHERE until <= ?`, micros(before)))
	return int64(n), err
}
