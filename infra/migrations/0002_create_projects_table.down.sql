BEGIN;

DROP INDEX projects_user_id_created_at_idx;
DROP TABLE projects;

COMMIT;
