package port

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/session"
)

// TokenDenylist is the shared revocation list for access tokens (contract
// §4): by token (jti), by session (sid) and by user ("not before"). Every
// entry expires by itself once the tokens it denies would have expired
// anyway, so the list never grows without bound; every instance sees it.
//
// Expiry follows the injected Clock: an entry written with until is in force
// while Clock.Now() is before until. Adapters with their own expiry (Redis
// TTLs) set it to until-now, rounded up to at most one second more.
//
// Infrastructure failures are domain.ErrUnavailable, never
// domain.ErrUnauthenticated: a caller must be able to tell "revoked" (401)
// from "cannot tell" (503, fail closed).
type TokenDenylist interface {
	// Check returns nil if the token described by c may be used, and
	// domain.ErrUnauthenticated if its jti or sid is denied, if it was issued
	// before its user's not-before, or if it lacks a jti, sid or subject (such
	// a token could never be revoked). It costs exactly one round trip to the
	// store.
	//
	// Not-before compares whole seconds, because iat has second precision: a
	// token is denied when c.IssuedAt.Unix() < notBefore.Unix(). A token issued
	// in the same second as the not-before is therefore accepted. See
	// DenyUserBefore for how callers use that edge.
	Check(ctx context.Context, c session.Claims) error
	// DenyToken denies the token jti until until (its exp plus verification
	// leeway). Denying again keeps the later until.
	DenyToken(ctx context.Context, jti string, until time.Time) error
	// DenySession denies every token of session sid until until (the latest
	// possible exp of a token of that session). Denying again keeps the later
	// until.
	DenySession(ctx context.Context, sid string, until time.Time) error
	// DenyUserBefore denies every token of userID issued before notBefore
	// (compared in whole seconds, see Check) until until. The stored
	// not-before only ever moves forward, and the entry lives until the later
	// of the old and new until.
	//
	// The one-second edge, decided: a token issued in the same second as
	// notBefore survives. Callers that re-issue a token right after (password
	// change keeps the caller's session) pass now, so that new token is not
	// killed; the other sessions are ended by DenySession, which has no such
	// edge. Callers for whom no token of that user may survive (disable,
	// delete) pass now.Add(time.Second), so tokens issued earlier in the same
	// second die too.
	DenyUserBefore(ctx context.Context, userID string, notBefore, until time.Time) error
	// ClaimRefresh atomically makes successor the one successor of the token
	// jti and denies jti until until (the old token's exp plus leeway). The
	// first caller wins and gets its own successor back; callers within grace
	// of the first claim get the winner's successor (browser tabs racing each
	// other get the same new token). After the grace, or for a jti that is
	// already denied (logged out), or when until has passed, it returns
	// domain.ErrUnauthenticated. The caller compares winner with its own
	// successor to learn whether it won.
	//
	// The successor is kept as a secret at rest in the store for at most
	// grace (never beyond until); grace <= 0 stores nothing and lets only the
	// first caller through.
	ClaimRefresh(ctx context.Context, jti, successor string, grace time.Duration, until time.Time) (winner string, err error)
}
