package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/session"
	"github.com/m9m/auth/port"
)

// RevocationRecord is an in-process port.RevocationRecord, for unit tests
// (it is as durable as the process).
type RevocationRecord struct {
	mu      sync.Mutex
	entries map[revocationKey]session.Revocation
}

type revocationKey struct {
	kind session.RevocationKind
	id   string
}

var _ port.RevocationRecord = (*RevocationRecord)(nil)

// NewRevocationRecord returns an empty record.
func NewRevocationRecord() *RevocationRecord {
	return &RevocationRecord{entries: make(map[revocationKey]session.Revocation)}
}

// Revoke records r, keeping the later Until and NotBefore.
func (m *RevocationRecord) Revoke(ctx context.Context, r session.Revocation) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("revocations", err)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mergeLocked(r)
	return nil
}

func (m *RevocationRecord) mergeLocked(r session.Revocation) {
	k := revocationKey{r.Kind, r.ID}
	r.Until, r.NotBefore = dbTime(r.Until), dbTime(r.NotBefore)
	if cur, ok := m.entries[k]; ok {
		if cur.Until.After(r.Until) {
			r.Until = cur.Until
		}
		if cur.NotBefore.After(r.NotBefore) {
			r.NotBefore = cur.NotBefore
		}
		if cur.Successor != "" {
			r.Successor = cur.Successor
		}
	}
	m.entries[k] = r
}

// ClaimRefresh records jti's one successor; the first one wins.
func (m *RevocationRecord) ClaimRefresh(ctx context.Context, jti, successor string, until time.Time) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("revocations", err)
	}
	if jti == "" || successor == "" {
		return domain.Invalid(domain.FieldError{Field: "jti", Message: "jti and successor are required"})
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.entries[revocationKey{session.RevokeToken, jti}]; ok && cur.Successor != successor {
		return domain.ErrUnauthenticated
	}
	m.mergeLocked(session.Revocation{Kind: session.RevokeToken, ID: jti, Until: until, Successor: successor})
	return nil
}

// InForce calls fn with every revocation whose Until is after now. fn runs
// on a copy, so it may call back into the record.
func (m *RevocationRecord) InForce(ctx context.Context, now time.Time, fn func(session.Revocation) error) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("revocations", err)
	}
	m.mu.Lock()
	live := make([]session.Revocation, 0, len(m.entries))
	for _, r := range m.entries {
		if r.Until.After(now) {
			live = append(live, r)
		}
	}
	m.mu.Unlock()
	for _, r := range live {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// Purge deletes the revocations whose Until is not after before.
func (m *RevocationRecord) Purge(ctx context.Context, before time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, domain.Unavailable("revocations", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, r := range m.entries {
		if !r.Until.After(before) {
			delete(m.entries, k)
			n++
		}
	}
	return n, nil
}

// Ready reports the in-process denylist complete: it lives and dies with the
// process, and is filled by Rebuild at start.
func (d *Denylist) Ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("denylist", err)
	}
	return nil
}

// Rebuild adds every revocation record holds in force, merged with what the
// denylist holds (the later until wins), as the embedded mode does at start.
func (d *Denylist) Rebuild(ctx context.Context, record port.RevocationRecord) error {
	return record.InForce(ctx, d.clock.Now(), func(r session.Revocation) error {
		switch r.Kind {
		case session.RevokeToken:
			return d.DenyToken(ctx, r.ID, r.Until)
		case session.RevokeSession:
			return d.DenySession(ctx, r.ID, r.Until)
		case session.RevokeUser:
			return d.DenyUserBefore(ctx, r.ID, r.NotBefore, r.Until)
		}
		return domain.Internal(errors.New("denylist: unknown revocation kind " + string(r.Kind)))
	})
}

// Invalidate does nothing: an in-process write cannot leave the denylist
// behind the record (it fails only with a cancelled context, before any
// record write).
func (d *Denylist) Invalidate(context.Context) error { return nil }

var _ port.RevocationCache = (*Denylist)(nil)
