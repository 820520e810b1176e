BEGIN;

DROP TABLE staging_jobs;

COMMIT;
