package auth

import (
	"context"
	"errors"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
)

// Revoker ends sessions in both places that know about them: the denylist,
// which decides at once on every instance whether a token is accepted, and
// the session store, which lists them. It is shared by the session use cases
// and user administration (role change, disable, delete, password reset).
//
// Ordering is what keeps it safe under failures and races: the denylist is
// written before the rows are marked ended, so a Redis failure leaves rows
// active and a retry still finds (and denies) them; and the user's sessions
// are listed again after the caller's change, so a login that slipped in
// while the change was being made is ended too.
type Revoker struct {
	sessions port.SessionStore
	ender    port.SessionEnder
	deny     port.TokenDenylist
	clock    port.Clock
	settings Settings
}

// NewRevoker returns a Revoker.
func NewRevoker(sessions port.SessionStore, ender port.SessionEnder, deny port.TokenDenylist, clock port.Clock, settings Settings) *Revoker {
	return &Revoker{sessions: sessions, ender: ender, deny: deny, clock: clock, settings: settings}
}

// denyUntil is when every token issued up to now has expired, leeway
// included: a denial kept longer protects nothing, a shorter one would let
// a token come back.
func (r *Revoker) denyUntil() time.Time {
	return r.clock.Now().Add(r.settings.TokenTTL + r.settings.Leeway)
}

// EndSession denies every token of sid at once and marks the session
// ended, with events audited in the same write as the row. When the row is
// gone already (its user was deleted meanwhile) there is nothing left to
// end and events are not written: the user's deletion ended it, and its
// event records that.
func (r *Revoker) EndSession(ctx context.Context, sid string, events ...audit.Event) error {
	if err := r.deny.DenySession(ctx, sid, r.denyUntil()); err != nil {
		return unavailableOr("denylist", err)
	}
	err := r.sessions.End(ctx, sid, r.clock.Now(), events...)
	if errors.Is(err, domain.ErrNotFound) {
		return nil // gone already (user deleted): nothing left to mark
	}
	return unavailableOr("sessions", err)
}

// EndSessionsAround ends every active session of userID except exceptSID
// ("" for all), running change in between: sessions that exist before are
// denied first (if that fails, nothing has changed and the caller may
// retry), then change runs, then whatever is still active (a login that
// raced the change) is ended and denied too.
func (r *Revoker) EndSessionsAround(ctx context.Context, userID, exceptSID string, change func(context.Context) error) error {
	active, err := r.sessions.ListActive(ctx, userID)
	if err != nil {
		return unavailableOr("sessions", err)
	}
	denied := make(map[string]bool, len(active))
	until := r.denyUntil()
	for _, s := range active {
		if s.ID == exceptSID {
			continue
		}
		if err := r.deny.DenySession(ctx, s.ID, until); err != nil {
			return unavailableOr("denylist", err)
		}
		denied[s.ID] = true
	}
	if change != nil {
		if err := change(ctx); err != nil {
			return err
		}
	}
	ended, err := r.ender.EndAllForUser(ctx, userID, exceptSID, r.clock.Now())
	if err != nil {
		return unavailableOr("sessions", err)
	}
	for _, sid := range ended {
		if denied[sid] {
			continue
		}
		if err := r.deny.DenySession(ctx, sid, until); err != nil {
			return unavailableOr("denylist", err)
		}
	}
	return nil
}

// CutOff denies every token of userID issued up to and including the
// current second, for when none may survive (disable, delete). It is the
// backstop behind ending the sessions: it needs no list of them, so it also
// catches a session whose row is already gone (a deleted user's rows
// cascade away).
func (r *Revoker) CutOff(ctx context.Context, userID string) error {
	now := r.clock.Now()
	err := r.deny.DenyUserBefore(ctx, userID, now.Add(time.Second), r.denyUntil())
	return unavailableOr("denylist", err)
}
