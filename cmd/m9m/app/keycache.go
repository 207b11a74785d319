package app

import (
	"context"

	"github.com/jmoiron/sqlx"
	"go.uber.org/fx"
	"go.uber.org/zap"

	pgadapter "github.com/m9m/auth/adapter/postgres"
	redisadapter "github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/usecase/apikey"
	"github.com/m9m/auth/usecase/revocation"
)

// The API-key grant cache (issue 14): the authenticator reads a key's grant
// from memory while the instance can trust it, and the store otherwise.
//
//   - multi-instance: trusted while the revocation follower is fresh; the
//     follower applies every key and owner invalidation of the feed to it
//     and clears it when it reloads. Changes publish their invalidations to
//     the feed (and wait the lease) after they commit, and the Postgres
//     outbox, written in the change's transaction, is relayed to the feed by
//     every instance, so a caller that died before publishing loses nothing.
//   - embedded: one process, so the cache is always trusted and changes
//     apply their invalidations to it directly.

// sharedKeyCache is the multi-instance cache, fed by the follower.
func sharedKeyCache(store port.APIKeyAuthStore, clock port.Clock, f *revocation.Follower) *apikey.Cache {
	c := apikey.NewCache(store, clock, f.Fresh, apikey.CacheSettings{})
	f.Subscribe(c.Apply, c.Clear)
	return c
}

// sharedKeyInvalidator publishes to the feed and waits the lease.
func sharedKeyInvalidator(cache *redisadapter.Denylist, f *revocation.Follower, r *revocation.Rebuilder) port.KeyInvalidator {
	return revocation.Invalidator{Feed: cache.Feed(), Follower: f, Rebuilder: r}
}

// startOutboxRelay relays the Postgres invalidation outbox to the feed
// while the app runs.
func startOutboxRelay(lc fx.Lifecycle, db *sqlx.DB, cache *redisadapter.Denylist, log *zap.Logger) {
	l := log.Named("apikey")
	feed := cache.Feed()
	relay := apikey.NewRelay(pgadapter.NewInvalidationOutbox(db), feed.Publish, apikey.RelaySettings{}, func(o apikey.RelayOutcome) {
		if o.Err != nil {
			l.Warn("relaying API-key invalidations from the outbox failed; will retry", zap.Int("published", o.Published), zap.Error(o.Err))
		}
	})
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error { relay.Start(); return nil },
		OnStop:  relay.Stop,
	})
}

// localKeyCache is the embedded cache: the one process sees every change.
func localKeyCache(store port.APIKeyAuthStore, clock port.Clock) *apikey.Cache {
	return apikey.NewCache(store, clock, func() bool { return true }, apikey.CacheSettings{})
}

// localKeyInvalidator applies invalidations to the embedded cache at once.
func localKeyInvalidator(c *apikey.Cache) port.KeyInvalidator {
	return apikey.LocalInvalidator{Cache: c}
}
