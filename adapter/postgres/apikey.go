package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// APIKeyStore is the Postgres port.APIKeyStore and port.APIKeyAuthStore.
type APIKeyStore struct {
	db *sqlx.DB
	// stmts holds the request path's digest lookup, prepared once.
	stmts stmtCache
}

var (
	_ port.APIKeyStore     = (*APIKeyStore)(nil)
	_ port.APIKeyAuthStore = (*APIKeyStore)(nil)
)

// NewAPIKeyStore returns a store over db.
func NewAPIKeyStore(db *sqlx.DB) *APIKeyStore {
	return &APIKeyStore{db: db}
}

// apiKeyColumns is the explicit column list every query selects.
const apiKeyColumns = `id, owner_id, name, prefix, digest, scopes, created_at, expires_at, last_used_at, revoked_at, grace_until` //nolint:gosec // G101: column names, not a credential

type apiKeyRow struct {
	ID         string         `db:"id"`
	OwnerID    string         `db:"owner_id"`
	Name       string         `db:"name"`
	Prefix     string         `db:"prefix"`
	Digest     string         `db:"digest"`
	Scopes     pq.StringArray `db:"scopes"`
	CreatedAt  time.Time      `db:"created_at"`
	ExpiresAt  sql.NullTime   `db:"expires_at"`
	LastUsedAt sql.NullTime   `db:"last_used_at"`
	RevokedAt  sql.NullTime   `db:"revoked_at"`
	GraceUntil sql.NullTime   `db:"grace_until"`
}

func toNullTime(t *time.Time) sql.NullTime {
	if t == nil {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

func fromNullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

func toAPIKeyRow(k apikey.Key) apiKeyRow {
	scopes := make(pq.StringArray, len(k.Scopes))
	for i, p := range k.Scopes {
		scopes[i] = string(p)
	}
	return apiKeyRow{
		ID:         k.ID,
		OwnerID:    k.OwnerID,
		Name:       k.Name,
		Prefix:     k.Prefix,
		Digest:     k.Digest,
		Scopes:     scopes,
		CreatedAt:  k.CreatedAt.UTC(),
		ExpiresAt:  toNullTime(k.ExpiresAt),
		LastUsedAt: toNullTime(k.LastUsedAt),
		RevokedAt:  toNullTime(k.RevokedAt),
		GraceUntil: toNullTime(k.GraceUntil),
	}
}

func (r apiKeyRow) toKey() apikey.Key {
	scopes := make([]user.Permission, len(r.Scopes))
	for i, s := range r.Scopes {
		scopes[i] = user.Permission(s)
	}
	return apikey.Key{
		ID:         r.ID,
		OwnerID:    r.OwnerID,
		Name:       r.Name,
		Prefix:     r.Prefix,
		Digest:     r.Digest,
		Scopes:     scopes,
		CreatedAt:  r.CreatedAt.UTC(),
		ExpiresAt:  fromNullTime(r.ExpiresAt),
		LastUsedAt: fromNullTime(r.LastUsedAt),
		RevokedAt:  fromNullTime(r.RevokedAt),
		GraceUntil: fromNullTime(r.GraceUntil),
	}
}

const insertAPIKey = `
	INSERT INTO api_keys (` + apiKeyColumns + `)
	VALUES (:id, :owner_id, :name, :prefix, :digest, :scopes, :created_at, :expires_at, :last_used_at, :revoked_at, :grace_until)`

// Create inserts k after locking its owner's row, so the active-key count
// and the insert are atomic per owner: concurrent creates for one owner
// queue on the lock (FOR NO KEY UPDATE conflicts with itself but not with
// the FK checks of other inserts).
func (s *APIKeyStore) Create(ctx context.Context, k apikey.Key, maxActive int, events ...audit.Event) error {
	return inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var one int
		err := tx.GetContext(ctx, &one, `SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE`, k.OwnerID)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound.WithMessage("Owner not found")
		}
		if err != nil {
			return translate(err)
		}
		if maxActive > 0 {
			var n int
			err := tx.GetContext(ctx, &n, `
				SELECT count(*) FROM api_keys WHERE owner_id = $1 AND `+usableAt2,
				k.OwnerID, k.CreatedAt.UTC())
			if err != nil {
				return translate(err)
			}
			if n >= maxActive {
				return domain.ErrConflict.Wrap(port.ErrKeyLimit)
			}
		}
		if _, err = tx.NamedExecContext(ctx, insertAPIKey, toAPIKeyRow(k)); err != nil {
			return translate(err)
		}
		return insertEvents(ctx, tx, events)
	})
}

// usableAt2 is apikey.Key.Usable at $2 in SQL: not expired, and not
// revoked or inside a rotation's grace. Every count against
// max_per_user uses it, so a key in its grace counts.
const usableAt2 = `(revoked_at IS NULL OR grace_until > $2) AND (expires_at IS NULL OR expires_at > $2)`

// Get returns the key with id.
func (s *APIKeyStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	var r apiKeyRow
	if err := s.db.GetContext(ctx, &r, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id); err != nil {
		return nil, translate(err)
	}
	k := r.toKey()
	return &k, nil
}

// ListByOwner pages through ownerID's live keys, newest first, reading one
// row past the page to learn whether another page follows.
func (s *APIKeyStore) ListByOwner(ctx context.Context, ownerID string, liveAt time.Time, cursor string, limit int) ([]apikey.Key, string, error) {
	if err := checkLimit(limit, port.MaxListLimit); err != nil {
		return nil, "", err
	}
	const q = `SELECT ` + apiKeyColumns + ` FROM api_keys
		WHERE owner_id = $1 AND (revoked_at IS NULL OR grace_until > $2)`
	var rows []apiKeyRow
	var err error
	if cursor == "" {
		err = s.db.SelectContext(ctx, &rows, q+` ORDER BY created_at DESC, id DESC LIMIT $3`,
			ownerID, liveAt.UTC(), limit+1)
	} else {
		k, cerr := decodeCursor(cursor)
		if cerr != nil {
			return nil, "", cerr
		}
		err = s.db.SelectContext(ctx, &rows, q+` AND (created_at, id) < ($3, $4) ORDER BY created_at DESC, id DESC LIMIT $5`,
			ownerID, liveAt.UTC(), k.T, k.ID, limit+1)
	}
	if err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, limit, func(r apiKeyRow) pageKey { return pageKey{T: r.CreatedAt, ID: r.ID} })
	return mapRows(rows, apiKeyRow.toKey), next, nil
}

// updateInTx locks the key with id, applies fn and stores the result.
func updateAPIKeyInTx(ctx context.Context, tx *sqlx.Tx, id string, fn func(*apikey.Key) error) (*apikey.Key, error) {
	var r apiKeyRow
	if err := tx.GetContext(ctx, &r, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1 FOR UPDATE`, id); err != nil {
		return nil, translate(err)
	}
	cur := r.toKey()
	next := r.toKey()
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.OwnerID, next.Digest, next.Prefix, next.CreatedAt = cur.ID, cur.OwnerID, cur.Digest, cur.Prefix, cur.CreatedAt
	var stored apiKeyRow
	err := sqlxNamedGet(ctx, tx, &stored, `
		UPDATE api_keys
		SET name = :name, scopes = :scopes, expires_at = :expires_at, last_used_at = :last_used_at,
		    revoked_at = :revoked_at, grace_until = :grace_until
		WHERE id = :id
		RETURNING `+apiKeyColumns, toAPIKeyRow(next))
	if err != nil {
		return nil, translate(err)
	}
	k := stored.toKey()
	return &k, nil
}

// Update runs fn on the key with id under its row lock.
func (s *APIKeyStore) Update(ctx context.Context, id string, fn func(*apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	var out *apikey.Key
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		if out, err = updateAPIKeyInTx(ctx, tx, id, fn); err != nil {
			return err
		}
		return insertEvents(ctx, tx, events)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Rotate retires the key with id through fn and inserts successor in the
// same transaction.
func (s *APIKeyStore) Rotate(ctx context.Context, id string, successor apikey.Key, maxActive int, fn func(old *apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	var out *apikey.Key
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// The owner first, as Create locks it: counts and inserts of one
		// owner's keys are serialized, in one lock order.
		var one int
		if err := tx.GetContext(ctx, &one, `SELECT 1 FROM users
			WHERE id = (SELECT owner_id FROM api_keys WHERE id = $1) FOR NO KEY UPDATE`, id); err != nil {
			return translate(err)
		}
		var err error
		if out, err = updateAPIKeyInTx(ctx, tx, id, fn); err != nil {
			return err
		}
		if at := successor.CreatedAt.UTC(); maxActive > 0 && out.Usable(at) {
			var n int
			if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM api_keys WHERE owner_id = $1 AND `+usableAt2, out.OwnerID, at); err != nil {
				return translate(err)
			}
			if n >= maxActive {
				return domain.ErrConflict.Wrap(port.ErrKeyLimit)
			}
		}
		if _, err = tx.NamedExecContext(ctx, insertAPIKey, toAPIKeyRow(successor)); err != nil {
			return translate(err)
		}
		return insertEvents(ctx, tx, events)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type keyGrantRow struct {
	apiKeyRow
	OwnerUsername string `db:"owner_username"`
	OwnerRole     string `db:"owner_role"`
	OwnerDisabled bool   `db:"owner_disabled"`
}

const selectKeyGrant = `
	SELECT k.id, k.owner_id, k.name, k.prefix, k.digest, k.scopes, k.created_at, k.expires_at,
	       k.last_used_at, k.revoked_at, k.grace_until,
	       u.username AS owner_username, u.role AS owner_role, u.disabled AS owner_disabled
	FROM api_keys k JOIN users u ON u.id = k.owner_id
	WHERE k.digest = $1`

// GetByDigest reads the key and its owner in one query (one round trip, as
// a prepared statement): the unique digest index finds the key, the users
// primary key its owner. It writes nothing.
func (s *APIKeyStore) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	st, err := s.stmts.get(ctx, s.db, selectKeyGrant) //nolint:sqlclosecheck // shared prepared statement, not ours to close
	if err != nil {
		return nil, err
	}
	var r keyGrantRow
	if err := st.GetContext(ctx, &r, digest); err != nil {
		return nil, translate(err)
	}
	return &port.KeyGrant{
		Key:           r.toKey(),
		OwnerUsername: r.OwnerUsername,
		OwnerRole:     user.Role(r.OwnerRole),
		OwnerDisabled: r.OwnerDisabled,
	}, nil
}

// TouchLastUsed moves last_used_at forward for a batch of keys in one
// statement; GREATEST semantics keep instances that flush out of order from
// moving it back.
func (s *APIKeyStore) TouchLastUsed(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	ids := make(pq.StringArray, 0, len(seen))
	times := make(pq.StringArray, 0, len(seen))
	for id, at := range seen {
		ids = append(ids, id)
		times = append(times, at.UTC().Format(time.RFC3339Nano))
	}
	_, err := s.db.ExecContext(ctx, `
		UPDATE api_keys k SET last_used_at = v.at
		FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)
		WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)`, ids, times)
	return translate(err)
}
