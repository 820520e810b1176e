BEGIN;

DROP INDEX staging_jobs_queued_created_at_idx;
DROP INDEX staging_jobs_uploaded_image_id_idx;
DROP INDEX staging_jobs_project_id_created_at_idx;

COMMIT;
