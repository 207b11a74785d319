package memory

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// UserStore is an in-process port.UserStore and port.UserLister. Times are
// kept in UTC at microsecond precision, as Postgres keeps them, so tests see
// the same values from either store.
type UserStore struct {
	auditedWrites

	mu    sync.Mutex
	users map[string]user.User
	// workflows, once a UserRemover links it, plays the foreign key from
	// workflows to users: a user who owns workflows cannot be deleted.
	// Lock order: UserStore.mu before WorkflowStore.mu.
	workflows *WorkflowStore
}

var (
	_ port.UserStore  = (*UserStore)(nil)
	_ port.UserLister = (*UserStore)(nil)
)

// NewUserStore returns an empty store.
func NewUserStore() *UserStore {
	return &UserStore{users: make(map[string]user.User)}
}

// dbTime mirrors what a timestamptz column keeps of t.
func dbTime(t time.Time) time.Time {
	return t.UTC().Round(time.Microsecond)
}

func normalizeUser(u user.User) user.User {
	u.CreatedAt = dbTime(u.CreatedAt)
	u.UpdatedAt = dbTime(u.UpdatedAt)
	return u
}

// usernameTakenLocked reports whether another user than id holds username,
// ignoring case. The caller holds s.mu.
func (s *UserStore) usernameTakenLocked(username, id string) bool {
	key := strings.ToLower(username)
	for _, u := range s.users {
		if u.ID != id && strings.ToLower(u.Username) == key {
			return true
		}
	}
	return false
}

// Create stores u, assigning an ID if it has none.
func (s *UserStore) Create(ctx context.Context, u *user.User, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = domain.NewID()
	}
	if _, ok := s.users[u.ID]; ok {
		return domain.ErrConflict
	}
	if s.usernameTakenLocked(u.Username, u.ID) {
		return domain.ErrConflict.WithMessage("Username already taken")
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	s.users[u.ID] = normalizeUser(*u)
	return nil
}

// Get returns the user with id.
func (s *UserStore) Get(ctx context.Context, id string) (*user.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	return &u, nil
}

// GetByUsername returns the user whose username matches ignoring case.
func (s *UserStore) GetByUsername(ctx context.Context, username string) (*user.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := strings.ToLower(username)
	for _, u := range s.users {
		if strings.ToLower(u.Username) == key {
			return &u, nil
		}
	}
	return nil, domain.ErrNotFound
}

// Update applies fn to the user with id under the store's lock, which plays
// the part of the row lock: concurrent updates of a user run one at a time.
func (s *UserStore) Update(ctx context.Context, id string, fn func(*user.User) error, events ...audit.Event) (*user.User, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.users[id]
	if !ok {
		return nil, domain.ErrNotFound
	}
	next := cur
	if err := fn(&next); err != nil {
		return nil, err
	}
	next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
	if s.usernameTakenLocked(next.Username, id) {
		return nil, domain.ErrConflict.WithMessage("Username already taken")
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return nil, err
	}
	next = normalizeUser(next)
	s.users[id] = next
	return &next, nil
}

// Delete removes the user with id.
func (s *UserStore) Delete(ctx context.Context, id string, events ...audit.Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[id]; !ok {
		return domain.ErrNotFound
	}
	if s.workflows != nil && s.workflows.ownedBy(id) > 0 {
		return domain.ErrConflict.WithMessage("Resource is referenced by or refers to another resource")
	}
	if err := s.appendLocked(ctx, events); err != nil {
		return err
	}
	delete(s.users, id)
	return nil
}

// List pages through users ordered by (CreatedAt, ID).
func (s *UserStore) List(ctx context.Context, cursor string, limit int) ([]user.User, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	s.mu.Lock()
	all := make([]user.User, 0, len(s.users))
	for _, u := range s.users {
		all = append(all, u)
	}
	s.mu.Unlock()
	return ascendingPage(all, cursor, limit, func(u user.User) pageKey { return pageKey{T: u.CreatedAt, ID: u.ID} })
}

// ascendingPage is keyset pagination over items in (T, ID) order, as the
// Postgres stores do it: limit checked, cursor decoded, the items after the
// cursor sorted and cut to one page, with the next page's cursor.
func ascendingPage[T any](items []T, cursor string, limit int, key func(T) pageKey) ([]T, string, error) {
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
	kept := items[:0]
	for _, it := range items {
		if k := key(it); after == nil || after.before(k.T, k.ID) {
			kept = append(kept, it)
		}
	}
	slices.SortFunc(kept, func(a, b T) int {
		ka, kb := key(a), key(b)
		return cmp.Or(ka.T.Compare(kb.T), cmp.Compare(ka.ID, kb.ID))
	})
	if len(kept) <= limit {
		return kept, "", nil
	}
	page := kept[:limit]
	return page, encodeCursor(key(page[len(page)-1])), nil
}

// Count returns the number of users.
func (s *UserStore) Count(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users), nil
}

// pageKey is the position of the last row of a page, for keyset pagination.
type pageKey struct {
	T  time.Time `json:"t"`
	ID string    `json:"id"`
}

// before reports whether the row (t, id) sorts after k.
func (k pageKey) before(t time.Time, id string) bool {
	if c := t.Compare(k.T); c != 0 {
		return c > 0
	}
	return id > k.ID
}

func encodeCursor(k pageKey) string {
	b, _ := json.Marshal(k) // a time and a string always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (pageKey, error) {
	var k pageKey
	b, err := base64.RawURLEncoding.DecodeString(s)
	// A store refuses an id with NUL (Postgres: 22021), so such a cursor is
	// as malformed as any other.
	if err != nil || json.Unmarshal(b, &k) != nil || k.ID == "" || !domain.ValidText(k.ID) {
		return pageKey{}, domain.InvalidField("cursor", "malformed cursor")
	}
	return k, nil
}
