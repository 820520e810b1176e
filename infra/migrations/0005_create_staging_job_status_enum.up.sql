BEGIN;

-- The job life cycle: queued -> processing -> completed | failed; cancelled from
-- queued or processing. New states can be added later with ALTER TYPE ... ADD VALUE.
CREATE TYPE staging_job_status AS ENUM (
    'queued',
    'processing',
    'completed',
    'failed',
    'cancelled'
);

COMMIT;
