package sqlite

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserStore is the SQLite port.UserStore and port.UserLister.
type UserStore struct{ db *DB }

var (
	_ port.UserStore  = (*UserStore)(nil)
	_ port.UserLister = (*UserStore)(nil)
)

// NewUserStore returns a store over db.
func NewUserStore(db *DB) *UserStore { return &UserStore{db: db} }

const userCols = `id, username, role, password_hash, disabled, created_at, updated_at`

type userRec struct {
	ID       string `db:"id"`
	Username string `db:"username"`
	Role     string `db:"role"`
	Hash     string `db:"password_hash"`
	Disabled bool   `db:"disabled"`
	Created  int64  `db:"created_at"`
	Updated  int64  `db:"updated_at"`
}

func userRecOf(u *user.User) userRec {
	return userRec{
		ID: u.ID, Username: u.Username, Role: string(u.Role), Hash: u.PasswordHash, Disabled: u.Disabled,
		Created: micros(u.CreatedAt), Updated: micros(u.UpdatedAt),
	}
}

func (r userRec) user() user.User {
	return user.User{
		ID: r.ID, Username: r.Username, Role: user.Role(r.Role), PasswordHash: r.Hash, Disabled: r.Disabled,
		CreatedAt: fromMicros(r.Created), UpdatedAt: fromMicros(r.Updated),
	}
}

// Create inserts u, assigning an ID if it has none.
func (s *UserStore) Create(ctx context.Context, u *user.User, events ...audit.Event) error {
	if u.ID == "" {
		u.ID = domain.NewID()
	}
	return s.db.audited(ctx, events, func(tx *sqlx.Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO users (`+userCols+`)
			VALUES (:id, :username, :role, :password_hash, :disabled, :created_at, :updated_at)`, userRecOf(u))
		return translate(err)
	})
}

// Get returns the user with id.
func (s *UserStore) Get(ctx context.Context, id string) (*user.User, error) {
	return s.one(ctx, s.db.R, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
}

// GetByUsername returns the user whose username matches ignoring case,
// through the NOCASE unique index.
func (s *UserStore) GetByUsername(ctx context.Context, username string) (*user.User, error) {
	return s.one(ctx, s.db.R, `SELECT `+userCols+` FROM users WHERE username = ? COLLATE NOCASE`, username)
}

func (s *UserStore) one(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*user.User, error) {
	var r userRec
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return nil, translate(err)
	}
	u := r.user()
	return &u, nil
}

// Update runs fn on the user with id in one write transaction: the single
// writer connection serializes it against every other write.
func (s *UserStore) Update(ctx context.Context, id string, fn func(*user.User) error, events ...audit.Event) (*user.User, error) {
	var out *user.User
	err := s.db.audited(ctx, events, func(tx *sqlx.Tx) error {
		cur, err := s.one(ctx, tx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
		if err != nil {
			return err
		}
		next := *cur
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
		r := userRecOf(&next)
		out, err = s.one(ctx, tx, `UPDATE users SET username = ?, role = ?, password_hash = ?, disabled = ?, updated_at = ?
			WHERE id = ? RETURNING `+userCols, r.Username, r.Role, r.Hash, r.Disabled, r.Updated, r.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes the user with id; sessions, keys and workflows go with it
// (ON DELETE CASCADE).
func (s *UserStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	return writeRow(ctx, s.db, events, `DELETE FROM users WHERE id = ?`, id)
}

// List pages through users ordered by (created_at, id).
func (s *UserStore) List(ctx context.Context, cursor string, limit int) ([]user.User, string, error) {
	after, err := pageStart(cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	var rows []userRec
	if err := s.db.R.SelectContext(ctx, &rows, `SELECT `+userCols+` FROM users
		WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`, after.at, after.id, limit+1); err != nil {
		return nil, "", translate(err)
	}
	return page(rows, limit, func(r userRec) position { return position{r.Created, r.ID} },
		func(r userRec) (user.User, error) { return r.user(), nil })
}

// Count returns the number of users.
func (s *UserStore) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM users`); err != nil {
		return 0, translate(err)
	}
	return n, nil
}

// writeRow runs a statement that must change one row, with its audit
// events in the same transaction; no row is ErrNotFound and stores none.
func writeRow(ctx context.Context, db *DB, events []audit.Event, query string, args ...any) error {
	return db.audited(ctx, events, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		return oneRow(res, err)
	})
}
