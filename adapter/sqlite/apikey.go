package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// APIKeyStore is the SQLite port.APIKeyStore and port.APIKeyAuthStore.
type APIKeyStore struct {
	db *DB
	// grant is the request path's digest lookup, prepared once on the
	// reader pool (database/sql re-prepares it per connection), so each
	// API-key request skips parsing and planning it.
	grantMu sync.Mutex
	grant   *sqlx.Stmt
}

var (
	_ port.APIKeyStore     = (*APIKeyStore)(nil)
	_ port.APIKeyAuthStore = (*APIKeyStore)(nil)
)

// NewAPIKeyStore returns a store over db.
func NewAPIKeyStore(db *DB) *APIKeyStore { return &APIKeyStore{db: db} }

const keyCols = `id, owner_id, name, prefix, digest, scopes, created_at, expires_at, last_used_at, revoked_at, grace_until` //nolint:gosec // G101: column names

type keyRec struct {
	ID       string        `db:"id"`
	OwnerID  string        `db:"owner_id"`
	Name     string        `db:"name"`
	Prefix   string        `db:"prefix"`
	Digest   string        `db:"digest"`
	Scopes   string        `db:"scopes"` // JSON array
	Created  int64         `db:"created_at"`
	Expires  sql.NullInt64 `db:"expires_at"`
	LastUsed sql.NullInt64 `db:"last_used_at"`
	Revoked  sql.NullInt64 `db:"revoked_at"`
	Grace    sql.NullInt64 `db:"grace_until"`
}

func keyRecOf(k apikey.Key) (keyRec, error) {
	scopes := make([]string, len(k.Scopes))
	for i, p := range k.Scopes {
		scopes[i] = string(p)
	}
	b, err := json.Marshal(scopes)
	if err != nil {
		return keyRec{}, domain.Internal(err)
	}
	return keyRec{
		ID: k.ID, OwnerID: k.OwnerID, Name: k.Name, Prefix: k.Prefix, Digest: k.Digest, Scopes: string(b),
		Created: micros(k.CreatedAt), Expires: nullMicros(k.ExpiresAt), LastUsed: nullMicros(k.LastUsedAt),
		Revoked: nullMicros(k.RevokedAt), Grace: nullMicros(k.GraceUntil),
	}, nil
}

func (r keyRec) key() (apikey.Key, error) {
	var scopes []string
	if err := json.Unmarshal([]byte(r.Scopes), &scopes); err != nil {
		return apikey.Key{}, domain.Internal(err)
	}
	perms := make([]user.Permission, len(scopes))
	for i, s := range scopes {
		perms[i] = user.Permission(s)
	}
	return apikey.Key{
		ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Prefix: r.Prefix, Digest: r.Digest, Scopes: perms,
		CreatedAt: fromMicros(r.Created), ExpiresAt: fromNullMicros(r.Expires), LastUsedAt: fromNullMicros(r.LastUsed),
		RevokedAt: fromNullMicros(r.Revoked), GraceUntil: fromNullMicros(r.Grace),
	}, nil
}

const insertKey = `INSERT INTO api_keys (` + keyCols + `)
	VALUES (:id, :owner_id, :name, :prefix, :digest, :scopes, :created_at, :expires_at, :last_used_at, :revoked_at, :grace_until)`

func insertKeyTx(ctx context.Context, tx *sqlx.Tx, k apikey.Key) error {
	r, err := keyRecOf(k)
	if err != nil {
		return err
	}
	_, err = tx.NamedExecContext(ctx, insertKey, r)
	return translate(err)
}

// Create inserts k if its owner holds fewer than maxActive usable keys. The
// count and the insert share one write transaction, and write transactions
// run one at a time, so concurrent creates cannot overshoot.
func (s *APIKeyStore) Create(ctx context.Context, k apikey.Key, maxActive int, events ...audit.Event) error {
	return s.db.audited(ctx, events, func(tx *sqlx.Tx) error {
		var one int
		err := tx.GetContext(ctx, &one, `SELECT 1 FROM users WHERE id = ?`, k.OwnerID)
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound.WithMessage("Owner not found")
		}
		if err != nil {
			return translate(err)
		}
		if err := underLimit(ctx, tx, k.OwnerID, k.CreatedAt, maxActive); err != nil {
			return err
		}
		return insertKeyTx(ctx, tx, k)
	})
}

// usableAt is apikey.Key.Usable at the parameter :at: not expired, and not
// revoked or inside a rotation's grace. Every count against max_per_user
// uses it, so a key in its grace counts.
const usableAt = `(revoked_at IS NULL OR grace_until > :at) AND (expires_at IS NULL OR expires_at > :at)`

// underLimit is domain.ErrConflict wrapping port.ErrKeyLimit when ownerID
// already holds maxActive keys usable at at (maxActive <= 0: no limit).
func underLimit(ctx context.Context, tx *sqlx.Tx, ownerID string, at time.Time, maxActive int) error {
	if maxActive <= 0 {
		return nil
	}
	var usable int
	if err := tx.GetContext(ctx, &usable, `SELECT count(*) FROM api_keys WHERE owner_id = :owner AND `+usableAt,
		sql.Named("owner", ownerID), sql.Named("at", micros(at))); err != nil {
		return translate(err)
	}
	if usable >= maxActive {
		return domain.ErrConflict.Wrap(port.ErrKeyLimit)
	}
	return nil
}

// Get returns the key with id.
func (s *APIKeyStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	return oneKey(ctx, s.db.R, `SELECT `+keyCols+` FROM api_keys WHERE id = ?`, id)
}

func oneKey(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*apikey.Key, error) {
	var r keyRec
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return nil, translate(err)
	}
	k, err := r.key()
	if err != nil {
		return nil, err
	}
	return &k, nil
}

// ListByOwner pages through ownerID's live keys, newest first.
func (s *APIKeyStore) ListByOwner(ctx context.Context, ownerID string, liveAt time.Time, cursor string, limit int) ([]apikey.Key, string, error) {
	before, err := pageStart(cursor, limit, true)
	if err != nil {
		return nil, "", err
	}
	var rows []keyRec
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT `+keyCols+` FROM api_keys
		WHERE owner_id = ? AND (revoked_at IS NULL OR grace_until > ?) AND (created_at, id) < (?, ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`, ownerID, micros(liveAt), before.at, before.id, limit+1); err != nil {
		return nil, "", translate(err)
	}
	return page(rows, limit, func(r keyRec) position { return position{r.Created, r.ID} }, keyRec.key)
}

// updateKeyTx loads the key with id, applies fn and stores the result.
func updateKeyTx(ctx context.Context, tx *sqlx.Tx, id string, fn func(*apikey.Key) error) (*apikey.Key, error) {
	cur, err := oneKey(ctx, tx, `SELECT `+keyCols+` FROM api_keys WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	next := *cur
	next.Scopes = append([]user.Permission(nil), cur.Scopes...)
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.OwnerID, next.Digest, next.Prefix, next.CreatedAt = cur.ID, cur.OwnerID, cur.Digest, cur.Prefix, cur.CreatedAt
	r, err := keyRecOf(next)
	if err != nil {
		return nil, err
	}
	return oneKey(ctx, tx, `UPDATE api_keys SET name = ?, scopes = ?, expires_at = ?, last_used_at = ?, revoked_at = ?, grace_until = ?
		WHERE id = ? RETURNING `+keyCols, r.Name, r.Scopes, r.Expires, r.LastUsed, r.Revoked, r.Grace, r.ID)
}

// Update runs fn on the key with id in one write transaction.
func (s *APIKeyStore) Update(ctx context.Context, id string, fn func(*apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	var out *apikey.Key
	err := s.db.audited(ctx, events, func(tx *sqlx.Tx) error {
		var err error
		out, err = updateKeyTx(ctx, tx, id, fn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Rotate retires the key with id through fn and inserts successor in the
// same transaction. A successor joining an old key that is still usable (a
// grace) is counted against maxActive first, in that transaction.
func (s *APIKeyStore) Rotate(ctx context.Context, id string, successor apikey.Key, maxActive int,
	fn func(old *apikey.Key) error, events ...audit.Event,
) (*apikey.Key, error) {
	var out *apikey.Key
	err := s.db.audited(ctx, events, func(tx *sqlx.Tx) error {
		var err error
		if out, err = updateKeyTx(ctx, tx, id, fn); err != nil {
			return err
		}
		if out.Usable(successor.CreatedAt) {
			if err := underLimit(ctx, tx, out.OwnerID, successor.CreatedAt, maxActive); err != nil {
				return err
			}
		}
		return insertKeyTx(ctx, tx, successor)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

type grantRec struct {
	keyRec
	OwnerUsername string `db:"owner_username"`
	OwnerRole     string `db:"owner_role"`
	OwnerDisabled bool   `db:"owner_disabled"`
}

// selectGrant is the request path: the unique digest index finds the key,
// the users primary key its owner, in one query on a reader.
const selectGrant = `SELECT k.id, k.owner_id, k.name, k.prefix, k.digest, k.scopes, k.created_at, k.expires_at,
	k.last_used_at, k.revoked_at, k.grace_until,
	u.username AS owner_username, u.role AS owner_role, u.disabled AS owner_disabled
	FROM api_keys k JOIN users u ON u.id = k.owner_id WHERE k.digest = ?`

// grantStmt returns the prepared digest lookup, preparing it on first use.
func (s *APIKeyStore) grantStmt(ctx context.Context) (*sqlx.Stmt, error) {
	s.grantMu.Lock()
	defer s.grantMu.Unlock()
	if s.grant == nil {
		st, err := s.db.R.PreparexContext(ctx, selectGrant) //nolint:sqlclosecheck // long-lived, closed with the pool
		if err != nil {
			return nil, translate(err)
		}
		s.grant = st
	}
	return s.grant, nil
}

// GetByDigest reads the key and its owner in one query; it writes nothing.
func (s *APIKeyStore) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	st, err := s.grantStmt(ctx) //nolint:sqlclosecheck // shared prepared statement, not ours to close
	if err != nil {
		return nil, err
	}
	var r grantRec
	if err := st.GetContext(ctx, &r, digest); err != nil {
		return nil, translate(err)
	}
	k, err := r.key()
	if err != nil {
		return nil, err
	}
	return &port.KeyGrant{Key: k, OwnerUsername: r.OwnerUsername, OwnerRole: user.Role(r.OwnerRole), OwnerDisabled: r.OwnerDisabled}, nil
}

// TouchLastUsed moves last_used_at forward for a batch of keys in one
// statement: the batch travels as one JSON parameter that json_each turns
// into rows, and "only forward" keeps out-of-order flushes harmless.
func (s *APIKeyStore) TouchLastUsed(ctx context.Context, seen map[string]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	batch := make([][2]any, 0, len(seen))
	for id, at := range seen {
		batch = append(batch, [2]any{id, micros(at)})
	}
	b, err := json.Marshal(batch)
	if err != nil {
		return domain.Internal(err)
	}
	_, err = s.db.W.ExecContext(ctx, `UPDATE api_keys SET last_used_at = v.at
		FROM (SELECT value ->> 0 AS id, value ->> 1 AS at FROM json_each(?)) AS v
		WHERE api_keys.id = v.id AND (api_keys.last_used_at IS NULL OR api_keys.last_used_at < v.at)`, string(b))
	return translate(err)
}
