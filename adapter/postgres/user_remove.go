package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserRemover is the Postgres port.UserRemover. The foreign key from
// workflows to users restricts (migration 00009), so even a plain DELETE
// of a user who owns workflows fails rather than taking them along.
type UserRemover struct {
	db *sqlx.DB
}

var _ port.UserRemover = (*UserRemover)(nil)

// NewUserRemover returns a remover over db.
func NewUserRemover(db *sqlx.DB) *UserRemover {
	return &UserRemover{db: db}
}

// OwnedWorkflows counts the workflows userID owns.
func (s *UserRemover) OwnedWorkflows(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM workflows WHERE owner_id = $1`, userID); err != nil {
		return 0, translate(err)
	}
	return n, nil
}

// Remove locks the user and the transfer target (in ID order, so two
// removals that name each other cannot deadlock), counts the workflows,
// lets r.Check judge, moves or deletes them and deletes the user, in one
// transaction.
//
// Why no workflow can slip past: inserting a workflow takes a KEY SHARE
// lock on its owner's row (the foreign key check), which conflicts with
// the FOR UPDATE taken here. An insert in flight when Remove starts is
// waited for, then counted and moved; one that starts later waits for
// Remove to commit and then fails its foreign key check (ErrConflict).
func (s *UserRemover) Remove(ctx context.Context, r port.UserRemoval) (int, error) {
	var owned int
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		ids := []string{r.UserID}
		if r.TransferTo != "" && r.TransferTo != r.UserID {
			ids = append(ids, r.TransferTo)
		}
		var rows []userRow
		if err := tx.SelectContext(ctx, &rows,
			`SELECT `+userColumns+` FROM users WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.Array(ids)); err != nil {
			return translate(err)
		}
		var found, target *user.User
		for _, row := range rows {
			u := row.toUser()
			switch u.ID {
			case r.UserID:
				found = &u
			case r.TransferTo:
				target = &u
			}
		}
		if found == nil {
			return domain.ErrNotFound
		}
		if err := tx.GetContext(ctx, &owned, `SELECT count(*) FROM workflows WHERE owner_id = $1`, r.UserID); err != nil {
			return translate(err)
		}
		if r.Check != nil {
			if err := r.Check(owned, target); err != nil {
				return err
			}
		}
		var err error
		switch {
		case r.TransferTo != "" && target == nil:
			return domain.ErrNotFound.WithMessage("Transfer target not found")
		case r.TransferTo != "":
			_, err = tx.ExecContext(ctx, `UPDATE workflows SET owner_id = $2, updated_at = $3 WHERE owner_id = $1`,
				r.UserID, r.TransferTo, r.At.UTC())
		case r.DeleteWorkflows:
			_, err = tx.ExecContext(ctx, `DELETE FROM workflows WHERE owner_id = $1`, r.UserID)
		case owned > 0:
			return domain.ErrConflict.WithMessage(fmt.Sprintf("User owns %d workflows", owned)).Wrap(port.ErrOwnsWorkflows)
		}
		if err != nil {
			return translate(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, r.UserID); err != nil {
			return translate(err)
		}
		return insertEvents(ctx, tx, r.Events)
	})
	if err != nil {
		return 0, err
	}
	return owned, nil
}
