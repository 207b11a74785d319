package metrics

import (
	"context"
	"time"

	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// durable counts the events of an audited write that succeeded: they were
// committed with their change. It returns err unchanged.
func (m *Metrics) durable(events []audit.Event, err error) error {
	if m == nil || err != nil {
		return err
	}
	for _, e := range events {
		m.auditDurable.WithLabelValues(string(e.Action)).Inc()
	}
	return nil
}

// The Counting*Store decorators count the audit events their store's
// writes commit (m9m_audit_events_durable_total), without the stores
// knowing about metrics, whichever adapter is underneath. Reads pass
// through.

// CountingUserStore counts the audited writes of a port.UserStore.
type CountingUserStore struct {
	port.UserStore
	Metrics *Metrics
}

// Create creates and counts.
func (s CountingUserStore) Create(ctx context.Context, u *user.User, events ...audit.Event) error {
	return s.Metrics.durable(events, s.UserStore.Create(ctx, u, events...))
}

// Update updates and counts.
func (s CountingUserStore) Update(ctx context.Context, id string, fn func(*user.User) error, events ...audit.Event) (*user.User, error) {
	u, err := s.UserStore.Update(ctx, id, fn, events...)
	return u, s.Metrics.durable(events, err)
}

// Delete deletes and counts.
func (s CountingUserStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	return s.Metrics.durable(events, s.UserStore.Delete(ctx, id, events...))
}

// CountingUserRemover counts the audited removals of a port.UserRemover.
type CountingUserRemover struct {
	port.UserRemover
	Metrics *Metrics
}

// Remove removes and counts.
func (r CountingUserRemover) Remove(ctx context.Context, rm port.UserRemoval) (int, error) {
	n, err := r.UserRemover.Remove(ctx, rm)
	return n, r.Metrics.durable(rm.Events, err)
}

// CountingSessionStore counts the audited writes of a port.SessionStore.
type CountingSessionStore struct {
	port.SessionStore
	Metrics *Metrics
}

// Create creates and counts.
func (s CountingSessionStore) Create(ctx context.Context, sess session.Session, events ...audit.Event) error {
	return s.Metrics.durable(events, s.SessionStore.Create(ctx, sess, events...))
}

// Touch touches and counts.
func (s CountingSessionStore) Touch(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	return s.Metrics.durable(events, s.SessionStore.Touch(ctx, id, at, events...))
}

// End ends and counts.
func (s CountingSessionStore) End(ctx context.Context, id string, at time.Time, events ...audit.Event) error {
	return s.Metrics.durable(events, s.SessionStore.End(ctx, id, at, events...))
}

// CountingAPIKeyStore counts the audited writes of a port.APIKeyStore.
type CountingAPIKeyStore struct {
	port.APIKeyStore
	Metrics *Metrics
}

// Create creates and counts.
func (s CountingAPIKeyStore) Create(ctx context.Context, k apikey.Key, maxActive int, events ...audit.Event) error {
	return s.Metrics.durable(events, s.APIKeyStore.Create(ctx, k, maxActive, events...))
}

// Update updates and counts.
func (s CountingAPIKeyStore) Update(ctx context.Context, id string, fn func(*apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	k, err := s.APIKeyStore.Update(ctx, id, fn, events...)
	return k, s.Metrics.durable(events, err)
}

// Rotate rotates and counts.
func (s CountingAPIKeyStore) Rotate(ctx context.Context, id string, successor apikey.Key, maxActive int, fn func(*apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	k, err := s.APIKeyStore.Rotate(ctx, id, successor, maxActive, fn, events...)
	return k, s.Metrics.durable(events, err)
}

// CountingWorkflowStore counts the audited writes of a port.WorkflowStore.
type CountingWorkflowStore struct {
	port.WorkflowStore
	Metrics *Metrics
}

// Create creates and counts.
func (s CountingWorkflowStore) Create(ctx context.Context, wf *workflow.Workflow, events ...audit.Event) error {
	return s.Metrics.durable(events, s.WorkflowStore.Create(ctx, wf, events...))
}

// Update updates and counts.
func (s CountingWorkflowStore) Update(ctx context.Context, id string, fn func(*workflow.Workflow) error, events ...audit.Event) (*workflow.Workflow, error) {
	wf, err := s.WorkflowStore.Update(ctx, id, fn, events...)
	return wf, s.Metrics.durable(events, err)
}

// Delete deletes and counts.
func (s CountingWorkflowStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	return s.Metrics.durable(events, s.WorkflowStore.Delete(ctx, id, events...))
}
