package users

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/m9m/auth/domain"
	"github.com/m9m/auth/domain/audit"
	"github.com/m9m/auth/domain/principal"
	"github.com/m9m/auth/domain/user"
	"github.com/m9m/auth/port"
)

// DeleteInput says what becomes of the workflows of the user being deleted
// (contract §7): moved to TransferTo, deleted with DeleteWorkflows, or,
// with neither, the deletion of a user who owns any is refused.
type DeleteInput struct {
	TransferTo      string
	DeleteWorkflows bool
}

// Delete removes a user and cuts off their tokens at once: their sessions
// are denied before the row goes (with it, by cascade, the session rows and
// API keys), and every token issued up to now is denied after. The user's
// workflows are transferred or deleted in the same transaction as the user,
// as in says; a user who owns workflows is never deleted without that
// decision (409). An admin cannot delete their own account (409). Once the
// removal is committed the cached grants of the user's keys are invalidated
// on every instance; if that fails the answer is 503 although the user is
// deleted.
//
// The decision is judged twice: once before anything happens, so that a
// refused deletion leaves the user's sessions alone, and again inside the
// removal's transaction with the rows locked, so that a workflow created or
// a target disabled in between cannot slip past it.
func (s *Service) Delete(ctx context.Context, p principal.Principal, client principal.Client, id string, in DeleteInput) error {
	if id == p.UserID {
		return errSelf
	}
	if err := in.validate(id); err != nil {
		return err
	}
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	var target *user.User
	if in.TransferTo != "" {
		t, err := s.Users.Get(ctx, in.TransferTo)
		if err != nil && !errors.Is(err, domain.ErrNotFound) {
			return err
		}
		target = t
	}
	owned, err := s.Remover.OwnedWorkflows(ctx, id)
	if err != nil {
		return err
	}
	if err := in.judge(owned, target); err != nil {
		return err
	}
	// The event is written with the removal; the removal's check completes
	// it with what really happens, under lock.
	events := []audit.Event{s.event(audit.ActionUserDelete, p, client, id)}
	check := func(owned int, target *user.User) error {
		if err := in.judge(owned, target); err != nil {
			return err
		}
		m := withEntry(events[0].Metadata, "workflows", strconv.Itoa(owned))
		switch {
		case in.TransferTo != "":
			m = withEntry(m, "workflowsTransferredTo", in.TransferTo)
		case owned > 0:
			m = withEntry(m, "workflowsDeleted", "true")
		}
		events[0].Metadata = m
		return nil
	}
	var wrote written
	err = s.Revoker.EndSessionsAround(ctx, id, "", func(ctx context.Context) error {
		_, err := s.Remover.Remove(ctx, port.UserRemoval{
			UserID: id, TransferTo: in.TransferTo, DeleteWorkflows: in.DeleteWorkflows,
			At: s.Clock.Now(), Check: check, Events: events,
		})
		wrote.note(err)
		if errors.Is(err, domain.ErrNotFound) {
			return errUserNotFound
		}
		return err
	})
	if err == nil {
		err = s.Revoker.CutOff(ctx, id)
	}
	// The user's keys went with the row (ON DELETE CASCADE; a transfer
	// moves workflows, never keys): their cached grants must go too.
	if wrote.maybe {
		if ierr := s.invalidateOwner(ctx, id); err == nil {
			err = ierr
		}
	}
	return err
}

// validate checks the request itself, before anything is read.
func (in DeleteInput) validate(id string) error {
	switch {
	case in.TransferTo != "" && in.DeleteWorkflows:
		return domain.Invalid(
			domain.FieldError{Field: "transferTo", Message: "cannot be combined with deleteWorkflows"},
			domain.FieldError{Field: "deleteWorkflows", Message: "cannot be combined with transferTo"},
		)
	case in.TransferTo == id:
		return domain.InvalidField("transferTo", "must name another user than the one being deleted")
	}
	return nil
}

// judge decides whether the deletion may go ahead, given how many
// workflows the user owns and the transfer target (nil if there is none).
func (in DeleteInput) judge(owned int, target *user.User) error {
	if in.TransferTo != "" {
		switch {
		case target == nil:
			return domain.InvalidField("transferTo", "must name an existing user")
		case target.Disabled:
			return domain.InvalidField("transferTo", "must name an enabled user")
		case !target.Role.Has(user.PermWorkflowsWrite):
			return domain.InvalidField("transferTo", "must name an editor or admin (a viewer cannot own workflows)")
		}
		return nil
	}
	if owned > 0 && !in.DeleteWorkflows {
		noun := "workflows"
		if owned == 1 {
			noun = "workflow"
		}
		return domain.ErrConflict.WithMessage(fmt.Sprintf(
			"User owns %d %s: delete with ?transferTo={userId} to move them (with their webhooks and deliveries) to an enabled editor or admin, or with ?deleteWorkflows=true to delete them",
			owned, noun)).Wrap(port.ErrOwnsWorkflows)
	}
	return nil
}
