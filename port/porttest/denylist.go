package porttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// TokenDenylist runs the contract of port.TokenDenylist. newDenylist returns
// an empty denylist that tells time by clock. Expiry is checked by moving the
// clock, so stores with real-time expiry (Redis TTLs) must also honour the
// clock; their TTLs are checked by their own adapter tests.
func TokenDenylist(t *testing.T, newDenylist func(t *testing.T, clock *memory.Clock) port.TokenDenylist) {
	ctx := context.Background()
	const tokenLife = 15 * time.Minute

	// setup returns a denylist, its clock at base, and claims of a token
	// issued at base and valid for tokenLife.
	setup := func(t *testing.T) (port.TokenDenylist, *memory.Clock, session.Claims) {
		clock := memory.NewClock(base)
		return newDenylist(t, clock), clock, claimsAt(base, tokenLife)
	}

	t.Run("a token nobody denied passes", func(t *testing.T) {
		d, _, c := setup(t)
		noErr(t, d.Check(ctx, c))
	})

	t.Run("a token without jti, sid or subject is refused", func(t *testing.T) {
		d, _, c := setup(t)
		for _, mutate := range []func(*session.Claims){
			func(c *session.Claims) { c.TokenID = "" },
			func(c *session.Claims) { c.SessionID = "" },
			func(c *session.Claims) { c.UserID = "" },
		} {
			x := c
			mutate(&x)
			wantErr(t, d.Check(ctx, x), domain.ErrUnauthenticated)
		}
	})

	t.Run("deny by jti until until", func(t *testing.T) {
		d, clock, c := setup(t)
		noErr(t, d.DenyToken(ctx, c.TokenID, c.ExpiresAt))
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)

		sibling := claimsAt(base, tokenLife)
		sibling.SessionID, sibling.UserID = c.SessionID, c.UserID
		noErr(t, d.Check(ctx, sibling)) // same session and user, other jti

		clock.Set(c.ExpiresAt.Add(-time.Second))
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)
		clock.Set(c.ExpiresAt)
		noErr(t, d.Check(ctx, c))
	})

	t.Run("denying a jti again keeps the later until", func(t *testing.T) {
		d, clock, c := setup(t)
		noErr(t, d.DenyToken(ctx, c.TokenID, base.Add(10*time.Minute)))
		noErr(t, d.DenyToken(ctx, c.TokenID, base.Add(time.Minute)))
		clock.Advance(5 * time.Minute)
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)
		noErr(t, d.DenyToken(ctx, c.TokenID, base.Add(20*time.Minute)))
		clock.Advance(10 * time.Minute)
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)
	})

	t.Run("an until in the past denies nothing", func(t *testing.T) {
		d, _, c := setup(t)
		noErr(t, d.DenyToken(ctx, c.TokenID, base.Add(-time.Second)))
		noErr(t, d.DenySession(ctx, c.SessionID, base))
		noErr(t, d.DenyUserBefore(ctx, c.UserID, base.Add(time.Hour), base.Add(-time.Minute)))
		noErr(t, d.Check(ctx, c))
	})

	t.Run("deny by sid cuts off every token of the session", func(t *testing.T) {
		d, clock, c := setup(t)
		refreshed := claimsAt(base.Add(time.Minute), tokenLife)
		refreshed.SessionID, refreshed.UserID = c.SessionID, c.UserID
		other := claimsAt(base, tokenLife)
		other.UserID = c.UserID

		until := base.Add(time.Hour)
		noErr(t, d.DenySession(ctx, c.SessionID, until))
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)
		wantErr(t, d.Check(ctx, refreshed), domain.ErrUnauthenticated)
		noErr(t, d.Check(ctx, other)) // another session of the same user

		noErr(t, d.DenySession(ctx, c.SessionID, base.Add(time.Minute))) // shorter: ignored
		clock.Set(until.Add(-time.Second))
		wantErr(t, d.Check(ctx, refreshed), domain.ErrUnauthenticated)
		clock.Set(until)
		noErr(t, d.Check(ctx, refreshed))
	})

	t.Run("deny by user not-before compares whole seconds", func(t *testing.T) {
		d, clock, _ := setup(t)
		userID := domain.NewID()
		token := func(iat time.Time) session.Claims {
			c := claimsAt(iat, tokenLife)
			c.UserID = userID
			return c
		}
		nb := base.Add(10*time.Second + 700*time.Millisecond) // 10:00:10.7
		until := base.Add(time.Hour)
		clock.Set(nb)
		noErr(t, d.DenyUserBefore(ctx, userID, nb, until))

		wantErr(t, d.Check(ctx, token(base)), domain.ErrUnauthenticated)
		wantErr(t, d.Check(ctx, token(base.Add(9*time.Second))), domain.ErrUnauthenticated)
		// The documented edge: iat is whole seconds, so a token issued in the
		// not-before's second (before or after it) is accepted.
		noErr(t, d.Check(ctx, token(base.Add(10*time.Second))))
		noErr(t, d.Check(ctx, token(base.Add(11*time.Second))))

		other := claimsAt(base, tokenLife)
		noErr(t, d.Check(ctx, other)) // another user

		// Callers that must kill same-second tokens pass now+1s.
		noErr(t, d.DenyUserBefore(ctx, userID, nb.Add(time.Second), until))
		wantErr(t, d.Check(ctx, token(base.Add(10*time.Second))), domain.ErrUnauthenticated)
		noErr(t, d.Check(ctx, token(base.Add(11*time.Second))))
	})

	t.Run("user not-before only moves forward and lives until the later until", func(t *testing.T) {
		d, clock, _ := setup(t)
		userID := domain.NewID()
		token := func(iat time.Time) session.Claims {
			c := claimsAt(iat, tokenLife)
			c.UserID = userID
			return c
		}
		noErr(t, d.DenyUserBefore(ctx, userID, base.Add(time.Minute), base.Add(30*time.Minute)))
		noErr(t, d.DenyUserBefore(ctx, userID, base.Add(10*time.Second), base.Add(10*time.Minute)))
		wantErr(t, d.Check(ctx, token(base.Add(30*time.Second))), domain.ErrUnauthenticated)
		noErr(t, d.Check(ctx, token(base.Add(time.Minute))))

		clock.Set(base.Add(20 * time.Minute))
		wantErr(t, d.Check(ctx, token(base.Add(30*time.Second))), domain.ErrUnauthenticated)
		clock.Set(base.Add(30 * time.Minute))
		noErr(t, d.Check(ctx, token(base.Add(30*time.Second))))
	})

	t.Run("claim refresh: first caller wins and the old token is denied", func(t *testing.T) {
		d, _, c := setup(t)
		won, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, c.ExpiresAt)
		noErr(t, err)
		if won != "successor-A" {
			t.Fatalf("first ClaimRefresh = %q, want its own successor", won)
		}
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)

		late, err := d.ClaimRefresh(ctx, c.TokenID, "successor-B", 10*time.Second, c.ExpiresAt)
		noErr(t, err)
		if late != "successor-A" {
			t.Fatalf("second ClaimRefresh within the grace = %q, want the winner's successor-A", late)
		}
	})

	t.Run("claim refresh: after the grace the old token gets nothing", func(t *testing.T) {
		d, clock, c := setup(t)
		_, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, c.ExpiresAt)
		noErr(t, err)
		clock.Advance(10*time.Second - time.Millisecond)
		won, err := d.ClaimRefresh(ctx, c.TokenID, "successor-B", 10*time.Second, c.ExpiresAt)
		noErr(t, err)
		if won != "successor-A" {
			t.Fatalf("ClaimRefresh at the end of the grace = %q, want successor-A", won)
		}
		clock.Advance(time.Millisecond)
		_, err = d.ClaimRefresh(ctx, c.TokenID, "successor-C", 10*time.Second, c.ExpiresAt)
		wantErr(t, err, domain.ErrUnauthenticated)
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)
	})

	t.Run("claim refresh: the denial of the old jti ends at until", func(t *testing.T) {
		d, clock, c := setup(t)
		_, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, c.ExpiresAt)
		noErr(t, err)
		clock.Set(c.ExpiresAt.Add(-time.Second))
		wantErr(t, d.Check(ctx, c), domain.ErrUnauthenticated)
		clock.Set(c.ExpiresAt)
		noErr(t, d.Check(ctx, c)) // the verifier refuses it by now; the list forgets it
		_, err = d.ClaimRefresh(ctx, c.TokenID, "successor-B", 10*time.Second, c.ExpiresAt)
		wantErr(t, err, domain.ErrUnauthenticated) // until has passed
	})

	t.Run("claim refresh: the grace never outlives until", func(t *testing.T) {
		d, clock, c := setup(t)
		until := base.Add(3 * time.Second)
		_, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, until)
		noErr(t, err)
		clock.Set(until)
		_, err = d.ClaimRefresh(ctx, c.TokenID, "successor-B", 10*time.Second, until)
		wantErr(t, err, domain.ErrUnauthenticated)
	})

	t.Run("claim refresh: no grace lets only the first caller through", func(t *testing.T) {
		d, _, c := setup(t)
		won, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 0, c.ExpiresAt)
		noErr(t, err)
		if won != "successor-A" {
			t.Fatalf("ClaimRefresh = %q, want successor-A", won)
		}
		_, err = d.ClaimRefresh(ctx, c.TokenID, "successor-B", 0, c.ExpiresAt)
		wantErr(t, err, domain.ErrUnauthenticated)
	})

	t.Run("claim refresh of a logged-out token is refused", func(t *testing.T) {
		d, _, c := setup(t)
		noErr(t, d.DenyToken(ctx, c.TokenID, c.ExpiresAt))
		_, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, c.ExpiresAt)
		wantErr(t, err, domain.ErrUnauthenticated)
	})

	t.Run("claim refresh of an expired token is refused", func(t *testing.T) {
		d, clock, c := setup(t)
		clock.Set(c.ExpiresAt)
		_, err := d.ClaimRefresh(ctx, c.TokenID, "successor-A", 10*time.Second, c.ExpiresAt)
		wantErr(t, err, domain.ErrUnauthenticated)
	})

	t.Run("claim refresh: 50 concurrent callers, one winner, one successor", func(t *testing.T) {
		d, _, c := setup(t)
		const n = 50
		results, errs := allAtOnce(n, func(i int) (string, error) {
			return d.ClaimRefresh(ctx, c.TokenID, fmt.Sprintf("successor-%02d", i), 10*time.Second, c.ExpiresAt)
		})
		winners := 0
		for i := range n {
			noErr(t, errs[i])
			if results[i] != results[0] {
				t.Fatalf("caller %d got %q, caller 0 got %q: more than one successor", i, results[i], results[0])
			}
			if results[i] == fmt.Sprintf("successor-%02d", i) {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("%d callers won, want exactly 1", winners)
		}
	})
}

// claimsAt returns the claims of a fresh token issued at iat (whole seconds,
// as in a JWT) that expires after life.
func claimsAt(iat time.Time, life time.Duration) session.Claims {
	iat = iat.Truncate(time.Second)
	return session.Claims{
		TokenID:   domain.NewID(),
		SessionID: domain.NewID(),
		UserID:    domain.NewID(),
		IssuedAt:  iat,
		NotBefore: iat,
		ExpiresAt: iat.Add(life),
	}
}
