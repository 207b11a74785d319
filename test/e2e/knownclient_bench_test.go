package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/test/testenv"
	"github.com/m9m/auth/usecase/auth"
)

// BenchmarkKnownClientReplay100k measures the replay of the login
// throttle's known clients after a Redis loss: 100,000 sessions of 1,000
// users within known_client_ttl, read from Postgres in keyset pages of
// 1,000 and remembered in Redis one pipeline per page. It runs after the
// denylist's rebuild, so JWT requests are not held up by it.
//
//	go test -run '^$' -bench KnownClientReplay100k -benchtime 3x ./test/e2e/
func BenchmarkKnownClientReplay100k(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	const n, users = 100_000, 1000
	if _, err := db.ExecContext(ctx, `
		INSERT INTO users (id, username, role, password_hash, created_at, updated_at)
		SELECT 'kcbench-' || g, 'kcbench-' || g, 'viewer', 'x', now(), now() FROM generate_series(1, $1) AS g`, users); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, created_at, last_refreshed_at, ip)
		SELECT 'kcbench-' || g, 'kcbench-' || (1 + g % $2), now() - (g || ' seconds')::interval, now(),
		       '10.' || (g / 65536) % 256 || '.' || (g / 256) % 256 || '.' || g % 256
		FROM generate_series(1, $1) AS g`, n, users); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = db.ExecContext(context.Background(), `DELETE FROM users WHERE id LIKE 'kcbench-%'`) })
	client, prefix := testenv.Redis(b)
	clock := memory.NewClock(time.Now())
	throttle := redis.NewLoginThrottle(client, prefix, port.DefaultThrottleLimits(), clock)
	source := postgres.NewKnownClientSource(db)
	for b.Loop() {
		got, err := auth.ReplayKnownClients(ctx, source, throttle, clock.Now(), port.DefaultThrottleLimits().KnownClientTTL)
		if err != nil {
			b.Fatal(err)
		}
		if got < n {
			b.Fatalf("replayed %d sessions, want at least %d", got, n)
		}
	}
}
