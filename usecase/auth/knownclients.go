package auth

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/port"
)

// replayPage is how many sessions one page of ReplayKnownClients reads and
// remembers: one query and one throttle round trip each.
const replayPage = 1000

// ReplayKnownClients makes the client network of every session created
// within ttl before now known to its account in throttle again, each as of
// its session's creation (port.LoginThrottle.Remember), and returns how many
// sessions it replayed. It is for after the throttle's store lost its
// memory: the owner of an account then still gets through protected mode
// (contract §4) from the networks it logged in from. Device cookies are not
// stored with sessions, so a client known only by its device is not
// rebuilt. Replaying twice is harmless.
func ReplayKnownClients(ctx context.Context, source port.KnownClientSource, throttle port.LoginThrottle, now time.Time, ttl time.Duration) (int, error) {
	n := 0
	clients := make([]port.KnownClient, 0, replayPage)
	err := source.SessionClients(ctx, now.Add(-ttl), replayPage, func(page []port.SessionClient) error {
		clients = clients[:0]
		for _, s := range page {
			clients = append(clients, port.KnownClient{
				LoginAttempt: port.NewLoginAttempt(s.Username, principal.Client{IP: s.IP}),
				At:           s.CreatedAt,
			})
		}
		if err := throttle.Remember(ctx, clients...); err != nil {
			return err
		}
		n += len(page)
		return nil
	})
	return n, err
}
