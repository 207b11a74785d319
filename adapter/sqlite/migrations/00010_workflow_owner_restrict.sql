-- Deleting a user never silently deletes their workflows (issue 18,
-- contract §7). SQLite cannot alter the ON DELETE CASCADE of the workflows
-- foreign key in place, and rebuilding the table would cascade to the
-- deliveries; a trigger refuses the delete instead, before any cascade
-- runs (a constraint error: domain.ErrConflict). The service first transfers
-- or deletes the workflows in the same transaction (UserRemover).
-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER users_delete_keeps_workflows BEFORE DELETE ON users
WHEN EXISTS (SELECT 1 FROM workflows WHERE owner_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'user owns workflows');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER users_delete_keeps_workflows;
