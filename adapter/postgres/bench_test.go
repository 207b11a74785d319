package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/test/testenv"
)

// BenchmarkAuditedWrite is what writing the event with its change costs
// (issue 16), on the local Postgres: each write without an event ("plain",
// what the change cost before) and with its event in the same transaction
// ("audited"). Session create is a login's write, session touch a
// refresh's (one statement either way), key create a key creation's (a
// transaction either way).
func BenchmarkAuditedWrite(b *testing.B) {
	ctx := context.Background()
	db := testenv.DB(b)
	users, sessions, keys := postgres.NewUserStore(db), postgres.NewSessionStore(db), postgres.NewAPIKeyStore(db)
	owner := newUser(domain.NewID())
	if err := users.Create(ctx, owner); err != nil {
		b.Fatal(err)
	}
	event := func(action audit.Action, target string) []audit.Event {
		return []audit.Event{{
			ID: domain.NewID(), Time: time.Now(), ActorID: owner.ID, ActorName: owner.Username, Action: action,
			TargetType: "x", TargetID: target, IP: "127.0.0.1", UserAgent: "bench", Outcome: audit.OutcomeSuccess,
			Metadata: map[string]string{"requestId": "0123456789abcdef"},
		}}
	}
	withEvent := func(mode string, action audit.Action, target string) []audit.Event {
		if mode == "plain" {
			return nil
		}
		return event(action, target)
	}
	for _, mode := range []string{"plain", "audited"} {
		b.Run("session_create/"+mode, func(b *testing.B) {
			for b.Loop() {
				now := time.Now()
				s := session.Session{ID: domain.NewID(), UserID: owner.ID, CreatedAt: now, LastRefreshedAt: now}
				if err := sessions.Create(ctx, s, withEvent(mode, audit.ActionLogin, s.ID)...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, mode := range []string{"plain", "audited"} {
		b.Run("session_touch/"+mode, func(b *testing.B) {
			now := time.Now()
			s := session.Session{ID: domain.NewID(), UserID: owner.ID, CreatedAt: now, LastRefreshedAt: now}
			if err := sessions.Create(ctx, s); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := sessions.Touch(ctx, s.ID, time.Now(), withEvent(mode, audit.ActionRefresh, s.ID)...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, mode := range []string{"plain", "audited"} {
		b.Run("key_create/"+mode, func(b *testing.B) {
			for b.Loop() {
				k := apikey.Key{
					ID: domain.NewID(), OwnerID: owner.ID, Name: "bench", Prefix: "m9m_sk_ben",
					Digest: domain.NewID() + domain.NewID(), Scopes: []user.Permission{user.PermWorkflowsRead}, CreatedAt: time.Now(),
				}
				if err := keys.Create(ctx, k, 0, withEvent(mode, audit.ActionAPIKeyCreate, k.ID)...); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
