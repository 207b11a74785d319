package porttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/domain/workflow"
	"github.com/m9m/auth/port"
)

// AuditedStores are the stores of one backend whose writes take audit
// events, and the audit store those events land in.
type AuditedStores struct {
	Users     port.UserStore
	Sessions  port.SessionStore
	Keys      port.APIKeyStore
	Workflows port.WorkflowStore
	Audit     port.AuditStore
}

// errAborted is what the suite's Update closures return to abort a write.
var errAborted = errors.New("porttest: aborted by fn")

// AuditedWrites runs the contract of audited writes (see port.AuditStore):
// a write that succeeds stores each of its events exactly once, as Insert
// would; a write that fails, for whatever reason, stores none. Each event has
// an actor of its own, so the suite reads back exactly what one write stored.
func AuditedWrites(t *testing.T, newStores func(t *testing.T) AuditedStores) {
	ctx := context.Background()

	t.Run("user create, update and delete store their events", func(t *testing.T) {
		s := newStores(t)
		u := newUser("audited")
		e := changeEvent(audit.ActionUserCreate, "user", u.ID)
		e.Metadata = map[string]string{"username": u.Username}
		noErr(t, s.Users.Create(ctx, u, e))
		wantEvents(t, s, e)

		up := changeEvent(audit.ActionUserUpdate, "user", u.ID)
		events := []audit.Event{up}
		_, err := s.Users.Update(ctx, u.ID, func(cur *user.User) error {
			cur.Role = user.RoleEditor
			events[0].Metadata = map[string]string{"role": string(cur.Role)} // completed by fn
			return nil
		}, events...)
		noErr(t, err)
		up.Metadata = map[string]string{"role": "editor"}
		wantEvents(t, s, up)

		del := changeEvent(audit.ActionUserDelete, "user", u.ID)
		noErr(t, s.Users.Delete(ctx, u.ID, del))
		wantEvents(t, s, del)
	})

	t.Run("failed user writes store no event", func(t *testing.T) {
		s := newStores(t)
		u := newUser("taken")
		noErr(t, s.Users.Create(ctx, u))
		dup := newUser("other")
		dup.Username = u.Username
		e1 := changeEvent(audit.ActionUserCreate, "user", dup.ID)
		wantErr(t, s.Users.Create(ctx, dup, e1), domain.ErrConflict)
		e2 := changeEvent(audit.ActionUserUpdate, "user", u.ID)
		_, err := s.Users.Update(ctx, u.ID, func(*user.User) error { return errAborted }, e2)
		wantErr(t, err, errAborted)
		e3 := changeEvent(audit.ActionUserUpdate, "user", "missing")
		_, err = s.Users.Update(ctx, domain.NewID(), func(*user.User) error { return nil }, e3)
		wantErr(t, err, domain.ErrNotFound)
		e4 := changeEvent(audit.ActionUserDelete, "user", "missing")
		wantErr(t, s.Users.Delete(ctx, domain.NewID(), e4), domain.ErrNotFound)
		wantNoEvents(t, s, e1, e2, e3, e4)
	})

	t.Run("session create, touch and end store their events", func(t *testing.T) {
		s := newStores(t)
		owner := auditedOwner(t, s)
		sess := session.Session{ID: domain.NewID(), UserID: owner, CreatedAt: base, LastRefreshedAt: base, IP: "192.0.2.1"}
		login := changeEvent(audit.ActionLogin, "session", sess.ID)
		noErr(t, s.Sessions.Create(ctx, sess, login))
		wantEvents(t, s, login)

		refresh := changeEvent(audit.ActionRefresh, "session", sess.ID)
		noErr(t, s.Sessions.Touch(ctx, sess.ID, base.Add(time.Minute), refresh))
		wantEvents(t, s, refresh)

		logout := changeEvent(audit.ActionLogout, "session", sess.ID)
		noErr(t, s.Sessions.End(ctx, sess.ID, base.Add(2*time.Minute), logout))
		wantEvents(t, s, logout)
		// Ending an ended session succeeds without change, and its event is stored.
		again := changeEvent(audit.ActionSessionEnd, "session", sess.ID)
		noErr(t, s.Sessions.End(ctx, sess.ID, base.Add(3*time.Minute), again))
		wantEvents(t, s, again)
	})

	t.Run("failed session writes store no event", func(t *testing.T) {
		s := newStores(t)
		owner := auditedOwner(t, s)
		sess := session.Session{ID: domain.NewID(), UserID: owner, CreatedAt: base, LastRefreshedAt: base}
		noErr(t, s.Sessions.Create(ctx, sess))
		e1 := changeEvent(audit.ActionLogin, "session", sess.ID)
		wantErr(t, s.Sessions.Create(ctx, sess, e1), domain.ErrConflict)
		e2 := changeEvent(audit.ActionRefresh, "session", "missing")
		wantErr(t, s.Sessions.Touch(ctx, domain.NewID(), base, e2), domain.ErrNotFound)
		noErr(t, s.Sessions.End(ctx, sess.ID, base))
		e3 := changeEvent(audit.ActionRefresh, "session", sess.ID)
		wantErr(t, s.Sessions.Touch(ctx, sess.ID, base.Add(time.Second), e3), domain.ErrNotFound)
		e4 := changeEvent(audit.ActionLogout, "session", "missing")
		wantErr(t, s.Sessions.End(ctx, domain.NewID(), base, e4), domain.ErrNotFound)
		wantNoEvents(t, s, e1, e2, e3, e4)
	})

	t.Run("key create, revoke and rotate store their events", func(t *testing.T) {
		s := newStores(t)
		owner := auditedOwner(t, s)
		k := newKey(owner, base)
		create := changeEvent(audit.ActionAPIKeyCreate, "api_key", k.ID)
		noErr(t, s.Keys.Create(ctx, k, 5, create))
		wantEvents(t, s, create)

		next := newKey(owner, base.Add(time.Second))
		rotate := changeEvent(audit.ActionAPIKeyRotate, "api_key", k.ID)
		rotate.Metadata = map[string]string{"successorId": next.ID}
		_, err := s.Keys.Rotate(ctx, k.ID, next, 0, func(old *apikey.Key) error {
			at := base.Add(time.Second)
			old.RevokedAt = &at
			return nil
		}, rotate)
		noErr(t, err)
		wantEvents(t, s, rotate)

		revoke := changeEvent(audit.ActionAPIKeyRevoke, "api_key", next.ID)
		_, err = s.Keys.Update(ctx, next.ID, func(cur *apikey.Key) error {
			at := base.Add(2 * time.Second)
			cur.RevokedAt = &at
			return nil
		}, revoke)
		noErr(t, err)
		wantEvents(t, s, revoke)
	})

	t.Run("failed key writes store no event", func(t *testing.T) {
		s := newStores(t)
		owner := auditedOwner(t, s)
		k := newKey(owner, base)
		noErr(t, s.Keys.Create(ctx, k, 1))
		e1 := changeEvent(audit.ActionAPIKeyCreate, "api_key", "over-limit")
		wantErr(t, s.Keys.Create(ctx, newKey(owner, base), 1, e1), port.ErrKeyLimit)
		e2 := changeEvent(audit.ActionAPIKeyCreate, "api_key", "no-owner")
		wantErr(t, s.Keys.Create(ctx, newKey(domain.NewID(), base), 0, e2), domain.ErrNotFound)
		e3 := changeEvent(audit.ActionAPIKeyRevoke, "api_key", k.ID)
		_, err := s.Keys.Update(ctx, k.ID, func(*apikey.Key) error { return errAborted }, e3)
		wantErr(t, err, errAborted)
		e4 := changeEvent(audit.ActionAPIKeyRotate, "api_key", k.ID)
		_, err = s.Keys.Rotate(ctx, k.ID, newKey(owner, base), 0, func(*apikey.Key) error { return errAborted }, e4)
		wantErr(t, err, errAborted)
		// The successor's digest is taken: the retirement rolls back, and the event with it.
		e5 := changeEvent(audit.ActionAPIKeyRotate, "api_key", k.ID)
		clash := newKey(owner, base)
		clash.Digest = k.Digest
		_, err = s.Keys.Rotate(ctx, k.ID, clash, 0, func(old *apikey.Key) error { old.RevokedAt = &base; return nil }, e5)
		wantErr(t, err, domain.ErrConflict)
		wantNoEvents(t, s, e1, e2, e3, e4, e5)
		got, err := s.Keys.Get(ctx, k.ID)
		noErr(t, err)
		if got.RevokedAt != nil {
			t.Fatal("a failed rotation retired the old key")
		}
	})

	t.Run("workflow create, update and delete store their events", func(t *testing.T) {
		s := newStores(t)
		wf := newWorkflow(auditedOwner(t, s), hmacHook("hooks/"+domain.NewID()))
		create := changeEvent(audit.ActionWorkflowCreate, "workflow", wf.ID)
		noErr(t, s.Workflows.Create(ctx, wf, create))
		wantEvents(t, s, create)

		events := []audit.Event{changeEvent(audit.ActionWorkflowUpdate, "workflow", wf.ID)}
		_, err := s.Workflows.Update(ctx, wf.ID, func(cur *workflow.Workflow) error {
			cur.Name = "renamed"
			events[0].Metadata = map[string]string{"name": cur.Name}
			return nil
		}, events...)
		noErr(t, err)
		wantEvents(t, s, events[0])

		del := changeEvent(audit.ActionWorkflowDelete, "workflow", wf.ID)
		noErr(t, s.Workflows.Delete(ctx, wf.ID, del))
		wantEvents(t, s, del)
	})

	t.Run("failed workflow writes store no event", func(t *testing.T) {
		s := newStores(t)
		owner := auditedOwner(t, s)
		wf := newWorkflow(owner, hmacHook("hooks/"+domain.NewID()))
		noErr(t, s.Workflows.Create(ctx, wf))
		taken := newWorkflow(owner, hmacHook(wf.Webhook.Path))
		e1 := changeEvent(audit.ActionWorkflowCreate, "workflow", taken.ID)
		wantErr(t, s.Workflows.Create(ctx, taken, e1), domain.ErrConflict)
		e2 := changeEvent(audit.ActionWorkflowUpdate, "workflow", wf.ID)
		_, err := s.Workflows.Update(ctx, wf.ID, func(*workflow.Workflow) error { return errAborted }, e2)
		wantErr(t, err, errAborted)
		e3 := changeEvent(audit.ActionWorkflowDelete, "workflow", "missing")
		wantErr(t, s.Workflows.Delete(ctx, domain.NewID(), e3), domain.ErrNotFound)
		wantNoEvents(t, s, e1, e2, e3)
	})

	t.Run("every event of a write is stored, sanitized, and a known ID is skipped", func(t *testing.T) {
		s := newStores(t)
		u := newUser("multi")
		known := changeEvent(audit.ActionUserCreate, "user", u.ID)
		noErr(t, s.Audit.Insert(ctx, []audit.Event{known}))
		a := changeEvent(audit.ActionUserCreate, "user", u.ID)
		a.UserAgent = "bad\x00agent\xff"
		b := changeEvent(audit.ActionUserUpdate, "user", u.ID)
		noErr(t, s.Users.Create(ctx, u, a, b, known))
		wantEvents(t, s, a.Sanitized(), b, known)
	})
}

// changeEvent is an event of action on target by an actor of its own.
func changeEvent(action audit.Action, targetType, targetID string) audit.Event {
	e := auditEvent(domain.NewID(), auditWindow())
	e.Action, e.TargetType, e.TargetID = action, targetType, targetID
	e.ActorName = "porttest"
	return e
}

// auditedOwner stores a user to own sessions, keys and workflows.
func auditedOwner(t *testing.T, s AuditedStores) string {
	t.Helper()
	u := newUser("owner")
	noErr(t, s.Users.Create(context.Background(), u))
	return u.ID
}

// wantEvents fails unless each event is stored exactly once, as given.
func wantEvents(t *testing.T, s AuditedStores, events ...audit.Event) {
	t.Helper()
	for _, want := range events {
		got := auditList(t, s.Audit, audit.Query{ActorID: want.ActorID}).Events
		if len(got) != 1 {
			t.Fatalf("%s on %s: %d events stored, want exactly 1", want.Action, want.TargetID, len(got))
		}
		auditSame(t, got[0], want)
	}
}

// wantNoEvents fails if any of events was stored.
func wantNoEvents(t *testing.T, s AuditedStores, events ...audit.Event) {
	t.Helper()
	for _, e := range events {
		if got := auditList(t, s.Audit, audit.Query{ActorID: e.ActorID}).Events; len(got) != 0 {
			t.Fatalf("%s on %s failed, yet %d events were stored", e.Action, e.TargetID, len(got))
		}
	}
}
