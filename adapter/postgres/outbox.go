package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/port"
)

// InvalidationOutbox is the Postgres port.InvalidationOutbox over the
// invalidation_outbox table (migration 00011). Its rows are written by
// insertEvents, in the transaction of every audited change that owes the
// API-key caches an invalidation; this type only drains them.
type InvalidationOutbox struct {
	db *sqlx.DB
}

var _ port.InvalidationOutbox = (*InvalidationOutbox)(nil)

// NewInvalidationOutbox returns the outbox over db.
func NewInvalidationOutbox(db *sqlx.DB) *InvalidationOutbox {
	return &InvalidationOutbox{db: db}
}

// outboxTake locks the oldest rows old enough, skipping those another
// drain holds: relays on several instances share the work instead of
// queueing on one another's locks. The age is judged by the database's
// clock, the one that stamped created_at.
const outboxTake = `SELECT id, key_id, owner_id FROM invalidation_outbox
	WHERE created_at <= now() - make_interval(secs => $1)
	ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`

// errOutboxDelete would mean the table changed under the drain's row locks.
var errOutboxDelete = errors.New("postgres: invalidation outbox: deleted fewer rows than were taken")

type outboxRow struct {
	ID      int64          `db:"id"`
	KeyID   sql.NullString `db:"key_id"`
	OwnerID sql.NullString `db:"owner_id"`
}

// Drain takes, publishes and deletes up to limit rows in one transaction;
// a failed publish rolls it back, so the rows stay for the next drain.
func (o *InvalidationOutbox) Drain(ctx context.Context, olderThan time.Duration, limit int, publish func([]port.FeedEntry) error) (int, error) {
	if err := checkLimit(limit, port.MaxListLimit); err != nil {
		return 0, err
	}
	n := 0
	err := inTx(ctx, o.db, func(tx *sqlx.Tx) error {
		var rows []outboxRow
		if err := tx.SelectContext(ctx, &rows, outboxTake, olderThan.Seconds(), limit); err != nil {
			return translate(err)
		}
		if len(rows) == 0 {
			return nil
		}
		entries := make([]port.FeedEntry, len(rows))
		ids := make([]int64, len(rows))
		for i, r := range rows {
			entries[i] = port.FeedEntry{KeyID: r.KeyID.String, OwnerID: r.OwnerID.String}
			ids[i] = r.ID
		}
		if err := publish(entries); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM invalidation_outbox WHERE id = ANY($1)`, pq.Array(ids))
		if err != nil {
			return translate(err)
		}
		if got, err := res.RowsAffected(); err != nil || got != int64(len(ids)) {
			// The rows are locked by this transaction: nobody else can have
			// deleted them.
			return domain.Internal(errOutboxDelete)
		}
		n = len(rows)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
