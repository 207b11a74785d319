package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// APIKeyStore is an in-process port.APIKeyStore and port.APIKeyAuthStore.
// Its owners live in a UserStore, as the Postgres table's owner_id refers to
// users: a key whose owner is gone is gone too (ON DELETE CASCADE), and
// GetByDigest joins the owner's current role and status.
type APIKeyStore struct {
	auditedWrites

	users *UserStore

	mu     sync.Mutex
	keys   map[string]apikey.Key
	digest map[string]string // digest → id
}

var (
	_ port.APIKeyStore     = (*APIKeyStore)(nil)
	_ port.APIKeyAuthStore = (*APIKeyStore)(nil)
)

// NewAPIKeyStore returns an empty store whose owners are users' users.
func NewAPIKeyStore(users *UserStore) *APIKeyStore {
	return &APIKeyStore{users: users, keys: make(map[string]apikey.Key), digest: make(map[string]string)}
}

func normalizeKey(k apikey.Key) apikey.Key {
	k.CreatedAt = dbTime(k.CreatedAt)
	k.Scopes = append([]user.Permission{}, k.Scopes...)
	for _, p := range []**time.Time{&k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.GraceUntil} {
		if *p != nil {
			t := dbTime(**p)
			*p = &t
		}
	}
	return k
}

// liveLocked returns the key with id if it and its owner exist. The caller
// holds s.mu; dropping a key of a deleted owner emulates the cascade.
func (s *APIKeyStore) liveLocked(ctx context.Context, id string) (apikey.Key, bool) {
	k, ok := s.keys[id]
	if !ok {
		return apikey.Key{}, false
	}
	if _, err := s.users.Get(ctx, k.OwnerID); err != nil {
		delete(s.keys, id)
		delete(s.digest, k.Digest)
		return apikey.Key{}, false
	}
	return k, true
}

func (s *APIKeyStore) activeCountLocked(ctx context.Context, ownerID string, at time.Time) int {
	n := 0
	for id, k := range s.keys {
		if k.OwnerID != ownerID || !k.Usable(at) {
			continue
		}
		if _, ok := s.liveLocked(ctx, id); ok {
			n++
		}
	}
	return n
}

// insertLocked stores k and its events after the owner and uniqueness checks.
func (s *APIKeyStore) insertLocked(ctx context.Context, k apikey.Key, events []audit.Event) error {
	if _, err := s.users.Get(ctx, k.OwnerID); err != nil {
		return domain.ErrNotFound.WithMessage("Owner not found")
	}
	if _, ok := s.liveLocked(ctx, k.ID); ok {
		return domain.ErrConflict
	}
	if id, ok := s.digest[k.Digest]; ok {
		if _, live := s.liveLocked(ctx, id); live {
			return domain.ErrConflict
		}
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	k = normalizeKey(k)
	s.keys[k.ID] = k
	s.digest[k.Digest] = k.ID
	return nil
}

// Create stores k unless its owner is at maxActive active keys.
func (s *APIKeyStore) Create(ctx context.Context, k apikey.Key, maxActive int, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.users.Get(ctx, k.OwnerID); err != nil {
		return domain.ErrNotFound.WithMessage("Owner not found")
	}
	if maxActive > 0 && s.activeCountLocked(ctx, k.OwnerID, dbTime(k.CreatedAt)) >= maxActive {
		return domain.ErrConflict.Wrap(port.ErrKeyLimit)
	}
	return s.insertLocked(ctx, k, events)
}

// Get returns the key with id.
func (s *APIKeyStore) Get(ctx context.Context, id string) (*apikey.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.liveLocked(ctx, id)
	if !ok {
		return nil, domain.ErrNotFound
	}
	k = normalizeKey(k)
	return &k, nil
}

// ListByOwner pages through ownerID's live keys, newest first.
func (s *APIKeyStore) ListByOwner(ctx context.Context, ownerID string, liveAt time.Time, cursor string, limit int) ([]apikey.Key, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", domain.Unavailable("memory", err)
	}
	if limit < 1 || limit > port.MaxListLimit {
		return nil, "", domain.InvalidField("limit", "must be between 1 and 1000")
	}
	var after *pageKey
	if cursor != "" {
		k, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		after = &k
	}
	s.mu.Lock()
	var all []apikey.Key
	for id, k := range s.keys {
		if k.OwnerID != ownerID || !listed(k, liveAt) || (after != nil && !after.beforeDesc(k.CreatedAt, k.ID)) {
			continue
		}
		if _, ok := s.liveLocked(ctx, id); ok {
			all = append(all, normalizeKey(k))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b apikey.Key) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	if len(all) <= limit {
		return all, "", nil
	}
	page := all[:limit]
	last := page[len(page)-1]
	return page, encodeCursor(pageKey{T: last.CreatedAt, ID: last.ID}), nil
}

// listed reports whether k belongs in its owner's listing at t: not
// revoked, or revoked by a rotation whose grace has not ended.
func listed(k apikey.Key, t time.Time) bool {
	return k.RevokedAt == nil || (k.GraceUntil != nil && t.Before(*k.GraceUntil))
}

// beforeDesc reports whether the row (t, id) comes after k in newest-first order.
func (k pageKey) beforeDesc(t time.Time, id string) bool {
	if c := t.Compare(k.T); c != 0 {
		return c < 0
	}
	return id < k.ID
}

// updateLocked applies fn to the key with id, keeping its identity fields,
// and stores events with the result.
func (s *APIKeyStore) updateLocked(ctx context.Context, id string, fn func(*apikey.Key) error, events []audit.Event) (*apikey.Key, error) {
	cur, ok := s.liveLocked(ctx, id)
	if !ok {
		return nil, domain.ErrNotFound
	}
	next := normalizeKey(cur)
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.OwnerID, next.Digest, next.Prefix, next.CreatedAt = cur.ID, cur.OwnerID, cur.Digest, cur.Prefix, cur.CreatedAt
	if err := s.appendLocked(ctx, events); err != nil {
		return nil, err
	}
	next = normalizeKey(next)
	s.keys[id] = next
	out := normalizeKey(next)
	return &out, nil
}

// Update applies fn to the key with id under the store's lock.
func (s *APIKeyStore) Update(ctx context.Context, id string, fn func(*apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateLocked(ctx, id, fn, events)
}

// Rotate retires the key with id through fn and inserts successor, both or neither.
func (s *APIKeyStore) Rotate(ctx context.Context, id string, successor apikey.Key, maxActive int, fn func(old *apikey.Key) error, events ...audit.Event) (*apikey.Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	before, ok := s.liveLocked(ctx, id)
	if !ok {
		return nil, domain.ErrNotFound
	}
	old, err := s.updateLocked(ctx, id, fn, nil)
	if err != nil {
		return nil, err
	}
	at := dbTime(successor.CreatedAt)
	if maxActive > 0 && old.Usable(at) && s.activeCountLocked(ctx, old.OwnerID, at) >= maxActive {
		s.keys[id] = before // roll back
		return nil, domain.ErrConflict.Wrap(port.ErrKeyLimit)
	}
	if err := s.insertLocked(ctx, successor, events); err != nil {
		s.keys[id] = before // roll back
		return nil, err
	}
	return old, nil
}

// GetByDigest returns the key with digest and its owner's standing.
func (s *APIKeyStore) GetByDigest(ctx context.Context, digest string) (*port.KeyGrant, error) {
	if err := ctx.Err(); err != nil {
		return nil, domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.digest[digest]
	if !ok {
		return nil, domain.ErrNotFound
	}
	k, ok := s.liveLocked(ctx, id)
	if !ok {
		return nil, domain.ErrNotFound
	}
	owner, err := s.users.Get(ctx, k.OwnerID)
	if err != nil {
		return nil, domain.ErrNotFound
	}
	return &port.KeyGrant{
		Key:           normalizeKey(k),
		OwnerUsername: owner.Username,
		OwnerRole:     owner.Role,
		OwnerDisabled: owner.Disabled,
	}, nil
}

// TouchLastUsed moves each key's lastUsedAt forward to its seen time.
func (s *APIKeyStore) TouchLastUsed(ctx context.Context, seen map[string]time.Time) error {
	if err := ctx.Err(); err != nil {
		return domain.Unavailable("memory", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, at := range seen {
		k, ok := s.keys[id]
		if !ok {
			continue
		}
		at = dbTime(at)
		if k.LastUsedAt == nil || k.LastUsedAt.Before(at) {
			k.LastUsedAt = &at
			s.keys[id] = k
		}
	}
	return nil
}
