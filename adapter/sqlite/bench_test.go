package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/sqlite"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/test/testenv"
)

// BenchmarkGetByDigest is the API-key request path's one read, in process.
func BenchmarkGetByDigest(b *testing.B) {
	ctx := context.Background()
	db := testenv.SQLite(b)
	users, keys := sqlite.NewUserStore(db), sqlite.NewAPIKeyStore(db)
	u := seedUser(domain.NewID())
	if err := users.Create(ctx, u); err != nil {
		b.Fatal(err)
	}
	digest := domain.NewID() + domain.NewID()
	k := apikey.Key{ID: domain.NewID(), OwnerID: u.ID, Name: "bench", Prefix: "m9m_sk_abc", Digest: digest, CreatedAt: time.Now()}
	if err := keys.Create(ctx, k, 0); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := keys.GetByDigest(ctx, digest); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
