package e2e_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/adapter/redis"
	"github.com/m9m/auth/test/testenv"
)

// BenchmarkRevocationRebuild100k measures what a Redis that lost its memory
// costs: rebuilding the denylist from 100,000 revocations in force in
// Postgres (tokens, sessions and users in equal parts), read in one pass and
// written to Redis in pipelined batches of 1,000. JWT requests answer 503
// for about this long.
//
//	go test -run '^$' -bench RevocationRebuild100k -benchtime 3x ./test/e2e/
func BenchmarkRevocationRebuild100k(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	const n = 100_000
	if _, err := db.ExecContext(ctx, `
		INSERT INTO revocations (kind, id, until, not_before)
		SELECT (ARRAY['token', 'session', 'user'])[1 + g % 3], 'bench-' || g || '-' || md5(random()::text),
		       now() + interval '15 minutes', CASE WHEN g % 3 = 2 THEN now() END
		FROM generate_series(1, $1) AS g`, n); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = db.ExecContext(context.Background(), `DELETE FROM revocations WHERE id LIKE 'bench-%'`) })
	client, prefix := testenv.Redis(b)
	record := postgres.NewRevocationRecord(db)
	denylist := redis.NewDenylist(client, prefix, memory.NewClock(time.Now()))
	for b.Loop() {
		b.StopTimer()
		iter := client.Scan(ctx, 0, prefix+"*", 5000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		for len(keys) > 0 { // what a restart without persistence does
			k := keys[:min(len(keys), 5000)]
			keys = keys[len(k):]
			if err := client.Del(ctx, k...).Err(); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := denylist.Rebuild(ctx, record); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "revocations/s")
}
