package apikey

import (
	"context"
	"fmt"

	"github.com/m9m/auth/domain"
	ak "github.com/m9m/auth/domain/apikey"
	"github.com/m9m/auth/domain/principal"
)

// Page sizes of the key listing.
const (
	DefaultListLimit = 50
	MaxListLimit     = 100
)

// ListInput selects a page of keys.
type ListInput struct {
	// UserID lists that user's keys instead of the caller's (admins only).
	UserID string
	// Cursor continues from a previous page ("" for the first).
	Cursor string
	// Limit is the page size, 1–MaxListLimit; 0 means DefaultListLimit.
	Limit int
}

// Page is one page of keys, newest first. NextCursor is "" on the last page.
type Page struct {
	Keys       []ak.Key
	NextCursor string
}

// List returns the caller's keys that are not revoked (or still inside a
// rotation's grace), newest first; an admin may list another user's. The
// records hold no key, only its display prefix.
func (s *Service) List(ctx context.Context, p principal.Principal, in ListInput) (Page, error) {
	limit := in.Limit
	if limit == 0 {
		limit = DefaultListLimit
	}
	if limit < 1 || limit > MaxListLimit {
		return Page{}, domain.InvalidField("limit", fmt.Sprintf("must be between 1 and %d", MaxListLimit))
	}
	owner := p.UserID
	if in.UserID != "" && in.UserID != p.UserID {
		if !p.ManagesOthers() {
			return Page{}, domain.ErrForbidden.WithMessage("Listing another user's API keys needs users:manage")
		}
		if _, err := s.Users.Get(ctx, in.UserID); err != nil {
			return Page{}, err
		}
		owner = in.UserID
	}
	if owner == "" {
		// The basic-auth credential without a user account owns nothing.
		return Page{Keys: []ak.Key{}}, nil
	}
	keys, next, err := s.Keys.ListByOwner(ctx, owner, s.now(), in.Cursor, limit)
	if err != nil {
		return Page{}, err
	}
	if keys == nil {
		keys = []ak.Key{}
	}
	return Page{Keys: keys, NextCursor: next}, nil
}
