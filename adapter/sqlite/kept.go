package sqlite

import (
	"context"
	"time"

	"github.com/m9m/auth/port"
)

// KeptState is the SQLite port.KeptState: the rows of kept_state.
type KeptState struct{ db *DB }

var _ port.KeptState = (*KeptState)(nil)

// NewKeptState returns the kept state stored in db.
func NewKeptState(db *DB) *KeptState { return &KeptState{db: db} }

// Keep upserts e, never moving Num or Until backwards.
func (s *KeptState) Keep(ctx context.Context, e port.KeptEntry) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO kept_state (kind, key, num, text, until) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (kind, key) DO UPDATE SET
			num = max(num, excluded.num),
			until = max(until, excluded.until),
			text = CASE WHEN text = '' THEN excluded.text ELSE text END`,
		e.Kind, e.Key, e.Num, e.Text, micros(e.Until))
	return translate(err)
}

type keptRec struct {
	Kind  string `db:"kind"`
	Key   string `db:"key"`
	Num   int64  `db:"num"`
	Text  string `db:"text"`
	Until int64  `db:"until"`
}

// Load returns the entries still in force at now.
func (s *KeptState) Load(ctx context.Context, now time.Time) ([]port.KeptEntry, error) {
	var rows []keptRec
	if err := s.db.R.SelectContext(ctx, &rows,
		`SELECT kind, key, num, text, until FROM kept_state WHERE until > ? ORDER BY kind, key`, micros(now)); err != nil {
		return nil, translate(err)
	}
	out := make([]port.KeptEntry, len(rows))
	for i, r := range rows {
		out[i] = port.KeptEntry{Kind: r.Kind, Key: r.Key, Num: r.Num, Text: r.Text, Until: fromMicros(r.Until)}
	}
	return out, nil
}

// Sweep deletes the entries that ended at or before now.
func (s *KeptState) Sweep(ctx context.Context, now time.Time) (int, error) {
	return affected(s.db.W.ExecContext(ctx, `DELETE FROM kept_state WHERE until <= ?`, micros(now)))
}
