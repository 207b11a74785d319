package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/m9m/auth/adapter/memory"
	"github.com/m9m/auth/adapter/metrics"
	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
)

// TestAuditSeries: the decorators count the events of audited writes that
// committed, by action, and nothing for a write that failed; the queue's
// drops are counted by reason, with zeros exported from the start.
func TestAuditSeries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := metrics.New()
	if out := scrape(t, m, "/metrics"); !strings.Contains(out, `m9m_audit_events_dropped_total{reason="queue_full"} 0`) {
		t.Fatalf("drop series not exported before the first drop:\n%s", out)
	}
	trail := memory.NewAuditStore()
	users, sessions := memory.NewUserStore(), memory.NewSessionStore()
	users.AttachAudit(trail)
	sessions.AttachAudit(trail)
	us := metrics.CountingUserStore{UserStore: users, Metrics: m}
	ss := metrics.CountingSessionStore{SessionStore: sessions, Metrics: m}
	ev := func(a audit.Action) audit.Event {
		return audit.Event{ID: domain.NewID(), Time: time.Now(), Action: a, Outcome: audit.OutcomeSuccess}
	}

	u := &user.User{ID: domain.NewID(), Username: "counted", Role: user.RoleViewer, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := us.Create(ctx, u, ev(audit.ActionUserCreate)); err != nil {
		t.Fatal(err)
	}
	dup := *u
	dup.ID = domain.NewID()
	if err := us.Create(ctx, &dup, ev(audit.ActionUserCreate)); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("duplicate create = %v", err)
	}
	if _, err := us.Update(ctx, u.ID, func(*user.User) error { return nil }, ev(audit.ActionUserUpdate), ev(audit.ActionPasswordChange)); err != nil {
		t.Fatal(err)
	}
	s := session.Session{ID: domain.NewID(), UserID: u.ID, CreatedAt: time.Now(), LastRefreshedAt: time.Now()}
	if err := ss.Create(ctx, s, ev(audit.ActionLogin)); err != nil {
		t.Fatal(err)
	}
	if err := ss.Touch(ctx, domain.NewID(), time.Now(), ev(audit.ActionRefresh)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("touch of an unknown session = %v", err)
	}
	m.AuditDropped(metrics.AuditDropQueueFull, 3)

	out := scrape(t, m, "/metrics")
	for _, w := range []string{
		`m9m_audit_events_durable_total{action="user.create"} 1`,
		`m9m_audit_events_durable_total{action="user.update"} 1`,
		`m9m_audit_events_durable_total{action="auth.password_change"} 1`,
		`m9m_audit_events_durable_total{action="auth.login"} 1`,
		`m9m_audit_events_dropped_total{reason="queue_full"} 3`,
		`m9m_audit_events_dropped_total{reason="insert_failed"} 0`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("scrape lacks %q", w)
		}
	}
	if strings.Contains(out, `action="auth.refresh"`) {
		t.Error("a failed write was counted as durable")
	}
	if page, _ := trail.List(ctx, audit.Query{}); len(page.Events) != 4 {
		t.Fatalf("%d events stored, want the 4 of the writes that committed", len(page.Events))
	}
}
