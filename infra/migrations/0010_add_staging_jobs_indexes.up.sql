BEGIN;

-- Plain CREATE INDEX (not CONCURRENTLY) is fine here: it ships with the table,
-- before staging_jobs holds rows worth waiting for.

-- A project's jobs, newest first; also serves the project foreign key's cascade.
CREATE INDEX staging_jobs_project_id_created_at_idx
    ON staging_jobs (project_id, created_at DESC);

-- Serves the uploaded_images foreign key's cascade.
CREATE INDEX staging_jobs_uploaded_image_id_idx ON staging_jobs (uploaded_image_id);

-- The workers' poll, oldest queued job first. Partial, so it stays as small as the queue.
CREATE INDEX staging_jobs_queued_created_at_idx
    ON staging_jobs (created_at)
    WHERE status = 'queued';

COMMIT;
