-- Deleting a user never silently deletes their workflows (issue 18,
-- contract §7): the foreign key from workflows to users no longer
-- cascades but restricts, so the database itself refuses to delete a user
-- who still owns workflows. The service first transfers them
-- (?transferTo=) or deletes them explicitly (?deleteWorkflows=true), in
-- the same transaction as the user (UserRemover). Deliveries still
-- cascade from their workflow: they go only when the workflow goes.
-- +goose Up
ALTER TABLE workflows
    DROP CONSTRAINT workflows_owner_id_fkey,
    ADD CONSTRAINT workflows_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE RESTRICT;

-- +goose Down
ALTER TABLE workflows
    DROP CONSTRAINT workflows_owner_id_fkey,
    ADD CONSTRAINT workflows_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE;
