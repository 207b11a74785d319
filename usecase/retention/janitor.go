// Package retention is the data lifecycle (contract §14): the janitor that
// deletes ended sessions, stopped API keys, old audit events and old webhook
// deliveries once they are past their retention, one instance at a time.
package retention

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m9m/auth/port"
)

// DefaultBatchSize is how many rows one purge statement deletes: small
// enough that each statement is short, large enough that a backlog of
// millions clears in a few thousand statements.
const DefaultBatchSize = 1000

// Policy is how long each kind of data is kept (the retention section).
type Policy struct {
	// Sessions is how long an ended or expired session is kept. API keys
	// that expired or were revoked are kept as long: both are the history
	// of a user's credentials.
	Sessions time.Duration
	// AuditEvents is how long an audit event is kept.
	AuditEvents time.Duration
	// Executions is how long a webhook delivery is kept.
	Executions time.Duration
	// TokenLifetime is the longest a token issued at a session's last
	// refresh is accepted (token expiration plus clock leeway): a session
	// never ended counts as expired only that long after its last refresh,
	// so a live session is never deleted, whatever the retention.
	TokenLifetime time.Duration
	// BatchSize is how many rows one statement deletes (DefaultBatchSize
	// when 0).
	BatchSize int
}

// Deps are the janitor's ports.
type Deps struct {
	Lock       port.JanitorLock
	Sessions   port.SessionPurger
	Keys       port.APIKeyPurger
	Audit      port.AuditPurger
	Executions port.ExecutionPurger
	Clock      port.Clock
}

// Counts is how many rows one pass deleted, by kind.
type Counts struct {
	Sessions    int
	APIKeys     int
	AuditEvents int
	Executions  int
}

// Total is the sum of every kind.
func (c Counts) Total() int { return c.Sessions + c.APIKeys + c.AuditEvents + c.Executions }

// Kinds lists the counts with their names (the metric's and the log's
// labels), in a fixed order.
func (c Counts) Kinds() []KindCount {
	return []KindCount{
		{"sessions", c.Sessions},
		{"api_keys", c.APIKeys},
		{"audit_events", c.AuditEvents},
		{"executions", c.Executions},
	}
}

// KindCount is one kind of data and how many of its rows were deleted.
type KindCount struct {
	Kind    string
	Deleted int
}

// Report is the outcome of one pass.
type Report struct {
	Counts
	// Skipped is true when another instance held the lock: this pass did
	// nothing, which is not an error.
	Skipped bool
	// Cutoffs are the instants before which each kind was deleted.
	SessionsBefore, AuditEventsBefore, ExecutionsBefore time.Time
}

// Janitor runs retention passes.
type Janitor struct {
	deps   Deps
	policy Policy
}

// New returns a janitor. Every duration of p must be positive.
func New(deps Deps, p Policy) *Janitor {
	if p.BatchSize <= 0 {
		p.BatchSize = DefaultBatchSize
	}
	return &Janitor{deps: deps, policy: p}
}

// Pass runs one retention pass now, unless another instance is running one
// (Report.Skipped). Each kind is deleted in batches until none is left; a
// failing kind does not stop the others, and its error is returned with
// the counts of what was deleted. Cancelling ctx stops between batches.
func (j *Janitor) Pass(ctx context.Context) (Report, error) {
	release, ok, err := j.deps.Lock.TryAcquire(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("retention: janitor lock: %w", err)
	}
	if !ok {
		return Report{Skipped: true}, nil
	}
	defer release()

	now := j.deps.Clock.Now()
	p := j.policy
	r := Report{
		SessionsBefore:    now.Add(-p.Sessions),
		AuditEventsBefore: now.Add(-p.AuditEvents),
		ExecutionsBefore:  now.Add(-p.Executions),
	}
	idleBefore := r.SessionsBefore.Add(-p.TokenLifetime)
	var errs []error
	run := func(kind string, into *int, purge func(limit int) (int, error)) {
		n, err := j.drain(ctx, purge)
		*into = n
		if err != nil {
			errs = append(errs, fmt.Errorf("retention: purge %s: %w", kind, err))
		}
	}
	run("sessions", &r.Sessions, func(limit int) (int, error) {
		return j.deps.Sessions.PurgeSessions(ctx, r.SessionsBefore, idleBefore, limit)
	})
	run("api keys", &r.APIKeys, func(limit int) (int, error) {
		return j.deps.Keys.PurgeAPIKeys(ctx, r.SessionsBefore, limit)
	})
	run("audit events", &r.AuditEvents, func(limit int) (int, error) {
		return j.deps.Audit.PurgeAuditEvents(ctx, r.AuditEventsBefore, limit)
	})
	run("executions", &r.Executions, func(limit int) (int, error) {
		return j.deps.Executions.PurgeExecutions(ctx, r.ExecutionsBefore, limit)
	})
	return r, errors.Join(errs...)
}

// drain calls purge batch after batch until one deletes fewer than a full
// batch, and returns the total.
func (j *Janitor) drain(ctx context.Context, purge func(limit int) (int, error)) (int, error) {
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := purge(j.policy.BatchSize)
		total += n
		if err != nil || n < j.policy.BatchSize {
			return total, err
		}
	}
}
