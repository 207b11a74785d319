package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserRemover is the SQLite port.UserRemover. Write transactions run one at
// a time on the writer, so nothing can create a workflow for the user
// between the count and the delete; a creation queued behind the removal
// then fails its foreign key (ErrConflict). The trigger of migration 00010
// refuses any other delete of a user who owns workflows.
type UserRemover struct{ db *DB }

var _ port.UserRemover = (*UserRemover)(nil)

// NewUserRemover returns a remover over db.
func NewUserRemover(db *DB) *UserRemover { return &UserRemover{db: db} }

// OwnedWorkflows counts the workflows userID owns.
func (s *UserRemover) OwnedWorkflows(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.R.GetContext(ctx, &n, `SELECT count(*) FROM workflows WHERE owner_id = ?`, userID); err != nil {
		return 0, translate(err)
	}
	return n, nil
}

// Remove reads the user and the transfer target, counts the workflows, lets
// r.Check judge, moves or deletes them and deletes the user with r.Events,
// in one write transaction.
func (s *UserRemover) Remove(ctx context.Context, r port.UserRemoval) (int, error) {
	var owned int
	users := NewUserStore(s.db)
	lookup := func(tx *sqlx.Tx, id string) (*user.User, error) {
		u, err := users.one(ctx, tx, `SELECT `+userCols+` FROM users WHERE id = ?`, id)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, nil
		}
		return u, err
	}
	err := s.db.audited(ctx, r.Events, func(tx *sqlx.Tx) error {
		found, err := lookup(tx, r.UserID)
		if err != nil {
			return err
		}
		if found == nil {
			return domain.ErrNotFound
		}
		var target *user.User
		if r.TransferTo != "" && r.TransferTo != r.UserID {
			if target, err = lookup(tx, r.TransferTo); err != nil {
				return err
			}
		}
		if err := tx.GetContext(ctx, &owned, `SELECT count(*) FROM workflows WHERE owner_id = ?`, r.UserID); err != nil {
			return translate(err)
		}
		if r.Check != nil {
			if err := r.Check(owned, target); err != nil {
				return err
			}
		}
		switch {
		case r.TransferTo != "" && target == nil:
			return domain.ErrNotFound.WithMessage("Transfer target not found")
		case r.TransferTo != "":
			_, err = tx.ExecContext(ctx, `UPDATE workflows SET owner_id = ?, updated_at = ? WHERE owner_id = ?`,
				r.TransferTo, micros(r.At), r.UserID)
		case r.DeleteWorkflows:
			_, err = tx.ExecContext(ctx, `DELETE FROM workflows WHERE owner_id = ?`, r.UserID)
		case owned > 0:
			return domain.ErrConflict.WithMessage(fmt.Sprintf("User owns %d workflows", owned)).Wrap(port.ErrOwnsWorkflows)
		}
		if err != nil {
			return translate(err)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, r.UserID)
		return translate(err)
	})
	if err != nil {
		return 0, err
	}
	return owned, nil
}
