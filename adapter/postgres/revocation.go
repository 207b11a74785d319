package postgres

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// RevocationRecord is the Postgres port.RevocationRecord: one row per
// (kind, id), merged in place by upserts, so a revocation written twice (a
// retry, two instances) is one row.
type RevocationRecord struct {
	db *sqlx.DB
}

var _ port.RevocationRecord = (*RevocationRecord)(nil)

// NewRevocationRecord returns a record over db.
func NewRevocationRecord(db *sqlx.DB) *RevocationRecord {
	return &RevocationRecord{db: db}
}

type revocationRow struct {
	Kind      string         `db:"kind"`
	ID        string         `db:"id"`
	Until     time.Time      `db:"until"`
	NotBefore sql.NullTime   `db:"not_before"`
	Successor sql.NullString `db:"successor"`
}

func (r revocationRow) toRevocation() session.Revocation {
	return session.Revocation{
		Kind: session.RevocationKind(r.Kind), ID: r.ID, Until: r.Until.UTC(),
		NotBefore: r.NotBefore.Time.UTC(), Successor: r.Successor.String,
	}
}

// revokeUpsert merges a revocation into its row: GREATEST skips NULLs, so a
// not-before only ever moves forward, and a recorded successor is kept.
const revokeUpsert = `
	INSERT INTO revocations (kind, id, until, not_before, successor) VALUES ($1, $2, $3, $4, $5)
	ON CONFLICT (kind, id) DO UPDATE SET
		until = GREATEST(revocations.until, EXCLUDED.until),
		not_before = GREATEST(revocations.not_before, EXCLUDED.not_before),
		successor = COALESCE(revocations.successor, EXCLUDED.successor)`

// Revoke records r, merged with its row.
func (s *RevocationRecord) Revoke(ctx context.Context, r session.Revocation) error {
	if err := r.Validate(); err != nil {
		return err
	}
	var nb sql.NullTime
	if r.Kind == session.RevokeUser {
		nb = sql.NullTime{Time: r.NotBefore.UTC(), Valid: true}
	}
	succ := sql.NullString{String: r.Successor, Valid: r.Successor != ""}
	_, err := s.db.ExecContext(ctx, revokeUpsert, string(r.Kind), r.ID, r.Until.UTC(), nb, succ)
	return translate(err)
}

// claimUpsert inserts the claim, or matches the row only when it records the
// same successor: one statement, so two instances claiming at once are
// serialised by the primary key, and the loser sees the winner's row. A row
// without a successor (a logout) never matches.
const claimUpsert = `
	INSERT INTO revocations (kind, id, until, successor) VALUES ('token', $1, $2, $3)
	ON CONFLICT (kind, id) DO UPDATE SET until = GREATEST(revocations.until, EXCLUDED.until)
	WHERE revocations.successor = EXCLUDED.successor`

// ClaimRefresh records jti's one successor; the first one wins.
func (s *RevocationRecord) ClaimRefresh(ctx context.Context, jti, successor string, until time.Time) error {
	if jti == "" || successor == "" {
		return domain.Invalid(domain.FieldError{Field: "jti", Message: "jti and successor are required"})
	}
	res, err := s.db.ExecContext(ctx, claimUpsert, jti, until.UTC(), successor)
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return domain.ErrUnauthenticated // another successor, or logged out
	}
	return nil
}

// InForce streams every revocation whose until is after now (the until
// index serves it) to fn.
func (s *RevocationRecord) InForce(ctx context.Context, now time.Time, fn func(session.Revocation) error) error {
	rows, err := s.db.QueryxContext(ctx,
		`SELECT kind, id, until, not_before, successor FROM revocations WHERE until > $1`, now.UTC())
	if err != nil {
		return translate(err)
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		var r revocationRow
		if err := rows.StructScan(&r); err != nil {
			return translate(err)
		}
		if err := fn(r.toRevocation()); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// Purge deletes the revocations whose until is not after before.
func (s *RevocationRecord) Purge(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM revocations WHERE until <= $1`, before.UTC())
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}
