package postgres

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserStore is the Postgres port.UserStore and port.UserLister.
type UserStore struct {
	db *sqlx.DB
	// stmts holds the queries of every login (by username, then by id),
	// prepared once.
	stmts stmtCache
}

var (
	_ port.UserStore  = (*UserStore)(nil)
	_ port.UserLister = (*UserStore)(nil)
)

// NewUserStore returns a store over db.
func NewUserStore(db *sqlx.DB) *UserStore {
	return &UserStore{db: db}
}

// userColumns is the explicit column list every query selects.
const userColumns = `id, username, role, password_hash, disabled, created_at, updated_at`

type userRow struct {
	ID           string    `db:"id"`
	Username     string    `db:"username"`
	Role         string    `db:"role"`
	PasswordHash string    `db:"password_hash"`
	Disabled     bool      `db:"disabled"`
	CreatedAt    time.Time `db:"created_at"`
	UpdatedAt    time.Time `db:"updated_at"`
}

func toUserRow(u *user.User) userRow {
	return userRow{
		ID:           u.ID,
		Username:     u.Username,
		Role:         string(u.Role),
		PasswordHash: u.PasswordHash,
		Disabled:     u.Disabled,
		CreatedAt:    u.CreatedAt.UTC(),
		UpdatedAt:    u.UpdatedAt.UTC(),
	}
}

func (r userRow) toUser() user.User {
	return user.User{
		ID:           r.ID,
		Username:     r.Username,
		Role:         user.Role(r.Role),
		PasswordHash: r.PasswordHash,
		Disabled:     r.Disabled,
		CreatedAt:    r.CreatedAt.UTC(),
		UpdatedAt:    r.UpdatedAt.UTC(),
	}
}

// Create inserts u, assigning an ID if it has none.
func (s *UserStore) Create(ctx context.Context, u *user.User, events ...audit.Event) error {
	if u.ID == "" {
		u.ID = domain.NewID()
	}
	return audited(ctx, s.db, events, func(q sqlx.ExtContext) error {
		_, err := sqlx.NamedExecContext(ctx, q, `
			INSERT INTO users (`+userColumns+`)
			VALUES (:id, :username, :role, :password_hash, :disabled, :created_at, :updated_at)`,
			toUserRow(u))
		return translate(err)
	})
}

var (
	userByID       = `SELECT ` + userColumns + ` FROM users WHERE id = $1`
	userByUsername = `SELECT ` + userColumns + ` FROM users WHERE lower(username) = lower($1)`
)

// Get returns the user with id.
func (s *UserStore) Get(ctx context.Context, id string) (*user.User, error) {
	return s.getOne(ctx, userByID, id)
}

// GetByUsername returns the user whose username matches ignoring case; the
// lower(username) expression is the one the unique index covers.
func (s *UserStore) GetByUsername(ctx context.Context, username string) (*user.User, error) {
	return s.getOne(ctx, userByUsername, username)
}

// getOne runs a one-row user query as a prepared statement.
func (s *UserStore) getOne(ctx context.Context, query string, arg any) (*user.User, error) {
	st, err := s.stmts.get(ctx, s.db, query) //nolint:sqlclosecheck // shared prepared statement, not ours to close
	if err != nil {
		return nil, err
	}
	var r userRow
	if err := st.GetContext(ctx, &r, arg); err != nil {
		return nil, translate(err)
	}
	u := r.toUser()
	return &u, nil
}

// Update runs fn on the user with id inside a transaction that holds the row
// lock (SELECT ... FOR UPDATE), so concurrent updates of one user serialize.
func (s *UserStore) Update(ctx context.Context, id string, fn func(*user.User) error, events ...audit.Event) (_ *user.User, err error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()

	var r userRow
	if err := tx.GetContext(ctx, &r, `SELECT `+userColumns+` FROM users WHERE id = $1 FOR UPDATE`, id); err != nil {
		return nil, translate(err)
	}
	cur := r.toUser()
	next := cur
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.CreatedAt = cur.ID, cur.CreatedAt

	var stored userRow
	err = sqlxNamedGet(ctx, tx, &stored, `
		UPDATE users
		SET username = :username, role = :role, password_hash = :password_hash,
		    disabled = :disabled, updated_at = :updated_at
		WHERE id = :id
		RETURNING `+userColumns, toUserRow(&next))
	if err != nil {
		return nil, translate(err)
	}
	if err := insertEvents(ctx, tx, events); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, translate(err)
	}
	u := stored.toUser()
	return &u, nil
}

// Delete removes the user with id; the user's sessions and API keys go
// with it (ON DELETE CASCADE). A user who owns workflows is refused by the
// foreign key (ErrConflict): UserRemover decides what becomes of them.
func (s *UserStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	return audited(ctx, s.db, events, func(q sqlx.ExtContext) error {
		return deleteByID(ctx, q, "users", id)
	})
}

// List pages through users ordered by (created_at, id), reading one row
// past the page to learn whether another page follows.
func (s *UserStore) List(ctx context.Context, cursor string, limit int) ([]user.User, string, error) {
	if err := checkLimit(limit, port.MaxListLimit); err != nil {
		return nil, "", err
	}
	var rows []userRow
	var err error
	if cursor == "" {
		err = s.db.SelectContext(ctx, &rows,
			`SELECT `+userColumns+` FROM users ORDER BY created_at, id LIMIT $1`, limit+1)
	} else {
		k, cerr := decodeCursor(cursor)
		if cerr != nil {
			return nil, "", cerr
		}
		err = s.db.SelectContext(ctx, &rows,
			`SELECT `+userColumns+` FROM users WHERE (created_at, id) > ($1, $2) ORDER BY created_at, id LIMIT $3`,
			k.T, k.ID, limit+1)
	}
	if err != nil {
		return nil, "", translate(err)
	}
	rows, next := trimPage(rows, limit, func(r userRow) pageKey { return pageKey{T: r.CreatedAt, ID: r.ID} })
	return mapRows(rows, userRow.toUser), next, nil
}

// Count returns the number of users.
func (s *UserStore) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM users`); err != nil {
		return 0, translate(err)
	}
	return n, nil
}

// sqlxNamedGet runs a named query that returns one row and scans it into
// dest; sqlx has no NamedGetContext on a transaction.
func sqlxNamedGet(ctx context.Context, tx *sqlx.Tx, dest any, query string, arg any) error {
	q, args, err := tx.BindNamed(query, arg)
	if err != nil {
		return err
	}
	return tx.GetContext(ctx, dest, q, args...)
}
