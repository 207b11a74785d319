package postgres

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/domain"
)

// deleteByID deletes the row of table with id, or reports ErrNotFound.
// table is always a constant from this package, never client input.
func deleteByID(ctx context.Context, db sqlx.ExecerContext, table, id string) error {
	res, err := db.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = $1`, id) //nolint:gosec // table is a package constant
	if err != nil {
		return translate(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(err)
	}
	if n == 0 {
		return domain.ErrNotFound
	}
	return nil
}
