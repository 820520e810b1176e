BEGIN;

DROP TRIGGER projects_set_updated_at ON projects;
DROP INDEX projects_user_id_created_at_idx;
DROP TABLE projects;

COMMIT;
