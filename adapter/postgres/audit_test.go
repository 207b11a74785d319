package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/m9m/auth/adapter/postgres"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/port"
	"github.com/m9m/auth/port/porttest"
	"github.com/m9m/auth/test/testenv"
)

func TestAuditStore(t *testing.T) {
	db := testenv.DB(t)
	porttest.AuditStore(t, func(*testing.T) port.AuditStore { return postgres.NewAuditStore(db) })
}

// TestAuditEventsOutliveTheirActor: actor_id is not a foreign key, so the
// trail of a deleted user stays.
func TestAuditEventsOutliveTheirActor(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	users, store := postgres.NewUserStore(db), postgres.NewAuditStore(db)
	u := newUser(domain.NewID())
	if err := users.Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	e := audit.Event{ID: domain.NewID(), Time: u.CreatedAt, ActorID: u.ID, Action: audit.ActionLogin, Outcome: audit.OutcomeSuccess}
	if err := store.Insert(ctx, []audit.Event{e}); err != nil {
		t.Fatal(err)
	}
	if err := users.Delete(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	page, err := store.List(ctx, audit.Query{ActorID: u.ID})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("events of a deleted user: %d, %v; want 1", len(page.Events), err)
	}
}

// TestAuditListUsesTheIndexes checks the plans of the listing queries, so a
// filter that silently falls back to a full scan and sort is caught here and
// not in production.
func TestAuditListUsesTheIndexes(t *testing.T) {
	ctx := context.Background()
	db := testenv.DB(t)
	conn, err := db.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	// A tiny test table would be scanned and sorted whatever the indexes;
	// make everything but an ordered index scan prohibitively expensive, so
	// a Sort left in the plan means no index serves that filter and order.
	for _, set := range []string{"enable_seqscan", "enable_bitmapscan", "enable_sort"} {
		if _, err := conn.ExecContext(ctx, "SET "+set+" = off"); err != nil {
			t.Fatal(err)
		}
		defer conn.ExecContext(context.Background(), "RESET "+set) //nolint:errcheck // best effort on a private connection
	}
	cur := audit.EncodeCursor(audit.Position{Time: auditTestTime, ID: "x"})
	tests := []struct {
		name      string
		q         audit.Query
		wantIndex string
	}{
		{"unfiltered", audit.Query{Limit: 50, Cursor: cur}, "audit_events_occurred_at_id_idx"},
		{"time window", audit.Query{From: auditTestTime, To: auditTestTime.Add(time.Hour), Limit: 50}, "audit_events_occurred_at_id_idx"},
		{"actor", audit.Query{ActorID: "a", Limit: 50, Cursor: cur}, "audit_events_actor_idx"},
		{"action", audit.Query{Action: audit.ActionLogin, Limit: 50, Cursor: cur}, "audit_events_action_idx"},
		{"actor and action", audit.Query{ActorID: "a", Action: audit.ActionLogin, Limit: 50}, "audit_events_a"},
	}
	for _, tc := range tests {
		sqlText, args, err := postgres.AuditListQuery(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		if err := conn.SelectContext(ctx, &plan, "EXPLAIN "+sqlText, args...); err != nil {
			t.Fatalf("%s: explain: %v", tc.name, err)
		}
		text := strings.Join(plan, "\n")
		if auditContainsAny(text, "Seq Scan", "Sort") || !strings.Contains(text, "Index Scan using "+tc.wantIndex) {
			t.Errorf("%s: want an ordered scan of %s*, got:\n%s", tc.name, tc.wantIndex, text)
		}
	}
}

func TestAuditStoreUnavailable(t *testing.T) {
	db := auditUnreachableDB(t)
	store := postgres.NewAuditStore(db)
	err := store.Insert(context.Background(), []audit.Event{{ID: "x", Action: audit.ActionLogin}})
	if !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("Insert = %v, want ErrUnavailable", err)
	}
	if _, err := store.List(context.Background(), audit.Query{}); !errors.Is(err, domain.ErrUnavailable) {
		t.Fatalf("List = %v, want ErrUnavailable", err)
	}
}

var auditTestTime = time.Date(2026, 1, 27, 10, 0, 0, 0, time.UTC)

func auditContainsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func auditUnreachableDB(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// BenchmarkAuditInsert measures batched inserts (the writer's default batch
// is 100) against one event per statement, the only database work auditing
// causes.
func BenchmarkAuditInsert(b *testing.B) {
	db := testenv.DB(b)
	store := postgres.NewAuditStore(db)
	actor := domain.NewID()
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			for range b.N {
				batch := make([]audit.Event, size)
				for i := range batch {
					batch[i] = audit.Event{
						ID: domain.NewID(), Time: time.Now(), ActorID: actor, ActorName: "bench", Action: audit.ActionLogin,
						Outcome: audit.OutcomeSuccess, IP: "203.0.113.7", UserAgent: "bench/1", Metadata: map[string]string{"requestId": "r"},
					}
				}
				if err := store.Insert(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
