BEGIN;

DROP TYPE staging_job_status;

COMMIT;
