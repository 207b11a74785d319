package redis_test

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestRevocationFeedContract(t *testing.T) {
	porttest.RevocationFeed(t, func(t *testing.T, clock *memory.Clock) porttest.FeedHarness {
		client, prefix := testenv.Redis(t)
		d := readyDenylist(t, client, prefix, clock)
		return porttest.FeedHarness{
			Denylist: d, Feed: d.Feed(),
			Trim: func(t *testing.T) {
				trimFeed(t, client, prefix)
			},
			Lose: func(t *testing.T) {
				forget(t, client, prefix)
				if err := d.Rebuild(context.Background(), memory.NewRevocationRecord()); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

// trimFeed deletes every entry of the feed under prefix, as its own
// trimming does (XDEL).
func trimFeed(t *testing.T, client goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	key := prefix + "{deny}:log"
	msgs, err := client.XRange(ctx, key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if err := client.XDel(ctx, key, m.ID).Err(); err != nil {
			t.Fatal(err)
		}
	}
}
